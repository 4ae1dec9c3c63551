"""The Dash app: the shell (header, navigation, global filters) and the pages under
`cockpit/pages/`, each a module that registers itself and owns its layout and callbacks.

The global filters (period, date, campus, 同比/环比, language, theme) live in the URL; pages read
the view from `url.search` with `cockpit.state.from_search`, so every view has a link.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import dash
from dash import Input, Output, State, ctx, dcc, html, no_update

from . import components  # noqa: F401  (registers the export callback)
from . import state
from .i18n import t

HERE = Path(__file__).resolve().parent


def create_app() -> dash.Dash:
    app = dash.Dash(
        __name__, use_pages=True, pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"), suppress_callback_exceptions=True,
        serve_locally=True, title="医院运营驾驶舱", update_title=None,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}])
    app.layout = shell
    _register_shell_callbacks(app)
    return app


def _nav_pages():
    return sorted((p for p in dash.page_registry.values() if p.get("order") is not None),
                  key=lambda p: p["order"])


def shell():
    """The frame around every page (built per page load)."""
    from .auth import current_user

    user = current_user()
    return html.Div(id="shell-root", className="cockpit light", children=[
        dcc.Location(id="url", refresh="callback-nav"),
        dcc.Interval(id="shell-tick", interval=60_000),
        dcc.Download(id="export-download"),
        html.Header(className="shell-header", children=[
            html.Div(className="shell-brand", children=[
                html.Span("医院运营驾驶舱", id="shell-title", className="shell-title"),
                html.Span(id="shell-version", className="shell-version")]),
            html.Nav(id="shell-nav", className="shell-nav"),
            html.Div(className="shell-user", children=[
                html.Span(user.name or user.username if user else "", id="shell-username"),
                html.A(t("logout", "zh"), href="/logout", id="shell-logout")]),
        ]),
        html.Div(className="shell-filters", children=[
            dcc.RadioItems(id="shell-period", className="shell-seg", inline=True,
                           value="month", options=[]),
            dcc.DatePickerSingle(id="shell-date", display_format="YYYY-MM-DD",
                                 first_day_of_week=1, clearable=True),
            dcc.DatePickerRange(id="shell-range", display_format="YYYY-MM-DD",
                                first_day_of_week=1, className="shell-range"),
            # options are in the layout itself: a linked ?campus=… must find its option
            # before the URL sync runs, or the dropdown would clear it
            dcc.Dropdown(id="shell-campus", className="shell-campus", clearable=True,
                         placeholder=t("all_campuses", "zh"), options=_campus_options("zh")),
            dcc.RadioItems(id="shell-compare", className="shell-seg", inline=True,
                           value="yoy", options=[]),
            dcc.RadioItems(id="shell-lang", className="shell-seg", inline=True, value="zh",
                           options=[{"label": "中文", "value": "zh"},
                                    {"label": "EN", "value": "en"}]),
            dcc.RadioItems(id="shell-theme", className="shell-seg", inline=True,
                           value="light", options=[]),
        ]),
        html.Main(dash.page_container, className="shell-main"),
    ])


def _campus_options(lang: str) -> list[dict]:
    from . import data

    names = data.labels("campus")
    return [{"label": names[c], "value": c} for c in sorted(names)]


def _register_shell_callbacks(app: dash.Dash) -> None:
    filters = ["shell-period", "shell-date", "shell-range", "shell-campus", "shell-compare",
               "shell-lang", "shell-theme"]

    @app.callback(
        Output("url", "search"),
        *[Output(f, "value") for f in filters if f != "shell-date" and f != "shell-range"],
        Output("shell-date", "date"),
        Output("shell-range", "start_date"), Output("shell-range", "end_date"),
        Input("url", "search"),
        *[Input(f, "value") for f in filters if f not in ("shell-date", "shell-range")],
        Input("shell-date", "date"),
        Input("shell-range", "start_date"), Input("shell-range", "end_date"),
    )
    def sync(search, period, campus, compare, lang, theme, date, start, end):
        """URL → filters on load and navigation; filters → URL when the user changes one."""
        view = state.from_search(search)
        if ctx.triggered_id in (None, "url"):
            return (no_update, view.period, view.campus, view.compare, view.lang, view.theme,
                    view.date.isoformat() if view.date else None,
                    view.start.isoformat() if view.start else None,
                    view.end.isoformat() if view.end else None)
        new = view.with_(period=period or "month", campus=campus or None,
                         compare=compare or "yoy", lang=lang or "zh", theme=theme or "light",
                         date=_d(date), start=_d(start), end=_d(end))
        return (state.to_search(new),) + (no_update,) * 8

    @app.callback(
        Output("shell-root", "className"), Output("shell-nav", "children"),
        Output("shell-period", "options"), Output("shell-compare", "options"),
        Output("shell-theme", "options"), Output("shell-campus", "options"),
        Output("shell-campus", "placeholder"), Output("shell-title", "children"),
        Output("shell-logout", "children"), Output("shell-date", "style"),
        Output("shell-range", "style"), Output("shell-date", "placeholder"),
        Output("shell-range", "start_date_placeholder_text"),
        Output("shell-range", "end_date_placeholder_text"),
        Input("url", "search"), Input("url", "pathname"))
    def chrome(search, pathname):
        view = state.from_search(search)
        lang = view.lang
        keep = state.to_search(state.View(period=view.period, date=view.date,
                                          start=view.start, end=view.end, campus=view.campus,
                                          compare=view.compare, lang=lang, theme=view.theme))
        nav = [dcc.Link(t(p.get("title_key", p["name"]), lang), href=p["path"] + keep,
                        className="nav-link active" if p["path"] == pathname else "nav-link",
                        id="nav-" + p["module"].replace("pages.", "").replace(".", "-"))
               for p in _nav_pages()]
        periods = [{"label": t(f"period_{p}", lang), "value": p} for p in state.PERIODS]
        compare = [{"label": t("yoy", lang), "value": "yoy"},
                   {"label": t("pop", lang), "value": "pop"}]
        themes = [{"label": t("theme_light", lang), "value": "light"},
                  {"label": t("theme_dark", lang), "value": "dark"}]
        custom = view.period == "custom"
        return (f"cockpit {view.theme} lang-{lang}", nav, periods, compare, themes,
                _campus_options(lang), t("all_campuses", lang), t("app_title", lang),
                t("logout", lang), {"display": "none"} if custom else {},
                {} if custom else {"display": "none"},
                "选择日期" if lang == "zh" else "Select date",
                "开始日期" if lang == "zh" else "Start date",
                "结束日期" if lang == "zh" else "End date")


def _d(v) -> dt.date | None:
    if not v:
        return None
    return dt.date.fromisoformat(str(v)[:10])
