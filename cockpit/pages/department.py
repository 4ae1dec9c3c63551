"""科室 department page: a department head's numbers, their teams, and where the department
stands among departments of the same discipline across campuses.

    /department?dept=D0125&team=D0125T01&metric=alos&period=month&date=2026-11-25

- `dept`: the department (a dept_head lands on their first one; anyone else on the first
  department with wards in the hospital view); `team`: the drill into one team's doctors;
  `metric`: the trend's metric.
- KPI tiles against their bands and their targets: the tile's period's phased target
  (`:target_to_date`, 序时目标) beside the value of the same period; 目标未下达 without one.
  Bands are hospital-wide typical ranges: they are shown for rates and efficiency indices,
  not for counts (a department's volume has no hospital band) nor for case-mix-dependent
  figures (ALOS, CMI, costs per case), which the discipline ranking judges instead.
- 年度目标 panel: every metric with a target for the department or its teams this year, the
  department's row and its teams' rows (annual target, expected to date, actual, completion
  bar, gap, landing), the same table as the targets page (`cockpit/target_views.py`); the
  metric's name links to the targets page for that metric.
- Ranking: departments of the same discipline on every campus (alliance members included,
  marked). A dept_head's queries are scoped to their own departments, so a ranking built from
  what they may see would rank them first of one: the panel says "ranking needs hospital-wide
  access" instead of showing a misleading rank.
"""
from __future__ import annotations

import logging

import dash
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update

from cockpit import data, state
from cockpit.auth import current_scope, current_user
from cockpit.components import data_table, freshness_line, panel
from cockpit.figures.bars import bar_ranking
from cockpit.figures.kpi import kpi_card
from cockpit.figures.theme import graph_config
from cockpit.figures.trend import trend_figure
from cockpit.formatting import fmt_number
from cockpit.freshness import for_metrics
from cockpit.i18n import metric_label, t
from cockpit.target_views import progress_row, progress_table

log = logging.getLogger("cockpit.pages.department")

dash.register_page(__name__, path="/department", name="科室", title_key="nav_department",
                   order=20)

LABELS = {
    "dp.choose": ("科室", "Department"),
    "dp.kpis": ("科室关键指标", "Key metrics"),
    "dp.trend": ("{metric}趋势", "{metric}: trend"),
    "dp.teams": ("诊疗组", "Teams"),
    "dp.doctors": ("{team} · 医生", "{team}: doctors"),
    "dp.rank": ("同学科排名（{discipline}，全部院区）", "Rank within {discipline} (all campuses)"),
    "dp.rank_denied": ("排名需要全院数据权限：科主任账号只能看到本科室数据，无法与其他院区的同学科科室比较。",
                       "Ranking needs hospital-wide access: a department head's account sees "
                       "only its own departments, so it cannot be compared with the same "
                       "discipline on other campuses."),
    "dp.rank_summary": ("在{n}个{discipline}科室中：", "Among {n} {discipline} departments: "),
    "dp.rank_of": ("第{r}名", "#{r}"),
    "dp.rank_col": ("{metric}排名", "{metric} rank"),
    "dp.no_dept": ("没有可查看的科室", "No department available to you"),
    "dp.out_of_scope": ("无权查看该科室，已显示您的科室", "You may not see that department; "
                                                   "showing yours"),
    "dp.alliance": ("医联体", "alliance"),
    "dp.no_teams": ("本科室暂无诊疗组数据", "No team data for this department"),
    "dp.team_hint": ("点击诊疗组查看医生", "Click a team to see its doctors"),
    "dp.rank_hint": ("点击柱条切换到该科室", "Click a bar to open that department"),
    "dp.target_pending": ("目标未下达", "No target set"),
    "dp.target": ("序时目标 {value}", "Target to date {value}"),
    "dp.targets": ("{year}年目标进度", "{year} targets: progress"),
    "dp.targets_none": ("本科室{year}年尚未下达目标", "No {year} targets set for this department"),
    "dp.targets_time": ("时间进度 {p}", "Time elapsed {p}"),
    "dp.error": ("查询出错：{msg}", "Query failed: {msg}"),
    "dp.lower_better": ("越低越好", "lower is better"),
    "dp.clear_team": ("返回全科", "Back to department"),
}

