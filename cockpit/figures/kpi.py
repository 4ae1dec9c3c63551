"""The KPI card: label, big value, change with its tone, band status, as-of time, stale mark.

Styled inline (so it renders the same in the cockpit and on the wallboard without any CSS)
and with class names (``kpi-card``, ``kpi-value``, ``kpi-delta``, ``kpi-stale`` …) for pages
that want to restyle it.

>>> card = kpi_card({"id": "discharges", "zh": "出院人次", "en": "Discharges",
...                  "format": "integer", "direction": "up"}, 812, 790)
>>> card.className
'kpi-card'
"""
from __future__ import annotations

from typing import Any

from dash import html

from ..formatting import (band_status, band_tone, fmt_datetime, fmt_delta, fmt_number,
                          to_float)
from ..i18n import metric_label, norm_lang, t
from .theme import FONT_FAMILY, palette, tone_color

# units already carried by the formatted value, or meaningless on a card
_SILENT_UNITS = {"", "-", "%", "元", "分钟", "天", "x:1", "权重"}


def _attr(metric: Any, name: str, default: Any = None) -> Any:
    if isinstance(metric, dict):
        return metric.get(name, default)
    return getattr(metric, name, default)


def kpi_card(metric: Any, value: Any, compare_value: Any = None,
             compare_label: str | None = None, band: Any = None, as_of: Any = None,
             stale: bool = False, lang: str = "zh", id: Any = None, *,
             theme: str = "light", fmt: str | None = None, label: str | None = None,
             delta_mode: str | None = None) -> html.Div:
    """A KPI card for ``metric`` (the model's Metric, or a dict with id, zh, en, format,
    direction, unit, band).

    - ``compare_value``: the value compared with (e.g. same weekday last week); the change is
      shown with an arrow, coloured good / bad by the metric's direction (percent metrics in
      pp); ``compare_label`` names the comparison, e.g. ``t("compare.same_weekday_last_week")``.
    - ``band``: [lo, hi]; when None and the metric's direction is ``band``, the metric's own
      band is used. Shows 区间内 / 低于区间 / 高于区间.
    - ``stale=True``: the value is greyed and a red 数据过期 tag is shown.
    - ``as_of``: shown as 数据截至 2026-11-25 14:05.

    >>> c = kpi_card({"zh": "门急诊人次", "format": "integer"}, 23456, stale=True)
    >>> c.__getattribute__("data-stale")
    'true'
    """
    p = palette(theme)
    lang = norm_lang(lang)
    fmt = fmt or _attr(metric, "format", "integer")
    direction = _attr(metric, "direction", "up")
    if band is None and direction == "band":
        band = _attr(metric, "band")
    text = label or metric_label(metric, lang)
    unit = _attr(metric, "unit", "") or ""

    value_style = {"fontSize": "2em", "fontWeight": 600, "lineHeight": 1.2,
                   "color": p["muted"] if stale else p["text"],
                   "opacity": 0.55 if stale else 1, "fontVariantNumeric": "tabular-nums"}
    value_children: list = [fmt_number(value, fmt, lang)]
    if lang == "zh" and unit not in _SILENT_UNITS and fmt not in ("percent", "yuan"):
        value_children.append(html.Span(f" {unit}", className="kpi-unit",
                                        style={"fontSize": "0.45em", "color": p["muted"],
                                               "fontWeight": 400}))

    header: list = [html.Span(text, className="kpi-label",
                              style={"color": p["muted"], "fontSize": "0.95em"})]
    if stale:
        header.append(html.Span(t("fresh.stale", lang), className="kpi-stale",
                                title=t("fresh.stale", lang),
                                style={"background": p["stale"], "color": "#ffffff",
                                       "borderRadius": "3px", "padding": "0 6px",
                                       "fontSize": "0.8em", "marginLeft": "8px"}))

    children: list = [
        html.Div(header, className="kpi-header",
                 style={"display": "flex", "alignItems": "center",
                        "justifyContent": "space-between"}),
        html.Div(value_children, className="kpi-value" + (" is-stale" if stale else ""),
                 style=value_style),
    ]

    if compare_value is not None or compare_label:
        d = fmt_delta(value, compare_value, fmt, direction, lang, mode=delta_mode)
        children.append(html.Div(
            [html.Span(d.text, className=f"kpi-delta-value tone-{d.tone}",
                       style={"color": tone_color(d.tone, theme), "fontWeight": 600}),
             html.Span(f" {compare_label}" if compare_label else "",
                       className="kpi-compare-label", style={"color": p["muted"]})],
            className="kpi-delta", **{"data-tone": d.tone}))

    status = band_status(value, band, direction)
    if status is not None:
        lo, hi = band
        rng = f"{fmt_number(lo, fmt, lang)} – {fmt_number(hi, fmt, lang)}"
        tone = band_tone(status, direction)
        children.append(html.Div(
            [html.Span(t(f"band.{status}", lang), className=f"kpi-band-status tone-{tone}",
                       style={"color": tone_color(tone, theme)}),
             html.Span(f" {t('common.range', lang)} {rng}", style={"color": p["muted"]})],
            className="kpi-band", style={"fontSize": "0.85em"},
            **{"data-band": status}))

    if as_of is not None:
        children.append(html.Div(t("fresh.as_of_time", lang, time=fmt_datetime(as_of, lang)),
                                 className="kpi-as-of",
                                 style={"color": p["stale"] if stale else p["muted"],
                                        "fontSize": "0.75em", "marginTop": "4px"}))

    props: dict = {"className": "kpi-card" + (" is-stale" if stale else ""),
                   "style": {"background": p["card"], "border": f"1px solid {p['card_border']}",
                             "borderRadius": "8px", "padding": "12px 16px",
                             "fontFamily": FONT_FAMILY, "color": p["text"],
                             "minWidth": "180px"},
                   "data-stale": "true" if stale else "false",
                   "title": _attr(metric, "description", None) or text}
    if id is not None:
        props["id"] = id
    if to_float(value) is None:
        props["className"] += " is-missing"
    return html.Div(children, **props)
