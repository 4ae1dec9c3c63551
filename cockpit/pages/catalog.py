"""指标目录 metric catalogue: every metric with its definition, and for one metric its
description, formula, standard, lineage, the freshness of its tables and its value this month.

    /catalog?metric=cmi&find=死亡&mtheme=drg

- `find`: free-text search over id, 中文, English, formula, description and standard;
- `mtheme`: one management theme (病案, 就诊, …);
- `metric`: the selected metric (click a row); the link reproduces the view.

The catalogue itself comes from `metrics.catalog.entries` (the same as `cockpit catalog`), so
the page and the CLI never disagree. Export (CSV / Excel) gives the filtered table.
"""
from __future__ import annotations

import datetime as dt
import io
import logging

import dash
import pandas as pd
from dash import Input, Output, State, callback, dash_table, dcc, html, no_update

from cockpit import data, state
from cockpit.components import freshness_line, panel
from cockpit.figures.theme import FONT_FAMILY
from cockpit.formatting import fmt_datetime, fmt_number
from cockpit.freshness import for_metrics, limits, newest_rows
from cockpit.i18n import metric_label, panel_label, t

log = logging.getLogger("cockpit.pages.catalog")

dash.register_page(__name__, path="/catalog", name="指标目录", title_key="nav_catalog",
                   order=90)

LABELS = {
    "ct.title": ("指标目录", "Metric catalogue"),
    "ct.search": ("搜索指标（编号、名称、公式、依据）", "Search metrics (id, name, formula, "
                                                "standard)"),
    "ct.all_themes": ("全部主题", "All themes"),
    "ct.count": ("共 {n} 项指标", "{n} metrics"),
    "ct.pick": ("点击表格中的一行查看指标详情", "Click a row to see the metric's details"),
    "ct.theme": ("主题", "Theme"),
    "ct.id": ("编号", "Id"),
    "ct.zh": ("中文名称", "Chinese name"),
    "ct.en": ("英文名称", "English name"),
    "ct.kind": ("类型", "Kind"),
    "ct.band": ("合理区间", "Typical range"),
    "ct.panel": ("驾驶舱面板", "Cockpit panel"),
    "ct.description": ("定义", "Definition"),
    "ct.lineage": ("血缘", "Lineage"),
    "ct.lineage_text": ("文本形式", "As text"),
    "ct.tables": ("数据表新鲜度", "Freshness of its tables"),
    "ct.table": ("表", "Table"),
    "ct.newest": ("最新数据", "Newest row"),
    "ct.limit": ("时效要求", "Limit"),
    "ct.status": ("状态", "Status"),
    "ct.ok": ("正常", "OK"),
    "ct.current": ("本月至今（{start} – {end}，{scope}）", "This month so far ({start} – {end}, "
                                                  "{scope})"),
    "ct.scope_default": ("本部+分院区", "main + branch campuses"),
    "ct.depends": ("依赖", "Depends on"),
    "ct.fact": ("事实", "Fact"),
    "ct.dated_by": ("按 {col} 计期", "dated by {col}"),
    "ct.served_by": ("物化", "Served by"),
    "ct.measure": ("度量", "Measure"),
    "ct.scope_note": ("口径", "Scope"),
    "ct.data": ("数据可得性", "Data availability"),
    "ct.data_Y": ("可直接计算", "Computed from the data"),
    "ct.data_P": ("院内口径（部分可得）", "Hospital's own version (partial data)"),
    "ct.not_found": ("未找到指标 {id}", "No metric {id}"),
    "ct.error": ("查询出错：{msg}", "Query failed: {msg}"),
    "ct.kind_simple": ("简单", "simple"), "ct.kind_ratio": ("比率", "ratio"),
    "ct.kind_derived": ("派生", "derived"), "ct.kind_cumulative": ("累计", "cumulative"),
    "ct.kind_transform": ("变换", "transform"),
}
_DIR = {"up": "↑", "down": "↓", "band": "◇"}


