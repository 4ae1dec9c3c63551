"""Quarantine round trips (list, export, fix, replay, re-validate) and reconciliation (对账)."""
from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

from warehouse.engine import open_warehouse
from warehouse.loader import load_delivery
from warehouse.quarantine import export_quarantine, list_quarantine, replay_file, revalidate
from warehouse.reconcile import reconcile

sys.path.insert(0, str(Path(__file__).parent))
from wh_delivery_fixtures import DIMS, charge, visit, write_csv, write_delivery  # noqa: E402


@pytest.fixture
def wh(tmp_path):
    w = open_warehouse(str(tmp_path / "wh.duckdb"))
    yield w
    w.close()


def test_export_fix_replay(wh, tmp_path):
    rows = [visit(1), visit(2, visit_type="outpt"), visit(3, is_appointment="sometimes")]
    load_delivery(wh, write_delivery(tmp_path / "d", {"fact_visit": rows}), progress=False)
    assert len(list_quarantine(wh)) == 2
    [path] = export_quarantine(wh, tmp_path / "fix")
    assert path.name == "fact_visit.quarantine.csv"
    with open(path, encoding="utf-8", newline="") as f:
        exported = list(csv.DictReader(f))
    assert [(r["visit_id"], r["_q_file"], r["_q_line"]) for r in exported] == [
        ("V2", "fact_visit.csv", "3"), ("V3", "fact_visit.csv", "4")]
    assert "'outpt' is not one of" in exported[0]["_q_reasons"]
    exported[0]["visit_type"] = "outpatient"  # fix one of the two
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(exported[0]))
        w.writeheader()
        w.writerows(exported)
    rep = replay_file(wh, path)
    assert rep.kind == "replay"
    assert (rep.tables["fact_visit"].inserted, rep.tables["fact_visit"].quarantined) == (1, 1)
    assert wh.scalar("select visit_type from fact_visit where visit_id = 'V2'") == "outpatient"
    status = dict(wh.query_rows("select value, status from _quarantine where load_id = 1"))
    assert status == {"outpt": "resolved", "sometimes": "superseded"}
    still = list_quarantine(wh)
    assert list(still["reason"]) == [
        "fact_visit.quarantine.csv:3: column is_appointment: 'sometimes' is not a boolean "
        "(true/false, 1/0, Y/N, 是/否)"]


def test_revalidate_after_missing_dimension_arrives(wh, tmp_path):
    rows = [visit(1), visit(2, dept_id="D03"), visit(3, dept_id="D03", visit_type="bad")]
    load_delivery(wh, write_delivery(tmp_path / "d", {"fact_visit": rows}), progress=False)
    assert wh.scalar("select count(*) from _quarantine where status = 'open'") == 3
    # nothing arrived yet: re-validating changes nothing but supersedes with fresh entries
    rep = revalidate(wh)
    assert rep.tables["fact_visit"].inserted == 0
    d2 = tmp_path / "d2"
    d2.mkdir()
    write_csv(d2 / "dim_department.csv", "dim_department",
              [dict(DIMS["dim_department"][0], dept_id="D03", dept_name="新科室")])
    load_delivery(wh, d2, progress=False)
    rep = revalidate(wh, table="fact_visit")
    t = rep.tables["fact_visit"]
    assert (t.inserted, t.quarantined) == (1, 1)
    assert wh.scalar("select count(*) from fact_visit") == 2
    open_ = list_quarantine(wh)
    assert list(open_["reason"]) == [
        "fact_visit.csv:4: column visit_type: 'bad' is not one of outpatient, emergency"]


def test_later_delivery_of_a_quarantined_key_resolves_it(wh, tmp_path):
    load_delivery(wh, write_delivery(tmp_path / "d1", {"fact_visit": [visit(1), visit(2, visit_type="?")]}),
                  progress=False)
    rep = load_delivery(wh, write_delivery(tmp_path / "d2", {"fact_visit": [visit(2)]}, dims=False),
                        progress=False)
    assert wh.query_rows("select status, resolved_load_id from _quarantine") == [("resolved", rep.load_id)]


def test_manifest_reconciliation_finds_planted_differences(wh, tmp_path):
    charges = [charge(i) for i in range(6)]  # days 2024-01-01 (i even) and 2024-01-02 (odd)
    charges[5]["category"] = "sweets"        # quarantined: the warehouse misses one row on 01-02
    d = write_delivery(tmp_path / "d", {"fact_charge": charges, "fact_visit": [visit(1)]})
    amounts = {}
    for c in charges:
        amounts[c["charge_date"]] = amounts.get(c["charge_date"], 0) + float(c["amount"])
    (d / "_manifest.csv").write_text(
        "table,date,rows,amount\n"
        f"fact_charge,2024-01-01,3,{amounts['2024-01-01']:.2f}\n"
        f"fact_charge,2024-01-02,3,{amounts['2024-01-02']:.2f}\n"
        "fact_visit,2024-01-02,1,\n"
        "fact_visit,2024-01-03,4,\n"
        "dim_campus,,2,\n", encoding="utf-8")
    rep = load_delivery(wh, d, progress=False)
    got = [(x.table, x.date, x.measure, x.expected, x.actual) for x in rep.reconciliation]
    assert got == [
        ("fact_charge", "2024-01-02", "rows", 3, 2),
        ("fact_charge", "2024-01-02", "amount", pytest.approx(amounts["2024-01-02"]),
         pytest.approx(amounts["2024-01-02"] - 15.5)),
        ("fact_visit", "2024-01-03", "rows", 4, 0),
    ]
    assert rep.reconciliation[0].message == \
        "fact_charge 2024-01-02: rows: manifest says 3, warehouse holds 2"
    # the same check without loading (cockpit load --check)
    assert [d.message for d in reconcile(wh, d)] == [d.message for d in rep.reconciliation]


def test_file_reconciliation_without_manifest(wh, tmp_path):
    rows = [visit(i) for i in range(4)] + [visit(7, dept_id="NOPE")]  # V7 is on 2024-01-02
    d = write_delivery(tmp_path / "d", {"fact_visit": rows})
    rep = load_delivery(wh, d, progress=False)
    assert [x.message for x in rep.reconciliation] == [
        "fact_visit 2024-01-02: rows: file has 2, warehouse holds 1 of them"]
    # after loading a fix, --check reconciles
    write_csv(d / "fact_visit.csv", "fact_visit", [visit(i) for i in range(4)] + [visit(7)])
    assert [x.message for x in reconcile(wh, d)] == [
        "fact_visit 2024-01-02: rows: file has 2, warehouse holds 1 of them"]
    load_delivery(wh, d, progress=False)
    assert reconcile(wh, d) == []
