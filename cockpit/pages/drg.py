"""DRG 医保分析 page for finance and insurance analysts: hospital → MDC → DRG group →
department → team → case list, with the CMI × cost-index quadrant, cost structure, payment vs
cost, and the Pareto of loss-making groups.

URL parameters (besides the shell's period / date / campus / compare / lang / theme), one per
level of the drill, each set by a click and kept in the link:

    mdc   an MDC letter (主要诊断大类)        drg   a DRG group code (e.g. FM19)
    dept  a discharge department (D0103)    team  a treating team

    /drg?period=month&date=2026-11-25&mdc=F&drg=FM19&dept=D0101&team=D0101T01

Numbers come from `cockpit.data.q` (the model's DRG metrics, scoped to the user). Two panels
need case-level columns that themes/drg.yaml has no measures for (the six cost columns of
fact_drg_settlement, and payment_standard as an amount): the cost structure / payment bridge
and the case list read the model's own `drg_case` rows (`metrics.sqlbuild.filtered`, so dates,
as-of, attribution and filters mean exactly what the metrics mean) in one page-local sqlglot
query. Because that query does not go through `metrics.query`, it applies the signed-in user's
department scope itself (`cockpit.auth.current_scope()`), and masks patient ids by role
(`cockpit.auth.mask_patient`).
"""
from __future__ import annotations

import io

import dash
import pandas as pd
from dash import Input, Output, State, callback, ctx, dcc, html, no_update
from sqlglot import exp

from cockpit import data, state
from cockpit.auth import audit, current_scope, current_user, mask_patient
from cockpit.components import data_table, panel
from cockpit.figures import (bar_ranking, donut, graph_config, kpi_card, pareto, quadrant,
                             waterfall)
from cockpit.formatting import fmt_date, fmt_number
from cockpit.freshness import for_metrics
from cockpit.i18n import dim_label, metric_label, t
from metrics import sqlbuild as sb
from metrics.dialects import render as render_sql

dash.register_page(__name__, path="/drg", name="DRG 医保分析", title="DRG · 医院运营驾驶舱",
                   title_key="panel.insurance_drg", order=30)

#: the drill, top down; each level's URL parameter and the query dimension it filters
DRILL = (("mdc", "mdc"), ("drg", "drg"), ("dept", "department"), ("team", "team"))
KPIS = ("drg_grouped_cases", "cmi", "total_weight", "drg_group_count", "cost_index",
        "time_index", "drg_avg_cost", "drg_avg_los", "drg_balance", "drg_balance_rate",
        "drg_payment_to_charge", "high_outlier_rate", "low_outlier_rate", "drg_grouping_rate")
LEVEL_METRICS = ["drg_grouped_cases", "cmi", "drg_avg_cost", "cost_index", "time_index",
                 "drg_balance", "drg_balance_rate"]
COST_COLUMNS = ("drug_cost", "material_cost", "exam_cost", "lab_cost", "treatment_cost",
                "other_cost")
CASE_LIMIT = 2000
#: the id shown for settled cases without a group (歧义组 / 未入组: drg_code null)
UNGROUPED = "__ungrouped__"

