"""Bars and structure: rankings (click to cross-filter), breakdowns, stacked bars, donuts.

Every bar's ``customdata`` is its dimension id, so a callback reads the clicked id as
``clickData["points"][0]["customdata"]``.
"""
from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from ..formatting import fmt_number, fmt_period, to_float
from ..i18n import t
from ._common import as_list, build, empty_figure, formatted, hover, names_for, trace, value_axis
from .theme import palette


def _bar_figure(ids: list, values: list, names: list, fmt: str, colours: Any, metric_name: str,
                orientation: str, lang: str, theme: str, height: int | None,
                reverse_categories: bool) -> go.Figure:
    text = formatted(values, fmt, lang)
    horizontal = orientation == "h"
    tr = trace("bar", 
        x=values if horizontal else names, y=names if horizontal else values,
        orientation=orientation, customdata=ids, text=text, textposition="outside",
        cliponaxis=False, marker={"color": colours}, name=metric_name,
        hovertemplate=hover(f"%{{{'y' if horizontal else 'x'}}}", f"{metric_name}: %{{text}}"))
    value_ax = value_axis(values, fmt, lang, include_zero=True)
    cat_ax = {"type": "category", "categoryorder": "array", "categoryarray": names}
    layout: dict = {"showlegend": False, "bargap": 0.25}
    if horizontal:
        if reverse_categories:
            cat_ax["autorange"] = "reversed"
        layout.update(yaxis=cat_ax, xaxis=value_ax)
        height = height or max(240, 28 * len(names) + 60)
    else:
        layout.update(xaxis=cat_ax, yaxis=value_ax)
    return build(theme, [tr], layout, height)


def bar_ranking(frame: pd.DataFrame, dim: str, metric: str, labels: dict | None = None,
                fmt: str = "integer", top: int | None = None, highlight: Any = None,
                orientation: str = "h", lang: str = "zh", theme: str = "light", *,
                ascending: bool = False, metric_label: str | None = None,
                height: int | None = None) -> go.Figure:
    """Bars of ``metric`` by ``dim``, largest first (``ascending=True`` for "lower is
    better" rankings), the first ``top`` only; ``highlight`` (an id or ids) in the highlight
    colour. Missing values go last. Horizontal bars read top-down.

    >>> f = pd.DataFrame({"department": ["D1", "D2"], "discharges": [5, 9]})
    >>> fig = bar_ranking(f, "department", "discharges", {"D1": "心内科", "D2": "骨科"})
    >>> fig.data[0].y.tolist(), fig.data[0].customdata.tolist()
    (['骨科', '心内科'], ['D2', 'D1'])
    """
    if frame is None or frame.empty or dim not in frame.columns or metric not in frame.columns:
        return empty_figure(lang=lang, theme=theme, height=height)
    p = palette(theme)
    ordered = frame.assign(_v=pd.to_numeric(frame[metric], errors="coerce")) \
        .sort_values("_v", ascending=ascending, na_position="last", kind="stable")
    if top:
        ordered = ordered.head(top)
    ids = list(ordered[dim])
    values = [to_float(v) for v in ordered["_v"]]
    marks = {str(h) for h in as_list(highlight)}
    colours = [p["highlight"] if str(i) in marks else p["primary"] for i in ids]
    return _bar_figure(ids, values, names_for(ids, labels), fmt, colours,
                       metric_label or metric, orientation, lang, theme, height,
                       reverse_categories=True)


def breakdown_bar(frame: pd.DataFrame, dim: str, metric: str, labels: dict | None = None,
                  fmt: str = "integer", orientation: str = "v", sort: bool = False,
                  lang: str = "zh", theme: str = "light", *, highlight: Any = None,
                  metric_label: str | None = None, grain: str | None = None,
                  height: int | None = None) -> go.Figure:
    """Bars of ``metric`` by ``dim`` in the frame's order (``sort=True``: largest first), e.g.
    revenue by category or visits by weekday. ``dim="period"`` labels bars by ``grain``.

    >>> f = pd.DataFrame({"category": ["drug", "exam"], "revenue": [3e7, 1.2e8]})
    >>> breakdown_bar(f, "category", "revenue", fmt="yuan").data[0].text.tolist()
    ['¥3,000.0万', '¥1.20亿']
    """
    if frame is None or frame.empty or dim not in frame.columns or metric not in frame.columns:
        return empty_figure(lang=lang, theme=theme, height=height)
    p = palette(theme)
    rows = frame.sort_values(metric, ascending=False, kind="stable") if sort else frame
    ids = list(rows[dim])
    if dim == "period":
        names = [fmt_period(i, grain, lang) for i in ids]
        ids = [str(i) for i in ids]
    else:
        names = names_for(ids, labels)
    marks = {str(h) for h in as_list(highlight)}
    colours = [p["highlight"] if str(i) in marks else p["primary"] for i in ids]
    return _bar_figure(ids, [to_float(v) for v in rows[metric]], names, fmt, colours,
                       metric_label or metric, orientation, lang, theme, height,
                       reverse_categories=True)


