"""总览 overview for leadership, laid out like the catalogue's §13 panels.

    /?period=month&date=2026-11-25&compare=yoy&metric=discharges&dept=D0125

- a live strip: today so far against the same time on the same weekday last week;
- the §13 panels (门诊服务 … 互联网医院): KPI cards coloured by band and direction, each against
  the 同比 / 环比 comparison chosen in the shell;
- 经济运行 adds medical revenue MTD and YTD against last year (`:mtd`, `:ytd`, `:yoy_growth`);
- a trend, a drill-down breakdown (院区 → 科室 → 诊疗组) and the top movers of one focus metric
  (`metric=`); clicking a bar filters the page (`campus=` / `dept=` in the URL; teams are the
  department page's drill);
- alliance members (医联体) in their own panel: with no campus chosen the hospital view is the
  main and branch campuses (the catalogue's pinned default);
- every panel ends with the as-of time of its data; a line at the top covers the whole page.

Callbacks are thin: the view from the URL → `cockpit.data.q` → figure / card functions.
"""
from __future__ import annotations

import datetime as dt
import logging
from urllib.parse import urlencode

import dash
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html, no_update
from flask import has_request_context

from cockpit import data, state
from cockpit.components import data_table, freshness_line, panel
from cockpit.figures.kpi import kpi_card
from cockpit.figures.theme import graph_config, palette, tone_color
from cockpit.figures.trend import hourly_today_vs_baseline, trend_figure
from cockpit.formatting import fmt_datetime, fmt_delta, fmt_growth, fmt_number, fmt_period
from cockpit.freshness import for_metrics
from cockpit.i18n import metric_label, t

log = logging.getLogger("cockpit.pages.overview")

dash.register_page(__name__, path="/", name="总览", title_key="nav_overview", order=0)

#: labels this page needs beyond cockpit.i18n
LABELS = {
    "ov.live": ("今日运行", "Today so far"),
    "ov.live_note": ("截至 {time}，较上周同日同一时刻", "to {time}, vs same time same weekday "
                                                  "last week"),
    "ov.census_latest": ("在院人数（{day}零点）", "Inpatients (midnight {day})"),
    "ov.focus": ("关注指标", "Focus metric"),
    "ov.trend": ("{metric}趋势", "{metric}: trend"),
    "ov.breakdown": ("{metric}构成", "{metric} by {level}"),
    "ov.movers": ("变化最大的科室（{cmp}）", "Top movers by department ({cmp})"),
    "ov.alliance": ("医联体成员单位", "Alliance members"),
    "ov.alliance_note": ("未计入上方全院数据（全院口径：本部与分院区）",
                         "Not in the figures above (hospital view: main and branch campuses)"),
    "ov.scope_default": ("全院（本部+分院区）", "Hospital (main + branch campuses)"),
    "ov.filtered": ("已筛选", "Filtered"),
    "ov.clear": ("清除", "Clear"),
    "ov.open_dept": ("打开科室页 →", "Open department page →"),
    "ov.hourly": ("门急诊人次：今日与上周同日（累计）", "Visits today vs same weekday last week "
                                             "(cumulative)"),
    "ov.mtd": ("本月累计", "Month to date"),
    "ov.ytd": ("本年累计", "Year to date"),
    "ov.vs_ly": ("较去年同期", "vs last year"),
    "ov.last_year": ("去年同期", "Last year"),
    "ov.change": ("变化", "Change"),
    "ov.rank_note": ("点击柱条筛选本页", "Click a bar to filter the page"),
    "ov.hospital": ("全院", "Hospital"),
    "ov.error": ("查询出错：{msg}", "Query failed: {msg}"),
    "ov.no_alliance": ("当前筛选不含医联体成员", "No alliance members in this view"),
    "dim.campus": ("院区", "campus"),
    "dim.department": ("科室", "department"),
    "dim.team": ("诊疗组", "team"),
}

#: the live strip: (metric, how today is counted)
LIVE = ["opd_ed_visits", "ed_visits", "inpatient_census", "admissions", "discharges",
        "surgeries_all", "internet_visits"]

