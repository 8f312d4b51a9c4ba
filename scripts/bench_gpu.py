"""Accelerator measurements in one run on a GPU machine (issue 13): build llama.cpp with CUDA, write
random-weight GGUFs of the default experts' shapes, and measure through this runtime's own code.

What it does, in order (each section is timed and skipped, with a note, when `--deadline` nears):
  1. probe the machine (GPU, CUDA, Python packages);
  2. build llama.cpp's shared libraries + llama-bench with CUDA from the carried vendored source
     (skipped when `--lib-dir` already holds them) and point llama-cpp-python at them (LLAMA_CPP_LIB_PATH);
  3. write GGUFs (random_gguf.py): a tiny model (logits checks) and RANDOM-WEIGHT models with
     exactly the tensor shapes and Q4_K_M tensor types of Qwen2.5(-Coder) 0.5B, 1.5B and 7B;
  4. `llama-bench` tg for each; 5. through GGUFModel with every layer on the GPU: plain tok/s
     (costs.step_seconds) and the verify cost curve b = 1..32 (costs.verify_cost_seconds);
  6. bit-exactness of verify batches b = 2..8 against one-token steps (exactness.batches_and_steps), GPU
     vs CPU logits on the tiny model; 7. VRAM plan vs what the device reports; 8. end to end through
     `Runtime` with lookup drafting (and a model draft) vs plain, realized vs predicted speedup;
  9. predicted speedup of the real code expert from the curves and acceptance measured on CPU.
Writes gpu_bench.md / .json / .png into --out-dir ($OUT on the lent machine); gpu_report.py writes the tables.

On the lent GPU machine (one call, ~8.5 min: ~400 s of it the CUDA build), after
`scripts/prepare_gpu_carry.sh` in the checkout the device tool sends, with carry [".gpu"]:

    cd .gpu && export PYTHONPATH=$PWD/src:$PWD/py:$PWD/llama.cpp/gguf-py PYTHONUNBUFFERED=1 && \
      python3 src/scripts/bench_gpu.py --llama-src llama.cpp --build-dir /tmp/llama-build --out-dir $OUT \
      --deadline 580 --pack-libs --jobs 16 2>&1 | tee $OUT/log.txt

`--pack-libs` returns the built libraries (libs.tar.xz.part*, ~42 MB); a later call can carry them in
.gpu/libs and skip the build: unpack to /tmp/libs, `ln -s X.so X.so.0` for each, LD_LIBRARY_PATH=/tmp/libs,
`--lib-dir /tmp/libs --reuse-llama-bench PREVIOUS.json` (llama-bench needs libraries not packed).
`--report-from RUN.json` writes the tables and PNG again here; `--cpu-acceptance` measures CPU_ACCEPTANCE
with the real models on this CPU.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import numpy as np

from benchlib import ROOT, copying_prompt, one_expert_runtime, read_records
from gpu_report import load_results, report
from random_gguf import SHAPES, TINY, write_model
from edge_runtime.models.backends.exactness import batches_and_steps
from edge_runtime.speculative.costs import step_seconds, verify_cost_seconds

T0 = time.time()
PROMPT_TEXT = "def fibonacci(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n" * 4
SEED_PROMPT = "Count:" + "".join(f"{i}:{chr(65 + i % 26)}{chr(97 + (i * 7) % 26)};" for i in range(40))
CURVE_SIZES = range(1, 33)
LIBS = ("libllama.so", "libggml.so", "libggml-base.so", "libggml-cpu.so", "libggml-cuda.so", "libggml-rpc.so")


def elapsed() -> float:
    return time.time() - T0


def log(msg: str) -> None:
    print(f"[{elapsed():6.1f}s] {msg}", flush=True)


def sh(cmd: list[str] | str, **kw: Any) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, shell=isinstance(cmd, str), capture_output=True, text=True, **kw)


class Run:
    """One run's results, saved after every section so that a timeout or a crash loses nothing measured."""

    def __init__(self, out: Path, deadline: float) -> None:
        self.out, self.deadline = out, deadline
        self.res: dict = {"notes": [], "sections": {}}

    def save(self) -> None:
        (self.out / "gpu_bench.json").write_text(json.dumps(self.res, indent=1, default=str))

    def note(self, text: str) -> None:
        self.res["notes"].append(text)

    def section(self, name: str, budget: float, fn: Callable[[], Any]) -> Any:
        """fn(), skipped (with a note) when the deadline is near; a failure is noted, not raised, since one
        failed section must not lose the others."""
        if elapsed() + budget > self.deadline:
            self.note(f"skipped {name}: {elapsed():.0f}s elapsed, needs ~{budget:.0f}s")
            log(f"SKIP {name}")
            return None
        log(f"START {name}")
        t = time.time()
        try:
            value = fn()
        except Exception as exc:  # noqa: BLE001
            self.note(f"{name} failed: {type(exc).__name__}: {exc}"[:2000])
            log(traceback.format_exc()[-3000:])
            value = None
        self.res["sections"][name] = round(time.time() - t, 1)
        self.save()
        return value


