"""The shape guide: what of a prompt's stated shape decoding enforces, and where a reply must end."""
from __future__ import annotations

from edge_runtime.evidence.guide import ShapeGuide
from edge_runtime.evidence.shapes import Shape, check_shape


def test_a_prompt_without_an_enforceable_shape_gets_no_guide():
    assert ShapeGuide.of("What is a mortgage?") is None
    assert ShapeGuide.of("Write a tweet under 40 words.") is None  # word limits are left to the checks


def test_phrases_and_lowercase_are_read_from_the_prompt():
    guide = ShapeGuide.of('Write a note. Start with "Dear Ana" and end with "Best, Tom". Use all lowercase.')
    assert (guide.opening, guide.closing, guide.lowercase) == ("Dear Ana", "Best, Tom", True)
    assert ShapeGuide.of("「田中様」で始めてください。").opening == "田中様"


def test_sentences_end_where_one_more_begins():
    guide = ShapeGuide.of("Explain what a mortgage is in two sentences.")
    text = "A mortgage is a loan. You repay it monthly. It has"
    cut = guide.cut(text)
    assert text[:cut] == "A mortgage is a loan. You repay it monthly."
    assert check_shape(Shape("sentences", 2), text[:cut]) is None
    assert guide.cut("A mortgage is a loan. You repay it monthly.") is None  # nothing past the count yet
    assert guide.cut("It costs 3.5 percent. Then") is None  # a decimal point ends no sentence


def test_japanese_sentences_are_counted_by_their_marks():
    guide = ShapeGuide.of("桃太郎のあらすじを3文でまとめてください。")
    text = "桃から男の子が生まれた。鬼ヶ島へ行った。鬼を退治した。村に"
    assert text[:guide.cut(text)] == "桃から男の子が生まれた。鬼ヶ島へ行った。鬼を退治した。"


def test_items_end_at_the_first_item_past_the_count_and_details_are_not_items():
    guide = ShapeGuide.of("Give me three ideas for a rainy Sunday, as three bullet points.")
    text = "Ideas:\n1. Bake\n   - bread\n   - cookies\n2. Read\n3. Nap\n4. Paint"
    assert text[:guide.cut(text)] == "Ideas:\n1. Bake\n   - bread\n   - cookies\n2. Read\n3. Nap\n"
    assert guide.cut("- Bake\n- Read\n- Nap\n\nEnjoy your day!") is None  # a closing line is not an item


def test_a_sentence_count_inside_a_list_prompt_does_not_cut_the_list():
    guide = ShapeGuide.of("List three tips as bullet points, each one sentence.")
    assert guide.limit == Shape("items", 3)


def closed(guide: ShapeGuide, reply: str) -> str:
    """The reply as the stream ends it: the end `hold` kept back goes through `closed`."""
    at = len(reply) - guide.hold(reply)
    return reply[:at] + guide.closed(reply[:at], reply[at:])


def test_the_closing_goes_before_a_one_line_replys_final_marks_and_on_its_own_line_in_a_letter():
    guide = ShapeGuide.of('Write a one-sentence slogan for a bicycle shop that ends with "ride on".')
    assert closed(guide, '"Pedal further with us!"') == '"Pedal further with us, ride on!"'
    assert closed(guide, "Pedal further with us, and ride on!") == "Pedal further with us, and ride on!"
    assert check_shape(Shape("sentences", 1), closed(guide, '"Pedal further with us!"')) is None
    letter = ShapeGuide.of('Write a thank-you note. End with "Best, Tom".')
    assert closed(letter, "Dear Ana,\n\nThank you for watering my plants.\n") == \
        "Dear Ana,\n\nThank you for watering my plants.\n\nBest, Tom"
    ja = ShapeGuide.of("お礼の手紙を書いて、「敬具」で終えてください。")
    assert closed(ja, "拝啓\nありがとうございました。") == "拝啓\nありがとうございました。\n敬具"
    for reply in ("Pedal further with us!", "Dear Ana,\n\nThank you.", "Thanks -"):
        assert check_shape(Shape("ends_with", text="Best, Tom"), closed(letter, reply)) is None