#: MDC letters (CHS-DRG; catalogue §10.1)
MDC_NAMES = {
    "A": ("先期分组疾病及相关操作", "Pre-MDC"), "B": ("神经系统", "Nervous system"),
    "C": ("眼", "Eye"), "D": ("头颈、耳、鼻、口、咽", "Ear, nose, mouth and throat"),
    "E": ("呼吸系统", "Respiratory system"), "F": ("循环系统", "Circulatory system"),
    "G": ("消化系统", "Digestive system"), "H": ("肝、胆、胰", "Hepatobiliary and pancreas"),
    "I": ("肌肉、骨骼、结缔组织", "Musculoskeletal"), "J": ("皮肤、皮下组织及乳腺",
                                                        "Skin, subcutaneous tissue, breast"),
    "K": ("内分泌、营养、代谢", "Endocrine, nutritional, metabolic"),
    "L": ("肾脏及泌尿系统", "Kidney and urinary tract"), "M": ("男性生殖系统", "Male reproductive"),
    "N": ("女性生殖系统", "Female reproductive"), "O": ("妊娠、分娩及产褥期", "Pregnancy and childbirth"),
    "P": ("新生儿及其他围产期疾病", "Newborns"), "Q": ("血液、造血器官及免疫", "Blood and immunity"),
    "R": ("骨髓增生疾病和低分化肿瘤", "Myeloproliferative, poorly differentiated neoplasms"),
    "S": ("感染及寄生虫病", "Infectious and parasitic"), "T": ("精神疾病", "Mental diseases"),
    "U": ("酒精/药物使用及其引起的精神障碍", "Alcohol / drug use"),
    "V": ("创伤、中毒及药物毒性反应", "Injuries, poisonings"), "W": ("烧伤", "Burns"),
    "X": ("影响健康因素及其他就医情况", "Factors influencing health status"),
    "Y": ("HIV 感染", "HIV infection"), "Z": ("多发严重创伤", "Multiple significant trauma"),
}

_LABELS = {
    "hospital": ("全院", "Hospital"),
    "drill": ("下钻：{level}", "Drill: {level}"),
    "drill_hint": ("点击柱条或表格行下钻", "Click a bar or a table row to drill down"),
    "quadrant": ("科室四象限 (CMI × 费用消耗指数)", "Departments: CMI × cost index"),
    "structure": ("费用结构", "Cost structure"),
    "bridge": ("支付与费用 (结余桥)", "Payment vs cost"),
    "pareto": ("亏损病组帕累托", "Pareto of loss-making DRG groups"),
    "cases": ("病例明细", "Case list"),
    "cases_hint": ("下钻到科室后显示病例明细", "Drill to a department to see its cases"),
    "cases_cut": ("仅显示结余最低的 {n} 例；导出包含全部 {total} 例",
                  "Showing the {n} cases with the lowest balance; export has all {total}"),
    "admission_id": ("住院号", "Admission"), "patient_id": ("患者ID", "Patient"),
    "admit_date": ("入院日期", "Admitted"), "discharge_date": ("出院日期", "Discharged"),
    "los": ("住院日", "LOS"), "drg_code": ("DRG", "DRG"), "drg_name": ("病组名称", "Group"),
    "total_cost": ("总费用", "Cost"), "payment": ("支付标准", "Payment"),
    "balance": ("结余", "Balance"), "payment_type": ("支付类型", "Payment type"),
    "drug_cost": ("药品", "Drugs"), "material_cost": ("耗材", "Consumables"),
    "exam_cost": ("检查", "Exams"), "lab_cost": ("检验", "Lab"),
    "treatment_cost": ("治疗(含手术)", "Treatment & surgery"), "other_cost": ("其他", "Other"),
    "payment_total": ("支付标准", "Payment standard"), "balance_total": ("结余", "Balance"),
    "code": ("编码", "Code"), "name": ("名称", "Name"),
    "no_loss": ("本期无亏损病组", "No loss-making groups this period"),
    "ratio_note": ("结余 {b} · 支付费用比 {r}", "Balance {b} · payment-to-charge {r}"),
    "export_csv": ("导出 CSV", "Export CSV"), "export_xlsx": ("导出 Excel", "Export Excel"),
    "cases_n": ("{n} 例", "{n} cases"),
    "ungrouped": ("未入组/歧义组", "Not grouped"),
}


def _t(key: str, lang: str, **kw) -> str:
    if key in _LABELS:
        text = _LABELS[key][0 if lang != "en" else 1]
        return text.format(**kw) if kw else text
    return t(key, lang, **kw)


# -- the view ------------------------------------------------------------------------------
def page_view(search: str | None) -> dict:
    view = state.from_search(search)
    sel = {p: (view.extra.get(p) or None) for p, _ in DRILL}
    start, end = view.range()
    return dict(view=view, sel=sel, start=start, end=end, lang=view.lang, theme=view.theme,
                compare=view.compare)


