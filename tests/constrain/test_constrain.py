"""Grammar-constrained decoding on real weights: valid by construction, and drafting or jump-forward
never change what greedy decoding under the grammar would write."""
from __future__ import annotations

import json
import re

import jsonschema
import numpy as np
import pytest

from edge_runtime.chat import encode_prompt
from edge_runtime.constrain import grammars
from edge_runtime.constrain.matcher import Constraint
from edge_runtime.constrain.request import structure
from edge_runtime.constrain.tools import call_grammar, parse_calls
from edge_runtime.errors import FieldError
from edge_runtime.speculative.decoder import Decoder
from edge_runtime.speculative.drafters import PromptLookupDrafter

PERSON = {"type": "object", "additionalProperties": False, "required": ["name", "age", "city", "pets"],
          "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0, "maximum": 120},
                         "city": {"type": "string", "enum": ["Tokyo", "Osaka", "Kyoto"]},
                         "pets": {"type": "array", "items": {"type": "string"}, "maxItems": 3}}}
PROMPT = "Hanako Yamada, 41, lives in Kyoto with two cats named Mochi and Kinako. Give her record as JSON."


def decode(model, grammar, *, drafter=None, jump_forward=False, max_tokens=80, verify="exact"):
    decoder = Decoder(model, drafter)
    ids = encode_prompt(model, PROMPT)
    out = [t for step in decoder.generate(ids, max_tokens=max_tokens, constraint=Constraint(model, grammar),
                                          jump_forward=jump_forward, verify=verify) for t in step]
    return out, decoder.stats


def test_schema_output_validates(qwen05):
    out, stats = decode(qwen05, grammars.json_schema(PERSON))
    assert stats.finish_reason == "stop"
    jsonschema.validate(json.loads(qwen05.detokenize(out)), PERSON)


def test_drafting_under_a_grammar_keeps_greedy_output(qwen05):
    """Masks apply at every verify row: a lookup drafter (which copies names from the prompt) in exact
    mode yields the very tokens plain constrained greedy decoding does."""
    grammar = grammars.json_schema(PERSON)
    plain, _ = decode(qwen05, grammar)
    drafted, stats = decode(qwen05, grammar, drafter=PromptLookupDrafter(ngram_max=3, ngram_min=1))
    assert drafted == plain
    assert stats.drafted > 0


def test_jump_forward_appends_forced_tokens_and_stays_valid(qwen05):
    out, stats = decode(qwen05, grammars.json_schema(PERSON), jump_forward=True)
    assert stats.forced > 0 and stats.steps < len(out) - 1
    jsonschema.validate(json.loads(qwen05.detokenize(out)), PERSON)


def test_regex_and_gbnf(smol):
    ids = encode_prompt(smol, "Give a date.")
    for grammar, pattern in [(grammars.regex(r"20[0-9]{2}-[01][0-9]-[0-3][0-9]"), r"20\d\d-[01]\d-[0-3]\d"),
                             (grammars.lark('root ::= "yes" | "no"'), r"yes|no")]:
        out = [t for s in Decoder(smol).generate(ids, max_tokens=20, constraint=Constraint(smol, grammar)) for t in s]
        assert re.fullmatch(pattern, smol.detokenize(out).decode())


def test_a_length_cut_is_reported_not_repaired(smol):
    out, stats = decode(smol, grammars.json_schema(PERSON), max_tokens=5)
    assert stats.finish_reason == "length" and len(out) == 5


@pytest.mark.parametrize("kwargs, field", [
    ({"response_format": {"type": "xml"}}, "response_format.type"),
    ({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "nonsense"}}}},
     "response_format.json_schema.schema"),
    ({"tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "sometimes"}, "tool_choice"),
    ({"tools": [{"type": "function", "function": {"name": "f"}}],
      "tool_choice": {"type": "function", "function": {"name": "g"}}}, "tool_choice"),
    ({"tools": [{"type": "function", "function": {"name": "bad name!"}}]}, "tools[0].function.name"),
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "minProperties": "x"}}}]}, "tools"),
    ({"tool_choice": "required"}, "tool_choice"),
])
def test_bad_requests_name_the_field(kwargs, field):
    with pytest.raises(FieldError) as err:
        structure(**kwargs)
    assert err.value.field == field


def test_call_grammar_and_parse(smol):
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
    grammar = call_grammar(tools, "required", parallel=False)  # one call, then the grammar ends the reply
    ids = encode_prompt(smol, "Weather in Paris?", tools=tools)
    out = [t for s in Decoder(smol).generate(ids, max_tokens=60, constraint=Constraint(smol, grammar)) for t in s]
    content, calls = parse_calls(smol.detokenize(out).decode())
    assert content is None and len(calls) == 1 and calls[0]["function"]["name"] == "get_weather"
    assert set(json.loads(calls[0]["function"]["arguments"])) == {"city"}


def test_mask_sets_exactly_the_disallowed_tokens(smol):
    """Allowed logits keep their values, every other one is -inf (llguidance's own byte mask as the
    reference)."""
    constraint = Constraint(smol, grammars.json_schema(PERSON))
    constraint.consume(smol.tokenize('{"name": "Hana', add_bos=False))
    allowed = np.frombuffer(constraint.matcher.compute_logit_bias(), dtype=np.uint8)[:smol.vocab.size] > 0
    logits = np.random.default_rng(0).standard_normal(smol.vocab.size).astype(np.float32)
    masked = constraint.apply(logits)
    assert np.array_equal(masked[allowed], logits[allowed]) and np.all(np.isneginf(masked[~allowed]))
    assert 0 < allowed.sum() < allowed.size


def test_tokenizations_of_forced_text_are_kept(smol, monkeypatch):
    """llguidance asks for the same forced texts again and again: the model tokenizes each once, until
    KNOWN_TEXTS fill and the store starts afresh."""
    from edge_runtime.constrain import engine

    vocab = engine._Vocabulary(smol)
    calls = []
    tokenize = smol.tokenize
    monkeypatch.setattr(smol, "tokenize", lambda text, **kw: calls.append(text) or tokenize(text, **kw))
    monkeypatch.setattr(engine, "KNOWN_TEXTS", 2)
    ids = vocab('", "age": ')
    assert vocab(b'", "age": ') == ids == tokenize('", "age": ', add_bos=False) and len(calls) == 1
    vocab("a"), vocab("b"), vocab('", "age": ')
    assert len(calls) == 4  # "b" found the store full: it started afresh
