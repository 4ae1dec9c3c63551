"""Lineage: metric → metrics/measures → fact → source columns, and the materializations
(DuckDB table and StarRocks MV names) that serve it.

>>> from metrics.registry import load_model
>>> lineage(load_model(), "alos")["facts"][0]["table"]
'fact_inpatient'
"""
from __future__ import annotations

import re

import sqlglot
from sqlglot import exp

from .plan import measures_of, mv_table
from .rules import measure_refs


def _columns(text: str | None) -> set[str]:
    if not text:
        return set()
    tree = sqlglot.parse_one(re.sub(r"\{\{\s*\w+\s*\}\}", "0", text), read="duckdb")
    return {(f"{c.table}." if c.table else "") + c.name for c in tree.find_all(exp.Column)}


def lineage(model, metric_id: str) -> dict:
    """A JSON-ready tree of where a metric's numbers come from."""
    m = model.metrics[metric_id]
    refs = []
    for text in (m.numerator, m.denominator, m.expr):
        if text:
            refs += measure_refs(text)
    if m.measure:
        refs.append(m.measure)
    if m.of:
        refs.append(m.of)
    facts: dict[str, dict] = {}
    for name in sorted(measures_of(model, metric_id)):
        fact, measure = model.measures[name]
        f = facts.setdefault(fact.name, {
            "fact": fact.name, "table": fact.table, "time": fact.time,
            "joins": [j.table for j in fact.joins], "measures": [], "materializations": [],
            "source_columns": sorted(_columns(fact.time) | _columns(fact.where)
                                     | _columns(fact.org.department))})
        cols = set()
        for text in (measure.expr, measure.filter):
            for c in _columns(text):
                cols |= _columns(fact.columns[c]) if c in fact.columns else {c}
        f["measures"].append({"measure": name, "agg": measure.agg,
                              "expr": measure.expr, "filter": measure.filter,
                              "source_columns": sorted(cols)})
        for mat in fact.materializations:
            if name in mat.measures and mv_table(fact, mat) not in [
                    x["duckdb"] for x in f["materializations"]]:
                f["materializations"].append({"duckdb": mv_table(fact, mat),
                                              "starrocks": mv_table(fact, mat),
                                              "grain": mat.grain,
                                              "dimensions": mat.dimensions})
    return {"metric": metric_id, "zh": m.zh, "en": m.en, "kind": m.kind,
            "depends_on": sorted(set(refs)), "facts": list(facts.values())}


def render_text(tree: dict) -> str:
    lines = [f"{tree['metric']} · {tree['zh']} ({tree['kind']}) ← {', '.join(tree['depends_on'])}"]
    for f in tree["facts"]:
        joins = f" ⋈ {', '.join(f['joins'])}" if f["joins"] else ""
        lines.append(f"  fact {f['fact']}: {f['table']}{joins}, dated by {f['time']}")
        for ms in f["measures"]:
            lines.append(f"    measure {ms['measure']} = {ms['agg']}({ms['expr'] or '*'})"
                         + (f" where {ms['filter']}" if ms["filter"] else "")
                         + f"  [{', '.join(ms['source_columns'])}]")
        for mv in f["materializations"]:
            lines.append(f"    served by {mv['duckdb']} ({mv['grain']}: "
                         f"{', '.join(mv['dimensions'])})")
    return "\n".join(lines)