KPIS = ["discharges", "opd_ed_visits", "alos", "bed_occupancy_rate", "cmi", "cost_index",
        "time_index", "discharge_surgeries", "grade4_share", "medical_revenue",
        "drug_revenue_ratio", "inpatient_mortality"]
#: judged by the discipline ranking, not by a hospital-wide band
CASE_MIX_DEPENDENT = {"alos", "preop_los", "cmi", "ipd_cost_per_discharge",
                      "opd_cost_per_visit", "drg_avg_cost", "drg_avg_los"}
TEAM_METRICS = ["discharges", "alos", "discharge_surgeries", "surgical_discharge_share",
                "grade4_share", "cmi", "cost_index", "opd_ed_visits"]
DOCTOR_METRICS = ["discharges", "alos", "discharge_surgeries", "opd_ed_visits"]
RANK_METRICS = ["discharges", "cmi", "cost_index", "time_index", "alos", "opd_ed_visits",
                "medical_revenue"]
#: two columns that share the width whatever their content (wide tables scroll)
GRID = {"display": "grid", "gridTemplateColumns": "repeat(auto-fit, minmax(480px, 1fr))",
        "gap": "16px"}
TREND_METRICS = ["discharges", "opd_ed_visits", "alos", "cmi", "medical_revenue",
                 "discharge_surgeries"]


def L(key: str, lang: str, **kw) -> str:
    if key in LABELS:
        text = LABELS[key][0 if lang != "en" else 1]
        return text.format(**kw) if kw else text
    return t(key, lang, **kw)


def known(ids):
    return [m for m in ids if m in data.model().metrics]


def error_note(exc: Exception, lang: str):
    log.exception("department panel failed")
    return html.Div(L("dp.error", lang, msg=str(exc)[:200]), className="dp-error")


def first(frame, col):
    if frame is None or frame.empty or col not in frame.columns:
        return None
    v = frame[col].iloc[0]
    return None if v != v else float(v)


# -- the organisation ------------------------------------------------------------------------

def departments() -> pd.DataFrame:
    """dim_department joined to its campus (per data version): dept_id, dept_name,
    dept_name_en, campus_id, campus_name, campus_type, discipline, has_ward."""
    from sqlglot import exp

    from metrics.dialects import render

    memo = data._state.setdefault("department_dims", {})
    key = data.data_version()
    if key not in memo:
        wh = data.warehouse()
        sql = (exp.select("d.dept_id", "d.dept_name", "d.dept_name_en", "d.campus_id",
                          "c.campus_name", "c.campus_type", "d.discipline", "d.has_ward")
               .from_("dim_department AS d")
               .join("dim_campus AS c", on="d.campus_id = c.campus_id", join_type="left")
               .order_by("d.dept_id"))
        memo.clear()
        memo[key] = wh.query_df(render(sql, wh.dialect))
    return memo[key]


def dept_name(row, lang: str) -> str:
    return (row["dept_name_en"] or row["dept_name"]) if lang == "en" else row["dept_name"]


def discipline_name(discipline: str, lang: str) -> str:
    """A discipline is named like its departments: in English, their English name."""
    if lang != "en":
        return discipline
    d = departments()
    rows = d[(d["discipline"] == discipline) & d["dept_name_en"].notna()]
    return rows["dept_name_en"].iloc[0] if len(rows) else discipline


def visible_departments(view: state.View) -> pd.DataFrame:
    """The departments this user may pick: a dept_head's own; others all, narrowed to the
    chosen campus."""
    d = departments()
    scope = current_scope()
    if scope is not None:
        return d[d["dept_id"].isin(scope)]
    if view.campus:
        return d[d["campus_id"] == view.campus]
    return d


def resolve_dept(view: state.View) -> tuple[str | None, bool]:
    """(department to show, whether the URL asked for one outside the user's scope)."""
    asked = view.extra.get("dept")
    scope = current_scope()
    user = current_user()
    if asked and (scope is None or asked in scope) and asked in set(departments()["dept_id"]):
        return asked, False
    if scope is not None:
        own = [d for d in (user.departments if user else ()) if d in scope]
        return (own[0] if own else None), bool(asked)
    d = visible_departments(view)
    main = d[d["campus_type"].isin(["main", "branch"])] if not view.campus else d
    pool = main if len(main) else d
    ward = pool[pool["has_ward"].fillna(False).astype(bool)]
    pick = ward if len(ward) else pool
    return (pick["dept_id"].iloc[0] if len(pick) else None), False


