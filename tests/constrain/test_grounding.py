"""A tool call is declined under "auto" when none of its free arguments comes from the conversation."""
from __future__ import annotations

import json

from edge_runtime.constrain.grounding import declined, free_values, grounded
from edge_runtime.constrain.tools import openai_call

WEATHER = {"type": "object", "properties": {"city": {"type": "string"},
                                            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}}
TIMER = {"type": "object", "properties": {"minutes": {"type": "integer"}, "label": {"type": "string"}}}


def test_enums_consts_and_booleans_are_not_evidence() -> None:
    args = {"city": "Paris", "unit": "celsius", "flag": True, "tags": ["a", 2]}
    schema = {"properties": {**WEATHER["properties"], "flag": {"type": "boolean"},
                             "tags": {"type": "array", "items": {}}}}
    assert list(free_values(args, schema)) == ["Paris", "a", 2]


def test_made_up_city_is_not_grounded() -> None:
    assert not grounded({"city": "New York", "unit": "celsius"}, WEATHER, "Hi! How are you today?")
    assert grounded({"city": "Lisbon", "unit": "celsius"}, WEATHER, "What's the weather in lisbon?")


def test_numbers_in_any_script_ground() -> None:
    assert grounded({"minutes": 3}, TIMER, "３分のタイマーをセットして")
    assert grounded({"minutes": 300}, TIMER, "三百分のタイマー")
    assert not grounded({"minutes": 30}, TIMER, "Set a timer for 3 minutes")


def test_japanese_strings_ground_by_characters() -> None:
    search = {"type": "object", "properties": {"query": {"type": "string"}}}
    assert grounded({"query": "京都の紅葉スポット"}, search, "京都の紅葉スポットを検索して")
    assert not grounded({"query": "大阪の天気"}, search, "こんにちは、元気ですか？")


def test_a_paraphrase_needs_half_its_words() -> None:
    search = {"type": "object", "properties": {"query": {"type": "string"}}}
    asked = "Write a Python function that reverses a string."
    assert not grounded({"query": "Python programming language"}, search, asked)
    assert grounded({"query": "next Raspberry Pi release date"}, search, "When is the next Raspberry Pi out?")


def test_a_call_without_free_arguments_stands() -> None:
    assert grounded({}, {"type": "object", "properties": {}}, "What time is it?")
    assert grounded({"unit": "celsius"}, WEATHER, "Hello")


def test_declined_reads_messages_and_tool_results() -> None:
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": WEATHER}}]
    call = openai_call("get_weather", {"city": "Osaka"})
    messages = [{"role": "user", "content": "Plan my trip"}, {"role": "tool", "content": json.dumps({"next": "Osaka"})}]
    assert not declined([call], tools, messages)
    assert declined([call], tools, "Plan my trip")


def test_english_number_words_ground() -> None:
    assert grounded({"minutes": 20}, TIMER, "Set a timer for twenty minutes")


def test_a_request_about_the_function_keeps_its_call() -> None:
    """No argument is written in the request, but it asks for what the function does: the call stands."""
    tools = [{"type": "function", "function": {"name": "get_weather", "description": "Current weather for a city",
                                               "parameters": WEATHER}}]
    call = openai_call("get_weather", {"city": "Paris"})
    assert not declined([call], tools, "What's the weather like in the capital of France?")
    assert declined([call], tools, "Hi! How are you today?")
    search = [{"type": "function", "function": {"name": "search_web", "description": "Search the web and return the top results",
                                                "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}}}]
    asked = "Write a Python function that reverses a string."
    assert declined([openai_call("search_web", {"query": "Python programming language"})], search, asked)
