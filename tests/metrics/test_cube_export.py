"""`cockpit export-cube`: the Cube data model exported from the real themes compiles with
Cube's own schema compiler (@cubejs-backend/schema-compiler, 0.33 line: tests/cube/), and
mirrors the model (a cube per fact, a rollup per materialization, no cube-level `meta`)."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from metrics.cube import export_cube
from metrics.registry import load_model

CUBE_DIR = Path(__file__).resolve().parents[1] / "cube"
INSTALL = "(cd tests/cube && npm ci --ignore-scripts || npm install --ignore-scripts)"


@pytest.fixture(scope="module")
def model():
    return load_model()


@pytest.fixture(scope="module")
def exported(model, tmp_path_factory):
    out = tmp_path_factory.mktemp("cube")
    files = export_cube(model)
    for name, text in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return out, files


def _cubes(files) -> dict[str, dict]:
    out = {}
    for text in files.values():
        for cube in yaml.safe_load(text)["cubes"]:
            assert cube["name"] not in out, f"cube {cube['name']} exported twice"
            out[cube["name"]] = cube
    return out


def test_export_compiles_with_cube_schema_compiler(exported, model):
    out, _ = exported
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: the Cube export check needs Node.js 18+")
    if not (CUBE_DIR / "node_modules" / "@cubejs-backend" / "schema-compiler").exists():
        pytest.fail("Cube's schema compiler is not installed: run\n  " + INSTALL +
                    "\nfrom the repository root (CI does this in .ci/run)")
    proc = subprocess.run([node, str(CUBE_DIR / "compile.js"), str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"Cube's compiler rejected the export:\n{proc.stderr}{proc.stdout}"
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["cubes"] == len(model.facts) + 6  # + the six dimension tables
    assert summary["pre_aggregations"] == sum(len(f.materializations)
                                              for f in model.facts.values())


def test_compile_script_reports_errors(tmp_path):
    node = shutil.which("node")
    if node is None or not (CUBE_DIR / "node_modules").exists():
        pytest.fail("install Cube's schema compiler first: " + INSTALL)
    bad = tmp_path / "model"
    bad.mkdir()
    (bad / "x.yml").write_text("cubes:\n  - name: x\n    sql: SELECT 1\n    measures:\n"
                               "      - name: n\n        type: not_a_type\n", encoding="utf-8")
    proc = subprocess.run([node, str(CUBE_DIR / "compile.js"), str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "not_a_type" in proc.stderr or "type" in proc.stderr


def test_one_cube_per_fact_and_dimension_table(exported, model):
    _, files = exported
    cubes = _cubes(files)
    assert set(model.facts) <= set(cubes)
    assert {"dim_department", "dim_doctor", "dim_drg", "dim_team", "dim_campus"} <= set(cubes)
    for name, cube in cubes.items():
        assert "meta" not in cube, f"{name}: no cube-level meta (Cube 0.33 and 1.x)"
        keys = [d for d in cube["dimensions"] if d.get("primary_key")]
        assert len(keys) == 1, f"{name}: one primary key"


def test_measures_joins_segments(exported, model):
    _, files = exported
    cubes = _cubes(files)
    adm = cubes["admission"]
    measures = {m["name"]: m for m in adm["measures"]}
    assert measures["admission_count"]["type"] == "count"
    assert measures["emergency_admission_count"]["filters"] == [
        {"sql": "{CUBE}.admission_source = 'emergency'"}]
    share = measures["emergency_admission_share"]
    assert share["type"] == "number"
    assert "{emergency_admission_count}" in share["sql"] and "NULLIF({admission_count}, 0)" \
        in share["sql"]
    assert {"name": "dim_department", "relationship": "many_to_one",
            "sql": "{CUBE}.department = {dim_department}.dept_id"} in adm["joins"]
    assert any(s["sql"] == "{CUBE}.admission_source = 'emergency'" for s in adm["segments"])
    clinic = {m["name"]: m for m in cubes["clinic_session"]["measures"]}
    assert clinic["clinic_doctor_count"]["type"] == "count_distinct"
    # a ratio across facts is not a single cube's measure, and says so
    census = {m["name"] for m in cubes["ward_census"]["measures"]}
    assert "bed_turnover" not in census
    assert "metric bed_turnover: a ratio across facts" in files["model/admission.yml"]


def test_pre_aggregations_mirror_materializations(exported, model):
    _, files = exported
    cubes = _cubes(files)
    for fact in model.facts.values():
        pre = {p["name"]: p for p in cubes[fact.name].get("pre_aggregations", [])}
        assert set(pre) == {m.name for m in fact.materializations}, fact.name
        members = ({d["name"] for d in cubes[fact.name]["dimensions"]},
                   {m["name"] for m in cubes[fact.name]["measures"]})
        for mat in fact.materializations:
            p = pre[mat.name]
            assert p["type"] == "rollup"
            assert p["time_dimension"] == "CUBE.time" and p["granularity"] == mat.grain
            assert p["partition_granularity"] == "month"
            assert p["refresh_key"] == {"every": mat.refresh_every.lower()}
            assert [d.removeprefix("CUBE.") for d in p["dimensions"]] == mat.dimensions
            assert {d.removeprefix("CUBE.") for d in p["dimensions"]} <= members[0]
            assert [x.removeprefix("CUBE.") for x in p["measures"]] == mat.measures
            assert set(mat.measures) <= members[1]


def test_cube_sql_has_no_jinja_or_template_syntax(exported):
    """Cube turns every `sql` into a JS template and a `{{`/`{%` file into Jinja."""
    _, files = exported
    for name, text in files.items():
        assert "{{" not in text and "{%" not in text, name

    def sqls(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "sql" and isinstance(v, str):
                    yield v
                else:
                    yield from sqls(v)
        elif isinstance(node, list):
            for v in node:
                yield from sqls(v)

    for cube in _cubes(files).values():
        for sql in sqls(cube):
            assert "`" not in sql and "${" not in sql, (cube["name"], sql)


def test_fact_sql_runs(exported, model, tmp_path_factory):
    """Each fact cube's `sql` is a valid query over the warehouse tables (run on DuckDB,
    which reads this Postgres-like SQL)."""
    from metrics.materialize import ensure_calendar_for_data
    from warehouse.engine import open_warehouse
    from warehouse.loader import load_delivery

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "tiny_hospital"
    wh = open_warehouse(str(tmp_path_factory.mktemp("cubewh") / "tiny.duckdb"))
    try:
        load_delivery(wh, fixture, progress=False)
        ensure_calendar_for_data(wh)
        cubes = _cubes(exported[1])
        for fact in model.facts:
            n = wh.scalar(f"SELECT count(*) FROM ({cubes[fact]['sql']}) AS t")
            assert n is not None
    finally:
        wh.close()
