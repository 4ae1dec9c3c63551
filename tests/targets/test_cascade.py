"""Cascades computed by hand: proportional with a hold, zero reference, rounding remainder,
reserve, capacity, and a ratio's numerator and denominator (fixture numbers in conftest)."""
from __future__ import annotations

import pytest

from targets.cascade import allocate, cascade
from targets.rollup import conflicts, ratio_check, rollup
from targets.store import TargetError, current, set_target

W = {"D01": 600.0, "D02": 300.0, "D03": 100.0}


def values(wh, metric, year, component="value"):
    f = current(wh, metric, year)
    f = f[f["component"] == component]
    return dict(zip(f["node_id"], f["value"]))


# -- the arithmetic -------------------------------------------------------------------------

def test_proportional_with_a_hold():
    # 1000 − held 400 = 600 over D01 : D03 = 600 : 100 → 514.29 → 514, 85.71 → 86
    assert allocate(1000, W, holds={"D02": 400}) == {"D01": 514.0, "D02": 400.0, "D03": 86.0}


def test_zero_reference_is_an_equal_split():
    # 1000 / 3 = 333.33 each; the remainder 1 goes to the first (all weights tie)
    assert allocate(1000, {"D01": 0, "D02": 0, "D03": 0}) == \
        {"D01": 334.0, "D02": 333.0, "D03": 333.0}
    assert allocate(1000, {"D01": 0, "D02": 0, "D03": 0}, remainder_to="D03") == \
        {"D01": 333.0, "D02": 333.0, "D03": 334.0}


def test_rounding_remainder_goes_to_the_designated_child():
    # 100 ∝ 1:1:1 → 33.33 each at 2 places; Σ = 99.99, the 0.01 left goes to D02
    out = allocate(100, {"D01": 1, "D02": 1, "D03": 1}, decimals=2, remainder_to="D02")
    assert out == {"D01": 33.33, "D02": 33.34, "D03": 33.33}
    # default: the largest weight takes it: 10 ∝ 1:1:2 = 2.5, 2.5, 5 → 2, 2, 5 (half to even)
    assert allocate(10, {"a": 1, "b": 1, "c": 2}) == {"a": 2.0, "b": 2.0, "c": 6.0}


def test_reserve_is_kept_back_exactly():
    # (1000 − 100) ∝ 600:300:100 = 540, 270, 90; children + reserve = parent
    out = allocate(1000, W, reserve=100)
    assert out == {"D01": 540.0, "D02": 270.0, "D03": 90.0}
    assert sum(out.values()) + 100 == 1000


@pytest.mark.parametrize("kwargs, msg", [
    (dict(holds={"D01": 900, "D02": 200}), "< 0"),
    (dict(holds={"D01": 10}, remainder_to="D01"), "free child"),
    (dict(holds={"X": 1}), "not children"),
])
def test_impossible_cascades_are_refused(kwargs, msg):
    with pytest.raises(TargetError, match=msg):
        allocate(1000, W, **kwargs)


# -- against the warehouse ------------------------------------------------------------------

def test_cascade_proportional_to_last_year_with_a_locked_child(wh, model):
    set_target(wh, "medical_revenue", 2026, "hospital", 1100, reserve=100, model=model,
               phase=False)
    set_target(wh, "medical_revenue", 2026, "D02", 400, locked=True, model=model, phase=False)
    res = cascade(wh, "medical_revenue", 2026, "hospital", "department", "proportional",
                  model=model, phase=False)
    # 1100 − 100 − 400 = 600 over D01 : D03 = 600 : 100 (2025 revenue) → 514.29, 85.71
    got = values(wh, "medical_revenue", 2026)
    assert got == {"hospital": 1100.0, "D01": 514.0, "D02": 400.0, "D03": 86.0}
    assert res.allocation.set_index("node_id")["held"].to_dict() == \
        {"D01": False, "D02": True, "D03": False}
    report = rollup(wh, "medical_revenue", 2026, model)
    assert report.iloc[0][["top_down", "bottom_up", "reserve", "diff"]].tolist() == \
        [1100.0, 1000.0, 100.0, 0.0]
    assert conflicts(report).empty


def test_zero_reference_falls_back_to_equal(wh, model):
    set_target(wh, "medical_revenue", 2025, "hospital", 900, model=model, phase=False)
    cascade(wh, "medical_revenue", 2025, "hospital", "department", "proportional",
            model=model, phase=False)  # no 2024 revenue at all
    assert values(wh, "medical_revenue", 2025) == \
        {"hospital": 900.0, "D01": 300.0, "D02": 300.0, "D03": 300.0}


