"""Accelerator measurements in one run on a GPU machine (issue 13): build llama.cpp with CUDA, write
random-weight GGUFs of the default experts' shapes, and measure through this runtime's own code.

What it does, in order (each section is timed and skipped, with a note, when `--deadline` nears):
  1. probe the machine (GPU, CUDA, Python packages);
  2. build llama.cpp's shared libraries + llama-bench with CUDA from the carried vendored source
     (skipped when `--lib-dir` already holds them) and point llama-cpp-python at them (LLAMA_CPP_LIB_PATH);
  3. write GGUFs with the `gguf` package: a tiny model (logits checks) and RANDOM-WEIGHT models with
     exactly the tensor shapes and Q4_K_M tensor types of Qwen2.5(-Coder) 0.5B, 1.5B and 7B;
  4. `llama-bench` tg for each; 5. through GGUFModel with every layer on the GPU: plain tok/s and the
     verify cost curve b = 1..32; 6. bit-exactness of verify batches b = 2..8 against one-token steps, GPU
     vs CPU logits on the tiny model; 7. VRAM plan vs what the device reports; 8. end to end through
     `Runtime` with lookup drafting (and a model draft) vs plain, realized vs predicted speedup;
  9. predicted speedup of the real code expert from the curves and acceptance measured on CPU.
Writes gpu_<device>.md / .json / .png into --out-dir ($OUT on the lent machine).

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
from pathlib import Path

import numpy as np

T0 = time.time()
ROOT = Path(__file__).resolve().parent.parent

# Shapes of the default experts, read from the real files (both GGUFs store output.weight; with the rule
# below the tensor type counts match theirs exactly: 1.5B Q4_K 169, Q6_K 29, F32 141; 0.5B Q5_0 133, Q8_0 13,
# Q4_K 12, Q6_K 12, F32 121) (`python -c "from edge_runtime.models.header import
# read_gguf; ..."` on ~/.cache/edge-runtime/models) and of Qwen2.5-7B-Instruct (its config.json).
SHAPES = {
    "qwen2.5-0.5b": dict(n_embd=896, n_layer=24, n_head=14, n_head_kv=2, n_ff=4864, n_vocab=151936, tied=False),
    "qwen2.5-1.5b": dict(n_embd=1536, n_layer=28, n_head=12, n_head_kv=2, n_ff=8960, n_vocab=151936, tied=False),
    "qwen2.5-7b": dict(n_embd=3584, n_layer=28, n_head=28, n_head_kv=4, n_ff=18944, n_vocab=152064, tied=False),
}
if os.environ.get("BENCH_GPU_SMOKE"):  # a quick dry run of the whole script on a CPU with small shapes
    SHAPES = {k: dict(v, n_embd=256, n_layer=2, n_head=4, n_head_kv=2, n_ff=512) for k, v in SHAPES.items()}
TINY = dict(n_embd=256, n_layer=4, n_head=4, n_head_kv=2, n_ff=512, n_vocab=512, tied=False)

# Acceptance measured on CPU with the real Qwen2.5-Coder 1.5B target (exact greedy mode, so the same on
# any hardware): alpha = per-token acceptance of a proposed draft token; proposing_share = steps with a proposal.
CPU_ACCEPTANCE = {
    "lookup": dict(alpha=21 / 83, proposing_share=15 / 355),
    "model 0.5B": dict(alpha=159 / 261, proposing_share=1.0),  # a model draft proposes at every step
}
CPU_ACCEPTANCE_SOURCE = ("`scripts/bench_gpu.py --cpu-acceptance` on this project's 2-core CPU (2026-11-25): the 8 "
                         "code-edit and code-complete prompts of scripts/prompts/speculative.jsonl, 48 tokens each, "
                         "greedy, every proposal verified up to the CPU's bit-exact cap of 6 tokens: lookup accepted "
                         "21 of 83 drafted tokens and found a match in 15 of 355 steps; the 0.5B draft accepted 159 of 261")

# Block layouts of the quantized types written raw (bytes per block, values per block).
QTYPES = {"Q4_K": (144, 256), "Q6_K": (210, 256), "Q5_0": (22, 32), "Q8_0": (34, 32), "F32": (4, 1), "F16": (2, 1)}
FALLBACK = {"Q4_K": "Q5_0", "Q6_K": "Q8_0"}  # llama.cpp's choice when a row is not a multiple of 256


def elapsed() -> float:
    return time.time() - T0


def log(msg: str) -> None:
    print(f"[{elapsed():6.1f}s] {msg}", flush=True)


def sh(cmd: list[str] | str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, shell=isinstance(cmd, str), capture_output=True, text=True, **kw)


# ---------------------------------------------------------------------------------------------- probe
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


# ---------------------------------------------------------------------------------------------- build
LIBS = ("libllama.so", "libggml.so", "libggml-base.so", "libggml-cpu.so", "libggml-cuda.so", "libggml-rpc.so")


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


# --------------------------------------------------------------------------------------------- models
def use_more_bits(i: int, n: int) -> bool:
    """llama.cpp's Q4_K_M rule: these layers' attn_v and ffn_down get Q6_K."""
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


def q4km_type(name: str, layer: int, n_layer: int, n_cols: int, tied: bool) -> str:
    if name == "output.weight" or (tied and name == "token_embd.weight"):
        t = "Q6_K"
    elif name.endswith("attn_v.weight") or name.endswith("ffn_down.weight"):
        t = "Q6_K" if use_more_bits(layer, n_layer) else "Q4_K"
    else:
        t = "Q4_K"
    return FALLBACK[t] if n_cols % 256 else t


def random_blocks(qtype: str, rows: int, cols: int, rng: np.random.Generator) -> np.ndarray:
    """Random quantized blocks whose scales give weights of roughly +-0.02."""
    size, per = QTYPES[qtype]
    nblocks = rows * cols // per
    raw = rng.integers(0, 256, size=(nblocks, size), dtype=np.uint8)
    scale = {"Q4_K": (0, 2e-5), "Q6_K": (208, 5e-6), "Q5_0": (0, 1.2e-3), "Q8_0": (0, 1.5e-4)}[qtype]
    at, d = scale
    raw[:, at:at + 2] = np.frombuffer(np.float16(d).tobytes(), np.uint8)
    if qtype == "Q4_K":
        raw[:, 2:4] = np.frombuffer(np.float16(d).tobytes(), np.uint8)  # dmin
    return raw.reshape(rows, cols // per * size)


ASCII_TOKENS = 94  # GPT-2 byte alphabet ids 0..93 are the printable ASCII characters '!'..'~'


def silence_rows(raw: np.ndarray, qtype: str, keep: int) -> None:
    """Zero the block scales of rows >= keep: those tokens' weights become exactly 0."""
    size, _ = QTYPES[qtype]
    blocks = raw[keep:].reshape(raw.shape[0] - keep, -1, size)
    at = 208 if qtype == "Q6_K" else 0
    blocks[:, :, at:at + 2] = 0
    if qtype == "Q4_K":
        blocks[:, :, 2:4] = 0


