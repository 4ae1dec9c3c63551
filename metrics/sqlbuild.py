"""SQL trees (sqlglot) for facts and their aggregates. Dialect-neutral: `dialects.render`
turns a tree into text for DuckDB or StarRocks.

A fact compiles to two levels:
  rows:     SELECT f.*, <columns>, <time> AS _ts, CAST(<time> AS DATE) AS _day,
            <department> AS department, _dept.campus_id AS campus, … FROM <table> AS f JOIN …
            (no WHERE here, so window columns such as the next admission see every row)
  filtered: SELECT * FROM rows WHERE <fact where> AND <range> AND <as-of> AND <user filters>
User values (dates, filter values, departments in scope) enter only as literals.
"""
from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

import sqlglot
from sqlglot import exp

from warehouse.contract import PART_DATE, TABLES

from .memo import IdentityMemo
from .prebuilt import placeholder as prebuilt_rows
from .prebuilt import register as prebuilt_register
from .model import Fact, Measure

_SETTING = re.compile(r"\{\{\s*(\w+)\s*\}\}")


@lru_cache(maxsize=4096)
def parsed(text: str) -> exp.Expression:
    """A model expression's tree, parsed once: shared, so read it or copy it, never change
    it (`parse_expr` copies)."""
    return sqlglot.parse_one(text, read="duckdb")


def parse_expr(text: str, settings: dict | None = None) -> exp.Expression:
    """Parse a model expression; `{{name}}` becomes the setting's value as a literal."""
    names: dict[str, object] = {}

    def sub(m):
        names["__setting_" + m.group(1)] = (settings or {})[m.group(1)]
        return "__setting_" + m.group(1)

    tree = parsed(_SETTING.sub(sub, text)).copy()
    if names:
        tree = tree.transform(lambda n: literal(names[n.name])
                              if isinstance(n, exp.Column) and n.name in names else n)
    return tree


