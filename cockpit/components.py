"""Building blocks shared by pages: a panel with its freshness line, and tables with CSV /
XLSX export (audited). Pages pass data in; nothing here queries by itself except the export
callback, which re-runs the panel's query for the current user (so the scope holds)."""
from __future__ import annotations

import io
import json

import dash
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from . import data
from .freshness import Freshness


def freshness_line(fr: Freshness, lang: str = "zh") -> html.Div:
    """数据截至 … · 最近加载 …, and a visible stale marker (never presented as current)."""
    from .formatting import fmt_datetime
    from .i18n import t

    parts = [f"{t('data_as_of', lang)} {fmt_datetime(fr.newest, lang) if fr.newest else '—'}",
             f"{t('last_load', lang)} {fmt_datetime(fr.last_load, lang) if fr.last_load else '—'}"]
    children = [html.Span(" · ".join(parts))]
    if fr.stale:
        children.append(html.Span(t("stale", lang), className="stale-tag",
                                  title="; ".join(fr.reasons)))
    return html.Div(children, className="freshness stale" if fr.stale else "freshness")


def panel(title: str, body, fr: Freshness | None = None, lang: str = "zh", id=None,
          extra_class: str = "") -> html.Section:
    """A titled card; stale panels get the `stale` class (greyed, marked)."""
    cls = "panel " + extra_class + (" stale" if fr is not None and fr.stale else "")
    kids = [html.H3(title, className="panel-title"), html.Div(body, className="panel-body")]
    if fr is not None:
        kids.append(freshness_line(fr, lang))
    return html.Section(kids, className=cls.strip(), **({"id": id} if id else {}))


def data_table(table_id: str, frame, columns: list[tuple[str, str]], lang: str = "zh",
               query: dict | None = None, page_size: int = 15) -> html.Div:
    """A table with 导出 CSV / 导出 Excel buttons. `columns` = [(column, header)]; `query` is
    the `cockpit.data.q` keyword arguments that produced the frame (re-run on export)."""
    from dash import dash_table

    from .i18n import t

    return html.Div(className="table-block", children=[
        html.Div(className="table-tools", children=[
            html.Button(t("export_csv", lang), id={"type": "export", "fmt": "csv",
                                                   "table": table_id}, className="btn"),
            html.Button(t("export_xlsx", lang), id={"type": "export", "fmt": "xlsx",
                                                    "table": table_id}, className="btn"),
            dcc.Store(id={"type": "export-query", "table": table_id},
                      data=json.dumps({"query": query or {}, "columns": columns},
                                      default=str)),
        ]),
        dash_table.DataTable(
            id=table_id, page_size=page_size, sort_action="native",
            columns=[{"name": h, "id": c} for c, h in columns],
            data=frame[[c for c, _ in columns]].to_dict("records") if len(frame) else [],
            style_table={"overflowX": "auto"}, style_cell={"fontFamily": "inherit"}),
    ])


@callback(Output("export-download", "data"),
          Input({"type": "export", "fmt": ALL, "table": ALL}, "n_clicks"),
          State({"type": "export-query", "table": ALL}, "data"),
          prevent_initial_call=True)
def export(_clicks, stores):
    """Re-run the table's query for the signed-in user and send it as CSV or XLSX."""
    trig = ctx.triggered_id
    if not trig or not any(_clicks or []):
        return no_update
    ids = [s["id"]["table"] for s in ctx.states_list[0]]
    spec = json.loads(stores[ids.index(trig["table"])])
    q = spec["query"]
    frame = data.q(**q) if q.get("metrics") else None
    if frame is None:
        return no_update
    from .auth import audit

    audit(data.warehouse(), "export", f"{trig['table']} {trig['fmt']} {json.dumps(q)}")
    by = q.get("by") or []
    if "name" in dict(spec["columns"]) and "name" not in frame.columns and by:
        frame["name"] = frame[by[0]].map(data.labels(by[0]))  # the label shown on screen
    cols = [c for c, _ in spec["columns"] if c in frame.columns]
    frame = frame[cols].rename(columns=dict(spec["columns"]))
    name = f"{trig['table']}.{trig['fmt']}"
    if trig["fmt"] == "csv":
        return dict(content=frame.to_csv(index=False), filename=name,
                    type="text/csv")
    buf = io.BytesIO()
    frame.to_excel(buf, index=False)
    return dcc.send_bytes(buf.getvalue(), name)
