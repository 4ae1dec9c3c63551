"""Phasing by the node's own seasonal profile: the Spring Festival dip follows 除夕 from
February into January, leap years have 366 shares, and stored phasing drives target_to_date."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from targets.phasing import calendar_frame, flat, monthly, phase_records, seasonal_profile
from warehouse.calendar import chuxi

DIP = range(-3, 7)  # 除夕 − 3 … + 6 at 30 % of a normal day


def festival_history(year: int) -> pd.Series:
    """100 every day of `year`, 30 on the days around its 除夕."""
    eve = chuxi(year)
    days = pd.date_range(dt.date(year, 1, 1), dt.date(year, 12, 31)).date
    return pd.Series([30.0 if (d - eve).days in DIP else 100.0 for d in days], index=list(days))


def test_spring_festival_moves_from_february_to_january():
    assert chuxi(2024) == dt.date(2024, 2, 9) and chuxi(2025) == dt.date(2025, 1, 28)
    cal = calendar_frame(None, dt.date(2024, 1, 1), dt.date(2025, 12, 31))
    w, source = seasonal_profile(festival_history(2024), cal, 2025)
    assert source == "history 2024–2024"
    # learnt in February 2024, the dip lands on 2025-01-25 … 02-03: Σ = 365 − 10 × 0.7 = 358
    assert w[dt.date(2025, 1, 29)] == pytest.approx(0.3 / 358)
    assert w[dt.date(2025, 2, 10)] == pytest.approx(1 / 358)
    assert w[dt.date(2025, 2, 20)] == pytest.approx(1 / 358)  # a Feb 2024 dip day: normal now
    m = monthly(w)
    assert m[1] == pytest.approx((31 - 7 * 0.7) / 358)  # 7 dip days in January
    assert m[2] == pytest.approx((28 - 3 * 0.7) / 358)  # 3 in February
    assert m[1] < 31 / 365 and m[2] > (28 - 10 * 0.7) / 358  # not the calendar-month copy


def test_day_types_and_month_effects_are_learnt():
    """A history with weekends at half a working day, holidays at a fifth and a busy December
    gives back the same pattern in the next year, whatever the weekday of each date."""
    cal = calendar_frame(None, dt.date(2024, 1, 1), dt.date(2025, 12, 31))
    h = cal[cal["date"] < dt.date(2025, 1, 1)]
    eve = chuxi(2024)
    v = [(0.2 if r.is_holiday else 1.0 if r.is_workday else 0.5) * (1.2 if r.month == 12 else 1)
         for r in h.itertuples()]
    hist = pd.Series(v, index=list(h["date"]))
    hist = hist[[abs((d - eve).days) > 14 for d in hist.index]].reindex(h["date"]).fillna(1.0)
    w, _ = seasonal_profile(hist, cal, 2025)
    mon, sat = dt.date(2025, 3, 3), dt.date(2025, 3, 8)
    assert w[sat] / w[mon] == pytest.approx(0.5)
    assert w[dt.date(2025, 10, 2)] / w[mon] == pytest.approx(0.2)  # 国庆
    assert w[dt.date(2025, 12, 1)] / w[mon] == pytest.approx(1.2)  # a December Monday


def test_leap_year_has_366_days():
    w = flat(2024)
    assert len(w) == 366 and w.sum() == pytest.approx(1.0)
    cal = calendar_frame(None, dt.date(2023, 1, 1), dt.date(2024, 12, 31))
    days = pd.date_range("2023-01-01", "2023-12-31").date
    wl, source = seasonal_profile(pd.Series(1.0, index=list(days)), cal, 2024)
    assert source == "history 2023–2023" and len(wl) == 366
    assert dt.date(2024, 2, 29) in wl.index and wl.sum() == pytest.approx(1.0)
    # a flat history keeps every day the same: Feb 29 is 1/366 of the year
    assert wl[dt.date(2024, 2, 29)] == pytest.approx(1 / 366)


def test_no_history_uses_the_calendar(wh, model):
    cal = calendar_frame(None, dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    w, source = seasonal_profile(pd.Series(dtype="float64"), cal, 2026)
    assert source == "calendar"
    assert w[dt.date(2026, 3, 7)] / w[dt.date(2026, 3, 9)] == pytest.approx(0.55)  # Sat / Mon


def test_leap_year_target_to_date(wh, model):
    """Without phasing rows a target is spread flat over the 366 days of 2024."""
    from metrics.service import query
    from targets.store import set_target

    set_target(wh, "medical_revenue", 2024, "hospital", 366, model=model, phase=False)
    f = query(["medical_revenue:target", "medical_revenue:target_to_date"], start="2024-01-01",
              end="2024-02-29", as_of="2024-03-01 00:00", wh=wh, model=model)
    assert f.iloc[0].tolist() == [pytest.approx(366.0), pytest.approx(60.0)]
    # the as-of day counts pro rata: noon of 1 March adds half a day
    f = query(["medical_revenue:target_to_date"], start="2024-01-01", end="2024-12-31",
              as_of="2024-03-01 12:00", wh=wh, model=model)
    assert f.iloc[0, 0] == pytest.approx(60.5)


def test_stored_phasing_drives_target_to_date(wh, model):
    from metrics.service import query
    from targets.store import set_target

    set_target(wh, "medical_revenue", 2026, "hospital", 1000, model=model, phase=False)
    phased = phase_records(wh, "medical_revenue", 2026, [("value", "hospital")], model=model)
    assert phased["weight"].sum() == pytest.approx(1.0) and len(phased) == 365
    w = dict(zip(phased["day"], phased["weight"]))
    jan = sum(v for d, v in w.items() if d.month == 1)
    f = query(["medical_revenue:target_to_date"], grain="month", start="2026-01-01",
              end="2026-03-31", as_of="2026-04-01 00:00", wh=wh, model=model)
    assert f["medical_revenue:target_to_date"].iloc[0] == pytest.approx(1000 * jan)
    assert f["medical_revenue:target_to_date"].sum() == pytest.approx(
        1000 * sum(v for d, v in w.items() if d.month <= 3))
