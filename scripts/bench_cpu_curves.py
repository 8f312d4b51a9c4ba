"""Verify cost curves of the code expert's shape (Qwen2.5 1.5B, Q4_K_M, repacked) on a many-core CPU, per
thread count, in bench_gpu.py's JSON form, so that replay_speculative.py replays this project's real replies
under them (`--curves`). The weights are random and written here (the lent GPU machine has no hub): a
forward costs the same whatever the values. No layer goes to a GPU.

    python3 scripts/bench_cpu_curves.py --lib-dir /tmp/libs --threads 2,4,8,16 --out-dir $OUT
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from random_gguf import SHAPES, write_model

SIZES = [*range(1, 18), 20, 24, 32]
SHAPE = "qwen2.5-1.5b"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lib-dir", default="", help="libllama built elsewhere (LLAMA_CPP_LIB_PATH)")
    ap.add_argument("--threads", default="2,4,8,16")
    ap.add_argument("--position", type=int, default=300, help="cached tokens before the timed batches")
    ap.add_argument("--model-dir", default="/tmp/gpu-models")
    ap.add_argument("--out-dir", default=os.environ.get("OUT", "out"))
    args = ap.parse_args()
    if args.lib_dir:
        os.environ["LLAMA_CPP_LIB_PATH"] = args.lib_dir
    from edge_runtime.models.backends.gguf import GGUFModel  # after LLAMA_CPP_LIB_PATH is set
    from edge_runtime.speculative.costs import verify_cost_seconds
    from edge_runtime.tuning.machine_cache import machine_identity

    path = Path(args.model_dir) / f"{SHAPE}-random-q4_k_m.gguf"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_model(path, SHAPES[SHAPE], seed=2)
    ids = list(range(1000, 1000 + args.position + max(SIZES)))  # any ids: the cost does not depend on them
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for threads in (int(t) for t in args.threads.split(",")):
        model = GGUFModel(path, n_ctx=2048, n_threads=threads, repack=True, use_mmap=False, gpu_layers=0)
        model.forward(ids[:64])  # warm-up
        model.truncate(0)
        seconds = verify_cost_seconds(model, ids, SIZES, reps=5)
        model.close()
        device = f"{machine_identity()['cpu']}, {threads} threads"
        (out / f"cpu_curves_{threads}.json").write_text(json.dumps({"device": device, "curves_s": {SHAPE: seconds}}))
        print(f"{device}: step {1000 * seconds[1]:.1f} ms; " +
              ", ".join(f"b{b} {s / seconds[1]:.2f}" for b, s in seconds.items() if b in (2, 4, 8, 16, 17, 32)), flush=True)


if __name__ == "__main__":
    main()
