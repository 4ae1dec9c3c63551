"""Chinese-first formatting of numbers, changes and dates for the cockpit and the wallboard.

Pure functions, no I/O. Every number on screen goes through `fmt_number` so that a card, a
hover label and an axis tick agree.

Conventions (decided here, once):

- Large numbers: from 10万 (1e5) a Chinese reader expects 万/亿: ``123,456 → 12.3万``,
  ``12,345,000 → 1,234.5万``, ``328,000,000 → 3.28亿`` (万 with 1 decimal, 亿 with 2).
  Below 1e5 the full number with thousands separators: ``8,765``. English uses the same
  thresholds with K / M / B: ``12.3K`` ... ``328.0M``, ``1.23B``.
- ``compact=False`` prints the full number with separators (tables, exports).
- Money: a ``¥`` prefix and no ``元`` suffix (¥ and 元 are the same unit): ``¥3.28亿``,
  ``¥1,234.5万``, ``¥23,457`` (integer from ¥1万), ``¥456.78`` (2 decimals below ¥1万).
- Percent: the input is a fraction. ``0.731 → 73.1%``; small rates keep their precision:
  ``0.005 → 0.50%``, ``0.0003 → 0.030%``.
- Minus sign: ASCII ``-`` before the currency sign: ``-¥123.5万``.
- Missing (None, NaN, inf, unparsable): ``—``.
- Changes of a percent metric are in percentage points: ``▲ 1.1 pp`` (both languages; short
  enough for a card); other changes are relative: ``▲ 3.2%``.

>>> fmt_number(328_000_000, "yuan")
'¥3.28亿'
>>> fmt_number(0.731, "percent")
'73.1%'
"""
from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any, NamedTuple

MISSING = "—"
ARROW_UP, ARROW_DOWN, ARROW_FLAT = "▲", "▼", "＝"
FORMATS = ("integer", "decimal1", "decimal2", "percent", "yuan", "minutes", "days", "ratio")

_ZH_SCALES = ((1e8, "亿", 2), (1e4, "万", 1))
_EN_SCALES = ((1e9, "B", 2), (1e6, "M", 1), (1e3, "K", 1))
_COMPACT_FROM = 1e5
_UNIT_SUFFIX = {"minutes": {"zh": " 分钟", "en": " min"}, "days": {"zh": " 天", "en": " d"}}
_BASE_DECIMALS = {"integer": 0, "decimal1": 1, "decimal2": 2, "ratio": 2, "minutes": 1,
                  "days": 1}


def to_float(value: Any) -> float | None:
    """A finite float, or None for None / NaN / inf / text that is not a number.

    >>> to_float("1.5"), to_float(None), to_float(float("nan"))
    (1.5, None, None)
    """
    if value is None or isinstance(value, bool):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _lang(lang: str | None) -> str:
    return "en" if (lang or "zh").lower().startswith("en") else "zh"


def _group(x: float, decimals: int) -> str:
    return f"{x:,.{decimals}f}"


def _scaled(a: float, decimals: int, lang: str, compact: bool) -> str:
    """`a` ≥ 0 with separators, or scaled to 万/亿 (K/M/B) from 1e5 when compact."""
    if not compact or round(a, decimals) < _COMPACT_FROM:
        return _group(a, decimals)
    scales = _ZH_SCALES if lang == "zh" else _EN_SCALES
    for i, (size, suffix, dec) in enumerate(scales):
        if a >= size or i == len(scales) - 1:
            # promote when rounding would print 10,000.0万 instead of 1.00亿
            if i > 0 and round(a / size, dec) * size >= scales[i - 1][0]:
                size, suffix, dec = scales[i - 1]
            return f"{_group(a / size, dec)}{suffix}"
    return _group(a, decimals)  # pragma: no cover (scales is never empty)


def _percent_decimals(pct: float) -> int:
    a = abs(pct)
    if a == 0 or a >= 1:
        return 1
    return 2 if a >= 0.1 else 3


