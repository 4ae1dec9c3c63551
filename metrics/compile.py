"""`cockpit compile --dialect D`: every artefact the model compiles to, as files.

- `warehouse.sql`: the warehouse tables (from the contract declaration);
- `materializations/<table>.sql`: DuckDB `CREATE TABLE … AS` / StarRocks
  `CREATE MATERIALIZED VIEW … REFRESH ASYNC`;
- `metrics/<id>.sql`: each metric's query against the base tables (month × department over
  a sample range), so StarRocks's rewrite can pick the MV.
"""
from __future__ import annotations

import datetime as dt

from sqlglot import exp

from warehouse.schema import ddl

from .dialects import render
from .fetch import unit_sql
from .materialize import build_sql
from .plan import QuerySpec, measures_of, mv_table, units_for
from .registry import load_model

SAMPLE = dict(start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 31))


def materialization_ddl(model, fact, mat, dialect: str) -> str:
    select = build_sql(model, fact, mat)
    table = mv_table(fact, mat)
    if dialect == "duckdb":
        return render(exp.Create(this=exp.to_table(table), kind="TABLE", expression=select),
                      "duckdb", pretty=True) + ";"
    key = mat.dimensions[0] if mat.dimensions else "_bucket"
    every = mat.refresh_every.split()
    header = ("CREATE MATERIALIZED VIEW IF NOT EXISTS " + table + "\n"
              f"COMMENT \"{fact.zh or fact.name}: {mat.name} ({mat.grain})\"\n"
              f"DISTRIBUTED BY HASH({key})\n"
              f"REFRESH ASYNC EVERY (INTERVAL {every[0]} {every[1]})\n"
              "PROPERTIES (\"replication_num\" = \"1\")\nAS\n")
    return header + render(select, "starrocks", pretty=True) + ";"


def metric_sql(model, metric_id: str, dialect: str) -> str:
    spec = QuerySpec(metrics=(metric_id,), by=("department",), grain="month", **SAMPLE)
    parts = []
    for unit in units_for(model, measures_of(model, metric_id)):
        parts.append(f"-- fact {unit.fact.name}: " + ", ".join(m.name for m in unit.measures))
        parts.append(render(unit_sql(model, unit, spec, SAMPLE["start"], SAMPLE["end"]),
                            dialect, pretty=True) + ";")
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
