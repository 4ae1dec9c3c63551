"""Chinese-first number, change and date formatting (cockpit.formatting)."""
from __future__ import annotations

import datetime as dt
import doctest
import math

import numpy as np
import pandas as pd
import pytest

from cockpit import formatting
from cockpit.formatting import (MISSING, band_status, band_tone, fmt_date, fmt_datetime,
                                fmt_delta, fmt_growth, fmt_number, fmt_period, fmt_ticks,
                                to_datetime, tone_of)


def test_docstring_examples():
    result = doctest.testmod(formatting, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


@pytest.mark.parametrize("value, zh, en", [
    (0, "0", "0"),
    (7, "7", "7"),
    (8765, "8,765", "8,765"),
    (12345, "12,345", "12,345"),
    (99_999, "99,999", "99,999"),
    (99_999.6, "10.0万", "100.0K"),           # rounds up into the compact range
    (100_000, "10.0万", "100.0K"),
    (123_456, "12.3万", "123.5K"),
    (999_999, "100.0万", "1.0M"),
    (12_345_000, "1,234.5万", "12.3M"),
    (99_950_000, "9,995.0万", "100.0M"),
    (99_999_999, "1.00亿", "100.0M"),          # 10,000.0万 is promoted to 1.00亿
    (100_000_000, "1.00亿", "100.0M"),
    (328_000_000, "3.28亿", "328.0M"),
    (1_234_560_000_000, "12,345.60亿", "1,234.56B"),
    (-1_234_567, "-123.5万", "-1.2M"),
    (-8765, "-8,765", "-8,765"),
    (-0.2, "0", "0"),                          # no "-0"
])
def test_integer_thresholds(value, zh, en):
    assert fmt_number(value, "integer") == zh
    assert fmt_number(value, "integer", "en") == en


@pytest.mark.parametrize("missing", [None, float("nan"), float("inf"), -math.inf, np.nan,
                                     pd.NA, "abc", True])
@pytest.mark.parametrize("fmt", formatting.FORMATS)
def test_missing_is_a_dash(missing, fmt):
    assert fmt_number(missing, fmt) == MISSING == "—"


def test_full_numbers_when_not_compact():
    assert fmt_number(12_345_678, "integer", compact=False) == "12,345,678"
    assert fmt_number(3.28e8, "yuan", compact=False) == "¥328,000,000"


@pytest.mark.parametrize("value, zh, en", [
    (3.28e8, "¥3.28亿", "¥328.0M"),
    (12_345_000, "¥1,234.5万", "¥12.3M"),
    (23_456.7, "¥23,457", "¥23,457"),
    (9_999.999, "¥10,000", "¥10,000"),
    (456.78, "¥456.78", "¥456.78"),
    (0, "¥0.00", "¥0.00"),
    (-1_234_567, "-¥123.5万", "-¥1.2M"),
])
def test_yuan(value, zh, en):
    assert fmt_number(value, "yuan") == zh
    assert fmt_number(value, "yuan", "en") == en


@pytest.mark.parametrize("value, text", [
    (0.731, "73.1%"), (1.0, "100.0%"), (0, "0.0%"), (-0.02, "-2.0%"), (0.005, "0.50%"),
    (0.0003, "0.030%"), (1.234, "123.4%"), (-0.0, "0.0%"),
])
def test_percent_input_is_a_fraction(value, text):
    assert fmt_number(value, "percent") == text
    assert fmt_number(value, "percent", "en") == text


@pytest.mark.parametrize("value, fmt, zh, en", [
    (12.5, "minutes", "12.5 分钟", "12.5 min"),
    (5.64, "days", "5.6 天", "5.6 d"),
    (1.2345, "decimal2", "1.23", "1.23"),
    (1234.56, "decimal1", "1,234.6", "1,234.6"),
    (1.05, "ratio", "1.05", "1.05"),
    (250_000.0, "decimal1", "25.0万", "250.0K"),
])
def test_units_and_decimals(value, fmt, zh, en):
    assert fmt_number(value, fmt) == zh
    assert fmt_number(value, fmt, "en") == en


def test_decimals_override_and_language_variants():
    assert fmt_number(0.7312, "percent", decimals=2) == "73.12%"
    assert fmt_number(12.5, "minutes", "en-US") == "12.5 min"
    assert fmt_number(12.5, "minutes", None) == "12.5 分钟"


@pytest.mark.parametrize("values, fmt, lang, labels", [
    ([0, 50_000, 100_000, 150_000], "integer", "zh", ["0", "5万", "10万", "15万"]),
    ([0, 2e8, 4e8], "yuan", "zh", ["¥0", "¥2亿", "¥4亿"]),
    ([0, 2e8, 4e8], "yuan", "en", ["¥0", "¥200M", "¥400M"]),
    ([0.7, 0.75, 0.8], "percent", "zh", ["70%", "75%", "80%"]),
    ([0.9, 0.925, 0.95], "percent", "zh", ["90.0%", "92.5%", "95.0%"]),
    ([1.0, 1.25, 1.5], "decimal2", "zh", ["1.00", "1.25", "1.50"]),
    ([5, 10, 15], "minutes", "en", ["5 min", "10 min", "15 min"]),
    ([-50_000, 0, 150_000], "integer", "zh", ["-5万", "0", "15万"]),
    ([None, 1], "integer", "zh", ["—", "1"]),
])
def test_axis_ticks_share_one_unit(values, fmt, lang, labels):
    assert fmt_ticks(values, fmt, lang) == labels


# -- changes ---------------------------------------------------------------------------------

@pytest.mark.parametrize("cur, prev, fmt, direction, text, tone", [
    (103.2, 100, "integer", "up", "▲ 3.2%", "good"),
    (103.2, 100, "integer", "down", "▲ 3.2%", "bad"),
    (103.2, 100, "integer", "band", "▲ 3.2%", "neutral"),
    (98.9, 100, "integer", "up", "▼ 1.1%", "bad"),
    (98.9, 100, "integer", "down", "▼ 1.1%", "good"),
    (100, 100, "integer", "up", "＝ 0.0%", "neutral"),
    (100.001, 100, "integer", "up", "＝ 0.0%", "neutral"),    # too small to show: flat
    (-5, -10, "yuan", "up", "▲ 50.0%", "good"),                # relative to |prev|
    (0.720, 0.731, "percent", "down", "▼ 1.1 pp", "good"),     # percentage points
    (0.750, 0.731, "percent", "up", "▲ 1.9 pp", "good"),
    (0.731, 0.731, "percent", "up", "＝ 0.0 pp", "neutral"),
])
def test_delta(cur, prev, fmt, direction, text, tone):
    d = fmt_delta(cur, prev, fmt, direction)
    assert (d.text, d.tone) == (text, tone)
    assert d.arrow == text[0]


@pytest.mark.parametrize("cur, prev", [(5, 0), (None, 1), (1, None), (float("nan"), 1)])
def test_delta_without_a_base_is_a_dash(cur, prev):
    d = fmt_delta(cur, prev, "integer", "up")
    assert (d.text, d.tone, d.change) == ("—", "neutral", None)


def test_delta_modes():
    assert fmt_delta(120, 100, "yuan", "up", mode="absolute").text == "▲ ¥20.00"
    assert fmt_delta(80, 100, "integer", "up", mode="absolute").text == "▼ 20"
    assert fmt_delta(0.8, 0.5, "decimal2", "up", mode="pp").text == "▲ 30.0 pp"
    assert fmt_delta(0, 0.5, "percent", "down", mode="relative").text == "▼ 100.0%"
    assert fmt_delta(0.75, 0.731, "percent", "up", "en").text == "▲ 1.9 pp"


def test_growth_from_a_transform_column():
    assert fmt_growth(0.032, "up") == ("▲ 3.2%", "▲", "good", 0.032)
    assert fmt_growth(-0.011, "down")[:3] == ("▼ 1.1%", "▼", "good")
    assert fmt_growth(0.0001, "up").tone == "neutral"
    assert fmt_growth(None).text == "—"


@pytest.mark.parametrize("change, direction, tone", [
    (0.1, "up", "good"), (-0.1, "up", "bad"), (0.1, "down", "bad"), (-0.1, "down", "good"),
    (0.1, "band", "neutral"), (0, "up", "neutral"), (None, "down", "neutral"),
])
def test_tone_by_direction(change, direction, tone):
    assert tone_of(change, direction) == tone


@pytest.mark.parametrize("value, band, status", [
    (0.93, [0.9, 1.0], "in"), (0.9, [0.9, 1.0], "in"), (1.0, [0.9, 1.0], "in"),
    (0.85, [0.9, 1.0], "below"), (1.02, (0.9, 1.0), "above"),
    (-0.1, [-0.3, 0.5], "in"), (None, [0, 1], None), (float("nan"), [0, 1], None),
    (1, None, None), (1, [], None), (5, [None, 3], "above"), (5, [7, None], "below"),
])
def test_band_status(value, band, status):
    assert band_status(value, band, "band") == status


@pytest.mark.parametrize("status, direction, tone", [
    ("in", "band", "good"), ("above", "band", "bad"), ("below", "band", "bad"),
    ("below", "up", "bad"), ("above", "up", "good"), ("above", "down", "bad"),
    ("below", "down", "good"), (None, "up", "neutral"),
])
def test_band_tone(status, direction, tone):
    assert band_tone(status, direction) == tone


# -- dates -----------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["2026-11-25", dt.date(2026, 11, 25),
                                   dt.datetime(2026, 11, 25, 14, 5),
                                   pd.Timestamp("2026-11-25"), np.datetime64("2026-11-25")])
