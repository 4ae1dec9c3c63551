"""Time-series figures: metric trends (with 同比/环比 comparison and band) and today's hourly
curve against its baseline (the live strip)."""
from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from ..formatting import fmt_period, to_datetime, to_float
from ..i18n import norm_lang, t
from ._common import (as_list, build, empty_figure, formatted, hover, period_strings,
                      period_ticks, pick, trace, value_axis)
from .theme import palette


# header of the unified hover (d3 time formats; "-" drops zero padding; no locale needed)
_HOVER_FORMAT = {
    "zh": {"hour": "%-m月%-d日 %H:00", "day": "%Y年%-m月%-d日", "week": "%Y年%-m月%-d日当周",
           "month": "%Y年%-m月", "quarter": "%Y年%-m月起", "year": "%Y年"},
    "en": {"hour": "%Y-%m-%d %H:00", "day": "%Y-%m-%d", "week": "week of %Y-%m-%d",
           "month": "%Y-%m", "quarter": "quarter from %Y-%m", "year": "%Y"},
}


def _compare_column(compare: pd.DataFrame, mid: str) -> str | None:
    if mid in compare.columns:
        return mid
    return next((c for c in compare.columns if str(c).split(":")[0] == mid), None)


def trend_figure(frame: pd.DataFrame, metric_ids: Any, labels: Any = None, fmt: Any = "integer",
                 grain: str | None = "day", compare: pd.DataFrame | None = None,
                 band: Any = None, lang: str = "zh", theme: str = "light", *,
                 compare_label: str | None = None, height: int | None = None,
                 markers: bool | None = None) -> go.Figure:
    """One line per metric over ``frame['period']``.

    - ``labels``: id → label dict (or one label for one metric); ``fmt``: one format or id → fmt.
    - ``compare``: a frame aligned on the same periods (as ``metrics.query`` returns a
      ``:yoy`` / ``:pop`` column), holding ``<id>`` or ``<id>:<transform>`` columns; drawn
      dashed, named ``compare_label`` (default 同比).
    - ``band``: [lo, hi] shaded.

    Hover text and y ticks are pre-formatted (万/亿, %); ``customdata`` is the period's ISO
    date, for a click that drills into a day.

    >>> f = pd.DataFrame({"period": ["2026-11-01", "2026-12-01"], "discharges": [700, 810]})
    >>> len(trend_figure(f, "discharges", {"discharges": "出院人次"}, grain="month").data)
    1
    """
    ids = as_list(metric_ids)
    if frame is None or frame.empty or "period" not in frame.columns or not ids:
        return empty_figure(lang=lang, theme=theme, height=height)
    p = palette(theme)
    frame = frame.sort_values("period")
    x = [to_datetime(v) for v in frame["period"]]
    period_text = [fmt_period(v, grain, lang) for v in x]
    iso = period_strings(x)
    traces: list = []
    show_markers = markers if markers is not None else len(x) <= 40
    all_values: list = []
    cmp_name = compare_label or t("compare.yoy", lang)
    n_lines = sum(m in frame.columns for m in ids) * (2 if compare is not None else 1)
    unified = n_lines > 1

    def template(name: str) -> str:
        line = f"{name}: %{{text}}"
        return hover(line) if unified else hover("%{hovertext}", line)

    for i, mid in enumerate(ids):
        if mid not in frame.columns:
            continue
        name = pick(labels, mid, mid) if isinstance(labels, dict) else (labels or mid)
        mfmt = pick(fmt, mid, "integer")
        color = p["series"][i % len(p["series"])]
        ys = [to_float(v) for v in frame[mid]]
        all_values += ys
        traces.append(trace("scatter", 
            x=x, y=ys, name=name, mode="lines+markers" if show_markers else "lines",
            line={"color": color, "width": 2.5}, marker={"size": 6},
            customdata=iso, text=formatted(ys, mfmt, lang), hovertext=period_text,
            hovertemplate=template(name), connectgaps=False))
        if compare is not None and not compare.empty:
            col = _compare_column(compare, mid)
            if col is None or "period" not in compare.columns:
                continue
            cmp = compare.sort_values("period")
            cx = [to_datetime(v) for v in cmp["period"]]
            cy = [to_float(v) for v in cmp[col]]
            all_values += cy
            traces.append(trace("scatter", 
                x=cx, y=cy, name=f"{name} · {cmp_name}", mode="lines",
                line={"color": color, "width": 1.5, "dash": "dash"}, opacity=0.75,
                customdata=period_strings(cx), text=formatted(cy, mfmt, lang),
                hovertext=[fmt_period(v, grain, lang) for v in cx],
                hovertemplate=template(f"{name} · {cmp_name}")))
    first_fmt = pick(fmt, ids[0], "integer")
    shapes = []
    if band is not None and len(band) == 2 and None not in band:
        shapes.append({"type": "rect", "xref": "paper", "x0": 0, "x1": 1, "yref": "y",
                       "y0": band[0], "y1": band[1], "fillcolor": p["band"], "line":
                       {"width": 0}, "layer": "below"})
    xaxis = {"type": "date", **period_ticks(x, grain, lang),
             "hoverformat": _HOVER_FORMAT[norm_lang(lang)].get(grain or "day", "%Y-%m-%d")}
    return build(theme, traces, {
        "shapes": shapes, "hovermode": "x unified" if unified else "closest",
        "showlegend": len(traces) > 1, "xaxis": xaxis,
        "yaxis": value_axis(all_values, first_fmt, lang, extra=band or ())}, height)


