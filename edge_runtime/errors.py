"""One error family, so every face (CLI, server, Python) can show a problem and its fix the same way."""
from __future__ import annotations


class EdgeRuntimeError(Exception):
    """A problem the user can act on: `str(err)` names it, `hint` says what to do."""

    exit_code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class ConfigError(EdgeRuntimeError):
    """The TOML manifest or a command-line option is wrong."""

    exit_code = 2


class ModelFileError(EdgeRuntimeError):
    """A model file is missing, truncated, foreign or otherwise unusable."""


class CatalogError(EdgeRuntimeError):
    """A model could not be fetched or did not verify."""


class PromptError(EdgeRuntimeError):
    """The request itself cannot be served (empty, over the context, bad limits)."""

    exit_code = 2


class IncompatibleDraftError(EdgeRuntimeError):
    """A draft model whose vocabulary does not match its target's."""


class BudgetError(EdgeRuntimeError):
    """A memory budget that cannot hold what was asked of it."""

    exit_code = 2


class FieldError(PromptError):
    """One request field (or grammar file) is wrong; `field` names it, and the server's 400 carries it
    as `param`."""

    def __init__(self, field: str, message: str, hint: str = "") -> None:
        super().__init__(f"{field}: {message}", hint)
        self.field = field