def where_of(pv: dict, skip: tuple[str, ...] = ()) -> dict:
    """Query filters of the selection (campus plus the drill levels, except `skip`)."""
    where = pv["view"].where()
    for param, dim in DRILL:
        if pv["sel"][param] and param not in skip:
            where[dim] = [pv["sel"][param]]
    return where


def next_level(pv: dict) -> str | None:
    """The first drill level not chosen yet (None: at the case list)."""
    return next((p for p, _ in DRILL if not pv["sel"][p]), None)


def dim_of(param: str) -> str:
    return dict(DRILL)[param]


def level_labels(param: str, lang: str) -> dict:
    if param == "mdc":
        out = {k: f"{k} {v[0] if lang != 'en' else v[1]}" for k, v in MDC_NAMES.items()}
    elif param == "drg":
        out = {k: f"{k} {v}" for k, v in data.labels("drg").items()}
    else:
        out = dict(data.labels(dim_of(param)))
    out[UNGROUPED] = _t("ungrouped", lang)
    return out


def shown_level(frame: pd.DataFrame, dim: str) -> pd.DataFrame:
    """Settled cases without a group have no MDC / group: shown as 未入组, not drillable."""
    return frame.assign(**{dim: frame[dim].fillna(UNGROUPED)}) if dim in frame else frame


def level_name(param: str, value: str, lang: str) -> str:
    if param == "drg":
        return value
    return level_labels(param, lang).get(value, value)


# -- case-level rows (page-local SQL; scope applied here) ----------------------------------
def _case_source(pv: dict) -> exp.Expression:
    """The model's drg_case rows in the view (the same filter the metrics use), scoped."""
    model = data.model()
    fact = model.facts["drg_case"]
    conds = [exp.GTE(this=sb.col("_day"), expression=sb.literal(pv["start"])),
             exp.LTE(this=sb.col("_day"), expression=sb.literal(pv["end"])),
             exp.LTE(this=sb.col("_ts"), expression=sb.literal(data.now()))]
    for dim, values in sorted(where_of(pv).items()):
        conds.append(sb.in_list(dim, values))
    scope = current_scope()
    if scope is not None:  # a dept_head: only their departments (nobody signed in: nothing)
        conds.append(sb.in_list("department", sorted(scope)) if scope else exp.false())
    return exp.alias_(exp.Subquery(this=sb.filtered(fact, model.settings, conds)), "c",
                      table=True)


def cost_totals(pv: dict) -> dict:
    """Σ cost columns, total cost and payment standard over the selection's settled cases."""
    sums = [exp.alias_(exp.Sum(this=sb.col(c, "c")), c)
            for c in COST_COLUMNS + ("total_cost", "payment_standard")]
    q = exp.select(exp.alias_(exp.Count(this=exp.Star()), "cases"), *sums).from_(
        _case_source(pv))
    wh = data.warehouse()
    df = wh.query_df(render_sql(q, wh.dialect))
    row = df.iloc[0] if len(df) else {}
    return {k: (float(row[k]) if k in row and pd.notna(row[k]) else 0.0)
            for k in ("cases",) + COST_COLUMNS + ("total_cost", "payment_standard")}


def case_list(pv: dict, limit: int | None = CASE_LIMIT) -> tuple[pd.DataFrame, int]:
    """The selection's cases, worst balance first, patient ids masked for the user's role;
    and the number of cases in all."""
    c = lambda name: sb.col(name, "c")  # noqa: E731
    balance = exp.Sub(this=c("payment_standard"), expression=c("total_cost"))
    q = (exp.select(c("admission_id"), sb.col("patient_id", "i"),
                    exp.alias_(sb.col("admit_ts", "i"), "admit_ts"),
                    exp.alias_(c("_ts"), "discharge_ts"), c("los_days"),
                    exp.alias_(c("drg"), "drg_code"), sb.col("drg_name", "d"),
                    c("department"), c("team"), c("total_cost"), c("payment_standard"),
                    exp.alias_(balance, "balance"), c("case_payment_type"),
                    *[c(x) for x in COST_COLUMNS],
                    exp.alias_(exp.Window(this=exp.Count(this=exp.Star())), "_total"))
         .from_(_case_source(pv))
         .join(exp.alias_(exp.to_table("fact_inpatient"), "i", table=True),
               on=exp.EQ(this=sb.col("admission_id", "i"), expression=c("admission_id")),
               join_type="left")
         .join(exp.alias_(exp.to_table("dim_drg"), "d", table=True),
               on=exp.EQ(this=sb.col("drg_code", "d"), expression=c("drg")), join_type="left")
         .order_by(exp.Ordered(this=balance.copy()), exp.Ordered(this=c("admission_id"))))
    if limit:
        q = q.limit(limit)
    wh = data.warehouse()
    df = wh.query_df(render_sql(q, wh.dialect))
    total = int(df["_total"].iloc[0]) if len(df) else 0
    df = df.drop(columns=["_total"])
    for col in ("total_cost", "payment_standard", "balance") + COST_COLUMNS:
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
    user = current_user()
    df["patient_id"] = [mask_patient(p, user) for p in df["patient_id"]]
    return df, total