_HOURS = [f"{h:02d}:00" for h in range(24)]


def _hour_of(frame: pd.DataFrame) -> list[int]:
    if "hour" in frame.columns:
        return [int(h) for h in frame["hour"]]
    return [x.hour if (x := to_datetime(v)) is not None else -1 for v in frame["period"]]


def hourly_today_vs_baseline(today_frame: pd.DataFrame, baseline_frame: pd.DataFrame | None,
                             metric: str, fmt: str = "integer", label: str | None = None,
                             baseline_label: str | None = None, cumulative: bool = False,
                             lang: str = "zh", theme: str = "light", *,
                             height: int | None = None) -> go.Figure:
    """Today's hourly curve (solid) against a baseline day (dashed, e.g. the same weekday last
    week): both frames hold ``period`` (hour timestamps) or ``hour`` (0–23) and ``metric``.
    Aligned by hour of day, so the baseline may be any date. ``cumulative`` draws running
    totals (today so far vs the baseline's day).

    >>> today = pd.DataFrame({"hour": [8, 9], "visits": [1200, 2500]})
    >>> base = pd.DataFrame({"hour": range(24), "visits": [100] * 24})
    >>> [tr.name for tr in hourly_today_vs_baseline(today, base, "visits").data]
    ['今日', '基线']
    """
    p = palette(theme)
    if today_frame is None or today_frame.empty or metric not in today_frame.columns:
        if baseline_frame is None or baseline_frame.empty:
            return empty_figure(lang=lang, theme=theme, height=height)
    traces: list = []
    all_values: list = []
    series = [(today_frame, label or t("chart.today_curve", lang), "primary", "solid"),
              (baseline_frame, baseline_label or t("chart.baseline_curve", lang), "compare",
               "dash")]
    for frame, name, colour, dash in series:
        if frame is None or frame.empty or metric not in frame.columns:
            continue
        by_hour: dict[int, float] = {}
        for h, v in zip(_hour_of(frame), frame[metric]):
            fv = to_float(v)
            if fv is not None and 0 <= h <= 23:
                by_hour[h] = by_hour.get(h, 0.0) + fv
        hours = sorted(by_hour)
        ys = [by_hour[h] for h in hours]
        if cumulative:
            ys = pd.Series(ys, dtype="float64").cumsum().tolist()
        all_values += ys
        traces.append(trace("scatter", 
            x=[_HOURS[h] for h in hours], y=ys, name=name,
            mode="lines+markers" if dash == "solid" else "lines",
            line={"color": p[colour], "width": 3 if dash == "solid" else 2, "dash": dash},
            fill="tozeroy" if dash == "solid" else None,
            fillcolor=_alpha(p[colour], 0.12) if dash == "solid" else None,
            text=formatted(ys, fmt, lang), customdata=hours,
            hovertemplate=hover(f"{name}: %{{text}}")))
    return build(theme, traces, {
        "hovermode": "x unified",
        "xaxis": {"type": "category", "categoryorder": "array", "categoryarray": _HOURS,
                  "range": [-0.5, 23.5], "tickmode": "array", "tickvals": _HOURS[::2]},
        "yaxis": value_axis(all_values, fmt, lang, include_zero=True)}, height)


def _alpha(hex_colour: str, a: float) -> str:
    """``#1664ff`` → ``rgba(22,100,255,a)`` (area fills under a line)."""
    h = hex_colour.lstrip("#")
    if len(h) != 6:
        return hex_colour
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{a})"