def dept_row(dept: str):
    d = departments()
    rows = d[d["dept_id"] == dept]
    return rows.iloc[0] if len(rows) else None


def teams_of(dept: str) -> list[str]:
    """The department's teams (dim_team.dept_id), per data version."""
    from metrics.targets_read import org_nodes

    memo = data._state.setdefault("department_teams", {})
    key = data.data_version()
    if key not in memo:
        nodes = org_nodes(data.warehouse())
        teams = nodes[nodes["level"] == "team"]
        memo.clear()
        memo[key] = teams.groupby("department")["node_id"].apply(list).to_dict()
    return memo[key].get(dept, [])


def team_names(lang: str) -> dict[str, str]:
    """Team names; in English '<department> team <n>' from the id's `T<n>` suffix."""
    zh = data.labels("team")
    if lang != "en":
        return zh
    en = {r["dept_id"]: dept_name(r, "en") for _, r in departments().iterrows()}
    out = {}
    for tid, name in zh.items():
        dept, _, n = tid.partition("T")
        out[tid] = f"{en.get(dept, dept)} team {int(n)}" if n.isdigit() else name
    return out


def card_band(mid: str):
    """Hospital bands apply to a department's rates and indices only (see module doc)."""
    m = data.model().metrics[mid]
    if not m.band or m.kind != "ratio" or mid in CASE_MIX_DEPENDENT:
        return []
    return list(m.band)


def targeted(ids, dept, year: int) -> list[str]:
    """The metrics among `ids` with a target on the department or its teams in `year`."""
    from metrics.targets_read import metrics_with_targets

    have = set(metrics_with_targets(data.warehouse(), year, [dept, *teams_of(dept)]))
    return [m for m in ids if m in have]


# -- layout ----------------------------------------------------------------------------------

def layout(**params):
    return html.Div(className="department", children=[
        html.Div(className="panel department-head", children=[
            html.Div(className="department-pick", children=[
                html.Span(id="department-pick-label", className="department-pick-label"),
                dcc.Dropdown(id="department-select", clearable=False, options=[],
                             style={"minWidth": "280px"}),
                html.Span(id="department-info", className="department-info"),
            ]),
            html.Div(id="department-note", className="department-note"),
            html.Div(id="department-fresh"),
        ]),
        html.Div(id="department-kpis"),
        html.Div(id="department-targets"),
        html.Div(className="grid-2", style=GRID, children=[
            html.Div([dcc.Dropdown(id="department-trend-metric", clearable=False, options=[],
                                   className="department-trend-metric",
                                   style={"marginBottom": "6px"}),
                      html.Div(id="department-trend")], style={"minWidth": 0}),
            html.Div(id="department-teams", style={"minWidth": 0})]),
        html.Div(id="department-doctors"),
        html.Div(id="department-rank"),
    ])


# -- renderers -------------------------------------------------------------------------------

def render_head(search):
    """Selector options and value, the department's campus and discipline, notes, freshness."""
    view = state.from_search(search)
    lang = view.lang
    dept, denied = resolve_dept(view)
    opts = [{"label": f"{dept_name(r, lang)} · {r['campus_name']}", "value": r["dept_id"]}
            for _, r in visible_departments(view).iterrows()]
    if dept and dept not in {o["value"] for o in opts}:
        r = dept_row(dept)
        opts.insert(0, {"label": f"{dept_name(r, lang)} · {r['campus_name']}", "value": dept})
    row = dept_row(dept) if dept else None
    colon = "：" if lang != "en" else ": "
    info = (f"{t('dim.campus', lang)}{colon}{row['campus_name']} · "
            f"{t('dim.discipline', lang)}{colon}{discipline_name(row['discipline'], lang)}"
            if row is not None else "")
    note = L("dp.out_of_scope", lang) if denied else (
        "" if dept else L("dp.no_dept", lang))
    fr = for_metrics(known(KPIS))
    colon = "：" if lang != "en" else ": "
    return (L("dp.choose", lang) + colon, opts, dept, info, note, freshness_line(fr, lang))


