"""Target progress as the cockpit shows it: a completion bar (0 … 120 %, a tick at 100 %) and
a progress table (annual target, expected to date with its phased progress beside the year's
time progress, actual, completion, gap in amount and per cent, year-end landing).
Used by the targets page (the hospital → department → team tree) and the department page's
targets panel, so both show a target the same way."""
from __future__ import annotations

import pandas as pd
from dash import html

from cockpit.formatting import fmt_number
from cockpit.i18n import t

LABELS = {
    "tg.node": ("组织", "Unit"), "tg.target": ("年度目标", "Annual target"),
    "tg.to_date": ("序时目标", "Expected to date"), "tg.actual": ("累计完成", "Actual to date"),
    "tg.phased": ("序时进度", "Phased progress"),
    "tg.phased_title": ("序时进度（按本单位季节规律应完成的年度目标比例）{p}；时间进度 {time}",
                        "Phased progress (share of the annual target due by now on this "
                        "unit's seasonal profile) {p}; time elapsed {time}"),
    "tg.completion": ("完成率", "Completion"), "tg.gap": ("差额", "Gap"),
    "tg.landing": ("年末预计", "Year-end landing"),
    "tg.no_target": ("目标未下达", "No target set"),
    "tg.hospital": ("全院", "Hospital"),
}
COLUMNS = ("tg.target", "tg.to_date", "tg.phased", "tg.actual", "tg.completion", "tg.gap",
           "tg.landing")


def L(key: str, lang: str, **kw) -> str:
    if key in LABELS:
        text = LABELS[key][0 if lang != "en" else 1]
        return text.format(**kw) if kw else text
    return t(key, lang, **kw)


def tone(completion) -> str:
    """good ≥ 95 %, warn ≥ 85 %, bad below (a score: higher is better whatever the metric's
    direction)."""
    return "good" if completion >= 0.95 else "warn" if completion >= 0.85 else "bad"


def progress_bar(completion, lang: str) -> html.Div:
    """A bar 0 … 120 % (the display cap) with a tick at 100 %."""
    from metrics.targets_read import DISPLAY_CAP

    if completion is None or pd.isna(completion):
        return html.Div(L("tg.no_target", lang), className="targets-bar-empty",
                        style={"opacity": 0.6})
    pct = max(0.0, min(float(completion), DISPLAY_CAP)) / DISPLAY_CAP * 100
    colour = {"good": "#2e7d32", "warn": "#f9a825", "bad": "#c62828"}[tone(completion)]
    kids = [html.Div(className="targets-bar-fill",
                     style={"width": f"{pct:.1f}%", "background": colour, "height": "100%"}),
            html.Div(className="targets-bar-goal", title="100 %", style={
                "position": "absolute", "left": f"{100 / DISPLAY_CAP:.1f}%", "top": 0,
                "bottom": 0, "borderLeft": "2px solid #555"})]
    return html.Div(className="targets-bar", children=[
        html.Div(kids, style={"position": "relative", "height": "10px", "background": "#eee",
                              "borderRadius": "3px", "overflow": "hidden", "minWidth": "120px"}),
        html.Span(fmt_number(completion, "percent", lang), className="targets-bar-label")])


def gap_text(gap, gap_pct, fmt: str, lang: str) -> str:
    """The gap to the expected-to-date target, in the metric's unit and in per cent of it:
    `-1,234（-3.2%）`."""
    text = fmt_number(gap, fmt, lang)
    if gap_pct is None or pd.isna(gap_pct) or gap is None or pd.isna(gap):
        return text
    pct = fmt_number(gap_pct, "percent", lang)
    return f"{text}（{pct}）" if lang != "en" else f"{text} ({pct})"


def phased_cell(r, lang: str) -> html.Td:
    """Phased progress (target to date ÷ annual target), with the year's time progress in its
    title: ahead of time in busy months, behind it around 春节."""
    p = getattr(r, "phased_progress", None)
    time = getattr(r, "time_progress", None)
    if p is None or pd.isna(p):
        return html.Td("—", className="targets-phased")
    title = L("tg.phased_title", lang, p=fmt_number(p, "percent", lang),
              time=fmt_number(time, "percent", lang))
    return html.Td(fmt_number(p, "percent", lang), title=title, className="targets-phased")


def progress_row(r, name: str, indent: int, fmt: str, lang: str, row_id: str,
                 css: str = "") -> html.Tr:
    """One row of a progress table from a `targets.progress` row `r`."""
    return html.Tr(id=row_id, className=css, children=[
        html.Td(name, style={"paddingLeft": f"{indent * 18 + 4}px",
                             "fontWeight": 600 if indent < 2 else 400}),
        html.Td(fmt_number(r.target, fmt, lang)),
        html.Td(fmt_number(r.target_to_date, fmt, lang)),
        phased_cell(r, lang),
        html.Td(fmt_number(r.actual, fmt, lang)),
        html.Td(progress_bar(r.completion, lang)),
        html.Td(gap_text(r.gap, getattr(r, "gap_pct", None), fmt, lang)),
        html.Td(fmt_number(r.landing, fmt, lang))])


def progress_table(rows: list, lang: str, first: str | None = None) -> html.Table:
    head = html.Tr([html.Th(first or L("tg.node", lang))] + [html.Th(L(k, lang)) for k in COLUMNS])
    return html.Table([html.Thead(head), html.Tbody(rows)], className="targets-table",
                      style={"width": "100%"})