#: catalogue §13 panels and their KPIs (ids absent from the model are skipped)
PANELS = [
    ("outpatient", "panel.outpatient", ["opd_ed_visits", "appointment_rate",
                                        "appointment_wait_min", "slot_utilization",
                                        "session_cancel_rate", "no_show_rate",
                                        "online_booking_share"]),
    ("inpatient", "panel.inpatient", ["discharges", "alos", "preop_los", "bed_occupancy_rate",
                                      "bed_turnover", "bed_wait_days",
                                      "planned_discharge_fulfil"]),
    ("surgery", "panel.surgery", ["discharge_surgeries", "surgical_discharge_share",
                                  "grade4_share", "mis_share", "day_surgery_share",
                                  "or_utilization", "first_case_on_time"]),
    ("quality", "panel.quality", ["low_risk_mortality", "inpatient_mortality",
                                  "surgical_complication_rate", "ssi_class1_rate",
                                  "unplanned_reop_rate", "readmit_31d_unplanned"]),
    ("drg", "panel.drg_capability", ["cmi", "drg_group_count", "total_weight", "cost_index",
                                     "time_index"]),
    ("economy", "panel.economy", ["medical_revenue", "opd_cost_per_visit",
                                  "ipd_cost_per_discharge", "drug_revenue_ratio",
                                  "consumable_ratio", "medical_service_ratio",
                                  "ipd_insurance_share"]),
    ("insurance", "panel.insurance_drg", ["drg_balance", "drg_balance_rate",
                                          "high_outlier_rate", "drg_grouping_rate"]),
    ("referral", "panel.referral", ["referral_down", "referral_up_received", "tele_consults",
                                    "opd_to_discharge_ratio"]),
    ("internet", "panel.internet", ["internet_visits", "first_response_min",
                                    "online_completion_rate", "online_rx_count"]),
]

#: focus metrics for trend, breakdown and movers (additive, so a breakdown sums to the total)
#: two columns that share the width whatever their content (wide tables scroll)
GRID = {"display": "grid", "gridTemplateColumns": "repeat(auto-fit, minmax(480px, 1fr))",
        "gap": "16px"}
FOCUS = ["opd_ed_visits", "discharges", "medical_revenue", "discharge_surgeries", "admissions"]


def L(key: str, lang: str, **kw) -> str:
    """This page's label (falls back to cockpit.i18n)."""
    if key in LABELS:
        text = LABELS[key][0 if lang != "en" else 1]
        return text.format(**kw) if kw else text
    return t(key, lang, **kw)


# -- scope: which campuses and departments the page shows ------------------------------------

def campus_types() -> dict[str, str]:
    return data.campus_types()


def hospital_campuses() -> list[str]:
    """The hospital view's campuses when none is chosen (the same default on every page)."""
    return data.campus_where(state.View())["campus"]


def alliance_campuses() -> list[str]:
    return sorted(c for c, kind in campus_types().items() if kind == "alliance")


def view_where(view: state.View, with_dept: bool = True) -> dict:
    """Filters for this view: the chosen campus (else main + branch), and the page's
    cross-filter (`dept`). Teams are the department page's business: most facts (revenue,
    clinic sessions) carry no team."""
    where = {"campus": [view.campus] if view.campus else hospital_campuses()}
    if with_dept and view.extra.get("dept"):
        where["department"] = [view.extra["dept"]]
    return where


def drill_level(view: state.View) -> str:
    """The breakdown's level: campuses, then a campus's departments, then a department's
    teams."""
    if view.extra.get("dept"):
        return "team"
    if view.campus:
        return "department"
    return "campus"


