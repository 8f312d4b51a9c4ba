"""Shapes read from prose prompts and checked in replies; loops, echoes and Japanese that is really Chinese."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from edge_runtime.evidence.prose import assess, echo, loop
from edge_runtime.evidence.shapes import Shape, check_shape, count_sentences, extract_shapes
from edge_runtime.language.japanese import chinese_only, japanese_problems, kana_share

SETS = Path(__file__).resolve().parents[2] / "data" / "prose"


def _key(d: dict) -> str:
    return json.dumps(d, sort_keys=True, ensure_ascii=False)


@pytest.mark.parametrize("name", ["shapes.json", "japanese.json"])
def test_extractor_reads_what_a_person_reads_in_the_sets(name):
    for prompt in json.loads((SETS / name).read_text("utf-8"))["prompts"]:
        got = sorted(_key(s.as_dict()) for s in extract_shapes(prompt["prompt"]))
        assert got == sorted(_key(c) for c in prompt["checks"]), prompt["id"]


def test_sets_are_as_the_issue_asks():
    shapes = json.loads((SETS / "shapes.json").read_text("utf-8"))["prompts"]
    japanese = json.loads((SETS / "japanese.json").read_text("utf-8"))["prompts"]
    assert len(shapes) >= 60 and sum(p["lang"] == "ja" for p in shapes) * 2 >= len(shapes)
    assert all(p["checks"] for p in shapes) and len(japanese) >= 30


@pytest.mark.parametrize("prompt, shape", [
    ("Name 4 rivers as bullet points", Shape("items", 4)),
    ("Give seven reasons, one per line.", Shape("lines", 7)),
    ("Answer in no more than 25 words.", Shape("max_words", 25)),
    ("In three sentences, say why.", Shape("sentences", 3)),
    ("答えは200字以内でお願いします", Shape("max_chars", 200)),
    ("「はい」から書き始めてください", Shape("starts_with", text="はい")),
    ("Finish with 'See you soon'.", Shape("ends_with", text="See you soon")),
    ("理由を二つ、箇条書きで", Shape("items", 2)),
])
def test_other_phrasings(prompt, shape):
    assert shape in extract_shapes(prompt)


def test_a_prompt_without_a_shape_has_none():
    assert extract_shapes("What is the capital of France?") == []
    assert extract_shapes("味噌汁をおいしく作るコツを教えてください。") == []


@pytest.mark.parametrize("shape, good, bad", [
    (Shape("items", 3), "Here you go:\n- a\n- b\n- c\nEnjoy!", "- a\n- b"),
    (Shape("items", 2), "1. 早起き\n2. 散歩", "・早起き\n・散歩\n・読書"),
    (Shape("lines", 3), "an old pond\na frog jumps in\nthe sound of water", "Here is a haiku:\na\nb\nc"),
    (Shape("sentences", 2), "It costs 3.5 dollars. Buy it!", "One. Two. Three."),
    (Shape("sentences", 2), "住宅ローンは借金です。家を買うときに使います。", "住宅ローンは借金です。"),
    (Shape("max_words", 5), "Short and sweet.", "This reply has far too many words in it"),
    (Shape("min_words", 4), "one two three four", "too short"),
    (Shape("max_chars", 10), "ありがとう！", "いつも本当にありがとうございます。"),
    (Shape("starts_with", text="Dear Ana"), "**Dear Ana,**\nThanks.", "Hi Ana, thanks."),
    (Shape("ends_with", text="Best, Tom"), "Thanks!\n\nBest,\nTom", "Thanks!\nTom"),
    (Shape("ends_with", text="敬具"), "拝啓\n...\n敬具。", "拝啓\n敬具\nよろしく"),
    (Shape("contains", text="lantern"), "A Lantern glows", "A lamp glows"),
    (Shape("lowercase"), "soft rain, warm cup.", "Soft rain."),
    (Shape("json", keys=("city", "reason")), '```json\n{"city": "Kyoto", "reason": "blossoms"}\n```',
     '{"city": "Kyoto"}'),
])
def test_each_shape_passes_and_fails(shape, good, bad):
    assert check_shape(shape, good) is None
    assert check_shape(shape, bad)


def test_items_count_the_top_level_only():
    assert check_shape(Shape("items", 2), "1. **Health**:\n   - fresh food\n   - less salt\n2. **Money**:\n   - cheaper") is None


def test_sentences_ignore_decimals_and_list_numbers():
    assert count_sentences("1. Pack water.\n2. Pack food.") == 2
    assert count_sentences("Pi is 3.14 and that is all") == 1


@pytest.mark.parametrize("reply", ["寿司、寿司、寿司、寿司、寿司、", "🎂" * 20,
                                   "I love the sound of rain. It is calm.\nI love the sound of rain.",
                                   "- A new bed with a glass of wine\n- A new bed with a glass of wine"])
def test_loops_are_found(reply):
    assert loop(reply)


def test_ordinary_prose_does_not_loop():
    assert loop("Rain taps the window. I make tea, read a chapter, and nap.\n- walk\n- read\n- cook") is None


def test_echo_of_the_prompt():
    prompt = "Write a tweet announcing a school bake sale this Friday."
    assert echo(prompt, f"{prompt}\n{prompt}\n{prompt}")
    assert echo(prompt, "Bake sale Friday! Come hungry.") is None


def test_japanese_is_told_from_chinese():
    assert not chinese_only("季") and not chinese_only("節") and chinese_only("节") and chinese_only("几")
    assert chinese_only("鸡") and not chinese_only("鶏") and not chinese_only("a")
    assert japanese_problems("秋は紅葉がきれいな季節です。") == []
    assert any("节" in p for p in japanese_problems("秋は紅葉がきれいな季节です。"))
    assert any("首先" in p for p in japanese_problems("首先、お湯を沸かします。"))
    assert kana_share("我喜欢吃寿司") == 0 and japanese_problems("我喜欢吃寿司")


def test_assess_combines_shape_loop_and_language():
    prompt = "よく眠るためのコツを3つ、箇条書きで教えてください。"
    assert assess(prompt, "・寝る前にスマホを見ない\n・毎日同じ時間に起きる\n・昼寝は短くする") == []
    failures = assess(prompt, "・睡前不要看手机\n・每天同一时间起床")
    assert any("list items" in f for f in failures) and any("Chinese" in f or "kana" in f for f in failures)
    assert assess("Say hi in English.", "こんにちは") and assess("Say hi.", "   ") == ["empty reply"]


def test_a_reply_that_is_only_the_phrases_asked_for_or_parrots_the_language_hint_fails():
    """The shape guide can make a title plus a sign-off pass the phrase checks; the reply still says nothing."""
    prompt = "季節の挨拶状を書いてください。「敬具」で終えてください。"
    assert "says little beyond the phrases asked for" in assess(prompt, "挨拶状\n\n敬具")
    assert assess(prompt, "拝啓\n秋も深まり、朝晩は冷え込むようになりました。皆様お元気でお過ごしでしょうか。\n敬具") == []
    parrot = "こんにちは。私はAIです。自然な日本語だけで答えてください。中国語は使いません。"
    assert "repeats the runtime's language instruction" in assess("自己紹介をしてください。", parrot)
