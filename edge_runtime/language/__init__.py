"""What a reply's language needs beyond the model: Japanese that reads as Japanese (no simplified-only Chinese
characters, enough kana), and a token mask that keeps such characters out while decoding."""