def names(dim: str, lang: str) -> dict[str, str]:
    """id → display name. Departments: English from `dept_name_en`, and a name that several
    campuses share (普通外科 on two campuses) carries its campus, so bars never merge."""
    if dim != "department":
        return data.labels(dim)
    from sqlglot import exp

    from metrics.dialects import render

    memo = data._state.setdefault("overview_dept_names", {})
    key = (data.data_version(), lang)
    if key not in memo:
        wh = data.warehouse()
        sql = render(exp.select("dept_id", "dept_name", "dept_name_en", "campus_id")
                     .from_("dim_department"), wh.dialect)
        rows = wh.query_rows(sql)
        campus = data.labels("campus")
        base = {r[0]: (r[2] or r[1]) if lang == "en" else r[1] for r in rows}
        count: dict[str, int] = {}
        for n in base.values():
            count[n] = count.get(n, 0) + 1
        memo[key] = {r[0]: base[r[0]] + (f" · {campus.get(r[3], r[3])}"
                                         if count[base[r[0]]] > 1 else "") for r in rows}
    return memo[key]


# -- pure helpers -----------------------------------------------------------------------------

def additive(mid: str) -> bool:
    """Counts and sums: their band is per day, so it says nothing about a month's total."""
    from metrics.plan import measures_of

    model = data.model()
    m = model.metrics[mid]
    return m.kind in ("simple", "derived") and all(
        model.measures[n][1].agg in ("sum", "count") for n in measures_of(model, mid))


def card_band(mid: str, view: state.View, level: str = "hospital"):
    """The band to judge a card by, or [] (no judgement): bands are typical values for the
    whole hospital, and for counts per day."""
    m = data.model().metrics[mid]
    if not m.band:
        return []
    if additive(mid) or m.kind == "simple":
        return list(m.band) if view.period == "day" and level == "hospital" else []
    return list(m.band)


def first(frame, col):
    if frame is None or frame.empty or col not in frame.columns:
        return None
    v = frame[col].iloc[0]
    return None if v != v else float(v)


def known(ids):
    return [m for m in ids if m in data.model().metrics]


def error_note(exc: Exception, lang: str):
    log.exception("overview panel failed")
    return html.Div(L("ov.error", lang, msg=str(exc)[:200]), className="ov-error")


def focus_metric(view: state.View) -> str:
    m = view.extra.get("metric")
    return m if m in FOCUS and m in data.model().metrics else FOCUS[0]


def compare_label(view: state.View) -> str:
    return t("compare.yoy" if view.compare == "yoy" else "compare.pop", view.lang)


# -- layout -----------------------------------------------------------------------------------

def layout(**params):
    """The skeleton, with the live strip already filled: it is the first thing a director
    reads, so it comes with the page instead of queueing behind the ~20 callbacks that fill
    the other blocks from the URL (and it refreshes by the shell's tick after that)."""
    lang = params.get("lang") if params.get("lang") in ("zh", "en") else "zh"
    live = render_live("?" + urlencode(params)) if has_request_context() else None
    return html.Div(className="overview", children=[
        html.Div(id="overview-fresh", className="overview-fresh"),
        html.Div(id="overview-filterbar", className="overview-filterbar"),
        html.Div(live, id="overview-live", className="overview-live"),
        html.Div(id="overview-panels", className="overview-panels", children=[
            html.Div(id=f"overview-panel-{key}", className="overview-panel-slot")
            for key, _, _ in PANELS]),
        html.Div(className="panel overview-focus", children=[
            html.Span(L("ov.focus", lang) + "：", className="overview-focus-label"),
            html.Span(id="overview-metric", className="overview-metric"),
        ]),
        html.Div(className="grid-2", style=GRID, children=[
            html.Div(id="overview-trend", style={"minWidth": 0}),
            html.Div(id="overview-breakdown", style={"minWidth": 0})]),
        html.Div(className="grid-2", style=GRID, children=[
            html.Div(id="overview-movers", style={"minWidth": 0}),
            html.Div(id="overview-alliance", style={"minWidth": 0})]),
    ])


# -- renderers (plain functions; registered as callbacks at the bottom) ----------------------

def render_fresh(search):
    view = state.from_search(search)
    ids = known(LIVE + [m for _, _, ms in PANELS for m in ms])
    fr = for_metrics(ids)
    return freshness_line(fr, view.lang)