def render_kpis(search):
    view = state.from_search(search)
    lang = view.lang
    dept, _ = resolve_dept(view)
    if not dept:
        return None
    ids = known(KPIS)
    start, end = view.range()
    cmp = view.compare
    try:
        # values, 同比/环比 and the phased targets in one query (the targets reuse the values)
        goal_ids = targeted(ids, dept, end.year)
        frame = data.q(ids + [f"{m}:{cmp}" for m in ids] +
                       [f"{m}:target_to_date" for m in goal_ids], start=start, end=end,
                       where={"department": [dept]})
        goals = {m: first(frame, f"{m}:target_to_date") for m in goal_ids}
        model = data.model()
        label = t("compare.yoy" if cmp == "yoy" else "compare.pop", lang)
        cards = []
        for m in ids:
            metric = model.metrics[m]
            card = kpi_card(metric, first(frame, m), first(frame, f"{m}:{cmp}"), label,
                            band=card_band(m), lang=lang, theme=view.theme,
                            id=f"department-kpi-{m}")
            goal = goals.get(m)
            card.children.append(html.Div(
                L("dp.target", lang, value=fmt_number(goal, metric.format, lang))
                if goal is not None else L("dp.target_pending", lang),
                className="kpi-target", style={"fontSize": "0.8em", "opacity": 0.7}))
            cards.append(card)
        fr = for_metrics(ids)
    except Exception as e:
        return panel(L("dp.kpis", lang), error_note(e, lang), None, lang)
    return panel(L("dp.kpis", lang), html.Div(cards, className="grid"), fr, lang,
                 id="department-kpis-panel")


def target_rows(dept: str, lang: str) -> tuple[list, float | None]:
    """Progress rows of every metric with a target on the department or its teams this year
    (the metric's department row, then its teams), and the time elapsed."""
    from metrics.targets_read import metrics_with_targets
    from targets.progress import progress

    wh, model, now, user = data.warehouse(), data.model(), data.now(), current_user()
    teams = teams_of(dept)
    mids = metrics_with_targets(wh, now.year, [dept, *teams])
    mids = sorted(mids, key=lambda m: (KPIS.index(m) if m in KPIS else len(KPIS), m))
    names = team_names(lang)
    rows, elapsed = [], None
    for mid in mids:
        m = model.metrics[mid]
        d = progress(wh, mid, now.year, now, "department", dept, user=user, model=model)
        tm = progress(wh, mid, now.year, now, "team", dept, user=user, model=model) \
            if teams else d.iloc[0:0]
        tm = tm[tm["target"].notna()]
        if not len(d) and not len(tm):
            continue
        link = dcc.Link(metric_label(m, lang), href="/targets" + state.to_search(
            state.View(lang=lang).with_(metric=mid, year=str(now.year))))
        for r in d.itertuples(index=False):
            elapsed = r.time_progress
            rows.append(progress_row(r, link, 0, m.format, lang,
                                     f"department-target-{mid}", "targets-department"))
        for r in tm.itertuples(index=False):
            rows.append(progress_row(r, names.get(r.node_id, r.node_id), 2, m.format, lang,
                                     f"department-target-{mid}-{r.node_id}", "targets-team"))
    return rows, elapsed


def render_targets(search):
    view = state.from_search(search)
    lang = view.lang
    dept, _ = resolve_dept(view)
    if not dept:
        return None
    year = data.now().year
    title = L("dp.targets", lang, year=year)
    try:
        rows, elapsed = target_rows(dept, lang)
    except Exception as e:
        return panel(title, error_note(e, lang), None, lang)
    if not rows:
        return panel(title, html.Div(L("dp.targets_none", lang, year=year),
                                     className="department-targets-none"), None, lang,
                     id="department-targets-panel")
    body = [html.Div(L("dp.targets_time", lang, p=fmt_number(elapsed, "percent", lang)),
                     className="targets-time")] if elapsed is not None else []
    body.append(progress_table(rows, lang, first=t("common.metric", lang)))
    return panel(title, body, None, lang, id="department-targets-panel")


