"""主题页 theme pages: one module serving the eight management themes at `/theme/<theme_id>`.

Each theme is registered as its own page (`pages.theme.visits` …, path `/theme/visits`, nav
label `nav.<theme>`, order 10–17), so the shell's navigation lists all eight; they share this
module's layout and callbacks, which read the theme from the pathname.

URL parameters (besides the shell's period / date / campus / compare / lang / theme):

    metric  the theme's selected metric (default: its first)
    dept    cross-filter: a department (click a department bar)
    team    cross-filter: a team (click a team in the ranking when `by=team`)
    by      campus | department | team | doctor: the level of the ranking, distribution and
            table (drill: clicking a department sets dept and by=team, a team sets by=doctor)

    /theme/revenue?period=month&date=2026-11-25&metric=medical_revenue&dept=D0103&by=team

Panels: KPI cards of every metric of the theme for the period with 同比 / 环比 change (click a
card to select its metric), the selected metric's trend with its comparison line, breakdown by
campus and by department (click → filter), ranking (top / bottom 10), distribution over the
`by` level, and a table with CSV / XLSX export. Numbers come only from `cockpit.data.q`.
"""
from __future__ import annotations

import datetime as dt
import functools
from urllib.parse import urlencode

import dash
import pandas as pd
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from cockpit import data, state
from cockpit.components import data_table, panel
from cockpit.figures import (bar_ranking, breakdown_bar, distribution_histogram, graph_config,
                             kpi_card, trend_figure)
from cockpit.formatting import fmt_number
from cockpit.freshness import for_metrics
from cockpit.i18n import dim_label, metric_label, t
from metrics.dimensions import fact_dimensions
from metrics.plan import measures_of
from metrics.registry import load_model

THEME_ORDER = ("visits", "clinic", "internet", "revenue", "surgery", "admission", "records",
               "drg")
LEVELS = ("campus", "department", "team", "doctor")
TOP_N = 10

#: labels this page needs that cockpit.i18n does not have (yet)
_LABELS = {
    "top": ("前{n}名", "Top {n}"),
    "bottom": ("后{n}名", "Bottom {n}"),
    "highest": ("最高{n}", "Highest {n}"),
    "lowest": ("最低{n}", "Lowest {n}"),
    "by_campus": ("院区构成", "By campus"),
    "by_department": ("科室构成", "By department"),
    "distribution_of": ("{level}分布", "Distribution over {level}s"),
    "breakdown_by": ("按{level}", "By {level}"),
    "click_hint": ("点击柱条筛选本页", "Click a bar to filter the page"),
    "clear": ("清除", "Clear"),
    "hospital": ("全院", "Hospital"),
    "name": ("名称", "Name"),
    "id": ("编码", "Code"),
    "change": ("变化", "Change"),
    "kpis": ("本期指标", "Indicators this period"),
    "metric": ("指标", "Metric"),
    "level": ("层级", "Level"),
    "median": ("中位数", "Median"),
}


def _t(key: str, lang: str, **kw) -> str:
    if key in _LABELS:
        text = _LABELS[key][0 if lang != "en" else 1]
        return text.format(**kw) if kw else text
    return t(key, lang, **kw)


def _themes() -> list[str]:
    model = load_model()
    return [tid for tid in THEME_ORDER if tid in model.themes] + sorted(
        tid for tid in model.themes if tid not in THEME_ORDER)


# -- the model's view of a metric ---------------------------------------------------------
def metric_dims(mid: str) -> set[str]:
    """Organisation levels every part of the metric carries."""
    model = data.model()
    facts = {model.measures[n][0].name: model.measures[n][0] for n in measures_of(model, mid)}
    return set.intersection(*(fact_dimensions(f) for f in facts.values())) if facts else set()


def hourly(mid: str) -> bool:
    model = data.model()
    return not any(model.measures[n][0].time_is_date for n in measures_of(model, mid))


def additive(mid: str) -> bool:
    """Counts and sums add up over departments (a ratio does not)."""
    model = data.model()
    return model.metrics[mid].kind == "simple" and all(
        model.measures[n][1].agg in ("sum", "count") for n in measures_of(model, mid))


def band_of(pv: dict, mid: str):
    """The typical range a value is judged against: the model's band is the hospital's, so a
    count or sum of one campus / department / team is not held to it (`()` = no band)."""
    met = data.model().metrics[mid]
    if additive(mid) and (pv["view"].campus or pv["dept"] or pv["team"]
                          or pv["view"].period != "day"):
        return ()  # bands of counts are per day, for the whole hospital
    return met.band if met.direction == "band" else None


