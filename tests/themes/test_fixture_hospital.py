"""The tiny fixture hospital (tests/fixtures/tiny_hospital): every hand-computed value in its
expected.yaml, through the real load → refresh → query path, from the materializations and
from the base tables, which must agree."""
from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest
import yaml

from metrics.materialize import refresh
from metrics.registry import load_model
from metrics.service import make_spec, run
from warehouse.engine import open_warehouse
from warehouse.loader import load_delivery

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "tiny_hospital"
CASES = yaml.safe_load((FIXTURE / "expected.yaml").read_text(encoding="utf-8"))
AS_OF = "2026-11-25 10:00"


@pytest.fixture(scope="module")
def hospital(tmp_path_factory):
    wh = open_warehouse(str(tmp_path_factory.mktemp("tiny") / "tiny.duckdb"))
    report = load_delivery(wh, FIXTURE, progress=False)
    assert report.quarantined == 0, report.to_dict()
    model = load_model()
    refresh(wh, model)
    return wh, model


def _case_id(case) -> str:
    by = ",".join(case.get("by", []))
    return f"{case['metric']}|{case.get('grain', '-')}|{by}|{case['from']}"


def _norm(v):
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()[:10]
    return str(v)


def _close(got, want) -> bool:
    if want is None:
        return got is None or (isinstance(got, float) and math.isnan(got))
    if got is None or (isinstance(got, float) and math.isnan(got)):
        return False
    return math.isclose(float(got), float(want), rel_tol=1e-6, abs_tol=1e-9)


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
@pytest.mark.parametrize("use_mvs", [True, False], ids=["materialized", "base"])
def test_expected_value(hospital, case, use_mvs):
    wh, model = hospital
    spec = make_spec([case["metric"]], case.get("by", []), case.get("grain"), case["from"],
                     case["to"], case.get("where"), AS_OF)
    frame = run(spec, wh=wh, model=model, use_mvs=use_mvs).frame
    keys = (["period"] if case.get("grain") else []) + list(case.get("by", []))
    got = {tuple(_norm(r[k]) for k in keys): r[case["metric"]]
           for r in frame.to_dict("records")}
    for want in case["expect"]:
        key = tuple(_norm(want[k]) for k in keys)
        assert key in got, f"row {key} missing; got {sorted(got)}\nwhy: {case.get('why')}"
        assert _close(got[key], want[case["metric"]]), (
            f"{case['metric']} {key}: got {got[key]}, expected {want[case['metric']]}\n"
            f"why: {case.get('why')}\nnote: {case.get('note', '')}")