def render_filterbar(search):
    """Scope line (what the numbers cover) and the cross-filter chips."""
    view = state.from_search(search)
    lang = view.lang
    start, end = view.range()
    campus_names = data.labels("campus")
    scope = (campus_names.get(view.campus, view.campus) if view.campus
             else L("ov.scope_default", lang))
    period = (f"{start:%Y-%m-%d}" if start == end else f"{start:%Y-%m-%d} – {end:%Y-%m-%d}")
    kids = [html.Span(f"{scope} · {period} · {compare_label(view)}",
                      className="overview-scope")]
    dept = view.extra.get("dept")
    if dept:
        label = names("department", lang).get(dept, dept)
        clear = state.to_search(view.with_(dept=None))
        kids += [html.Span(f"{L('ov.filtered', lang)}：{label}", className="overview-chip"),
                 dcc.Link(L("ov.clear", lang), href="/" + clear, id="overview-clear",
                          className="btn")]
        dsearch = state.to_search(state.View(
            period=view.period, date=view.date, start=view.start, end=view.end,
            campus=view.campus, compare=view.compare, lang=lang, theme=view.theme,
            extra={"dept": dept}))
        kids.append(dcc.Link(L("ov.open_dept", lang), href="/department" + dsearch,
                             id="overview-open-dept", className="btn"))
    return kids


def live_values(where: dict, now: dt.datetime):
    """Today so far and the same time on the same weekday last week, one row each."""
    today, base_day = now.date(), now.date() - dt.timedelta(days=7)
    ids = known([m for m in LIVE if m != "inpatient_census"])
    cur = data.q(ids, start=today, end=today, where=where, as_of=now)
    prev = data.q(ids, start=base_day, end=base_day, where=where,
                  as_of=now - dt.timedelta(days=7))
    return cur, prev


def latest_census(where: dict, now: dt.datetime):
    """The latest midnight census (today's is recorded at the end of the day) and its day,
    with the census a week before that day."""
    if "inpatient_census" not in data.model().metrics:
        return None, None, None
    frame = data.q(["inpatient_census"], grain="day", start=now.date() - dt.timedelta(days=10),
                   end=now.date(), where=where, as_of=now)
    frame = frame.dropna(subset=["inpatient_census"])
    if frame.empty:
        return None, None, None
    last = frame.iloc[-1]
    day = last["period"]
    day = day.date() if hasattr(day, "date") else day
    week = frame[[(p.date() if hasattr(p, "date") else p) == day - dt.timedelta(days=7)
                  for p in frame["period"]]]
    prev = float(week["inpatient_census"].iloc[0]) if len(week) else None
    return float(last["inpatient_census"]), prev, day


def render_live(search, _tick=None):
    view = state.from_search(search)
    lang, theme = view.lang, view.theme
    try:
        now = data.now()
        where = view_where(view)
        cur, prev = live_values(where, now)
        census, census_prev, census_day = latest_census(where, now)
        model = data.model()
        vs = t("compare.same_weekday_last_week", lang)
        cards = []
        for mid in known(LIVE):
            m = model.metrics[mid]
            if mid == "inpatient_census":
                day = fmt_period(census_day, "day", lang) if census_day else "—"
                cards.append(kpi_card(m, census, census_prev, vs, band=[], lang=lang,
                                      theme=theme, fmt="integer",
                                      label=L("ov.census_latest", lang, day=day),
                                      id=f"overview-live-{mid}"))
                continue
            cards.append(kpi_card(m, first(cur, mid), first(prev, mid), vs, band=[],
                                  lang=lang, theme=theme, id=f"overview-live-{mid}"))
        hourly = data.q(["opd_ed_visits"], grain="hour", start=now.date(), end=now.date(),
                        where=where, as_of=now)
        base = data.q(["opd_ed_visits"], grain="hour", start=now.date() - dt.timedelta(days=7),
                      end=now.date() - dt.timedelta(days=7), where=where)
        hourly = hourly[[p.hour <= now.hour for p in hourly["period"]]]
        fig = hourly_today_vs_baseline(
            hourly, base, "opd_ed_visits", "integer",
            label=t("compare.today", lang), baseline_label=vs, cumulative=True, lang=lang,
            theme=theme, height=220)
        body = [html.Div(L("ov.live_note", lang, time=fmt_datetime(now, lang)),
                         className="overview-live-note"),
                html.Div(cards, className="grid overview-live-cards"),
                html.H4(L("ov.hourly", lang), className="overview-subtitle"),
                dcc.Graph(id="overview-live-hourly", figure=fig,
                          config=graph_config(lang, "today"))]
        fr = for_metrics(known(LIVE))
    except Exception as e:  # a panel fails alone, with its reason
        return panel(L("ov.live", lang), error_note(e, lang), None, lang)
    return panel(L("ov.live", lang), body, fr, lang, id="overview-live-panel")


