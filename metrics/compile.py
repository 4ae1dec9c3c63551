"""`cockpit compile --dialect D`: every artefact the model compiles to, as files.

- `warehouse.sql`: the warehouse tables (from the contract declaration);
- `materializations/<table>.sql`: DuckDB `CREATE TABLE … AS` (what the refresher builds) /
  StarRocks `CREATE MATERIALIZED VIEW … PARTITION BY … DISTRIBUTED BY HASH(…) REFRESH ASYNC
  EVERY (INTERVAL …) PROPERTIES (…) AS SELECT …`;
- `metrics/<id>.sql`: each metric's query against the base tables (month × department over
  a sample range), so StarRocks's rewrite can pick the MV.

StarRocks specifics (checked against the StarRocks documentation: CREATE MATERIALIZED VIEW,
"Create a partitioned materialized view", "Query rewrite with materialized views", the
StarRocks.g4 grammar):

- the MV body is one flat SELECT … FROM <fact table> JOIN … WHERE … GROUP BY … (an SPJG query:
  the only shape StarRocks's plan-based rewrite matches), the fact's columns inlined; a fact
  whose columns use window functions cannot be flattened (nor rewritten by SPJG matching):
  its MV keeps the rows as one subquery, and the metric query wraps that very MV body so that
  the text-based rewrite (v3.3+) can still match it;
- aggregates are sum, count, min, max only (filters as `CASE WHEN`, never `FILTER (WHERE)`);
  a distinct count over a key with an integer surrogate (`dim_*.*_sk`) is
  `bitmap_union(to_bitmap(<sk>))` (rolls up across grains and dimensions), else
  `COUNT(DISTINCT …)` in the MV of exactly that grain;
- partitioned by month (`PARTITION BY date_trunc('month', _bucket)`) when the fact's date is
  its table's partition date (`_part_date`, the fact tables being partitioned by
  `date_trunc('month', _part_date)`); otherwise unpartitioned, with the reason in a comment.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlglot import exp

from warehouse.contract import PART_DATE, TABLES
from warehouse.errors import UnsupportedError
from warehouse.schema import ddl

from . import sqlbuild as sb
from .dialects import render
from .fetch import unit_sql
from .materialize import build_sql
from .model import Fact, Materialization, Measure
from .plan import QuerySpec, measures_of, mv_table, units_for
from .registry import load_model

SAMPLE = dict(start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 31))

#: MV properties (CREATE MATERIALIZED VIEW, PROPERTIES): one replica (raise it on a cluster
#: with 3+ BEs by ALTER MATERIALIZED VIEW … SET); partitioned MVs refresh one month per batch
MV_PROPERTIES = {"replication_num": "1"}
PARTITIONED_MV_PROPERTIES = {"partition_refresh_number": "1"}
REFRESH_UNITS = ("DAY", "HOUR", "MINUTE", "SECOND")


# -- the fact as one flat SELECT ------------------------------------------------------------
@dataclass
class FlatFact:
    """A fact's FROM/JOIN clause with its row-level names resolved to expressions on the base
    tables, so measures, filters and dimensions can be written without subqueries."""

    fact: Fact
    settings: dict
    base: exp.Select  # SELECT <nothing yet> FROM <table> AS f JOIN …
    names: dict[str, exp.Expression]
    nested: bool  # a column uses a window function: keep the rows as a subquery
    partition_time: bool  # the fact's day is its table's partition date
    partition_note: str
    extra_joins: list[tuple[str, str, exp.Expression]] = field(default_factory=list)

    # names at the aggregate level: standard columns, `columns:`, else the fact table's
    def resolve(self, tree: exp.Expression) -> exp.Expression:
        if self.nested:
            return tree

        def sub(node):
            if isinstance(node, exp.Column) and not node.table and not isinstance(
                    node.this, exp.Star):
                if node.name in self.names:
                    return _atom(self.names[node.name].copy())
                return sb.col(node.name, "f")
            return node

        return tree.copy().transform(sub)

    @property
    def day(self) -> exp.Expression:
        if self.nested:
            return sb.col(PART_DATE if self.partition_time else "_day")
        return self.names["_day"].copy()

    def bucket(self, grain: str) -> exp.Expression:
        if grain == "day":
            return self.day
        return date_trunc(grain, self.day)

    def where(self) -> list[exp.Expression]:
        if not self.fact.where:
            return []
        return [self.resolve(sb.parse_expr(self.fact.where, self.settings))]

    def source(self) -> exp.Select:
        """SELECT … FROM: the base tables, or (nested) the fact's rows as subquery `r`."""
        if self.nested:
            return exp.select().from_(exp.alias_(exp.Subquery(
                this=sb.fact_rows(self.fact, self.settings)), "r", table=True))
        q = self.base.copy()
        for table, alias, on in self.extra_joins:
            q = q.join(exp.alias_(exp.to_table(table), alias, table=True), on=on.copy(),
                       join_type="left")
        return q


