"""Tools and JSON-schema replies through the official `openai` client against the real server, on
Qwen2.5-Coder-0.5B (its template has a tools branch): valid by construction, or a clean "length"."""
from __future__ import annotations

import json

import jsonschema
import openai
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.server.test_server import KEY, serving

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"},
                                                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                   "required": ["city"]}}}
ASK = [{"role": "user", "content": "What's the weather in Paris right now?"}]


@pytest.fixture(scope="module")
def client():
    with serving(config="qwen05.toml", threads=2) as srv:
        # a generous timeout: the CPU running these tests may be shared
        yield openai.OpenAI(base_url=f"{srv.url}/v1", api_key=KEY, max_retries=0, timeout=900)


def test_tool_round_trip(client):
    """Call, tool result, final answer: the history renders through the model's own template."""
    first = client.chat.completions.create(model="auto", messages=ASK, tools=[WEATHER], tool_choice="required",
                                           temperature=0, max_tokens=60)
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.id and call.type == "function" and call.function.name == "get_weather"
    assert "city" in json.loads(call.function.arguments)
    history = ASK + [choice.message.model_dump(exclude_none=True),
                     {"role": "tool", "tool_call_id": call.id, "content": '{"temperature_c": 18, "sky": "clear"}'}]
    final = client.chat.completions.create(model="auto", messages=history, tools=[WEATHER], tool_choice="none",
                                           temperature=0, max_tokens=60)
    assert final.choices[0].finish_reason in ("stop", "length")
    assert not final.choices[0].message.tool_calls
    assert "18" in final.choices[0].message.content


def test_auto_makes_no_call_from_nothing(client):
    """A greeting offered a weather tool: no call with made-up arguments, and text that is not a call."""
    reply = client.chat.completions.create(model="auto", messages=[{"role": "user", "content": "Hi! How are you today?"}],
                                           tools=[WEATHER], temperature=0, max_tokens=40)
    message = reply.choices[0].message
    assert not message.tool_calls and reply.choices[0].finish_reason in ("stop", "length")
    assert message.content and "get_weather" not in message.content


def test_streamed_tool_calls_reassemble(client):
    stream = client.chat.completions.create(model="auto", messages=ASK, tools=[WEATHER], stream=True,
                                            tool_choice={"type": "function", "function": {"name": "get_weather"}},
                                            temperature=0, max_tokens=60)
    calls: dict[int, dict] = {}
    finish = None
    for chunk in stream:
        for choice in chunk.choices:
            finish = choice.finish_reason or finish
            for delta in choice.delta.tool_calls or []:
                entry = calls.setdefault(delta.index, {"name": "", "arguments": ""})
                entry["name"] += (delta.function.name or "") if delta.function else ""
                entry["arguments"] += (delta.function.arguments or "") if delta.function else ""
    assert finish == "tool_calls" and calls[0]["name"] == "get_weather"
    assert set(json.loads(calls[0]["arguments"])) <= {"city", "unit"}


def test_json_schema_reply_validates(client):
    schema = {"type": "object", "additionalProperties": False, "required": ["name", "age", "langs"],
              "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0, "maximum": 130},
                             "langs": {"type": "array", "items": {"type": "string", "enum": ["日本語", "English"]},
                                       "minItems": 1, "maxItems": 2}}}
    reply = client.chat.completions.create(
        model="auto", temperature=0, max_tokens=80,
        messages=[{"role": "user", "content": "山田花子、35歳、日本語と英語を話す。JSONで。"}],
        response_format={"type": "json_schema", "json_schema": {"name": "person", "schema": schema, "strict": True}})
    assert reply.choices[0].finish_reason == "stop"
    jsonschema.validate(json.loads(reply.choices[0].message.content), schema)


def test_json_object_mode(client):
    reply = client.chat.completions.create(model="auto", temperature=0, max_tokens=60,
                                           messages=[{"role": "user", "content": "Describe a cat as JSON."}],
                                           response_format={"type": "json_object"})
    assert reply.choices[0].finish_reason == "length" or isinstance(json.loads(reply.choices[0].message.content), dict)


@pytest.mark.parametrize("body, param", [
    ({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": 5}}}},
     "response_format.json_schema.schema"),
    ({"tools": [WEATHER], "tool_choice": "always"}, "tool_choice"),
    ({"tools": [{"type": "function", "function": {"name": "no spaces allowed"}}]}, "tools[0].function.name"),
    ({"logprobs": True}, "logprobs"),
    ({"functions": [{"name": "f"}]}, "functions"),
])
def test_bad_structure_is_a_400_naming_the_field(client, body, param):
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="auto", messages=ASK, max_tokens=5, **body)
    assert err.value.body["param"] == param
    assert client.chat.completions.create(model="auto", messages=ASK, max_tokens=2).choices  # still serving


LEAF = st.sampled_from([
    {"type": "string", "maxLength": 12}, {"type": "integer", "minimum": -5, "maximum": 500},
    {"type": "number", "minimum": 0, "maximum": 1}, {"type": "boolean"},
    {"type": "string", "enum": ["赤", "青", "green"]}, {"type": "string", "pattern": "^[a-z]{2,5}$"}])
KEYS = st.sampled_from(["name", "count", "色", "score", "tags", "ok", "名前", "level"])


def schemas(depth: int = 2) -> st.SearchStrategy:
    child = LEAF if depth == 0 else st.one_of(LEAF, schemas(depth - 1))
    array = st.builds(lambda items, lo, extra: {"type": "array", "items": items, "minItems": lo, "maxItems": lo + extra},
                      child, st.integers(0, 2), st.integers(0, 2))
    obj = st.dictionaries(KEYS, st.one_of(child, array), min_size=1, max_size=3).flatmap(
        lambda props: st.sets(st.sampled_from(sorted(props))).map(
            lambda req: {"type": "object", "properties": props, "required": sorted(req), "additionalProperties": False}))
    return obj


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(schema=schemas())
def test_generated_schemas_always_valid_or_length(client, schema):
    reply = client.chat.completions.create(
        model="auto", temperature=0.8, seed=7, max_tokens=64,
        messages=[{"role": "user", "content": "Fill in this form with plausible values. 日本語でもよい。"}],
        response_format={"type": "json_schema", "json_schema": {"name": "form", "schema": schema}})
    choice = reply.choices[0]
    if choice.finish_reason != "length":
        jsonschema.validate(json.loads(choice.message.content), schema)
