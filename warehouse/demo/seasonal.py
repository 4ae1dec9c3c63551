"""Daily volume multipliers: weekday × month × holiday window × epidemic × growth (§15).

One row per day of the span, one column per series. The generator multiplies a base daily
volume by these; nothing else in the demo knows about calendars. Holidays and make-up working
days (调休) come from the `holidays` package; the 春节 window is anchored on the real 除夕.

>>> f = daily_factors(date(2026, 2, 2), date(2026, 3, 8), as_of=date(2026, 3, 8))
>>> bool(f.loc[f.sf_offset == 2, "outpatient"].item() < 0.3 * f.outpatient.max())
True
"""
from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd

from . import profile

_SUBST = re.compile(r"substituted from (\d\d)/(\d\d)/(\d{4})")
SERIES = ("outpatient", "emergency", "admissions", "elective_surgery", "online")


def _holiday_days(years: range) -> tuple[set[date], set[date]]:
    """(statutory days off, make-up working days) from the `holidays` package."""
    import holidays

    off, makeup = set(), set()
    for d, name in holidays.China(years=list(years)).items():
        off.add(d)
        for m in _SUBST.finditer(name):
            makeup.add(date(int(m[3]), int(m[1]), int(m[2])))
    return off, makeup


def _smooth_month(days: pd.DatetimeIndex, index: tuple[float, ...]) -> np.ndarray:
    """Month-of-year index interpolated through mid-month points, so there are no steps."""
    doy = days.day_of_year.to_numpy() + 0.0
    mid = np.array([15.5 + 30.44 * k for k in range(12)])
    xp = np.r_[mid[-1] - 365.25, mid, mid[0] + 365.25]
    fp = np.r_[index[-1], index, index[0]]
    return np.interp(doy, xp, fp)


def _spring_festival_offset(days: pd.DatetimeIndex) -> np.ndarray:
    """Days from the nearest 除夕 (day 0), from the catalogue's list of real dates."""
    eves = np.array([np.datetime64(d) for d in profile.SPRING_FESTIVAL_EVE.values()])
    d = days.to_numpy().astype("datetime64[D]")
    diff = (d[:, None] - eves[None, :]).astype(int)
    nearest = np.abs(diff).argmin(axis=1)
    return diff[np.arange(len(d)), nearest]


def _window(offset: np.ndarray, col: int) -> np.ndarray:
    """Spring Festival multiplier of one series (column of profile.SF_WINDOW)."""
    f = np.ones(len(offset))
    for row in profile.SF_WINDOW:
        lo, hi, value = row[0], row[1], row[col]
        inside = (offset >= lo) & (offset <= hi)
        if value is None:   # outpatient falls from 80 % to 50 % over D-7..D-1
            value = np.interp(offset, [lo, hi], [0.80, 0.50])
        f = np.where(inside, value, f)
    return f


def _covid(days: pd.DatetimeIndex) -> dict[str, np.ndarray]:
    """Anomalies the catalogue lists (§15.4): the 2020 first wave and the Dec 2022 Omicron wave."""
    d = days.to_numpy().astype("datetime64[D]")
    wave1 = (d >= np.datetime64("2020-01-24")) & (d <= np.datetime64("2020-04-30"))
    omicron = (d >= np.datetime64("2022-12-10")) & (d <= np.datetime64("2023-01-20"))
    one = np.ones(len(d))
    return {"outpatient": one - 0.45 * wave1 - 0.25 * omicron,
            "emergency": one - 0.25 * wave1 + 0.30 * omicron,
            "admissions": one - 0.40 * wave1 - 0.20 * omicron,
            "elective_surgery": one - 0.50 * wave1 - 0.40 * omicron,
            "online": one + 0.60 * wave1 + 0.50 * omicron}


def daily_factors(start: date, end: date, as_of: date,
                  growth: float = profile.GROWTH_PER_YEAR) -> pd.DataFrame:
    """Per day: dow, day_type, sf_offset, respiratory index, growth and one factor per series.

    day_type is workday, weekend, holiday (statutory day off) or makeup (调休 working weekend).
    """
    days = pd.date_range(start, end, freq="D")
    off, makeup = _holiday_days(range(start.year, end.year + 1))
    dd = days.date
    dow = days.day_of_week.to_numpy()
    is_off = np.isin(dd, list(off))
    is_makeup = np.isin(dd, list(makeup)) & (dow >= 5)
    day_type = np.where(is_makeup, "makeup", np.where(is_off, "holiday",
                        np.where(dow >= 5, "weekend", "workday")))
    sf = _spring_festival_offset(days)
    in_sf = (sf >= 0) & (sf <= 6)
    month_day = days.month.to_numpy() * 100 + days.day.to_numpy()
    golden = (month_day >= 1001) & (month_day <= 1007)
    golden_after = (month_day >= 1008) & (month_day <= 1014) & ~is_off
    covid = _covid(days)
    out = pd.DataFrame({"date": days, "dow": dow, "day_type": day_type, "sf_offset": sf})
    weekday_mean = {}
    spec = {
        "outpatient": (profile.DOW_OUTPATIENT, profile.MONTH_OUTPATIENT, 2, 0),
        "emergency": (profile.DOW_EMERGENCY, profile.MONTH_EMERGENCY, 3, 1),
        "admissions": (profile.DOW_ADMISSIONS, profile.MONTH_ADMISSIONS, 4, 2),
        "elective_surgery": (profile.DOW_ELECTIVE_SURGERY, profile.MONTH_ADMISSIONS, 5, 3),
        "online": (profile.DOW_ONLINE, profile.MONTH_OUTPATIENT, None, None),
    }
    for name, (dow_idx, month_idx, sf_col, gw_col) in spec.items():
        idx = np.asarray(dow_idx)
        weekday_mean[name] = idx[1:5].mean()
        base = idx[dow]
        # statutory days off behave like a Sunday, 调休 weekends like a weekday at ~90 %
        base = np.where((day_type == "holiday") & ~in_sf & ~golden, idx[6], base)
        base = np.where(day_type == "makeup", 0.9 * weekday_mean[name], base)
        f = base * _smooth_month(days, month_idx) * covid[name]
        if sf_col is not None:
            f = f * _window(sf, sf_col)
            gw = profile.GOLDEN_WEEK[gw_col]
            f = f * np.where(golden, gw, 1.0)
            f = f * np.where(golden_after, profile.GOLDEN_WEEK_REBOUND[gw_col], 1.0)
        out[name] = f
    out["respiratory"] = _smooth_month(days, profile.MONTH_RESPIRATORY)
    out["cardio_cerebral"] = 1 + 0.15 * (out.respiratory - 1) / 0.4
    out["deaths"] = _smooth_month(days, profile.MONTH_DEATHS)
    age_years = (days - pd.Timestamp(as_of)).days.to_numpy() / 365.25
    out["growth"] = (1 + growth) ** age_years
    return out
