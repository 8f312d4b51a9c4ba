"""The tables and the cost-curve PNG of a bench_gpu.py run (gpu_bench.md / .png), from its results dict.

Predictions call the runtime's own arithmetic: expected tokens per verify step (policy.expected_tokens)
and a batch's cost on a curve (replay.batch_cost).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from benchlib import figure, pyplot, save_figure
from edge_runtime.speculative.policy import expected_tokens
from edge_runtime.speculative.replay import batch_cost

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
E2E_INTRO = ("The copying prompt is the seed prompt + the random model's own greedy continuation + the seed "
             "prompt again, so its greedy text repeats what it wrote; the other runs use the seed prompt alone. "
             "Verify modes as the runtime runs them (`verify=`): `exact` = batches up to the target's bit-exact "
             "batch (GPU: 1, so no drafting); `fast` = drafts up to `fast_max_draft` (16; output may differ "
             "from plain at near-ties).")
E2E_OUTRO = ("Plain = mean of the plain runs before and after. Predicted = tokens per step x steps / sum over "
             "steps of the curve's cost for that step's batch size: for the copying runs the curve measured again "
             "where they decode (~256 tokens into the copying prompt), for the others the one above.")


def relative(curve: dict | None) -> dict[int, float]:
    """A curve in seconds (JSON keys may be strings) as costs relative to a one-token forward."""
    c = {int(b): s for b, s in (curve or {}).items()}
    return {b: s / c[1] for b, s in c.items()} if c else {}


def load_results(path: Path) -> dict:
    """A run's gpu_bench.json with its integer keys restored (JSON keeps only strings)."""
    res = json.loads(path.read_text())
    for key in ("curves_s", "exactness"):
        res[key] = {n: {int(b): v for b, v in d.items()} for n, d in (res.get(key) or {}).items()}
    res["threads_sweep"] = {int(t): v for t, v in (res.get("threads_sweep") or {}).items()}
    return res


def speedup_for(curve_rel: dict[int, float], alpha: float, draft_cost: float, max_len: int = 7,
                share: float = 1.0) -> tuple[float, int]:
    """Best expected speedup over plain for per-token acceptance alpha when a fraction `share` of the
    steps has a proposal (the rest are plain): max over k of
    (share E[tokens](alpha, k) + 1 - share) / (share (cost(k+1) + k draft_cost) + 1 - share)."""
    best, best_k = 1.0, 0
    for k in range(1, max_len + 1):
        if k + 1 not in curve_rel:
            break
        s = ((share * expected_tokens(alpha, k) + 1 - share)
             / (share * (curve_rel[k + 1] + k * draft_cost) + 1 - share))
        if s > best:
            best, best_k = s, k
    return best, best_k


def header_lines(res: dict) -> list[str]:
    pr = res.get("probe", {})
    return [f"# GPU measurements: {res.get('device', '?')}", "",
            "Random-weight GGUFs with exactly the tensor shapes and Q4_K_M tensor types of the default experts "
            "(Qwen2.5-Coder 1.5B target, 0.5B draft) and of Qwen2.5-7B. **The weights are random**: speeds are "
            "real, generated text is not.", "",
            f"Machine: {pr.get('nvidia_smi')}; {pr.get('toolchain', '').replace(chr(10), '; ')}; "
            f"Python {pr.get('python')}; llama.cpp (llama-cpp-python 0.3.36's vendored copy) built with CUDA for "
            f"sm_90 in {(res.get('build') or {}).get('build_s', '?')} s (-j 16).", ""]


