"""Versioning (a new version never overwrites; the history is queryable), import / export
round trips in YAML, CSV and XLSX, and the CLI's write commands."""
from __future__ import annotations

import pandas as pd
import pytest

from targets.cascade import cascade
from targets.io import FIELDS, export_frame, export_targets, import_targets, read_file
from targets.store import (TargetError, compare_versions, current, history, set_locks,
                           set_target)


def test_a_new_version_never_overwrites(wh, model):
    v1 = set_target(wh, "medical_revenue", 2026, "hospital", 1000, model=model, phase=False)
    v2 = set_target(wh, "medical_revenue", 2026, "hospital", 1200, note="raised", model=model,
                    phase=False, author="director")
    assert (v1, v2) == (1, 2)
    assert current(wh, "medical_revenue", 2026)["value"].tolist() == [1200.0]
    assert current(wh, "medical_revenue", 2026, version=1)["value"].tolist() == [1000.0]
    h = history(wh, "medical_revenue", 2026)
    assert h[["version", "action", "author", "note"]].values.tolist() == \
        [[1, "set", "cli", ""], [2, "set", "director", "raised"]]
    cmp = compare_versions(wh, "medical_revenue", 2026, 1, 2)
    assert cmp[["node_id", "value_a", "value_b", "diff", "change"]].values.tolist() == \
        [["hospital", 1000.0, 1200.0, 200.0, "changed"]]


def test_cascade_and_lock_are_versions(wh, model):
    set_target(wh, "medical_revenue", 2026, "hospital", 1000, model=model, phase=False)
    cascade(wh, "medical_revenue", 2026, model=model, phase=False)
    set_locks(wh, "medical_revenue", 2026, ["D01"])
    h = history(wh, "medical_revenue", 2026)
    assert h["action"].tolist() == ["set", "cascade", "lock"]
    assert compare_versions(wh, "medical_revenue", 2026, 1, 2)["change"].tolist().count(
        "added") == 3
    locked = current(wh, "medical_revenue", 2026).set_index("node_id")["locked"]
    assert bool(locked["D01"]) and not bool(locked["D02"])
    assert not bool(current(wh, "medical_revenue", 2026, version=2).set_index(
        "node_id").loc["D01", "locked"])


def test_bad_records_are_refused(wh, model):
    with pytest.raises(TargetError, match="unknown organisation node"):
        set_target(wh, "medical_revenue", 2026, "D99", 1, model=model, phase=False)
    with pytest.raises(TargetError, match="not a ratio"):
        set_target(wh, "medical_revenue", 2026, "D01", 1, component="numerator", model=model,
                   phase=False)
    with pytest.raises(TargetError, match="unknown metric"):
        set_target(wh, "no_such_metric", 2026, "D01", 1, model=model, phase=False)
    assert history(wh).empty


def _build(wh, model):
    set_target(wh, "medical_revenue", 2026, "hospital", 1000, reserve=100, note="年度指标",
               model=model, phase=False)
    cascade(wh, "medical_revenue", 2026, holds={"D03": 50}, model=model, phase=False)
    set_target(wh, "drug_revenue_ratio", 2026, "hospital", None, lo=0.25, hi=0.30,
               model=model, phase=False)
    set_target(wh, "drug_revenue_ratio", 2026, "D01", 180, component="numerator",
               seasonal=True, model=model, phase=False)


@pytest.mark.parametrize("suffix", [".yaml", ".csv", ".xlsx"])
def test_round_trip(wh, model, tmp_path, suffix):
    from warehouse.engine import open_warehouse
    from warehouse.loader import load_delivery

    from .conftest import write_delivery

    _build(wh, model)
    before = export_frame(wh)
    path = tmp_path / f"targets{suffix}"
    assert export_targets(wh, path) == len(before) == 6
    assert len(read_file(path)) == 6
    other = open_warehouse(str(tmp_path / "other.duckdb"))
    load_delivery(other, write_delivery(tmp_path / "d2"), progress=False)
    got = import_targets(other, path, model=model, phase=False)
    assert sorted(got) == [("drug_revenue_ratio", 2026, 1), ("medical_revenue", 2026, 1)]
    after = export_frame(other)
    cols = list(FIELDS)
    pd.testing.assert_frame_equal(before[cols].reset_index(drop=True),
                                  after[cols].reset_index(drop=True), check_dtype=False)
    # importing into the same warehouse adds versions, it does not overwrite them
    import_targets(wh, path, model=model, phase=False)
    assert history(wh, "medical_revenue", 2026)["version"].tolist() == [1, 2, 3]
    other.close()


def test_cli_set_cascade_show_export(wh, model, tmp_path):
    import json

    from typer.testing import CliRunner

    from cockpit.cli import _register_all, app

    _register_all()
    db = wh.location
    wh.close()
    run = CliRunner().invoke
    r = run(app, ["targets", "set", "medical_revenue", "--year", "2026", "--value", "1000",
                  "--reserve", "100", "--db", db])
    assert r.exit_code == 0, r.output
    r = run(app, ["targets", "cascade", "medical_revenue", "--year", "2026", "--hold",
                  "D02=400", "--remainder-to", "D03", "--format", "json", "--db", db])
    assert r.exit_code == 0, r.output
    rows = {x["node_id"]: x["value"] for x in json.loads(r.output)}
    # 1000 − 100 − 400 = 500 ∝ 600 : 100 → 428.57 → 429, 71.43 → 71 (remainder 0)
    assert rows == {"D01": 429, "D02": 400, "D03": 71}
    r = run(app, ["targets", "show", "medical_revenue", "--year", "2026", "--format", "json",
                  "--db", db])
    assert {x["node_id"] for x in json.loads(r.output)} == {"hospital", "D01", "D02", "D03"}
    r = run(app, ["targets", "compare-versions", "medical_revenue", "1", "2", "--year", "2026",
                  "--changed", "--format", "json", "--db", db])
    assert [x["change"] for x in json.loads(r.output)] == ["added"] * 3
    out = tmp_path / "t.csv"
    r = run(app, ["targets", "export", str(out), "--db", db])
    assert r.exit_code == 0 and len(pd.read_csv(out)) == 4
    r = run(app, ["targets", "cascade", "medical_revenue", "--year", "2026", "--hold",
                  "D02=4000", "--db", db])
    assert r.exit_code != 0  # the holds exceed the parent