def synthetic_vocab(n_vocab: int) -> tuple[list[str], list[int], list[str]]:
    """A byte-level BPE vocabulary (GPT-2 byte alphabet + filler tokens, one merge): every prompt
    tokenizes to (about) its bytes. <|im_end|> is at Qwen's id (control), so 0.5B, 1.5B and 7B share it."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    eos = eos_id(n_vocab)
    tokens = [chr(c) for c in cs] + ["\u0120\u0120"] + [f"<tok{i}>" for i in range(257, n_vocab)]
    types = [1] * n_vocab
    tokens[eos], types[eos] = "<|im_end|>", 3
    return tokens, types, ["\u0120 \u0120"]  # one merge (two spaces): llama.cpp requires the list


def eos_id(n_vocab: int) -> int:
    """Qwen2.5's <|im_end|> id, or the last id of a small vocabulary."""
    return 151645 if n_vocab > 151645 else n_vocab - 1


def write_model(path: Path, shape: dict, *, seed: int = 0, quant: bool = True) -> Path:
    """A Qwen2-architecture GGUF with random weights: Q4_K_M tensor types (quant) or F32 (tiny)."""
    import gguf

    rng = np.random.default_rng(seed)
    e, L, H, Hkv, F, V = (shape[k] for k in ("n_embd", "n_layer", "n_head", "n_head_kv", "n_ff", "n_vocab"))
    hd = e // H
    w = gguf.GGUFWriter(str(path), "qwen2")
    w.add_name(path.stem + " (random weights)")
    w.add_context_length(32768)
    w.add_embedding_length(e)
    w.add_block_count(L)
    w.add_feed_forward_length(F)
    w.add_head_count(H)
    w.add_head_count_kv(Hkv)
    w.add_rope_freq_base(1e6)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_file_type(15 if quant else 0)  # MOSTLY_Q4_K_M / ALL_F32
    tokens, types, merges = synthetic_vocab(V)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_eos_token_id(eos_id(V))
    w.add_bos_token_id(eos_id(V))
    w.add_add_bos_token(False)
    cache: dict[tuple, np.ndarray] = {}

    def mat(name: str, rows: int, cols: int, layer: int = 0) -> None:
        if quant:
            t = q4km_type(name, layer, L, cols, shape["tied"])
            key = (t, rows, cols)
            if key not in cache:  # one random tensor per type and shape, shared by the layers: speed
                cache[key] = random_blocks(t, rows, cols, rng)  # does not depend on the values
                if rows == V:  # embedding / output: only printable ASCII tokens get weight, so greedy
                    silence_rows(cache[key], t, ASCII_TOKENS)  # text round-trips through the tokenizer
            w.add_tensor(name, cache[key], raw_dtype=gguf.GGMLQuantizationType[t])
        else:
            w.add_tensor(name, (rng.standard_normal((rows, cols)) * 0.05).astype(np.float32))

    def vec(name: str, n: int, value: float | None = None) -> None:
        data = np.full(n, value, np.float32) if value is not None else (rng.standard_normal(n) * 0.02).astype(np.float32)
        w.add_tensor(name, data)

    mat("token_embd.weight", V, e)
    for i in range(L):
        p = f"blk.{i}."
        vec(p + "attn_norm.weight", e, 1.0)
        mat(p + "attn_q.weight", e, e, i)
        mat(p + "attn_k.weight", Hkv * hd, e, i)
        mat(p + "attn_v.weight", Hkv * hd, e, i)
        vec(p + "attn_q.bias", e)
        vec(p + "attn_k.bias", Hkv * hd)
        vec(p + "attn_v.bias", Hkv * hd)
        mat(p + "attn_output.weight", e, e, i)
        vec(p + "ffn_norm.weight", e, 1.0)
        mat(p + "ffn_gate.weight", F, e, i)
        mat(p + "ffn_up.weight", F, e, i)
        mat(p + "ffn_down.weight", e, F, i)
    vec("output_norm.weight", e, 1.0)
    if not shape["tied"]:
        mat("output.weight", V, e)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