def L(key: str, lang: str, **kw) -> str:
    if key in LABELS:
        text = LABELS[key][0 if lang != "en" else 1]
        return text.format(**kw) if kw else text
    return t(key, lang, **kw)


# -- the catalogue as a frame ----------------------------------------------------------------

def catalog_entries() -> list[dict]:
    """`metrics.catalog.entries` for the served model (computed once per model)."""
    from metrics.catalog import entries

    memo = data._state.setdefault("catalog_entries", {})
    model = data.model()
    if id(model) not in memo:
        memo.clear()
        memo[id(model)] = entries(model)
    return memo[id(model)]


def band_text(e: dict, lang: str) -> str:
    if not e["band"]:
        return ""
    lo, hi = e["band"]
    return f"{fmt_number(lo, e['format'], lang)} – {fmt_number(hi, e['format'], lang)}"


def table_frame(lang: str, find: str | None = None, theme: str | None = None) -> pd.DataFrame:
    """One row per metric, filtered by the search text and theme."""
    model = data.model()
    rows = []
    for e in catalog_entries():
        if theme and e["theme"] != theme:
            continue
        if find:
            hay = " ".join(str(e.get(k) or "") for k in ("id", "zh", "en", "formula",
                                                         "description", "standard", "panel",
                                                         "theme_zh")).lower()
            if not all(w in hay for w in find.lower().split()):
                continue
        th = model.themes[e["theme"]]
        rows.append({
            "id": e["id"], "theme": th.zh if lang != "en" else th.en, "zh": e["zh"],
            "en": e["en"], "formula": e["formula"] or e["description"], "unit": e["unit"],
            "direction": f"{_DIR[e['direction']]} {t('common.direction_' + e['direction'], lang)}",
            "band": band_text(e, lang), "standard": e["standard"]
            + (f"（{e['label_scope']}）" if e["label_scope"] else ""),
            "panel": panel_label(e["panel"], lang)})
    cols = ["id", "theme", "zh", "en", "formula", "unit", "direction", "band", "standard",
            "panel"]
    return pd.DataFrame(rows, columns=cols)


def columns(lang: str) -> list[tuple[str, str]]:
    return [("theme", L("ct.theme", lang)), ("id", L("ct.id", lang)), ("zh", L("ct.zh", lang)),
            ("en", L("ct.en", lang)), ("formula", t("common.formula", lang)),
            ("unit", t("common.unit", lang)), ("direction", t("common.direction", lang)),
            ("band", L("ct.band", lang)), ("standard", t("common.standard", lang)),
            ("panel", L("ct.panel", lang))]


# -- layout ----------------------------------------------------------------------------------

def layout(**params):
    lang = params.get("lang") if params.get("lang") in ("zh", "en") else "zh"
    return html.Div(className="catalog", children=[
        html.Div(className="panel", children=[
            html.H3(id="catalog-title", className="panel-title"),
            html.Div(className="catalog-tools", style={"display": "flex", "gap": "12px",
                                                       "flexWrap": "wrap",
                                                       "alignItems": "center"}, children=[
                dcc.Input(id="catalog-search", type="search", debounce=True,
                          value=params.get("find", ""), placeholder=L("ct.search", lang),
                          style={"minWidth": "320px", "flex": "1", "padding": "6px 8px",
                                 "background": "var(--card)", "color": "var(--text)",
                                 "border": "1px solid var(--line)", "borderRadius": "4px"}),
                dcc.Dropdown(id="catalog-theme", clearable=True, options=[],
                             value=params.get("mtheme") or None,
                             placeholder=L("ct.all_themes", lang),
                             style={"minWidth": "200px"}),
                html.Span(id="catalog-count", className="catalog-count"),
                html.Button(id="catalog-export-csv", className="btn"),
                html.Button(id="catalog-export-xlsx", className="btn"),
                dcc.Download(id="catalog-download"),
            ]),
            html.Div(id="catalog-hint", className="catalog-hint",
                     style={"margin": "6px 0", "opacity": 0.75}),
            dash_table.DataTable(
                id="catalog-table", page_size=15, sort_action="native",
                style_table={"overflowX": "auto"},
                style_header={"fontFamily": FONT_FAMILY, "fontWeight": 600},
                style_cell={"fontFamily": FONT_FAMILY, "textAlign": "left",
                            "whiteSpace": "normal", "height": "auto", "maxWidth": "360px",
                            "cursor": "pointer"},
                style_data_conditional=[]),
        ]),
        html.Div(id="catalog-detail"),
    ])


