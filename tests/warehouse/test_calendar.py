"""The calendar: holidays and 调休 (2024–2026), period starts, Spring Festival offsets,
the extension file, and the atomic dim_calendar table."""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from warehouse import calendar as cal_mod
from warehouse.calendar import (
    build_calendar, chinesecalendar_knows, chuxi, cross_check, ensure_calendar, read_extra_file,
    spring_festival, write_calendar,
)
from warehouse.engine import open_warehouse
from warehouse.errors import ConfigError


def _days(a: str, b: str) -> list[date]:
    d0, d1 = date.fromisoformat(a), date.fromisoformat(b)
    return [d0 + timedelta(days=i) for i in range((d1 - d0).days + 1)]


@pytest.fixture(scope="module")
def cal() -> pd.DataFrame:
    df = build_calendar(date(2023, 12, 1), date(2027, 12, 31), extra_file=None)
    return df.set_index(df["date"].dt.date)


def _holidays(cal, a, b):
    return sorted(d for d in cal.index[cal["is_holiday"]] if date.fromisoformat(a) <= d <= date.fromisoformat(b))


def _makeups(cal, a, b):
    return sorted(d for d in cal.index[cal["is_makeup_workday"]] if date.fromisoformat(a) <= d <= date.fromisoformat(b))


@pytest.fixture(autouse=True)
def _no_env_file(monkeypatch):
    monkeypatch.delenv("COCKPIT_HOLIDAYS_FILE", raising=False)


# -- holidays and 调休 ---------------------------------------------------------------------

def test_spring_festival_2024(cal):
    assert _holidays(cal, "2024-01-25", "2024-02-29") == _days("2024-02-10", "2024-02-17")
    assert _makeups(cal, "2024-01-25", "2024-02-29") == [date(2024, 2, 4), date(2024, 2, 18)]
    assert set(cal.loc[_days("2024-02-10", "2024-02-17"), "holiday_name"]) == {"春节"}
    assert not cal.loc[date(2024, 2, 9), "is_holiday"]  # 除夕 became a holiday only in 2025


def test_spring_festival_2025(cal):
    assert _holidays(cal, "2025-01-15", "2025-02-28") == _days("2025-01-28", "2025-02-04")
    assert _makeups(cal, "2025-01-15", "2025-02-28") == [date(2025, 1, 26), date(2025, 2, 8)]


def test_spring_festival_2026_matches_the_packages():
    # the published 2026 schedule: 2026-02-15 .. 02-23 off, 02-14 and 02-28 worked
    if not chinesecalendar_knows(2026):
        pytest.skip("installed chinesecalendar does not know 2026")
    import chinese_calendar as cc

    c = build_calendar(date(2026, 2, 1), date(2026, 3, 10))
    c = c.set_index(c["date"].dt.date)
    off = _holidays(c, "2026-02-01", "2026-03-10")
    assert off == _days("2026-02-15", "2026-02-23")
    assert _makeups(c, "2026-02-01", "2026-03-10") == [date(2026, 2, 14), date(2026, 2, 28)]
    for d in _days("2026-02-01", "2026-03-10"):  # and agrees with chinesecalendar day by day
        assert bool(c.loc[d, "is_workday"]) == cc.is_workday(d), d


def test_national_day_2024(cal):
    assert _holidays(cal, "2024-09-20", "2024-10-31") == _days("2024-10-01", "2024-10-07")
    assert _makeups(cal, "2024-09-20", "2024-10-31") == [date(2024, 9, 29), date(2024, 10, 12)]
    assert set(cal.loc[_days("2024-10-01", "2024-10-07"), "holiday_name"]) == {"国庆节"}


def test_fixed_date_holidays_in_a_year_not_yet_published(cal):
    assert not chinesecalendar_knows(2027) or pytest.skip("chinesecalendar knows 2027 now")
    for d, name in [("2027-01-01", "元旦"), ("2027-05-01", "劳动节"), ("2027-10-01", "国庆节"),
                    ("2027-10-02", "国庆节"), ("2027-10-03", "国庆节"), ("2027-02-06", "春节")]:
        row = cal.loc[date.fromisoformat(d)]
        assert row["is_holiday"] and row["holiday_name"] == name, d
        assert row["holiday_source"] == "holidays"


