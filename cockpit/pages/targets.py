"""目标 targets page: the hospital → department → team tree of a metric's annual targets with
progress bars, the off-track list, and (for leaders and engineers) editing with holds.

    /targets?metric=medical_revenue&year=2026

- Every row: annual target, expected to date (phased) and the phased progress it means
  (its title gives the year's time progress beside it), actual to date, completion (bar
  capped at 120 %, a tick at 100 %), gap in amount and per cent, and a run-rate landing.
- For a ratio metric the implied hospital ratio of the children (Σ numerators ÷ Σ
  denominators; direct ratio targets weighted by their actual denominators) against the
  hospital's target, flagged when it misses, and the departments whose children miss theirs.
- Department heads see their departments and teams only, and export exactly those; the
  hospital row, other departments and the editor are not shown to them. The callbacks ask
  `targets/` with the signed-in user, which enforces the same scope again (a crafted request
  gets an AccessDenied, audited).
- Leaders and engineers set a node's target — a value or a band, of the metric or (ratios) of
  its numerator or denominator, optionally locked (held in later cascades) and, for a ratio's
  parts, phased seasonally — and cascade a parent's target (or a ratio's part) to its
  children: proportional to last year, equal, by open beds or by clinic sessions, with a
  reserve, holds and the rounding remainder to a chosen child. A cascade whose references
  are all zero says it split equally.
"""
from __future__ import annotations

import io
import logging

import dash
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update

from cockpit import data, state, target_views
from cockpit.auth import audit, current_user
from cockpit.components import data_table, panel
from cockpit.formatting import fmt_number
from cockpit.i18n import metric_label, t
from cockpit.target_views import progress_row, progress_table

log = logging.getLogger("cockpit.pages.targets")

dash.register_page(__name__, path="/targets", name="目标", title_key="nav_targets", order=40)

LABELS = {
    **target_views.LABELS,
    "tg.metric": ("指标", "Metric"),
    "tg.year": ("年度", "Year"),
    "tg.tree": ("{metric} · {year}年目标进度", "{metric}: {year} targets and progress"),
    "tg.offtrack": ("未达进度（按落后程度）", "Off track (furthest behind first)"),
    "tg.none_off": ("全部达到时序进度", "Everything is on track"),
    "tg.gap_pct": ("差额%", "Gap %"),
    "tg.time": ("时间进度 {p}", "Time elapsed {p}"),
    "tg.editor": ("编辑目标", "Edit targets"),
    "tg.set": ("保存目标", "Save target"), "tg.value": ("目标值", "Value"),
    "tg.lock": ("锁定（下达时保持）", "Lock (hold in cascades)"),
    "tg.cascade": ("下达", "Cascade"), "tg.from": ("从", "From"), "tg.to": ("到", "To"),
    "tg.method": ("方法", "Method"), "tg.reserve": ("院级预留", "Reserve"),
    "tg.holds": ("保持不变的下级", "Children held"),
    "tg.saved": ("已保存：版本 {v}", "Saved: version {v}"),
    "tg.cascaded": ("已下达：版本 {v}", "Cascaded: version {v}"),
    "tg.denied": ("无权编辑目标", "You may not edit targets"),
    "tg.failed": ("未完成：{msg}", "Not done: {msg}"),
    "tg.conflicts": ("上下不一致：", "Top-down and bottom-up disagree: "),
    "tg.implied": ("下级合计推算比率 {implied}，全院目标 {target}", "Implied by the children {implied}; "
                   "hospital target {target}"),
    "tg.implied_weighted": ("（其中 {n} 个直接比率目标按实际分母加权）",
                            " ({n} direct ratio targets weighted by their actual denominator)"),
    "tg.implied_missing": ("；{n} 个下级无分母可加权，未计入", "; {n} without a denominator to "
                           "weight by, left out"),
    "tg.implied_depts": ("下级推算比率偏离本级目标：", "Implied ratio misses the node's target: "),
    "tg.export": ("导出目标", "Export targets"),
    "tg.error": ("查询出错：{msg}", "Query failed: {msg}"),
    "method.proportional": ("按上年实际比例", "Proportional to last year"),
    "method.equal": ("平均", "Equal"), "method.capacity": ("按开放床位", "By open beds"),
    "method.capacity_sessions": ("按出诊单元", "By clinic sessions"),
    "level.department": ("科室", "Departments"), "level.team": ("诊疗组", "Teams"),
    "level.campus": ("院区", "Campuses"),
    "comp.value": ("目标值", "Target"), "comp.numerator": ("分子", "Numerator"),
    "comp.denominator": ("分母", "Denominator"),
    "tg.lo": ("区间下限", "Band low"), "tg.hi": ("区间上限", "Band high"),
    "tg.seasonal": ("分子分母按季节规律分解", "Phase numerator and denominator seasonally"),
    "tg.remainder": ("尾差归属（可选）", "Rounding remainder to (optional)"),
    "tg.equal_fallback": ("（参考值全为零，已平均分配）", " (every reference was zero: split equally)"),
}
#: editor method → (targets.cascade method, capacity kind)
METHODS = {"proportional": ("proportional", "beds"), "equal": ("equal", "beds"),
           "capacity": ("capacity", "beds"), "capacity_sessions": ("capacity", "sessions")}