# -- layout --------------------------------------------------------------------------------
def layout(**_params):
    def box(i):
        return html.Div(id=f"drg-{i}")
    return html.Div(className="page drg-page", children=[
        html.Div(className="page-head", children=[
            html.H2(id="drg-title", className="page-title"),
            html.Div(id="drg-crumbs", className="crumbs")]),
        box("kpis"),
        html.Div(className="grid-2", children=[box("drill"), box("quadrant")]),
        html.Div(className="grid-2", children=[box("structure"), box("bridge")]),
        box("pareto"),
        box("level-table"),
        box("cases"),
        dcc.Download(id="drg-cases-download"),
    ])


def _graph(gid: str, fig, lang: str, height: int | None = None) -> dcc.Graph:
    style = {}
    if height:
        fig.update_layout(height=height)
        style = {"height": f"{height}px"}
    return dcc.Graph(id=gid, figure=fig, config=graph_config(lang, gid), style=style)


# -- panels --------------------------------------------------------------------------------
def title_and_crumbs(pv: dict) -> tuple[str, list]:
    lang, view = pv["lang"], pv["view"]
    items = [(_t("hospital", lang), view.with_(mdc=None, drg=None, dept=None, team=None))]
    keep: dict = {}
    for param, _ in DRILL:
        value = pv["sel"][param]
        if value:
            keep[param] = value
            rest = {p: None for p, _ in DRILL if p not in keep}
            items.append((level_name(param, value, lang), view.with_(**keep, **rest)))
    out = []
    for i, (name, v) in enumerate(items):
        if i:
            out.append(html.Span(" › ", className="crumb-sep"))
        out.append(html.Span(name, className="crumb current") if i == len(items) - 1 else
                   dcc.Link(name, href="/drg" + state.to_search(v), className="crumb",
                            style={"color": "var(--accent)"}))
    return t("panel.insurance_drg", lang), out


def kpi_panel(pv: dict) -> html.Section:
    lang, model, cmp = pv["lang"], data.model(), pv["compare"]
    view = pv["view"]
    grain = view.period if view.period in ("day", "week", "month", "quarter", "year") else None
    tokens = [x for m in KPIS for x in (m, f"{m}:{cmp}")]
    frame = data.q(tokens, grain=grain, start=pv["start"], end=pv["end"], where=where_of(pv))
    row = frame.iloc[-1] if len(frame) else pd.Series(dtype=object)
    cards = [kpi_card(model.metrics[m], row.get(m), row.get(f"{m}:{cmp}"),
                      t(f"compare.{cmp}", lang), lang=lang, theme=pv["theme"],
                      stale=for_metrics([m]).stale, id=f"drg-kpi-{m}") for m in KPIS]
    return panel(t("panel.insurance_drg", lang) + _suffix(pv), html.Div(cards, className="grid"),
                 for_metrics(list(KPIS)), lang)


def _suffix(pv: dict) -> str:
    lang = pv["lang"]
    names = [level_name(p, pv["sel"][p], lang) for p, _ in DRILL if pv["sel"][p]]
    if pv["view"].campus:
        names.insert(0, data.labels("campus").get(pv["view"].campus, pv["view"].campus))
    return " · " + " › ".join(names) if names else ""


