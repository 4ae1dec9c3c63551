"""Validation rules over a parsed model: small classes, each returning issues with a level.
Only the CLI decides to fail (`cockpit check` exits 1 on any error).
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from warehouse.calendar import COLUMNS as CALENDAR_COLUMNS
from warehouse.contract import TABLES, physical_columns

from .model import DRG_DIMENSIONS, ORG_DIMENSIONS
from .registry import SemanticModel
from .sqlbuild import parsed


@dataclass(frozen=True)
class Issue:
    level: str  # "error" | "warning"
    message: str

    def __str__(self) -> str:
        return self.message


#: tables a fact may read: the contract's, plus the warehouse's calendar
WAREHOUSE_TABLES: dict[str, tuple[str, ...]] = {
    **{name: physical_columns(t) for name, t in TABLES.items()},
    "dim_calendar": tuple(CALENDAR_COLUMNS)}


def did_you_mean(name: str, options) -> str:
    close = difflib.get_close_matches(name, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def measure_refs(text: str) -> list[str]:
    """Identifiers used in a metric expression (`a / nullif(b, 0)` -> [a, b])."""
    return [c.name for c in parsed(text).find_all(exp.Column)]


class Rule:
    def check(self, model: SemanticModel) -> list[Issue]:
        raise NotImplementedError


class FactTablesExist(Rule):
    """Every fact reads a contract table; every join names one."""

    def check(self, model):
        out = []
        for f in model.facts.values():
            loc = model.where[("fact", f.name)]
            if f.table not in WAREHOUSE_TABLES:
                out.append(Issue("error", f"{loc}: fact {f.name!r}: unknown table {f.table!r}"
                                 f"{did_you_mean(f.table, WAREHOUSE_TABLES)}"))
            for j in f.joins:
                if j.table not in WAREHOUSE_TABLES:
                    out.append(Issue("error", f"{loc}: fact {f.name!r}: join to unknown table "
                                     f"{j.table!r}{did_you_mean(j.table, WAREHOUSE_TABLES)}"))
        return out


class ExpressionsParse(Rule):
    """Every SQL expression parses, and plain column names exist in the fact's table or
    its declared columns."""

    def check(self, model):
        out = []
        for f in model.facts.values():
            loc = model.where[("fact", f.name)]
            known = set(f.columns) | set(ORG_DIMENSIONS) | set(DRG_DIMENSIONS) | {"_day", "_ts"}
            known |= set(WAREHOUSE_TABLES.get(f.table, ()))
            exprs = [("time", f.time), ("where", f.where)] + [
                (f"columns.{k}", v) for k, v in f.columns.items()]
            for m in f.measures:
                exprs += [(f"measure {m.name}.expr", m.expr), (f"measure {m.name}.filter",
                          m.filter), (f"measure {m.name}.start", m.start),
                          (f"measure {m.name}.end", m.end)]
            for label, text in exprs:
                if not text:
                    continue
                try:
                    tree = sqlglot.parse_one(re.sub(r"\{\{\s*\w+\s*\}\}", "0", text),
                                             read="duckdb")
                except sqlglot.errors.ParseError as e:
                    out.append(Issue("error", f"{loc}: fact {f.name!r} {label}: cannot parse "
                                     f"{text!r}: {str(e).splitlines()[0]}"))
                    continue
                if label.startswith("columns.") or label == "time":
                    continue  # may reference join aliases
                for col in tree.find_all(exp.Column):
                    if not col.table and col.name not in known and not col.name.startswith("_"):
                        out.append(Issue("error", f"{loc}: fact {f.name!r} {label}: unknown "
                                         f"column {col.name!r}{did_you_mean(col.name, known)}"))
        return out


class MetricReferences(Rule):
    """A metric names measures and metrics that exist, with the fields its kind needs."""

    NEEDS = {"simple": ("measure",), "ratio": ("numerator", "denominator"),
             "derived": ("expr",), "cumulative": ("of", "window"),
             "transform": ("of", "transform")}

    def check(self, model):
        out = []
        names = set(model.measures) | set(model.metrics)
        for m in model.metrics.values():
            loc = model.where[("metric", m.id)]
            for fld in self.NEEDS[m.kind]:
                if getattr(m, fld) is None:
                    out.append(Issue("error", f"{loc}: metric {m.id!r}: kind {m.kind} needs "
                                     f"{fld!r}"))
            refs: list[str] = []
            if m.measure:
                if m.measure not in model.measures:
                    out.append(Issue("error", f"{loc}: metric {m.id!r}: unknown measure "
                                     f"{m.measure!r}{did_you_mean(m.measure, model.measures)}"))
            for text in (m.numerator, m.denominator, m.expr):
                if text:
                    try:
                        refs += measure_refs(text)
                    except sqlglot.errors.ParseError as e:
                        out.append(Issue("error", f"{loc}: metric {m.id!r}: cannot parse "
                                         f"{text!r}: {str(e).splitlines()[0]}"))
            if m.of:
                refs.append(m.of)
            for r in refs:
                if r not in names:
                    out.append(Issue("error", f"{loc}: metric {m.id!r}: unknown measure or "
                                     f"metric {r!r}{did_you_mean(r, names)}"))
            if m.kind == "ratio":
                for r in measure_refs(m.numerator or "0") + measure_refs(m.denominator or "0"):
                    if r in model.metrics and r not in model.measures:
                        out.append(Issue("error", f"{loc}: metric {m.id!r}: a ratio's parts "
                                         f"are measures; {r!r} is a metric (use its measure)"))
            if m.transform and m.of is None:
                out.append(Issue("error", f"{loc}: metric {m.id!r}: transform needs 'of'"))
        return out


class NoCycles(Rule):
    def check(self, model):
        out = []

        def deps(mid):
            m = model.metrics[mid]
            refs = []
            for text in (m.expr,):
                if text:
                    refs += measure_refs(text)
            if m.of:
                refs.append(m.of)
            return [r for r in refs if r in model.metrics]

        for start in model.metrics:
            stack, seen = [(start, (start,))], set()
            while stack:
                cur, path = stack.pop()
                for d in deps(cur):
                    if d == start:
                        out.append(Issue("error", f"{model.where[('metric', start)]}: metric "
                                         f"{start!r} depends on itself: {' -> '.join(path + (d,))}"))
                        stack = []
                        break
                    if d not in seen:
                        seen.add(d)
                        stack.append((d, path + (d,)))
        return out


class FactDimensions(Rule):
    """Enum dimensions are declared in dimensions.yaml and exist on the fact."""

    def check(self, model):
        out = []
        for f in model.facts.values():
            loc = model.where[("fact", f.name)]
            cols = set(f.columns) | set(WAREHOUSE_TABLES.get(f.table, ()))
            for e in f.enums:
                if e not in model.enums:
                    out.append(Issue("error", f"{loc}: fact {f.name!r}: enum dimension {e!r} is "
                                     "not declared in dimensions.yaml"
                                     f"{did_you_mean(e, model.enums)}"))
                if e not in cols:
                    out.append(Issue("error", f"{loc}: fact {f.name!r}: enum dimension {e!r} is "
                                     f"not a column of {f.table} or of its columns"))
        return out


class MaterializationsValid(Rule):
    """A materialization lists measures of its own fact and dimensions the fact carries."""

    def check(self, model):
        from .dimensions import fact_dimensions

        out = []
        for f in model.facts.values():
            loc = model.where[("fact", f.name)]
            own = {m.name: m for m in f.measures}
            dims = fact_dimensions(f)
            seen = set()
            for mat in f.materializations:
                if mat.name in seen:
                    out.append(Issue("error", f"{loc}: fact {f.name!r}: materialization "
                                     f"{mat.name!r} defined twice"))
                seen.add(mat.name)
                for ms in mat.measures:
                    if ms not in own:
                        out.append(Issue("error", f"{loc}: materialization {mat.name!r}: measure "
                                         f"{ms!r} is not a measure of fact {f.name!r}"
                                         f"{did_you_mean(ms, own)}"))
                    elif own[ms].agg == "open_count":
                        out.append(Issue("error", f"{loc}: materialization {mat.name!r}: "
                                         f"open_count measure {ms!r} cannot be materialized"))
                for d in mat.dimensions:
                    if d not in dims:
                        out.append(Issue("error", f"{loc}: materialization {mat.name!r}: fact "
                                         f"{f.name!r} does not carry dimension {d!r}"
                                         f"{did_you_mean(d, dims)}"))
        return out


class OrgDeclared(Rule):
    """A fact names its department, or (when it has none) its campus."""

    def check(self, model):
        return [Issue("error", f"{model.where[('fact', f.name)]}: fact {f.name!r}: org needs "
                      "'department' (or 'campus' for a fact without departments)")
                for f in model.facts.values() if not f.org.department and not f.org.campus]


class MetricPresentation(Rule):
    """A band metric has a band [lo, hi] with lo <= hi."""

    def check(self, model):
        out = []
        for m in model.metrics.values():
            loc = model.where[("metric", m.id)]
            if m.band is not None and (len(m.band) != 2 or m.band[0] > m.band[1]):
                out.append(Issue("error", f"{loc}: metric {m.id!r}: band must be [lo, hi] with "
                                 f"lo <= hi, found {m.band}"))
            if m.direction == "band" and m.band is None:
                out.append(Issue("warning", f"{loc}: metric {m.id!r}: direction band without a "
                                 "band: alerts and colours will have no range"))
        return out


class SettingsKnown(Rule):
    """`{{name}}` placeholders in expressions name a setting of dimensions.yaml."""

    def check(self, model):
        out = []
        for f in model.facts.values():
            loc = model.where[("fact", f.name)]
            texts = [f.time, f.where or ""] + list(f.columns.values())
            for m in f.measures:
                texts += [m.expr or "", m.filter or "", m.start or "", m.end or ""]
            for t in texts:
                for name in re.findall(r"\{\{\s*(\w+)\s*\}\}", t):
                    if name not in model.settings:
                        out.append(Issue("error", f"{loc}: fact {f.name!r}: unknown setting "
                                         f"{name!r}{did_you_mean(name, model.settings)}"))
        return out


RULES: tuple[Rule, ...] = (FactTablesExist(), ExpressionsParse(), MetricReferences(), NoCycles(),
                           FactDimensions(), MaterializationsValid(), OrgDeclared(),
                           MetricPresentation(),
                           SettingsKnown())


def run_rules(model: SemanticModel) -> list[Issue]:
    issues: list[Issue] = []
    for rule in RULES:
        issues += rule.check(model)
    return issues