def test_is_workday_logic(cal):
    expected = (~cal["is_weekend"] & ~cal["is_holiday"]) | cal["is_makeup_workday"]
    assert (cal["is_workday"] == expected).all()
    assert not (cal["is_holiday"] & cal["is_makeup_workday"]).any()
    assert cal.loc[cal["is_makeup_workday"], "is_weekend"].all()  # 调休 days are weekend days
    assert cal.loc[date(2024, 3, 6), "is_workday"]  # ordinary Wednesday
    assert not cal.loc[date(2024, 3, 9), "is_workday"]  # ordinary Saturday
    assert cal.loc[date(2024, 2, 4), "is_workday"]  # 调休 Sunday
    assert cal["holiday_name"].isna().eq(~cal["is_holiday"]).all()


def test_agrees_with_chinesecalendar_on_workdays(cal):
    import chinese_calendar as cc

    for d in cal.index:
        if chinesecalendar_knows(d.year):
            assert bool(cal.loc[d, "is_workday"]) == cc.is_workday(d), d


def test_cross_check_reports_disagreements_only():
    assert cross_check(date(2025, 1, 1), date(2025, 12, 31)) == []
    diffs = cross_check(date(2005, 12, 1), date(2005, 12, 31))
    # holidays says Sat 2005-12-31 was a make-up workday; chinesecalendar does not
    assert {"date": date(2005, 12, 31), "field": "kind", "chinesecalendar": None,
            "holidays": "makeup_workday"} in diffs
    assert cross_check(date(2027, 1, 1), date(2027, 12, 31)) == []  # only years both know


# -- periods and shape -----------------------------------------------------------------------

def test_one_row_per_day_and_leap_day(cal):
    assert cal.index.is_unique
    assert len(cal) == (date(2027, 12, 31) - date(2023, 12, 1)).days + 1
    feb29 = cal.loc[date(2024, 2, 29)]
    assert feb29["days_in_month"] == 29
    assert cal.loc[date(2025, 2, 28), "days_in_month"] == 28
    assert date(2025, 3, 1) - timedelta(days=1) in cal.index and date(2024, 2, 29) in cal.index


def test_period_starts(cal):
    row = cal.loc[date(2024, 8, 15)]  # a Thursday
    assert row["year"] == 2024 and row["quarter"] == 3 and row["month"] == 8
    assert row["month_start"] == pd.Timestamp("2024-08-01")
    assert row["quarter_start"] == pd.Timestamp("2024-07-01")
    assert row["year_start"] == pd.Timestamp("2024-01-01")
    assert row["week_start"] == pd.Timestamp("2024-08-12")
    assert row["weekday"] == 4 and not row["is_weekend"]
    assert row["iso_week"] == 33
    sunday = cal.loc[date(2024, 12, 29)]
    assert sunday["weekday"] == 7 and sunday["is_weekend"]
    assert sunday["week_start"] == pd.Timestamp("2024-12-23")
    new_year = cal.loc[date(2024, 12, 31)]  # a Tuesday in ISO week 1 of 2025
    assert new_year["iso_week"] == 1 and new_year["iso_year"] == 2025
    assert new_year["week_start"] == pd.Timestamp("2024-12-30")
    assert (cal["week_start"].dt.day_of_week == 0).all()
    assert set(cal["quarter"]) == {1, 2, 3, 4}


def test_flu_season(cal):
    assert cal.loc[date(2024, 11, 1), "is_flu_season"] and cal.loc[date(2025, 3, 31), "is_flu_season"]
    assert not cal.loc[date(2025, 4, 1), "is_flu_season"] and not cal.loc[date(2025, 10, 31), "is_flu_season"]


# -- Spring Festival -------------------------------------------------------------------------

CATALOGUE_SPRING_FESTIVAL = ["2019-02-05", "2020-01-25", "2021-02-12", "2022-02-01", "2023-01-22",
                             "2024-02-10", "2025-01-29", "2026-02-17", "2027-02-06"]


def test_spring_festival_dates_match_the_catalogue():
    for s in CATALOGUE_SPRING_FESTIVAL:
        first = date.fromisoformat(s)
        assert spring_festival(first.year) == first
        assert chuxi(first.year) == first - timedelta(days=1)


def test_spring_festival_offset(cal):
    for year in (2024, 2025, 2026, 2027):
        eve = chuxi(year)
        assert cal.loc[eve, "spring_festival_offset"] == 0
        assert cal.loc[eve + timedelta(days=1), "spring_festival_offset"] == 1
        assert cal.loc[eve - timedelta(days=30), "spring_festival_offset"] == -30
        assert cal.loc[eve + timedelta(days=30), "spring_festival_offset"] == 30
        assert pd.isna(cal.loc[eve + timedelta(days=31), "spring_festival_offset"])
    assert pd.isna(cal.loc[date(2024, 7, 1), "spring_festival_offset"])


# -- extension file --------------------------------------------------------------------------