def stacked_bar(frame: pd.DataFrame, dim: str, metric: str, stack_dim: str,
                labels: dict | None = None, stack_labels: dict | None = None,
                fmt: str = "integer", normalize: bool = False, orientation: str = "v",
                lang: str = "zh", theme: str = "light", *, grain: str | None = None,
                stack_order: list | None = None, height: int | None = None) -> go.Figure:
    """One bar per ``dim`` value, stacked by ``stack_dim`` (one trace per stack value, e.g.
    surgeries by grade per month). ``normalize=True``: 100 % bars (hover shows share and
    amount). ``customdata`` is the ``dim`` id.

    >>> f = pd.DataFrame({"department": ["D1", "D1", "D2"], "surgery_grade": ["3", "4", "4"],
    ...                   "surgeries": [10, 5, 8]})
    >>> len(stacked_bar(f, "department", "surgeries", "surgery_grade").data)
    2
    """
    need = {dim, metric, stack_dim}
    if frame is None or frame.empty or not need <= set(frame.columns):
        return empty_figure(lang=lang, theme=theme, height=height)
    p = palette(theme)
    pivot = frame.pivot_table(index=dim, columns=stack_dim, values=metric, aggfunc="sum",
                              sort=False)
    dim_ids = list(pivot.index)
    stacks = [s for s in (stack_order or list(pivot.columns)) if s in pivot.columns]
    names = [fmt_period(i, grain, lang) for i in dim_ids] if dim == "period" \
        else names_for(dim_ids, labels)
    custom = [str(i) for i in dim_ids] if dim == "period" else dim_ids
    totals = pivot[stacks].sum(axis=1, min_count=1)
    traces: list = []
    horizontal = orientation == "h"
    stack_names = names_for(stacks, stack_labels)
    for k, (s, sname) in enumerate(zip(stacks, stack_names)):
        raw = [to_float(v) for v in pivot[s]]
        shares = [None if v is None or not to_float(tot) else v / tot
                  for v, tot in zip(raw, totals)]
        ys = shares if normalize else raw
        hover_text = [f"{fmt_number(v, fmt, lang)} ({fmt_number(sh, 'percent', lang)})"
                      for v, sh in zip(raw, shares)]
        traces.append(trace("bar", 
            x=ys if horizontal else names, y=names if horizontal else ys,
            orientation=orientation, name=sname, customdata=custom, text=hover_text,
            textposition="none", marker={"color": p["series"][k % len(p["series"])]},
            hovertemplate=hover(f"%{{{'y' if horizontal else 'x'}}}",
                                f"{sname}: %{{text}}")))
    sums = [to_float(v) for v in totals]
    value_ax = value_axis([0, 1] if normalize else sums, "percent" if normalize else fmt, lang,
                          include_zero=True)
    cat_ax = {"type": "category", "categoryorder": "array", "categoryarray": names}
    layout = {"barmode": "stack", "bargap": 0.3, "showlegend": True}
    if horizontal:
        layout["legend"] = {"traceorder": "normal"}
        layout.update(yaxis={"autorange": "reversed", **cat_ax}, xaxis=value_ax)
    else:
        layout.update(xaxis=cat_ax, yaxis=value_ax)
    return build(theme, traces, layout, height)


def donut(frame: pd.DataFrame, dim: str, metric: str, labels: dict | None = None,
          fmt: str = "integer", lang: str = "zh", theme: str = "light", *,
          max_slices: int = 8, center_text: str | None = None,
          height: int | None = None) -> go.Figure:
    """Structure of a total (e.g. revenue by category), largest slice first; slices past
    ``max_slices`` merge into 其他 / Other (customdata ``__other__``). The total is shown in
    the hole unless ``center_text`` is given.

    >>> f = pd.DataFrame({"category": ["drug", "exam", "lab"], "revenue": [30, 50, 20]})
    >>> donut(f, "category", "revenue").data[0].customdata.tolist()
    ['exam', 'drug', 'lab']
    """
    if frame is None or frame.empty or dim not in frame.columns or metric not in frame.columns:
        return empty_figure(lang=lang, theme=theme, height=height)
    p = palette(theme)
    rows = frame.assign(_v=pd.to_numeric(frame[metric], errors="coerce")).dropna(subset=["_v"])
    rows = rows[rows["_v"] > 0].sort_values("_v", ascending=False, kind="stable")
    ids, values = list(rows[dim]), [float(v) for v in rows["_v"]]
    names = names_for(ids, labels)
    if len(ids) > max_slices:
        keep = max_slices - 1
        rest = sum(values[keep:])
        ids, values, names = ids[:keep] + ["__other__"], values[:keep] + [rest], \
            names[:keep] + [t("common.other", lang)]
    total = sum(values)
    tr = trace("pie", 
        labels=names, values=values, customdata=ids, hole=0.58, sort=False,
        direction="clockwise", text=formatted(values, fmt, lang),
        texttemplate="%{percent:.1%}", insidetextorientation="horizontal",
        marker={"colors": [p["series"][i % len(p["series"])] for i in range(len(ids))],
                "line": {"color": p["paper"], "width": 2}},
        hovertemplate=hover("%{label}", "%{text} (%{percent})"))
    centre = center_text if center_text is not None else \
        f"{t('common.total', lang)}<br><b>{fmt_number(total, fmt, lang)}</b>"
    return build(theme, [tr], {
        "showlegend": True,
        "legend": {"orientation": "v", "x": 1.02, "y": 0.5, "yanchor": "middle"},
        "annotations": [{"text": centre, "showarrow": False, "x": 0.5, "y": 0.5,
                         "xref": "paper", "yref": "paper",
                         "font": {"size": 14, "color": p["text"]}}]}, height)
