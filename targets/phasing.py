"""Phasing: annual target → month → day by the node's own seasonal profile from past years,
not annual ÷ 12 (catalogue §15, §16.1).

The profile of a day is  month index × day-type index × Spring Festival index:

- day type from the calendar (`dim_calendar`): a working day by weekday (Mon … Fri), a
  make-up working day (调休), a weekend rest day (Sat, Sun), a statutory holiday;
- the Spring Festival window is aligned on 除夕 (`spring_festival_offset`, −14 … +14 days),
  not on calendar dates: 春节 moves between January and February, and a dip learnt in a February
  festival lands in January when next year's festival is in January;
- month indices are learnt on the days outside that window, so they hold no festival.

Estimation on each past year with enough data (≥ 80 % of its days non-zero): values divided by
the year's daily mean (growth drops out); on the days outside the window, the day-type index and
the month index are fitted alternately (backfitting) until the two separate; the festival index
is the mean of type-adjusted values at each offset ÷ its month's index. A node without usable history takes the
hospital's profile; without any history, the calendar alone (working day 1, rest day 0.55,
holiday 0.3, make-up day 0.9: catalogue §15.1, daily revenue on weekends ≈ 45–60 %).

Ratio targets are flat unless declared seasonal: their numerator and denominator records are
phased here like any additive target, and the semantic layer uses those weights only for a
node whose parts are declared `seasonal` (`TargetTree.seasonal_parts`); a direct ratio target
is always flat. Stocks (snapshot averages) and non-additive metrics are flat.

Phasing is stored under the target version it was computed at (`store.replace_phasing`): a
past version's expected-to-date reads the weights it had.

>>> import datetime as dt
>>> w = flat(2024)
>>> float(round(w.sum(), 12)), len(w), float(round(w[dt.date(2024, 2, 29)] * 366, 12))
(1.0, 366, 1.0)
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from metrics.targets_read import HOSPITAL, org_nodes, target_class

SF_WINDOW = 14
PRIOR = {"workday": 1.0, "makeup": 0.9, "rest": 0.55, "holiday": 0.3}
HISTORY_YEARS = 3
MIN_COVERAGE = 0.8
BACKFIT_ROUNDS = 20


def flat(year: int) -> pd.Series:
    """Every calendar day the same share (leap years have 366 shares)."""
    days = pd.date_range(dt.date(year, 1, 1), dt.date(year, 12, 31)).date
    return pd.Series(1.0 / len(days), index=list(days))


def monthly(weights: pd.Series) -> pd.Series:
    """Month (1 … 12) → share of the year."""
    return weights.groupby([d.month for d in weights.index]).sum()


def calendar_frame(wh, start: dt.date, end: dt.date) -> pd.DataFrame:
    """The calendar days start … end: from `dim_calendar` when it covers them, else built from
    the holiday sources the warehouse uses."""
    from warehouse.calendar import build_calendar

    need = (end - start).days + 1
    if wh is not None and wh.table_exists("dim_calendar"):
        cal = wh.query_df("SELECT date, month, weekday, is_holiday, is_makeup_workday, "
                          "is_workday, spring_festival_offset FROM dim_calendar "
                          "WHERE date BETWEEN ? AND ? ORDER BY date", [start, end])
        if len(cal) == need:
            cal["date"] = pd.to_datetime(cal["date"]).dt.date
            return cal
    cal = build_calendar(start, end)[["date", "month", "weekday", "is_holiday",
                                      "is_makeup_workday", "is_workday",
                                      "spring_festival_offset"]].copy()
    cal["date"] = cal["date"].dt.date
    return cal


def day_types(cal: pd.DataFrame) -> pd.Series:
    """holiday, makeup (调休 working day), wd1 … wd5 (working day by weekday), rest6, rest7."""
    wd = cal["weekday"].astype(int).astype(str).to_numpy()
    out = np.where(cal["is_workday"].astype(bool), np.char.add("wd", wd),
                   np.char.add("rest", wd)).astype(object)
    out = np.where(cal["is_makeup_workday"].astype(bool), "makeup", out)
    out = np.where(cal["is_holiday"].astype(bool), "holiday", out)
    return pd.Series(out, index=cal.index, dtype=object)


def prepare(cal: pd.DataFrame) -> pd.DataFrame:
    """The calendar with the columns the profile uses: type, offset (in the window), year."""
    if "type" in cal.columns:
        return cal
    cal = cal.reset_index(drop=True).copy()
    cal["type"] = day_types(cal)
    cal["offset"] = _window(cal)
    cal["year"] = [d.year for d in cal["date"]]
    return cal


def _window(cal: pd.DataFrame) -> pd.Series:
    off = pd.to_numeric(cal["spring_festival_offset"], errors="coerce")
    return off.where(off.abs() <= SF_WINDOW)


def prior_profile(cal_year: pd.DataFrame) -> pd.Series:
    kinds = prepare(cal_year)["type"].map(lambda k: "workday" if k.startswith("wd") else
                                    "rest" if k.startswith("rest") else k)
    w = kinds.map(PRIOR).to_numpy(dtype="float64")
    return pd.Series(w / w.sum(), index=list(cal_year["date"]))


def seasonal_profile(history: pd.Series, cal: pd.DataFrame, year: int) -> tuple[pd.Series, str]:
    """Day → weight (Σ 1) for `year` from `history` (day → value of past years) and the
    calendar `cal` covering the history years and `year`. Returns (weights, source)."""
    cal = prepare(cal)
    if history.empty or not (history.fillna(0) != 0).any():
        return prior_profile(cal[cal["year"] == year]), "calendar"
    hist = cal[cal["year"] < year].merge(
        pd.DataFrame({"date": list(history.index), "v": history.to_numpy(dtype="float64")}),
        on="date", how="left")
    hist["v"] = hist["v"].fillna(0.0)
    good = [y for y, g in hist.groupby("year")
            if g["v"].sum() > 0 and (g["v"] != 0).mean() >= MIN_COVERAGE]
    target = cal[cal["year"] == year]
    if not good:
        return prior_profile(target), "calendar"
    h = hist[hist["year"].isin(good)].copy()
    h["norm"] = h["v"] / h.groupby("year")["v"].transform("mean")
    out = h["offset"].isna()
    o = h[out]
    month = pd.Series(1.0, index=range(1, 13))
    for _ in range(BACKFIT_ROUNDS):  # alternate the two effects until they separate
        dtype = (o["norm"] / o["month"].map(month)).groupby(o["type"]).mean()
        mon = (o["norm"] / o["type"].map(dtype).replace(0, np.nan)).groupby(o["month"]).mean()
        mon = mon.reindex(range(1, 13))
        month = mon.fillna(mon.mean()).fillna(1.0)
    h["adj"] = h["norm"] / h["type"].map(dtype).fillna(1.0).replace(0, np.nan)
    inwin = h[~out].copy()
    inwin["sf"] = inwin["adj"] / inwin["month"].map(month)
    sf = inwin.groupby("offset")["sf"].mean()
    w = (target["month"].map(month).to_numpy(dtype="float64")
         * target["type"].map(dtype).fillna(_prior_of(target["type"])).to_numpy(dtype="float64")
         * target["offset"].map(sf).fillna(1.0).to_numpy(dtype="float64"))
    w = np.where(np.isfinite(w) & (w >= 0), w, 0.0)
    if w.sum() <= 0:
        return prior_profile(target), "calendar"
    return pd.Series(w / w.sum(), index=list(target["date"])), \
        f"history {min(good)}–{max(good)}"


def _prior_of(types: pd.Series) -> pd.Series:
    return types.map(lambda k: PRIOR["workday"] if k.startswith("wd") else
                     PRIOR["rest"] if k.startswith("rest") else PRIOR[k])


# -- writing the phasing of records ----------------------------------------------------------

def _history(wh, model, metric_id: str, component: str, level: str, start, end) -> dict:
    """node → day-indexed Series of past values at `level` (hospital: one series)."""
    from metrics.service import make_spec, query
    from metrics.targets_read import ratio_parts
    from warehouse.errors import QueryError

    by = [] if level == "hospital" else [level]
    as_of = dt.datetime.combine(end, dt.time(23, 59, 59))
    try:
        if component == "value":
            frame = query([metric_id], by=by, grain="day", start=start, end=end, as_of=as_of,
                          wh=wh, model=model)
            col = metric_id
        else:
            frame = ratio_parts(wh, model, make_spec([metric_id], by, "day", start, end, None,
                                                     as_of), metric_id)
            frame = frame.rename(columns={"_bucket": "period"})
            col = component
    except QueryError:  # the metric's fact does not carry this level (revenue by team)
        return {}
    frame["period"] = pd.to_datetime(frame["period"]).dt.date
    if not by:
        return {HOSPITAL: frame.set_index("period")[col].astype("float64")}
    return {n: g.set_index("period")[col].astype("float64") for n, g in frame.groupby(level)}


def phase_records(wh, metric_id: str, year: int, keys, model=None,
                  history_years: int = HISTORY_YEARS) -> pd.DataFrame:
    """Compute and store the phasing of the (component, node_id) records in `keys`.
    Returns the stored rows (component, node_level, node_id, day, weight, source)."""
    from metrics.registry import load_model

    from .store import replace_phasing

    model = model or load_model()
    cls = target_class(model, metric_id)
    if cls in ("stock", "level"):
        return pd.DataFrame()
    nodes = org_nodes(wh)
    level_of = dict(zip(nodes["node_id"], nodes["level"]))
    start, end = dt.date(year - history_years, 1, 1), dt.date(year - 1, 12, 31)
    cal = prepare(calendar_frame(wh, start, dt.date(year, 12, 31)))
    frames = []
    for comp in sorted({c for c, _ in keys}):
        if cls == "ratio" and comp == "value":
            continue
        wanted = [n for c, n in keys if c == comp]
        fallback = None
        for level in sorted({level_of[n] for n in wanted}):
            hist = _history(wh, model, metric_id, comp, level, start, end)
            for n in [n for n in wanted if level_of[n] == level]:
                weights, source = seasonal_profile(hist.get(n, pd.Series(dtype="float64")),
                                                   cal, year)
                if source == "calendar" and n != HOSPITAL:
                    if fallback is None:
                        hh = _history(wh, model, metric_id, comp, "hospital", start, end)
                        fallback = seasonal_profile(hh.get(HOSPITAL, pd.Series(
                            dtype="float64")), cal, year)
                    weights, source = fallback[0], (fallback[1] if fallback[1] == "calendar"
                                                    else "hospital " + fallback[1])
                frames.append(pd.DataFrame({"component": comp, "node_level": level,
                                            "node_id": n, "day": list(weights.index),
                                            "weight": weights.to_numpy(), "source": source}))
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True)
    replace_phasing(wh, metric_id, year, out)
    return out
