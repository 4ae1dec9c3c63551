"""The view state in the URL (cockpit.state): parse, canonical form, period ranges cut at
today, and bad values falling back instead of failing."""
from __future__ import annotations

import datetime as dt

import pytest

from cockpit.state import PERIODS, View, from_search, to_search

TODAY = dt.date(2026, 11, 25)  # a Wednesday


@pytest.mark.parametrize("search", [
    "?date=2026-03-15&campus=C01",
    "?period=week&date=2026-11-18&compare=pop&lang=en&theme=dark",
    "?period=custom&from=2026-10-01&to=2026-10-31&campus=C02",
    "?period=quarter&date=2026-05-05&dept=D0103&metric=visits",
    "?period=day&date=2026-11-24",
    "",
])
def test_round_trip_is_canonical(search):
    view = from_search(search)
    assert to_search(view) == search
    assert from_search(to_search(view)) == view


def test_defaults_are_omitted_and_extras_sorted():
    v = View(period="month", compare="yoy", lang="zh", theme="light",
             extra={"zeta": "1", "alpha": "2", "empty": "", "none": None})
    assert to_search(v) == "?alpha=2&zeta=1"
    assert to_search(View()) == ""


def test_with_puts_unknown_keys_in_extra():
    v = from_search("?campus=C01").with_(period="week", dept="D0105")
    assert v.period == "week" and v.extra == {"dept": "D0105"}
    assert to_search(v) == "?period=week&campus=C01&dept=D0105"


def test_leading_question_mark_optional_and_none():
    assert from_search("period=week") == from_search("?period=week")
    assert from_search(None) == View()


@pytest.mark.parametrize("search, expected", [
    ("?period=day&date=2026-11-20", (dt.date(2026, 11, 20), dt.date(2026, 11, 20))),
    ("?period=week&date=2026-11-18", (dt.date(2026, 11, 16), dt.date(2026, 11, 22))),
    ("?period=month&date=2026-02-10", (dt.date(2026, 2, 1), dt.date(2026, 2, 28))),
    ("?period=quarter&date=2026-05-05", (dt.date(2026, 4, 1), dt.date(2026, 6, 30))),
    ("?period=year&date=2025-07-01", (dt.date(2025, 1, 1), dt.date(2025, 12, 31))),
    ("?period=custom&from=2026-10-03&to=2026-10-09", (dt.date(2026, 10, 3), dt.date(2026, 10, 9))),
])
def test_range_of_each_period(search, expected):
    assert from_search(search).range(today=TODAY) == expected


@pytest.mark.parametrize("search, expected", [
    ("?period=day", (TODAY, TODAY)),
    ("?period=week", (dt.date(2026, 11, 23), TODAY)),
    ("", (dt.date(2026, 11, 1), TODAY)),
    ("?period=quarter", (dt.date(2026, 10, 1), TODAY)),
    ("?period=year", (dt.date(2026, 1, 1), TODAY)),
    ("?period=month&date=2026-11-03", (dt.date(2026, 11, 1), TODAY)),
    ("?period=custom&from=2026-11-01&to=2027-01-31", (dt.date(2026, 11, 1), TODAY)),
])
def test_range_is_cut_at_today(search, expected):
    assert from_search(search).range(today=TODAY) == expected


def test_natural_grain_per_period():
    assert [View(period=p).grain for p in PERIODS] == ["hour", "day", "day", "week", "month",
                                                        "day"]


@pytest.mark.parametrize("search", [
    "?period=fortnight&date=2026-13-45&compare=mom&lang=fr&theme=pink&campus=",
    "?period=&date=&compare=&lang=&theme=",
    "?date=not-a-date",
    "?period=custom&from=yesterday&to=2026-11-02",
])
def test_bad_values_fall_back(search):
    v = from_search(search)
    assert v.period in PERIODS
    assert (v.compare, v.lang, v.theme, v.campus) == ("yoy", "zh", "light", None)
    assert v.date is None
    start, end = v.range(today=TODAY)
    assert start <= end <= TODAY


def test_custom_without_both_ends_falls_back_to_the_month():
    assert from_search("?period=custom&from=2026-11-10").range(today=TODAY) == (
        dt.date(2026, 11, 1), TODAY)


def test_where_is_the_campus_filter():
    assert from_search("?campus=C01").where() == {"campus": ["C01"]}
    assert from_search("").where() == {}


# -- bugs -----------------------------------------------------------------------------------
def test_inverted_custom_range_is_not_returned_inverted():
    """?period=custom&from=2026-11-10&to=2026-11-01 (a typo in a shared link) must not yield a
    range whose start is after its end: every query over it is silently empty."""
    start, end = from_search("?period=custom&from=2026-11-10&to=2026-11-01").range(today=TODAY)
    assert start <= end


def test_range_never_reaches_past_today():
    """'the range is cut at today': an anchor date in the future must not give a future range
    (2027-02-10 with today 2026-11-25 currently gives 2027-02-01..2027-02-01)."""
    start, end = from_search("?period=month&date=2027-02-10").range(today=TODAY)
    assert end <= TODAY and start <= end


def test_module_doctest_matches_the_implementation():
    """The module's documented example says to_search gives '?period=month&date=…', but the
    default period is omitted ('?date=2026-03-15&campus=C01'): the doc or the code is wrong."""
    import doctest

    import cockpit.state

    assert doctest.testmod(cockpit.state).failed == 0