# -- renderers -------------------------------------------------------------------------------

def render_table(search):
    """Table rows, columns, count, labels; the selected row is highlighted."""
    view = state.from_search(search)
    lang = view.lang
    find = view.extra.get("find") or ""
    theme = view.extra.get("mtheme") or None
    frame = table_frame(lang, find, theme)
    model = data.model()
    themes = [{"label": th.zh if lang != "en" else th.en, "value": k}
              for k, th in model.themes.items()]
    selected = view.extra.get("metric")
    highlight = ([{"if": {"filter_query": f'{{id}} = "{selected}"'},
                   "backgroundColor": "rgba(22,100,255,0.15)", "fontWeight": 600}]
                 if selected else [])
    return (L("ct.title", lang), frame.to_dict("records"),
            [{"name": h, "id": c} for c, h in columns(lang)],
            L("ct.count", lang, n=len(frame)), themes, theme, find,
            L("ct.search", lang), L("ct.all_themes", lang), L("ct.pick", lang),
            t("export.csv", lang), t("export.excel", lang), highlight)


def lineage_tree(tree: dict, lang: str):
    """metric → facts (table, dated by) → measures (agg, expr, filter, columns) and the
    materializations serving them, as nested lists."""
    facts = []
    for f in tree["facts"]:
        joins = f" ⋈ {', '.join(f['joins'])}" if f["joins"] else ""
        measures = [html.Li([html.Code(ms["measure"]),
                             f" = {ms['agg']}({ms['expr'] or '*'})",
                             (f" where {ms['filter']}" if ms["filter"] else ""),
                             html.Span(f"  [{', '.join(ms['source_columns'])}]"
                                       if ms["source_columns"] else "",
                                       style={"opacity": 0.7})])
                    for ms in f["measures"]]
        mvs = [html.Li([f"{L('ct.served_by', lang)} ", html.Code(mv["duckdb"]),
                        f" ({mv['grain']}: {', '.join(mv['dimensions'])})"])
               for mv in f["materializations"]]
        facts.append(html.Li([
            f"{L('ct.fact', lang)} ", html.B(f["fact"]), " ← ", html.Code(f["table"] + joins),
            f", {L('ct.dated_by', lang, col=f['time'])}",
            html.Ul(measures + mvs)]))
    return html.Ul([html.Li([html.B(tree["metric"]), f" · {tree['zh']} ({tree['kind']}) ← ",
                             ", ".join(tree["depends_on"]), html.Ul(facts)])],
                   className="catalog-lineage", id="catalog-lineage")


def fmt_limit(limit: dt.timedelta | None, lang: str) -> str:
    """A freshness limit as people say it: 2 小时, 45 天 (2 h, 45 d)."""
    if limit is None:
        return "—"
    hours = limit.total_seconds() / 3600
    if hours >= 24 and hours % 24 == 0:
        return f"{int(hours // 24)} 天" if lang != "en" else f"{int(hours // 24)} d"
    if hours >= 1:
        return f"{hours:g} 小时" if lang != "en" else f"{hours:g} h"
    return f"{limit.total_seconds() / 60:g} 分钟" if lang != "en" else \
        f"{limit.total_seconds() / 60:g} min"


