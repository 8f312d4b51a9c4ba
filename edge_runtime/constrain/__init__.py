"""Constrained decoding: grammars (JSON schema, regex, Lark/GBNF, tool calls) as token masks."""
