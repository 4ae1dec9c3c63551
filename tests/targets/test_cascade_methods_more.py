"""More cascade methods and phasing cases, computed by hand (fixture numbers in conftest):
capacity by clinic sessions, manual with a hold and a rounding remainder, a weighted history
whose two reference years both hold data, `cockpit targets import` from the command line,
ratio targets flat unless declared seasonal, 调休 make-up working days in daily phasing, and
the equal-split fallback of a capacity cascade without any capacity.

Fixture actuals used below (metrics.service.query on the conftest delivery):

    medical_revenue 2025 by department: D01 600, D02 300, D03 100
    medical_revenue 2026 by department: D01 300, D02 100, (D03 no row = 0)
    sessions_held: none in the conftest delivery; `wh_sessions` adds a year of them (2025).
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from metrics.service import query
from targets.cascade import cascade
from targets.phasing import calendar_frame, phase_records, seasonal_profile
from targets.store import TargetError, current, history, replace_phasing, set_target
from tests.metrics import hospital


def values(wh, metric, year, component="value"):
    f = current(wh, metric, year)
    f = f[f["component"] == component]
    return dict(zip(f["node_id"], f["value"]))


# -- 1. capacity by clinic sessions ---------------------------------------------------------

# 2025 clinic sessions per department: held / cancelled. Cancelled ones are planned but not
# held, so a cascade on `sessions_planned` (or on all rows) would give a different split.
SESSIONS_2025 = {"D01": (4, 2), "D02": (3, 0), "D03": (1, 1)}


@pytest.fixture()
def wh_sessions(tmp_path):
    """The conftest hospital plus clinic sessions: 2025 as above, and a few in 2024 and 2026
    that a 2026 cascade must ignore (it reads the year before, 2025, only)."""
    from warehouse.engine import open_warehouse
    from warehouse.loader import load_delivery

    from .conftest import facts

    doctor = {"D01": "DR1", "D02": "DR2", "D03": "DR3"}
    rows, k = [], 0
    for dept, (held, cancelled) in SESSIONS_2025.items():
        for i in range(held + cancelled):
            k += 1
            day = dt.date(2025, 3, 2) + dt.timedelta(days=7 * i + 1)  # Mondays from 3 March
            rows.append(hospital.session(f"S{k:03d}", str(day), dept, doctor[dept],
                                         status="held" if i < held else "cancelled",
                                         notice=None if i < held else 48))
    # outside 2025: D03 busy in 2024 and 2026 (would turn the split around if counted)
    for i, day in enumerate(["2024-06-03", "2024-06-10", "2024-06-17", "2026-01-05",
                             "2026-01-12", "2026-01-19", "2026-01-26"]):
        rows.append(hospital.session(f"X{i:03d}", day, "D03", "DR3"))
    f = facts()
    f["fact_clinic_session"] = rows
    folder = hospital.write_delivery(tmp_path / "delivery", f)
    campuses = [dict(c, latitude="30.6", longitude="104.1") for c in hospital.DIMS["dim_campus"]]
    hospital.write_csv(folder / "dim_campus.csv", "dim_campus", campuses)
    w = open_warehouse(str(tmp_path / "s.duckdb"))
    load_delivery(w, folder, progress=False)
    yield w
    w.close()


def test_sessions_fixture_has_the_held_counts(wh_sessions, model):
    f = query(["sessions_held"], by=["department"], start="2025-01-01", end="2025-12-31",
              as_of="2025-12-31 23:59", wh=wh_sessions, model=model)
    assert dict(zip(f["department"], f["sessions_held"])) == {"D01": 4, "D02": 3, "D03": 1}


def test_capacity_by_clinic_sessions(wh_sessions, model):
    set_target(wh_sessions, "medical_revenue", 2026, "hospital", 1000, model=model,
               phase=False)
    res = cascade(wh_sessions, "medical_revenue", 2026, "hospital", "department", "capacity",
                  capacity="sessions", model=model, phase=False)
    # weights = 2025 sessions held 4 : 3 : 1 (Σ 8); 1000 × 4/8 = 500, × 3/8 = 375, × 1/8 = 125
    assert res.allocation.set_index("node_id")["weight"].to_dict() == \
        {"D01": 4.0, "D02": 3.0, "D03": 1.0}
    assert values(wh_sessions, "medical_revenue", 2026) == \
        {"hospital": 1000.0, "D01": 500.0, "D02": 375.0, "D03": 125.0}
    assert history(wh_sessions, "medical_revenue", 2026)["params"].iloc[-1].count(
        '"capacity": "sessions"') == 1


def test_capacity_by_clinic_sessions_with_a_hold_and_reserve(wh_sessions, model):
    set_target(wh_sessions, "medical_revenue", 2026, "hospital", 1000, reserve=100,
               model=model, phase=False)
    cascade(wh_sessions, "medical_revenue", 2026, "hospital", "department", "capacity",
            capacity="sessions", holds={"D01": 500}, model=model, phase=False)
    # 1000 − reserve 100 − held 500 = 400 over D02 : D03 = 3 : 1 → 300, 100
    got = values(wh_sessions, "medical_revenue", 2026)
    assert got == {"hospital": 1000.0, "D01": 500.0, "D02": 300.0, "D03": 100.0}
    assert got["D01"] + got["D02"] + got["D03"] + 100 == 1000  # children + reserve = parent


# -- 2. manual, with a hold and a remainder -----------------------------------------------

def test_manual_with_a_hold_balances_exactly(wh, model):
    set_target(wh, "medical_revenue", 2026, "hospital", 1000, reserve=100, model=model,
               phase=False)
    set_target(wh, "medical_revenue", 2026, "D02", 400, locked=True, model=model, phase=False)
    res = cascade(wh, "medical_revenue", 2026, "hospital", "department", "manual",
                  manual={"D01": 350, "D03": 150}, model=model, phase=False)
    # D02 held at 400 (locked); 350 + 400 + 150 = 900 = 1000 − reserve 100
    got = values(wh, "medical_revenue", 2026)
    assert got == {"hospital": 1000.0, "D01": 350.0, "D02": 400.0, "D03": 150.0}
    assert got["D01"] + got["D02"] + got["D03"] + 100 == got["hospital"]
    assert res.allocation.set_index("node_id")["held"].to_dict() == \
        {"D01": False, "D02": True, "D03": False}
    methods = current(wh, "medical_revenue", 2026).set_index("node_id")["method"].to_dict()
    assert (methods["D01"], methods["D02"], methods["D03"]) == \
        ("cascade:manual", "held", "cascade:manual")


def test_manual_that_does_not_balance_is_refused(wh, model):
    set_target(wh, "medical_revenue", 2026, "hospital", 1000, reserve=100, model=model,
               phase=False)
    # 350 + 400 (held) + 160 = 910 ≠ 900
    with pytest.raises(TargetError, match="≠"):
        cascade(wh, "medical_revenue", 2026, method="manual", holds={"D02": 400},
                manual={"D01": 350, "D03": 160}, model=model, phase=False)
    with pytest.raises(TargetError, match="no value for D03"):
        cascade(wh, "medical_revenue", 2026, method="manual", holds={"D02": 400},
                manual={"D01": 500}, model=model, phase=False)


def test_manual_rounding_remainder_goes_to_the_designated_child(wh, model):
    """Manual values given to more places than `decimals`: they are rounded and what the
    rounding leaves goes to `remainder_to`, so children + reserve = parent exactly (issue 6:
    "the rounding remainder goes to a designated child")."""
    set_target(wh, "medical_revenue", 2026, "hospital", 1000, reserve=100, model=model,
               phase=False)
    cascade(wh, "medical_revenue", 2026, "hospital", "department", "manual",
            holds={"D02": 400}, manual={"D01": 333.3, "D03": 166.4}, remainder_to="D03",
            decimals=0, model=model, phase=False)
    got = values(wh, "medical_revenue", 2026)
    # the invariant first: children 400 + D01 + D03, plus reserve 100, = parent 1000
    assert got["D01"] + got["D02"] + got["D03"] + 100 == 1000
    # 333.3 → 333; 166.4 → 166; 1000 − 100 − 400 − 333 − 166 = 1 left → D03 = 167
    assert got == {"hospital": 1000.0, "D01": 333.0, "D02": 400.0, "D03": 167.0}


# -- 3. weighted history of two years, both with data --------------------------------------

def test_weighted_history_of_two_years_with_data(wh, model):
    # the references, as the fixture gives them (query per year, per department)
    r26 = query(["medical_revenue"], by=["department"], start="2026-01-01", end="2026-12-31",
                as_of="2026-12-31 23:59:59", wh=wh, model=model)
    r25 = query(["medical_revenue"], by=["department"], start="2025-01-01", end="2025-12-31",
                as_of="2025-12-31 23:59:59", wh=wh, model=model)
    assert dict(zip(r26["department"], r26["medical_revenue"])) == {"D01": 300.0, "D02": 100.0}
    assert dict(zip(r25["department"], r25["medical_revenue"])) == \
        {"D01": 600.0, "D02": 300.0, "D03": 100.0}

    set_target(wh, "medical_revenue", 2027, "hospital", 1160, model=model, phase=False)
    res = cascade(wh, "medical_revenue", 2027, "hospital", "department", "proportional",
                  years=2, history_weights=[0.7, 0.3], model=model, phase=False)
    # D01 = 0.7 × 300 (2026) + 0.3 × 600 (2025) = 210 + 180 = 390
    # D02 = 0.7 × 100 + 0.3 × 300 = 70 + 90 = 160
    # D03 = 0.7 × 0   + 0.3 × 100 = 0 + 30 = 30            Σ = 580
    assert res.allocation.set_index("node_id")["weight"].round(9).to_dict() == \
        {"D01": 390.0, "D02": 160.0, "D03": 30.0}
    # 1160 × 390/580 = 780, × 160/580 = 320, × 30/580 = 60 (2026 alone: 870, 290, 0;
    # 2025 alone: 696, 348, 116)
    assert values(wh, "medical_revenue", 2027) == \
        {"hospital": 1160.0, "D01": 780.0, "D02": 320.0, "D03": 60.0}


def test_two_years_with_equal_weights(wh, model):
    set_target(wh, "medical_revenue", 2027, "hospital", 1400, model=model, phase=False)
    cascade(wh, "medical_revenue", 2027, "hospital", "department", "proportional", years=2,
            model=model, phase=False)
    # weights 1 × 2026 + 1 × 2025: D01 300 + 600 = 900, D02 100 + 300 = 400, D03 0 + 100 = 100
    # Σ 1400 → exactly 900, 400, 100
    assert values(wh, "medical_revenue", 2027) == \
        {"hospital": 1400.0, "D01": 900.0, "D02": 400.0, "D03": 100.0}


# -- 4. `cockpit targets import` from the command line -------------------------------------

def test_cli_import_csv_then_xlsx(wh, model, tmp_path):
    import json

    from typer.testing import CliRunner

    from cockpit.cli import _register_all, app

    _register_all()
    db = wh.location
    wh.close()
    run = CliRunner().invoke

    csv_path = tmp_path / "plan.csv"
    pd.DataFrame([
        dict(metric_id="medical_revenue", year=2026, component="value", node_id="hospital",
             value=1000, reserve=100, locked=False, note="年度指标"),
        dict(metric_id="medical_revenue", year=2026, component="value", node_id="D01",
             value=500, reserve=0, locked=True, note=""),
        dict(metric_id="medical_revenue", year=2026, component="value", node_id="D02",
             value=400, reserve=0, locked=False, note=""),
    ]).to_csv(csv_path, index=False)
    r = run(app, ["targets", "import", str(csv_path), "--author", "planner", "--db", db])
    assert r.exit_code == 0, r.output
    assert "medical_revenue 2026: version 1" in r.output

    xlsx_path = tmp_path / "plan.xlsx"
    pd.DataFrame([
        dict(metric_id="medical_revenue", year=2026, component="value", node_id="hospital",
             value=1200, reserve=50, seasonal=False, locked=False),
        dict(metric_id="drug_revenue_ratio", year=2026, component="numerator", node_id="D01",
             value=180, reserve=0, seasonal=True, locked=False),
        dict(metric_id="drug_revenue_ratio", year=2026, component="denominator", node_id="D01",
             value=600, reserve=0, seasonal=True, locked=False),
    ]).to_excel(xlsx_path, index=False, sheet_name="targets")
    r = run(app, ["targets", "import", str(xlsx_path), "--author", "planner", "--db", db])
    assert r.exit_code == 0, r.output
    assert "drug_revenue_ratio 2026: version 1" in r.output
    assert "medical_revenue 2026: version 2" in r.output

    r = run(app, ["targets", "show", "medical_revenue", "--year", "2026", "--version", "1",
                  "--format", "json", "--db", db])
    assert r.exit_code == 0, r.output
    v1 = {x["node_id"]: (x["value"], x["reserve"], x["locked"]) for x in json.loads(r.output)}
    assert v1 == {"hospital": (1000, 100, False), "D01": (500, 0, True),
                  "D02": (400, 0, False)}

    from warehouse.engine import open_warehouse

    w = open_warehouse(db, read_only=True)
    try:
        # an import replaces the whole set with the file's records: v2 is the hospital only
        cur = current(w, "medical_revenue", 2026)
        assert cur[["node_id", "value", "reserve", "version", "author"]].values.tolist() == \
            [["hospital", 1200.0, 50.0, 2, "planner"]]
        assert len(current(w, "medical_revenue", 2026, version=1)) == 3  # v1 kept
        h = history(w, "medical_revenue", 2026)
        assert h[["version", "action", "author", "note"]].values.tolist() == \
            [[1, "import", "planner", "import plan.csv"],
             [2, "import", "planner", "import plan.xlsx"]]
        ratio = current(w, "drug_revenue_ratio", 2026)
        assert ratio[["component", "node_id", "value", "seasonal"]].values.tolist() == \
            [["denominator", "D01", 600.0, True], ["numerator", "D01", 180.0, True]]
    finally:
        w.close()


def test_cli_import_of_a_bad_file_fails(wh, tmp_path):
    from typer.testing import CliRunner

    from cockpit.cli import _register_all, app

    _register_all()
    db = wh.location
    wh.close()
    bad = tmp_path / "bad.csv"
    pd.DataFrame([dict(metric_id="medical_revenue", year=2026, node_id="D99", value=1)]
                 ).to_csv(bad, index=False)
    r = CliRunner().invoke(app, ["targets", "import", str(bad), "--db", db])
    assert r.exit_code != 0  # unknown organisation node: nothing written


# -- 5. ratio targets are flat unless declared seasonal -------------------------------------

MONTHS = dict(grain="month", start="2026-01-01", end="2026-03-31", as_of="2026-04-01 00:00")


def _ratio_by_month(wh, model, dept):
    f = query(["drug_revenue_ratio:target", "drug_revenue_ratio:target_to_date"],
              where={"department": [dept]}, wh=wh, model=model, **MONTHS)
    return f["drug_revenue_ratio:target"].tolist(), \
        f["drug_revenue_ratio:target_to_date"].tolist()


def test_direct_ratio_target_is_flat(wh, model):
    set_target(wh, "alos", 2026, "D01", 8.0, model=model)  # phase=True: nothing to phase
    f = query(["alos:target", "alos:target_to_date"], where={"department": ["D01"]}, wh=wh,
              model=model, **MONTHS)
    # a direct ratio target: every month's to-date is the annual ratio, not 8 × 31/365
    assert f["alos:target_to_date"].tolist() == [8.0, 8.0, 8.0]
    assert f["alos:target"].tolist() == [8.0, 8.0, 8.0]


def _skewed_phasing(wh, dept, num_jan_share, den_jan_share):
    """Stored phasing of a department's numerator and denominator: January holds the given
    share of the year, spread evenly over its 31 days; the other 334 days share the rest."""
    days = pd.date_range("2026-01-01", "2026-12-31").date
    frames = []
    for comp, jan in (("numerator", num_jan_share), ("denominator", den_jan_share)):
        w = [jan / 31 if d.month == 1 else (1 - jan) / 334 for d in days]
        frames.append(pd.DataFrame({"component": comp, "node_level": "department",
                                    "node_id": dept, "day": list(days), "weight": w,
                                    "source": "test"}))
    replace_phasing(wh, "drug_revenue_ratio", 2026, pd.concat(frames, ignore_index=True))


def test_ratio_parts_not_seasonal_stay_flat(wh, model):
    for comp, v in (("numerator", 180), ("denominator", 600)):
        set_target(wh, "drug_revenue_ratio", 2026, "D01", v, component=comp, model=model)
    # even with parts phased differently, a non-seasonal ratio is flat: 180 / 600 = 0.3
    _skewed_phasing(wh, "D01", 0.5, 31 / 365)
    target, to_date = _ratio_by_month(wh, model, "D01")
    assert target == pytest.approx([0.3, 0.3, 0.3])
    assert to_date == pytest.approx([0.3, 0.3, 0.3])


def test_seasonal_ratio_follows_its_parts_profiles(wh, model):
    for comp, v in (("numerator", 180), ("denominator", 600)):
        set_target(wh, "drug_revenue_ratio", 2026, "D01", v, component=comp, seasonal=True,
                   model=model, phase=False)
    # numerator: half the year in January; denominator: flat (January 31/365)
    _skewed_phasing(wh, "D01", 0.5, 31 / 365)
    target, to_date = _ratio_by_month(wh, model, "D01")
    assert target == pytest.approx([0.3, 0.3, 0.3])
    # Jan: (180 × 0.5) / (600 × 31/365) = 90 / 50.9589 = 1.766129…
    # Feb: (180 × 0.5 × 28/334) / (600 × 28/365) = 7.544910 / 46.027397 = 0.163922…
    # Mar: (180 × 0.5 × 31/334) / (600 × 31/365) = 8.353293 / 50.958904 = 0.163922…
    #      (both = (90/334) / (600/365) = 0.269461 / 1.643836)
    assert to_date == pytest.approx([1.766129, 0.163922, 0.163922], rel=1e-5)


def test_one_seasonal_department_does_not_make_another_seasonal(wh, model):
    """D01 declares its parts seasonal, D02 does not: D02 stays flat (its own records decide;
    issue 6: "ratio targets flat unless declared seasonal")."""
    for comp, v in (("numerator", 180), ("denominator", 600)):
        set_target(wh, "drug_revenue_ratio", 2026, "D01", v, component=comp, seasonal=True,
                   model=model, phase=False)
    for comp, v in (("numerator", 60), ("denominator", 300)):
        set_target(wh, "drug_revenue_ratio", 2026, "D02", v, component=comp, model=model,
                   phase=False)
    _skewed_phasing(wh, "D01", 0.5, 31 / 365)
    _skewed_phasing(wh, "D02", 0.5, 31 / 365)  # as phase_records may store from history
    _, d02 = _ratio_by_month(wh, model, "D02")
    assert d02 == pytest.approx([0.2, 0.2, 0.2])  # 60 / 300, flat


# -- 6. 调休 make-up working days and statutory holidays in daily phasing --------------------

# 2026 (chinesecalendar, State Council notice): 调休 working Saturdays 2026-02-14, 02-28,
# 05-09, 10-10 (and Sundays 01-04, 09-20); weekday holidays e.g. 2026-02-18 (Wed, 春节),
# 2026-04-06 (Mon, 清明), 2026-06-19 (Fri, 端午).

def test_calendar_marks_the_2026_makeup_days():
    cal = calendar_frame(None, dt.date(2026, 1, 1), dt.date(2026, 12, 31)).set_index("date")
    for d in ("2026-02-14", "2026-02-28", "2026-05-09", "2026-10-10"):
        day = cal.loc[dt.date.fromisoformat(d)]
        assert bool(day["is_makeup_workday"]) and bool(day["is_workday"]) and day["weekday"] == 6
    for d in ("2026-02-18", "2026-04-06", "2026-06-19"):
        day = cal.loc[dt.date.fromisoformat(d)]
        assert bool(day["is_holiday"]) and not bool(day["is_workday"]) and day["weekday"] <= 5


def test_makeup_day_gets_a_working_day_weight_in_a_nodes_phasing(wh, model):
    """D01's revenue history is too thin (6 days a year) for a profile of its own, so its
    phasing is the calendar's: working day 1, make-up 0.9, rest day 0.55, holiday 0.3."""
    set_target(wh, "medical_revenue", 2026, "D01", 1000, model=model, phase=False)
    rows = phase_records(wh, "medical_revenue", 2026, [("value", "D01")], model=model)
    assert set(rows["source"]) == {"calendar"}
    w = dict(zip(rows["day"], rows["weight"]))
    d = dt.date
    mon, sat = d(2026, 2, 9), d(2026, 2, 7)  # an ordinary Monday and Saturday
    assert w[d(2026, 2, 14)] / w[mon] == pytest.approx(0.9)   # 调休 Saturday: 0.9 / 1
    assert w[d(2026, 2, 28)] / w[mon] == pytest.approx(0.9)   # 调休 Saturday
    assert w[d(2026, 2, 14)] / w[sat] == pytest.approx(0.9 / 0.55)  # not a weekend day (1.636)
    assert w[d(2026, 2, 18)] / w[mon] == pytest.approx(0.3)   # 春节 Wednesday
    assert w[d(2026, 4, 6)] / w[d(2026, 4, 13)] == pytest.approx(0.3)  # 清明 Monday / Monday
    # and the stored phasing drives target_to_date: 14 February 2026 alone = 1000 × its weight
    f = query(["medical_revenue:target_to_date"], where={"department": ["D01"]},
              start="2026-02-14", end="2026-02-14", as_of="2026-03-01 00:00", wh=wh, model=model)
    assert f.iloc[0, 0] == pytest.approx(1000 * w[d(2026, 2, 14)])