def panel_cards(key: str, view: state.View):
    """The cards of one §13 panel: the period's values against the comparison."""
    ids = known(next(ms for k, _, ms in PANELS if k == key))
    start, end = view.range()
    cmp = view.compare
    where = view_where(view)
    frame = data.q(ids + [f"{m}:{cmp}" for m in ids], start=start, end=end, where=where)
    level = "hospital" if not (view.campus or view.extra.get("dept")) else "unit"
    model = data.model()
    cards = [kpi_card(model.metrics[m], first(frame, m), first(frame, f"{m}:{cmp}"),
                      compare_label(view), band=card_band(m, view, level), lang=view.lang,
                      theme=view.theme, id=f"overview-kpi-{m}") for m in ids]
    return ids, cards


def revenue_cards(view: state.View):
    """Medical revenue month to date and year to date at the period's end, against the same
    days last year (`:yoy_growth` over the same span)."""
    if "medical_revenue" not in data.model().metrics:
        return []
    m = data.model().metrics["medical_revenue"]
    _, end = view.range()
    where = view_where(view)
    lang, theme = view.lang, view.theme
    cum = data.q(["medical_revenue:mtd", "medical_revenue:ytd"], start=end, end=end,
                 where=where)
    out = []
    for key, token, start in (("ov.mtd", "medical_revenue:mtd", end.replace(day=1)),
                              ("ov.ytd", "medical_revenue:ytd", end.replace(month=1, day=1))):
        g = data.q(["medical_revenue:yoy", "medical_revenue:yoy_growth"], start=start, end=end,
                   where=where)
        growth, ly = first(g, "medical_revenue:yoy_growth"), first(g, "medical_revenue:yoy")
        card = kpi_card(m, first(cum, token), None, band=[], lang=lang, theme=theme,
                        label=f"{metric_label(m, lang)} · {L(key, lang)}",
                        id=f"overview-revenue-{key[3:]}")
        d = fmt_growth(growth, "up", lang)
        card.children += [
            html.Div([html.Span(d.text, className=f"kpi-delta-value tone-{d.tone}",
                                style={"color": tone_color(d.tone, theme), "fontWeight": 600}),
                      html.Span(f" {L('ov.vs_ly', lang)}", className="kpi-compare-label",
                                style={"color": palette(theme)["muted"]})],
                     className="kpi-delta", **{"data-tone": d.tone}),
            html.Div(f"{L('ov.last_year', lang)} {fmt_number(ly, 'yuan', lang)} · "
                     f"{fmt_date_range(start, end)}", className="kpi-band",
                     style={"fontSize": "0.8em", "color": palette(theme)["muted"]})]
        out.append(card)
    return out


def fmt_date_range(a: dt.date, b: dt.date) -> str:
    return f"{a:%Y-%m-%d} – {b:%Y-%m-%d}"


def render_panel(key: str, search):
    view = state.from_search(search)
    lang = view.lang
    title_key = next(tk for k, tk, _ in PANELS if k == key)
    try:
        ids, cards = panel_cards(key, view)
        if key == "economy":
            cards = revenue_cards(view) + cards
        fr = for_metrics(ids)
    except Exception as e:
        return panel(t(title_key, lang), error_note(e, lang), None, lang)
    return panel(t(title_key, lang), html.Div(cards, className="grid"), fr, lang,
                 id=f"overview-panel-{key}-body")