def comparable(mid: str) -> bool:
    """A growth metric (kind transform) is already a comparison: no 同比 of it."""
    return data.model().metrics[mid].kind != "transform"


# -- the view ------------------------------------------------------------------------------
def page_view(search: str | None, theme_id: str) -> dict:
    """Everything a render needs, from the URL (bad params fall back to defaults)."""
    view = state.from_search(search)
    model = data.model()
    mids = [m.id for m in model.themes[theme_id].metrics]
    mid = view.extra.get("metric")
    mid = mid if mid in mids else mids[0]
    dims = metric_dims(mid)
    dept = view.extra.get("dept") or None
    team = view.extra.get("team") or None if "team" in dims else None
    by = view.extra.get("by") or ("team" if dept and "team" in dims else "department")
    if by not in LEVELS or by not in dims:
        by = "department"
    start, end = view.range()
    where = data.campus_where(view)
    if dept:
        where["department"] = [dept]
    if team:
        where["team"] = [team]
    return dict(view=view, theme_id=theme_id, metrics=mids, metric=mid, dims=dims, dept=dept,
                team=team, by=by, start=start, end=end, where=where, lang=view.lang,
                theme=view.theme, compare=view.compare)


def kpi_grain(view: state.View) -> str | None:
    """The bucket of a KPI card: the period itself, so 环比 is the previous period to the
    same day (Nov 1–25 against Oct 1–25) and 同比 the same days last year."""
    return view.period if view.period in ("day", "week", "month", "quarter", "year") else None


def previous_range(view: state.View, start: dt.date, end: dt.date, compare: str):
    """The comparison period of a trend, as the service's `:yoy` / `:pop` of the period."""
    if compare == "yoy":
        shift = pd.DateOffset(years=1)
    else:
        shift = {"day": pd.DateOffset(days=1), "week": pd.DateOffset(days=7),
                 "month": pd.DateOffset(months=1), "quarter": pd.DateOffset(months=3),
                 "year": pd.DateOffset(years=1)}.get(view.period,
                                                     pd.DateOffset(days=(end - start).days + 1))
    return (pd.Timestamp(start) - shift).date(), (pd.Timestamp(end) - shift).date()


def trend_grain(pv: dict) -> str:
    g = pv["view"].grain
    return "day" if g == "hour" and not hourly(pv["metric"]) else g


# -- layout --------------------------------------------------------------------------------
def layout(theme_id: str = "visits", **params):
    """The skeleton; every panel is filled by `render` from the URL."""
    search = "?" + urlencode({k: v for k, v in params.items() if isinstance(v, str)})
    pv = page_view(search, theme_id)
    lang = pv["lang"]
    model = data.model()
    options = [{"label": metric_label(model.metrics[m], lang), "value": m}
               for m in pv["metrics"]]
    levels = [{"label": dim_label(d, lang), "value": d} for d in LEVELS if d in pv["dims"]]
    th = model.themes[theme_id]
    return html.Div(className=f"page theme-page theme-{theme_id}", children=[
        html.Div(className="page-head", children=[
            html.Div(style={"display": "flex", "gap": "16px", "alignItems": "baseline"},
                     children=[html.H2(th.zh if lang == "zh" else th.en, id="theme-title",
                                       className="page-title", style={"margin": "0"}),
                               html.Div(id="theme-crumbs", className="crumbs")]),
            html.Div(className="page-controls", style={"display": "flex", "gap": "12px",
                                                       "alignItems": "center",
                                                       "flexWrap": "wrap",
                                                       "margin": "8px 0 12px"}, children=[
                html.Label(_t("metric", lang), className="control-label"),
                dcc.Dropdown(id="theme-metric", options=options, value=pv["metric"],
                             clearable=False, className="theme-metric",
                             style={"minWidth": "260px"}),
                html.Label(_t("level", lang), className="control-label"),
                dcc.RadioItems(id="theme-by", options=levels, value=pv["by"], inline=True,
                               className="shell-seg", labelStyle={"color": "var(--text)"}),
            ]),
        ]),
        html.Div(id="theme-kpis"),
        html.Div(className="grid-2", children=[html.Div(id="theme-trend"),
                                               html.Div(id="theme-campus")]),
        html.Div(id="theme-dept"),
        html.Div(className="grid-2", children=[html.Div(id="theme-rank"),
                                               html.Div(id="theme-dist")]),
        html.Div(id="theme-table"),
    ])


