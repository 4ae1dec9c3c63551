"""DRG figures for finance and insurance analysts: the CMI × cost-index quadrant, the Pareto of
losses, cost structure (100 % bars) and the payment-vs-cost waterfall."""
from __future__ import annotations

from typing import Any, Iterable

import pandas as pd
import plotly.graph_objects as go

from ..formatting import fmt_number, fmt_ticks, to_float
from ..i18n import t
from ._common import build, empty_figure, formatted, hover, names_for, trace, value_axis
from .theme import palette


def _quadrant_tone(cmi: float | None, ci: float | None, ref_cmi: float) -> str:
    if cmi is None or ci is None:
        return "neutral"
    if cmi >= ref_cmi:
        return "good" if ci <= 1 else "warn"
    return "primary" if ci <= 1 else "bad"


def quadrant(frame: pd.DataFrame, labels: dict | None = None,
             hospital_cmi: float | None = None, lang: str = "zh", theme: str = "light", *,
             dim: str = "department", x: str = "cmi", y: str = "cost_index",
             size: str = "discharges", show_names: bool | None = None,
             height: int | None = None) -> go.Figure:
    """Four-quadrant chart: one bubble per ``dim`` at (CMI, cost index), area ∝ cases.
    Lines at CMI = ``hospital_cmi`` (default: the case-weighted mean of the rows; pass the
    hospital's own ``cmi`` from ``metrics.query`` when you have it) and cost index = 1.
    Bubbles are coloured by quadrant (high CMI · low cost good, low CMI · high cost bad).

    >>> f = pd.DataFrame({"department": ["D1", "D2"], "cmi": [1.4, 0.9],
    ...                   "cost_index": [0.9, 1.2], "discharges": [300, 100]})
    >>> fig = quadrant(f, {"D1": "心内科", "D2": "普外科"}, hospital_cmi=1.2)
    >>> fig.data[0].customdata.tolist(), len(fig.layout.shapes)
    (['D1', 'D2'], 2)
    """
    if frame is None or frame.empty or not {dim, x, y} <= set(frame.columns):
        return empty_figure(lang=lang, theme=theme, height=height)
    p = palette(theme)
    rows = frame.dropna(subset=[x, y])
    ids = list(rows[dim])
    cmis = [to_float(v) for v in rows[x]]
    cis = [to_float(v) for v in rows[y]]
    cases = [to_float(v) or 0.0 for v in rows[size]] if size in rows.columns else [1.0] * len(ids)
    if hospital_cmi is None:
        w = sum(cases)
        hospital_cmi = sum(c * n for c, n in zip(cmis, cases)) / w if w else \
            sum(cmis) / max(len(cmis), 1)
    names = names_for(ids, labels)
    biggest = max(cases) if cases and max(cases) > 0 else 1.0
    hover_text = [f"CMI {fmt_number(c, 'decimal2', lang)} · {t('quadrant.cost_index', lang)} "
                  f"{fmt_number(ci, 'decimal2', lang)}<br>{t('common.cases', lang)} "
                  f"{fmt_number(n, 'integer', lang)}" for c, ci, n in zip(cmis, cis, cases)]
    colours = [p[_quadrant_tone(c, ci, hospital_cmi)] for c, ci in zip(cmis, cis)]
    show = show_names if show_names is not None else len(ids) <= 30
    tr = trace("scatter", 
        x=cmis, y=cis, mode="markers+text" if show else "markers", text=names,
        textposition="top center", textfont={"size": 11, "color": p["muted"]},
        customdata=ids, hovertext=hover_text, name=t("quadrant.cmi", lang),
        marker={"size": cases, "sizemode": "area", "sizeref": 2.0 * biggest / 48 ** 2,
                "sizemin": 5, "color": colours, "opacity": 0.8,
                "line": {"color": p["paper"], "width": 1}},
        hovertemplate=hover("<b>%{text}</b>", "%{hovertext}"))
    line = {"color": p["muted"], "width": 1.5, "dash": "dash"}
    layout = dict(
        showlegend=False,
        shapes=[{"type": "line", "xref": "x", "x0": hospital_cmi, "x1": hospital_cmi,
                 "yref": "paper", "y0": 0, "y1": 1, "line": line},
                {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": 1,
                 "y1": 1, "line": line}],
        annotations=[_corner(t(f"quadrant.{k}", lang), xa, ya, p[tone])
                     for k, xa, ya, tone in (("high_cmi_low_cost", 1, 0, "good"),
                                             ("high_cmi_high_cost", 1, 1, "warn"),
                                             ("low_cmi_low_cost", 0, 0, "muted"),
                                             ("low_cmi_high_cost", 0, 1, "bad"))]
        + [{"x": hospital_cmi, "y": 1, "xref": "x", "yref": "paper", "showarrow": False,
            "yanchor": "bottom", "font": {"color": p["muted"], "size": 11},
            "text": t("chart.hospital_cmi", lang,
                      value=fmt_number(hospital_cmi, "decimal2", lang))}])
    layout["xaxis"] = {"title": {"text": t("quadrant.cmi", lang)}, "zeroline": False,
                       **value_axis([hospital_cmi] + cmis, "decimal2", lang, pad=0.08)}
    layout["yaxis"] = {"title": {"text": t("quadrant.cost_index", lang)}, "zeroline": False,
                       **value_axis([1.0] + cis, "decimal2", lang, pad=0.1)}
    return build(theme, [tr], layout, height or 460)