# ---------------------------------------------------------------------------------------- the machine
def probe() -> dict:
    info: dict = {"python": sys.version.split()[0], "machine": platform.machine(), "cpus": os.cpu_count()}
    r = sh("nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader")
    info["nvidia_smi"] = r.stdout.strip() or r.stderr.strip()[:200]
    r = sh("nvcc --version | tail -2; cmake --version | head -1")
    info["toolchain"] = r.stdout.strip()
    pk = {}
    for name in ("numpy", "gguf", "psutil", "jinja2", "matplotlib", "onnxruntime", "huggingface_hub",
                 "tokenizers", "tqdm", "yaml"):
        try:
            mod = __import__(name)
            pk[name] = getattr(mod, "__version__", "?") + " @ " + str(Path(mod.__file__).parent)
        except Exception as exc:  # noqa: BLE001 - report any import failure
            pk[name] = f"MISSING ({type(exc).__name__})"
    info["packages"] = pk
    return info


def build(src: Path, build_dir: Path, jobs: int) -> dict:
    nvcc = shutil.which("nvcc") or "/usr/local/cuda/bin/nvcc"
    cfg = ["cmake", "-S", str(src), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release", "-DBUILD_SHARED_LIBS=ON",
           "-DGGML_CUDA=ON", "-DCMAKE_CUDA_ARCHITECTURES=90", f"-DCMAKE_CUDA_COMPILER={nvcc}", "-DGGML_RPC=ON",
           "-DGGML_NATIVE=ON", "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF", "-DLLAMA_BUILD_SERVER=OFF",
           "-DLLAMA_BUILD_APP=OFF", "-DLLAMA_OPENSSL=OFF", "-DLLAMA_CURL=OFF"]
    started = time.time()
    r = sh(cfg)
    if r.returncode:
        raise RuntimeError("cmake configure failed:\n" + r.stdout[-3000:] + r.stderr[-3000:])
    r = sh(["cmake", "--build", str(build_dir), "-j", str(jobs), "--target", "llama", "ggml", "llama-bench"])
    if r.returncode:
        raise RuntimeError("cmake build failed:\n" + r.stdout[-4000:] + r.stderr[-4000:])
    return {"build_s": round(time.time() - started, 1), "cmake": " ".join(cfg[1:])}


def prepare(run: Run, args: argparse.Namespace) -> Path:
    """Probe the machine, build llama.cpp with CUDA unless --lib-dir has it, and point the runtime at it."""
    run.res["probe"] = probe()
    log(json.dumps(run.res["probe"], indent=1))
    lib_dir = Path(args.lib_dir) if args.lib_dir else Path(args.build_dir) / "bin"
    if not (lib_dir / "libllama.so").exists():
        run.res["build"] = run.section("build", 200, lambda: build(Path(args.llama_src), Path(args.build_dir), args.jobs))
        if args.pack_libs and (lib_dir / "libllama.so").exists():
            files = [f for f in LIBS if (lib_dir / f).exists()] + ["llama-bench"]
            r = sh(f"cd {lib_dir} && tar -hcf - {' '.join(files)} | xz -T0 -3 | split -b 15M - {run.out}/libs.tar.xz.part")
            log(f"packed libs: {r.returncode} {r.stderr[-300:]} " + str(sorted(p.name for p in run.out.iterdir())))
    os.environ["LLAMA_CPP_LIB_PATH"] = str(lib_dir)
    return lib_dir


def find_gpu(run: Run) -> dict | None:
    """The devices llama.cpp sees (after LLAMA_CPP_LIB_PATH is set) and the first GPU among them."""
    from edge_runtime.models.backends.ggml import list_devices

    devs = [d.as_dict() for d in list_devices()]
    run.res["devices"] = devs
    log("devices: " + json.dumps(devs))
    gpu = next((d for d in devs if d["type"] == "gpu"), None)
    run.res["device"] = gpu["description"] if gpu else "no GPU"
    return gpu


