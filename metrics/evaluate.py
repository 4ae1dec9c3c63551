"""Metric values from measure components: simple, ratio (Σnum ÷ Σden at the row's grain, never
an average of ratios) and derived expressions. Pure functions on pandas frames.

>>> import pandas as pd
>>> df = pd.DataFrame({"a": [1.0, 2.0], "b": [4.0, 0.0]})
>>> list(eval_expr("a / b", df.__getitem__))
[0.25, nan]
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
from sqlglot import exp

from warehouse.errors import QueryError

from .sqlbuild import parsed


def _div(a, b):
    a = pd.to_numeric(a, errors="coerce").astype("float64")
    b = pd.to_numeric(b, errors="coerce").astype("float64") if isinstance(b, pd.Series) \
        else float(b)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = a / b
    if isinstance(b, pd.Series):
        return out.where(b.ne(0) & b.notna())
    return out if b != 0 else out * np.nan


def eval_expr(text: str, lookup: Callable[[str], pd.Series]):
    """Evaluate `+ - * /`, numbers, parentheses, `nullif`, `coalesce`, `greatest`, `least`
    over named series. Division by zero or null gives null."""
    tree = parsed(text)  # read only below

    def ev(node):
        if isinstance(node, exp.Paren):
            return ev(node.this)
        if isinstance(node, exp.Column):
            return lookup(node.name)
        if isinstance(node, exp.Literal):
            return float(node.this)
        if isinstance(node, exp.Neg):
            return -ev(node.this)
        if isinstance(node, exp.Add):
            return ev(node.this) + ev(node.expression)
        if isinstance(node, exp.Sub):
            return ev(node.this) - ev(node.expression)
        if isinstance(node, exp.Mul):
            return ev(node.this) * ev(node.expression)
        if isinstance(node, exp.Div):
            return _div(ev(node.this), ev(node.expression))
        if isinstance(node, exp.Nullif):
            a, b = ev(node.this), ev(node.expression)
            return a.where(a != b) if isinstance(a, pd.Series) else (np.nan if a == b else a)
        if isinstance(node, exp.Coalesce):
            out = ev(node.this)
            for e in node.expressions:
                out = out.fillna(ev(e)) if isinstance(out, pd.Series) else out
            return out
        if isinstance(node, (exp.Greatest, exp.Least)):
            parts = [ev(node.this)] + [ev(e) for e in node.expressions]
            frame = pd.concat([p if isinstance(p, pd.Series) else pd.Series(p, index=parts[0].index)
                               for p in parts], axis=1)
            return frame.max(axis=1) if isinstance(node, exp.Greatest) else frame.min(axis=1)
        raise QueryError(f"metric expression {text!r}: {node.sql()} is not supported "
                         "(use + - * /, nullif, coalesce, greatest, least)")

    return ev(tree)


def metric_values(model, metric_id: str, frame: pd.DataFrame) -> pd.Series:
    """The value of a simple, ratio or derived metric on every row of a components frame
    (whose columns are measure values)."""
    m = model.metrics[metric_id]

    def lookup(name: str) -> pd.Series:
        if name in model.metrics and name not in frame.columns:
            return metric_values(model, name, frame)
        if name not in frame.columns:
            raise QueryError(f"metric {metric_id!r}: {name!r} was not computed")
        return pd.to_numeric(frame[name], errors="coerce").astype("float64")

    if m.kind == "simple":
        return lookup(m.measure)
    if m.kind == "ratio":
        return _div(eval_expr(m.numerator, lookup), eval_expr(m.denominator, lookup))
    if m.kind == "derived":
        return eval_expr(m.expr, lookup)
    raise QueryError(f"metric {metric_id!r} is {m.kind}: it is computed as a transform of "
                     f"{m.of!r}, not inside another expression")