def test_weighted_history_and_growth(wh, model):
    set_target(wh, "medical_revenue", 2026, "hospital", 1000, model=model, phase=False)
    # history weights (0.5 on 2025, 0.5 on 2024 = nothing) keep the 2025 shares; D03 ×4
    cascade(wh, "medical_revenue", 2026, "hospital", "department", "proportional",
            history_weights=[0.5, 0.5], growth={"D03": 4.0}, model=model, phase=False)
    # weights 300 : 150 : 200 → 461.54, 230.77, 307.69 → 462, 231, 308 = 1001 → D01 takes −1
    assert values(wh, "medical_revenue", 2026) == \
        {"hospital": 1000.0, "D01": 461.0, "D02": 231.0, "D03": 308.0}


def test_capacity_by_open_beds(wh, model):
    set_target(wh, "medical_revenue", 2026, "hospital", 1000, model=model, phase=False)
    cascade(wh, "medical_revenue", 2026, "hospital", "department", "capacity",
            capacity="beds", model=model, phase=False)  # 40 : 20 : 20
    assert values(wh, "medical_revenue", 2026) == \
        {"hospital": 1000.0, "D01": 500.0, "D02": 250.0, "D03": 250.0}


def test_campus_then_teams(wh, model):
    set_target(wh, "medical_revenue", 2026, "hospital", 1000, model=model, phase=False)
    cascade(wh, "medical_revenue", 2026, "hospital", "campus", "proportional", model=model,
            phase=False)  # C01 = 900, C02 = 100
    cascade(wh, "medical_revenue", 2026, "C01", "department", "equal", model=model, phase=False)
    cascade(wh, "medical_revenue", 2026, "D01", "team", "equal", model=model, phase=False)
    got = values(wh, "medical_revenue", 2026)
    assert (got["C01"], got["C02"], got["D01"], got["D02"], got["T01"]) == \
        (900.0, 100.0, 450.0, 450.0, 450.0)
    assert conflicts(rollup(wh, "medical_revenue", 2026, model)).empty


def test_ratio_targets_via_numerator_and_denominator(wh, model):
    """药占比 (↓): numerator 300 ∝ 2025 drug revenue 180:60:40, denominator 1000 ∝ revenue
    600:300:100. Implied hospital ratio = Σnum ÷ Σden = 0.3, never a mean of the children's."""
    from metrics.service import query

    set_target(wh, "drug_revenue_ratio", 2026, "hospital", 300, component="numerator",
               model=model, phase=False)
    set_target(wh, "drug_revenue_ratio", 2026, "hospital", 1000, component="denominator",
               model=model, phase=False)
    for comp in ("numerator", "denominator"):
        cascade(wh, "drug_revenue_ratio", 2026, "hospital", "department", "proportional",
                component=comp, model=model, phase=False)
    # 300 × 180/280 = 192.86 → 193, 300 × 60/280 = 64.29 → 64, 300 × 40/280 = 42.86 → 43
    assert values(wh, "drug_revenue_ratio", 2026, "numerator") == \
        {"hospital": 300.0, "D01": 193.0, "D02": 64.0, "D03": 43.0}
    assert values(wh, "drug_revenue_ratio", 2026, "denominator") == \
        {"hospital": 1000.0, "D01": 600.0, "D02": 300.0, "D03": 100.0}
    by_dept = query(["drug_revenue_ratio:target"], by=["department"], start="2026-01-01",
                    end="2026-03-31", as_of="2026-04-01 00:00", wh=wh, model=model)
    assert by_dept["drug_revenue_ratio:target"].round(6).tolist() == \
        [round(193 / 600, 6), round(64 / 300, 6), round(43 / 100, 6)]
    c01 = query(["drug_revenue_ratio:target"], where={"campus": ["C01"]}, start="2026-01-01",
                end="2026-03-31", as_of="2026-04-01 00:00", wh=wh, model=model)
    assert c01.iloc[0, 0] == pytest.approx((193 + 64) / 900)  # not mean(0.3217, 0.2133)
    check = ratio_check(wh, "drug_revenue_ratio", 2026, model).set_index("node_id")
    assert check.loc["hospital", "implied"] == pytest.approx(0.3)
    assert not check.loc["hospital", "flag"]