# ------------------------------------------------------------------------------------------- sections
def write_all(mdir: Path, models: dict[str, Path]) -> dict[str, int]:
    """The tiny F32 model and the random-weight Q4_K_M models of every shape; their sizes in bytes."""
    mdir.mkdir(parents=True, exist_ok=True)
    models["tiny"] = write_model(mdir / "tiny-f32.gguf", TINY, quant=False, seed=1)
    for name, shape in SHAPES.items():
        models[name] = write_model(mdir / f"{name}-random-q4_k_m.gguf", shape, seed=2)
    return {name: models[name].stat().st_size for name in SHAPES}


def llama_bench(bench: Path, model: Path, n_gen: int = 128) -> dict:
    r = sh([str(bench), "-m", str(model), "-n", str(n_gen), "-p", "0", "-ngl", "99", "-r", "3", "-o", "json"])
    if r.returncode:
        return {"error": (r.stderr or r.stdout)[-500:]}
    row = json.loads(r.stdout)[0]
    return {"tg_tps": row["avg_ts"], "tg_stddev": row.get("stddev_ts"), "backend": row.get("backends", "")}


def llama_bench_numbers(run: Run, args: argparse.Namespace, bench: Path, models: dict[str, Path]) -> dict | None:
    """llama-bench tg128 per shape, or (--reuse-llama-bench) an earlier run's numbers, noting its card."""
    if not args.reuse_llama_bench:
        return run.section("llama-bench tg128", 60, lambda: {name: llama_bench(bench, models[name]) for name in SHAPES})
    earlier = json.loads(Path(args.reuse_llama_bench).read_text())
    card = earlier.get("probe", {}).get("nvidia_smi", "?").split(",")[0]
    same = card == run.res["probe"].get("nvidia_smi", "").split(",")[0]
    run.note(f"llama-bench numbers from an earlier run ({args.reuse_llama_bench}) on {card}"
             + ("" if same else ": ANOTHER CARD, so the runtime/llama-bench ratio is not a comparison"))
    return earlier["llama_bench"]


def runtime_curves(models: dict[str, Path], res: dict) -> None:
    """Per shape, every layer on the GPU: plain tok/s through GGUFModel and through the Decoder, and the
    verify cost curve in seconds (the runtime's own measurement, 15 repetitions)."""
    from edge_runtime.models.backends.gguf import GGUFModel
    from edge_runtime.speculative.decoder import Decoder

    for name in SHAPES:
        m = GGUFModel(models[name], n_ctx=4096, gpu_layers=-1, n_threads=4)
        ids = m.tokenize(PROMPT_TEXT)
        m.forward(ids)  # warm-up: CUDA graphs, pools
        m.truncate(0)
        res["plain_tps"][name] = 1.0 / step_seconds(m, ids, 128)
        curve = res["curves_s"][name] = verify_cost_seconds(m, ids, CURVE_SIZES, reps=15)
        d = Decoder(m)
        for _ in range(2):  # the second run is timed
            for _step in d.generate(ids, max_tokens=128):
                pass
        res["decoder_plain_tps"][name] = d.stats.tokens_per_s
        m.close()
        log(f"{name}: plain {res['plain_tps'][name]:.1f} tok/s; curve " +
            ", ".join(f"b{b} {s / curve[1]:.2f}" for b, s in curve.items() if b in (2, 4, 8, 16, 32)))


def threads_sweep(models: dict[str, Path]) -> dict[int, float]:
    """CPU threads still matter with every layer on the GPU: the token embedding is gathered on the host."""
    from edge_runtime.models.backends.gguf import GGUFModel

    outt = {}
    for t in (1, 2, 4, 8, 16):
        m = GGUFModel(models["qwen2.5-1.5b"], n_ctx=2048, gpu_layers=-1, n_threads=t)
        ids = m.tokenize(PROMPT_TEXT)
        step_seconds(m, ids, 32)  # warm-up
        outt[t] = 1.0 / step_seconds(m, ids, 256)
        m.close()
    log("threads sweep 1.5B: " + ", ".join(f"{t}: {v:.0f}" for t, v in outt.items()))
    return outt


