"""Metric values on the tiny named fixture (tests/metrics/hospital.py: tiny()), against numbers
computed by hand. Every expected value says where it comes from (visit / stay ids)."""
from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from metrics.service import query
from warehouse.errors import QueryError

MARCH = dict(start="2025-03-01", end="2025-03-31")


@pytest.fixture
def q(tiny_wh, model):
    def run(metrics, **kw):
        return query(metrics, wh=tiny_wh, model=model, **kw)
    return run


def rows(frame, key):
    return {r[key]: r for r in frame.to_dict("records")}


def isnull(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


# -- simple ---------------------------------------------------------------------------------
def test_simple_count_by_department(q):
    df = q(["opd_ed_visits", "opd_visits"], by=["department"], **MARCH)
    assert list(df.columns) == ["department", "opd_ed_visits", "opd_visits"]
    assert df["department"].tolist() == ["D01", "D02", "D03"]  # sorted by the dimension
    # D01: V01 V02 (both outpatient); D02: V03 (emergency) V04; D03: V05
    assert df["opd_ed_visits"].tolist() == [2, 2, 1]
    assert df["opd_visits"].tolist() == [2, 1, 1]


def test_simple_without_grain_or_by_is_one_row(q):
    df = q(["opd_ed_visits"], **MARCH)
    assert list(df.columns) == ["opd_ed_visits"]
    assert df["opd_ed_visits"].tolist() == [5]  # V01..V05


def test_campus_and_team_follow_from_department_and_doctor(q):
    by_campus = rows(q(["opd_ed_visits"], by=["campus"], **MARCH), "campus")
    assert by_campus["C01"]["opd_ed_visits"] == 4  # D01 + D02
    assert by_campus["C02"]["opd_ed_visits"] == 1  # D03
    by_discipline = rows(q(["opd_ed_visits"], by=["discipline"], **MARCH), "discipline")
    assert by_discipline["心血管内科"]["opd_ed_visits"] == 3  # D01 (C01) + D03 (C02)
    by_team = rows(q(["opd_ed_visits"], by=["team"], **MARCH), "team")
    assert by_team["T01"]["opd_ed_visits"] == 2  # DR1's team
    assert by_team["T02"]["opd_ed_visits"] == 2  # DR2's team


# -- ratio: never an average of ratios --------------------------------------------------------
def test_ratio_within_one_fact_is_sum_over_sum(q):
    by_dept = rows(q(["alos"], by=["department"], **MARCH), "department")
    assert by_dept["D01"]["alos"] == pytest.approx((5 + 10) / 2)  # A1 5 days, A2 10 days
    assert by_dept["D02"]["alos"] == pytest.approx((1 + 3 + 5) / 3)  # A3 A4 A5
    hospital = q(["alos"], **MARCH)["alos"][0]
    assert hospital == pytest.approx(24 / 5)  # Σ bed days ÷ Σ discharges = 4.8
    assert hospital != pytest.approx((7.5 + 3) / 2)  # not the average of the ratios (5.25)


def test_ratio_across_two_facts(q):
    by_dept = rows(q(["opd_to_discharge_ratio"], by=["department"], **MARCH), "department")
    assert by_dept["D01"]["opd_to_discharge_ratio"] == pytest.approx(2 / 2)  # V01 V02 / A1 A2
    assert by_dept["D02"]["opd_to_discharge_ratio"] == pytest.approx(1 / 3)  # V04 / A3 A4 A5
    assert isnull(by_dept["D03"]["opd_to_discharge_ratio"])  # V05 / no discharge: null
    hospital = q(["opd_to_discharge_ratio"], **MARCH)["opd_to_discharge_ratio"][0]
    assert hospital == pytest.approx(4 / 5)  # Σ outpatient ÷ Σ discharges


def test_snapshot_average_divides_by_hospital_days(q):
    # census 3/1..3/3: D01 occupied 2,3,4 of 10; D02 1,1 of 5 and absent on 3/3 (counts 0)
    rng = dict(start="2025-03-01", end="2025-03-03")
    by_dept = rows(q(["occupied_beds", "bed_occupancy_rate"], by=["department"], **rng),
                   "department")
    assert by_dept["D01"]["occupied_beds"] == pytest.approx(9 / 3)
    assert by_dept["D02"]["occupied_beds"] == pytest.approx(2 / 3)
    assert by_dept["D01"]["bed_occupancy_rate"] == pytest.approx(9 / 30)
    total = q(["occupied_beds", "bed_occupancy_rate", "open_beds"], **rng)
    assert total["occupied_beds"][0] == pytest.approx(11 / 3)
    assert total["bed_occupancy_rate"][0] == pytest.approx(11 / 40)  # (9+2) ÷ (30+10)
    assert total["open_beds"][0] == 10  # last day 3/3: only D01's 10 beds


# -- derived across two facts ---------------------------------------------------------------
def test_derived_across_two_facts(q):
    by_dept = rows(q(["referral_down"], by=["department"], **MARCH), "department")
    assert by_dept["D01"]["referral_down"] == 1  # A2 transfer_primary
    assert by_dept["D02"]["referral_down"] == 1  # V04 referred down
    assert by_dept["D03"]["referral_down"] == 0  # V05 only: 0 + 0, not null
    assert q(["referral_down"], **MARCH)["referral_down"][0] == 2


def test_count_is_zero_not_null_when_another_metric_has_the_row(q):
    # D03 has a visit (V05) in March but no discharge (A6 is still in hospital): asked
    # together, its discharges are 0 — a count is never null (DESIGN: 0 for counts)
    by_dept = rows(q(["opd_visits", "discharges"], by=["department"], **MARCH), "department")
    assert by_dept["D03"]["opd_visits"] == 1
    assert by_dept["D03"]["discharges"] == 0


# -- cumulative -----------------------------------------------------------------------------
def test_mtd_counts_from_month_start_even_when_from_is_later(q):
    df = q(["opd_visits:mtd", "opd_visits"], grain="day", start="2025-03-10", end="2025-03-12")
    assert [str(p) for p in df["period"]] == ["2025-03-10", "2025-03-11", "2025-03-12"]
    # V01 V02 on 3/3 (before --from) + V04 on 3/10
    assert df["opd_visits:mtd"].tolist() == [3, 3, 3]
    assert df["opd_visits"].tolist() == [1, 0, 0]


def test_ytd_by_month_and_cumulative_metric_agree(q):
    df = q(["opd_visits:ytd", "opd_visits_ytd"], grain="month", start="2025-02-01",
           end="2025-03-31")
    assert [str(p) for p in df["period"]] == ["2025-02-01", "2025-03-01"]
    # Jan: V08; Feb: V06 (V07 is emergency); Mar: V01 V02 V04 V05
    assert df["opd_visits:ytd"].tolist() == [2, 6]
    assert df["opd_visits_ytd"].tolist() == [2, 6]


def test_cumulative_on_a_range_without_rows(q):
    # nothing in May 2025 (V11 is on 4/2): month-to-date is 0 every day, and by department
    # there is no row at all — not a crash
    total = q(["opd_visits:mtd"], grain="day", start="2025-05-01", end="2025-05-02")
    assert total["opd_visits:mtd"].tolist() == [0, 0]
    by = q(["opd_visits:mtd"], by=["department"], grain="day", start="2025-05-01",
           end="2025-05-02")
    assert by.empty
    assert list(by.columns) == ["period", "department", "opd_visits:mtd"]


# -- period comparison ----------------------------------------------------------------------
def test_yoy_and_pop(q):
    df = q(["opd_visits", "opd_visits:yoy", "opd_visits:yoy_diff", "opd_visits:yoy_growth",
            "opd_visits_yoy_growth", "opd_visits:pop", "opd_visits:pop_diff",
            "opd_visits:pop_growth"], grain="month", **MARCH)
    r = df.to_dict("records")[0]
    assert str(r["period"]) == "2025-03-01"
    assert r["opd_visits"] == 4
    assert r["opd_visits:yoy"] == 2  # V09 V10 in March 2024
    assert r["opd_visits:yoy_diff"] == 2
    assert r["opd_visits:yoy_growth"] == pytest.approx((4 - 2) / 2)
    assert r["opd_visits_yoy_growth"] == pytest.approx(1.0)  # kind transform = :yoy_growth
    assert r["opd_visits:pop"] == 1  # February: V06
    assert r["opd_visits:pop_diff"] == 3
    assert r["opd_visits:pop_growth"] == pytest.approx(3.0)


def test_the_period_is_fetched_once_for_its_values_and_comparisons(q, monkeypatch):
    """`X`, `X:yoy_growth` and `X:pop` fetch the period once, the year before once and the
    period before once, all three together (their statements run at once); and each
    token's values are what it gets when asked alone."""
    import metrics.service as service

    single, together_calls = [], []
    real, real_many = service.fetch, service.fetch_many
    monkeypatch.setattr(service, "fetch",
                        lambda *a, **k: single.append(a[3]) or real(*a, **k))
    monkeypatch.setattr(service, "fetch_many", lambda wh, model, reqs, *a, **k: (
        together_calls.append(sorted(str(r[2]) for r in reqs)) or real_many(wh, model, reqs,
                                                                            *a, **k)))
    tokens = ["opd_visits", "opd_visits:yoy_growth", "opd_visits:pop"]
    together = q(tokens, grain="month", by=["department"], **MARCH)
    assert single == []  # was 4 fetches one after another, the period's own twice
    assert together_calls == [["2024-03-01", "2025-02-01", "2025-03-01"]]
    for t in tokens:
        alone = q([t], grain="month", by=["department"], **MARCH)
        pd.testing.assert_series_equal(
            together.set_index("department")[t].sort_index(),
            alone.set_index("department")[t].sort_index(), check_dtype=False)


def test_pop_at_day_grain_uses_previous_day(q):
    df = q(["opd_visits", "opd_visits:pop"], grain="day", start="2025-03-03", end="2025-03-04")
    assert df["opd_visits"].tolist() == [2, 0]
    assert df["opd_visits:pop"].tolist() == [0, 2]  # 3/2 had none; 3/3 had V01 V02


# -- share ----------------------------------------------------------------------------------
def test_share_of_the_period_total(q):
    df = q(["opd_ed_visits:share"], by=["department"], **MARCH)
    assert df["opd_ed_visits:share"].tolist() == pytest.approx([2 / 5, 2 / 5, 1 / 5])
    assert df["opd_ed_visits:share"].sum() == pytest.approx(1.0)


# -- buckets --------------------------------------------------------------------------------
def test_empty_buckets_are_zero_for_counts_and_null_for_ratios(q):
    df = q(["opd_visits", "appointment_rate"], grain="day", start="2025-03-03",
           end="2025-03-05")
    assert [str(p) for p in df["period"]] == ["2025-03-03", "2025-03-04", "2025-03-05"]
    assert df["opd_visits"].tolist() == [2, 0, 0]
    assert df["appointment_rate"][0] == pytest.approx(1 / 2)  # V01 booked of V01 V02
    assert isnull(df["appointment_rate"][1]) and isnull(df["appointment_rate"][2])


def test_bucket_cut_by_range_keeps_first_day_as_period(q):
    df = q(["opd_visits"], grain="month", start="2025-03-05", end="2025-03-15")
    assert [str(p) for p in df["period"]] == ["2025-03-01"]
    assert df["opd_visits"].tolist() == [1]  # only V04 (3/10) is inside 3/5..3/15
    wk = q(["opd_visits"], grain="week", start="2025-03-05", end="2025-03-12")
    assert [str(p) for p in wk["period"]] == ["2025-03-03", "2025-03-10"]  # Mondays
    assert wk["opd_visits"].tolist() == [0, 1]  # V01 V02 (3/3) are before --from


def test_as_of_excludes_later_rows(q):
    day = dict(start="2025-03-03", end="2025-03-03")
    assert q(["opd_ed_visits"], **day)["opd_ed_visits"][0] == 3  # V01 V02 V03
    at = q(["opd_ed_visits"], as_of="2025-03-03 09:30", **day)
    assert at["opd_ed_visits"][0] == 2  # V03 at 10:30 has not happened yet


def test_hour_grain(q):
    df = q(["opd_ed_visits"], grain="hour", start="2025-03-03", end="2025-03-03",
           as_of="2025-03-03 23:59")
    assert len(df) == 24  # empty hours appear
    by_hour = {p.hour: v for p, v in zip(df["period"], df["opd_ed_visits"])}
    assert by_hour[8] == 1 and by_hour[9] == 1 and by_hour[10] == 1  # V01 V02 V03
    assert sum(by_hour.values()) == 3
    assert df["period"][0] == dt.datetime(2025, 3, 3, 0, 0)


# -- filters and scope ----------------------------------------------------------------------
def test_where_in(q):
    assert q(["opd_ed_visits"], where={"department": "D01,D03"}, **MARCH)[
        "opd_ed_visits"][0] == 3  # V01 V02 + V05
    assert q(["opd_ed_visits"], where={"visit_type": "emergency"}, **MARCH)[
        "opd_ed_visits"][0] == 1  # V03
    assert q(["opd_ed_visits"], where=[("department", ["D01"]), ("visit_type", "emergency")],
             **MARCH)["opd_ed_visits"][0] == 0  # AND


def test_scope_restricts_departments(q):
    df = q(["opd_ed_visits", "alos"], by=["department"], scope={"D02"}, **MARCH)
    assert df["department"].tolist() == ["D02"]
    assert df["opd_ed_visits"].tolist() == [2]  # V03 V04
    assert q(["opd_ed_visits"], scope={"D02", "D03"}, **MARCH)["opd_ed_visits"][0] == 3


def test_empty_scope_sees_nothing(q):
    assert q(["opd_ed_visits"], scope=set(), **MARCH)["opd_ed_visits"].tolist() == [0]
    assert q(["opd_ed_visits"], by=["department"], scope=set(), **MARCH).empty
    month = q(["opd_ed_visits", "alos"], grain="month", scope=set(), **MARCH)
    assert month["opd_ed_visits"].tolist() == [0] and isnull(month["alos"][0])


# -- errors ---------------------------------------------------------------------------------
def test_unknown_metric_suggests(q):
    with pytest.raises(QueryError, match=r"unknown metric 'opd_visit'.*did you mean 'opd_visits'"):
        q(["opd_visit"], **MARCH)


def test_dimension_a_part_lacks(q):
    with pytest.raises(QueryError) as e:
        q(["opd_to_discharge_ratio"], by=["visit_type"], **MARCH)
    msg = str(e.value)
    assert "'discharge_count'" in msg and "'visit_type'" in msg and "opd_to_discharge_ratio" in msg


def test_hour_grain_on_a_date_only_fact(q):
    with pytest.raises(QueryError, match=r"'occupied_beds_avg'.*no hour grain"):
        q(["occupied_beds"], grain="hour", start="2025-03-01", end="2025-03-01")


def test_from_after_to(q):
    with pytest.raises(QueryError, match=r"--from 2025-03-31 is after --to 2025-03-01"):
        q(["opd_visits"], start="2025-03-31", end="2025-03-01")
