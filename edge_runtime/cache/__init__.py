"""Reuse across requests: KV states found by token prefix (prefix.py over radix.py, spill.py on disk)."""