def table_freshness(tables: list[str], lang: str):
    newest = newest_rows()
    lim = limits()
    now = data.now()
    rows = []
    for tname in tables:
        ts = newest.get(tname)
        limit = lim.get(tname)
        stale = ts is None or (limit is not None and now - ts > limit)
        rows.append(html.Tr([
            html.Td(html.Code(tname)), html.Td(fmt_datetime(ts, lang) if ts else "—"),
            html.Td(fmt_limit(limit, lang)),
            html.Td(t("fresh.stale", lang) if stale else L("ct.ok", lang),
                    className="status-failed" if stale else "status-ok")]))
    head = html.Tr([html.Th(L(k, lang)) for k in ("ct.table", "ct.newest", "ct.limit",
                                                  "ct.status")])
    return html.Table([html.Thead(head), html.Tbody(rows)], className="health-table",
                      id="catalog-freshness-table")


def hospital_campuses() -> list[str]:
    """Main and branch campuses (the hospital view's default; alliance members apart)."""
    from sqlglot import exp

    from metrics.dialects import render

    wh = data.warehouse()
    sql = render(exp.select("campus_id", "campus_type").from_("dim_campus"), wh.dialect)
    rows = wh.query_rows(sql)
    return sorted(c for c, kind in rows if kind in ("main", "branch")) or sorted(
        c for c, _ in rows)


def current_value(mid: str, view: state.View):
    """(value, start, end, scope label) for this month so far."""
    today = data.now().date()
    start = today.replace(day=1)
    where = {"campus": [view.campus] if view.campus else hospital_campuses()}
    frame = data.q([mid], start=start, end=today, where=where)
    v = frame[mid].iloc[0] if len(frame) else None
    scope = (data.labels("campus").get(view.campus, view.campus) if view.campus
             else L("ct.scope_default", view.lang))
    return (None if v is None or v != v else float(v)), start, today, scope


def render_detail(search):
    view = state.from_search(search)
    lang = view.lang
    mid = view.extra.get("metric")
    if not mid:
        return None
    entry = next((e for e in catalog_entries() if e["id"] == mid), None)
    if entry is None:
        return panel(L("ct.title", lang), html.Div(L("ct.not_found", lang, id=mid)), None, lang)
    from metrics.lineage import render_text

    model = data.model()
    m = model.metrics[mid]
    fr = for_metrics([mid])
    try:
        value, start, end, scope = current_value(mid, view)
        value_block = html.Div(className="kpi-card", id="catalog-current", children=[
            html.Div(L("ct.current", lang, start=f"{start:%Y-%m-%d}", end=f"{end:%Y-%m-%d}",
                       scope=scope), className="kpi-label"),
            html.Div(fmt_number(value, m.format, lang), className="kpi-value",
                     id="catalog-current-value", style={"fontSize": "2em", "fontWeight": 600}),
            freshness_line(fr, lang)])
    except Exception as e:
        log.exception("catalog value failed")
        value_block = html.Div(L("ct.error", lang, msg=str(e)[:200]), id="catalog-current")
    facts = [
        (t("common.metric", lang), f"{m.zh} · {m.en} ({mid})"),
        (L("ct.description", lang), m.description),
        (t("common.formula", lang), m.formula or "—"),
        (t("common.unit", lang), m.unit),
        (t("common.direction", lang),
         f"{_DIR[m.direction]} {t('common.direction_' + m.direction, lang)}"),
        (L("ct.band", lang), band_text(entry, lang) or "—"),
        (t("common.standard", lang), m.standard),
        (L("ct.scope_note", lang), m.label_scope or "—"),
        (L("ct.data", lang), L(f"ct.data_{m.data}", lang)),
        (L("ct.kind", lang), L(f"ct.kind_{m.kind}", lang)),
        (L("ct.panel", lang), panel_label(m.panel, lang)),
        (t("common.owner", lang), m.owner),
    ]
    definition = html.Table(
        [html.Tr([html.Th(k, style={"whiteSpace": "nowrap", "verticalAlign": "top"}),
                  html.Td(v)]) for k, v in facts],
        className="health-table catalog-definition", id="catalog-definition")
    body = [
        html.Div(className="grid-2", children=[definition, value_block]),
        html.H4(L("ct.lineage", lang)),
        lineage_tree(entry["lineage"], lang),
        html.Details([html.Summary(L("ct.lineage_text", lang)),
                      html.Pre(render_text(entry["lineage"]), id="catalog-lineage-text",
                               style={"whiteSpace": "pre-wrap", "fontSize": "12px"})]),
        html.H4(L("ct.tables", lang)),
        table_freshness(entry["tables"], lang),
    ]
    return panel(metric_label(m, lang), body, fr, lang, id="catalog-detail-panel")


