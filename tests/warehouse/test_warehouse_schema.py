"""The warehouse's table declarations and their DDL (DuckDB and StarRocks), and the CLI."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from warehouse import schema
from warehouse.contract import LOAD_ORDER, PART_DATE, TABLES, physical_columns
from warehouse.engine import open_warehouse

sys.path.insert(0, str(Path(__file__).parent))
from wh_delivery_fixtures import visit, write_delivery  # noqa: E402


def test_every_contract_table_is_declared_with_its_physical_columns():
    for name in LOAD_ORDER:
        assert [c.name for c in schema.METADATA.tables[name].columns] == list(physical_columns(TABLES[name]))
    for t in schema.INTERNAL_TABLES:
        assert t in schema.METADATA.tables
    assert [c.name for c in schema.METADATA.tables["_changes_fact_visit"].columns] == [
        "load_id", "op", "visit_id", "old_visit_ts", "new_visit_ts", "old_slot_start_ts",
        "new_slot_start_ts", "old_checkin_ts", "new_checkin_ts", "old_seen_ts", "new_seen_ts",
        "old__part_date", "new__part_date", "old_patient_id", "new_patient_id", "old_dept_id",
        "new_dept_id"]
    wh = open_warehouse(":memory:")
    schema.create_all(wh)
    assert [r[0] for r in wh.query_rows("describe _change_log")] == [
        "load_id", "table_name", "row_key", "op", "column_name", "old_value", "new_value"]


def test_create_all_is_idempotent_and_types_follow_the_contract():
    wh = open_warehouse(":memory:")
    schema.create_all(wh)
    schema.create_all(wh)
    types = dict(wh.query_rows("select column_name, data_type from information_schema.columns "
                               "where table_name = 'fact_inpatient'"))
    assert types["admit_ts"] == "TIMESTAMP" and types["total_cost"] == "DECIMAL(14,2)"
    assert types["readmission_planned"] == "BOOLEAN" and types[PART_DATE] == "DATE"
    types = dict(wh.query_rows("select column_name, data_type from information_schema.columns "
                               "where table_name = 'dim_campus'"))
    assert types["latitude"] == "DOUBLE" and types["campus_sk"] == "BIGINT"
    # no key constraints on DuckDB: the loader enforces keys
    assert wh.scalar("select count(*) from duckdb_constraints() where constraint_type in "
                     "('PRIMARY KEY', 'UNIQUE')") == 0


def _parsed(dialect: str) -> dict[str, exp.Create]:
    out = {}
    for stmt in schema.ddl(dialect):
        e = sqlglot.parse_one(stmt, read=dialect if dialect == "starrocks" else "duckdb")
        out[e.this.this.name] = e
    return out


def test_starrocks_ddl_facts_and_dimensions():
    ddl = {s.split("(")[0].split()[-1]: s for s in schema.ddl("starrocks")}
    visit_ddl = ddl["fact_visit"]
    assert "PRIMARY KEY (visit_id, _part_date)" in visit_ddl
    assert "PARTITION BY date_trunc('month', _part_date)" in visit_ddl
    assert "DISTRIBUTED BY HASH(visit_id)" in visit_ddl
    # StarRocks wants the key columns first, in key order, NOT NULL
    cols = [line.split()[0] for line in visit_ddl.splitlines()[1:4]]
    assert cols == ["visit_id", "_part_date", "patient_id"]
    assert "PRIMARY KEY (census_date, dept_id, _part_date)" in ddl["fact_ward_census"]
    dept = ddl["dim_department"]
    assert "PRIMARY KEY (dept_sk)" in dept and "DISTRIBUTED BY HASH(dept_sk)" in dept
    assert dept.splitlines()[1].split()[:2] == ["dept_sk", "BIGINT"]
    assert "DUPLICATE KEY (load_id)" in ddl["_changes_fact_visit"]
    # every statement parses as StarRocks SQL, and key columns are never FLOAT/DOUBLE
    parsed = _parsed("starrocks")
    assert set(parsed) == set(schema.METADATA.tables) | {"_change_log"}
    assert schema.ddl("starrocks")[-1].startswith("CREATE VIEW IF NOT EXISTS _change_log AS")


def test_duckdb_ddl_parses():
    assert set(_parsed("duckdb")) == set(schema.METADATA.tables) | {"_change_log"}


def test_unknown_dialect():
    from warehouse.errors import EngineError

    with pytest.raises(EngineError, match="unknown dialect"):
        schema.ddl("oracle")


# -- CLI -----------------------------------------------------------------------------------
def _run(args):
    import typer
    from typer.testing import CliRunner

    from cockpit.commands import load as load_cmd

    app = typer.Typer()
    load_cmd.register(app)

    @app.callback()
    def _cb():  # keep sub-commands named
        pass

    return CliRunner().invoke(app, args)


def test_cli_load_check_and_quarantine(tmp_path):
    db = str(tmp_path / "wh.duckdb")
    d = write_delivery(tmp_path / "d", {"fact_visit": [visit(1), visit(2, visit_type="outpt")]})
    r = _run(["load", str(d), "--db", db])
    assert r.exit_code == 0, r.output
    assert "fact_visit" in r.output and "quarantined" in r.output
    r = _run(["load", str(d), "--db", db, "--json"])
    rep = json.loads(r.output)
    assert rep["tables"]["fact_visit"]["unchanged"] == 1
    assert rep["tables"]["fact_visit"]["quarantined"] == 1
    r = _run(["load", "--check", str(d), "--db", db])
    assert r.exit_code == 1 and "file has 1, warehouse holds 0 of them" in r.output
    r = _run(["quarantine", "list", "--db", db])
    assert r.exit_code == 0 and "outpt" in r.output
    r = _run(["quarantine", "export", "--out", str(tmp_path / "fix"), "--db", db])
    assert r.exit_code == 0 and "fact_visit.quarantine.csv" in r.output


def test_cli_exit_1_on_unreadable_or_nothing_loaded(tmp_path):
    import subprocess

    d = tmp_path / "d"
    d.mkdir()
    (d / "fact_visit.csv").write_text("visit_id\nV1\n", encoding="utf-8")
    p = subprocess.run([sys.executable, "-c", "from cockpit.cli import main; main()", "load", str(d),
                        "--db", str(tmp_path / "wh.duckdb")], capture_output=True, text=True,
                       cwd=Path(__file__).resolve().parents[2])
    assert p.returncode == 1
    assert "fact_visit.csv:1: header lacks required column(s) patient_id" in p.stderr


def test_cli_tables_are_not_cut_in_a_log(tmp_path, capsys, monkeypatch):
    """Not on a terminal (a log, cron, CI) the load report keeps whole table names and
    numbers (rich alone would assume 80 columns and print `fact…`, `1,23…`)."""
    from cockpit.commands import console
    from cockpit.commands.load import print_report
    from warehouse.loader import LoadReport, TableReport

    monkeypatch.delenv("COLUMNS", raising=False)
    assert console().width == 160
    rep = LoadReport(1, str(tmp_path), "delivery")
    for name in ("dim_department", "fact_admission_booking", "fact_charge"):
        rep.tables[name] = TableReport(name, read=12_345_678, inserted=12_345_678,
                                       seconds=123.4)
    print_report(rep)
    out = capsys.readouterr().out
    assert "fact_admission_booking" in out and "12,345,678" in out and "…" not in out
    monkeypatch.setenv("COLUMNS", "100")
    assert console().width == 100  # an operator's choice wins