def literal(value) -> exp.Expression:
    """A user or setting value as a SQL literal (never as SQL text)."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float)):
        return exp.Literal.number(value)
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.strftime("%Y-%m-%d %H:%M:%S")), "TIMESTAMP")
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    return exp.Literal.string(str(value))


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=False)


_FACT_ROWS = IdentityMemo(256)


def fact_rows(fact: Fact, settings: dict, prebuilt: bool = False) -> exp.Select:
    """Level 1: every row of the fact with its standard columns (no filtering). Built once
    per fact and settings (~17 ms for a fact with joins); each caller gets its own copy
    (~3 ms), free to change it. `prebuilt`: a placeholder for it instead (see
    `metrics.prebuilt`), to which the caller may add only a WHERE."""
    tree, name = _FACT_ROWS.get((fact, settings), (), lambda: _registered(
        _fact_rows(fact, settings)))
    return prebuilt_rows(name) if prebuilt else tree.copy()


def _registered(tree: exp.Select) -> tuple[exp.Select, str]:
    return tree, prebuilt_register(tree)


def _fact_rows(fact: Fact, settings: dict) -> exp.Select:
    p = lambda t: parse_expr(t, settings)  # noqa: E731
    time = p(fact.time)
    selects: list[exp.Expression] = [exp.Column(this=exp.Star(), table=exp.to_identifier("f"))]
    for name, text in fact.columns.items():
        selects.append(exp.alias_(p(text), name))
    ts = exp.cast(time, "TIMESTAMP")
    selects += [exp.alias_(ts, "_ts"), exp.alias_(exp.cast(time, "DATE"), "_day")]
    dept = p(fact.org.department) if fact.org.department else None
    if dept is not None:
        selects += [exp.alias_(dept, "department"),
                    exp.alias_(col("campus_id", "_dept"), "campus"),
                    exp.alias_(col("discipline", "_dept"), "discipline")]
    else:
        selects.append(exp.alias_(p(fact.org.campus), "campus"))
    if fact.org.doctor:
        selects.append(exp.alias_(p(fact.org.doctor), "doctor"))
    if fact.org.team:
        selects.append(exp.alias_(p(fact.org.team), "team"))
    elif fact.org.doctor:
        selects.append(exp.alias_(col("team_id", "_doc"), "team"))
    if fact.drg:
        selects += [exp.alias_(p(fact.drg), "drg"),
                    exp.alias_(col("adrg_code", "_drg"), "adrg"),
                    exp.alias_(col("mdc_code", "_drg"), "mdc")]
    q = exp.select(*selects).from_(exp.alias_(exp.to_table(fact.table), "f", table=True),
                                      copy=False)
    for j in fact.joins:
        q = q.join(exp.alias_(exp.to_table(j.table), j.alias, table=True), on=p(j.on),
                   join_type=j.how, copy=False)
    if dept is not None:
        q = q.join(exp.alias_(exp.to_table("dim_department"), "_dept", table=True),
                   on=exp.EQ(this=col("dept_id", "_dept"), expression=dept.copy()),
                   join_type="left", copy=False)
    if fact.org.doctor and not fact.org.team:
        q = q.join(exp.alias_(exp.to_table("dim_doctor"), "_doc", table=True),
                   on=exp.EQ(this=col("doctor_id", "_doc"), expression=p(fact.org.doctor)),
                   join_type="left", copy=False)
    if fact.drg:
        q = q.join(exp.alias_(exp.to_table("dim_drg"), "_drg", table=True),
                   on=exp.EQ(this=col("drg_code", "_drg"), expression=p(fact.drg)),
                   join_type="left", copy=False)
    return q


def partition_aligned(fact: Fact, settings: dict) -> tuple[bool, str]:
    """Whether the fact's day *is* its table's partition date (`_part_date`, which the loader
    sets to the date of the first non-null partition column), and if not, why."""
    time = parse_expr(fact.time, settings)
    table = TABLES.get(fact.table)
    if table is None or not table.partition_by:
        return False, (f"fact {fact.name} reads {fact.table}, which has no partition date: an "
                       "async MV can be partitioned only on a partitioned base table")
    if (isinstance(time, exp.Column) and time.table in ("", "f")
            and time.name == table.partition_by[0]
            and (len(table.partition_by) == 1 or not table.column(time.name).nullable)):
        return True, ""
    return False, (f"fact {fact.name} counts by {fact.time}, but {fact.table} is partitioned by "
                   f"date_trunc('month', {PART_DATE}) with {PART_DATE} = first non-null of "
                   f"({', '.join(table.partition_by)}); an async MV's partition column must "
                   "map to a base-table partition column, so this MV is unpartitioned (each "
                   "refresh recomputes it whole)")


def filtered(fact: Fact, settings: dict, conditions: list[exp.Expression],
             prebuilt: bool = False) -> exp.Select:
    """Level 2: the fact's rows that count, restricted by the query's conditions.

    A fact whose window columns all share one PARTITION BY key (a patient's stays, an
    admission's operations) computes them only over the partitions that have a row passing
    the conditions: whole partitions are kept, so every kept row's window values are what
    they are over the whole fact, while today's discharges no longer run `lead()` over every
    stay ever (the conditions sit above the window, where DuckDB cannot push them).
    `prebuilt`: the fact's rows as placeholders (the query path; see `metrics.prebuilt`)."""
    conds = ([parse_expr(fact.where, settings)] if fact.where else []) + conditions
    rows = fact_rows(fact, settings, prebuilt)
    if conditions:
        rows = _window_partitions_of(rows, fact, settings, conds, prebuilt)
    q = exp.select("*").from_(exp.alias_(exp.Subquery(this=rows), "r", table=True, copy=False),
                              copy=False)
    if conds:
        q = q.where(exp.and_(*conds), copy=False)
    return q


def _window_partitions_of(rows: exp.Select, fact: Fact, settings: dict,
                          conds: list[exp.Expression], prebuilt: bool) -> exp.Select:
    """`rows` restricted to the window partitions that hold a row passing `conds`, or `rows`
    unchanged when that does not apply: no window, windows partitioned differently, or a
    condition reading a windowed column."""
    shape = _window_shape(fact, settings)
    if shape is None:
        return rows
    windowed, keys, plain, plain_name = shape
    if {c.name for cond in conds for c in cond.find_all(exp.Column)} & windowed:
        return rows
    plain = prebuilt_rows(plain_name) if prebuilt else plain.copy()
    hits = exp.select(col("_wkey")).from_(exp.alias_(exp.Subquery(this=plain), "k",
                                                     table=True, copy=False), copy=False).where(
        exp.and_(*[c.copy() for c in conds]), copy=False)
    return rows.where(exp.In(this=_partition_value(keys), query=exp.Subquery(this=hits)),
                      copy=False)


_WINDOW_SHAPES = IdentityMemo(256)


def _window_shape(fact: Fact, settings: dict):
    """(windowed column names, the partition keys all windows share, the fact's rows without
    the windowed columns but with the keys' value as `_wkey`, their prebuilt name), or None
    when the pre-filter does not apply; once per fact and settings (walking the trees costs
    more than the rest)."""
    return _WINDOW_SHAPES.get((fact, settings), (), lambda: _find_window_shape(fact, settings))


def _find_window_shape(fact: Fact, settings: dict):
    rows = fact_rows(fact, settings)
    windows = [w for e in rows.expressions for w in e.find_all(exp.Window)]
    shapes = {tuple(p.sql() for p in w.args.get("partition_by") or []) for w in windows}
    if not windows or len(shapes) != 1 or not next(iter(shapes)):
        return None
    windowed = {e.alias_or_name for e in rows.expressions if e.find(exp.Window)}
    keys = tuple(windows[0].args["partition_by"])
    rows.set("expressions", [e for e in rows.expressions if e.alias_or_name not in windowed
                             and not {c.name for c in e.find_all(exp.Column)} & windowed]
             + [exp.alias_(_partition_value(keys), "_wkey")])
    return windowed, keys, rows, prebuilt_register(rows)


def prepare(model, dialect: str | None = None) -> None:
    """Build every fact's row SQL and window shape now (the server does it at start) rather
    than in the first query that reads the fact, which would pay 5–10 ms per fact; with a
    dialect, render their text for it too."""
    from .dialects import render

    for fact in model.facts.values():
        rows = fact_rows(fact, model.settings, prebuilt=True)
        shape = _window_shape(fact, model.settings)
        if dialect is not None:
            render(rows, dialect)
            if shape is not None:
                render(prebuilt_rows(shape[3]), dialect)


def _partition_value(keys: tuple[exp.Expression, ...]) -> exp.Expression:
    """The partition keys as one text, NULL as a value of its own (rows with no key form one
    window partition): a plain `IN (subquery)`, which both dialects read, instead of
    `IN (…) OR key IS NULL`. Several keys are joined by ␟; a value that happened to contain
    it could only make two partitions share a text, which keeps one partition too many (the
    query's own conditions still apply above), never one too few."""
    parts = [exp.Coalesce(this=exp.cast(k.copy(), "VARCHAR"),
                          expressions=[exp.Literal.string("\u2400")]) for k in keys]  # ␀
    if len(parts) == 1:
        return parts[0]
    sep = exp.Literal.string("\u241f")  # ␟
    return exp.func("CONCAT", *[x for p in parts for x in (p, sep.copy())][:-1])


def bucket(grain: str | None, column: str = "_day") -> exp.Expression:
    """The bucket a row falls in: its day truncated to the grain (hour from `_ts`)."""
    if grain is None:
        return exp.Literal.number(0)
    if grain == "hour":
        return exp.func("DATE_TRUNC", exp.Literal.string("hour"), col("_ts"))
    if grain == "day":
        return col(column)
    return exp.cast(exp.func("DATE_TRUNC", exp.Literal.string(grain), col(column)), "DATE")


def component(m: Measure, settings: dict) -> exp.Expression:
    """The SQL aggregate of one measure over the filtered rows (`FILTER` is rendered as
    `CASE WHEN` so that both dialects read it)."""
    value = parse_expr(m.expr, settings) if m.expr else None
    cond = parse_expr(m.filter, settings) if m.filter else None

    def when(v):
        return exp.Case(ifs=[exp.If(this=cond, true=v)]) if cond is not None else v

    if m.agg == "count":
        if value is None and cond is None:
            return exp.Count(this=exp.Star())
        return exp.Count(this=when(value if value is not None else exp.Literal.number(1)))
    if m.agg in ("sum", "snapshot"):
        return exp.Sum(this=when(value if value is not None else exp.Literal.number(1)))
    if m.agg == "count_distinct":
        return exp.Count(this=exp.Distinct(expressions=[when(value)]))
    if m.agg == "min":
        return exp.Min(this=when(value))
    if m.agg == "max":
        return exp.Max(this=when(value))
    raise ValueError(f"no component for agg {m.agg}")


def in_list(dim: str, values: list) -> exp.Expression:
    return exp.In(this=col(dim), expressions=[literal(v) for v in values])


def aggregate(source: exp.Expression, grain: str | None, dims: list[str],
              components: list[tuple[str, exp.Expression]], bucket_expr=None) -> exp.Select:
    """SELECT bucket AS _bucket, dims…, components… FROM source GROUP BY bucket, dims."""
    b = bucket_expr if bucket_expr is not None else bucket(grain)
    selects = [exp.alias_(b, "_bucket")] + [col(d) for d in dims] + [
        exp.alias_(c, name) for name, c in components]
    q = exp.select(*selects).from_(source)
    group = ([b.copy()] if grain else []) + [col(d) for d in dims]
    if group:
        q = q.group_by(*group)
    return q