def level_frame(pv: dict) -> pd.DataFrame:
    param = next_level(pv)
    if param is None:
        return pd.DataFrame()
    return data.q(LEVEL_METRICS, by=[dim_of(param)], start=pv["start"], end=pv["end"],
                  where=where_of(pv))


def drill_panel(pv: dict, frame: pd.DataFrame) -> html.Section:
    lang, theme = pv["lang"], pv["theme"]
    param = next_level(pv)
    if param is None:
        return panel(_t("drill", lang, level=_t("cases", lang)),
                     html.Div(_t("cases", lang) + " ↓", className="hint"), None, lang)
    dim = dim_of(param)
    frame = shown_level(frame, dim)
    fig = bar_ranking(frame, dim, "drg_balance", level_labels(param, lang), "yuan", top=25,
                      lang=lang, theme=theme, ascending=True,
                      metric_label=metric_label(data.model().metrics["drg_balance"], lang))
    _sign_colours(fig, theme)
    body = [html.Div(_t("drill_hint", lang), className="hint"), _graph("drg-drill-graph", fig,
                                                                       lang)]
    title = (f"{metric_label(data.model().metrics['drg_balance'], lang)} · "
             f"{_t('drill', lang, level=dim_label(dim, lang))}")
    return panel(title, body, for_metrics(LEVEL_METRICS), lang)


def _sign_colours(fig, theme: str) -> None:
    from cockpit.figures import palette

    p = palette(theme)
    if fig.data and getattr(fig.data[0], "x", None) is not None:
        xs = fig.data[0].x
        fig.data[0].marker.color = [p["bad"] if (v or 0) < 0 else p["good"] for v in xs]
        fig.data[0].textposition = "auto"  # outside, a loss's label would cover the names


def level_table_panel(pv: dict, frame: pd.DataFrame) -> html.Div:
    lang = pv["lang"]
    param = next_level(pv)
    if param is None:
        return html.Div()
    dim = dim_of(param)
    labels = level_labels(param, lang)
    model = data.model()
    frame = shown_level(frame, dim).sort_values("drg_balance", kind="stable")  # worst first
    shown = frame.assign(name=[labels.get(i, i) for i in frame[dim]], id=frame[dim])
    shown[dim] = shown[dim].replace(UNGROUPED, "—")
    for m in LEVEL_METRICS:
        shown[m] = [fmt_number(v, model.metrics[m].format, lang, compact=False)
                    for v in shown[m]]
    columns = [(dim, _t("code", lang)), ("name", _t("name", lang))] + [
        (m, metric_label(model.metrics[m], lang)) for m in LEVEL_METRICS]
    query = dict(metrics=LEVEL_METRICS, by=[dim], start=pv["start"].isoformat(),
                 end=pv["end"].isoformat(), where=where_of(pv))
    table = data_table("drg-level-table", shown, columns, lang, query)
    # row ids (the level's ids) let a click on a row drill, whatever the sort order
    grid = table.children[1]
    grid.data = shown[[c for c, _ in columns] + ["id"]].to_dict("records")
    return panel(f"{dim_label(dim, lang)} · {t('common.details', lang)}{_suffix(pv)}", table,
                 for_metrics(LEVEL_METRICS), lang)