DEFAULT_METRIC = "medical_revenue"


def L(key: str, lang: str, **kw) -> str:
    if key in LABELS:
        text = LABELS[key][0 if lang != "en" else 1]
        return text.format(**kw) if kw else text
    return t(key, lang, **kw)


def can_edit() -> bool:
    u = current_user()
    return bool(u is not None and u.can_edit_targets)


def targetable() -> list[str]:
    """Metrics that take a target: additive, stocks and ratios (not transforms)."""
    from metrics.targets_read import target_class

    model = data.model()
    return [m for m, x in model.metrics.items()
            if x.kind in ("simple", "ratio", "derived")
            and target_class(model, m) in ("sum", "stock", "ratio")]


def selection(view: state.View) -> tuple[str, int]:
    metric = view.extra.get("metric") or DEFAULT_METRIC
    if metric not in data.model().metrics:
        metric = DEFAULT_METRIC
    try:
        year = int(view.extra.get("year") or data.now().year)
    except ValueError:
        year = data.now().year
    return metric, year


# -- layout -----------------------------------------------------------------------------------

def layout(**params):
    return html.Div(className="targets", children=[
        dcc.Store(id="targets-version", data=0),
        dcc.Download(id="targets-download"),
        html.Div(className="panel targets-head", style={"display": "flex", "gap": "12px",
                                                        "alignItems": "center"}, children=[
            html.Span(id="targets-metric-label"),
            dcc.Dropdown(id="targets-metric", clearable=False, options=[],
                         style={"minWidth": "280px"}),
            html.Span(id="targets-year-label"),
            dcc.Dropdown(id="targets-year", clearable=False, options=[],
                         style={"minWidth": "110px"}),
            html.Button(id="targets-export-csv", className="btn"),
            html.Button(id="targets-export-xlsx", className="btn"),
        ]),
        html.Div(id="targets-tree"),
        html.Div(id="targets-offtrack"),
        html.Div(id="targets-editor"),
        html.Div(id="targets-message", className="targets-message"),
    ])


# -- the tree and the off-track list -----------------------------------------------------------

def tree_frame(metric: str, year: int, user) -> pd.DataFrame:
    """Progress of every node the user may see: the hospital (whole-hospital users), then each
    department followed by its teams; through the result cache (per data version — which
    counts target versions —, minute and scope)."""
    as_of = data.now()
    scope = None if user is None or user.scope is None else tuple(sorted(user.scope))
    return data.cached("targets.tree", (metric, year, as_of, user is None, scope),
                       lambda: _tree_frame(metric, year, user, as_of))