def render_trend(search):
    view = state.from_search(search)
    lang, mid = view.lang, focus_metric(view)
    m = data.model().metrics[mid]
    start, end = view.range()
    grain = view.grain
    try:
        where = view_where(view)
        cur = data.q([mid, f"{mid}:{view.compare}"], grain=grain, start=start, end=end,
                     where=where)
        fig = trend_figure(cur[["period", mid]], mid, {mid: metric_label(m, lang)}, m.format,
                           grain, compare=cur[["period", f"{mid}:{view.compare}"]],
                           lang=lang, theme=view.theme, compare_label=compare_label(view),
                           height=300)
        fr = for_metrics([mid])
    except Exception as e:
        return panel(L("ov.trend", lang, metric=metric_label(m, lang)), error_note(e, lang),
                     None, lang)
    return panel(L("ov.trend", lang, metric=metric_label(m, lang)),
                 dcc.Graph(id="overview-trend-graph", figure=fig,
                           config=graph_config(lang, mid)), fr, lang)


def bar_figure(ids, labels, values, fmt, lang, theme, colours=None, text=None,
               height=None):
    """Horizontal bars, largest on top; `customdata` is the dimension id (for the click)."""
    p = palette(theme)
    fig = go.Figure()
    fig.update_layout(**_theme_layout(theme))
    n = len(ids)
    fig.add_trace(go.Bar(
        y=labels[::-1], x=values[::-1], orientation="h", customdata=ids[::-1],
        marker={"color": (colours or [p["primary"]] * n)[::-1]},
        text=(text or [fmt_number(v, fmt, lang) for v in values])[::-1],
        textposition="auto", hovertemplate="%{y}: %{text}<extra></extra>"))
    fig.update_layout(height=height or max(220, 28 * n + 60), showlegend=False,
                      margin={"l": 8, "r": 16, "t": 16, "b": 8}, clickmode="event")
    fig.update_xaxes(showticklabels=False, zeroline=True)
    fig.update_yaxes(type="category", automargin=True)
    return fig


def _theme_layout(theme):
    from cockpit.figures.theme import theme_layout

    return theme_layout(theme)


def breakdown_data(view: state.View, mid: str):
    level = drill_level(view)
    start, end = view.range()
    where = view_where(view)
    frame = data.q([mid], by=[level], start=start, end=end, where=where)
    frame = frame.dropna(subset=[mid]).sort_values(mid, ascending=False)
    return level, frame[frame[mid] != 0].head(15)


def render_breakdown(search):
    view = state.from_search(search)
    lang, mid = view.lang, focus_metric(view)
    m = data.model().metrics[mid]
    try:
        level, frame = breakdown_data(view, mid)
        lab = names(level, lang)
        ids = list(frame[level])
        fig = bar_figure(ids, [lab.get(i, i) for i in ids], list(frame[mid]), m.format, lang,
                         view.theme)
        fr = for_metrics([mid])
    except Exception as e:
        return panel(metric_label(m, lang), error_note(e, lang), None, lang)
    title = L("ov.breakdown", lang, metric=metric_label(m, lang), level=L(f"dim.{level}", lang))
    return panel(title, [breadcrumb(view), html.Div(L("ov.rank_note", lang),
                                                     className="overview-hint"),
                         dcc.Graph(id="overview-breakdown-graph", figure=fig,
                                   config=graph_config(lang, mid))], fr, lang)