def quadrant_panel(pv: dict) -> html.Section:
    """Departments at (CMI, cost index) inside the MDC / group chosen (not the dept / team:
    the quadrant is where a department is picked)."""
    lang = pv["lang"]
    where = where_of(pv, skip=("dept", "team"))
    frame = data.q(["cmi", "cost_index", "drg_grouped_cases", "drg_balance"],
                   by=["department"], start=pv["start"], end=pv["end"], where=where)
    frame = frame[frame["drg_grouped_cases"] > 0]
    hosp = data.q(["cmi"], start=pv["start"], end=pv["end"], where=where)
    hcmi = hosp["cmi"].iloc[0] if len(hosp) and pd.notna(hosp["cmi"].iloc[0]) else None
    fig = quadrant(frame, data.labels("department"), hcmi, lang, pv["theme"],
                   size="drg_grouped_cases")
    sel = pv["sel"]["dept"]
    if sel and fig.data:
        fig.data[0].marker.line.width = [3 if i == sel else 1 for i in fig.data[0].customdata]
        fig.data[0].marker.line.color = [palette_of(pv)["highlight"] if i == sel else
                                         palette_of(pv)["paper"] for i in fig.data[0].customdata]
    return panel(_t("quadrant", lang) + _suffix({**pv, "sel": {**pv["sel"], "dept": None,
                                                                "team": None}}),
                 _graph("drg-quadrant-graph", fig, lang, 420),
                 for_metrics(["cmi", "cost_index"]), lang)


def palette_of(pv: dict) -> dict:
    from cockpit.figures import palette

    return palette(pv["theme"])


def structure_panels(pv: dict) -> tuple[html.Section, html.Section]:
    lang = pv["lang"]
    tot = cost_totals(pv)
    frame = pd.DataFrame({"item": list(COST_COLUMNS), "amount": [tot[c] for c in COST_COLUMNS]})
    names = {c: _t(c, lang) for c in COST_COLUMNS}
    fig = donut(frame, "item", "amount", names, "yuan", lang, pv["theme"])
    fr = for_metrics(["drg_balance"])
    structure = panel(_t("structure", lang) + _suffix(pv) + " · " +
                      _t("cases_n", lang, n=fmt_number(tot["cases"], "integer", lang)),
                      _graph("drg-structure-graph", fig, lang, 340), fr, lang)
    m = data.q(["drg_balance", "drg_payment_to_charge"], start=pv["start"], end=pv["end"],
               where=where_of(pv))
    bal = m["drg_balance"].iloc[0] if len(m) else None
    ratio = m["drg_payment_to_charge"].iloc[0] if len(m) else None
    items = [(_t("payment_total", lang), tot["payment_standard"], "absolute")] + [
        (names[c], -tot[c], "relative") for c in COST_COLUMNS] + [
        (_t("balance_total", lang), None, "total")]
    wf = waterfall(items, "yuan", lang, pv["theme"])
    note = _t("ratio_note", lang, b=fmt_number(bal, "yuan", lang),
              r=fmt_number(ratio, "decimal2", lang))
    bridge = panel(_t("bridge", lang) + _suffix(pv),
                   [html.Div(note, className="hint", id="drg-bridge-note"),
                    _graph("drg-bridge-graph", wf, lang, 340)], fr, lang)
    return structure, bridge


def pareto_frame(pv: dict) -> pd.DataFrame:
    """drg_balance by group inside the selection (but across groups), losses as positives."""
    frame = data.q(["drg_balance", "drg_grouped_cases"], by=["mdc", "drg"], start=pv["start"],
                   end=pv["end"], where=where_of(pv, skip=("drg",)))
    frame = frame[frame["drg_balance"] < 0].copy()
    frame["loss"] = -frame["drg_balance"]
    return frame.sort_values("loss", ascending=False, kind="stable")


def pareto_panel(pv: dict, frame: pd.DataFrame) -> html.Section:
    lang = pv["lang"]
    if frame.empty:
        body = html.Div(_t("no_loss", lang), className="hint")
    else:
        fig = pareto(frame, {k: f"{k}" for k in frame["drg"]}, lang, pv["theme"])
        names = data.labels("drg")
        if fig.data:
            for tr in fig.data:
                tr.hovertext = [names.get(i, "") for i in tr.customdata]
                tr.hovertemplate = tr.hovertemplate.replace("%{x}", "%{x} %{hovertext}")
        body = _graph("drg-pareto-graph", fig, lang, 360)
    title = _t("pareto", lang) + _suffix({**pv, "sel": {**pv["sel"], "drg": None}})
    return panel(title, body, for_metrics(["drg_balance"]), lang)