def trend_metric(view: state.View) -> str:
    m = view.extra.get("metric")
    return m if m in known(TREND_METRICS) else TREND_METRICS[0]


def render_trend(search):
    view = state.from_search(search)
    lang = view.lang
    mid = trend_metric(view)
    model = data.model()
    opts = [{"label": metric_label(model.metrics[m], lang), "value": m}
            for m in known(TREND_METRICS)]
    dept, _ = resolve_dept(view)
    if not dept:
        return opts, mid, None
    m = model.metrics[mid]
    title = L("dp.trend", lang, metric=metric_label(m, lang))
    try:
        start, end = view.range()
        token = f"{mid}:{view.compare}"
        frame = data.q([mid, token], grain=view.grain, start=start, end=end,
                       where={"department": [dept]})
        fig = trend_figure(frame[["period", mid]], mid, {mid: metric_label(m, lang)},
                           m.format, view.grain, compare=frame[["period", token]],
                           lang=lang, theme=view.theme, height=300,
                           compare_label=t("compare.yoy" if view.compare == "yoy"
                                           else "compare.pop", lang))
        fr = for_metrics([mid])
    except Exception as e:
        return opts, mid, panel(title, error_note(e, lang), None, lang)
    return opts, mid, panel(title, dcc.Graph(id="department-trend-graph", figure=fig,
                                             config=graph_config(lang, mid)), fr, lang)


def breakdown(ids, by, where, start, end) -> pd.DataFrame:
    """Metrics by team or doctor in one query (its facts' statements run together); when a
    metric's fact lacks that level, one query per metric, skipping those that fail."""
    from warehouse.errors import QueryError

    try:
        return data.q(known(ids), by=[by], start=start, end=end, where=where)
    except QueryError:
        pass
    out = None
    for mid in known(ids):
        try:
            f = data.q([mid], by=[by], start=start, end=end, where=where)
        except Exception:  # e.g. revenue has no team
            continue
        out = f if out is None else out.merge(f, on=by, how="outer")
    return out if out is not None else pd.DataFrame(columns=[by])


def shown_table(frame, cols, lang):
    """Values formatted as on cards (the export re-runs the query for raw numbers)."""
    model = data.model()
    shown = frame.copy()
    for c in cols:
        if c in model.metrics:
            shown[c] = [fmt_number(v, model.metrics[c].format, lang) for v in frame[c]]
    return shown


def render_teams(search):
    view = state.from_search(search)
    lang = view.lang
    dept, _ = resolve_dept(view)
    if not dept:
        return None
    title = L("dp.teams", lang)
    try:
        start, end = view.range()
        where = {"department": [dept]}
        frame = breakdown(TEAM_METRICS, "team", where, start, end)
        frame = frame.dropna(subset=["team"])
        if frame.empty:
            return panel(title, html.Div(L("dp.no_teams", lang)), for_metrics(["discharges"]),
                         lang)
        names = team_names(lang)
        model = data.model()
        frame["name"] = [names.get(x, x) for x in frame["team"]]
        cols = [c for c in TEAM_METRICS if c in frame.columns]
        fig = bar_ranking(frame, "team", "discharges", names, "integer",
                          highlight=view.extra.get("team"), lang=lang, theme=view.theme,
                          metric_label=metric_label(model.metrics["discharges"], lang),
                          height=max(160, 40 * len(frame) + 60))
        tbl = data_table("department-teams-table", shown_table(frame, cols, lang),
                         [("name", t("dim.team", lang))] +
                         [(c, metric_label(model.metrics[c], lang)) for c in cols], lang,
                         query={"metrics": cols, "by": ["team"], "start": start.isoformat(),
                                "end": end.isoformat(), "where": where})
        fr = for_metrics(cols)
    except Exception as e:
        return panel(title, error_note(e, lang), None, lang)
    return panel(title, [html.Div(L("dp.team_hint", lang), className="department-hint"),
                         dcc.Graph(id="department-teams-graph", figure=fig,
                                   config=graph_config(lang, "teams")), tbl], fr, lang)


