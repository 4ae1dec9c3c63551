"""Small sqlglot builders for the warehouse's own SQL (DuckDB): quoted identifiers from the
contract, values as parameters (`?`), never text pasted into SQL (STYLE rule 5)."""
from __future__ import annotations

from sqlglot import exp


def column(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def table(name: str, alias: str | None = None) -> exp.Expression:
    t = exp.Table(this=exp.to_identifier(name, quoted=True))
    return exp.alias_(t, alias, table=True) if alias else t


def all_of(conds: list[exp.Expression]) -> exp.Expression:
    return exp.and_(*conds) if conds else exp.true()


def one_of(col: exp.Expression, *values: str) -> exp.In:
    return exp.In(this=col, expressions=[exp.Literal.string(v) for v in values])


def temp_table(name: str, columns: list[tuple[str, str]]) -> exp.Create:
    """CREATE OR REPLACE TEMP TABLE name (column type, …)."""
    defs = [exp.ColumnDef(this=exp.to_identifier(c, quoted=True),
                          kind=exp.DataType.build(t, dialect="duckdb")) for c, t in columns]
    return exp.Create(this=exp.Schema(this=table(name), expressions=defs), kind="TABLE",
                      replace=True,
                      properties=exp.Properties(expressions=[exp.TemporaryProperty()]))


def insert_params(name: str, n: int) -> exp.Insert:
    """INSERT INTO name VALUES (?, …) with `n` parameters."""
    return exp.insert(exp.values([exp.tuple_(*[exp.Placeholder() for _ in range(n)])]),
                      into=table(name))


def update_from(target: str, values: dict, source: exp.Expression,
                where: exp.Expression) -> exp.Update:
    """UPDATE target SET … FROM source WHERE …"""
    u = exp.update(table(target), values, where=where)
    u.set("from_", exp.From(this=source))
    return u


def drop(name: str) -> exp.Drop:
    return exp.Drop(tables=[table(name)], kind="TABLE", exists=True)


def run(cur, tree: exp.Expression, params=None):
    return cur.execute(tree.sql("duckdb"), params or [])
