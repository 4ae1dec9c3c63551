"""Planning: what a semantic query needs (measures per fact), and from where each part is
answered (a materialization when provably equal, else the base tables), with the reasons.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlglot import exp

from warehouse.errors import QueryError

from . import sqlbuild as sb
from .dimensions import fact_dimensions
from .model import GRAINS, TRANSFORMS, Fact, Materialization, Measure
from .registry import SemanticModel
from .rules import did_you_mean, measure_refs

_ORDER = {g: i for i, g in enumerate(GRAINS)}


@dataclass(frozen=True)
class QuerySpec:
    """A normalised semantic query; its repr is the cache key (with the data version)."""

    metrics: tuple[str, ...]
    by: tuple[str, ...] = ()
    grain: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()
    as_of: dt.datetime | None = None
    scope: frozenset[str] | None = None  # departments the user may see; None = all

    @property
    def dims(self) -> tuple[str, ...]:
        """Dimensions the rows are grouped or filtered by (scope filters on department)."""
        out = list(self.by) + [d for d, _ in self.where if d not in self.by]
        if self.scope is not None and "department" not in out:
            out.append("department")
        return tuple(out)


def split_metric(token: str) -> tuple[str, str | None]:
    mid, _, transform = token.partition(":")
    return mid, (transform or None)


def measures_of(model: SemanticModel, metric_id: str, seen=None) -> set[str]:
    """Every measure a metric needs, through derived, cumulative and transform metrics."""
    seen = seen or set()
    if metric_id in model.measures and metric_id not in model.metrics:
        return {metric_id}
    if metric_id in seen:
        return set()
    seen.add(metric_id)
    m = model.metrics[metric_id]
    if m.kind == "simple":
        return {m.measure}
    if m.kind in ("cumulative", "transform"):
        return measures_of(model, m.of, seen)
    out: set[str] = set()
    for text in (m.numerator, m.denominator, m.expr):
        if text:
            for ref in measure_refs(text):
                out |= measures_of(model, ref, seen)
    return out


def validate_spec(model: SemanticModel, spec: QuerySpec) -> None:
    """Reject what cannot be answered, naming the metric, part and dimension."""
    if spec.grain is not None and spec.grain not in GRAINS:
        raise QueryError(f"unknown grain {spec.grain!r}: use one of {', '.join(GRAINS)}")
    if spec.start and spec.end and spec.start > spec.end:
        raise QueryError(f"--from {spec.start} is after --to {spec.end}")
    known_dims = set().union(*(fact_dimensions(f) for f in model.facts.values()))
    asked = list(spec.by) + [d for d, _ in spec.where if d not in spec.by]
    for d in asked:
        if d not in known_dims:
            raise QueryError(f"unknown dimension {d!r}{did_you_mean(d, known_dims)}")
    for token in spec.metrics:
        mid, transform = split_metric(token)
        if mid not in model.metrics:
            raise QueryError(f"unknown metric {mid!r}{did_you_mean(mid, model.metrics)}; "
                             "`cockpit catalog` lists them")
        if transform and transform not in TRANSFORMS:
            raise QueryError(f"{token}: unknown transform {transform!r}"
                             f"{did_you_mean(transform, TRANSFORMS)}")
        for mname in sorted(measures_of(model, mid)):
            fact, measure = model.measures[mname]
            carried = fact_dimensions(fact)
            for d in asked:
                if d not in carried:
                    raise QueryError(
                        f"metric {mid!r}: its part {mname!r} (fact {fact.name}, table "
                        f"{fact.table}) has no dimension {d!r}; it carries "
                        f"{', '.join(sorted(carried))}")
            if spec.grain == "hour" and fact.time_is_date:
                raise QueryError(f"metric {mid!r}: its part {mname!r} counts by a date "
                                 f"({fact.time}), so it has no hour grain")


# -- units: one SQL each --------------------------------------------------------------------
@dataclass
class Unit:
    """Measures of one fact computed in one aggregate query. `mode`: normal, last (snapshot
    on the last day of each bucket) or open (open intervals at the end of each bucket)."""

    fact: Fact
    mode: str
    measures: list[Measure]
    source: str = "base"  # "base" or a materialization table name
    reasons: dict[str, str] = field(default_factory=dict)
    sql: exp.Expression | None = None
    #: today's part from the base tables, when the rest came from a materialization
    tail_sql: exp.Expression | None = None


def units_for(model: SemanticModel, measure_names: set[str]) -> list[Unit]:
    units: dict[tuple[str, str], Unit] = {}
    for name in sorted(measure_names):
        fact, m = model.measures[name]
        mode = ("last" if m.agg == "snapshot" and m.over_days == "last" else
                "open" if m.agg == "open_count" else "normal")
        units.setdefault((fact.name, mode), Unit(fact, mode, [])).measures.append(m)
    return list(units.values())


def mv_table(fact: Fact, mat: Materialization) -> str:
    return f"mv_{fact.name}__{mat.name}"


def route(unit: Unit, spec: QuerySpec, built: dict[str, dict]) -> None:
    """Choose a materialization for the unit when its answer equals the base tables',
    recording for every candidate why it was or was not used."""
    if unit.mode == "open":
        unit.reasons["*"] = "open-interval measures are evaluated on the base rows"
        return
    dims = set(spec.dims)
    usable = []
    for mat in unit.fact.materializations:
        table = mv_table(unit.fact, mat)
        why = _mismatch(unit, mat, spec, dims, built.get(table))
        unit.reasons[table] = why or "used"
        if why is None:
            usable.append((int(built[table].get("rows") or 0), table))
    if usable:
        unit.source = min(usable)[1]  # the smallest that can answer
        for _, t in usable:
            if t != unit.source:
                unit.reasons[t] = f"usable, but {unit.source} is smaller"


def _mismatch(unit: Unit, mat: Materialization, spec: QuerySpec, dims: set[str],
              state: dict | None) -> str | None:
    if state is None:
        return "not built yet (run `cockpit refresh`)"
    missing = [m.name for m in unit.measures if m.name not in mat.measures]
    if missing:
        return f"does not hold measure(s) {', '.join(missing)}"
    if not dims <= set(mat.dimensions):
        return f"lacks dimension(s) {', '.join(sorted(dims - set(mat.dimensions)))}"
    grain = spec.grain
    if grain == "hour" or (grain is not None and _ORDER[grain] < _ORDER[mat.grain]):
        return f"its grain ({mat.grain}) is coarser than the query's ({grain})"
    if grain == "week" and mat.grain == "month":
        return "weeks do not nest in months"
    if unit.mode == "last" and mat.grain != "day":
        return "a last-day snapshot needs a day-grain materialization"
    if mat.grain == "month" and spec.start and spec.start.day != 1:
        return f"--from {spec.start} cuts a month bucket"
    if mat.grain == "month" and spec.end and (spec.end + dt.timedelta(days=1)).day != 1:
        return f"--to {spec.end} cuts a month bucket"
    distinct = [m.name for m in unit.measures if m.agg == "count_distinct"]
    if distinct and (grain != mat.grain or dims != set(mat.dimensions)):
        return (f"distinct count(s) {', '.join(distinct)} re-aggregate only at their own grain "
                f"({mat.grain}) and dimensions ({', '.join(mat.dimensions) or 'none'})")
    as_of = spec.as_of
    if as_of is not None and (spec.end is None or spec.end >= as_of.date()):
        return (f"the range reaches {as_of:%Y-%m-%d %H:%M} (as of), inside a bucket: today's "
                "figures come live from the base tables")
    return None


def unit_conditions(unit: Unit, spec: QuerySpec, start: dt.date | None, end: dt.date | None,
                    as_of: dt.datetime | None, with_range: bool = True) -> list[exp.Expression]:
    conds: list[exp.Expression] = []
    if with_range and start is not None:
        conds.append(exp.GTE(this=sb.col("_day"), expression=sb.literal(start)))
    if with_range and end is not None:
        conds.append(exp.LTE(this=sb.col("_day"), expression=sb.literal(end)))
    if as_of is not None and unit.mode != "open":
        conds.append(exp.LTE(this=sb.col("_ts"), expression=sb.literal(as_of)))
    for d, values in spec.where:
        conds.append(sb.in_list(d, list(values)))
    if spec.scope is not None:
        # a department scope; a fact with no department (operating rooms) shows nothing to it
        scoped = spec.scope and unit.fact.org.department
        conds.append(sb.in_list("department", sorted(spec.scope)) if scoped else exp.false())
    return conds
