"""Rendering a SQL tree per dialect. The dialects differ by this table, not by `if dialect`
scattered through the compiler.

>>> from sqlglot import exp
>>> render(exp.select("a").from_("t"), "starrocks")
'SELECT a FROM t'
"""
from __future__ import annotations

from sqlglot import exp

from warehouse.errors import UnsupportedError

from . import prebuilt

#: dialect -> (sqlglot dialect name, constructs it cannot read, with the reason)
DIALECTS: dict[str, tuple[str, dict[type, str]]] = {
    "duckdb": ("duckdb", {}),
    "starrocks": ("starrocks", {
        exp.Filter: "aggregate FILTER (WHERE …): emit SUM(CASE WHEN … END) instead",
        exp.Qualify: "QUALIFY outside row_number/rank against an integer",
    }),
}


def render(tree: exp.Expression, dialect: str, pretty: bool = False) -> str:
    """SQL text of `tree` for `dialect`; an unsupported construct raises UnsupportedError."""
    if dialect not in DIALECTS:
        raise UnsupportedError(f"dialect {dialect!r}", "this product",
                               f"choose one of {', '.join(DIALECTS)}")
    name, unsupported = DIALECTS[dialect]
    names = prebuilt.placeholders(tree)
    if names and pretty:  # indented as one tree: placeholders expanded (and checked) first
        tree, names = prebuilt.expand(tree), []
    for node_type, why in unsupported.items():
        if tree.find(node_type) is not None:
            raise UnsupportedError(node_type.__name__, dialect, why)
    group = tree.args.get("group") if isinstance(tree, exp.Select) else None
    if dialect == "starrocks" and group is not None and group.args.get("all"):
        raise UnsupportedError("GROUP BY ALL", dialect, "list the grouping columns")
    text = tree.sql(dialect=name, pretty=pretty)
    if not names:
        return text
    spliced = prebuilt.splice(text, names, dialect, lambda t: render(t, dialect))
    return spliced if spliced is not None else render(prebuilt.expand(tree), dialect)
