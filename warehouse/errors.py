"""The product's one exception root, and its specific kinds.

Every message says what was expected, what was found, and where (file:line, table, column,
metric id), and how to fix it where there is an obvious fix. Only the CLI decides to exit.
"""
from __future__ import annotations


class CockpitError(Exception):
    """Root of every error this product raises on purpose."""

    exit_code = 1


class ConfigError(CockpitError):
    """A setting or a configuration file is wrong."""


class ContractError(CockpitError):
    """A delivered file does not follow the source contract as a whole (unreadable, wrong
    header, unknown table). Bad *rows* are not errors: they are quarantined."""


class EngineError(CockpitError):
    """The warehouse engine cannot be reached or refused an operation."""


class ModelError(CockpitError):
    """The YAML semantic model is invalid. Carries every problem found, as file:line: message."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems) if self.problems else "invalid model")


class QueryError(CockpitError):
    """A semantic query cannot be answered as asked (unknown metric, dimension not carried by
    the metric's fact, bad date range, ...)."""


class UnsupportedError(CockpitError):
    """A construct that a dialect cannot express; names the construct and the dialect."""

    def __init__(self, construct: str, dialect: str, hint: str = ""):
        msg = f"{construct} is not supported on {dialect}"
        super().__init__(msg + (f": {hint}" if hint else ""))


class AccessDenied(CockpitError):
    """A user asked for data outside their scope."""