def breadcrumb(view: state.View):
    """全院 › 院区 › 科室: each step a link that drills back up."""
    lang = view.lang
    steps = [(L("ov.hospital", lang), view.with_(campus=None, dept=None))]
    if view.campus:
        steps.append((data.labels("campus").get(view.campus, view.campus),
                      view.with_(dept=None)))
    if view.extra.get("dept"):
        d = view.extra["dept"]
        steps.append((names("department", lang).get(d, d), view))
    kids = []
    for i, (label, v) in enumerate(steps):
        if i:
            kids.append(html.Span(" › "))
        kids.append(dcc.Link(label, href="/" + state.to_search(v),
                             id=f"overview-crumb-{i}") if i < len(steps) - 1 else
                    html.B(label))
    return html.Div(kids, className="overview-breadcrumb")


def movers_data(view: state.View, mid: str, n: int = 10):
    """Departments with the largest absolute change against the comparison period."""
    start, end = view.range()
    where = view_where(view)
    where.pop("department", None)
    token = f"{mid}:{view.compare}"
    frame = data.q([mid, token], by=["department"], start=start, end=end, where=where)
    frame = frame.fillna({mid: 0})
    if frame[token].fillna(0).eq(0).all():
        # nothing to compare with (e.g. no data a year ago): 同比 is unknown, not 0; rank by
        # the value itself and show no change
        frame[token] = float("nan")
        frame["change"] = float("nan")
        frame = frame.reindex(frame[mid].sort_values(ascending=False).index)
        return frame.head(n).rename(columns={token: "compare"})
    frame["change"] = frame[mid] - frame[token]
    frame = frame[frame["change"] != 0]
    frame = frame.reindex(frame["change"].abs().sort_values(ascending=False).index)
    return frame.head(n).rename(columns={token: "compare"})


def render_movers(search):
    view = state.from_search(search)
    lang, mid = view.lang, focus_metric(view)
    m = data.model().metrics[mid]
    title = L("ov.movers", lang, cmp=compare_label(view))
    try:
        frame = movers_data(view, mid)
        lab = names("department", lang)
        p = palette(view.theme)
        ids = list(frame["department"])
        deltas = [fmt_delta(a, b, m.format, m.direction, lang) for a, b in
                  zip(frame[mid], frame["compare"])]
        # good / bad by the metric's direction; volumes (direction band): up / down colours
        colours = [p["good"] if d.tone == "good" else p["bad"] if d.tone == "bad"
                   else p["primary"] if c > 0 else p["highlight"]
                   for d, c in zip(deltas, frame["change"])]
        text = ["—" if c != c else f"{'+' if c > 0 else ''}{fmt_number(c, m.format, lang)}"
                f"  ({d.text})" for c, d in zip(frame["change"], deltas)]
        fig = bar_figure(ids, [lab.get(i, i) for i in ids], list(frame["change"]), m.format,
                         lang, view.theme, colours, text)
        table = frame.assign(name=[lab.get(i, i) for i in ids])
        start, end = view.range()
        where = view_where(view)
        where.pop("department", None)
        cols = [("name", t("dim.department", lang)), (mid, metric_label(m, lang)),
                ("compare", compare_label(view)), ("change", L("ov.change", lang))]
        tbl = data_table("overview-movers-table", table, cols, lang,
                         query={"metrics": [mid, f"{mid}:{view.compare}"],
                                "by": ["department"], "start": start.isoformat(),
                                "end": end.isoformat(), "where": where}, page_size=10)
        fr = for_metrics([mid])
    except Exception as e:
        return panel(title, error_note(e, lang), None, lang)
    return panel(title, [html.Div(L("ov.rank_note", lang), className="overview-hint"),
                         dcc.Graph(id="overview-movers-graph", figure=fig,
                                   config=graph_config(lang, "movers")), tbl], fr, lang)


ALLIANCE_METRICS = ["opd_ed_visits", "discharges", "medical_revenue", "referral_down"]