def fmt_number(value: Any, fmt: str = "integer", lang: str = "zh", *, compact: bool = True,
               decimals: int | None = None) -> str:
    """Format one value by the metric's ``format``.

    >>> fmt_number(12345, "integer"), fmt_number(12_345_000, "integer")
    ('12,345', '1,234.5万')
    >>> fmt_number(328_000_000, "integer", "en"), fmt_number(456.78, "yuan")
    ('328.0M', '¥456.78')
    >>> fmt_number(12.5, "minutes"), fmt_number(12.5, "minutes", "en"), fmt_number(None, "days")
    ('12.5 分钟', '12.5 min', '—')
    """
    v = to_float(value)
    if v is None:
        return MISSING
    lang = _lang(lang)
    sign = "-" if v < 0 else ""
    a = abs(v)
    if fmt == "percent":
        pct = a * 100
        d = _percent_decimals(pct) if decimals is None else decimals
        text = _group(pct, d)
        return f"{'' if float(text.replace(',', '')) == 0 else sign}{text}%"
    if fmt == "yuan":
        d = (2 if round(a, 2) < 1e4 else 0) if decimals is None else decimals
        body = _scaled(a, d, lang, compact)
        return f"{sign if _nonzero(body) else ''}¥{body}"
    d = _BASE_DECIMALS.get(fmt, 2) if decimals is None else decimals
    body = _scaled(a, d, lang, compact)
    return f"{sign if _nonzero(body) else ''}{body}{_UNIT_SUFFIX.get(fmt, {}).get(lang, '')}"


def _nonzero(body: str) -> bool:
    return any(c in "123456789" for c in body)


def fmt_ticks(values: list, fmt: str, lang: str = "zh") -> list[str]:
    """Axis tick labels in one common unit, trailing zero decimals dropped.

    The unit (万/亿, K/M/B) is chosen from the largest tick so an axis never mixes
    ``50,000`` and ``10.0万``.

    >>> fmt_ticks([0, 50_000, 100_000, 150_000], "integer")
    ['0', '5万', '10万', '15万']
    >>> fmt_ticks([0.7, 0.75, 0.8], "percent")
    ['70%', '75%', '80%']
    """
    nums = [to_float(v) for v in values]
    finite = [abs(v) for v in nums if v is not None]
    top = max(finite) if finite else 0.0
    lang = _lang(lang)
    if fmt == "percent":
        labels = [fmt_number(v, "percent", lang, decimals=2) for v in nums]
    else:
        size, suffix = 1.0, ""
        if top >= _COMPACT_FROM:
            for s, sfx, _ in (_ZH_SCALES if lang == "zh" else _EN_SCALES):
                if top >= s:
                    size, suffix = s, sfx
                    break
        unit = _UNIT_SUFFIX.get(fmt, {}).get(lang, "")
        pre = "¥" if fmt == "yuan" else ""
        labels = []
        for v in nums:
            if v is None:
                labels.append(MISSING)
                continue
            if v == 0:
                labels.append(f"{pre}0{unit}")
                continue
            body = _group(abs(v) / size, 2)
            neg = "-" if v < 0 and _nonzero(body) else ""
            labels.append(f"{neg}{pre}{body}{suffix}{unit}")
    return _trim_decimals(labels)


_DEC = re.compile(r"(\d)\.(\d+)")


def _trim_decimals(labels: list[str]) -> list[str]:
    """Drop the trailing decimals that are zero in every label (labels stay aligned)."""
    decs = [m.group(2) if (m := _DEC.search(s)) else "" for s in labels]
    width = max((len(d.rstrip("0")) for d in decs), default=0)

    def cut(m: re.Match) -> str:
        return m.group(1) + ("." + m.group(2)[:width] if width else "")

    return [_DEC.sub(cut, s, count=1) for s in labels]


class Delta(NamedTuple):
    """A formatted change: ``text`` (``▲ 3.2%``), ``arrow``, ``tone`` (good / bad /
    neutral) and the raw ``change`` (relative fraction, or absolute difference for pp)."""

    text: str
    arrow: str
    tone: str
    change: float | None


