"""Cross-request drafting on a replayed agent trace: lookup drafts with and without the history of
earlier requests, side by side on one model, in exact mode (the outputs must be identical).

The trace (scripts/prompts/agent_trace.json, our own) is an inventory agent's requests in order, each a
fresh single-turn prompt whose reply is one JSON tool call; the last four repeat earlier tasks, as an
agent loop does when it retries. Each request decodes twice, alternating (plain lookup, then lookup with
history), from an empty KV cache, beside plain decoding (no drafts); decode tok/s excludes the prompt.

    python scripts/bench_history.py --model qwen2.5-coder-0.5b-instruct-q4_k_m --out docs/history
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import ROOT, bar_chart, markdown_table  # noqa: E402

from edge_runtime.chat import encode_prompt  # noqa: E402
from edge_runtime.models.backends.gguf import GGUFModel  # noqa: E402
from edge_runtime.models.catalog import resolve  # noqa: E402
from edge_runtime.speculative.decoder import Decoder  # noqa: E402
from edge_runtime.speculative.drafters import PromptLookupDrafter  # noqa: E402
from edge_runtime.speculative.history import TokenHistory  # noqa: E402


def decode(decoder: Decoder, ids: list[int], max_tokens: int) -> tuple[list[int], float, float]:
    """(greedy reply, decode seconds, acceptance) from an empty KV cache."""
    decoder.target.truncate(0)
    out = [t for step in decoder.generate(ids, max_tokens=max_tokens, verify="exact") for t in step]
    return out, decoder.stats.decode_s, decoder.stats.acceptance_rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="qwen2.5-coder-1.5b-instruct-q4_k_m")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "history")
    args = ap.parse_args()
    trace = json.loads((ROOT / "scripts" / "prompts" / "agent_trace.json").read_text("utf-8"))
    model = GGUFModel(resolve(args.model), n_ctx=2048, n_threads=args.threads)
    runs = {"plain": Decoder(model), "lookup": Decoder(model, PromptLookupDrafter(4, 3)),
            "lookup+history": Decoder(model, PromptLookupDrafter(4, 3, TokenHistory()))}
    rows, totals = [], {name: [0, 0.0] for name in runs}
    for i, task in enumerate(tqdm(trace["tasks"], desc="trace", disable=not sys.stderr.isatty())):
        ids = encode_prompt(model, [{"role": "system", "content": trace["system"]}, {"role": "user", "content": task}])
        done = {name: decode(decoder, ids, args.max_tokens) for name, decoder in runs.items()}
        (plain, tp, _), (look, t0, a0), (hist, t1, a1) = done["plain"], done["lookup"], done["lookup+history"]
        if not plain == look == hist:
            raise SystemExit(f"request {i + 1}: outputs differ in exact mode")
        for name, (out, secs, _) in done.items():
            totals[name][0] += len(out) - 1
            totals[name][1] += secs
        n = len(plain) - 1
        rows.append([i + 1, len(plain), n / tp, n / t0, n / t1, tp / t0, tp / t1, a0, a1])
    tps = {name: n / s for name, (n, s) in totals.items()}
    rows.append(["all", sum(r[1] for r in rows), tps["plain"], tps["lookup"], tps["lookup+history"],
                 tps["lookup"] / tps["plain"], tps["lookup+history"] / tps["plain"], float("nan"), float("nan")])
    table = markdown_table(["request", "tokens", "plain tok/s", "lookup tok/s", "+history tok/s", "lookup x plain",
                            "+history x plain", "accept lookup", "accept +history"], rows).replace("| nan ", "|  ")
    bar_chart(args.out.with_suffix(".png"), [str(r[0]) for r in rows],
              {"plain": [r[2] for r in rows], "lookup": [r[3] for r in rows], "lookup+history": [r[4] for r in rows]},
              title=f"Replayed agent trace, exact mode ({Path(model.path).name})", ylabel="decode tokens/s")
    args.out.with_suffix(".md").write_text(f"{table}\n", "utf-8")
    print(table)


if __name__ == "__main__":
    main()