def test_date_inputs(value):
    assert fmt_date(value) == "2026年11月25日"
    assert fmt_date(value, "en") == "2026-11-25"


@pytest.mark.parametrize("value", [None, float("nan"), pd.NaT, "not a date"])
def test_missing_dates(value):
    assert to_datetime(value) is None
    assert fmt_date(value) == fmt_period(value, "month") == fmt_datetime(value) == "—"


@pytest.mark.parametrize("grain, zh, en", [
    ("day", "11月25日", "Nov 25"),
    ("week", "第48周", "W48"),
    ("month", "2026年11月", "Nov 2026"),
    ("quarter", "2026年第4季度", "2026 Q4"),
    ("year", "2026年", "2026"),
    (None, "2026年11月25日", "2026-11-25"),
])
def test_period_by_grain(grain, zh, en):
    assert fmt_period("2026-11-25", grain) == zh
    assert fmt_period("2026-11-25", grain, "en") == en


def test_period_details():
    assert fmt_period("2026-11-25 14:00", "hour") == "14:00"
    assert fmt_period(dt.datetime(2026, 11, 25, 9), "hour", "en") == "09:00"
    assert fmt_period("2026-01-01", "week") == "第1周"            # ISO week of the bucket
    assert fmt_period("2026-03-01", "quarter") == "2026年第1季度"
    assert fmt_period("2026-11-01", "month", short=True) == "11月"
    assert fmt_period("2026-11-01", "month", "en", short=True) == "Nov"
    assert fmt_period("2026-10-01", "quarter", "en", short=True) == "Q4"


def test_datetime_to_the_minute():
    assert fmt_datetime("2026-11-25T14:05:33") == "2026-11-25 14:05"
    assert fmt_datetime(pd.Timestamp("2026-11-25 14:05", tz="Asia/Shanghai"), "en") == \
        "2026-11-25 14:05"