def tone_of(change: float | None, direction: str) -> str:
    """``good`` / ``bad`` / ``neutral`` for a change given the metric's direction.

    >>> tone_of(0.1, "up"), tone_of(0.1, "down"), tone_of(0.1, "band"), tone_of(0, "up")
    ('good', 'bad', 'neutral', 'neutral')
    """
    if change is None or change == 0 or direction not in ("up", "down"):
        return "neutral"
    return "good" if (change > 0) == (direction == "up") else "bad"


def _arrow(change: float) -> str:
    return ARROW_UP if change > 0 else ARROW_DOWN if change < 0 else ARROW_FLAT


def fmt_delta(cur: Any, prev: Any, fmt: str = "integer", direction: str = "up",
              lang: str = "zh", *, mode: str | None = None) -> Delta:
    """The change from ``prev`` to ``cur``.

    ``mode``: ``relative`` ((cur − prev) / |prev|, shown as %), ``pp`` (difference of two
    fractions in percentage points), ``absolute`` (difference in the metric's format);
    default ``pp`` for percent metrics, else ``relative``.

    >>> fmt_delta(103.2, 100, "integer", "up")
    Delta(text='▲ 3.2%', arrow='▲', tone='good', change=0.032...)
    >>> fmt_delta(0.720, 0.731, "percent", "down").text
    '▼ 1.1 pp'
    >>> fmt_delta(5, 0, "integer", "up").text
    '—'
    """
    c, p = to_float(cur), to_float(prev)
    mode = mode or ("pp" if fmt == "percent" else "relative")
    if c is None or p is None or (mode == "relative" and p == 0):
        return Delta(MISSING, "", "neutral", None)
    if mode == "relative":
        change = (c - p) / abs(p)
        shown = f"{_group(abs(change) * 100, 1)}%"
    elif mode == "pp":
        change = c - p
        shown = f"{_group(abs(change) * 100, 1)} pp"
    else:
        change = c - p
        shown = fmt_number(abs(change), fmt, lang)
    if not _nonzero(shown.split(" ")[0]):
        change = 0.0
    arrow = _arrow(change)
    return Delta(f"{arrow} {shown}", arrow, tone_of(change, direction), change)


def fmt_growth(growth: Any, direction: str = "up", lang: str = "zh") -> Delta:
    """A growth fraction already computed (a ``:yoy_growth`` column) as a Delta.

    >>> fmt_growth(-0.011, "down").text, fmt_growth(-0.011, "down").tone
    ('▼ 1.1%', 'good')
    """
    g = to_float(growth)
    if g is None:
        return Delta(MISSING, "", "neutral", None)
    shown = f"{_group(abs(g) * 100, 1)}%"
    change = g if _nonzero(shown) else 0.0
    arrow = _arrow(change)
    return Delta(f"{arrow} {shown}", arrow, tone_of(change, direction), change)


def band_status(value: Any, band: Any, direction: str | None = None) -> str | None:
    """``in`` / ``below`` / ``above`` the band [lo, hi] (inclusive), None when unknown.

    >>> band_status(0.93, [0.9, 1.0]), band_status(1.2, [0.9, 1.0]), band_status(None, [0, 1])
    ('in', 'above', None)
    """
    v = to_float(value)
    if v is None or not band or len(band) != 2:
        return None
    lo, hi = to_float(band[0]), to_float(band[1])
    if lo is not None and v < lo:
        return "below"
    if hi is not None and v > hi:
        return "above"
    return "in"


def band_tone(status: str | None, direction: str) -> str:
    """Tone of a band status: outside a ``band`` metric's band is bad; for ``up`` metrics
    below is bad and above good; for ``down`` the reverse.

    >>> band_tone("below", "up"), band_tone("above", "band"), band_tone("in", "down")
    ('bad', 'bad', 'good')
    """
    if status is None:
        return "neutral"
    if status == "in":
        return "good"
    if direction == "band":
        return "bad"
    return "bad" if (status == "below") == (direction == "up") else "good"


