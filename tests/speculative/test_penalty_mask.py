"""Penalties and token masks change the target's distribution, so the verify step must warp each verified
position exactly as plain decoding does: greedy speculative output with a repetition penalty and the
Japanese mask (and DRY) equals plain greedy output with them (real model, drafts forced through verification)."""
from __future__ import annotations

import pytest

from edge_runtime.chat import encode_prompt
from edge_runtime.language.japanese import chinese_only
from edge_runtime.language.mask import japanese_mask
from edge_runtime.sampling import SamplingParams
from edge_runtime.speculative.decoder import Decoder
from edge_runtime.speculative.drafters import Draft, PromptLookupDrafter

COPYING = "次の文をそのまま三回書いてください：秋は紅葉がきれいな季節です。山の空気がおいしいです。"
CHINESE = "请用中文简单介绍一下怎么做鸡汤。"
PENALTY = SamplingParams(repeat_penalty=1.1, dry_multiplier=0.8)


class ReplayDrafter:
    """Proposes the continuation of a recorded reply, wrong from `wrong_from` on: drafts get accepted, then
    rejected, at positions where the penalty or the mask decides the token."""

    name = "replay"

    def __init__(self, prompt: list[int], reply: list[int], wrong: int) -> None:
        self.prompt, self.reply, self.wrong = prompt, reply, wrong

    def reset(self) -> None:
        pass

    def propose(self, context, max_len):
        done = len(context) - len(self.prompt)
        out = self.reply[done:done + max_len]
        return Draft([t if (done + i) % 5 else self.wrong for i, t in enumerate(out)])


def decode(model, prompt, drafter, masks, max_tokens=24):
    decoder = Decoder(model, drafter, min_draft=2)
    out = [t for step in decoder.generate(prompt, max_tokens=max_tokens, params=PENALTY, masks=masks) for t in step]
    return out, decoder.stats


@pytest.mark.parametrize("text", [COPYING, CHINESE])
def test_speculative_with_penalty_and_mask_equals_plain(qwen05, text):
    prompt = encode_prompt(qwen05, text)
    masks = [japanese_mask(qwen05)]
    plain, _ = decode(qwen05, prompt, None, masks)
    lookup, stats = decode(qwen05, prompt, PromptLookupDrafter(), masks)
    assert lookup == plain
    wrong = qwen05.tokenize("个", add_bos=False)[0]  # a banned token: verification must reject it
    replayed, stats = decode(qwen05, prompt, ReplayDrafter(prompt, plain, wrong), masks)
    assert replayed == plain
    assert stats.accepted > 0 and stats.drafted > stats.accepted


def test_mask_keeps_chinese_only_characters_out(qwen05):
    prompt = encode_prompt(qwen05, CHINESE)
    free, _ = decode(qwen05, prompt, None, [])
    masked, _ = decode(qwen05, prompt, None, [japanese_mask(qwen05)])
    assert any(chinese_only(c) for c in qwen05.detokenize(free).decode("utf-8", "replace"))
    assert not any(chinese_only(c) for c in qwen05.detokenize(masked).decode("utf-8", "ignore"))


def test_mask_bans_the_token_that_would_finish_a_chinese_only_character(qwen05):
    mask = japanese_mask(qwen05)
    assert japanese_mask(qwen05) is mask  # built once per vocabulary
    first, second = qwen05.tokenize("丂", add_bos=False)  # spelled in two byte-level tokens
    assert second not in set(mask.always.tolist()) and second in set(mask.banned([first]).tolist())
    for ok in ("鶏", "節", "紅葉"):
        ids = qwen05.tokenize(ok, add_bos=False)
        assert all(token not in set(mask.banned(ids[:k]).tolist()) for k, token in enumerate(ids)), ok