def exactness(model: Any, ids: list[int], max_batch: int = 8) -> dict[int, dict]:
    """Per verify batch b = 2..max_batch at the end of `ids`: bit-identical to b one-token steps? If not,
    how far off, and does any argmax change."""
    out = {}
    for size, batch, steps in batches_and_steps(model, ids, len(ids) - max_batch, max_batch):
        out[size] = {"bit_identical": bool(np.array_equal(batch, steps)),
                     "max_abs_diff": float(np.max(np.abs(batch - steps))),
                     "argmax_equal": bool(np.array_equal(batch.argmax(1), steps.argmax(1)))}
    model.truncate(0)
    return out


def exact_all(models: dict[str, Path]) -> dict[str, dict[int, dict]]:
    from edge_runtime.models.backends.gguf import GGUFModel

    outx = {}
    for name in ("qwen2.5-1.5b", "qwen2.5-7b"):
        m = GGUFModel(models[name], n_ctx=2048, gpu_layers=-1, n_threads=4)
        outx[name] = exactness(m, m.tokenize(PROMPT_TEXT))
        m.close()
    return outx


def largest_exact_batch(exact: dict[str, dict[int, dict]] | None) -> int:
    """The largest b such that every batch up to b was bit-identical on every shape (1: none was)."""
    best = 1
    for b in range(2, 9):
        if not exact or not all(exact[n][b]["bit_identical"] for n in exact):
            break
        best = b
    return best


def cpu_vs_gpu(models: dict[str, Path]) -> dict:
    """How far the GPU's logits are from the CPU's on the tiny F32 model (32 positions)."""
    from edge_runtime.models.backends.gguf import GGUFModel

    cpu = GGUFModel(models["tiny"], n_ctx=512, gpu_layers=0, n_threads=4)
    gpu_m = GGUFModel(models["tiny"], n_ctx=512, gpu_layers=-1, n_threads=4)
    ids = cpu.tokenize(PROMPT_TEXT)[:200]
    a = cpu.forward(ids, logits_for=32).copy()
    b = gpu_m.forward(ids, logits_for=32).copy()
    cpu.close(), gpu_m.close()
    scale = float(np.max(np.abs(a)))
    return {"max_abs_diff": float(np.max(np.abs(a - b))), "max_abs_logit": scale,
            "rel_diff": float(np.max(np.abs(a - b)) / scale), "argmax_agree": float(np.mean(a.argmax(1) == b.argmax(1)))}


