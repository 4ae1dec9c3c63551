"""`cockpit export-cube`: the semantic model as a Cube data model (YAML), from the same YAML
themes the cockpit reads.

- one cube per dimension table (`sql_table`, every column, the key as primary key);
- one cube per fact: `sql` is the fact's rows (its columns, organisation attribution and
  `where`) rendered in a Postgres-like dialect; its measures (count / sum / count_distinct /
  min / max with `filters`), its dimensions (the fact's time `time`, the organisation, DRG and
  enum dimensions), `many_to_one` joins to the dimension cubes, a segment per filtered count,
  the ratio metrics whose two sides are measures of this fact as `type: number` measures,
  and one `rollup` pre-aggregation per materialization (time dimension and granularity,
  `partition_granularity: month`, `refresh_key: every`).

The files use only keys that both Cube 0.33 and 1.x accept (snake_case, `relationship:
many_to_one`, member references as `CUBE.member`; no `meta` on cubes). What Cube cannot
express (ratios across facts, derived, cumulative and transform metrics, open-interval
counts) is listed in a YAML comment at the end of each file.
"""
from __future__ import annotations

import re

import yaml
from sqlglot import exp

from warehouse.contract import TABLES

from . import sqlbuild as sb
from .model import Fact, Measure
from .rules import measure_refs

DIALECT = "postgres"
_TYPES = {"str": "string", "enum": "string", "int": "number", "float": "number",
          "money": "number", "bool": "boolean", "date": "time", "timestamp": "time"}
#: (dimension name, dimension table, its key column) a fact joins when it carries the dim
_DIM_JOINS = (("campus", "dim_campus", "campus_id"), ("department", "dim_department", "dept_id"),
              ("team", "dim_team", "team_id"), ("doctor", "dim_doctor", "doctor_id"),
              ("drg", "dim_drg", "drg_code"))
_PLACEHOLDER = "cube__placeholder"


def _sql(tree: exp.Expression) -> str:
    return tree.sql(dialect=DIALECT)


def _member_sql(text: str, settings: dict) -> str:
    """A row-level expression of the model as Cube SQL: row columns become `{CUBE}.col`."""
    tree = sb.parse_expr(text, settings)
    tree = tree.transform(lambda n: sb.col(n.name, _PLACEHOLDER)
                          if isinstance(n, exp.Column) and not n.table else n)
    return _sql(tree).replace(_PLACEHOLDER + ".", "{CUBE}.")


def _desc(*parts) -> str:
    return " ".join(str(p).strip() for p in parts if p)


def dimension_cube(name: str) -> dict:
    t = TABLES[name]
    dims = []
    if t.surrogate_key:
        dims.append({"name": t.surrogate_key, "sql": t.surrogate_key, "type": "number",
                     "description": "integer surrogate key"})
    for c in t.columns:
        d = {"name": c.name, "sql": c.name, "type": _TYPES[c.type]}
        if c.doc:
            d["description"] = c.doc
        if (c.name,) == tuple(t.primary_key):
            d["primary_key"] = True
        dims.append(d)
    return {"name": name, "sql_table": name, "title": t.zh, "description": t.doc,
            "dimensions": dims}


def _measure(m: Measure, settings: dict) -> dict | None:
    out: dict = {"name": m.name}
    if m.zh:
        out["title"] = m.zh
    value = _member_sql(m.expr, settings) if m.expr else None
    if m.agg == "count":
        out["type"] = "count"
        if value:
            out["sql"] = value
    elif m.agg in ("sum", "snapshot"):
        out["type"] = "sum"
        out["sql"] = value or "1"
        if m.agg == "snapshot":
            out["description"] = _desc(
                m.description, "Daily stock summed over the rows: the cockpit divides it by "
                "the days of the period" if m.over_days != "last" else
                "Daily stock summed over the rows: the cockpit takes the period's last day")
    elif m.agg == "count_distinct":
        out["type"] = "count_distinct"
        out["sql"] = value
    elif m.agg in ("min", "max"):
        out["type"] = m.agg
        out["sql"] = value
    else:  # open_count: an interval count at each bucket's end, not an aggregate of rows
        return None
    if m.filter:
        out["filters"] = [{"sql": _member_sql(m.filter, settings)}]
    if m.description and "description" not in out:
        out["description"] = m.description
    return out


def _ratio_sql(text: str, names: set[str]) -> str:
    tree = sb.parse_expr(text)
    refs = set(measure_refs(text))
    if not refs <= names:
        raise KeyError(sorted(refs - names))
    tree = tree.transform(lambda n: exp.column(_PLACEHOLDER + n.name)
                          if isinstance(n, exp.Column) and not n.table else n)
    return re.sub(_PLACEHOLDER + r"(\w+)", r"{\1}", _sql(tree))