# -- interaction -----------------------------------------------------------------------------

def on_filters(find, theme, search):
    view = state.from_search(search)
    find = (find or "").strip() or None
    theme = theme or None
    if find == (view.extra.get("find") or None) and theme == (view.extra.get("mtheme") or None):
        return no_update
    return state.to_search(view.with_(find=find, mtheme=theme))


def on_cell(active, search):
    if not active or not active.get("row_id"):
        return no_update
    view = state.from_search(search)
    if active["row_id"] == view.extra.get("metric"):
        return no_update
    return state.to_search(view.with_(metric=active["row_id"]))


def export_table(fmt: str, search) -> dict:
    """The filtered catalogue as CSV or Excel (audited like every export)."""
    from cockpit.auth import audit

    view = state.from_search(search)
    lang = view.lang
    frame = table_frame(lang, view.extra.get("find"), view.extra.get("mtheme"))
    cols = columns(lang)
    frame = frame[[c for c, _ in cols]].rename(columns=dict(cols))
    audit(data.warehouse(), "export", f"catalog {fmt} {search or ''}")
    name = f"metric_catalog_{dt.date.today():%Y%m%d}.{fmt}"
    if fmt == "csv":
        return dict(content=frame.to_csv(index=False), filename=name, type="text/csv")
    buf = io.BytesIO()
    frame.to_excel(buf, index=False)
    return dcc.send_bytes(buf.getvalue(), name)


def on_export_csv(n, search):
    return export_table("csv", search) if n else no_update


def on_export_xlsx(n, search):
    return export_table("xlsx", search) if n else no_update


callback(Output("catalog-title", "children"), Output("catalog-table", "data"),
         Output("catalog-table", "columns"), Output("catalog-count", "children"),
         Output("catalog-theme", "options"), Output("catalog-theme", "value"),
         Output("catalog-search", "value"), Output("catalog-search", "placeholder"),
         Output("catalog-theme", "placeholder"), Output("catalog-hint", "children"),
         Output("catalog-export-csv", "children"), Output("catalog-export-xlsx", "children"),
         Output("catalog-table", "style_data_conditional"),
         Input("url", "search"))(render_table)
callback(Output("catalog-detail", "children"), Input("url", "search"))(render_detail)
callback(Output("url", "search", allow_duplicate=True), Input("catalog-search", "value"),
         Input("catalog-theme", "value"), State("url", "search"),
         prevent_initial_call=True)(on_filters)
callback(Output("url", "search", allow_duplicate=True), Input("catalog-table", "active_cell"),
         State("url", "search"), prevent_initial_call=True)(on_cell)
callback(Output("catalog-download", "data"), Input("catalog-export-csv", "n_clicks"),
         State("url", "search"), prevent_initial_call=True)(on_export_csv)
callback(Output("catalog-download", "data", allow_duplicate=True),
         Input("catalog-export-xlsx", "n_clicks"), State("url", "search"),
         prevent_initial_call=True)(on_export_xlsx)
