"""The OpenAI-compatible local HTTP server: app (routes), handlers, queue, schema, cli."""
