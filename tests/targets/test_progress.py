"""Completion by direction (lower is better rewards being under target), the transforms in
the semantic layer, progress to date, landing and the off-track list, by hand on the fixture
(targets phased flat: no phasing rows)."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from metrics.service import query
from metrics.targets_read import DISPLAY_CAP, display, score
from targets.progress import off_track, progress
from targets.store import set_target

AS_OF = dt.datetime(2026, 4, 1, 0, 0)  # Q1 2026 complete: 90 of 365 days
Q1 = 90 / 365


@pytest.mark.parametrize("actual, target, direction, expected", [
    (90, 100, "up", 0.9),
    (130, 100, "up", 1.3),          # uncapped in data, 120 % on screen
    (80, 100, "down", 1.25),        # under target: better than 100 %
    (100, 100, "down", 1.0),
    (125, 100, "down", 0.8),        # 25 % over a ↓ target
    (0, 100, "down", DISPLAY_CAP),  # nothing at all: the best score shown
    (100, 0, "up", np.nan),         # no positive target: no score
])
def test_score_by_direction(actual, target, direction, expected):
    got = score(actual, target, direction)
    assert (np.isnan(got) and np.isnan(expected)) or got == pytest.approx(expected)


def test_lower_is_better_rewards_being_under_target():
    under, at, over = (score(a, 0.30, "down") for a in (0.27, 0.30, 0.33))
    assert under > at == 1.0 > over


def test_band_inside_and_distance_outside():
    assert score(0.28, None, "band", lo=0.25, hi=0.32) == 1.0
    # 0.035 below a band 0.07 wide: half a width outside → 0.5
    assert score(0.215, None, "band", lo=0.25, hi=0.32) == pytest.approx(0.5)
    assert score(0.50, None, "band", lo=0.25, hi=0.32) == 0.0
    assert score(105, 100, "band") == pytest.approx(0.95)  # single value: width = |target|


def test_display_cap():
    assert display(np.array([-0.2, 0.5, 1.5])).tolist() == [0.0, 0.5, 1.2]


def _targets(wh, model):
    set_target(wh, "medical_revenue", 2026, "hospital", 3650, model=model, phase=False)
    for d, v in {"D01": 1460.0, "D02": 365.0, "D03": 730.0}.items():
        set_target(wh, "medical_revenue", 2026, d, v, model=model, phase=False)


def test_transforms_by_department(wh, model):
    _targets(wh, model)
    f = query(["medical_revenue", "medical_revenue:target", "medical_revenue:target_to_date",
               "medical_revenue:attainment", "medical_revenue:gap"], by=["department"],
              start="2026-01-01", end="2026-03-31", as_of=AS_OF, wh=wh, model=model)
    f = f.set_index("department")
    # D01: 300 of 1460 × 90/365 = 360 → 83.3 %, gap −60
    assert f.loc["D01"].tolist() == pytest.approx([300, 1460, 360, 300 / 360, -60])
    assert f.loc["D02"].tolist() == pytest.approx([100, 365, 90, 100 / 90, 10])
    assert f.loc["D03"].tolist() == pytest.approx([0, 730, 180, 0, -180])
    # revenue_target_attainment is medical_revenue:attainment
    r = query(["revenue_target_attainment"], by=["department"], start="2026-01-01",
              end="2026-03-31", as_of=AS_OF, wh=wh, model=model)
    assert r["revenue_target_attainment"].tolist() == pytest.approx(
        f["medical_revenue:attainment"].tolist())


def test_hospital_row_uses_the_hospital_record_and_months_are_phased(wh, model):
    _targets(wh, model)
    f = query(["medical_revenue:target", "medical_revenue:target_to_date"], start="2026-01-01",
              end="2026-03-31", as_of=AS_OF, wh=wh, model=model)
    assert f.iloc[0].tolist() == pytest.approx([3650, 900])
    m = query(["medical_revenue:target_to_date"], grain="month", start="2026-01-01",
              end="2026-03-31", as_of=AS_OF, wh=wh, model=model)
    assert m["medical_revenue:target_to_date"].tolist() == pytest.approx([310, 280, 310])
    # a dept_head's scope: the Σ of their departments, never the hospital's record
    s = query(["medical_revenue:target"], start="2026-01-01", end="2026-03-31", as_of=AS_OF,
              scope={"D01", "D02"}, wh=wh, model=model)
    assert s.iloc[0, 0] == pytest.approx(1825)


def test_lower_is_better_attainment_in_a_query(wh, model):
    # 药占比 ↓: D01's 2026 Q1 ratio is 90 / 300 = 30 %; a 25 % target scores 0.25 / 0.30
    set_target(wh, "drug_revenue_ratio", 2026, "D01", 0.25, model=model, phase=False)
    f = query(["drug_revenue_ratio", "drug_revenue_ratio:target_to_date",
               "drug_revenue_ratio:attainment", "drug_revenue_ratio:gap"],
              where={"department": ["D01"]}, start="2026-01-01", end="2026-03-31",
              as_of=AS_OF, wh=wh, model=model)
    assert f.iloc[0].tolist() == pytest.approx([0.30, 0.25, 0.25 / 0.30, 0.05])


def test_no_target_no_attainment_in_progress(wh, model):
    set_target(wh, "medical_revenue", 2026, "D01", 1460, model=model, phase=False)
    p = progress(wh, "medical_revenue", 2026, AS_OF, "department", model=model)
    assert np.isnan(p.set_index("node_id").loc["D02", "completion"])
    assert off_track(p)["node_id"].tolist() == ["D01"]


def test_progress_and_off_track(wh, model):
    _targets(wh, model)
    p = progress(wh, "medical_revenue", 2026, AS_OF, "department", model=model)
    p = p.set_index("node_id")
    d01 = p.loc["D01"]
    assert d01["time_progress"] == pytest.approx(Q1)
    assert d01["phased_progress"] == pytest.approx(Q1)
    assert d01[["target", "target_to_date", "actual", "gap"]].tolist() == \
        pytest.approx([1460, 360, 300, -60])
    assert d01["gap_pct"] == pytest.approx(-60 / 360)
    assert d01["landing"] == pytest.approx(300 / Q1)  # run-rate: 1216.7 of 1460
    assert d01["landing_completion"] == pytest.approx(300 / Q1 / 1460)
    assert p.loc["D02", "completion_display"] == pytest.approx(100 / 90)
    assert bool(p.loc["D02", "on_track"]) and not bool(p.loc["D01", "on_track"])
    # the furthest behind first: D03 (0 %), then D01 (83 %)
    assert off_track(p.reset_index())["node_id"].tolist() == ["D03", "D01"]
    h = progress(wh, "medical_revenue", 2026, AS_OF, "hospital", model=model)
    assert h.iloc[0][["target", "target_to_date", "actual"]].tolist() == \
        pytest.approx([3650, 900, 400])


def test_a_volume_monitored_in_a_band_is_scored_up_against_its_target(wh, model):
    """Catalogue §0.2: 出院人次 and 门急诊人次 are ◇ (monitored within a band) but "↑ vs
    target": 10 % over target is 110 %, not a 10 % miss of the band."""
    import copy

    assert model.metrics["discharges"].scoring_direction == "up"
    assert model.metrics["opd_ed_visits"].scoring_direction == "up"
    _targets(wh, model)
    banded = copy.copy(model)
    banded.metrics = dict(model.metrics)
    rev = model.metrics["medical_revenue"]
    args = dict(by=["department"], start="2026-01-01", end="2026-03-31", as_of=AS_OF, wh=wh)
    for target_direction, d02 in (("up", 100 / 90), (None, 1 - 10 / 90)):
        banded.metrics["medical_revenue"] = rev.model_copy(update={
            "direction": "band", "band": [1.0, 2.0], "target_direction": target_direction})
        f = query(["medical_revenue:attainment"], model=banded, **args).set_index("department")
        # D02: 100 against 90 to date
        assert f.loc["D02", "medical_revenue:attainment"] == pytest.approx(d02)
