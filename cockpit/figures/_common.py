"""Helpers shared by the figure modules: an empty-state figure, pre-formatted value axes,
period ticks, category names and hover templates."""
from __future__ import annotations

import datetime as dt
import math
from typing import Any, Iterable

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..formatting import fmt_number, fmt_period, fmt_ticks, to_datetime, to_float
from ..i18n import t
from .theme import palette, theme_layout


def _array(v: Any) -> Any:
    """A list as a numpy array (plotly validates arrays ~5× faster than Python lists)."""
    if not isinstance(v, (list, tuple)) or not v:
        return v
    try:
        a = np.asarray(v)
    except ValueError:  # ragged
        return list(v)
    if a.dtype != object:
        return a
    flat = [x for x in (a.ravel() if a.ndim else [])]
    if all(x is None or isinstance(x, (int, float, np.number)) for x in flat):
        return a.astype(float)  # None → nan, drawn as a gap
    if all(x is None or isinstance(x, (dt.date, np.datetime64)) for x in flat):
        return pd.to_datetime(pd.Series(flat)).to_numpy().reshape(a.shape)
    return list(v)


_DATA_ARRAYS = {"x", "y", "z", "text", "hovertext", "customdata", "labels", "values", "width",
                "measure", "base"}


def trace(kind: str, **props: Any) -> dict:
    """A trace as a dict (``{"type": kind, ...}``) with its top-level lists as numpy arrays:
    building a figure from dicts and arrays is ~4× faster than from ``go.Scatter`` with lists.
    """
    return {"type": kind, **{k: _array(v) if k in _DATA_ARRAYS else v
                             for k, v in props.items()}}


def merge(base: dict, extra: dict) -> dict:
    """``base`` updated by ``extra``, nested dicts merged (neither argument is changed)."""
    out = dict(base)
    for k, v in extra.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def build(theme: str, traces: list, layout: dict | None = None,
          height: int | None = None) -> go.Figure:
    """The figure, built once from traces and the theme's layout merged with ``layout``.

    One constructor call: updating a built figure (``update_layout``, ``add_trace``) costs
    ~10× more in plotly 7 (relayout bookkeeping on every call).
    """
    full = merge(theme_layout(theme), layout or {})
    if height:
        full["height"] = height
    return go.Figure(data=traces, layout=full)


def empty_figure(message: str | None = None, lang: str = "zh", theme: str = "light",
                 height: int | None = None) -> go.Figure:
    """A figure with no traces and a centred "暂无数据" note (the no-data state).

    >>> len(empty_figure().data), empty_figure().layout.annotations[0].text
    (0, '暂无数据')
    """
    p = palette(theme)
    return build(theme, [], {
        "xaxis": {"visible": False}, "yaxis": {"visible": False},
        "annotations": [{"text": message or t("fresh.no_data", lang), "showarrow": False,
                         "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5,
                         "font": {"color": p["muted"], "size": 14}}]}, height)


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values covering [lo, hi] (steps 1, 2, 2.5, 5 × 10^k).

    >>> nice_ticks(0, 97)
    [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
    """
    if lo > hi:
        lo, hi = hi, lo
    if hi == lo:
        hi, lo = (hi + 1, lo - 1) if hi == 0 else (hi + abs(hi) * 0.1, lo - abs(lo) * 0.1)
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start, end = math.floor(lo / step), math.ceil(hi / step)
    ticks = [round(i * step, 12) for i in range(start, end + 1)]
    return [float(x) for x in ticks]


def value_axis(values: Iterable[Any], fmt: str, lang: str, *, include_zero: bool = False,
               extra: Iterable[Any] = (), pad: float = 0.0) -> dict:
    """Axis settings with pre-formatted tick labels (万/亿 cannot be done by d3 formats).

    The range runs to the outer ticks so every tick label is shown; ``pad`` widens the data
    span first (a fraction of it: room for bubbles at the edges).
    """
    nums = [v for v in (to_float(x) for x in list(values) + list(extra)) if v is not None]
    if not nums:
        return {}
    lo, hi = min(nums), max(nums)
    if pad:
        lo, hi = lo - (hi - lo) * pad, hi + (hi - lo) * pad
    if include_zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    ticks = nice_ticks(lo, hi)
    return {"tickmode": "array", "tickvals": ticks, "ticktext": fmt_ticks(ticks, fmt, lang),
            "range": [ticks[0], ticks[-1]]}


def period_ticks(periods: list, grain: str | None, lang: str, max_ticks: int = 8) -> dict:
    """Date-axis ticks labelled by ``fmt_period`` (year shown on the first tick and when the
    year changes), thinned to at most ``max_ticks``."""
    xs = [to_datetime(p) for p in periods]
    xs = sorted({x for x in xs if x is not None})
    if not xs:
        return {}
    step = max(1, math.ceil(len(xs) / max_ticks))
    chosen = xs[::step]
    text, last_year = [], None
    for x in chosen:
        if grain in ("month", "quarter"):
            text.append(fmt_period(x, grain, lang, short=x.year == last_year))
        elif grain in ("day", "week") and x.year != last_year and len(
                {c.year for c in xs}) > 1:
            text.append(f"{fmt_period(x, grain, lang)}<br>{fmt_period(x, 'year', lang)}")
        else:
            text.append(fmt_period(x, grain, lang))
        last_year = x.year
    return {"tickmode": "array", "tickvals": chosen, "ticktext": text}


def names_for(ids: list, labels: dict | None) -> list[str]:
    """Display names for dimension ids; ids whose names collide get the id appended, because
    plotly merges equal category names into one bar."""
    labels = labels or {}
    names = [str(labels.get(i, i)) if labels.get(i) is not None else str(i) for i in ids]
    seen: dict[str, int] = {}
    for n in names:
        seen[n] = seen.get(n, 0) + 1
    return [f"{n} ({i})" if seen[n] > 1 else n for n, i in zip(names, ids)]


def formatted(values: Iterable[Any], fmt: str, lang: str) -> list[str]:
    return [fmt_number(v, fmt, lang) for v in values]


def as_list(x: Any) -> list:
    if x is None:
        return []
    return [x] if isinstance(x, (str, int, float)) else list(x)


def pick(mapping: Any, key: str, default: Any = None) -> Any:
    """``mapping[key]`` when a dict, else the value itself (a single fmt / label)."""
    if isinstance(mapping, dict):
        return mapping.get(key, default)
    return default if mapping is None else mapping


def hover(*lines: str) -> str:
    """A hover template from lines, without the trace-name box."""
    return "<br>".join(lines) + "<extra></extra>"


def period_strings(periods: Iterable[Any]) -> list[str]:
    """ISO strings of periods for customdata (click → the period's first day)."""
    out = []
    for p in periods:
        x = to_datetime(p)
        out.append("" if x is None else (x.isoformat(sep=" ", timespec="minutes")
                                         if (x.hour or x.minute) else x.date().isoformat()))
    return out
