"""The semantic layer: YAML metric definitions (themes/) compiled to SQL per dialect,
materializations, and the query service.

>>> from metrics import query  # doctest: +SKIP
>>> query(["discharges"], by=["department"], grain="month",
...       start="2026-03-01", end="2026-03-31")  # doctest: +SKIP
"""
from __future__ import annotations


def query(*args, **kwargs):
    """See `metrics.service.query` (imported lazily: the CLI must start fast)."""
    from .service import query as _query

    return _query(*args, **kwargs)


def load_model(path=None):
    from .registry import load_model as _load

    return _load(path)