def date_trunc(grain: str, day: exp.Expression) -> exp.Expression:
    """`date_trunc('<grain>', day)`, spelled as in the StarRocks documentation (lower-case
    unit; DATE in, DATE out) and read the same by DuckDB."""
    return exp.Anonymous(this="date_trunc", expressions=[exp.Literal.string(grain), day])


def _atom(tree: exp.Expression) -> exp.Expression:
    """Parenthesise an inlined definition unless it is atomic (`a OR b` inside `x AND …`)."""
    operators = (exp.Binary, exp.Unary, exp.Connector, exp.Predicate, exp.Between, exp.In,
                 exp.Not, exp.Is)
    if isinstance(tree, operators) or not isinstance(
            tree, (exp.Column, exp.Literal, exp.Func, exp.Paren, exp.Boolean, exp.Null)):
        return exp.Paren(this=tree)
    return tree


def _has_window(tree: exp.Expression) -> bool:
    return tree.find(exp.Window) is not None


def flat_fact(fact: Fact, settings: dict) -> FlatFact:
    rows = sb.fact_rows(fact, settings)
    names: dict[str, exp.Expression] = {}
    for e in rows.expressions:
        if isinstance(e, exp.Alias):
            names[e.alias] = e.this
    nested = any(_has_window(v) for v in names.values())
    part_ok, note = sb.partition_aligned(fact, settings)
    if part_ok:
        # the fact's day *is* its partition date (the loader sets _part_date = date(time))
        names["_day"] = sb.col(PART_DATE, "f")
    base = rows.copy()
    base.set("expressions", [])
    return FlatFact(fact, settings, base, names, nested, part_ok, note)


# -- distinct counts: integer surrogate keys ------------------------------------------------
def surrogate(flat: FlatFact, expr: exp.Expression) -> exp.Expression | None:
    """The dimension's integer surrogate key for a distinct-counted string id, joining the
    dimension when the fact does not join it already; None when there is none."""
    if flat.nested or not isinstance(expr, exp.Column) or expr.table != "f":
        return None
    table = TABLES.get(flat.fact.table)
    if table is None or expr.name not in table.column_names:
        return None
    ref = table.column(expr.name).references
    if not ref:
        return None
    dim_name, key = ref.split(".")
    dim = TABLES.get(dim_name)
    if dim is None or not dim.surrogate_key:
        return None
    for j in flat.base.args.get("joins") or []:
        tbl = j.this
        on = j.args.get("on")
        if not isinstance(tbl, exp.Table) or tbl.name != dim_name or on is None:
            continue
        alias = tbl.alias_or_name
        want = {exp.EQ(this=sb.col(key, alias), expression=expr.copy()).sql(),
                exp.EQ(this=expr.copy(), expression=sb.col(key, alias)).sql()}
        if on.sql() in want:
            return sb.col(dim.surrogate_key, alias)
    alias = f"_sk_{expr.name}"
    if alias not in {a for _, a, _ in flat.extra_joins}:
        flat.extra_joins.append((dim_name, alias, exp.EQ(this=sb.col(key, alias),
                                                         expression=expr.copy())))
    return sb.col(dim.surrogate_key, alias)


def distinct_parts(flat: FlatFact, m: Measure):
    """(value, condition) of a distinct count, resolved on the flat fact."""
    value = flat.resolve(sb.parse_expr(m.expr, flat.settings))
    cond = flat.resolve(sb.parse_expr(m.filter, flat.settings)) if m.filter else None
    return value, cond


def _when(cond, v):
    return exp.Case(ifs=[exp.If(this=cond, true=v)]) if cond is not None else v


def mv_component(flat: FlatFact, m: Measure, bitmaps: bool = True):
    """(aggregate, how) of one measure in an MV: sum/count/min/max, or a bitmap of the
    integer surrogate for a distinct count (`how` says which)."""
    if m.agg != "count_distinct":
        return flat.resolve(sb.component(m, flat.settings)), "plain"
    value, cond = distinct_parts(flat, m)
    sk = surrogate(flat, value)
    if sk is not None:
        if bitmaps:
            return exp.func("BITMAP_UNION", exp.func("TO_BITMAP", _when(cond, sk))), "bitmap"
        return exp.Count(this=exp.Distinct(expressions=[_when(cond, sk)])), "bitmap"
    return exp.Count(this=exp.Distinct(expressions=[_when(cond, value)])), "per-grain"