def _tree_frame(metric: str, year: int, user, as_of) -> pd.DataFrame:
    from targets.progress import progress

    wh, model = data.warehouse(), data.model()
    parts = []
    if user is not None and user.scope is None:
        parts.append(progress(wh, metric, year, as_of, "hospital", user=user, model=model))
    for level in ("department", "team"):
        parts.append(progress(wh, metric, year, as_of, level, user=user, model=model))
    frame = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(
        len(p) for p in parts) else parts[-1]
    from metrics.targets_read import org_nodes

    teams, depts = data.labels("team"), data.labels("department")
    nodes = org_nodes(wh)
    parent = dict(zip(nodes["node_id"], nodes["parent_id"]))
    campuses, tags = data.labels("campus"), data.campus_tags()
    depts = {d: f"{n}（{campuses.get(tags[d], tags[d])}）" if tags.get(d) else n
             for d, n in depts.items()}  # 全科医学科（东院）: a name two campuses share
    frame["name"] = [L("tg.hospital", "zh") if lv == "hospital" else
                     depts.get(n, n) if lv == "department" else teams.get(n, n)
                     for lv, n in zip(frame["level"], frame["node_id"])]
    frame["department"] = [n if lv == "department" else parent.get(n) if lv == "team" else ""
                           for lv, n in zip(frame["level"], frame["node_id"])]
    # keep departments without a target out of the tree unless a team below has one
    has = frame["target"].notna()
    keep_depts = set(frame.loc[has & (frame["level"] != "hospital"), "department"])
    frame = frame[(frame["level"] == "hospital") | frame["department"].isin(keep_depts)]
    order = {"hospital": 0, "department": 1, "team": 2}
    return frame.sort_values(["department", "level"], key=lambda s: s.map(order)
                             if s.name == "level" else s).reset_index(drop=True)


def tree_table(frame: pd.DataFrame, fmt: str, lang: str) -> html.Table:
    depth = {"hospital": 0, "department": 1, "team": 2}
    return progress_table([
        progress_row(r, L("tg.hospital", lang) if r.level == "hospital" else r.name,
                     depth[r.level], fmt, lang, f"targets-row-{r.node_id}", f"targets-{r.level}")
        for r in frame.itertuples(index=False)], lang)


def checks(metric: str, year: int, lang: str) -> list:
    """Conflicts between top-down and bottom-up, and the implied parent ratio (whole-hospital
    users only)."""
    from metrics.targets_read import target_class
    from targets.rollup import conflicts, ratio_check, rollup

    wh, model = data.warehouse(), data.model()
    out = []
    bad = conflicts(rollup(wh, metric, year, model))
    if len(bad):
        out.append(html.Div(L("tg.conflicts", lang) + "; ".join(
            f"{r.node_id}: {fmt_number(r.top_down, 'decimal1', lang)} ≠ "
            f"{fmt_number(r.bottom_up + r.reserve, 'decimal1', lang)}"
            for r in bad.itertuples()), className="targets-conflicts"))
    if target_class(model, metric) == "ratio":
        fmt = model.metrics[metric].format
        check = ratio_check(wh, metric, year, model)
        for r in check[check["node_level"] == "hospital"].itertuples():
            text = L("tg.implied", lang, implied=fmt_number(r.implied, fmt, lang),
                     target=fmt_number(r.target, fmt, lang))
            if r.weighted:
                text += L("tg.implied_weighted", lang, n=r.weighted)
            if r.unweighted:
                text += L("tg.implied_missing", lang, n=r.unweighted)
            out.append(html.Div(text, className="targets-implied" + (" flag" if r.flag else "")))
        below = check[(check["node_level"] != "hospital") & check["flag"]]
        if len(below):
            names = {**data.labels("campus"), **data.labels("department"), **data.labels("team")}
            out.append(html.Div(L("tg.implied_depts", lang) + "; ".join(
                f"{names.get(r.node_id, r.node_id)}: {fmt_number(r.implied, fmt, lang)} / "
                f"{fmt_number(r.target, fmt, lang)}" for r in below.itertuples()),
                className="targets-implied flag"))
    return out


