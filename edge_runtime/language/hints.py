"""A system message that asks for the prompt's own language, where a small multilingual model drifts.

Qwen2.5-Coder answers Japanese prompts partly in Chinese (夜深人静，灯火明。) under its default system
prompt; told in Japanese to answer in natural Japanese only, it mostly does (docs/prose.md measures it).
Only languages measured to need it have a message; a conversation with its own system message keeps it.
"""
from __future__ import annotations

from edge_runtime.chat import Message

HINTS = {"ja": "あなたは親切なアシスタントです。日本語で質問されたら、自然な日本語だけで答えてください。中国語は使いません。"}


def with_language_hint(prompt: str | list[Message], language: str) -> str | list[Message]:
    """The prompt with the language's system message first, unless it has none or the prompt sets its own."""
    hint = HINTS.get(language)
    if hint is None:
        return prompt
    messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
    if any(m.get("role") == "system" for m in messages):
        return prompt
    return [{"role": "system", "content": hint}, *messages]