# -------------------------------------------------------------------------------------------- measure
def llama_bench(bench: Path, model: Path, n_gen: int = 128) -> dict:
    r = sh([str(bench), "-m", str(model), "-n", str(n_gen), "-p", "0", "-ngl", "99", "-r", "3", "-o", "json"])
    if r.returncode:
        return {"error": (r.stderr or r.stdout)[-500:]}
    row = json.loads(r.stdout)[0]
    return {"tg_tps": row["avg_ts"], "tg_stddev": row.get("stddev_ts"), "backend": row.get("backends", "")}


def plain_tps(model, ids: list[int], n: int = 128) -> float:
    """Greedy one-token steps through GGUFModel.forward (the decoder's plain step minus sampling)."""
    model.truncate(0)
    token = int(np.argmax(model.forward(ids)[0]))
    start = time.perf_counter()
    for _ in range(n):
        token = int(np.argmax(model.forward([token])[0]))
    tps = n / (time.perf_counter() - start)
    model.truncate(0)
    return tps


def cost_curve(model, ids: list[int], sizes, reps: int = 15) -> dict[int, float]:
    """Median seconds of a forward of b tokens (logits for all b, as a verify asks) at one position."""
    start_at = len(ids) - max(sizes)
    model.truncate(0)
    model.forward(ids[:start_at])
    seconds = {}
    for size in sizes:
        times = []
        for _ in range(reps + 2):
            model.truncate(start_at)
            t = time.perf_counter()
            model.forward(ids[start_at:start_at + size], logits_for=size)
            times.append(time.perf_counter() - t)
        seconds[size] = float(np.median(times[2:]))
    model.truncate(0)
    return seconds


def exactness(model, ids: list[int], sizes=range(2, 9)) -> dict[int, dict]:
    """Are the logits of a verify batch of b bit-identical to b one-token steps at the same positions?"""
    out = {}
    start_at = len(ids) - max(sizes)
    model.truncate(0)
    model.forward(ids[:start_at])
    singles = []
    for i in range(max(sizes)):
        singles.append(model.forward([ids[start_at + i]])[0].copy())
    for size in sizes:
        model.truncate(start_at)
        batch = model.forward(ids[start_at:start_at + size], logits_for=size).copy()
        diff = max(float(np.max(np.abs(batch[i] - singles[i]))) for i in range(size))
        same_arg = all(int(np.argmax(batch[i])) == int(np.argmax(singles[i])) for i in range(size))
        out[size] = {"bit_identical": bool(all(np.array_equal(batch[i], singles[i]) for i in range(size))),
                     "max_abs_diff": diff, "argmax_equal": same_arg}
    model.truncate(0)
    return out


