"""The calendar: one row per day with China's statutory holidays and make-up working days (调休).

Sources, in order of precedence (DESIGN decision 9):

1. extension files (`warehouse/data/holidays_extra.csv`, then `COCKPIT_HOLIDAYS_FILE` or the
   `extra_file` argument): CSV `date,kind,name`, kind = `holiday` | `makeup_workday`;
2. `chinesecalendar`, for the years it knows (it follows the State Council notices);
3. the `holidays` package: published schedules, and for later years its own estimate
   (fixed-date holidays plus lunar ones from its lunisolar tables).

Where (2) and (3) disagree, (2) wins; `cross_check` lists the disagreements and
`build_calendar` logs them. Column `holiday_source` records which source decided each day.

>>> cal = build_calendar(date(2024, 2, 9), date(2024, 2, 18))
>>> day = cal[cal["date"] == "2024-02-10"]
>>> day[["is_holiday", "holiday_name", "spring_festival_offset"]].values.tolist()
[[True, '春节', 1]]
>>> bool(cal.loc[cal["date"] == "2024-02-18", "is_makeup_workday"].item())
True
"""
from __future__ import annotations

import csv
import functools
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from . import settings
from .errors import ConfigError, UnsupportedError

log = logging.getLogger(__name__)

TABLE = "dim_calendar"
PACKAGED_EXTRA = Path(__file__).with_name("data") / "holidays_extra.csv"
KINDS = ("holiday", "makeup_workday")
SPRING_WINDOW = 30  # spring_festival_offset is set for days within ±30 of 除夕
FLU_MONTHS = (11, 12, 1, 2, 3)

#: chinesecalendar's English holiday names -> the Chinese names the calendar uses
_CC_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


@dataclass(frozen=True)
class DayMark:
    """What a source says about one non-ordinary day."""

    kind: str  # "holiday" | "makeup_workday"
    name: str | None
    source: str  # "chinesecalendar" | "holidays" | "file"


# -- sources -----------------------------------------------------------------------------

def _year_days(year: int):
    d = date(year, 1, 1)
    while d.year == year:
        yield d
        d += timedelta(days=1)


@functools.lru_cache(maxsize=None)
def chinesecalendar_knows(year: int) -> bool:
    """Whether the installed `chinesecalendar` has the official schedule of `year`."""
    import chinese_calendar as cc

    try:
        cc.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@functools.lru_cache(maxsize=None)
def _chinesecalendar_year(year: int) -> dict[date, DayMark]:
    import chinese_calendar as cc

    marks: dict[date, DayMark] = {}
    for d in _year_days(year):
        _, name = cc.get_holiday_detail(d)
        workday = cc.is_workday(d)
        weekend = d.isoweekday() >= 6
        zh = _CC_NAMES.get(name, name) if name else None
        if workday and weekend:
            marks[d] = DayMark("makeup_workday", zh, "chinesecalendar")
        elif not workday and (zh or not weekend):
            marks[d] = DayMark("holiday", zh, "chinesecalendar")
    return marks


def _normalise_holidays_name(name: str) -> str | None:
    """'春节（补假）' -> '春节'; '农历除夕' -> '春节'; '休息日（由 … 调休）' -> None (named later)."""
    parts = [p.split("（")[0].strip() for p in name.split(";")]
    parts = ["春节" if p in ("农历除夕", "春节延长假期") else p for p in parts]
    parts = [p for p in parts if p and p != "休息日"]
    if not parts:
        return None
    return "国庆节" if "国庆节" in parts else parts[0]