def render_doctors(search):
    view = state.from_search(search)
    lang = view.lang
    dept, _ = resolve_dept(view)
    team = view.extra.get("team")
    if not dept or not team or team not in teams_of(dept):
        return None
    title = L("dp.doctors", lang, team=team_names(lang).get(team, team))
    try:
        start, end = view.range()
        where = {"department": [dept], "team": [team]}
        frame = breakdown(DOCTOR_METRICS, "doctor", where, start, end).dropna(subset=["doctor"])
        docs = data.labels("doctor")
        model = data.model()
        frame["name"] = [docs.get(x, x) for x in frame["doctor"]]
        cols = [c for c in DOCTOR_METRICS if c in frame.columns]
        tbl = data_table("department-doctors-table", shown_table(frame, cols, lang),
                         [("name", t("dim.doctor", lang))] +
                         [(c, metric_label(model.metrics[c], lang)) for c in cols], lang,
                         query={"metrics": cols, "by": ["doctor"], "start": start.isoformat(),
                                "end": end.isoformat(), "where": where})
        fr = for_metrics(cols)
    except Exception as e:
        return panel(title, error_note(e, lang), None, lang)
    back = dcc.Link(L("dp.clear_team", lang), className="btn", id="department-clear-team",
                    href="/department" + state.to_search(view.with_(team=None)))
    return panel(title, [back, tbl], fr, lang)


def ranking(dept: str, view: state.View) -> tuple[pd.DataFrame, str]:
    """Every department of `dept`'s discipline (all campuses) with its values and a rank per
    metric (1 = best by the metric's direction; volumes, whose direction is a band, by
    size)."""
    row = dept_row(dept)
    discipline = row["discipline"]
    start, end = view.range()
    ids = known(RANK_METRICS)
    frame = data.q(ids, by=["department"], start=start, end=end,
                   where={"discipline": [discipline]})
    peers = departments()
    peers = peers[peers["discipline"] == discipline][["dept_id", "campus_name", "campus_type"]]
    frame = peers.rename(columns={"dept_id": "department"}).merge(frame, on="department",
                                                                  how="left")
    model = data.model()
    for mid in ids:  # volumes (direction band) rank by size
        direction = model.metrics[mid].direction
        frame[f"{mid}__rank"] = frame[mid].rank(ascending=direction == "down", method="min",
                                                na_option="keep")
    return frame, discipline


def render_rank(search):
    view = state.from_search(search)
    lang = view.lang
    dept, _ = resolve_dept(view)
    if not dept:
        return None
    row = dept_row(dept)
    title = L("dp.rank", lang, discipline=discipline_name(row["discipline"], lang))
    if current_scope() is not None:
        return panel(title, html.Div(L("dp.rank_denied", lang), id="department-rank-denied",
                                     className="department-hint"), None, lang)
    try:
        frame, discipline = ranking(dept, view)
        model = data.model()
        ids = [m for m in known(RANK_METRICS) if f"{m}__rank" in frame.columns]
        me = frame[frame["department"] == dept]
        parts = []
        for mid in ids:
            r = me[f"{mid}__rank"].iloc[0] if len(me) else None
            if r is None or r != r:
                continue
            extra = f"（{L('dp.lower_better', lang)}）" if model.metrics[mid].direction == \
                "down" and lang == "zh" else (f" ({L('dp.lower_better', lang)})"
                                             if model.metrics[mid].direction == "down" else "")
            parts.append(f"{metric_label(model.metrics[mid], lang)} "
                         f"{L('dp.rank_of', lang, r=int(r))}{extra}")
        summary = L("dp.rank_summary", lang, n=len(frame),
                    discipline=discipline_name(discipline, lang)) + \
            ("；" if lang == "zh" else "; ").join(parts)
        all_names = {r["dept_id"]: dept_name(r, lang) for _, r in departments().iterrows()}
        labels = {d: f"{all_names.get(d, d)} · {c}" + (f"（{L('dp.alliance', lang)}）"
                                                        if ty == "alliance" else "")
                  for d, c, ty in zip(frame["department"], frame["campus_name"],
                                      frame["campus_type"])}
        key = "cmi" if "cmi" in frame.columns and frame["cmi"].notna().any() else "discharges"
        km = model.metrics[key]
        fig = bar_ranking(frame, "department", key, labels, km.format, highlight=dept,
                          ascending=km.direction == "down", lang=lang, theme=view.theme,
                          metric_label=metric_label(km, lang),
                          height=max(180, 36 * len(frame) + 60))
        frame["name"] = [labels[d] for d in frame["department"]]
        shown = shown_table(frame, ids, lang)
        for mid in ids:
            shown[f"{mid}__rank"] = [("" if v != v else int(v)) for v in frame[f"{mid}__rank"]]
        cols = [("name", t("dim.department", lang))]
        for mid in known(RANK_METRICS):
            cols.append((mid, metric_label(model.metrics[mid], lang)))
            if f"{mid}__rank" in frame.columns:
                cols.append((f"{mid}__rank", L("dp.rank_col", lang,
                                               metric=metric_label(model.metrics[mid], lang))))
        start, end = view.range()
        tbl = data_table("department-rank-table", shown, cols, lang,
                         query={"metrics": known(RANK_METRICS), "by": ["department"],
                                "start": start.isoformat(), "end": end.isoformat(),
                                "where": {"discipline": [discipline]}})
        fr = for_metrics(known(RANK_METRICS))
    except Exception as e:
        return panel(title, error_note(e, lang), None, lang)
    return panel(title, [html.Div(summary, id="department-rank-summary",
                                  className="department-rank-summary"),
                         html.Div(L("dp.rank_hint", lang), className="department-hint"),
                         dcc.Graph(id="department-rank-graph", figure=fig,
                                   config=graph_config(lang, "rank")), tbl], fr, lang)