def _register() -> None:
    model = load_model()
    for i, tid in enumerate(_themes()):
        th = model.themes[tid]
        dash.register_page(f"{__name__}.{tid}", path=f"/theme/{tid}", name=th.zh,
                           title=f"{th.zh} · 医院运营驾驶舱", title_key=f"nav.{tid}",
                           order=10 + i, theme_id=tid,
                           layout=functools.partial(layout, theme_id=tid))


_register()


# -- panels (pure: frames in, components out) ------------------------------------------------
def _graph(gid: str, fig, lang: str, height: int | None = None) -> dcc.Graph:
    style = {}
    if height:
        fig.update_layout(height=height)
        style = {"height": f"{height}px"}
    return dcc.Graph(id=gid, figure=fig, config=graph_config(lang, gid), style=style)


def kpi_values(pv: dict) -> pd.DataFrame:
    """One row: every metric of the theme and its comparison value for the period."""
    tokens = []
    for m in pv["metrics"]:
        tokens.append(m)
        if comparable(m):
            tokens.append(f"{m}:{pv['compare']}")
    view = pv["view"]
    where = {k: v for k, v in pv["where"].items() if k != "team"}
    try:
        frame = data.q(tokens, grain=kpi_grain(view), start=pv["start"], end=pv["end"],
                       where=where)
    except Exception:  # one metric that cannot answer must not blank the others
        parts = []
        for m in pv["metrics"]:
            try:
                parts.append(data.q([x for x in tokens if x.split(":")[0] == m],
                                    grain=kpi_grain(view), start=pv["start"], end=pv["end"],
                                    where=where).drop(columns=["period"], errors="ignore"))
            except Exception:
                continue
        frame = pd.concat(parts, axis=1) if parts else pd.DataFrame()
    return frame.drop(columns=["period"], errors="ignore").tail(1)


def kpi_panel(pv: dict, frame: pd.DataFrame) -> html.Section:
    lang, model = pv["lang"], data.model()
    row = frame.iloc[0] if len(frame) else pd.Series(dtype=object)
    cmp_label = t(f"compare.{pv['compare']}", lang)
    cards = []
    for m in pv["metrics"]:
        met = model.metrics[m]
        fr = for_metrics([m])
        card = kpi_card(met, row.get(m), row.get(f"{m}:{pv['compare']}") if comparable(m)
                        else None, cmp_label if comparable(m) else None, band=band_of(pv, m),
                        lang=lang, stale=fr.stale, theme=pv["theme"], id=f"theme-kpi-value-{m}")
        cards.append(html.Div(card, id={"type": "theme-kpi", "metric": m}, n_clicks=0,
                              className="kpi-click" + (" selected" if m == pv["metric"] else ""),
                              style={"cursor": "pointer", "outline": "2px solid var(--accent)"
                                     if m == pv["metric"] else "none", "borderRadius": "8px"}))
    title = _t("kpis", lang) + _scope_suffix(pv)
    return panel(title, html.Div(cards, className="grid"), for_metrics(pv["metrics"]), lang)


def _scope_suffix(pv: dict) -> str:
    names = []
    if pv["view"].campus:
        names.append(data.labels("campus").get(pv["view"].campus, pv["view"].campus))
    if pv["dept"]:
        names.append(data.labels("department").get(pv["dept"], pv["dept"]))
    if pv["team"]:
        names.append(data.labels("team").get(pv["team"], pv["team"]))
    return " · " + " › ".join(names) if names else ""


def trend_panel(pv: dict) -> html.Section:
    lang, mid = pv["lang"], pv["metric"]
    met = data.model().metrics[mid]
    grain = trend_grain(pv)
    start, end = pv["start"], pv["end"]
    if grain == "day" and pv["view"].grain == "hour":  # a date-counted metric on a day view
        start = end - dt.timedelta(days=29)
    frame = data.q([mid], grain=grain, start=start, end=end, where=pv["where"])
    compare = None
    if comparable(mid) and len(frame):
        ps, pe = previous_range(pv["view"], start, end, pv["compare"])
        prev = data.q([mid], grain=grain, start=ps, end=pe, where=pv["where"])
        n = min(len(prev), len(frame))
        has_data = pd.to_numeric(prev[mid], errors="coerce").fillna(0).ne(0).any()
        compare = None if not has_data else pd.DataFrame({"period": list(frame["period"])[:n],
                                f"{mid}:{pv['compare']}": list(prev[mid])[:n]})
    # a sum's band is the period's, not one day's: only ratios get their band on the trend
    band = met.band if met.direction == "band" and not additive(mid) else None
    fig = trend_figure(frame, mid, {mid: metric_label(met, lang)}, met.format, grain,
                       compare=compare, band=band, lang=lang, theme=pv["theme"],
                       compare_label=t(f"compare.{pv['compare']}", lang))
    title = f"{metric_label(met, lang)} · {t('common.trend', lang)}{_scope_suffix(pv)}"
    return panel(title, _graph("theme-trend-graph", fig, lang, 320), for_metrics([mid]), lang)