@functools.lru_cache(maxsize=None)
def _holidays_year(year: int) -> dict[date, DayMark]:
    """The `holidays` package's view, with each break made whole: a run of days off that contains
    a holiday is one break, its weekend days included ("4月4日至6日放假，共3天"), as recent
    State Council notices (and chinesecalendar, mostly) count them."""
    import holidays

    # a neighbouring year's break can spill into this one (元旦 runs), so look one year around
    pkg = holidays.China(years=(year - 1, year, year + 1), language="zh_CN")
    makeup = {d for d in pkg.weekend_workdays if year - 1 <= d.year <= year + 1}
    raw = {d: n for d, n in pkg.items()}

    def off(d: date) -> bool:
        return d in raw or (d.isoweekday() >= 6 and d not in makeup)

    marks: dict[date, DayMark] = {}
    d, last = date(year - 1, 12, 1), date(year + 1, 1, 31)
    while d <= last:
        if d not in raw:
            d += timedelta(days=1)
            continue
        run_start = d
        while off(run_start - timedelta(days=1)):
            run_start -= timedelta(days=1)
        run = []
        e = run_start
        while off(e):
            run.append(e)
            e += timedelta(days=1)
        listed = [x for x in run if x in raw]
        names = {x: _normalise_holidays_name(raw[x]) for x in listed}
        for x in run:
            name = names.get(x)
            if name is None and "国庆节" in names.values():
                name = "国庆节"  # 中秋 merged into the Golden Week: the break is 国庆's
            if name is None:  # substituted or weekend day: the nearest named day of the break
                near = sorted((n for n in listed if names[n]), key=lambda n: (abs((n - x).days), n))
                name = names[near[0]] if near else None
            marks[x] = DayMark("holiday", name, "holidays")
        d = e
    for m in makeup:
        marks[m] = DayMark("makeup_workday", None, "holidays")
    return {k: v for k, v in marks.items() if k.year == year}


def read_extra_file(path: Path) -> dict[date, DayMark]:
    """Read an extension CSV (`date,kind,name`). Lines starting with `#` are comments.

    >>> read_extra_file(PACKAGED_EXTRA) == {} or True
    True
    """
    marks: dict[date, DayMark] = {}
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = csv.reader(f)
        header = next(rows, None)
        if header is None:
            return marks
        if [h.strip() for h in header] != ["date", "kind", "name"]:
            raise ConfigError(f"{path}:1: expected the header 'date,kind,name', "
                              f"found {','.join(header)!r}")
        for line_no, row in enumerate(rows, start=2):
            if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                continue
            if len(row) < 2:
                raise ConfigError(f"{path}:{line_no}: expected date,kind,name, found {row!r}")
            raw_date, kind = row[0].strip(), row[1].strip()
            name = row[2].strip() if len(row) > 2 and row[2].strip() else None
            try:
                d = date.fromisoformat(raw_date)
            except ValueError:
                raise ConfigError(
                    f"{path}:{line_no}: date {raw_date!r} is not YYYY-MM-DD") from None
            if kind not in KINDS:
                raise ConfigError(
                    f"{path}:{line_no}: kind {kind!r} is not one of {', '.join(KINDS)}")
            marks[d] = DayMark(kind, name, "file")
    return marks


def _extra_files(extra_file: Path | None) -> list[Path]:
    files = [PACKAGED_EXTRA] if PACKAGED_EXTRA.exists() else []
    chosen = extra_file if extra_file is not None else (settings.get("holidays_file") or None)
    if chosen:
        path = Path(chosen)
        if not path.exists():
            raise ConfigError(f"holidays file {path} does not exist (COCKPIT_HOLIDAYS_FILE)")
        files.append(path)
    return files


def _marks(start: date, end: date, extra_file: Path | None) -> dict[date, DayMark]:
    marks: dict[date, DayMark] = {}
    for year in range(start.year, end.year + 1):
        if chinesecalendar_knows(year):
            marks.update(_chinesecalendar_year(year))
        else:
            marks.update(_holidays_year(year))
    for path in _extra_files(extra_file):
        marks.update(read_extra_file(path))
    return marks


# -- Spring Festival ---------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def spring_festival(year: int) -> date:
    """First day of the Spring Festival (正月初一) in `year`, from the `holidays` package's
    lunisolar tables.

    >>> spring_festival(2025)
    datetime.date(2025, 1, 29)
    """
    import holidays

    pkg = holidays.China(years=year, language="zh_CN")
    days = [d for d, n in pkg.items() if n == "春节"]
    if days:
        return min(days)
    from holidays.calendars.chinese import _ChineseLunisolar  # years before 春节 was a holiday

    return _ChineseLunisolar().lunar_new_year_date(year)[0]


