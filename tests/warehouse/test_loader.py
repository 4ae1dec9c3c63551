"""The warehouse loader: upserts, deletes, idempotency, change log, encodings, Parquet,
one transaction (a failed or killed load leaves the warehouse as it was)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from warehouse.contract import TABLES
from warehouse.engine import open_warehouse
from warehouse.loader import NothingLoaded, changed_partitions, last_load_id, load_delivery, load_file
from warehouse.readers import UnreadableFile

sys.path.insert(0, str(Path(__file__).parent))
from wh_delivery_fixtures import DIMS, charge, visit, write_csv, write_delivery  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def wh(tmp_path):
    w = open_warehouse(str(tmp_path / "wh.duckdb"))
    yield w
    w.close()


def snapshot(wh, tables=("dim_department", "fact_visit", "fact_charge", "_quarantine",
                         "_change_log", "_loads")):
    out = {}
    for t in tables:
        out[t] = (sorted(map(str, wh.query_rows(f"select * from {t}")))
                  if wh.table_exists(t) else None)
    return out


def test_first_load_counts_and_surrogate_keys(wh, tmp_path):
    d = write_delivery(tmp_path / "d1", {"fact_visit": [visit(i) for i in range(6)],
                                        "fact_charge": [charge(i) for i in range(4)]})
    rep = load_delivery(wh, d, progress=False)
    assert rep.load_id == 1 and rep.kind == "delivery"
    assert rep.tables["fact_visit"].read == 6 and rep.tables["fact_visit"].inserted == 6
    assert rep.tables["dim_campus"].inserted == 2
    assert rep.quarantined == 0 and rep.reconciliation == []
    assert wh.scalar("select count(*) from fact_visit") == 6
    # surrogate keys: 1..n in key order, integers
    assert wh.query_rows("select dept_id, dept_sk from dim_department order by 1") == [("D01", 1), ("D02", 2)]
    # _part_date is the visit day; rows are stored in _part_date order
    days = [r[0] for r in wh.query_rows("select _part_date from fact_visit")]
    assert days == sorted(days)
    assert str(wh.scalar("select _part_date from fact_visit where visit_id = 'V1'")) == "2024-01-02"
    # booleans: 是 / Y / 0 spellings
    assert wh.scalar("select is_surgical from dim_department where dept_id = 'D02'") is True
    assert wh.scalar("select referred_down from fact_visit where visit_id = 'V1'") is False
    assert last_load_id(wh) == 1
    log = wh.query_df("select * from _load_log where table_name = 'fact_visit'")
    assert int(log["inserted"][0]) == 6 and int(log["rows_read"][0]) == 6


def test_reload_is_idempotent(wh, tmp_path):
    d = write_delivery(tmp_path / "d1", {"fact_visit": [visit(i) for i in range(5)],
                                        "fact_charge": [charge(i) for i in range(3)]})
    load_delivery(wh, d, progress=False)
    before = snapshot(wh, ("dim_department", "fact_visit", "fact_charge"))
    n_log = wh.scalar("select count(*) from _change_log")
    rep = load_delivery(wh, d, progress=False)
    assert rep.changed == 0
    assert rep.tables["fact_visit"].unchanged == 5
    assert rep.tables["dim_department"].unchanged == 2
    assert snapshot(wh, ("dim_department", "fact_visit", "fact_charge")) == before
    assert wh.scalar("select count(*) from _change_log") == n_log


def test_update_delete_and_change_log(wh, tmp_path):
    load_delivery(wh, write_delivery(tmp_path / "d1", {"fact_visit": [visit(i) for i in range(4)]}),
                  progress=False)
    # V1 moves from 2024-01-02 to 2024-02-10 and changes department; V2 deleted; V9 unknown delete
    rows = [visit(1, visit_ts="2024-02-10 09:00:00", dept_id="D02"), visit(3),
            dict(visit_id="V2", _deleted="true"), dict(visit_id="V9", _deleted="1"),
            visit(7)]
    d2 = tmp_path / "d2"
    d2.mkdir()
    write_csv(d2 / "fact_visit.csv", "fact_visit", rows, extra=("_deleted",))
    rep = load_delivery(wh, d2, progress=False)
    t = rep.tables["fact_visit"]
    assert (t.read, t.inserted, t.updated, t.unchanged, t.deleted, t.delete_unknown, t.quarantined) \
        == (5, 1, 1, 1, 1, 1, 0)
    assert sorted(r[0] for r in wh.query_rows("select visit_id from fact_visit")) == ["V0", "V1", "V3", "V7"]
    assert wh.scalar("select dept_id from fact_visit where visit_id = 'V1'") == "D02"

    log = {(r[0], r[1], r[2]): (r[3], r[4]) for r in wh.query_rows(
        "select row_key, op, column_name, old_value, new_value from _change_log where load_id = ?",
        [rep.load_id])}
    assert log[("V1", "update", "_part_date")] == ("2024-01-02", "2024-02-10")
    assert log[("V1", "update", "visit_ts")] == ("2024-01-02 08:01:00", "2024-02-10 09:00:00")
    assert log[("V1", "update", "dept_id")] == ("D01", "D02")
    assert log[("V2", "delete", "_part_date")] == ("2024-01-03", None)
    assert log[("V7", "insert", "_part_date")] == (None, "2024-01-02")
    assert ("V3", "unchanged", "_part_date") not in log and not any(k[0] == "V9" for k in log)
    parts = changed_partitions(wh, since_load_id=1)
    assert sorted(str(d)[:10] for d in parts["part_date"]) == ["2024-01-02", "2024-01-03", "2024-02-10"]


def test_first_load_of_a_fact_is_one_whole_table_change(wh, tmp_path):
    """Into an empty fact table every partition is new: one `_bulk_loads` row instead of a
    change row per key; `changed_partitions` still names every partition."""
    rep = load_delivery(wh, write_delivery(tmp_path / "d1", {"fact_visit": [
        visit(i, visit_ts=f"2024-01-0{1 + i % 3} 09:00:00") for i in range(6)]}), progress=False)
    n = rep.tables["fact_visit"].inserted
    assert n > 0
    assert wh.query_rows("SELECT table_name, rows FROM _bulk_loads WHERE table_name = "
                         "'fact_visit'") == [("fact_visit", n)]
    assert wh.scalar("SELECT count(*) FROM _changes_fact_visit") == 0
    # dimensions keep their per-key changes (a dimension change rebuilds what reads it)
    assert wh.scalar("SELECT count(*) FROM _changes_dim_department") == \
        rep.tables["dim_department"].inserted
    parts = changed_partitions(wh, since_load_id=0)
    visit_parts = sorted(str(d)[:10] for d in parts[parts.table_name == "fact_visit"].part_date)
    assert visit_parts == [str(d)[:10] for (d,) in wh.query_rows(
        "SELECT DISTINCT _part_date FROM fact_visit ORDER BY 1")]
    assert not changed_partitions(wh, since_load_id=rep.load_id).shape[0]


def test_dimension_update_keeps_surrogate_key(wh, tmp_path):
    load_delivery(wh, write_delivery(tmp_path / "d1"), progress=False)
    d2 = tmp_path / "d2"
    d2.mkdir()
    rows = [dict(DIMS["dim_department"][1], dept_name="普通外科"),
            dict(DIMS["dim_department"][0]),
            dict(dept_id="D00", dept_name="急诊科", campus_id="C02", discipline="急诊",
                 dept_type="clinical", is_surgical="false", has_ward="false")]
    write_csv(d2 / "dim_department.csv", "dim_department", rows)
    rep = load_delivery(wh, d2, progress=False)
    t = rep.tables["dim_department"]
    assert (t.inserted, t.updated, t.unchanged) == (1, 1, 1)
    assert wh.query_rows("select dept_id, dept_sk, dept_name from dim_department order by dept_sk") == [
        ("D01", 1, "心血管内科"), ("D02", 2, "普通外科"), ("D00", 3, "急诊科")]
    assert wh.query_rows("select op, old_value, new_value from _change_log where load_id = 2 "
                         "and row_key = 'D02'") == [("update", "普外科", "普通外科")]


def test_duplicates_inside_one_delivery(wh, tmp_path):
    rows = [visit(1), visit(2), visit(2, visit_type="emergency"), visit(3), visit(3)]
    rep = load_delivery(wh, write_delivery(tmp_path / "d", {"fact_visit": rows}), progress=False)
    t = rep.tables["fact_visit"]
    # V2 twice with different content: both quarantined; V3 twice identically: collapsed
    assert (t.read, t.inserted, t.quarantined, t.duplicates) == (5, 2, 2, 1)
    reasons = [r[0] for r in wh.query_rows("select reason from _quarantine order by line")]
    assert reasons[0] == ("fact_visit.csv:3: column visit_id: key 'V2' appears 2 times in this "
                          "delivery with different content; deliver it once")
    assert reasons[1].startswith("fact_visit.csv:4: column visit_id: key 'V2'")


@pytest.mark.parametrize("typed_read_fails", [False, True])
def test_line_numbers_of_a_csv_read_in_parallel(wh, tmp_path, typed_read_fails):
    """A CSV's rows are numbered by their place in the file, also when DuckDB reads it on
    several threads (a file of many buffers) and when the typed reading fails and the file is
    read again as text: every quarantined row names its own line."""
    n = 300_000  # ~40 MB: read in parallel
    cols = list(TABLES["fact_visit"].column_names)
    bad = {5: dict(visit_type="outpt"), 150_000: dict(dept_id="D99"),
           299_990: dict(visit_id="V10", patient_id="Px")}  # V10's key again, other content
    if typed_read_fails:
        bad[200_000] = dict(visit_ts="2024-13-45 08:00:00")
    d = write_delivery(tmp_path / "d")
    with open(d / "fact_visit.csv", "w", encoding="utf-8") as f:
        f.write(",".join(cols) + "\n")
        for i in range(n):
            r = visit(i, **bad.get(i, {}))
            f.write(",".join(r.get(c, "") for c in cols) + "\n")
    rep = load_delivery(wh, d, progress=False)
    t = rep.tables["fact_visit"]
    assert (t.read, t.quarantined) == (n, len(bad) + 1)
    got = dict(wh.query_rows("select line, min(value) from _quarantine group by line"))
    # header is line 1: row i is line i + 2
    want = {7: "outpt", 150_002: "D99", 12: "V10", 299_992: "V10"}
    if typed_read_fails:
        want[200_002] = "2024-13-45 08:00:00"
    assert got == want


def test_gbk_csv_detected_and_given(wh, tmp_path):
    d = tmp_path / "gbk"
    d.mkdir()
    write_csv(d / "dim_campus.csv", "dim_campus", DIMS["dim_campus"], encoding="gbk")
    rep = load_delivery(wh, d, progress=False)
    assert rep.files[0]["encoding"] == "gb18030"
    assert wh.scalar("select campus_name from dim_campus where campus_id = 'C01'") == "总院"
    # given explicitly, the same file reloads unchanged
    rep = load_delivery(wh, d, encoding="gbk", progress=False)
    assert rep.tables["dim_campus"].unchanged == 2


def test_gbk_after_a_long_ascii_head_falls_back(wh, tmp_path):
    rows = [dict(DIMS["dim_campus"][0], campus_id=f"C{i:05d}", campus_name="x" * 200)
            for i in range(6000)] + [dict(DIMS["dim_campus"][0], campus_id="CZ")]
    p = write_csv(tmp_path / "dim_campus.csv", "dim_campus", rows, encoding="gbk")
    assert p.stat().st_size > (1 << 20)
    rep = load_file(wh, p)
    assert rep.tables["dim_campus"].inserted == 6001
    assert wh.scalar("select campus_name from dim_campus where campus_id = 'CZ'") == "总院"


def test_utf8_bom(wh, tmp_path):
    d = tmp_path / "bom"
    d.mkdir()
    write_csv(d / "dim_campus.csv", "dim_campus", DIMS["dim_campus"], encoding="utf-8-sig")
    assert load_delivery(wh, d, progress=False).tables["dim_campus"].inserted == 2
    assert wh.scalar("select count(*) from dim_campus where campus_id = 'C01'") == 1


def test_parquet_input(wh, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    d = write_delivery(tmp_path / "pq")
    rows = [visit(i) for i in range(3)] + [visit(5, visit_type="outpt")]
    cols = {c: [r.get(c) for r in rows] for c in rows[0]}
    tbl = pa.table(cols)
    # typed columns are fine too: booleans and timestamps as Parquet types
    tbl = tbl.set_column(tbl.schema.get_field_index("is_first_visit"), "is_first_visit",
                         pa.array([True, False, True, True]))
    pq.write_table(tbl, d / "fact_visit.parquet")
    rep = load_delivery(wh, d, progress=False)
    t = rep.tables["fact_visit"]
    assert (t.inserted, t.quarantined) == (3, 1)
    assert rep.files[-1]["format"] == "parquet"
    assert wh.scalar("select reason from _quarantine") == \
        "fact_visit.parquet:4: column visit_type: 'outpt' is not one of outpatient, emergency"
    assert wh.scalar("select is_first_visit from fact_visit where visit_id = 'V1'") is False


def test_unreadable_file_leaves_warehouse_unchanged(wh, tmp_path):
    load_delivery(wh, write_delivery(tmp_path / "d1", {"fact_visit": [visit(1)]}), progress=False)
    before = snapshot(wh)
    d2 = write_delivery(tmp_path / "d2", {"fact_visit": [visit(2)]})
    (d2 / "fact_charge.csv").write_text("charge_id,amount\nX,1\n", encoding="utf-8")
    with pytest.raises(UnreadableFile, match=r"fact_charge.csv:1: header lacks required column\(s\) "
                                             r"encounter_type"):
        load_delivery(wh, d2, progress=False)
    (d2 / "fact_charge.csv").write_bytes(b"PAR1 not really")
    (d2 / "fact_charge.csv").rename(d2 / "fact_charge.parquet")
    with pytest.raises(UnreadableFile, match="fact_charge.parquet: cannot be read as parquet"):
        load_delivery(wh, d2, progress=False)
    assert snapshot(wh) == before


def test_exception_mid_load_rolls_back(wh, tmp_path, monkeypatch):
    load_delivery(wh, write_delivery(tmp_path / "d1", {"fact_visit": [visit(1)]}), progress=False)
    before = snapshot(wh)
    import warehouse.loader as L

    real = L._merge

    def boom(cur, table, v, load_id, rep):
        real(cur, table, v, load_id, rep)
        if table.name == "fact_visit":
            raise RuntimeError("disk on fire")

    monkeypatch.setattr(L, "_merge", boom)
    d2 = write_delivery(tmp_path / "d2", {"fact_visit": [visit(1, dept_id="D02"), visit(2)],
                                         "fact_charge": [charge(1)]})
    with pytest.raises(RuntimeError):
        load_delivery(wh, d2, progress=False)
    assert snapshot(wh) == before


@pytest.mark.slow
def test_killed_load_leaves_warehouse_unchanged(tmp_path):
    db = tmp_path / "wh.duckdb"
    d1 = write_delivery(tmp_path / "d1", {"fact_visit": [visit(1)]})
    wh = open_warehouse(str(db))
    load_delivery(wh, d1, progress=False)
    before = snapshot(wh)
    wh.close()
    d2 = write_delivery(tmp_path / "d2", {"fact_visit": [visit(i) for i in range(50)],
                                         "fact_charge": [charge(1)]})
    marker = tmp_path / "halfway"
    script = textwrap.dedent(f"""
        import time, pathlib, sys
        sys.path.insert(0, {str(ROOT)!r})
        import warehouse.loader as L
        from warehouse.engine import open_warehouse
        real = L._merge
        def slow(cur, table, v, load_id, rep):
            real(cur, table, v, load_id, rep)
            if table.name == "fact_visit":
                pathlib.Path({str(marker)!r}).write_text("x")
                time.sleep(60)
        L._merge = slow
        L.load_delivery(open_warehouse({str(db)!r}), pathlib.Path({str(d2)!r}), progress=False)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.time() + 60
        while not marker.exists():
            assert proc.poll() is None, "the loader exited before reaching the middle"
            assert time.time() < deadline
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    wh = open_warehouse(str(db))
    try:
        assert snapshot(wh) == before
    finally:
        wh.close()