def cases_panel(pv: dict) -> html.Section:
    lang = pv["lang"]
    if not pv["sel"]["dept"] and not pv["sel"]["team"]:
        return panel(_t("cases", lang), html.Div(_t("cases_hint", lang), className="hint"),
                     None, lang)
    frame, total = case_list(pv)
    shown = frame.copy()
    types = data.labels("case_payment_type")
    shown["admit_date"] = [fmt_date(v, lang) for v in shown["admit_ts"]]
    shown["discharge_date"] = [fmt_date(v, lang) for v in shown["discharge_ts"]]
    shown["payment_type"] = [types.get(v, v) if lang != "en" else v
                             for v in shown["case_payment_type"]]
    for col in ("total_cost", "payment_standard", "balance"):
        shown[col] = [fmt_number(v, "yuan", lang, compact=False) for v in shown[col]]
    cols = case_columns(lang)
    from dash import dash_table

    table = dash_table.DataTable(
        id="drg-cases-table", page_size=20, sort_action="native",
        columns=[{"name": h, "id": c} for c, h in cols],
        data=shown[[c for c, _ in cols]].to_dict("records"),
        style_table={"overflowX": "auto"}, style_cell={"fontFamily": "inherit"},
        style_data_conditional=[{"if": {"filter_query": "{balance} contains '-'",
                                        "column_id": "balance"}, "color": "#e34d59"}])
    tools = html.Div(className="table-tools", children=[
        html.Button(_t("export_csv", lang), id="drg-cases-csv", className="btn"),
        html.Button(_t("export_xlsx", lang), id="drg-cases-xlsx", className="btn"),
        html.Span(_t("cases_cut", lang, n=len(frame), total=total) if total > len(frame)
                  else _t("cases_n", lang, n=total), className="hint")])
    return panel(_t("cases", lang) + _suffix(pv), html.Div([tools, table],
                                                            className="table-block"),
                 for_metrics(["drg_balance"]), lang)


def case_columns(lang: str) -> list[tuple[str, str]]:
    keys = [("admission_id", "admission_id"), ("patient_id", "patient_id"),
            ("admit_date", "admit_date"), ("discharge_date", "discharge_date"),
            ("los_days", "los"), ("drg_code", "drg_code"), ("drg_name", "drg_name"),
            ("total_cost", "total_cost"), ("payment_standard", "payment"),
            ("balance", "balance"), ("payment_type", "payment_type")]
    return [(c, _t(k, lang)) for c, k in keys]


# -- callbacks -----------------------------------------------------------------------------
@callback(Output("drg-title", "children"), Output("drg-crumbs", "children"),
          Output("drg-kpis", "children"), Input("url", "search"), Input("url", "pathname"))
def render_kpis(search, pathname):
    if pathname != "/drg":
        return no_update, no_update, no_update
    pv = page_view(search)
    title, crumbs = title_and_crumbs(pv)
    return title, crumbs, kpi_panel(pv)


@callback(Output("drg-drill", "children"), Output("drg-level-table", "children"),
          Output("drg-quadrant", "children"), Output("drg-structure", "children"),
          Output("drg-bridge", "children"), Output("drg-pareto", "children"),
          Output("drg-cases", "children"), Input("url", "search"), Input("url", "pathname"))
def render(search, pathname):
    """The drill, quadrant, structure, bridge, Pareto and case list for the URL's view."""
    if pathname != "/drg":
        return (no_update,) * 7
    pv = page_view(search)
    level = level_frame(pv)
    structure, bridge = structure_panels(pv)
    return (drill_panel(pv, level), level_table_panel(pv, level), quadrant_panel(pv),
            structure, bridge, pareto_panel(pv, pareto_frame(pv)), cases_panel(pv))


def drill_search(search: str | None, source: str, value) -> str | None:
    """The URL after a click: a drill bar or level-table row sets the next level; a
    quadrant bubble sets the department; a Pareto bar sets the group (and its MDC).

    Example: `?period=month` + a click on MDC F → `?mdc=F`; then FM19 → `?drg=FM19&mdc=F`.
    """
    if value in (None, "", UNGROUPED):
        return None
    pv = page_view(search)
    view = pv["view"]
    if source == "drill":
        param = next_level(pv)
        return state.to_search(view.with_(**{param: value})) if param else None
    if source == "quadrant":
        same = pv["sel"]["dept"] == value
        return state.to_search(view.with_(dept=None if same else value, team=None))
    if source == "pareto":
        mdc, drg = value if isinstance(value, (list, tuple)) else (None, value)
        return state.to_search(view.with_(drg=drg, mdc=mdc or pv["sel"]["mdc"]))
    return None