def test_implied_ratio_gap_is_flagged(wh, model):
    # hospital's direct target 25 %; its departments' parts imply 280 / 1000 = 28 % (↓: worse)
    set_target(wh, "drug_revenue_ratio", 2026, "hospital", 0.25, model=model, phase=False)
    for d, (n, den) in {"D01": (180, 600), "D02": (60, 300), "D03": (40, 100)}.items():
        set_target(wh, "drug_revenue_ratio", 2026, d, n, component="numerator", model=model,
                   phase=False)
        set_target(wh, "drug_revenue_ratio", 2026, d, den, component="denominator",
                   model=model, phase=False)
    check = ratio_check(wh, "drug_revenue_ratio", 2026, model).set_index("node_id")
    assert check.loc["hospital", "implied"] == pytest.approx(0.28)
    assert check.loc["hospital", "target"] == pytest.approx(0.25)
    assert bool(check.loc["hospital", "flag"])


def test_implied_ratio_from_direct_ratio_targets(wh, model):
    """Children with direct ratio targets: each weighted by its denominator target, else by
    its actual denominator last year (2025: D01 600, D02 300, D03 100) — never averaged."""
    set_target(wh, "drug_revenue_ratio", 2026, "hospital", 0.25, model=model, phase=False)
    for d, r in {"D01": 0.30, "D02": 0.20, "D03": 0.40}.items():
        set_target(wh, "drug_revenue_ratio", 2026, d, r, model=model, phase=False)
    set_target(wh, "drug_revenue_ratio", 2026, "D01", 800, component="denominator",
               model=model, phase=False)
    check = ratio_check(wh, "drug_revenue_ratio", 2026, model).set_index("node_id")
    h = check.loc["hospital"]
    # (0.30 × 800 + 0.20 × 300 + 0.40 × 100) / (800 + 300 + 100) = 340 / 1200
    assert h["implied"] == pytest.approx(340 / 1200)
    assert (h["children"], h["weighted"], h["unweighted"]) == (3, 2, 0)
    assert h["gap"] == pytest.approx(340 / 1200 - 0.25)
    assert bool(h["flag"])  # ↓ metric: 28.3 % implied misses 25 %
    # the mean of the children's ratios would be 30 %; equal weights would hide the miss less
    assert h["implied"] != pytest.approx((0.30 + 0.20 + 0.40) / 3)
    # a year without the year before (2024 has no data): weighted by the year itself (2025,
    # over by now): (0.30 × 600 + 0.20 × 300) / 900 = 240 / 900
    set_target(wh, "drug_revenue_ratio", 2025, "hospital", 0.25, model=model, phase=False)
    for d, r in {"D01": 0.30, "D02": 0.20}.items():
        set_target(wh, "drug_revenue_ratio", 2025, d, r, model=model, phase=False)
    h25 = ratio_check(wh, "drug_revenue_ratio", 2025, model).set_index("node_id") \
        .loc["hospital"]
    assert h25["implied"] == pytest.approx(240 / 900) and h25["weighted"] == 2
    # lower the outlier: 0.30 × 800 + 0.20 × 300 + 0.0 × 100 = 300 / 1200 = 25 %: no flag
    set_target(wh, "drug_revenue_ratio", 2026, "D03", 0.0, model=model, phase=False)
    h = ratio_check(wh, "drug_revenue_ratio", 2026, model).set_index("node_id").loc["hospital"]
    assert h["implied"] == pytest.approx(0.25) and not bool(h["flag"])


def test_ratio_value_cannot_be_cascaded(wh, model):
    set_target(wh, "drug_revenue_ratio", 2026, "hospital", 0.25, model=model, phase=False)
    with pytest.raises(TargetError, match="numerator and denominator"):
        cascade(wh, "drug_revenue_ratio", 2026, model=model, phase=False)


def test_conflict_when_a_child_is_edited(wh, model):
    set_target(wh, "medical_revenue", 2026, "hospital", 1000, model=model, phase=False)
    cascade(wh, "medical_revenue", 2026, model=model, phase=False)
    set_target(wh, "medical_revenue", 2026, "D03", 150, model=model, phase=False)
    bad = conflicts(rollup(wh, "medical_revenue", 2026, model))
    assert bad[["node_id", "bottom_up", "diff"]].values.tolist() == [["hospital", 1050.0, -50.0]]