def campus_panel(pv: dict) -> html.Section:
    lang, mid = pv["lang"], pv["metric"]
    met = data.model().metrics[mid]
    frame = data.q([mid], by=["campus"], start=pv["start"], end=pv["end"])
    fig = breakdown_bar(frame, "campus", mid, data.labels("campus"), met.format, "v",
                        sort=True, lang=lang, theme=pv["theme"], highlight=pv["view"].campus,
                        metric_label=metric_label(met, lang))
    title = f"{metric_label(met, lang)} · {_t('by_campus', lang)}"
    return panel(title, _graph("theme-campus-graph", fig, lang, 320), for_metrics([mid]), lang)


def dept_panel(pv: dict) -> html.Section:
    lang, mid = pv["lang"], pv["metric"]
    met = data.model().metrics[mid]
    frame = data.q([mid], by=["department"], start=pv["start"], end=pv["end"],
                   where=pv["view"].where())
    frame = frame[frame[mid].notna() & (frame[mid] != 0)]
    fig = breakdown_bar(frame, "department", mid, data.labels("department"), met.format, "h",
                        sort=True, lang=lang, theme=pv["theme"], highlight=pv["dept"],
                        metric_label=metric_label(met, lang))
    height = max(240, 24 * len(frame) + 60)
    title = (f"{metric_label(met, lang)} · {_t('by_department', lang)}"
             f"{_scope_suffix({**pv, 'dept': None, 'team': None})}")
    body = [html.Div(_t("click_hint", lang), className="hint"),
            html.Div(_graph("theme-dept-graph", fig, lang, height),
                     style={"maxHeight": "560px", "overflowY": "auto"})]
    return panel(title, body, for_metrics([mid]), lang)


def level_frame(pv: dict, tokens: list[str]) -> pd.DataFrame:
    """The metric by the `by` level inside the page's filters."""
    where = dict(pv["where"])
    if pv["by"] in ("campus", "department"):  # a ranking of departments ignores the dept filter
        where.pop("department", None)
        where.pop("team", None)
    if pv["by"] == "campus":
        where.pop("campus", None)
    return data.q(tokens, by=[pv["by"]], start=pv["start"], end=pv["end"], where=where)


def rank_panel(pv: dict, frame: pd.DataFrame) -> html.Section:
    lang, mid, by = pv["lang"], pv["metric"], pv["by"]
    met = data.model().metrics[mid]
    rows = frame[frame[mid].notna()]
    labels = data.labels(by)
    lower_better = met.direction == "down"
    if met.direction == "band":
        best, worst = _t("highest", lang, n=TOP_N), _t("lowest", lang, n=TOP_N)
    else:
        best, worst = _t("top", lang, n=TOP_N), _t("bottom", lang, n=TOP_N)
    highlight = {"department": pv["dept"], "team": pv["team"],
                 "campus": pv["view"].campus}.get(by)
    kw = dict(fmt=met.format, top=TOP_N, highlight=highlight, lang=lang, theme=pv["theme"],
              metric_label=metric_label(met, lang))
    top = bar_ranking(rows, by, mid, labels, ascending=lower_better, **kw)
    bottom = bar_ranking(rows, by, mid, labels, ascending=not lower_better, **kw)
    h = max(240, 28 * min(TOP_N, len(rows)) + 60)
    body = html.Div(className="grid-2", children=[
        html.Div([html.H4(best, className="sub-title"), _graph("theme-rank-top", top, lang, h)]),
        html.Div([html.H4(worst, className="sub-title"),
                  _graph("theme-rank-bottom", bottom, lang, h)])])
    title = (f"{metric_label(met, lang)} · {t('common.ranking', lang)} · "
             f"{_t('breakdown_by', lang, level=dim_label(by, lang))}{_scope_suffix(pv)}")
    return panel(title, body, for_metrics([mid]), lang)


