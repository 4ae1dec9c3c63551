"""`cockpit compile --dialect starrocks`: async MVs and metric queries StarRocks can read and
rewrite (see metrics/compile.py for the documentation each construct was checked against).

- golden files (tests/snapshots/starrocks_golden/): representative MVs and metric queries,
  reviewed against the StarRocks documentation; a mismatch shows a unified diff, and
  `UPDATE_SNAPSHOTS=1` rewrites them (review the diff before committing);
- the shape of every generated statement: the CREATE MATERIALIZED VIEW clauses of the
  StarRocks grammar (StarRocks.g4 `createMaterializedViewStatement`), only rewrite-friendly
  aggregates, no DuckDB-only constructs, partitioning exactly where the base table allows;
- the flattened SQL means what the cockpit means: rendered for DuckDB, every flat MV body and
  metric query returns the same rows as the DuckDB materialization build and base query, on
  the tiny fixture hospital.
"""
from __future__ import annotations

import datetime as dt
import difflib
import os
import re
from pathlib import Path

import pandas as pd
import pytest

from metrics.dimensions import fact_dimensions
from sqlglot import exp

from metrics.compile import (compile_all, flat_fact, flat_unit_sql, materialization_ddl,
                             metric_sql, mv_select)
from metrics.dialects import render
from metrics.fetch import unit_sql
from metrics.materialize import build_sql
from metrics.plan import QuerySpec, mv_table, units_for
from metrics.registry import load_model
from warehouse.contract import TABLES

GOLDEN = Path(__file__).resolve().parents[1] / "snapshots" / "starrocks_golden"
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "tiny_hospital"

#: (golden file, what it shows)
MV_CASES = {
    "admission__daily_org": "day grain, partitioned by month on _part_date, filtered count",
    "visit__monthly_dept": "month grain, partitioned, enum dimensions",
    "clinic_session__monthly_doctors_dept": "distinct count as bitmap_union(to_bitmap(doctor_sk))",
    "drg_case__daily_groups_drg": "distinct DRG groups via dim_drg.drg_sk; unpartitioned "
                                  "(counted by discharge date, partitioned by settle date)",
    "bed_wait__daily_org": "unpartitioned: time (admitted_ts) is not the partition date",
    "discharge__daily_org": "window-function columns: rows kept as one subquery",
}
METRIC_CASES = {
    "admissions": "flat SPJG query, partition date",
    "emergency_admission_share": "ratio: both components in one flat query",
    "clinic_doctors": "count(distinct sk): rewritten to the bitmap MVs",
    "alos": "window fact: aggregate over the MV body (text-based rewrite)",
    "waiting_list": "last-day snapshot: evaluated on the base rows",
}


@pytest.fixture(scope="module")
def real_model():
    return load_model()


def _mat(model, name):
    fact_name, mat_name = name.split("__")
    fact = model.facts[fact_name]
    return fact, next(m for m in fact.materializations if m.name == mat_name)


def assert_golden(text: str, name: str) -> None:
    path = GOLDEN / f"{name}.sql"
    text = text.rstrip("\n") + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS", "") not in ("", "0", "false"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"no golden file {path}; run with UPDATE_SNAPSHOTS=1 to create it "
                    "(and review it against the StarRocks documentation)")
    expected = path.read_text(encoding="utf-8")
    if expected != text:
        diff = "".join(difflib.unified_diff(
            expected.splitlines(keepends=True), text.splitlines(keepends=True),
            fromfile=f"{path.relative_to(GOLDEN.parents[1])} (golden)",
            tofile=f"{name} (compiled now)"))
        pytest.fail("StarRocks output differs from its golden file (UPDATE_SNAPSHOTS=1 "
                    f"rewrites it; review the diff):\n{diff}", pytrace=False)


@pytest.mark.parametrize("name", sorted(MV_CASES))
def test_golden_materialized_view(real_model, name):
    assert name in {f"{f.name}__{m.name}" for f in real_model.facts.values()
                    for m in f.materializations}, f"{name}: no such materialization"
    assert_golden(materialization_ddl(real_model, *_mat(real_model, name), "starrocks"),
                  "mv_" + name)


@pytest.mark.parametrize("metric", sorted(METRIC_CASES))
def test_golden_metric_query(real_model, metric):
    assert_golden(metric_sql(real_model, metric, "starrocks"), "metric_" + metric)