# -- URL updates -----------------------------------------------------------------------------

def _point(click):
    if not click or not click.get("points"):
        return None
    v = click["points"][0].get("customdata")
    return (v[0] if v else None) if isinstance(v, list) else v


def on_select(value, search):
    view = state.from_search(search)
    if not value or value == resolve_dept(view)[0]:
        return no_update
    return state.to_search(view.with_(dept=value, team=None))


def on_trend_metric(value, search):
    view = state.from_search(search)
    if not value or value == trend_metric(view):
        return no_update
    return state.to_search(view.with_(metric=value if value != TREND_METRICS[0] else None))


def on_team_click(click, search):
    team = _point(click)
    view = state.from_search(search)
    if not team or team == view.extra.get("team"):
        return no_update
    return state.to_search(view.with_(dept=resolve_dept(view)[0], team=team))


def on_rank_click(click, search):
    dept = _point(click)
    view = state.from_search(search)
    if not dept or dept == resolve_dept(view)[0]:
        return no_update
    return state.to_search(view.with_(dept=dept, team=None))


callback(Output("department-pick-label", "children"), Output("department-select", "options"),
         Output("department-select", "value"), Output("department-info", "children"),
         Output("department-note", "children"), Output("department-fresh", "children"),
         Input("url", "search"))(render_head)
callback(Output("department-kpis", "children"), Input("url", "search"))(render_kpis)
callback(Output("department-targets", "children"), Input("url", "search"))(render_targets)
callback(Output("department-trend-metric", "options"),
         Output("department-trend-metric", "value"), Output("department-trend", "children"),
         Input("url", "search"))(render_trend)
callback(Output("department-teams", "children"), Input("url", "search"))(render_teams)
callback(Output("department-doctors", "children"), Input("url", "search"))(render_doctors)
callback(Output("department-rank", "children"), Input("url", "search"))(render_rank)
callback(Output("url", "search", allow_duplicate=True), Input("department-select", "value"),
         State("url", "search"), prevent_initial_call=True)(on_select)
callback(Output("url", "search", allow_duplicate=True),
         Input("department-trend-metric", "value"), State("url", "search"),
         prevent_initial_call=True)(on_trend_metric)
callback(Output("url", "search", allow_duplicate=True),
         Input("department-teams-graph", "clickData"), State("url", "search"),
         prevent_initial_call=True)(on_team_click)
callback(Output("url", "search", allow_duplicate=True),
         Input("department-rank-graph", "clickData"), State("url", "search"),
         prevent_initial_call=True)(on_rank_click)