def query_component(flat: FlatFact, m: Measure) -> exp.Expression:
    """The aggregate a metric query computes on the base tables: the same expressions as the
    MV's, so StarRocks matches them (count(distinct sk) ↔ bitmap_union(to_bitmap(sk)))."""
    if m.agg != "count_distinct":
        return flat.resolve(sb.component(m, flat.settings))
    value, cond = distinct_parts(flat, m)
    sk = surrogate(flat, value)
    return exp.Count(this=exp.Distinct(expressions=[_when(cond, sk if sk is not None
                                                          else value)]))


def mv_select(model, fact: Fact, mat: Materialization, bitmaps: bool = True):
    """The StarRocks MV body (flat SPJG when possible) and notes on how it was built."""
    flat = flat_fact(fact, model.settings)
    own = {m.name: m for m in fact.measures}
    bucket = flat.bucket(mat.grain)
    selects = [exp.alias_(bucket, "_bucket")]
    group = [bucket.copy()]
    for d in mat.dimensions:
        e = flat.resolve(sb.col(d))
        selects.append(exp.alias_(e, d) if not (isinstance(e, exp.Column) and e.name == d
                                                and not e.table) else e)
        group.append(e.copy())
    notes = []
    for name in mat.measures:
        agg, how = mv_component(flat, own[name], bitmaps)
        selects.append(exp.alias_(agg, name))
        if how == "bitmap":
            notes.append(f"{name}: distinct count as a bitmap of the integer surrogate key "
                         "(re-aggregates across grains and dimensions)")
        elif how == "per-grain":
            notes.append(f"{name}: distinct count over a string key with no integer surrogate:"
                         f" exact only at this MV's own grain ({mat.grain}) and dimensions")
    q = flat.source()
    q.set("expressions", selects)
    where = flat.where()
    if where:
        q = q.where(exp.and_(*where))
    q = q.group_by(*group)
    return q, flat, notes


def _comment(text: str) -> str:
    return "\n".join("-- " + line for line in text.splitlines())


def _properties(props: dict[str, str]) -> str:
    return "PROPERTIES (\n" + ",\n".join(f'  "{k}" = "{v}"' for k, v in props.items()) + "\n)"


def starrocks_mv_ddl(model, fact: Fact, mat: Materialization) -> str:
    select, flat, notes = mv_select(model, fact, mat)
    table = mv_table(fact, mat)
    n, unit = (mat.refresh_every.split() + [""])[:2]
    if not n.isdigit() or unit.upper() not in REFRESH_UNITS:
        raise UnsupportedError(f"refresh_every {mat.refresh_every!r}", "starrocks",
                               f"write `<n> {'|'.join(REFRESH_UNITS)}`")
    key = ("department" if "department" in mat.dimensions
           else mat.dimensions[0] if mat.dimensions else "_bucket")
    head = [f"-- {fact.zh or fact.name}: {mat.name} ({mat.grain}); fact {fact.name} on "
            f"{fact.table}"]
    props = dict(MV_PROPERTIES)
    if flat.partition_time:
        partition = "PARTITION BY date_trunc('month', _bucket)\n"
        head.append(f"-- partitioned by month on {PART_DATE} (the base table's partition "
                    "date): a refresh rebuilds only the months whose base partitions changed")
        props.update(PARTITIONED_MV_PROPERTIES)
    else:
        partition = ""
        head.append(_comment("unpartitioned: " + flat.partition_note))
    if flat.nested:
        head.append("-- not flattened: the fact's columns use window functions, which must see "
                    "every row before filtering; SPJG rewrite does not apply, the metric "
                    "queries wrap this body for StarRocks's text-based rewrite (v3.3+)")
    head += [_comment(x) for x in notes]
    # the notes go between the clauses and AS: the statement still starts with CREATE
    return (f"CREATE MATERIALIZED VIEW IF NOT EXISTS {table}\n"
            f"COMMENT \"{fact.zh or fact.name}: {mat.name} ({mat.grain})\"\n"
            + partition
            + f"DISTRIBUTED BY HASH({key})\n"
            f"REFRESH ASYNC EVERY (INTERVAL {int(n)} {unit.upper()})\n"
            + _properties(props) + "\n" + "\n".join(head) + "\nAS\n"
            + render(select, "starrocks", pretty=True) + ";")


def materialization_ddl(model, fact, mat, dialect: str) -> str:
    if dialect == "duckdb":
        select = build_sql(model, fact, mat)
        return render(exp.Create(this=exp.to_table(mv_table(fact, mat)), kind="TABLE",
                                 expression=select), "duckdb", pretty=True) + ";"
    if dialect == "starrocks":
        return starrocks_mv_ddl(model, fact, mat)
    render(exp.select("1"), dialect)  # raises UnsupportedError naming the dialects
    raise AssertionError  # pragma: no cover


