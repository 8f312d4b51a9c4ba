"""Where a decode step's time goes under a JSON schema, for constrained, + jump-forward and + drafting:
the target's forward, timed apart, and the host's share by part (cProfile over a second pass, so the parts
are inflated by the profiler; the untimed pass gives the true forward and host ms per step).

On a small model on a GPU the host's share decides whether jump-forward and drafting can pay; see
scripts/bench_structured.py for the speeds themselves.

    python scripts/profile_structured.py --target MODEL.gguf --prompts 20 --gpu-layers -1
"""
from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from edge_runtime.chat import encode_prompt  # noqa: E402
from edge_runtime.constrain import grammars  # noqa: E402
from edge_runtime.constrain.matcher import Constraint  # noqa: E402
from edge_runtime.models.backends.gguf import GGUFModel  # noqa: E402
from edge_runtime.models.catalog import resolve  # noqa: E402
from edge_runtime.speculative.decoder import Decoder  # noqa: E402
from edge_runtime.speculative.drafters import PromptLookupDrafter  # noqa: E402
from edge_runtime.speculative.history import TokenHistory  # noqa: E402

MODES = ["constrained", "constrained+jf", "constrained+jf+draft"]
# the host's parts: what the decoder's step calls, by name (cumulative time of those calls)
PARTS = {"apply_along": "mask", "forced": "forced tokens", "consume": "grammar advance",
         "verify_greedy": "verify", "_propose": "draft", "observe": "draft policy"}


def count_forward(model: GGUFModel) -> list[float]:
    """Count the seconds of the model's forward passes into the returned one-item list (host time is the
    decode time minus them); an instance attribute, so the decoder calls it as before."""
    spent = [0.0]
    forward = model.forward

    def counted(ids: list[int], *, logits_for: int = 1) -> np.ndarray:
        started = time.perf_counter()
        logits = forward(ids, logits_for=logits_for)
        spent[0] += time.perf_counter() - started
        return logits

    model.forward = counted  # type: ignore[method-assign]
    return spent


def decode_all(decoder: Decoder, spent: list[float], items: list, jump_forward: bool,
               profiler: cProfile.Profile | None) -> tuple[int, int, int, float, float]:
    """(tokens, steps, forced tokens ridden, decode seconds, forward seconds in them) over the prompts; the
    first token of each (the prompt's prefill) is left out."""
    tokens = steps = ridden = 0
    decode = forward = 0.0
    for ids, grammar in items:
        generation = decoder.generate(ids, max_tokens=160, constraint=Constraint(decoder.target, grammar),
                                      jump_forward=jump_forward)
        next(generation)
        before = spent[0]
        if profiler:
            profiler.enable()
        for _ in generation:
            pass
        if profiler:
            profiler.disable()
        forward += spent[0] - before
        tokens, steps = tokens + decoder.stats.completion_tokens - 1, steps + decoder.stats.steps
        ridden, decode = ridden + decoder.stats.forced, decode + decoder.stats.decode_s
    return tokens, steps, ridden, decode, forward


def parts(profiler: cProfile.Profile, steps: int) -> dict[str, float]:
    """Ms per step of each host part: the calls the decoder's step makes, and the step's own code."""
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    step = next(key for key in stats if key[2] == "_step" and key[0].endswith("decoder.py"))
    found = {"step's own code": stats[step][2]}
    for (_, _, name), (_, _, _, _, callers) in stats.items():
        if step in callers and name != "counted":
            part = PARTS.get(name, "other calls")
            found[part] = found.get(part, 0.0) + callers[step][3]
    return {part: round(1e3 * seconds / steps, 3) for part, seconds in sorted(found.items(), key=lambda kv: -kv[1])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", default="smollm2-135m-instruct-q4_1")
    ap.add_argument("--prompts", type=int, default=20)
    ap.add_argument("--gpu-layers", type=int, default=0, help="layers on the accelerator (-1: all)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    target = GGUFModel(resolve(args.target), name="target", n_ctx=2048, n_threads=args.threads,
                       gpu_layers=args.gpu_layers)
    spent = count_forward(target)
    tasks = [json.loads(line) for line in (ROOT / "data/structured/schemas.jsonl").read_text().splitlines()]
    items = [(encode_prompt(target, t["prompt"] + "\nAnswer in JSON."), grammars.json_schema(t["schema"]))
             for t in tasks[:args.prompts]]
    for mode in MODES:
        decoder = Decoder(target, PromptLookupDrafter(history=TokenHistory()) if "draft" in mode else None)
        tokens, steps, ridden, decode, forward = decode_all(decoder, spent, items, "jf" in mode, None)
        print(f"{mode}: {tokens} tokens in {steps} steps ({ridden} forced tokens ridden), {tokens / decode:.1f} "
              f"tok/s; per step: forward {1e3 * forward / steps:.3f} ms, host {1e3 * (decode - forward) / steps:.3f} ms")
        profiler = cProfile.Profile()
        _, steps, _, _, _ = decode_all(decoder, spent, items, "jf" in mode, profiler)
        print(f"  host ms per step by part (profiled): {parts(profiler, steps)}")


if __name__ == "__main__":
    main()