def render_tree(search, _version=None):
    view = state.from_search(search)
    lang = view.lang
    metric, year = selection(view)
    m = data.model().metrics[metric]
    user = current_user()
    try:
        frame = tree_frame(metric, year, user)
        from targets.progress import off_track

        elapsed = frame["time_progress"].iloc[0] if len(frame) else None
        body = [html.Div(L("tg.time", lang, p=fmt_number(elapsed, "percent", lang)),
                         className="targets-time")] if elapsed is not None else []
        if user is not None and user.scope is None:
            body += checks(metric, year, lang)
        body.append(tree_table(frame, m.format, lang))
        tree = panel(L("tg.tree", lang, metric=metric_label(m, lang), year=year), body, None,
                     lang, id="targets-tree-panel")
        off = off_track(frame)
        off_body = data_table("targets-offtrack-table", off.assign(
            completion_pct=[fmt_number(v, "percent", lang) for v in off["completion"]],
            gap_text=[fmt_number(v, m.format, lang) for v in off["gap"]],
            gap_pct_text=[fmt_number(v, "percent", lang) for v in off["gap_pct"]]),
            [("name", L("tg.node", lang)), ("completion_pct", L("tg.completion", lang)),
             ("gap_text", L("tg.gap", lang)), ("gap_pct_text", L("tg.gap_pct", lang))],
            lang) if len(off) else \
            html.Div(L("tg.none_off", lang))
        return tree, panel(L("tg.offtrack", lang), off_body, None, lang,
                           id="targets-offtrack-panel")
    except Exception as e:
        log.exception("targets page failed")
        return html.Div(L("tg.error", lang, msg=str(e)[:200])), None


# -- the head, the editor ------------------------------------------------------------------------

def render_head(search):
    from metrics.targets_read import current_versions

    view = state.from_search(search)
    lang = view.lang
    metric, year = selection(view)
    model = data.model()
    ids = targetable()
    opts = [{"label": metric_label(model.metrics[m], lang), "value": m} for m in ids]
    this = data.now().year
    years = set(current_versions(data.warehouse())["year"].astype(int)) | {this - 1, this,
                                                                        this + 1, year}
    return (L("tg.metric", lang), opts, metric, L("tg.year", lang),
            [{"label": str(y), "value": y} for y in sorted(years)], year,
            L("tg.export", lang) + " CSV", L("tg.export", lang) + " Excel")