def _clicked(click):
    try:
        return click["points"][0]["customdata"]
    except (TypeError, KeyError, IndexError):
        return None


@callback(Output("url", "search", allow_duplicate=True),
          Input("drg-drill-graph", "clickData"), Input("drg-quadrant-graph", "clickData"),
          Input("drg-pareto-graph", "clickData"), Input("drg-level-table", "active_cell"),
          State("url", "search"), prevent_initial_call=True)
def on_click(drill_click, quad_click, pareto_click, cell, search):
    trig = ctx.triggered_id
    if trig == "drg-drill-graph":
        out = drill_search(search, "drill", _clicked(drill_click))
    elif trig == "drg-quadrant-graph":
        out = drill_search(search, "quadrant", _clicked(quad_click))
    elif trig == "drg-pareto-graph":
        drg = _clicked(pareto_click)
        mdc = _mdc_of(drg, search)
        out = drill_search(search, "pareto", (mdc, drg))
    elif trig == "drg-level-table":
        out = drill_search(search, "drill", (cell or {}).get("row_id"))
    else:
        return no_update
    return no_update if out is None or out == (search or "") else out


def _mdc_of(drg: str | None, search: str | None) -> str | None:
    if not drg:
        return None
    frame = pareto_frame(page_view(search))
    hit = frame[frame["drg"] == drg]
    return hit["mdc"].iloc[0] if len(hit) else None


@callback(Output("drg-cases-download", "data"), Input("drg-cases-csv", "n_clicks"),
          Input("drg-cases-xlsx", "n_clicks"), State("url", "search"),
          prevent_initial_call=True)
def export_cases(csv_clicks, xlsx_clicks, search):
    """The whole case list (not only the rows shown), re-queried for the signed-in user so
    scope and masking hold; audited."""
    trig = ctx.triggered_id
    if trig not in ("drg-cases-csv", "drg-cases-xlsx") or not (csv_clicks or xlsx_clicks):
        return no_update
    pv = page_view(search)
    if not pv["sel"]["dept"] and not pv["sel"]["team"]:
        return no_update
    frame, _ = case_list(pv, limit=None)
    frame = export_frame(frame, pv["lang"])
    fmt = "csv" if trig == "drg-cases-csv" else "xlsx"
    audit(data.warehouse(), "export", f"drg-cases {fmt} {state.to_search(pv['view'])} "
                                      f"rows={len(frame)}")
    if fmt == "csv":
        return dict(content=frame.to_csv(index=False), filename="drg-cases.csv",
                    type="text/csv")
    buf = io.BytesIO()
    frame.to_excel(buf, index=False)
    return dcc.send_bytes(buf.getvalue(), "drg-cases.xlsx")


def export_frame(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Raw numbers (not 万-formatted text) with the headers of the screen, plus the cost
    columns and the organisation ids."""
    cols = ["admission_id", "patient_id", "admit_ts", "discharge_ts", "los_days", "drg_code",
            "drg_name", "department", "team", "total_cost", "payment_standard", "balance",
            "case_payment_type", *COST_COLUMNS]
    heads = {"admit_ts": _t("admit_date", lang), "discharge_ts": _t("discharge_date", lang),
             "los_days": _t("los", lang), "payment_standard": _t("payment", lang),
             "case_payment_type": _t("payment_type", lang),
             "department": dim_label("department", lang), "team": dim_label("team", lang)}
    heads.update({c: _t(c, lang) for c in ("admission_id", "patient_id", "drg_code",
                                            "drg_name", "total_cost", "balance")
                  + COST_COLUMNS})
    return frame[cols].rename(columns=heads)