# -- the shape of every statement -----------------------------------------------------------
HEADER = re.compile(
    r"^CREATE MATERIALIZED VIEW IF NOT EXISTS (?P<name>[A-Za-z][A-Za-z0-9_]{0,63})\n"
    r"COMMENT \"[^\"\n]*\"\n"
    r"(?P<partition>PARTITION BY date_trunc\('month', _bucket\)\n)?"
    r"DISTRIBUTED BY HASH\((?P<key>\w+)\)\n"
    r"REFRESH ASYNC EVERY \(INTERVAL (?P<n>\d+) (?P<unit>DAY|HOUR|MINUTE|SECOND)\)\n"
    r"PROPERTIES \(\n(?P<props>(  \"[a-z_.]+\" = \"[^\"]*\",?\n)+)\)\nAS\n", re.M)
#: aggregate functions an MV body may use (rewrite-friendly per "Query rewrite with
#: materialized views": sum, count, min, max, bitmap_union; count(distinct) only per grain)
MV_AGGS = {exp.Sum, exp.Count, exp.Min, exp.Max}


def _statements(files, prefix):
    return {n: t for n, t in files.items() if n.startswith(prefix)}


@pytest.fixture(scope="module")
def starrocks_files(real_model):
    return compile_all("starrocks", real_model)


def test_every_mv_header_follows_the_starrocks_grammar(real_model, starrocks_files):
    mvs = _statements(starrocks_files, "materializations/")
    assert len(mvs) == sum(len(f.materializations) for f in real_model.facts.values())
    for name, text in mvs.items():
        assert text.startswith("CREATE MATERIALIZED VIEW IF NOT EXISTS "), name
        body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
        m = HEADER.search(body)
        assert m, f"{name}: header does not match CREATE MATERIALIZED VIEW … AS:\n{body[:600]}"
        assert f"materializations/{m['name']}.sql" == name
        select = body[m.end():].rstrip().rstrip(";")
        assert m["key"] in _output_names(select), f"{name}: hash key is not an MV column"


def _output_names(select_sql: str) -> set[str]:
    import sqlglot

    tree = sqlglot.parse_one(select_sql, read="starrocks")
    return {e.alias_or_name for e in tree.expressions}


def test_partitioned_exactly_where_the_base_table_allows(real_model, starrocks_files):
    partitioned = []
    for fact in real_model.facts.values():
        flat = flat_fact(fact, real_model.settings)
        for mat in fact.materializations:
            text = starrocks_files[f"materializations/{mv_table(fact, mat)}.sql"]
            if flat.partition_time:
                partitioned.append(fact.name)
                assert "PARTITION BY date_trunc('month', _bucket)" in text
                assert "f._part_date" in text  # the base table's partition column
            else:
                assert "PARTITION BY" not in text.split("\nAS\n")[0]
                assert "-- unpartitioned: " in text, f"{fact.name}: no reason given"
    # the facts counted by their own partition date are partitioned
    assert {"admission", "visit", "charge", "clinic_session", "ward_census",
            "online_consult"} <= set(partitioned)
    assert not {"discharge", "bed_wait", "drg_case", "planned_discharge"} & set(partitioned)


def test_mv_bodies_use_only_rewrite_friendly_aggregates(real_model):
    for fact in real_model.facts.values():
        for mat in fact.materializations:
            select, flat, _ = mv_select(real_model, fact, mat)
            own = {m.name: m for m in fact.measures}
            for e in select.expressions:
                agg = e.this if isinstance(e, exp.Alias) else e
                if e.alias_or_name not in mat.measures:
                    assert not isinstance(agg, exp.AggFunc), e.sql()
                    continue
                m = own[e.alias_or_name]
                if isinstance(agg, exp.Anonymous):
                    assert agg.name.upper() == "BITMAP_UNION", agg.sql()
                    (inner,) = agg.expressions
                    assert inner.name.upper() == "TO_BITMAP"
                    assert m.agg == "count_distinct"
                    sk = [c.name for c in inner.find_all(exp.Column)
                          if c.name.endswith("_sk")]
                    assert sk, f"{mv_table(fact, mat)}: bitmap of a non-integer key"
                    continue
                assert type(agg) in MV_AGGS, f"{mv_table(fact, mat)}: {agg.sql()}"
                if isinstance(agg, exp.Count) and isinstance(agg.this, exp.Distinct):
                    assert m.agg == "count_distinct"  # only where no integer key exists


def test_distinct_counts_use_bitmaps_of_integer_surrogates(starrocks_files):
    text = starrocks_files["materializations/mv_clinic_session__daily_doctors_all.sql"]
    assert "BITMAP_UNION(TO_BITMAP(CASE WHEN f.session_status = 'held' THEN _doc.doctor_sk END))" \
        in text
    text = starrocks_files["materializations/mv_drg_case__monthly_groups_mdc.sql"]
    assert "BITMAP_UNION(TO_BITMAP(" in text and "_drg.drg_sk" in text
    for dim in ("dim_doctor", "dim_drg"):
        assert TABLES[dim].surrogate_key  # the warehouse gives the ids integer surrogates
    q = starrocks_files["metrics/clinic_doctors.sql"]
    assert "COUNT(DISTINCT CASE WHEN f.session_status = 'held' THEN _doc.doctor_sk END)" in q


