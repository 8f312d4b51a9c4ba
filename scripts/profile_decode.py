"""Where a decode step's time goes besides the target's forward: one generation through `Runtime`,
under cProfile, on a text that copies itself (so drafts run long).

The GPU bench showed end-to-end speculative decoding at ~80% of what the verify cost curve predicts
at 14 tokens a step; whatever is not `forward` is the host's per-step overhead this shows.

    .venv/bin/python scripts/profile_decode.py MODEL.gguf --gpu-layers all --draft lookup --verify fast
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats

from benchlib import copying_prompt, one_expert_runtime
from edge_runtime.sampling import SamplingParams

SEED = "def scale(values, factor):\n    return [v * factor for v in values]\n\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--gpu-layers", default="0")
    ap.add_argument("--draft", default="lookup", help="lookup, model (needs --draft-model), auto, none")
    ap.add_argument("--draft-model", default=None, help="the expert's draft model (GGUF)")
    ap.add_argument("--verify", default="fast")
    ap.add_argument("--max-tokens", type=int, default=512)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    layers = args.gpu_layers if args.gpu_layers == "all" else int(args.gpu_layers)
    runtime = one_expert_runtime(args.model, gpu_layers=layers, draft=args.draft_model, threads=args.threads)
    greedy = SamplingParams(temperature=0.0)
    prompt, _ = copying_prompt(runtime, SEED, 256)
    runtime.generate(prompt, expert="t", draft=args.draft, verify=args.verify, max_tokens=16, raw=True, params=greedy)
    profiler = cProfile.Profile()
    profiler.enable()
    result = runtime.generate(prompt, expert="t", draft=args.draft, verify=args.verify, max_tokens=args.max_tokens,
                              raw=True, params=greedy)
    profiler.disable()
    runtime.close()
    stats = pstats.Stats(profiler, stream=(buffer := io.StringIO()))
    forward = sum(v[3] for k, v in stats.stats.items() if k[2] == "forward" and "gguf" in k[0])  # type: ignore[attr-defined]
    s = result.stats
    print(f"{s.completion_tokens} tokens, {s.tokens_per_s:.1f} tok/s, {s.tokens_per_step:.2f} tokens/step, "
          f"{s.steps} steps; decode {s.decode_s:.3f} s, of it forward {forward:.3f} s; "
          f"host overhead {1e3 * (s.decode_s - forward) / max(1, s.steps):.3f} ms/step")
    stats.sort_stats("tottime").print_stats(args.top)
    print(buffer.getvalue())


if __name__ == "__main__":
    main()
