"""Distributions: a histogram with pre-formatted bin ranges, and a heat-map (e.g. bed occupancy
by department × day)."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..formatting import MISSING, fmt_number, fmt_period, to_float
from ..i18n import t
from ._common import build, empty_figure, hover, names_for, trace, value_axis
from .theme import palette


def distribution_histogram(values: Iterable[Any], fmt: str = "integer", bins: int = 20,
                           label: str | None = None, lang: str = "zh", theme: str = "light",
                           *, band: Any = None, marker: Any = None,
                           marker_label: str | None = None,
                           height: int | None = None) -> go.Figure:
    """Histogram of ``values`` (e.g. waiting minutes, lengths of stay), binned here so every
    hover shows formatted bin edges (``10.0 分钟 – 12.5 分钟: 321``). ``band`` shades the typical
    range; ``marker`` draws a vertical line (e.g. the hospital's value).

    >>> fig = distribution_histogram([1, 2, 2, 3, 9], "minutes", bins=4)
    >>> len(fig.data), int(sum(fig.data[0].y))
    (1, 5)
    """
    arr = np.array([v for v in (to_float(x) for x in values) if v is not None], dtype=float)
    if arr.size == 0:
        return empty_figure(lang=lang, theme=theme, height=height)
    p = palette(theme)
    counts, edges = np.histogram(arr, bins=max(1, int(bins)))
    centers = (edges[:-1] + edges[1:]) / 2
    ranges = [f"{fmt_number(a, fmt, lang)} – {fmt_number(b, fmt, lang)}"
              for a, b in zip(edges[:-1], edges[1:])]
    name = label or t("chart.frequency", lang)
    tr = trace("bar", 
        x=centers.tolist(), y=counts.tolist(), width=(edges[1:] - edges[:-1]).tolist(),
        customdata=[[float(a), float(b)] for a, b in zip(edges[:-1], edges[1:])],
        hovertext=ranges, text=[f"{c:,}" for c in counts], textposition="none",
        marker={"color": p["primary"], "line": {"color": p["paper"], "width": 1}},
        name=name, hovertemplate=hover("%{hovertext}", f"{t('chart.frequency', lang)}: "
                                                       "%{text}"))
    shapes, annotations = [], []
    if band is not None and len(band) == 2 and None not in band:
        shapes.append({"type": "rect", "xref": "x", "x0": band[0], "x1": band[1],
                       "yref": "paper", "y0": 0, "y1": 1, "fillcolor": p["band"],
                       "line": {"width": 0}, "layer": "below"})
    m = to_float(marker)
    if m is not None:
        shapes.append({"type": "line", "xref": "x", "x0": m, "x1": m, "yref": "paper",
                       "y0": 0, "y1": 1, "line": {"color": p["highlight"], "width": 2,
                                                   "dash": "dash"}})
        annotations.append({"x": m, "y": 1, "xref": "x", "yref": "paper", "showarrow": False,
                            "yanchor": "bottom", "font": {"color": p["highlight"]},
                            "text": f"{marker_label or ''} {fmt_number(m, fmt, lang)}".strip()})
    return build(theme, [tr], {
        "shapes": shapes, "annotations": annotations, "bargap": 0, "showlegend": False,
        "xaxis": value_axis(edges.tolist(), fmt, lang, extra=[m] if m is not None else []),
        "yaxis": value_axis(counts.tolist(), "integer", lang, include_zero=True)}, height)


def heatmap(frame: pd.DataFrame, x: str, y: str, z: str, fmt: str = "percent",
            x_labels: dict | None = None, y_labels: dict | None = None,
            grain: str | None = "day", lang: str = "zh", theme: str = "light", *,
            zmin: float | None = None, zmax: float | None = None,
            colorscale: Any = None, height: int | None = None) -> go.Figure:
    """A ``y`` × ``x`` grid of ``z`` (e.g. occupancy by department × day), cell text formatted,
    empty cells shown as —. ``x == "period"`` labels columns by ``grain``. Each cell's
    ``customdata`` is its ``y`` id (click → that department).

    >>> f = pd.DataFrame({"period": ["2026-11-24", "2026-11-25", "2026-11-25"],
    ...                   "department": ["D1", "D1", "D2"], "occ": [0.91, 0.95, 1.02]})
    >>> hm = heatmap(f, "period", "department", "occ")
    >>> str(hm.data[0].text[1][0])
    '—'
    """
    if frame is None or frame.empty or not {x, y, z} <= set(frame.columns):
        return empty_figure(lang=lang, theme=theme, height=height)
    p = palette(theme)
    grid = frame.pivot_table(index=y, columns=x, values=z, aggfunc="sum", sort=True,
                             dropna=False)
    grid = grid.reindex(columns=sorted(grid.columns), index=list(dict.fromkeys(frame[y])))
    ys_ids, xs_ids = list(grid.index), list(grid.columns)
    if x == "period":
        xs_names = [fmt_period(v, grain, lang) for v in xs_ids]
    else:
        xs_names = names_for(xs_ids, x_labels)
    ys_names = names_for(ys_ids, y_labels)
    zvals = [[to_float(v) for v in row] for row in grid.to_numpy(dtype=float, na_value=np.nan)]
    text = [[fmt_number(v, fmt, lang) if v is not None else MISSING for v in row]
            for row in zvals]
    tr = trace("heatmap", 
        z=zvals, x=xs_names, y=ys_names, text=text, customdata=[[i] * len(xs_ids)
                                                                for i in ys_ids],
        colorscale=colorscale or p["sequential"], zmin=zmin, zmax=zmax, xgap=1, ygap=1,
        hoverongaps=True, texttemplate="%{text}" if len(xs_ids) * len(ys_ids) <= 200 else None,
        hovertemplate=hover("%{y} · %{x}", "%{text}"),
        colorbar={"tickfont": {"color": p["muted"]}, "outlinewidth": 0,
                  **_colorbar_ticks(zvals, fmt, lang)})
    return build(theme, [tr], {
        "yaxis": {"type": "category", "autorange": "reversed", "showgrid": False},
        "xaxis": {"type": "category", "showgrid": False}},
        height or max(260, 22 * len(ys_ids) + 80))


def _colorbar_ticks(zvals: list, fmt: str, lang: str) -> dict:
    flat = [v for row in zvals for v in row if v is not None]
    axis = value_axis(flat, fmt, lang)
    return {"tickmode": "array", "tickvals": axis["tickvals"], "ticktext": axis["ticktext"]} \
        if axis else {}