def test_everything_quarantined_is_nothing_loaded(wh, tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    write_csv(d / "dim_campus.csv", "dim_campus", [dict(DIMS["dim_campus"][0], campus_type="x")])
    with pytest.raises(NothingLoaded, match="all 1 row"):
        load_delivery(wh, d, progress=False)
    # the quarantine was kept all the same
    assert wh.scalar("select count(*) from _quarantine") == 1
    e = tmp_path / "empty"
    e.mkdir()
    with pytest.raises(NothingLoaded, match="no contract table files"):
        load_delivery(wh, e, progress=False)


def test_inbox_single_file(wh, tmp_path):
    load_delivery(wh, write_delivery(tmp_path / "d1"), progress=False)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    p = write_csv(inbox / "fact_visit.20240105-1.csv", "fact_visit", [visit(1), visit(2, dept_id="DX")])
    rep = load_file(wh, p)
    assert rep.kind == "file" and rep.tables["fact_visit"].inserted == 1
    assert rep.tables["fact_visit"].quarantined == 1
    assert wh.scalar("select reason from _quarantine") == (
        "fact_visit.20240105-1.csv:3: column dept_id: 'DX' is not a known dim_department.dept_id; "
        "deliver that dim_department row first, or fix the id")
    # a delivery folder path given a file goes to load_file too
    assert load_delivery(wh, p, progress=False).tables["fact_visit"].unchanged == 1