def fact_cube(model, fact: Fact) -> tuple[dict, list[str]]:
    settings = model.settings
    skipped: list[str] = []
    rows = sb.filtered(fact, settings, [])
    table = TABLES.get(fact.table)
    key = list(table.primary_key) if table is not None else None
    if key is not None and any(j.table == "dim_calendar" for j in fact.joins):
        key.append("_day")  # one row per key and calendar day
    if key is None:  # no natural key (a calendar × rooms fan-out): number the rows
        rows = exp.select("*", exp.alias_(exp.Window(this=exp.RowNumber()), "_row_key")).from_(
            exp.alias_(exp.Subquery(this=rows), "k", table=True))
        key_sql = "{CUBE}._row_key"
    elif len(key) == 1:
        key_sql = "{CUBE}." + key[0]
    else:
        key_sql = " || '|' || ".join(f"CAST({{CUBE}}.{k} AS VARCHAR)" for k in key)
    sql = _sql(rows)
    carried = {"campus", "department", "discipline"}
    if fact.org.doctor:
        carried.add("doctor")
    if fact.org.team or fact.org.doctor:
        carried.add("team")
    if fact.drg:
        carried |= {"drg", "adrg", "mdc"}
    dims = [{"name": "row_key", "sql": key_sql, "type": "string", "primary_key": True,
             "public": False, "description": "unique per row of the fact"},
            {"name": "time", "sql": "{CUBE}._ts", "type": "time",
             "description": f"the date the fact counts by: {fact.time}"}]
    for d in ("campus", "department", "discipline", "team", "doctor", "mdc", "adrg", "drg"):
        if d in carried:
            dims.append({"name": d, "sql": "{CUBE}." + d, "type": "string"})
    for e in fact.enums:
        dims.append({"name": e, "sql": "{CUBE}." + e, "type": "string",
                     **({"title": model.enums[e].zh} if e in model.enums else {})})
    measures = []
    for m in fact.measures:
        out = _measure(m, settings)
        if out is None:
            skipped.append(f"measure {m.name}: open-interval count ({m.agg}), evaluated at "
                           "each bucket's end by the cockpit, not a Cube aggregate")
            continue
        measures.append(out)
    names = {m["name"] for m in measures}
    taken = names | {d["name"] for d in dims}
    for mid, metric in sorted(model.metrics.items()):
        if metric.kind != "ratio":
            continue
        refs = set(measure_refs(metric.numerator)) | set(measure_refs(metric.denominator))
        if not refs & names:
            continue
        if not refs <= names:
            skipped.append(f"metric {mid}: a ratio across facts "
                           f"({', '.join(sorted(refs - names))} not in fact {fact.name}); "
                           "Cube measures cannot span cubes")
            continue
        name = mid if mid not in taken else mid + "_ratio"
        measures.append({
            "name": name, "title": metric.zh, "type": "number",
            "sql": f"1.0 * ({_ratio_sql(metric.numerator, names)}) / "
                   f"NULLIF({_ratio_sql(metric.denominator, names)}, 0)",
            "description": _desc(metric.en + ":", metric.description)})
        taken.add(name)
    segments, seen = [], set()
    for m in fact.measures:
        if m.filter and m.agg in ("count", "sum") and m.filter not in seen:
            seen.add(m.filter)
            base = re.sub(r"_(count|sum|amount)$", "", m.name)
            name = base if base not in taken else base + "_rows"
            segments.append({"name": name, "sql": _member_sql(m.filter, settings),
                             "description": f"the rows {m.name} counts"})
            taken.add(name)
    joins = [{"name": table, "relationship": "many_to_one",
              "sql": "{CUBE}." + d + " = {" + table + "}." + key}
             for d, table, key in _DIM_JOINS if d in carried]
    pre_aggs = []
    for mat in fact.materializations:
        n, unit = mat.refresh_every.split()
        pre_aggs.append({
            "name": mat.name, "type": "rollup",
            "measures": ["CUBE." + x for x in mat.measures if x in names],
            "dimensions": ["CUBE." + d for d in mat.dimensions],
            "time_dimension": "CUBE.time", "granularity": mat.grain,
            "partition_granularity": "month",
            "refresh_key": {"every": f"{int(n)} {unit.lower()}"}})
    cube = {"name": fact.name, "sql": sql}
    if fact.zh:
        cube["title"] = fact.zh
    if fact.description:
        cube["description"] = fact.description
    cube["joins"] = joins
    cube["dimensions"] = dims
    cube["measures"] = measures
    if segments:
        cube["segments"] = segments
    if pre_aggs:
        cube["pre_aggregations"] = pre_aggs
    return cube, skipped


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper, data: str):
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str)


def _dump(doc: dict, notes: list[str], header: str) -> str:
    text = yaml.dump(doc, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)
    out = f"# {header}\n# generated by cockpit export-cube from themes/*.yaml: do not edit\n" + text
    if notes:
        out += "\n# not exported as Cube members:\n" + "".join(f"#   - {n}\n" for n in notes)
    return out


def export_cube(model) -> dict[str, str]:
    """{relative file name: YAML text}: `model/dimensions.yml` and one
    `model/<theme>.yml` per theme."""
    files: dict[str, str] = {}
    dim_tables = [t for t, tbl in TABLES.items() if tbl.kind == "dimension"]
    files["model/dimensions.yml"] = _dump(
        {"cubes": [dimension_cube(t) for t in dim_tables]}, [],
        "dimension tables (organisation, doctors, DRG groups, operating rooms)")
    for theme in model.themes.values():
        cubes, notes = [], []
        for fact in theme.facts:
            cube, skipped = fact_cube(model, fact)
            cubes.append(cube)
            notes += skipped
        for metric in theme.metrics:
            if metric.kind in ("derived", "cumulative", "transform"):
                notes.append(f"metric {metric.id}: {metric.kind} metric, computed by the "
                             "cockpit's query service over the measures above")
        if cubes:
            files[f"model/{theme.theme}.yml"] = _dump(
                {"cubes": cubes}, sorted(set(notes)), f"{theme.zh} / {theme.en}")
    return files