# -- metric queries against the base tables ------------------------------------------------
def flat_unit_sql(model, unit, spec: QuerySpec, start, end) -> tuple[exp.Select, str]:
    """A normal unit's query on the base tables in the MVs' shape; returns (sql, note)."""
    flat = flat_fact(unit.fact, model.settings)
    if flat.nested:
        return _text_match_sql(model, unit, spec, start, end, flat)
    bucket = flat.bucket(spec.grain)
    dims = [flat.resolve(sb.col(d)) for d in spec.by]
    comps = [(m.name, query_component(flat, m)) for m in unit.measures]
    q = flat.source()
    q.set("expressions", [exp.alias_(bucket, "_bucket")]
          + [exp.alias_(e, d) for e, d in zip(dims, spec.by)]
          + [exp.alias_(c, name) for name, c in comps])
    conds = [exp.GTE(this=flat.day, expression=sb.literal(start)),
             exp.LTE(this=flat.day, expression=sb.literal(end))] + flat.where()
    q = q.where(exp.and_(*conds)).group_by(bucket.copy(), *[e.copy() for e in dims])
    return q, "flat query on the base tables: StarRocks's SPJG rewrite can answer it from an MV"


def _text_match_sql(model, unit, spec, start, end, flat: FlatFact):
    """Window-function facts: an aggregate over the exact body of an MV that holds the unit's
    measures and dimensions, so StarRocks's text-based rewrite replaces the subquery."""
    need = {m.name for m in unit.measures}
    mats = [mat for mat in unit.fact.materializations
            if need <= set(mat.measures) and set(spec.by) <= set(mat.dimensions)
            and (mat.grain == "day" or spec.grain in ("month", "quarter", "year"))
            and all(m.agg != "count_distinct" for m in unit.measures)]
    if not mats:
        sql = unit_sql(model, unit, spec, start, end)
        return sql, ("nested query on the base tables: no MV of this fact holds these "
                     "measures and dimensions, so nothing is rewritten")
    mat = min(mats, key=lambda m: (len(m.dimensions), m.grain != "month"))
    body, _, _ = mv_select(model, unit.fact, mat)
    agg = {"min": exp.Min, "max": exp.Max}
    comps = [(m.name, agg.get(m.agg, exp.Sum)(this=sb.col(m.name))) for m in unit.measures]
    src = exp.Subquery(this=body, alias="mv")
    q = sb.aggregate(src, spec.grain, list(spec.by), comps,
                     bucket_expr=(sb.col("_bucket") if spec.grain == mat.grain else
                                  date_trunc(spec.grain, sb.col("_bucket"))))
    q = q.where(exp.and_(exp.GTE(this=sb.col("_bucket"), expression=sb.literal(start)),
                         exp.LTE(this=sb.col("_bucket"), expression=sb.literal(end))))
    return q, (f"the subquery is the body of {mv_table(unit.fact, mat)} verbatim: the fact's "
               "window functions rule out SPJG rewrite; StarRocks's text-based rewrite (v3.3+) "
               "matches the subquery")


def metric_sql(model, metric_id: str, dialect: str) -> str:
    """The metric's SQL by month × department (× campus for facts without departments)."""
    from .dimensions import fact_dimensions

    facts = [model.measures[n][0] for n in measures_of(model, metric_id)]
    dim = "department" if all("department" in fact_dimensions(f) for f in facts) else "campus"
    spec = QuerySpec(metrics=(metric_id,), by=(dim,), grain="month", **SAMPLE)
    parts = []
    for unit in units_for(model, measures_of(model, metric_id)):
        parts.append(f"-- fact {unit.fact.name}: " + ", ".join(m.name for m in unit.measures))
        if dialect == "starrocks" and unit.mode == "normal":
            sql, note = flat_unit_sql(model, unit, spec, SAMPLE["start"], SAMPLE["end"])
            parts.append(_comment(note))
        else:
            sql = unit_sql(model, unit, spec, SAMPLE["start"], SAMPLE["end"])
            if dialect == "starrocks":
                parts.append("-- " + ("last-day snapshot" if unit.mode == "last" else
                                      "open intervals at each bucket's end")
                             + ": evaluated on the base rows, not from an MV")
        parts.append(render(sql, dialect, pretty=True) + ";")
    return "\n".join(parts)


def compile_all(dialect: str, model=None) -> dict[str, str]:
    model = model or load_model()
    files = {"warehouse.sql": ";\n\n".join(ddl(dialect)) + ";\n"}
    for fact in model.facts.values():
        for mat in fact.materializations:
            files[f"materializations/{mv_table(fact, mat)}.sql"] = materialization_ddl(
                model, fact, mat, dialect) + "\n"
    for mid, metric in sorted(model.metrics.items()):
        files[f"metrics/{mid}.sql"] = (f"-- {metric.zh} / {metric.en}\n"
                                       + metric_sql(model, mid, dialect) + "\n")
    return files