def chuxi(year: int) -> date:
    """除夕 (day 0 of the Spring Festival windows) of the lunar year starting in `year`.

    >>> chuxi(2026)
    datetime.date(2026, 2, 16)
    """
    return spring_festival(year) - timedelta(days=1)


def _spring_offset(d: date) -> int | None:
    for y in (d.year, d.year + 1, d.year - 1):
        off = (d - chuxi(y)).days
        if abs(off) <= SPRING_WINDOW:
            return off
    return None


# -- the table ---------------------------------------------------------------------------

COLUMNS = (
    "date", "year", "quarter", "month", "month_start", "quarter_start", "year_start",
    "week_start", "iso_year", "iso_week", "weekday", "is_weekend", "is_holiday", "holiday_name",
    "is_makeup_workday", "is_workday", "holiday_source", "spring_festival_offset",
    "is_flu_season", "days_in_month",
)
DATE_COLUMNS = ("date", "month_start", "quarter_start", "year_start", "week_start")


def build_calendar(start: date, end: date, extra_file: Path | None = None) -> pd.DataFrame:
    """One row per day from `start` to `end` inclusive. Date columns are datetime64 (midnight);
    `holiday_name` is Chinese (春节, 国庆节, …) on holidays and null otherwise;
    `holiday_source` says which source decided a holiday / make-up day (null on ordinary days).

    >>> cal = build_calendar(date(2024, 9, 28), date(2024, 10, 13))
    >>> cal[cal["is_makeup_workday"]]["date"].dt.strftime("%m-%d").tolist()
    ['09-29', '10-12']
    >>> int(cal["is_holiday"].sum())
    7
    """
    if end < start:
        raise ValueError(f"calendar end {end} is before start {start}")
    marks = _marks(start, end, extra_file)
    disagreements = cross_check(start, end)
    if disagreements:
        log.info("calendar: chinesecalendar and holidays disagree on %d day(s) in %s..%s; "
                 "chinesecalendar wins (first: %s)", len(disagreements), start, end,
                 disagreements[0])

    days = pd.date_range(start, end, freq="D")
    df = pd.DataFrame({"date": days})
    df["year"] = days.year.astype("int32")
    df["quarter"] = days.quarter.astype("int32")
    df["month"] = days.month.astype("int32")
    df["month_start"] = days.to_period("M").to_timestamp()
    df["quarter_start"] = days.to_period("Q").to_timestamp()
    df["year_start"] = days.to_period("Y").to_timestamp()
    df["week_start"] = days - pd.to_timedelta(days.day_of_week, unit="D")
    iso = days.isocalendar()
    df["iso_year"] = iso["year"].to_numpy().astype("int32")
    df["iso_week"] = iso["week"].to_numpy().astype("int32")
    df["weekday"] = (days.day_of_week + 1).astype("int32")
    df["is_weekend"] = df["weekday"] >= 6

    py_days = [ts.date() for ts in days]
    got = [marks.get(d) for d in py_days]
    df["is_holiday"] = [m is not None and m.kind == "holiday" for m in got]
    df["holiday_name"] = pd.Series(
        [m.name if m is not None and m.kind == "holiday" else None for m in got], dtype=object)
    df["is_makeup_workday"] = [m is not None and m.kind == "makeup_workday" for m in got]
    df["is_workday"] = (~df["is_weekend"] & ~df["is_holiday"]) | df["is_makeup_workday"]
    df["holiday_source"] = pd.Series([m.source if m else None for m in got], dtype=object)
    df["spring_festival_offset"] = pd.array([_spring_offset(d) for d in py_days], dtype="Int32")
    df["is_flu_season"] = df["month"].isin(FLU_MONTHS)
    df["days_in_month"] = days.days_in_month.astype("int32")
    for c in DATE_COLUMNS:
        df[c] = df[c].astype("datetime64[ns]")
    return df[list(COLUMNS)]


