"""A fact's first load from a big Parquet file, read in slices (loader.SLICE_ROWS): the same
warehouse, report and quarantine as reading the file whole, including keys repeated across
slices."""
from __future__ import annotations

import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from warehouse import loader
from warehouse.contract import TABLES
from warehouse.engine import open_warehouse
from warehouse.loader import load_delivery
from warehouse.readers import StagedFile

sys.path.insert(0, str(Path(__file__).parent))
from wh_delivery_fixtures import visit, write_delivery  # noqa: E402

# lines 1-4, 5-8, 9-12, 13-15 with slices of 4 rows
ROWS = [
    visit(1), visit(2), visit(3, visit_type="outpt"), visit(4),
    visit(5), visit(1), visit(2, dept_id="D02"), visit(6),
    visit(7), visit(7, referred_down="1"), visit(8), visit(3),
    visit(7), visit(9), visit(11, dept_id="D99"),
]


def delivery(folder: Path, rows: list[dict]) -> Path:
    d = write_delivery(folder)
    cols = list(TABLES["fact_visit"].column_names)
    pq.write_table(pa.table({c: [r.get(c) for r in rows] for c in cols}),
                   d / "fact_visit.parquet", row_group_size=2)
    return d


def load(tmp_path, name: str, slice_rows: int, monkeypatch, rows=ROWS):
    monkeypatch.setattr(loader, "SLICE_ROWS", slice_rows)
    monkeypatch.setattr(loader, "HASH_PART_ROWS", 2)  # repeated keys looked for in parts
    slices = []
    real = StagedFile.sliced
    monkeypatch.setattr(StagedFile, "sliced",
                        lambda self, a, b: slices.append((a, b)) or real(self, a, b))
    wh = open_warehouse(str(tmp_path / f"{name}.duckdb"))
    rep = load_delivery(wh, delivery(tmp_path / name, rows), progress=False)
    state = {
        "visits": sorted(map(str, wh.query_rows("SELECT * FROM fact_visit"))),
        "quarantine": sorted(map(str, wh.query_rows(
            "SELECT file, line, column_name, value, reason, row_json, status FROM _quarantine"))),
        "bulk": wh.query_rows("SELECT table_name, rows FROM _bulk_loads"),
        "reconciliation": [d.to_dict() for d in rep.reconciliation],
    }
    load.slices = slices
    t = rep.tables["fact_visit"]
    counts = (t.read, t.inserted, t.duplicates, t.quarantined, t.delete_unknown)
    wh.close()
    return state, counts


def test_sliced_first_load_equals_the_whole_file(tmp_path, monkeypatch):
    whole, whole_counts = load(tmp_path, "whole", 10 ** 9, monkeypatch)
    assert load.slices == []
    sliced, sliced_counts = load(tmp_path, "sliced", 4, monkeypatch)
    assert load.slices == [(1, 4), (5, 8), (9, 12), (13, 15)]
    assert sliced == whole
    assert sliced_counts == whole_counts
    # what the whole-file check says, spelled out: V1 twice alike (one kept), V2 twice and
    # V7 three times with different content, V3 once bad and once good, D99 unknown
    assert whole_counts == (15, 6, 1, 8, 0)
    assert sum("key 'V7' appears 3 times" in r for r in whole["quarantine"]) == 3
    assert {r.split("'")[1] for r in whole["visits"]} == {"V1", "V4", "V5", "V6", "V8", "V9"}
    assert whole["bulk"] == [("fact_visit", 6)]
    # per day, the file's keys against the rows kept (quarantined ones are missing)
    assert {(d["date"], d["measure"], d["expected"], d["actual"])
            for d in whole["reconciliation"]} == {
        ("2024-01-01", "rows", 3, 2), ("2024-01-02", "rows", 3, 2),
        ("2024-01-03", "rows", 4, 2)}


def test_sliced_load_without_repeats_inserts_every_slice(tmp_path, monkeypatch):
    rows = [visit(i) for i in range(1, 12)]
    sliced, counts = load(tmp_path, "clean", 3, monkeypatch, rows)
    assert counts == (11, 11, 0, 0, 0)
    assert len(sliced["visits"]) == 11 and sliced["quarantine"] == []


def test_a_table_holding_rows_is_merged_whole(tmp_path, monkeypatch):
    """Slices are for a first load only: into a table that holds rows, the file is merged
    whole (updates and unchanged rows need every key at once)."""
    monkeypatch.setattr(loader, "SLICE_ROWS", 2)
    wh = open_warehouse(str(tmp_path / "w.duckdb"))
    load_delivery(wh, delivery(tmp_path / "a", [visit(1), visit(2), visit(3)]), progress=False)
    calls = []
    monkeypatch.setattr(loader, "_load_in_slices",
                        lambda *a, **k: calls.append(a) or pytest.fail("sliced"))
    rep = load_delivery(wh, delivery(tmp_path / "b", [visit(1), visit(2, dept_id="D02"),
                                                      visit(4)]), progress=False)
    t = rep.tables["fact_visit"]
    assert (t.inserted, t.updated, t.unchanged) == (1, 1, 1) and not calls
    wh.close()