def render_alliance(search):
    """医联体 members: never added into the hospital view's totals."""
    view = state.from_search(search)
    lang = view.lang
    title = L("ov.alliance", lang)
    members = alliance_campuses()
    if view.campus and view.campus not in members:
        members = []
    if not members:
        return panel(title, html.Div(L("ov.no_alliance", lang), className="overview-hint"),
                     None, lang)
    try:
        ids = known(ALLIANCE_METRICS)
        start, end = view.range()
        frame = data.q(ids, by=["campus"], start=start, end=end, where={"campus": members})
        lab = data.labels("campus")
        model = data.model()
        frame["name"] = [lab.get(c, c) for c in frame["campus"]]
        shown = frame.copy()
        for mid in ids:
            shown[mid] = [fmt_number(v, model.metrics[mid].format, lang) for v in frame[mid]]
        cols = [("name", t("dim.campus", lang))] + [(mid, metric_label(model.metrics[mid],
                                                                        lang)) for mid in ids]
        tbl = data_table("overview-alliance-table", shown, cols, lang,
                         query={"metrics": ids, "by": ["campus"], "start": start.isoformat(),
                                "end": end.isoformat(), "where": {"campus": members}})
        fr = for_metrics(ids)
    except Exception as e:
        return panel(title, error_note(e, lang), None, lang)
    return panel(title, [html.Div(L("ov.alliance_note", lang), className="overview-hint"),
                         tbl], fr, lang)


# -- cross-filter: a click on a bar → the URL ------------------------------------------------

def click_search(click, search, level: str | None = None):
    """The URL after a click on a bar whose customdata is a dimension id."""
    if not click or not click.get("points"):
        return None
    value = click["points"][0].get("customdata")
    if isinstance(value, list):
        value = value[0] if value else None
    if not value:
        return None
    view = state.from_search(search)
    level = level or drill_level(view)
    if level == "campus":
        return state.to_search(view.with_(campus=value, dept=None))
    if level == "department":
        return state.to_search(view.with_(dept=value))
    return None  # teams: the leaf here; the department page drills further


def on_breakdown_click(click, search):
    new = click_search(click, search)
    return new if new is not None and new != (search or "") else no_update


def on_movers_click(click, search):
    new = click_search(click, search, "department")
    return new if new is not None and new != (search or "") else no_update


def render_focus(search):
    """The focus metric as links (each one a URL, so the choice is linkable)."""
    view = state.from_search(search)
    current = focus_metric(view)
    p = palette(view.theme)
    out = []
    for m in known(FOCUS):
        active = m == current
        out.append(dcc.Link(
            metric_label(data.model().metrics[m], view.lang), id=f"overview-metric-{m}",
            href="/" + state.to_search(view.with_(metric=None if m == FOCUS[0] else m)),
            className="btn" + (" active" if active else ""),
            style={"textDecoration": "none", "display": "inline-block",
                   "background": p["primary"] if active else p["card"],
                   "color": "#ffffff" if active else p["text"],
                   "borderColor": p["primary"] if active else p["axis"]}))
    return out


# -- registration -----------------------------------------------------------------------------

callback(Output("overview-fresh", "children"), Input("url", "search"))(render_fresh)
callback(Output("overview-filterbar", "children"), Input("url", "search"))(render_filterbar)
callback(Output("overview-live", "children"), Input("url", "search"),
         Input("shell-tick", "n_intervals"), prevent_initial_call=True)(render_live)
for _key, _, _ in PANELS:
    callback(Output(f"overview-panel-{_key}", "children"), Input("url", "search"))(
        (lambda k: lambda search: render_panel(k, search))(_key))
callback(Output("overview-trend", "children"), Input("url", "search"))(render_trend)
callback(Output("overview-breakdown", "children"), Input("url", "search"))(render_breakdown)
callback(Output("overview-movers", "children"), Input("url", "search"))(render_movers)
callback(Output("overview-alliance", "children"), Input("url", "search"))(render_alliance)
callback(Output("overview-metric", "children"), Input("url", "search"))(render_focus)
callback(Output("url", "search", allow_duplicate=True),
         Input("overview-breakdown-graph", "clickData"), State("url", "search"),
         prevent_initial_call=True)(on_breakdown_click)
callback(Output("url", "search", allow_duplicate=True),
         Input("overview-movers-graph", "clickData"), State("url", "search"),
         prevent_initial_call=True)(on_movers_click)