def test_extension_file_overrides(tmp_path):
    f = tmp_path / "extra.csv"
    f.write_text("date,kind,name\n"
                 "# an example comment\n"
                 "2024-03-06,holiday,院庆\n"       # an ordinary Wednesday becomes a holiday
                 "2024-02-12,makeup_workday,\n"    # a 春节 Monday becomes a working day
                 "2028-01-29,makeup_workday,春节\n", encoding="utf-8")
    c = build_calendar(date(2024, 1, 1), date(2028, 2, 29), extra_file=f)
    c = c.set_index(c["date"].dt.date)
    assert c.loc[date(2024, 3, 6), "is_holiday"] and c.loc[date(2024, 3, 6), "holiday_name"] == "院庆"
    assert not c.loc[date(2024, 3, 6), "is_workday"]
    assert c.loc[date(2024, 3, 6), "holiday_source"] == "file"
    assert not c.loc[date(2024, 2, 12), "is_holiday"] and c.loc[date(2024, 2, 12), "is_workday"]
    assert c.loc[date(2028, 1, 29), "is_makeup_workday"] and c.loc[date(2028, 1, 29), "is_workday"]


def test_extension_file_from_the_setting(tmp_path, monkeypatch):
    f = tmp_path / "extra.csv"
    f.write_text("date,kind,name\n2024-03-06,holiday,院庆\n", encoding="utf-8")
    monkeypatch.setenv("COCKPIT_HOLIDAYS_FILE", str(f))
    c = build_calendar(date(2024, 3, 1), date(2024, 3, 31))
    assert c.loc[c["date"] == "2024-03-06", "is_holiday"].item()


def test_packaged_extension_file_is_valid():
    assert cal_mod.PACKAGED_EXTRA.read_text(encoding="utf-8").splitlines()[0] == "date,kind,name"
    read_extra_file(cal_mod.PACKAGED_EXTRA)


@pytest.mark.parametrize("content, where", [
    ("day,kind,name\n", ":1:"),
    ("date,kind,name\n2024-13-01,holiday,x\n", ":2:"),
    ("date,kind,name\n2024-03-01,day_off,x\n", ":2:"),
])
def test_bad_extension_file(tmp_path, content, where):
    f = tmp_path / "bad.csv"
    f.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=where):
        build_calendar(date(2024, 1, 1), date(2024, 1, 31), extra_file=f)


def test_missing_extension_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        build_calendar(date(2024, 1, 1), date(2024, 1, 31), extra_file=tmp_path / "nope.csv")


# -- the warehouse table ---------------------------------------------------------------------

def test_write_calendar_creates_and_replaces():
    wh = open_warehouse(":memory:")
    assert write_calendar(wh, date(2024, 1, 1), date(2024, 12, 31)) == 366
    types = dict(wh.query_rows("select column_name, data_type from information_schema.columns "
                               "where table_name = 'dim_calendar'"))
    assert types["date"] == "DATE" and types["week_start"] == "DATE"
    assert types["is_workday"] == "BOOLEAN" and types["spring_festival_offset"] == "INTEGER"
    wh.execute("create view v_days as select count(*) as n from dim_calendar")
    assert write_calendar(wh, date(2024, 1, 1), date(2025, 12, 31)) == 731
    assert wh.scalar("select n from v_days") == 731
    assert not wh.table_exists("dim_calendar__new")
    assert wh.scalar("select count(*) from dim_calendar where is_holiday and holiday_name = '国庆节' "
                     "and year = 2024") == 7
    assert wh.scalar("select spring_festival_offset from dim_calendar where date = date '2025-01-28'") == 0


def test_failed_rebuild_keeps_the_old_table(monkeypatch):
    wh = open_warehouse(":memory:")
    write_calendar(wh, date(2024, 1, 1), date(2024, 1, 31))

    def broken(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(cal_mod, "build_calendar", broken)
    with pytest.raises(RuntimeError):
        write_calendar(wh, date(2024, 1, 1), date(2024, 12, 31))
    assert wh.scalar("select count(*) from dim_calendar") == 31


def test_ensure_calendar_extends_only_when_needed():
    wh = open_warehouse(":memory:")
    assert ensure_calendar(wh, date(2024, 1, 1), date(2024, 6, 30)) is True
    assert ensure_calendar(wh, date(2024, 2, 1), date(2024, 3, 1)) is False
    assert ensure_calendar(wh, date(2023, 12, 1), date(2024, 7, 31)) is True
    lo, hi, n = wh.query_rows("select min(date), max(date), count(*) from dim_calendar")[0]
    assert (lo, hi) == (date(2023, 12, 1), date(2024, 7, 31)) and n == (hi - lo).days + 1
