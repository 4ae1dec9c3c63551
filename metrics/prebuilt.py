"""Parts of a query's SQL that never change, rendered once per dialect.

Every query on a fact wraps the same level-1 rows SQL (the fact's joins and derived columns,
see `sqlbuild.fact_rows`): copying that tree into each query and rendering it again was most
of a compile (~60 % for a fact with window columns). On the query path the rows enter a
query as a placeholder instead,

    SELECT * FROM __prebuilt_7__ [WHERE <the query's own conditions>]

and `dialects.render` puts the tree's text, rendered once per dialect, in place of
`SELECT * FROM __prebuilt_7__`. The spliced text is the same SELECT with the query's WHERE
appended, exactly what rendering the whole tree gives (a test compares them for every fact);
a prebuilt tree must therefore be a SELECT … FROM … [JOIN …] and nothing else. The splice
is checked against the tree: if the text names a placeholder the tree does not hold (a
user's filter value quoting one), the expanded tree is rendered instead. `expand` turns
placeholders back into trees (pretty printing, `--explain`). The registries live as long
as the process; they grow only when a model is reloaded (a few entries per fact).
"""
from __future__ import annotations

import itertools
import re
import threading

from sqlglot import exp

_TREES: dict[str, exp.Select] = {}
_TEXTS: dict[tuple[str, str], str] = {}
_lock = threading.Lock()
_numbers = itertools.count(1)
_MARK = re.compile(r"SELECT \* FROM (__prebuilt_\d+__)")
#: all a prebuilt tree may have, and all a placeholder may have besides its FROM
_TREE_ARGS = {"expressions", "from_", "joins"}
_PLACEHOLDER_ARGS = {"expressions", "from_", "where"}


def register(tree: exp.Select) -> str:
    """A placeholder name for `tree`, which the caller keeps and never modifies again."""
    if not isinstance(tree, exp.Select) or {k for k, v in tree.args.items() if v} - _TREE_ARGS:
        raise ValueError("a prebuilt tree is a SELECT … FROM … [JOIN …] without clauses after")
    name = f"__prebuilt_{next(_numbers)}__"
    with _lock:
        _TREES[name] = tree
    return name


def placeholder(name: str) -> exp.Select:
    """`SELECT * FROM <name>`: the prebuilt rows, to which a query may add a WHERE."""
    return exp.select(exp.Star()).from_(exp.to_table(name), copy=False)


def placeholders(tree: exp.Expression) -> list[str]:
    """The placeholder names `tree` holds, once per occurrence. A placeholder must be the
    plain `SELECT * FROM <name> [WHERE …]` that `placeholder` made."""
    names = []
    for table in tree.find_all(exp.Table):
        if table.name not in _TREES:
            continue
        sel = table.parent.parent if isinstance(table.parent, exp.From) else None
        if (not isinstance(sel, exp.Select) or table.alias or len(sel.expressions) != 1
                or not isinstance(sel.expressions[0], exp.Star)
                or {k for k, v in sel.args.items() if v} - _PLACEHOLDER_ARGS):
            raise ValueError(f"{table.name} is used other than as SELECT * FROM it [WHERE …]")
        names.append(table.name)
    return names


def splice(text: str, names: list[str], dialect: str, render_tree) -> str | None:
    """`text` (the rendering of a tree holding the placeholders `names`) with each replaced by
    its tree's text for `dialect` (`render_tree(tree)`, called once per tree and dialect); None
    when the text names placeholders other than the tree's (a user's value quoting one): the
    caller then renders the expanded tree instead."""
    if sorted(_MARK.findall(text)) != sorted(names):
        return None
    return _MARK.sub(lambda m: _text(m.group(1), dialect, render_tree), text)


def _text(name: str, dialect: str, render_tree) -> str:
    hit = _TEXTS.get((name, dialect))
    if hit is None:
        hit = render_tree(_TREES[name])
        with _lock:
            _TEXTS[(name, dialect)] = hit
    return hit


def expand(tree: exp.Expression) -> exp.Expression:
    """A copy of `tree` with every placeholder replaced by a copy of its tree (and the
    placeholder's WHERE moved into it)."""
    tree = tree.copy()
    placeholders(tree)  # the shape is checked before anything is replaced
    for sel in list(tree.find_all(exp.Select)):
        src = sel.args.get("from_")
        table = src.this if src is not None else None
        if not (isinstance(table, exp.Table) and table.name in _TREES):
            continue
        full = _TREES[table.name].copy()
        if sel.args.get("where") is not None:
            full.set("where", sel.args["where"])
        if sel is tree:
            tree = full
        else:
            sel.replace(full)
    return tree