def dist_panel(pv: dict, frame: pd.DataFrame, total: float | None) -> html.Section:
    lang, mid, by = pv["lang"], pv["metric"], pv["by"]
    met = data.model().metrics[mid]
    values = frame[mid].dropna().tolist() if mid in frame.columns else []
    if additive(mid):  # a sum of the hospital is not on the scale of one department's
        marker = float(pd.Series(values).median()) if values else None
        marker_label = _t("median", lang)
    else:
        marker = total
        marker_label = _t("hospital", lang) if not pv["dept"] else \
            data.labels("department").get(pv["dept"], pv["dept"])
    fig = distribution_histogram(values, met.format, bins=min(20, max(5, len(values) // 2)),
                                 label=dim_label(by, lang), lang=lang, theme=pv["theme"],
                                 band=met.band if met.direction == "band" and
                                 not additive(mid) else None,
                                 marker=marker, marker_label=marker_label)
    title = (f"{metric_label(met, lang)} · "
             f"{_t('distribution_of', lang, level=dim_label(by, lang))}")
    return panel(title, _graph("theme-dist-graph", fig, lang, 320), for_metrics([mid]), lang)


def table_panel(pv: dict) -> html.Section:
    lang, mid, by = pv["lang"], pv["metric"], pv["by"]
    met = data.model().metrics[mid]
    cmp = pv["compare"]
    tokens = [mid] + ([f"{mid}:{cmp}", f"{mid}:{cmp}_growth"] if comparable(mid) else [])
    frame = level_frame(pv, tokens)
    labels = data.labels(by)
    frame = frame.assign(name=[labels.get(i, i) for i in frame[by]]).sort_values(
        mid, ascending=met.direction == "down", na_position="last", kind="stable")
    cmp_col = f"{mid}:{cmp}"
    if cmp_col in frame and not pd.to_numeric(frame[cmp_col], errors="coerce").fillna(0).any():
        # no data at all in the comparison period (not a real zero): show — rather than 0
        frame[cmp_col] = None
    shown = frame.copy()
    fmts = {mid: met.format, f"{mid}:{cmp}": met.format, f"{mid}:{cmp}_growth": "percent"}
    for col, fmt in fmts.items():
        if col in shown.columns:
            shown[col] = [fmt_number(v, fmt, lang, compact=False) for v in shown[col]]
    cmp_name = t(f"compare.{cmp}", lang)
    columns = [(by, _t("id", lang)), ("name", dim_label(by, lang)),
               (mid, metric_label(met, lang))]
    if comparable(mid):
        columns += [(f"{mid}:{cmp}", f"{cmp_name} {t('common.value', lang)}"),
                    (f"{mid}:{cmp}_growth", f"{cmp_name} {_t('change', lang)}")]
    where = dict(pv["where"])
    if by in ("campus", "department"):
        where.pop("department", None)
        where.pop("team", None)
    if by == "campus":
        where.pop("campus", None)
    query = dict(metrics=tokens, by=[by], start=pv["start"].isoformat(),
                 end=pv["end"].isoformat(), where=where)
    table = data_table(f"theme-table-{pv['theme_id']}", shown, columns, lang, query)
    title = f"{metric_label(met, lang)} · {t('common.details', lang)} · {dim_label(by, lang)}"
    return panel(title, table, for_metrics([mid]), lang)


def crumbs(pv: dict, pathname: str) -> list:
    """全院 › 院区 › 科室 › 诊疗组, each a link to that level."""
    view, lang = pv["view"], pv["lang"]
    base = view.with_(dept=None, team=None, by=None)
    items = [(_t("hospital", lang), state.to_search(base.with_(campus=None)))]
    if view.campus:
        items.append((data.labels("campus").get(view.campus, view.campus),
                      state.to_search(base)))
    if pv["dept"]:
        items.append((data.labels("department").get(pv["dept"], pv["dept"]),
                      state.to_search(view.with_(team=None, by="team"))))
    if pv["team"]:
        items.append((data.labels("team").get(pv["team"], pv["team"]), None))
    out = []
    for i, (name, search) in enumerate(items):
        if i:
            out.append(html.Span(" › ", className="crumb-sep"))
        last = i == len(items) - 1
        out.append(html.Span(name, className="crumb current") if last or search is None else
                   dcc.Link(name, href=pathname + search, className="crumb",
                            style={"color": "var(--accent)"}))
    return out


# -- callbacks -----------------------------------------------------------------------------
def theme_of(pathname: str | None) -> str | None:
    parts = (pathname or "").strip("/").split("/")
    return parts[1] if len(parts) == 2 and parts[0] == "theme" and parts[1] in \
        data.model().themes else None


@callback(Output("theme-crumbs", "children"), Output("theme-kpis", "children"),
          Input("url", "search"), Input("url", "pathname"))
def render_kpis(search, pathname):
    """The breadcrumb and the KPI cards (a separate request from the charts: the cards ask
    for every metric of the theme and its comparison, the slowest query of the page)."""
    tid = theme_of(pathname)
    if tid is None:
        return no_update, no_update
    pv = page_view(search, tid)
    return crumbs(pv, pathname), kpi_panel(pv, kpi_values(pv))


@callback(Output("theme-trend", "children"), Output("theme-campus", "children"),
          Output("theme-dept", "children"), Output("theme-rank", "children"),
          Output("theme-dist", "children"), Output("theme-table", "children"),
          Input("url", "search"), Input("url", "pathname"))
def render(search, pathname):
    """The selected metric's panels for the view in the URL."""
    tid = theme_of(pathname)
    if tid is None:
        return (no_update,) * 6
    pv = page_view(search, tid)
    mid = pv["metric"]
    level = level_frame(pv, [mid])
    total = data.q([mid], start=pv["start"], end=pv["end"], where=pv["where"])
    total_v = total[mid].iloc[0] if len(total) else None
    return (trend_panel(pv), campus_panel(pv), dept_panel(pv), rank_panel(pv, level),
            dist_panel(pv, level, total_v), table_panel(pv))


def click_search(search: str | None, theme_id: str, trigger: str, value) -> str | None:
    """The URL query string after a click or control change (None: nothing to do).

    Example: on /theme/visits, clicking 消化内科 (D0103) in the department breakdown turns
    `?period=month` into `?by=team&dept=D0103` (filtered to it, ranking its teams).
    """
    view = state.from_search(search)
    pv = page_view(search, theme_id)
    if value in (None, ""):
        return None
    if trigger == "theme-metric" or trigger == "theme-kpi":
        new = view.with_(metric=value)
        if pv["by"] not in metric_dims(value):
            new = new.with_(by=None)
        return state.to_search(new)
    if trigger == "theme-by":
        return state.to_search(view.with_(by=value))
    if trigger == "theme-campus-graph":
        return state.to_search(view.with_(campus=None if value == view.campus else value,
                                          dept=None, team=None, by=None))
    level = pv["by"] if trigger in ("theme-rank-top", "theme-rank-bottom") else "department"
    if level == "campus":
        return state.to_search(view.with_(campus=value, dept=None, team=None, by=None))
    if level == "department":
        if value == pv["dept"]:  # a second click on the selected department clears it
            return state.to_search(view.with_(dept=None, team=None, by=None))
        return state.to_search(view.with_(dept=value, team=None,
                                          by="team" if "team" in pv["dims"] else None))
    if level == "team":
        return state.to_search(view.with_(team=value, by="doctor"))
    return None


def _clicked(click) -> str | None:
    try:
        return click["points"][0]["customdata"]
    except (TypeError, KeyError, IndexError):
        return None


@callback(Output("url", "search", allow_duplicate=True),
          Input("theme-metric", "value"), Input("theme-by", "value"),
          Input("theme-campus-graph", "clickData"), Input("theme-dept-graph", "clickData"),
          Input("theme-rank-top", "clickData"), Input("theme-rank-bottom", "clickData"),
          Input({"type": "theme-kpi", "metric": ALL}, "n_clicks"),
          State("url", "search"), State("url", "pathname"), prevent_initial_call=True)
def on_click(metric, by, campus_click, dept_click, top_click, bottom_click, _kpi, search,
             pathname):
    """Cross-filter and drill: a click writes the new view into the URL."""
    tid = theme_of(pathname)
    trig = ctx.triggered_id
    if tid is None or trig is None:
        return no_update
    if isinstance(trig, dict):
        if not any(_kpi or []):
            return no_update
        out = click_search(search, tid, "theme-kpi", trig["metric"])
    else:
        value = {"theme-metric": metric, "theme-by": by,
                 "theme-campus-graph": _clicked(campus_click),
                 "theme-dept-graph": _clicked(dept_click),
                 "theme-rank-top": _clicked(top_click),
                 "theme-rank-bottom": _clicked(bottom_click)}.get(trig)
        pv = page_view(search, tid)
        if (trig == "theme-metric" and value == pv["metric"]) or \
                (trig == "theme-by" and value == pv["by"]):
            return no_update
        out = click_search(search, tid, trig, value)
    return no_update if out is None or out == (search or "") else out