def render_editor(search, _version=None):
    """The editor, for leaders and engineers only."""
    if not can_edit():
        return None
    from metrics.targets_read import target_class

    view = state.from_search(search)
    lang = view.lang
    metric, _ = selection(view)
    ratio = target_class(data.model(), metric) == "ratio"
    comps = [{"label": L(f"comp.{c}", lang), "value": c}
             for c in (("value", "numerator", "denominator") if ratio else ("value",))]
    nodes = [{"label": L("tg.hospital", lang), "value": "hospital"}]
    for lv in ("campus", "department", "team"):
        names = data.labels(lv)
        nodes += [{"label": f"{names[n]} ({n})", "value": n} for n in sorted(names)]
    flags = [{"label": L("tg.lock", lang), "value": "lock"}]
    if ratio:
        flags.append({"label": L("tg.seasonal", lang), "value": "seasonal"})
    row = {"display": "flex", "gap": "8px", "flexWrap": "wrap", "alignItems": "center"}
    return panel(L("tg.editor", lang), [
        html.Div(className="targets-set", style=row, children=[
            dcc.Dropdown(id="targets-node", options=nodes, value="hospital", clearable=False,
                         style={"minWidth": "260px"}),
            dcc.Dropdown(id="targets-component", options=comps, value="value",
                         clearable=False, style={"minWidth": "110px"}),
            dcc.Input(id="targets-value", type="number", placeholder=L("tg.value", lang),
                      style={"width": "170px"}),
            dcc.Input(id="targets-lo", type="number", placeholder=L("tg.lo", lang),
                      style={"width": "150px"}),
            dcc.Input(id="targets-hi", type="number", placeholder=L("tg.hi", lang),
                      style={"width": "150px"}),
            dcc.Checklist(id="targets-lock", options=flags, value=[]),
            html.Button(L("tg.set", lang), id="targets-save", className="btn")]),
        html.Div(className="targets-cascade", style={**row, "marginTop": "8px"}, children=[
            dcc.Dropdown(id="targets-parent", options=nodes, value="hospital", clearable=False,
                         style={"minWidth": "260px"}),
            dcc.Dropdown(id="targets-cascade-component", clearable=False,
                         value="numerator" if ratio else "value",
                         options=[c for c in comps if c["value"] != "value"] or comps,
                         style={"minWidth": "110px"}),
            dcc.Dropdown(id="targets-level", clearable=False, value="department",
                         options=[{"label": L(f"level.{lv}", lang), "value": lv}
                                  for lv in ("campus", "department", "team")]),
            dcc.Dropdown(id="targets-method", clearable=False, value="proportional",
                         options=[{"label": L(f"method.{m}", lang), "value": m}
                                  for m in METHODS], style={"minWidth": "180px"}),
            dcc.Input(id="targets-reserve", type="number", placeholder=L("tg.reserve", lang),
                      style={"width": "170px"}),
            dcc.Dropdown(id="targets-holds", multi=True, options=nodes, value=[],
                         placeholder=L("tg.holds", lang), style={"minWidth": "220px"}),
            dcc.Dropdown(id="targets-remainder", options=nodes, value=None,
                         placeholder=L("tg.remainder", lang), style={"minWidth": "200px"}),
            html.Button(L("tg.cascade", lang), id="targets-run-cascade", className="btn")]),
    ], None, lang, id="targets-editor-panel")


def _denied(action: str, lang: str):
    u = current_user()
    audit(data.warehouse(), "denied", f"targets {action}", username=u.username if u else None)
    return html.Div(L("tg.denied", lang), className="targets-denied")


def _num(v):
    return None if v in (None, "") else float(v)


def save_target(n_clicks, search, node, value, lock, version, component=None, lo=None,
                hi=None):
    """Set one node's target — a value, or a band (lo … hi), of the metric or of a ratio's
    numerator / denominator — optionally locked (held in cascades) and, for a ratio's parts,
    phased seasonally (leaders and engineers; `targets.store` checks again)."""
    from targets.store import set_target
    from warehouse.errors import CockpitError

    if not n_clicks:
        return no_update, no_update
    view = state.from_search(search)
    lang = view.lang
    if not can_edit():
        return _denied("set", lang), no_update
    metric, year = selection(view)
    try:
        v = set_target(data.warehouse(), metric, year, node, _num(value), _num(lo), _num(hi),
                       component=component or "value", locked="lock" in (lock or []),
                       seasonal="seasonal" in (lock or []), user=current_user(),
                       model=data.model())
    except CockpitError as e:
        return html.Div(L("tg.failed", lang, msg=str(e))), no_update
    forget_cached_queries()
    return html.Div(L("tg.saved", lang, v=v)), (version or 0) + 1


def run_cascade(n_clicks, search, parent, level, method, reserve, holds, version,
                component=None, remainder_to=None):
    """Cascade a component with holds (the held children keep their current values), a
    reserve, and the rounding remainder to a chosen child."""
    from metrics.targets_read import records
    from targets.cascade import cascade
    from warehouse.errors import CockpitError

    if not n_clicks:
        return no_update, no_update
    view = state.from_search(search)
    lang = view.lang
    if not can_edit():
        return _denied("cascade", lang), no_update
    metric, year = selection(view)
    wh = data.warehouse()
    try:
        comp = component or "value"
        cur = records(wh, metric, [year])
        cur = cur[cur["component"] == comp]
        held = {n: float(v) for n, v in zip(cur["node_id"], cur["value"])
                if n in set(holds or []) and v == v}
        how, capacity = METHODS.get(method or "proportional", (method, "beds"))
        res = cascade(wh, metric, year, parent or "hospital", level or "department", how,
                      component=comp, capacity=capacity, holds=held, reserve=_num(reserve),
                      remainder_to=remainder_to or None, user=current_user(),
                      model=data.model())
    except CockpitError as e:
        return html.Div(L("tg.failed", lang, msg=str(e))), no_update
    forget_cached_queries()
    note = L("tg.equal_fallback", lang) if res.params.get("equal_fallback") else ""
    return html.Div(L("tg.cascaded", lang, v=res.version) + note), (version or 0) + 1