def _corner(text: str, x: int, y: int, colour: str) -> dict:
    return {"text": text, "xref": "paper", "yref": "paper", "x": 0.99 if x else 0.01,
            "y": 0.98 if y else 0.02, "xanchor": "right" if x else "left",
            "yanchor": "top" if y else "bottom", "showarrow": False,
            "font": {"color": colour, "size": 12}, "opacity": 0.9}


def pareto(frame: pd.DataFrame, labels: dict | None = None, lang: str = "zh",
           theme: str = "light", *, dim: str = "drg", value: str = "loss", fmt: str = "yuan",
           top: int | None = 20, height: int | None = None) -> go.Figure:
    """Pareto of losses: bars of ``value`` (a loss as a positive amount; rows ≤ 0 are not
    losses and are left out) largest first, and the cumulative share of all losses as a line
    on a secondary axis (0–100 %, with an 80 % guide). ``top`` cuts the bars, not the share.

    >>> f = pd.DataFrame({"drg": ["FM19", "GB11", "ES31"], "loss": [50, 200, -5]})
    >>> fig = pareto(f)
    >>> fig.data[0].customdata.tolist(), fig.data[1].y.tolist()
    (['GB11', 'FM19'], [0.8, 1.0])
    """
    if frame is None or frame.empty or not {dim, value} <= set(frame.columns):
        return empty_figure(lang=lang, theme=theme, height=height)
    p = palette(theme)
    rows = frame.assign(_v=pd.to_numeric(frame[value], errors="coerce"))
    rows = rows[rows["_v"] > 0].sort_values("_v", ascending=False, kind="stable")
    if rows.empty:
        return empty_figure(lang=lang, theme=theme, height=height)
    total = float(rows["_v"].sum())
    cum = (rows["_v"].cumsum() / total).tolist()
    if top:
        rows, cum = rows.head(top), cum[:top]
    ids = list(rows[dim])
    values = [float(v) for v in rows["_v"]]
    names = names_for(ids, labels)
    loss_name = t("chart.loss", lang)
    share_name = t("common.cumulative_share", lang)
    bars = trace("bar", x=names, y=values, name=loss_name, customdata=ids,
                  text=formatted(values, fmt, lang), textposition="none",
                  marker={"color": p["bad"]},
                  hovertemplate=hover("%{x}", f"{loss_name}: %{{text}}"))
    line = trace("scatter", x=names, y=cum, name=share_name, yaxis="y2", customdata=ids,
                      mode="lines+markers", line={"color": p["primary"], "width": 2},
                      text=formatted(cum, "percent", lang),
                      hovertemplate=hover("%{x}", f"{share_name}: %{{text}}"))
    share_ticks = [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    return build(theme, [bars, line], dict(
        showlegend=True,
        yaxis2={"overlaying": "y", "side": "right", "range": [0, 1.05], "tickmode": "array",
                "tickvals": share_ticks, "ticktext": fmt_ticks(share_ticks, "percent", lang),
                "showgrid": False, "tickfont": {"color": p["muted"]}},
        shapes=[{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y2", "y0": 0.8,
                 "y1": 0.8, "line": {"color": p["muted"], "width": 1, "dash": "dot"}}],
        xaxis={"type": "category", "categoryorder": "array", "categoryarray": names},
        yaxis=value_axis(values, fmt, lang, include_zero=True)), height)


def cost_structure(frame: pd.DataFrame, columns: list[str] | None = None,
                   column_labels: dict | None = None, dim: str = "drg",
                   labels: dict | None = None, fmt: str = "yuan", orientation: str = "h",
                   lang: str = "zh", theme: str = "light", *,
                   height: int | None = None) -> go.Figure:
    """100 % stacked bars of cost structure: one bar per ``dim`` row, one segment per cost
    column (drugs, consumables, exams …; default every numeric column). Hover: amount and
    share. For long frames (dim, fee_bucket, amount) use ``stacked_bar(..., normalize=True)``.

    >>> f = pd.DataFrame({"drg": ["FM19"], "drug": [10.0], "consumable": [50.0]})
    >>> [round(float(tr.x[0]), 3) for tr in cost_structure(f).data]
    [0.167, 0.833]
    """
    if frame is None or frame.empty or dim not in frame.columns:
        return empty_figure(lang=lang, theme=theme, height=height)
    p = palette(theme)
    cols = columns or [c for c in frame.columns
                       if c != dim and pd.api.types.is_numeric_dtype(frame[c])]
    if not cols:
        return empty_figure(lang=lang, theme=theme, height=height)
    ids = list(frame[dim])
    names = names_for(ids, labels)
    amounts = frame[cols].apply(pd.to_numeric, errors="coerce")
    totals = amounts.clip(lower=0).sum(axis=1)
    horizontal = orientation == "h"
    traces: list = []
    for k, (col, cname) in enumerate(zip(cols, names_for(cols, column_labels))):
        raw = [to_float(v) for v in amounts[col]]
        share = [None if v is None or not tot else v / tot for v, tot in zip(raw, totals)]
        text = [f"{fmt_number(v, fmt, lang)} ({fmt_number(s, 'percent', lang)})"
                for v, s in zip(raw, share)]
        traces.append(trace("bar", 
            x=share if horizontal else names, y=names if horizontal else share,
            orientation=orientation, name=cname, customdata=ids, text=text,
            textposition="none", marker={"color": p["series"][k % len(p["series"])]},
            hovertemplate=hover(f"%{{{'y' if horizontal else 'x'}}}", f"{cname}: %{{text}}")))
    pct_ticks = [0, 0.25, 0.5, 0.75, 1.0]
    pct_axis = {"range": [0, 1], "tickmode": "array", "tickvals": pct_ticks,
                "ticktext": fmt_ticks(pct_ticks, "percent", lang)}
    cat_axis = {"type": "category", "categoryorder": "array", "categoryarray": names}
    layout = {"barmode": "stack", "bargap": 0.3, "showlegend": True,
              "legend": {"traceorder": "normal"}}
    if horizontal:
        layout.update(xaxis=pct_axis, yaxis={"autorange": "reversed", **cat_axis})
        height = height or max(240, 30 * len(ids) + 90)
    else:
        layout.update(yaxis=pct_axis, xaxis=cat_axis)
    return build(theme, traces, layout, height)


def _item(item: Any) -> tuple[str, float | None, str | None]:
    if isinstance(item, dict):
        return str(item.get("label", "")), to_float(item.get("value")), item.get("measure")
    label, val, *rest = item
    return str(label), to_float(val), rest[0] if rest else None


def waterfall(items: Iterable[Any], fmt: str = "yuan", lang: str = "zh", theme: str = "light",
              *, height: int | None = None) -> go.Figure:
    """Payment vs cost bridge. ``items``: (label, value[, measure]) tuples or dicts with
    label / value / measure; measure ``absolute`` (a starting amount; the default for the
    first item), ``relative`` (a change, the default after), ``total`` (value computed).
    Increases are coloured good, decreases bad.

    >>> fig = waterfall([("医保支付", 1.2e8), ("药品", -4e7), ("耗材", -5e7),
    ...                  ("结余", None, "total")])
    >>> fig.data[0].text.tolist()
    ['¥1.20亿', '-¥4,000.0万', '-¥5,000.0万', '¥3,000.0万']
    """
    parsed = [_item(i) for i in items]
    if not parsed:
        return empty_figure(lang=lang, theme=theme, height=height)
    p = palette(theme)
    labels, values, measures, text = [], [], [], []
    running = 0.0
    for n, (label, val, measure) in enumerate(parsed):
        measure = measure or ("absolute" if n == 0 else "relative")
        if measure == "total":
            val = running
        elif measure == "absolute":
            running = val or 0.0
        else:
            running += val or 0.0
        labels.append(label)
        values.append(val if measure != "total" else 0)
        measures.append(measure)
        text.append(fmt_number(val, fmt, lang))
    tr = trace("waterfall", 
        x=labels, y=values, measure=measures, text=text, textposition="outside",
        customdata=labels, cliponaxis=False,
        increasing={"marker": {"color": p["good"]}},
        decreasing={"marker": {"color": p["bad"]}},
        totals={"marker": {"color": p["primary"]}},
        connector={"line": {"color": p["axis"], "width": 1, "dash": "dot"}},
        hovertemplate=hover("%{x}", "%{text}"))
    levels, acc = [0.0], 0.0
    for val, measure in zip(values, measures):
        if measure == "absolute":
            acc = val or 0.0
        elif measure == "relative":
            acc += val or 0.0
        levels.append(acc)
    return build(theme, [tr], {
        "showlegend": False, "xaxis": {"type": "category"},
        "yaxis": value_axis(levels, fmt, lang, include_zero=True)}, height)