def curve_lines(res: dict) -> list[str]:
    curves, plain, lb = res.get("curves_s") or {}, res.get("plain_tps") or {}, res.get("llama_bench") or {}
    if not curves:
        return []
    lines = ["## Plain decoding and verify cost (all layers on the GPU)", "",
             "| model shape | llama-bench tg128 tok/s | runtime plain tok/s | ratio | b=2 | b=4 | b=8 | b=16 | b=32 |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, c in curves.items():
        rel = relative(c)
        tg = (lb.get(name) or {}).get("tg_tps")
        lines.append(f"| {name} | {tg:.1f} | {plain[name]:.1f} | {plain[name] / tg:.2f} | " if tg else
                     f"| {name} | - | {plain[name]:.1f} | - | ")
        lines[-1] += " | ".join(f"{rel[b]:.2f}" for b in (2, 4, 8, 16, 32)) + " |"
    return lines + ["", "b = cost of a forward of b tokens (logits for all b) relative to a one-token forward, "
                    "median of 15 at the same position.", ""]


def exactness_lines(res: dict) -> list[str]:
    lines = []
    if res.get("exactness"):
        lines += ["## Are verify batches bit-identical to one-token steps on the GPU?", "",
                  "| model | " + " | ".join(f"b={b}" for b in range(2, 9)) + " |", "|---|" + "---|" * 7]
        for name, rows in res["exactness"].items():
            lines.append(f"| {name} | " + " | ".join(
                ("yes" if rows[b]["bit_identical"] else f"no ({rows[b]['max_abs_diff']:.1e}"
                 f"{'' if rows[b]['argmax_equal'] else ', argmax differs'})") for b in range(2, 9)) + " |")
        lines += ["", f"Largest bit-exact verify batch: {res.get('gpu_exact_batch')}.", ""]
    cg = res.get("cpu_vs_gpu_logits")
    if cg:
        lines += [f"GPU vs CPU logits (tiny F32 model, 32 positions): max |diff| {cg['max_abs_diff']:.2e} "
                  f"({cg['rel_diff']:.1e} of the largest logit), argmax agreement {cg['argmax_agree']:.0%}.", ""]
    return lines


def vram_lines(res: dict) -> list[str]:
    vr = res.get("vram")
    if not vr:
        return []
    lines = ["## VRAM: plan vs device", "", "| model | planned device MB (weights + KV + compute) | "
             "device used after load MB | after a decode MB | plan error |", "|---|---|---|---|---|"]
    for k, v in vr.items():
        lines.append(f"| {k} | {v['planned_device'] / 1e6:.0f} ({v['planned_weights'] / 1e6:.0f} + "
                     f"{v['planned_kv'] / 1e6:.0f} + {v['planned_compute'] / 1e6:.0f}) | "
                     f"{v['used_after_load'] / 1e6:.0f} | {v['used_after_decode'] / 1e6:.0f} | "
                     f"{v['error_vs_decode']:+.1%} |")
    return lines + [""]


def e2e_rows(name: str, rows: dict, curve: dict | None) -> list[str]:
    """One target's end-to-end runs: realized speed against what the cost curve predicts for the
    batch sizes each run verified."""
    rel_copy, rel_free = relative(rows.get("curve_s") or curve), relative(curve)
    base_copy = np.mean([rows[k]["tps"] for k in ("plain", "plain again") if k in rows])
    base_free = rows.get("plain (not copying)", {}).get("tps", base_copy)
    lines = []
    for k in (k for k, v in rows.items() if isinstance(v, dict) and "tps" in v):
        r = rows[k]
        base, rel = (base_free, rel_free) if "not copying" in k else (base_copy, rel_copy)
        sizes = r["batch_sizes"]
        pred = ratio = "-"
        if rel and sizes and not k.startswith("plain"):  # a batch past the curve (a prefill) costs its last point
            p = len(sizes) * r["tokens_per_step"] / sum(batch_cost(rel, min(b, max(rel))) for b in sizes)
            pred, ratio = f"{p:.2f}x", f"{(r['tps'] / base) / p:.0%}"
        eq = rows.get("equal_to_plain", {}).get(k)
        lines.append(f"| {name} | {k} | {r['tps']:.1f} | {r['tps'] / base:.2f}x | {r['tokens_per_step']:.2f} | "
                     f"{r['accepted']}/{r['drafted']} | {pred} | {ratio} | {'-' if eq is None else 'yes' if eq else 'no'} |")
    return lines


def e2e_lines(res: dict) -> list[str]:
    e2e, curves = res.get("e2e"), res.get("curves_s") or {}
    if not e2e:
        return []
    lines = ["## End to end through `Runtime` (greedy, all layers on the GPU, random weights)", "", E2E_INTRO, "",
             "| target | run | tok/s | vs plain | tokens/step | accepted/drafted | predicted by the curve | "
             "realized / predicted | = plain output |", "|---|---|---|---|---|---|---|---|---|"]
    for name, rows in e2e.items():
        lines += e2e_rows(name, rows, curves.get(name))
    return lines + ["", E2E_OUTRO, ""]


def threads_lines(res: dict) -> list[str]:
    lines, lb = [], res.get("llama_bench") or {}
    if res.get("threads_sweep"):
        lines += ["CPU threads with every layer on the GPU (1.5B shape, plain tok/s through GGUFModel): "
                  + ", ".join(f"{t} threads {v:.0f}" for t, v in res["threads_sweep"].items())
                  + f"; end to end used {res.get('e2e_threads')}.", ""]
    if res.get("decoder_plain_tps"):
        lines += ["Plain decoding through the Decoder (sampling, stats, 128 tokens): "
                  + ", ".join(f"{n} {v:.1f} tok/s" + (f" ({v / lb[n]['tg_tps']:.0%} of llama-bench)"
                                                      if (lb.get(n) or {}).get("tg_tps") else "")
                              for n, v in res["decoder_plain_tps"].items()), ""]
    return lines


def prediction_lines(res: dict) -> list[str]:
    """The real code expert's speedup on this GPU: CPU-measured acceptance under the GPU's curves."""
    curves, plain = res.get("curves_s") or {}, res.get("plain_tps") or {}
    if not curves:
        return []
    lines = ["## Predicted speedup of the real code expert on this GPU", "",
             "Acceptance measured on CPU with the real Qwen2.5-Coder 1.5B and 0.5B (greedy, every proposal "
             "verified; acceptance depends on the models and the text, not the hardware), combined with the "
             "curves above. Exact mode drafts nothing on this GPU (no bit-exact batch), so these are for fast "
             "verification; the 7B row assumes the 1.5B's acceptance.", "",
             "| target shape | drafter | per-token acceptance | steps with a proposal | draft step cost | "
             "best draft length | predicted speedup (fast) | exact mode |", "|---|---|---|---|---|---|---|---|"]
    for name in (n for n in ("qwen2.5-1.5b", "qwen2.5-7b") if n in curves):
        rel = relative(curves[name])
        dcost = plain[name] / plain["qwen2.5-0.5b"] if "qwen2.5-0.5b" in plain else 0.5
        for label, acc in CPU_ACCEPTANCE.items():
            cost = dcost if label.startswith("model") else 0.0
            share = acc.get("proposing_share") or 1.0
            s_, k = speedup_for(rel, acc["alpha"], cost, share=share)
            lines.append(f"| {name} | {label} | {acc['alpha']:.2f} | {share:.0%} | {cost:.2f} | {k} | {s_:.2f}x | 1.00x |")
    return lines + ["", f"CPU acceptance: {CPU_ACCEPTANCE_SOURCE}", ""]


@figure
def plot_curves(curves: dict, device: str, path: Path) -> None:
    """Each shape's verify cost curve against b one-token steps."""
    fig, ax = pyplot().subplots(figsize=(7, 4.5))
    for name, c in curves.items():
        bs = sorted(int(b) for b in c)
        ax.plot(bs, [c[b] / c[1] for b in bs], marker="o", ms=3, label=f"{name} ({c[1] * 1e3:.2f} ms at b=1)")
    ax.plot([1, 32], [1, 32], color="grey", ls=":", lw=0.8, label="b one-token steps")
    ax.set_xlabel("tokens in one forward (b)")
    ax.set_ylabel("time relative to b=1")
    ax.set_ylim(0.8, max(4, max((c[32] / c[1] for c in curves.values()), default=4) * 1.1))
    ax.set_title(f"Verify cost curve, all layers on {device}")
    ax.legend(fontsize=8)
    save_figure(fig, path)


def report(res: dict, out: Path) -> None:
    """Write gpu_bench.md (and print it) and gpu_bench.png into `out`."""
    lines = (header_lines(res) + curve_lines(res) + exactness_lines(res) + vram_lines(res) + e2e_lines(res)
             + threads_lines(res) + prediction_lines(res))
    if res["notes"]:
        lines += ["Notes:", ""] + [f"- {n}" for n in res["notes"]] + [""]
    text = "\n".join(lines)
    (out / "gpu_bench.md").write_text(text)
    print(text)
    try:
        plot_curves(res.get("curves_s") or {}, res.get("device", "?"), out / "gpu_bench.png")
    except Exception as exc:  # noqa: BLE001 - a run's tables matter more than its picture
        print("no PNG:", exc)