def cross_check(start: date, end: date) -> list[dict]:
    """Days where `chinesecalendar` and `holidays` disagree, for the years both know.

    Each difference is `{"date", "field", "chinesecalendar", "holidays"}` with field one of
    `kind` (holiday / makeup_workday / None = ordinary day) or `holiday_name`.

    >>> cross_check(date(2025, 1, 1), date(2025, 12, 31))
    []
    >>> cross_check(date(2024, 6, 1), date(2024, 6, 30))[0]["date"]  # 端午 joined to a weekend?
    datetime.date(2024, 6, 8)
    """
    diffs: list[dict] = []
    for year in range(start.year, end.year + 1):
        if not chinesecalendar_knows(year):
            continue
        a, b = _chinesecalendar_year(year), _holidays_year(year)
        for d in sorted(set(a) | set(b)):
            if not start <= d <= end:
                continue
            ma, mb = a.get(d), b.get(d)
            ka, kb = (ma.kind if ma else None), (mb.kind if mb else None)
            if ka != kb:
                diffs.append({"date": d, "field": "kind", "chinesecalendar": ka, "holidays": kb})
            elif ka == "holiday" and ma.name != mb.name:
                diffs.append({"date": d, "field": "holiday_name",
                              "chinesecalendar": ma.name, "holidays": mb.name})
    return diffs


# -- the warehouse table -----------------------------------------------------------------

def _select_list() -> str:
    out = []
    for c in COLUMNS:
        if c in DATE_COLUMNS:
            out.append(f"CAST({c} AS DATE) AS {c}")
        elif c in ("holiday_name", "holiday_source"):
            out.append(f"CAST({c} AS VARCHAR) AS {c}")
        elif c in ("spring_festival_offset",):
            out.append(f"CAST({c} AS INTEGER) AS {c}")
        else:
            out.append(c)
    return ", ".join(out)


def write_calendar(wh, start: date, end: date, extra_file: Path | None = None) -> int:
    """Create or replace `dim_calendar` for `start`..`end`: built aside as `dim_calendar__new`
    from the registered DataFrame, then swapped in within one transaction. Returns the rows.

    >>> from warehouse.engine import open_warehouse
    >>> wh = open_warehouse(":memory:")
    >>> write_calendar(wh, date(2024, 1, 1), date(2024, 12, 31))
    366
    """
    if wh.dialect != "duckdb":
        raise UnsupportedError("write_calendar", wh.dialect,
                               "load dim_calendar through its load path")
    df = build_calendar(start, end, extra_file)
    cur = wh.cursor()
    view = "_dim_calendar_df"
    cur.register(view, df)
    from sqlglot import exp, parse_one

    new = exp.to_table(TABLE + "__new")
    select = exp.select(*parse_one("SELECT " + _select_list(), read="duckdb").expressions) \
        .from_(view).order_by("date")
    try:
        cur.execute(exp.Drop(tables=[new.copy()], kind="TABLE", exists=True).sql("duckdb"))
        cur.execute(exp.Create(this=new.copy(), kind="TABLE", expression=select).sql("duckdb"))
    finally:
        cur.unregister(view)
    with wh.transaction() as tx:
        tx.execute(exp.Drop(tables=[exp.to_table(TABLE)], kind="TABLE", exists=True)
                   .sql("duckdb"))
        tx.execute(exp.Alter(this=new, kind="TABLE", actions=[
            exp.AlterRename(this=exp.to_table(TABLE))]).sql("duckdb"))
    return len(df)


def ensure_calendar(wh, start: date, end: date, extra_file: Path | None = None) -> bool:
    """Make `dim_calendar` cover `start`..`end`, rebuilding it over the union of the existing
    and the asked range only if it does not already. Returns True when it (re)built the table.

    >>> from warehouse.engine import open_warehouse
    >>> wh = open_warehouse(":memory:")
    >>> ensure_calendar(wh, date(2024, 1, 1), date(2024, 3, 31))
    True
    >>> ensure_calendar(wh, date(2024, 2, 1), date(2024, 2, 29))
    False
    """
    if wh.table_exists(TABLE):
        from sqlglot import exp

        q = exp.select("min(date)", "max(date)", "count(*)").from_(TABLE).sql(wh.dialect)
        lo, hi, n = wh.query_rows(q)[0]
        if lo is not None and n == (hi - lo).days + 1:
            if lo <= start and hi >= end:
                return False
            start, end = min(lo, start), max(hi, end)
    write_calendar(wh, start, end, extra_file)
    return True