def export_file(fmt: str, search) -> dict:
    """The user's targets as CSV / Excel (a department head gets theirs only). Audited."""
    from targets.io import export_frame

    metric, year = selection(state.from_search(search))
    frame = export_frame(data.warehouse(), [metric], [year], user=current_user())
    audit(data.warehouse(), "export", f"targets {metric} {year} {fmt} ({len(frame)} records)")
    name = f"targets-{metric}-{year}"
    if fmt == "csv":
        return dict(content=frame.to_csv(index=False), filename=name + ".csv", type="text/csv")
    buf = io.BytesIO()
    frame.assign(created_at=frame["created_at"].astype("string")).to_excel(buf, index=False)
    return dcc.send_bytes(buf.getvalue(), name + ".xlsx")


def export(n_csv, n_xlsx, search):
    trig = dash.ctx.triggered_id
    if not (n_csv or n_xlsx) or trig is None:
        return no_update
    return export_file("csv" if trig == "targets-export-csv" else "xlsx", search)


def forget_cached_queries() -> None:
    """A target edit is a new target version, part of the data version the query cache is
    keyed by: re-read it now rather than within the second."""
    data.invalidate_version()


def on_pick(metric, year, search):
    view = state.from_search(search)
    cur_metric, cur_year = selection(view)
    if metric == cur_metric and year == cur_year:
        return no_update
    return state.to_search(view.with_(metric=metric, year=str(year)))


callback(Output("targets-metric-label", "children"), Output("targets-metric", "options"),
         Output("targets-metric", "value"), Output("targets-year-label", "children"),
         Output("targets-year", "options"), Output("targets-year", "value"),
         Output("targets-export-csv", "children"), Output("targets-export-xlsx", "children"),
         Input("url", "search"))(render_head)
callback(Output("targets-tree", "children"), Output("targets-offtrack", "children"),
         Input("url", "search"), Input("targets-version", "data"))(render_tree)
callback(Output("targets-editor", "children"), Input("url", "search"),
         Input("targets-version", "data"))(render_editor)
callback(Output("targets-message", "children"), Output("targets-version", "data"),
         Input("targets-save", "n_clicks"), State("url", "search"), State("targets-node", "value"),
         State("targets-value", "value"), State("targets-lock", "value"),
         State("targets-version", "data"), State("targets-component", "value"),
         State("targets-lo", "value"), State("targets-hi", "value"),
         prevent_initial_call=True)(save_target)
callback(Output("targets-message", "children", allow_duplicate=True),
         Output("targets-version", "data", allow_duplicate=True),
         Input("targets-run-cascade", "n_clicks"), State("url", "search"),
         State("targets-parent", "value"), State("targets-level", "value"),
         State("targets-method", "value"), State("targets-reserve", "value"),
         State("targets-holds", "value"), State("targets-version", "data"),
         State("targets-cascade-component", "value"), State("targets-remainder", "value"),
         prevent_initial_call=True)(run_cascade)
callback(Output("targets-download", "data"), Input("targets-export-csv", "n_clicks"),
         Input("targets-export-xlsx", "n_clicks"), State("url", "search"),
         prevent_initial_call=True)(export)
callback(Output("url", "search", allow_duplicate=True), Input("targets-metric", "value"),
         Input("targets-year", "value"), State("url", "search"),
         prevent_initial_call=True)(on_pick)