def test_no_duckdb_only_constructs(starrocks_files):
    for name, text in starrocks_files.items():
        upper = " ".join(text.upper().split())
        assert "FILTER (WHERE" not in upper, name
        assert "GROUP BY ALL" not in upper, name
        assert "QUALIFY" not in upper, name
        assert "::" not in text, name  # DuckDB casts
        assert " TIMESTAMP)" not in upper, name  # StarRocks's type is DATETIME
        assert "INTERVAL 1 DAY" not in upper or name == "warehouse.sql", name


def test_metric_queries_against_base_tables(real_model, starrocks_files):
    mv_names = {mv_table(f, m) for f in real_model.facts.values() for m in f.materializations}
    for mid in real_model.metrics:
        text = "\n".join(line for line in starrocks_files[f"metrics/{mid}.sql"].splitlines()
                         if not line.startswith("--"))
        assert not any(re.search(rf"\b{n}\b", text) for n in mv_names), \
            f"{mid}: a metric query names an MV (StarRocks's rewrite chooses it)"


def test_duckdb_compile_unchanged(real_model):
    files = compile_all("duckdb", real_model)
    fact, mat = _mat(real_model, "admission__daily_org")
    assert files["materializations/mv_admission__daily_org.sql"].startswith(
        "CREATE TABLE mv_admission__daily_org AS")
    assert render(build_sql(real_model, fact, mat), "duckdb", pretty=True) in \
        files["materializations/mv_admission__daily_org.sql"]


# -- flattening keeps the meaning: both run on DuckDB -----------------------------------
@pytest.fixture(scope="module")
def hospital_wh(tmp_path_factory):
    from warehouse.engine import open_warehouse
    from warehouse.loader import load_delivery

    wh = open_warehouse(str(tmp_path_factory.mktemp("sr") / "tiny.duckdb"))
    report = load_delivery(wh, FIXTURE, progress=False)
    assert report.quarantined == 0
    from metrics.materialize import ensure_calendar_for_data

    ensure_calendar_for_data(wh)
    yield wh
    wh.close()


def _frame(wh, tree, keys) -> pd.DataFrame:
    df = wh.query_df(render(tree, "duckdb"))
    if "_bucket" in df:
        df["_bucket"] = pd.to_datetime(df["_bucket"])
    for c in df.columns:
        if c not in keys:
            df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
        else:
            df[c] = df[c].astype("object").where(df[c].notna(), None)
    return df.sort_values(keys, na_position="first").reset_index(drop=True)[sorted(df.columns)]


def _same(a: pd.DataFrame, b: pd.DataFrame, what: str) -> None:
    pd.testing.assert_frame_equal(a, b, check_dtype=False, check_exact=False, rtol=1e-9,
                                  obj=what)


def test_flat_mv_bodies_equal_the_duckdb_builds(real_model, hospital_wh):
    checked = 0
    for fact in real_model.facts.values():
        for mat in fact.materializations:
            flat_sql, _, _ = mv_select(real_model, fact, mat, bitmaps=False)
            keys = ["_bucket"] + list(mat.dimensions)
            got = _frame(hospital_wh, flat_sql, keys)
            want = _frame(hospital_wh, build_sql(real_model, fact, mat), keys)
            _same(got, want, mv_table(fact, mat))
            checked += len(want)
    assert checked > 0


@pytest.mark.parametrize("grain,by", [("month", ("department",)), ("day", ("campus",)),
                                      ("year", ())])
def test_flat_metric_queries_equal_the_base_queries(real_model, hospital_wh, grain, by):
    start, end = dt.date(2025, 1, 1), dt.date(2026, 12, 31)
    rows = 0
    for mid in sorted(real_model.metrics):
        spec = QuerySpec(metrics=(mid,), by=by, grain=grain, start=start, end=end)
        from metrics.plan import measures_of

        for unit in units_for(real_model, measures_of(real_model, mid)):
            if unit.mode != "normal" or not set(by) <= fact_dimensions(unit.fact):
                continue  # e.g. operating rooms carry campus, not department
            flat, _ = flat_unit_sql(real_model, unit, spec, start, end)
            keys = ["_bucket"] + list(by)
            got = _frame(hospital_wh, flat, keys)
            want = _frame(hospital_wh, unit_sql(real_model, unit, spec, start, end), keys)
            _same(got, want, f"{mid} ({unit.fact.name})")
            rows += len(want)
    assert rows > 0
