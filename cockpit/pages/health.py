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


def layout(**_params):
    return html.Div([html.Div(id="health-summary"), html.Div(id="health-tables")])


def _table(rows, cols):
    def cell(c, v):
        if c == "status":
            return html.Td(v, className="status-ok" if v == "ok" else "status-failed")
        if isinstance(v, float):
            v = f"{v:,.1f}"
        return html.Td("" if v is None else str(v))

    return html.Table(className="health-table", children=[
        html.Thead(html.Tr([html.Th(c) for c in cols])),
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
                f" · data version {h['data_version']}"]),
        html.P("; ".join(h.get("failing", [])), className="status-failed")])
    tables = [html.Div(className="panel", children=[
        html.H3(key, className="panel-title"), _table(h[key][:30], cols)])
        for key, cols in _COLS.items()]
    return summary, tables