def _history_by_day_type(years):
    """A history where working days (make-up days included) are 10, other rest days 5 and
    holidays 2, the same in every month."""
    cal = calendar_frame(None, dt.date(years[0], 1, 1), dt.date(years[-1], 12, 31))
    v = [2.0 if r.is_holiday else 10.0 if r.is_workday else 5.0 for r in cal.itertuples()]
    return pd.Series(v, index=list(cal["date"]))


def test_learnt_makeup_day_weight_is_a_working_days():
    # one history year (2025, whose 调休 days 04-27, 09-28 and 10-11 lie outside its festival
    # window), so each value ÷ the year's mean is exactly 10/m, 5/m or 2/m by day type
    cal = calendar_frame(None, dt.date(2025, 1, 1), dt.date(2026, 12, 31))
    w, source = seasonal_profile(_history_by_day_type([2025]), cal, 2026)
    assert source == "history 2025–2025"
    d = dt.date
    # outside the Spring Festival window (除夕 2026-02-16 ± 14), month index 1 everywhere:
    assert w[d(2026, 5, 9)] / w[d(2026, 5, 11)] == pytest.approx(1.0)  # 调休 Sat = Mon (10/10)
    assert w[d(2026, 5, 9)] / w[d(2026, 5, 16)] == pytest.approx(2.0)  # vs a Saturday: 10 / 5
    assert w[d(2026, 10, 10)] / w[d(2026, 10, 12)] == pytest.approx(1.0)  # 调休 Sat = Mon
    assert w[d(2026, 4, 6)] / w[d(2026, 4, 13)] == pytest.approx(0.2)  # 清明 Mon: 2 / 10
    assert w[d(2026, 6, 19)] / w[d(2026, 6, 12)] == pytest.approx(0.2)  # 端午 Fri: 2 / 10


# -- 7. zero reference → equal split, for a capacity cascade ------------------------------
# (test_cascade.py covers allocate() and a proportional cascade with no 2024 revenue; here the
# capacity path: the conftest delivery has no clinic sessions at all.)

def test_capacity_without_any_sessions_falls_back_to_equal(wh, model):
    set_target(wh, "medical_revenue", 2026, "hospital", 1000, model=model, phase=False)
    res = cascade(wh, "medical_revenue", 2026, "hospital", "department", "capacity",
                  capacity="sessions", remainder_to="D03", model=model, phase=False)
    assert res.allocation["weight"].tolist() == [0.0, 0.0, 0.0]
    # 1000 / 3 = 333.33 → 333 each, Σ 999; the 1 left goes to D03 → 334
    assert values(wh, "medical_revenue", 2026) == \
        {"hospital": 1000.0, "D01": 333.0, "D02": 333.0, "D03": 334.0}
    assert res.params["equal_fallback"]  # said so (page and CLI)
    # with a reference, no fallback is reported
    res = cascade(wh, "medical_revenue", 2026, "hospital", "department", "proportional",
                  model=model, phase=False)
    assert not res.params["equal_fallback"]