def cpu_acceptance(kinds: tuple[str, ...] = ("code-edit", "code-complete"), max_tokens: int = 48, threads: int = 2) -> dict:
    """Per-token acceptance of lookup and of the 0.5B draft for the real code expert on this CPU, every
    proposal verified (min_draft = the cap), greedy exact mode: acceptance is a property of the models
    and the text, not of the hardware."""
    from edge_runtime.models.backends.gguf import GGUFModel
    from edge_runtime.models.catalog import resolve
    from edge_runtime.chat import encode_prompt
    from edge_runtime.config import load_config
    from edge_runtime.sampling import Sampler, SamplingParams
    from edge_runtime.speculative.decoder import Decoder
    from edge_runtime.speculative.drafters import ModelDrafter, PromptLookupDrafter

    cfg = load_config()
    exp, spec = cfg.expert("code"), cfg.speculative
    target = GGUFModel(resolve(exp.model), n_ctx=2048, n_threads=threads)
    draft = GGUFModel(resolve(exp.draft), n_ctx=2048, n_threads=threads)
    prompts = [json.loads(line) for line in (ROOT / "scripts" / "prompts" / "speculative.jsonl").read_text().splitlines()
               if line.strip()]
    prompts = [p for p in prompts if p["kind"] in kinds]
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--llama-src", default=str(ROOT / ".gpu" / "llama.cpp"))
    ap.add_argument("--build-dir", default="/tmp/llama-build")
    ap.add_argument("--lib-dir", default="", help="prebuilt libs + llama-bench (skip the build)")
    ap.add_argument("--model-dir", default="/tmp/gpu-models")
    ap.add_argument("--out-dir", default=os.environ.get("OUT", str(ROOT / "out")))
    ap.add_argument("--deadline", type=float, default=560, help="seconds after start to stop starting sections")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 8)
    ap.add_argument("--pack-libs", action="store_true", help="tar.xz the built libs into out-dir (split 15 MB)")
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--reuse-llama-bench", default="", help="JSON of an earlier run: take its llama-bench numbers")
    ap.add_argument("--report-from", default="", help="a run's gpu_bench.json: write the tables and PNG again")
    ap.add_argument("--cpu-acceptance", action="store_true", help="measure CPU_ACCEPTANCE with the real models here")
    args = ap.parse_args()
    if args.cpu_acceptance:
        print(json.dumps(cpu_acceptance(), indent=1))
        return
    if args.report_from:  # tables and plot again from a run's JSON (e.g. with new CPU_ACCEPTANCE numbers)
        res = json.loads(Path(args.report_from).read_text())
        for key in ("curves_s", "exactness"):
            res[key] = {n: {int(b): v for b, v in d.items()} for n, d in (res.get(key) or {}).items()}
        res["threads_sweep"] = {int(t): v for t, v in (res.get("threads_sweep") or {}).items()}
        Path(args.out_dir).mkdir(parents=True, exist_ok=True)
        report(res, Path(args.out_dir))
        return
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    res: dict = {"notes": [], "sections": {}}

    def save() -> None:
        (out / "gpu_bench.json").write_text(json.dumps(res, indent=1, default=str))

    def section(name: str, budget: float):
        """Decorator-ish runner: skip when the deadline is near, record failures instead of dying."""
        def run(fn):
            if elapsed() + budget > args.deadline:
                res["notes"].append(f"skipped {name}: {elapsed():.0f}s elapsed, needs ~{budget:.0f}s")
                log(f"SKIP {name}")
                return None
            log(f"START {name}")
            t = time.time()
            try:
                value = fn()
            except Exception as exc:  # noqa: BLE001 - one failed section must not lose the others
                import traceback

                res["notes"].append(f"{name} failed: {type(exc).__name__}: {exc}"[:2000])
                log(traceback.format_exc()[-3000:])
                value = None
            res["sections"][name] = round(time.time() - t, 1)
            save()
            return value
        return run

    res["probe"] = probe()
    log(json.dumps(res["probe"], indent=1))

    lib_dir = Path(args.lib_dir) if args.lib_dir else Path(args.build_dir) / "bin"
    if not (lib_dir / "libllama.so").exists():
        res["build"] = section("build", 200)(lambda: build(Path(args.llama_src), Path(args.build_dir), args.jobs))
        if args.pack_libs and (lib_dir / "libllama.so").exists():
            files = [f for f in LIBS if (lib_dir / f).exists()] + ["llama-bench"]
            r = sh(f"cd {lib_dir} && tar -hcf - {' '.join(files)} | xz -T0 -3 | split -b 15M - {out}/libs.tar.xz.part")
            log(f"packed libs: {r.returncode} {r.stderr[-300:]} " + str(sorted(p.name for p in out.iterdir())))
    os.environ["LLAMA_CPP_LIB_PATH"] = str(lib_dir)
    bench_bin = lib_dir / "llama-bench"

    from edge_runtime.models.backends import gguf as backend
    from edge_runtime.models.backends.ggml import list_devices

    devs = [d.as_dict() for d in list_devices()]
    res["devices"] = devs
    log("devices: " + json.dumps(devs))
    gpu = next((d for d in devs if d["type"] == "gpu"), None)
    device_name = gpu["description"] if gpu else "no GPU"
    res["device"] = device_name

    mdir = Path(args.model_dir)
    mdir.mkdir(parents=True, exist_ok=True)
    models: dict[str, Path] = {}

    def write_all() -> dict:
        sizes = {}
        models["tiny"] = write_model(mdir / "tiny-f32.gguf", TINY, quant=False, seed=1)
        for name, shape in SHAPES.items():
            models[name] = write_model(mdir / f"{name}-random-q4_k_m.gguf", shape, seed=2)
            sizes[name] = models[name].stat().st_size
        return sizes

    res["model_bytes"] = section("write models", 60)(write_all)

    prompt_text = ("def fibonacci(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n"
                   * 4)

    def bench_all() -> dict:
        return {name: llama_bench(bench_bin, models[name]) for name in SHAPES}

    if args.reuse_llama_bench:  # a run without llama-bench's own libraries: its numbers from an earlier run
        earlier = json.loads(Path(args.reuse_llama_bench).read_text())
        res["llama_bench"] = earlier["llama_bench"]
        card = earlier.get("probe", {}).get("nvidia_smi", "?").split(",")[0]
        same = card == res["probe"].get("nvidia_smi", "").split(",")[0]
        res["notes"].append(f"llama-bench numbers from an earlier run ({args.reuse_llama_bench}) on {card}"
                            + ("" if same else ": ANOTHER CARD, so the runtime/llama-bench ratio is not a comparison"))
    else:
        res["llama_bench"] = section("llama-bench tg128", 60)(bench_all)

    curves: dict[str, dict[int, float]] = {}
    plain: dict[str, float] = {}

    def runtime_curves() -> None:
        for name in SHAPES:
            m = backend.GGUFModel(models[name], n_ctx=4096, gpu_layers=-1, n_threads=4)
            ids = m.tokenize(prompt_text)
            m.forward(ids)  # warm-up: CUDA graphs, pools
            m.truncate(0)
            plain[name] = plain_tps(m, ids)
            curves[name] = cost_curve(m, ids, list(range(1, 33)))
            from edge_runtime.speculative.decoder import Decoder

            d = Decoder(m)
            for _ in range(2):  # the second run is timed
                for _step in d.generate(ids, max_tokens=128):
                    pass
            decoder_plain[name] = d.stats.tokens_per_s
            m.close()
            log(f"{name}: plain {plain[name]:.1f} tok/s; curve " +
                ", ".join(f"b{b} {s / curves[name][1]:.2f}" for b, s in curves[name].items() if b in (2, 4, 8, 16, 32)))

    decoder_plain: dict[str, float] = {}
    section("runtime plain + verify cost curves", 60)(runtime_curves)
    res["plain_tps"], res["curves_s"], res["decoder_plain_tps"] = plain, curves, decoder_plain

    def threads_sweep() -> dict:
        """CPU threads still matter with every layer on the GPU: the token embedding is gathered on the host."""
        outt = {}
        for t in (1, 2, 4, 8, 16):
            m = backend.GGUFModel(models["qwen2.5-1.5b"], n_ctx=2048, gpu_layers=-1, n_threads=t)
            ids = m.tokenize(prompt_text)
            plain_tps(m, ids, 32)
            outt[t] = plain_tps(m, ids, 256)
            m.close()
        log("threads sweep 1.5B: " + ", ".join(f"{t}: {v:.0f}" for t, v in outt.items()))
        return outt

    res["threads_sweep"] = section("threads sweep", 30)(threads_sweep) or {}
    e2e_threads = max(res["threads_sweep"], key=res["threads_sweep"].get) if res["threads_sweep"] else 4
    res["e2e_threads"] = e2e_threads

    def exact_all() -> dict:
        outx = {}
        for name in ("qwen2.5-1.5b", "qwen2.5-7b"):
            m = backend.GGUFModel(models[name], n_ctx=2048, gpu_layers=-1, n_threads=4)
            outx[name] = exactness(m, m.tokenize(prompt_text))
            m.close()
        return outx

    res["exactness"] = section("verify exactness b=2..8", 40)(exact_all)
    exact_b = 1
    for b in range(2, 9):
        if res["exactness"] and all(res["exactness"][n][b]["bit_identical"] for n in res["exactness"]):
            exact_b = b
        else:
            break
    res["gpu_exact_batch"] = exact_b

    def cpu_vs_gpu() -> dict:
        cpu = backend.GGUFModel(models["tiny"], n_ctx=512, gpu_layers=0, n_threads=4)
        gpu_m = backend.GGUFModel(models["tiny"], n_ctx=512, gpu_layers=-1, n_threads=4)
        ids = cpu.tokenize(prompt_text)[:200]
        a = cpu.forward(ids, logits_for=32).copy()
        b = gpu_m.forward(ids, logits_for=32).copy()
        cpu.close(), gpu_m.close()
        scale = float(np.max(np.abs(a)))
        return {"max_abs_diff": float(np.max(np.abs(a - b))), "max_abs_logit": scale,
                "rel_diff": float(np.max(np.abs(a - b)) / scale), "argmax_agree": float(np.mean(a.argmax(1) == b.argmax(1)))}

    res["cpu_vs_gpu_logits"] = section("GPU vs CPU logits (tiny F32 model)", 20)(cpu_vs_gpu)

    def vram() -> dict:
        from edge_runtime.models.backends.ggml import device_memory
        from edge_runtime.memory.budget import split_footprint

        outv = {}
        for name in ("qwen2.5-1.5b", "qwen2.5-7b"):
            for layers in (-1, SHAPES[name]["n_layer"] // 2):
                free0, _ = device_memory(gpu["name"])
                m = backend.GGUFModel(models[name], n_ctx=4096, gpu_layers=layers, n_threads=4)
                free1, _ = device_memory(gpu["name"])
                m.forward(m.tokenize(prompt_text))
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

    res["vram"] = section("VRAM plan vs device", 40)(vram)

    def e2e() -> dict:
        from edge_runtime.config import Config, ExpertConfig
        from edge_runtime.runtime import Runtime
        from edge_runtime.sampling import SamplingParams

        outx: dict = {}
        res["e2e"] = outx  # partial results survive a failure
        seed_prompt = "Count:" + "".join(f"{i}:{chr(65 + i % 26)}{chr(97 + (i * 7) % 26)};" for i in range(40))
        greedy = SamplingParams()
        for name in ("qwen2.5-1.5b", "qwen2.5-7b"):
            experts = {"t": ExpertConfig("t", str(models[name]), ["general"], gpu_layers="all",
                                         draft=str(models["qwen2.5-0.5b"]))}
            cfg = Config(experts=experts, default_expert="t", context=4096)
            rt = Runtime(cfg, memory_budget="64GB", threads=e2e_threads)
            model = rt.loader.expert("t")
            sizes: list[int] = []
            orig = model.forward

            def counted(ids, logits_for=1, _orig=orig, _s=sizes):
                _s.append(len(ids))
                return _orig(ids, logits_for=logits_for)

            model.forward = counted
            # the random model's own continuation, then the prompt again: its greedy text now copies
            first = rt.generate(seed_prompt, expert="t", draft="none", max_tokens=320, raw=True, params=greedy)
            copy_prompt = seed_prompt + first.text + seed_prompt
            rows: dict = {"sample": first.text[:120], "load_notes": first.notes}
            # the curve again where these runs decode (attention over ~1k cached tokens, not ~100)
            at = len(model.tokenize(copy_prompt)) + 256
            rows["curve_s"] = cost_curve(model, model.tokenize(copy_prompt + first.text + seed_prompt)[:at],
                                         list(range(1, 33)))
            texts = {}

            def one(label: str, mode: str, verify: str, prompt: str) -> None:
                sizes.clear()
                r = rt.generate(prompt, expert="t", draft=mode, max_tokens=512, raw=True, params=greedy,
                                verify=verify)
                cap = 1 if mode == "none" else rt._decoders["t"].longest_draft(verify) + 1
                rows[label] = {"tps": r.stats.tokens_per_s, "tokens": r.stats.completion_tokens,
                               "tokens_per_step": r.stats.tokens_per_step, "accepted": r.stats.accepted,
                               "drafted": r.stats.drafted, "decode_s": r.stats.decode_s, "cap": cap,
                               "batch_sizes": sizes[1:], "draft": r.draft, "notes": r.notes}
                texts[label] = r.text
                log(f"e2e {name} {label}: {r.stats.tokens_per_s:.1f} tok/s, {r.stats.tokens_per_step:.2f} tokens/step, "
                    f"{r.stats.accepted}/{r.stats.drafted} accepted")

            one("plain", "none", "exact", copy_prompt)
            one("plain (not copying)", "none", "exact", seed_prompt)
            for verify in ("exact", "fast"):  # the runtime's own modes: its measured exact batch, fast_max_draft
                one(f"lookup {verify}", "lookup", verify, copy_prompt)
                one(f"lookup {verify} (not copying)", "lookup", verify, seed_prompt)
                one(f"model 0.5B {verify}", "model", verify, copy_prompt)
            one("model 0.5B fast (warm)", "model", "fast", copy_prompt)  # the draft's first-use costs paid
            one("plain again", "none", "exact", copy_prompt)
            rt.close()
            rows["equal_to_plain"] = {k: texts[k] == texts["plain (not copying)" if "not copying" in k else "plain"]
                                      for k in texts if not k.startswith("plain")}
            outx[name] = rows
            save()
        return outx

    section("end to end through Runtime", 60)(e2e)
    save()
    report(res, out)
    log("done")


def speedup_for(curve_rel: dict[int, float], alpha: float, draft_cost: float, max_len: int = 7,
                share: float = 1.0) -> tuple[float, int]:
    """Best expected speedup over plain for per-token acceptance alpha when a fraction `share` of the
    steps has a proposal (the rest are plain): max over k of
    (share E[tokens](alpha, k) + 1 - share) / (share (cost(k+1) + k draft_cost) + 1 - share)."""
    best, best_k = 1.0, 0
    for k in range(1, max_len + 1):
        if k + 1 not in curve_rel:
            break
        tokens = sum(alpha**i for i in range(k + 1))
        s = (share * tokens + 1 - share) / (share * (curve_rel[k + 1] + k * draft_cost) + 1 - share)
        if s > best:
            best, best_k = s, k
    return best, best_k


def report(res: dict, out: Path) -> None:
    dev = res.get("device", "?")
    lines = [f"# GPU measurements: {dev}", "",
             "Random-weight GGUFs with exactly the tensor shapes and Q4_K_M tensor types of the default experts "
             "(Qwen2.5-Coder 1.5B target, 0.5B draft) and of Qwen2.5-7B. **The weights are random**: speeds are "
             "real, generated text is not.", ""]
    pr = res.get("probe", {})
    lines += [f"Machine: {pr.get('nvidia_smi')}; {pr.get('toolchain', '').replace(chr(10), '; ')}; "
              f"Python {pr.get('python')}; llama.cpp (llama-cpp-python 0.3.36's vendored copy) built with CUDA for "
              f"sm_90 in {(res.get('build') or {}).get('build_s', '?')} s (-j 16).", ""]
    curves = res.get("curves_s") or {}
    plain = res.get("plain_tps") or {}
    lb = res.get("llama_bench") or {}
    if curves:
        lines += ["## Plain decoding and verify cost (all layers on the GPU)", "",
                  "| model shape | llama-bench tg128 tok/s | runtime plain tok/s | ratio | b=2 | b=4 | b=8 | b=16 | b=32 |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for name, c in curves.items():
            rel = {int(b): s / c[1] for b, s in c.items()}
            tg = (lb.get(name) or {}).get("tg_tps")
            lines.append(f"| {name} | {tg:.1f} | {plain[name]:.1f} | {plain[name] / tg:.2f} | " if tg else
                         f"| {name} | - | {plain[name]:.1f} | - | ")
            lines[-1] += " | ".join(f"{rel[b]:.2f}" for b in (2, 4, 8, 16, 32)) + " |"
        lines += ["", "b = cost of a forward of b tokens (logits for all b) relative to a one-token forward, "
                  "median of 15 at the same position.", ""]
    ex = res.get("exactness")
    if ex:
        lines += ["## Are verify batches bit-identical to one-token steps on the GPU?", "",
                  "| model | " + " | ".join(f"b={b}" for b in range(2, 9)) + " |", "|---|" + "---|" * 7]
        for name, rows in ex.items():
            lines.append(f"| {name} | " + " | ".join(
                ("yes" if rows[b]["bit_identical"] else f"no ({rows[b]['max_abs_diff']:.1e}"
                 f"{'' if rows[b]['argmax_equal'] else ', argmax differs'})") for b in range(2, 9)) + " |")
        lines += ["", f"Largest bit-exact verify batch: {res.get('gpu_exact_batch')}.", ""]
    cg = res.get("cpu_vs_gpu_logits")
    if cg:
        lines += [f"GPU vs CPU logits (tiny F32 model, 32 positions): max |diff| {cg['max_abs_diff']:.2e} "
                  f"({cg['rel_diff']:.1e} of the largest logit), argmax agreement {cg['argmax_agree']:.0%}.", ""]
    vr = res.get("vram")
    if vr:
        lines += ["## VRAM: plan vs device", "", "| model | planned device MB (weights + KV + compute) | "
                  "device used after load MB | after a decode MB | plan error |", "|---|---|---|---|---|"]
        for k, v in vr.items():
            lines.append(f"| {k} | {v['planned_device'] / 1e6:.0f} ({v['planned_weights'] / 1e6:.0f} + "
                         f"{v['planned_kv'] / 1e6:.0f} + {v['planned_compute'] / 1e6:.0f}) | "
                         f"{v['used_after_load'] / 1e6:.0f} | {v['used_after_decode'] / 1e6:.0f} | "
                         f"{v['error_vs_decode']:+.1%} |")
        lines.append("")
    e2e = res.get("e2e")
    if e2e:
        lines += ["## End to end through `Runtime` (greedy, all layers on the GPU, random weights)", "",
                  "The copying prompt is the seed prompt + the random model's own greedy continuation + the seed "
                  "prompt again, so its greedy text repeats what it wrote; the other runs use the seed prompt alone. "
                  "Verify modes as the runtime runs them (`verify=`): `exact` = batches up to the target's bit-exact "
                  "batch (GPU: 1, so no drafting); `fast` = drafts up to `fast_max_draft` (16; output may differ "
                  "from plain at near-ties).", "",
                  "| target | run | tok/s | vs plain | tokens/step | accepted/drafted | predicted by the curve | "
                  "realized / predicted | = plain output |", "|---|---|---|---|---|---|---|---|---|"]
        for name, rows in e2e.items():
            def relative(curve: dict | None) -> dict[int, float]:
                c = {int(b): s for b, s in (curve or {}).items()}
                return {b: s / c[1] for b, s in c.items()} if c else {}

            rel_copy, rel_free = relative(rows.get("curve_s") or curves.get(name)), relative(curves.get(name))
            runs = [k for k, v in rows.items() if isinstance(v, dict) and "tps" in v]
            base_copy = np.mean([rows[k]["tps"] for k in ("plain", "plain again") if k in rows])
            base_free = rows.get("plain (not copying)", {}).get("tps", base_copy)
            for k in runs:
                r = rows[k]
                base = base_free if "not copying" in k else base_copy
                rel = rel_free if "not copying" in k else rel_copy
                sizes = r["batch_sizes"]
                pred = ratio = "-"
                if rel and sizes and not k.startswith("plain"):
                    p = len(sizes) * r["tokens_per_step"] / sum(rel.get(b, rel[max(rel)]) for b in sizes)
                    pred, ratio = f"{p:.2f}x", f"{(r['tps'] / base) / p:.0%}"
                eq = rows.get("equal_to_plain", {}).get(k)
                lines.append(f"| {name} | {k} | {r['tps']:.1f} | {r['tps'] / base:.2f}x | {r['tokens_per_step']:.2f} | "
                             f"{r['accepted']}/{r['drafted']} | {pred} | {ratio} | {'-' if eq is None else 'yes' if eq else 'no'} |")
        lines += ["", "Plain = mean of the plain runs before and after. Predicted = tokens per step x steps / sum over "
                  "steps of the curve's cost for that step's batch size: for the copying runs the curve measured again "
                  "where they decode (~256 tokens into the copying prompt), for the others the one above.", ""]
    tsw = res.get("threads_sweep")
    if tsw:
        lines += ["CPU threads with every layer on the GPU (1.5B shape, plain tok/s through GGUFModel): "
                  + ", ".join(f"{t} threads {v:.0f}" for t, v in tsw.items())
                  + f"; end to end used {res.get('e2e_threads')}.", ""]
    dp = res.get("decoder_plain_tps")
    if dp:
        lines += ["Plain decoding through the Decoder (sampling, stats, 128 tokens): "
                  + ", ".join(f"{n} {v:.1f} tok/s" + (f" ({v / lb[n]['tg_tps']:.0%} of llama-bench)"
                                                      if (lb.get(n) or {}).get("tg_tps") else "") for n, v in dp.items()), ""]
    if curves:
        lines += ["## Predicted speedup of the real code expert on this GPU", "",
                  "Acceptance measured on CPU with the real Qwen2.5-Coder 1.5B and 0.5B (greedy, every proposal "
                  "verified; acceptance depends on the models and the text, not the hardware), combined with the "
                  "curves above. Exact mode drafts nothing on this GPU (no bit-exact batch), so these are for fast "
                  "verification; the 7B row assumes the 1.5B's acceptance.", "",
                  "| target shape | drafter | per-token acceptance | steps with a proposal | draft step cost | "
                  "best draft length | predicted speedup (fast) | exact mode |", "|---|---|---|---|---|---|---|---|"]
        for name in ("qwen2.5-1.5b", "qwen2.5-7b"):
            if name not in curves:
                continue
            rel = {int(b): s / curves[name][1] for b, s in curves[name].items()}
            dcost = plain[name] / plain["qwen2.5-0.5b"] if "qwen2.5-0.5b" in plain else 0.5
            for label, acc in CPU_ACCEPTANCE.items():
                cost = dcost if label.startswith("model") else 0.0
                share = acc.get("proposing_share") or 1.0
                s_, k = speedup_for(rel, acc["alpha"], cost, share=share)
                lines.append(f"| {name} | {label} | {acc['alpha']:.2f} | {share:.0%} | {cost:.2f} | {k} | {s_:.2f}x | 1.00x |")
        lines += ["", f"CPU acceptance: {CPU_ACCEPTANCE_SOURCE}", ""]
    if res["notes"]:
        lines += ["Notes:", ""] + [f"- {n}" for n in res["notes"]] + [""]
    text = "\n".join(lines)
    (out / "gpu_bench.md").write_text(text)
    print(text)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4.5))
        for name, c in curves.items():
            bs = sorted(int(b) for b in c)
            ax.plot(bs, [c[b] / c[1] for b in bs], marker="o", ms=3, label=f"{name} ({c[1] * 1e3:.2f} ms at b=1)")
        ax.plot([1, 32], [1, 32], color="grey", ls=":", lw=0.8, label="b one-token steps")
        ax.set_xlabel("tokens in one forward (b)")
        ax.set_ylabel("time relative to b=1")
        ax.set_ylim(0.8, max(4, max((c[32] / c[1] for c in curves.values()), default=4) * 1.1))
        ax.set_title(f"Verify cost curve, all layers on {dev}")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "gpu_bench.png", dpi=120)
    except Exception as exc:  # noqa: BLE001
        print("no PNG:", exc)


if __name__ == "__main__":
    main()