# -- dates -----------------------------------------------------------------------------------

_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
              "Dec")


def to_datetime(d: Any) -> dt.datetime | None:
    """A datetime from a date, datetime, pandas Timestamp, numpy datetime64 or ISO text
    (None for None / NaN / NaT / unparsable text).

    >>> to_datetime("2026-11-25")
    datetime.datetime(2026, 11, 25, 0, 0)
    """
    if d is None or d != d:  # None, NaN, NaT
        return None
    if hasattr(d, "to_pydatetime"):  # pandas Timestamp (NaT has no real date)
        try:
            d = d.to_pydatetime()
        except (ValueError, TypeError):
            return None
    if isinstance(d, dt.datetime):
        return d  # an aware time stays in its own zone (the hospital's, from the server)
    if isinstance(d, dt.date):
        return dt.datetime(d.year, d.month, d.day)
    if isinstance(d, str):
        try:
            return dt.datetime.fromisoformat(d.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    try:  # numpy datetime64
        import pandas as pd

        ts = pd.Timestamp(d)
        return None if pd.isna(ts) else ts.to_pydatetime()
    except (ValueError, TypeError):
        return None


def fmt_date(d: Any, lang: str = "zh") -> str:
    """A date as the hospital writes it.

    >>> fmt_date("2026-11-25"), fmt_date("2026-11-25", "en")
    ('2026年11月25日', '2026-11-25')
    """
    x = to_datetime(d)
    if x is None:
        return MISSING
    return f"{x.year}年{x.month}月{x.day}日" if _lang(lang) == "zh" else x.strftime("%Y-%m-%d")


def fmt_datetime(ts: Any, lang: str = "zh") -> str:
    """A moment to the minute, the same in both languages (as-of and load times).

    >>> fmt_datetime("2026-11-25T14:05:33")
    '2026-11-25 14:05'
    """
    x = to_datetime(ts)
    return MISSING if x is None else x.strftime("%Y-%m-%d %H:%M")


def fmt_period(period: Any, grain: str | None = "day", lang: str = "zh", *,
               short: bool = False) -> str:
    """A time bucket (its first day, or its hour) as the hospital writes it.

    ``short`` drops the year (axis ticks after the first of a year).

    >>> [fmt_period("2026-11-25", g) for g in ("day", "week", "month", "quarter", "year")]
    ['11月25日', '第48周', '2026年11月', '2026年第4季度', '2026年']
    >>> [fmt_period("2026-11-25", g, "en") for g in ("day", "week", "month", "quarter", "year")]
    ['Nov 25', 'W48', 'Nov 2026', '2026 Q4', '2026']
    >>> fmt_period("2026-11-25 14:00", "hour"), fmt_period("2026-11-01", "month", short=True)
    ('14:00', '11月')
    """
    x = to_datetime(period)
    if x is None:
        return MISSING
    zh = _lang(lang) == "zh"
    q = (x.month - 1) // 3 + 1
    if grain == "hour":
        return x.strftime("%H:00")
    if grain == "day":
        return f"{x.month}月{x.day}日" if zh else f"{_EN_MONTHS[x.month - 1]} {x.day}"
    if grain == "week":
        return f"第{x.isocalendar()[1]}周" if zh else f"W{x.isocalendar()[1]}"
    if grain == "month":
        if short:
            return f"{x.month}月" if zh else _EN_MONTHS[x.month - 1]
        return f"{x.year}年{x.month}月" if zh else f"{_EN_MONTHS[x.month - 1]} {x.year}"
    if grain == "quarter":
        if short:
            return f"第{q}季度" if zh else f"Q{q}"
        return f"{x.year}年第{q}季度" if zh else f"{x.year} Q{q}"
    if grain == "year":
        return f"{x.year}年" if zh else str(x.year)
    return fmt_date(x, lang)