def vram(models: dict[str, Path], gpu: dict | None) -> dict:
    """The memory planner's device bytes against what the device reports used, all and half the layers."""
    from edge_runtime.memory.budget import split_footprint
    from edge_runtime.models.backends.ggml import device_memory
    from edge_runtime.models.backends.gguf import GGUFModel

    outv = {}
    for name in ("qwen2.5-1.5b", "qwen2.5-7b"):
        for layers in (-1, SHAPES[name]["n_layer"] // 2):
            free0, _ = device_memory(gpu["name"])
            m = GGUFModel(models[name], n_ctx=4096, gpu_layers=layers, n_threads=4)
            free1, _ = device_memory(gpu["name"])
            m.forward(m.tokenize(PROMPT_TEXT))
            free2, _ = device_memory(gpu["name"])
            m.close()
            plan = split_footprint(models[name], 4096, layers)
            outv[f"{name} gpu_layers={layers}"] = {
                "planned_device": plan.device.total, "planned_weights": plan.device.weights,
                "planned_kv": plan.device.kv_cache, "planned_compute": plan.device.compute,
                "planned_host": plan.host.total, "used_after_load": free0 - free1,
                "used_after_decode": free0 - free2,
                "error_vs_decode": (plan.device.total - (free0 - free2)) / max(1, free0 - free2)}
    return outv


# ----------------------------------------------------------------------------------------- end to end
def count_batches(model: Any) -> list[int]:
    """Record the size of every forward the model runs from now on (a generation's verify batches)."""
    sizes: list[int] = []
    orig = model.forward

    def counted(ids: list[int], logits_for: int = 1) -> np.ndarray:
        sizes.append(len(ids))
        return orig(ids, logits_for=logits_for)

    model.forward = counted
    return sizes


def e2e_plan(copy_prompt: str) -> list[tuple[str, str, str, str]]:
    """(label, draft, verify, prompt) of each end-to-end run, in order: plain before and after."""
    runs = [("plain", "none", "exact", copy_prompt), ("plain (not copying)", "none", "exact", SEED_PROMPT)]
    for verify in ("exact", "fast"):  # the runtime's own modes: its measured exact batch, fast_max_draft
        runs += [(f"lookup {verify}", "lookup", verify, copy_prompt),
                 (f"lookup {verify} (not copying)", "lookup", verify, SEED_PROMPT),
                 (f"model 0.5B {verify}", "model", verify, copy_prompt)]
    return runs + [("model 0.5B fast (warm)", "model", "fast", copy_prompt),  # the draft's first-use costs paid
                   ("plain again", "none", "exact", copy_prompt)]


def e2e_run(rt: Any, name: str, run: tuple[str, str, str, str], sizes: list[int]) -> tuple[dict, str]:
    """One greedy generation through Runtime: its stats and the batch sizes it verified; and its text."""
    from edge_runtime.sampling import SamplingParams

    label, mode, verify, prompt = run
    sizes.clear()
    r = rt.generate(prompt, expert="t", draft=mode, max_tokens=512, raw=True, params=SamplingParams(), verify=verify)
    cap = 1 if mode == "none" else rt._decoders["t"].longest_draft(verify) + 1
    row = {"tps": r.stats.tokens_per_s, "tokens": r.stats.completion_tokens,
           "tokens_per_step": r.stats.tokens_per_step, "accepted": r.stats.accepted,
           "drafted": r.stats.drafted, "decode_s": r.stats.decode_s, "cap": cap,
           "batch_sizes": sizes[1:], "draft": r.draft, "notes": r.notes}
    log(f"e2e {name} {label}: {r.stats.tokens_per_s:.1f} tok/s, {r.stats.tokens_per_step:.2f} tokens/step, "
        f"{r.stats.accepted}/{r.stats.drafted} accepted")
    return row, r.text


def e2e_target(models: dict[str, Path], name: str, threads: int) -> dict:
    """Plain, lookup and model drafting through Runtime on one target shape (0.5B draft), on a prompt the
    random model copies (its own continuation repeated) and on one it does not."""
    rt = one_expert_runtime(models[name], gpu_layers="all", draft=models["qwen2.5-0.5b"], memory_budget="64GB",
                            threads=threads)
    model = rt.loader.expert("t")
    sizes = count_batches(model)
    copy_prompt, first = copying_prompt(rt, SEED_PROMPT, 320)
    rows: dict = {"sample": first.text[:120], "load_notes": first.notes}
    # the curve again where these runs decode (attention over ~1k cached tokens, not ~100)
    at = len(model.tokenize(copy_prompt)) + 256
    rows["curve_s"] = verify_cost_seconds(model, model.tokenize(copy_prompt + first.text + SEED_PROMPT)[:at],
                                          CURVE_SIZES, reps=15)
    texts = {}
    for run in e2e_plan(copy_prompt):
        rows[run[0]], texts[run[0]] = e2e_run(rt, name, run, sizes)
    rt.close()
    rows["equal_to_plain"] = {k: texts[k] == texts["plain (not copying)" if "not copying" in k else "plain"]
                              for k in texts if not k.startswith("plain")}
    return rows


def e2e(run: Run, models: dict[str, Path], threads: int) -> dict:
    outx = run.res["e2e"] = {}  # partial results survive a failure
    for name in ("qwen2.5-1.5b", "qwen2.5-7b"):
        outx[name] = e2e_target(models, name, threads)
        run.save()
    return outx


# -------------------------------------------------------------------------------------------- the run
def measure(run: Run, args: argparse.Namespace, lib_dir: Path, gpu: dict | None) -> None:
    """Every section in order, each under the deadline."""
    res, models = run.res, {}
    res["model_bytes"] = run.section("write models", 60, lambda: write_all(Path(args.model_dir), models))
    res["llama_bench"] = llama_bench_numbers(run, args, lib_dir / "llama-bench", models)
    res.update(plain_tps={}, curves_s={}, decoder_plain_tps={})
    run.section("runtime plain + verify cost curves", 60, lambda: runtime_curves(models, res))
    res["threads_sweep"] = run.section("threads sweep", 30, lambda: threads_sweep(models)) or {}
    sweep = res["threads_sweep"]
    res["e2e_threads"] = max(sweep, key=sweep.get) if sweep else 4
    res["exactness"] = run.section("verify exactness b=2..8", 40, lambda: exact_all(models))
    res["gpu_exact_batch"] = largest_exact_batch(res["exactness"])
    res["cpu_vs_gpu_logits"] = run.section("GPU vs CPU logits (tiny F32 model)", 20, lambda: cpu_vs_gpu(models))
    res["vram"] = run.section("VRAM plan vs device", 40, lambda: vram(models, gpu))
    run.section("end to end through Runtime", 60, lambda: e2e(run, models, res["e2e_threads"]))


def cpu_acceptance(kinds: tuple[str, ...] = ("code-edit", "code-complete"), max_tokens: int = 48, threads: int = 2) -> dict:
    """Per-token acceptance of lookup and of the 0.5B draft for the real code expert on this CPU, every
    proposal verified (min_draft = the cap), greedy exact mode: acceptance is a property of the models
    and the text, not of the hardware."""
    from edge_runtime.chat import encode_prompt
    from edge_runtime.config import load_config
    from edge_runtime.models.backends.gguf import GGUFModel
    from edge_runtime.models.catalog import resolve
    from edge_runtime.sampling import Sampler, SamplingParams
    from edge_runtime.speculative.decoder import Decoder
    from edge_runtime.speculative.drafters import ModelDrafter, PromptLookupDrafter

    cfg = load_config()
    exp, spec = cfg.expert("code"), cfg.speculative
    target = GGUFModel(resolve(exp.model), n_ctx=2048, n_threads=threads)
    draft = GGUFModel(resolve(exp.draft), n_ctx=2048, n_threads=threads)
    prompts = [p for p in read_records(ROOT / "scripts" / "prompts" / "speculative.jsonl") if p["kind"] in kinds]
    longest = (target.exact_batch or 8) - 1
    out: dict = {"prompts": len(prompts), "max_tokens": max_tokens, "cap": longest}
    for label, make in (("lookup", lambda: PromptLookupDrafter(spec.ngram_max, spec.ngram_min)),
                        ("model 0.5B", lambda: ModelDrafter(draft, Sampler(SamplingParams()), spec.p_min))):
        drafted = accepted = steps = proposing = tokens = 0
        for record in prompts:
            ids = encode_prompt(target, record["prompt"])
            drafter = make()
            inner = drafter.propose

            def counting(context, max_len, _inner=inner):
                nonlocal proposing
                d = _inner(context, max_len)
                proposing += bool(d.tokens)
                return d

            drafter.propose = counting
            dec = Decoder(target, drafter, max_draft=longest, min_draft=longest)
            target.truncate(0)
            for _ in dec.generate(ids, max_tokens=max_tokens):
                pass
            s = dec.stats
            drafted, accepted, steps = drafted + s.drafted, accepted + s.accepted, steps + s.steps
            tokens += s.completion_tokens - 1
        out[label] = {"alpha": accepted / max(1, drafted), "drafted": drafted, "accepted": accepted, "steps": steps,
                      "proposing_share": proposing / max(1, steps), "tokens_per_step": tokens / max(1, steps)}
        log(f"{label}: {out[label]}")
    target.close(), draft.close()
    return out


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--llama-src", default=str(ROOT / ".gpu" / "llama.cpp"))
    ap.add_argument("--build-dir", default="/tmp/llama-build")
    ap.add_argument("--lib-dir", default="", help="prebuilt libs + llama-bench (skip the build)")
    ap.add_argument("--model-dir", default="/tmp/gpu-models")
    ap.add_argument("--out-dir", default=os.environ.get("OUT", str(ROOT / "out")))
    ap.add_argument("--deadline", type=float, default=560, help="seconds after start to stop starting sections")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 8)
    ap.add_argument("--pack-libs", action="store_true", help="tar.xz the built libs into out-dir (split 15 MB)")
    ap.add_argument("--reuse-llama-bench", default="", help="JSON of an earlier run: take its llama-bench numbers")
    ap.add_argument("--report-from", default="", help="a run's gpu_bench.json: write the tables and PNG again")
    ap.add_argument("--cpu-acceptance", action="store_true", help="measure CPU_ACCEPTANCE with the real models here")
    return ap.parse_args()


def main() -> None:
    args = parse_args()
    if args.cpu_acceptance:
        print(json.dumps(cpu_acceptance(), indent=1))
        return
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if args.report_from:  # tables and plot again from a run's JSON (e.g. with new CPU_ACCEPTANCE numbers)
        report(load_results(Path(args.report_from)), out)
        return
    run = Run(out, args.deadline)
    lib_dir = prepare(run, args)
    measure(run, args, lib_dir, find_gpu(run))
    run.save()
    report(run.res, out)
    log("done")


if __name__ == "__main__":
    main()
