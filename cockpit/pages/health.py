"""运行状态 health page: refreshes (durations, failures), materializations, jobs, loads and the
data version; the same as `/health` JSON."""
from __future__ import annotations

import dash
from dash import Input, Output, callback, html

from cockpit import state
from cockpit.health import health_json
from cockpit.i18n import t

dash.register_page(__name__, path="/health-page", name="运行状态", title_key="nav_health",
                   order=95)

_COLS = {
    "materializations": ("name", "mode", "status", "rows", "duration_ms", "partitions_rebuilt",
                         "built_at", "error"),
    "jobs": ("job", "started_at", "seconds", "status", "detail", "error"),
    "refreshes": ("finished_at", "data_version", "built", "incremental", "partitions", "failed",
                  "error"),
    "loads": ("load_id", "kind", "source", "finished_at", "rows_read", "rows_changed",
              "rows_quarantined"),
}


HEADINGS = {
    "materializations": ("物化汇总表", "Materializations"), "jobs": ("后台任务", "Jobs"),
    "refreshes": ("刷新记录", "Refreshes"), "loads": ("数据加载", "Loads"),
    "name": ("名称", "name"), "mode": ("方式", "mode"), "status": ("状态", "status"),
    "rows": ("行数", "rows"), "duration_ms": ("耗时(毫秒)", "ms"),
    "partitions_rebuilt": ("重建分区", "partitions rebuilt"), "built_at": ("构建时间", "built at"),
    "error": ("错误", "error"), "job": ("任务", "job"), "started_at": ("开始", "started"),
    "seconds": ("秒", "seconds"), "detail": ("说明", "detail"),
    "finished_at": ("完成", "finished"), "data_version": ("数据版本", "data version"),
    "built": ("全量", "full"), "incremental": ("增量", "incremental"),
    "partitions": ("分区", "partitions"), "failed": ("失败", "failed"),
    "load_id": ("批次", "load"), "kind": ("类型", "kind"), "source": ("来源", "source"),
    "rows_read": ("读取", "read"), "rows_changed": ("变更", "changed"),
    "rows_quarantined": ("隔离", "quarantined"),
}


def _h(key: str, lang: str) -> str:
    zh, en = HEADINGS.get(key, (key, key))
    return zh if lang == "zh" else en


def layout(**_params):
    return html.Div([html.Div(id="health-summary"), html.Div(id="health-tables")])


def _table(rows, cols, lang="zh"):
    def cell(c, v):
        if c == "status":
            return html.Td(v, className="status-ok" if v == "ok" else "status-failed")
        if isinstance(v, float):
            v = f"{v:,.1f}"
        return html.Td("" if v is None else str(v))

    return html.Table(className="health-table", children=[
        html.Thead(html.Tr([html.Th(_h(c, lang)) for c in cols])),
        html.Tbody([html.Tr([cell(c, r.get(c)) for c in cols]) for r in rows])])


@callback(Output("health-summary", "children"), Output("health-tables", "children"),
          Input("url", "search"), Input("shell-tick", "n_intervals"))
def render(search, _tick):
    view = state.from_search(search)
    h = health_json()
    lang = view.lang
    summary = html.Div(className="panel", children=[
        html.H3(t("nav_health", lang), className="panel-title"),
        html.P([html.Span(h["status"], id="health-status",
                          className="status-ok" if h["status"] == "ok" else "status-failed"),
                f" · {_h('data_version', lang)} {h['data_version']}"]),
        html.P("; ".join(h.get("failing", [])), className="status-failed")])
    tables = [html.Div(className="panel", children=[
        html.H3(_h(key, lang), className="panel-title"), _table(h[key][:30], cols, lang)])
        for key, cols in _COLS.items()]
    return summary, tables
