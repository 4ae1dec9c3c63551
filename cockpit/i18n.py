"""UI strings in Chinese (the default) and English.

Keys are dotted by area (``nav.``, ``filter.``, ``panel.``, ``fresh.``, ``export.``, ``login.``,
``theme.``, ``common.``, ``compare.``, ``band.``, ``grain.``, ``dim.``, ``chart.``, ``quadrant.``).
A missing key falls back to Chinese, then to the key itself: a page never crashes on a label.
A few flat keys the shell already uses (``nav_health``, ``export_xlsx``, ``period_day`` …) are
aliases of the dotted ones (`ALIASES`).

>>> t("nav.overview"), t("nav.overview", "en")
('总览', 'Overview')
>>> t("fresh.as_of_time", "en", time="2026-11-25 14:05")
'Data as of 2026-11-25 14:05'
"""
from __future__ import annotations

from typing import Any

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

# (zh, en) side by side so the two languages cannot drift apart
_PAIRS: dict[str, tuple[str, str]] = {
    # app
    "app.title": ("医院运营驾驶舱", "Hospital Operations Cockpit"),
    "app.wallboard": ("运营大屏", "Wallboard"),
    "app.language": ("语言", "Language"),
    "app.lang_zh": ("中文", "中文"),
    "app.lang_en": ("English", "English"),
    # navigation
    "nav.overview": ("总览", "Overview"),
    "nav.visits": ("就诊", "Visits"),
    "nav.clinic": ("出诊", "Clinic scheduling"),
    "nav.internet": ("互联网医院", "Internet hospital"),
    "nav.revenue": ("收入", "Revenue"),
    "nav.surgery": ("手术", "Surgery"),
    "nav.admission": ("住院", "Inpatient"),
    "nav.records": ("病案", "Medical records"),
    "nav.drg": ("DRG", "DRG"),
    "nav.department": ("科室", "Department"),
    "nav.catalog": ("指标目录", "Catalogue"),
    "nav.health": ("运行状态", "Health"),
    "nav.targets": ("目标", "Targets"),
    "nav.alerts": ("告警", "Alerts"),
    # filters
    "filter.period": ("期间", "Period"),
    "filter.grain": ("粒度", "Grain"),
    "filter.custom": ("自定义", "Custom"),
    "filter.from": ("开始日期", "From"),
    "filter.to": ("结束日期", "To"),
    "filter.campus": ("院区", "Campus"),
    "filter.all_campuses": ("全部院区", "All campuses"),
    "filter.department": ("科室", "Department"),
    "filter.all_departments": ("全部科室", "All departments"),
    "filter.team": ("诊疗组", "Team"),
    "filter.compare": ("对比", "Compare"),
    "filter.yoy": ("同比", "YoY"),
    "filter.pop": ("环比", "PoP"),
    "filter.none": ("不对比", "No comparison"),
    "filter.apply": ("应用", "Apply"),
    "filter.reset": ("重置", "Reset"),
    "filter.clear_selection": ("清除选择", "Clear selection"),
    # grains
    "grain.hour": ("时", "Hour"),
    "grain.day": ("日", "Day"),
    "grain.week": ("周", "Week"),
    "grain.month": ("月", "Month"),
    "grain.quarter": ("季", "Quarter"),
    "grain.year": ("年", "Year"),
    # panels (catalogue §13)
    "panel.today": ("今日运行", "Today's operations"),
    "panel.outpatient": ("门诊服务", "Outpatient services"),
    "panel.inpatient": ("住院效率", "Inpatient efficiency"),
    "panel.surgery": ("手术", "Surgery"),
    "panel.quality": ("医疗质量安全", "Quality and safety"),
    "panel.drg_capability": ("技术能力/DRG", "Capability / DRG"),
    "panel.economy": ("经济运行", "Financial operations"),
    "panel.insurance_drg": ("医保DRG", "Insurance DRG"),
    "panel.referral": ("分级诊疗/医联体", "Tiered care / alliance"),
    "panel.internet": ("互联网医院", "Internet hospital"),
    "panel.scoreboard": ("国考指标", "National assessment"),
    # freshness
    "fresh.as_of": ("数据截至", "Data as of"),
    "fresh.as_of_time": ("数据截至 {time}", "Data as of {time}"),
    "fresh.last_load": ("最近加载", "Last load"),
    "fresh.stale": ("数据过期", "Stale"),
    "fresh.refreshing": ("刷新中", "Refreshing"),
    "fresh.no_data": ("暂无数据", "No data"),
    "fresh.loading": ("加载中…", "Loading…"),
    "fresh.error": ("查询出错", "Query failed"),
    # export
    "export.csv": ("导出 CSV", "Export CSV"),
    "export.excel": ("导出 Excel", "Export Excel"),
    "export.image": ("下载图片", "Download image"),
    # login
    "login.title": ("登录", "Sign in"),
    "login.username": ("用户名", "Username"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Sign in"),
    "login.logout": ("退出", "Sign out"),
    "login.failed": ("用户名或密码错误", "Wrong username or password"),
    "login.denied": ("无权访问", "Access denied"),
    # theme
    "theme.label": ("主题", "Theme"),
    "theme.light": ("浅色", "Light"),
    "theme.dark": ("深色", "Dark"),
    # comparisons
    "compare.today": ("今日", "Today"),
    "compare.same_weekday_last_week": ("较上周同日", "vs same weekday last week"),
    "compare.last_year": ("较去年", "vs last year"),
    "compare.same_period_last_year": ("去年同期", "Same period last year"),
    "compare.previous_period": ("上期", "Previous period"),
    "compare.yoy": ("同比", "YoY"),
    "compare.pop": ("环比", "PoP"),
    "compare.vs_target": ("较目标", "vs target"),
    "compare.baseline": ("基线", "Baseline"),
    # common
    "common.today": ("今日", "Today"),
    "common.yesterday": ("昨日", "Yesterday"),
    "common.mtd": ("本月累计", "MTD"),
    "common.qtd": ("本季累计", "QTD"),
    "common.ytd": ("本年累计", "YTD"),
    "common.ranking": ("排名", "Ranking"),
    "common.trend": ("趋势", "Trend"),
    "common.distribution": ("分布", "Distribution"),
    "common.department_breakdown": ("科室构成", "Department breakdown"),
    "common.structure": ("结构", "Structure"),
    "common.total": ("合计", "Total"),
    "common.other": ("其他", "Other"),
    "common.hospital": ("全院", "Hospital"),
    "common.value": ("数值", "Value"),
    "common.share": ("占比", "Share"),
    "common.count": ("数量", "Count"),
    "common.cases": ("病例数", "Cases"),
    "common.target": ("目标", "Target"),
    "common.actual": ("实际", "Actual"),
    "common.attainment": ("完成率", "Attainment"),
    "common.gap": ("差距", "Gap"),
    "common.forecast": ("预测", "Forecast"),
    "common.top_n": ("前{n}名", "Top {n}"),
    "common.details": ("明细", "Details"),
    "common.back": ("返回", "Back"),
    "common.drill_down": ("下钻", "Drill down"),
    "common.metric": ("指标", "Metric"),
    "common.unit": ("单位", "Unit"),
    "common.formula": ("计算公式", "Formula"),
    "common.standard": ("依据", "Standard"),
    "common.owner": ("负责部门", "Owner"),
    "common.direction": ("方向", "Direction"),
    "common.direction_up": ("越高越好", "Higher is better"),
    "common.direction_down": ("越低越好", "Lower is better"),
    "common.direction_band": ("区间监测", "Monitor within band"),
    "common.range": ("合理区间", "Typical range"),
    "common.now": ("当前", "Now"),
    "common.hour": ("时段", "Hour"),
    "common.cumulative": ("累计", "Cumulative"),
    "common.cumulative_share": ("累计占比", "Cumulative share"),
    "common.empty_beds": ("空床", "Empty beds"),
    "common.alerts_firing": ("告警中", "Firing"),
    "common.resolved": ("已恢复", "Resolved"),
    # band status
    "band.in": ("区间内", "In range"),
    "band.below": ("低于区间", "Below range"),
    "band.above": ("高于区间", "Above range"),
    # dimensions
    "dim.period": ("期间", "Period"),
    "dim.campus": ("院区", "Campus"),
    "dim.department": ("科室", "Department"),
    "dim.team": ("诊疗组", "Team"),
    "dim.doctor": ("医生", "Doctor"),
    "dim.discipline": ("学科", "Discipline"),
    "dim.mdc": ("MDC", "MDC"),
    "dim.adrg": ("ADRG", "ADRG"),
    "dim.drg": ("DRG病组", "DRG group"),
    "dim.visit_type": ("就诊类型", "Visit type"),
    "dim.category": ("类别", "Category"),
    "dim.payer": ("支付方式", "Payer"),
    "dim.booking_channel": ("预约渠道", "Booking channel"),
    "dim.fee_bucket": ("费用类别", "Fee category"),
    "dim.surgery_grade": ("手术级别", "Surgery grade"),
    # charts
    "chart.band": ("合理区间", "Typical range"),
    "chart.hospital_cmi": ("全院CMI {value}", "Hospital CMI {value}"),
    "chart.cost_index_1": ("费用消耗指数 = 1", "Cost index = 1"),
    "chart.loss": ("亏损额", "Loss"),
    "chart.payment": ("医保支付", "Insurance payment"),
    "chart.cost": ("成本", "Cost"),
    "chart.balance": ("结余", "Balance"),
    "chart.frequency": ("频数", "Frequency"),
    "chart.today_curve": ("今日", "Today"),
    "chart.baseline_curve": ("基线", "Baseline"),
    "chart.pareto_80": ("80% 线", "80% line"),
    # DRG quadrant
    "quadrant.cmi": ("病例组合指数 (CMI)", "Case-mix index (CMI)"),
    "quadrant.cost_index": ("费用消耗指数", "Cost index"),
    "quadrant.high_cmi_low_cost": ("高难度·低费用", "High CMI · low cost"),
    "quadrant.high_cmi_high_cost": ("高难度·高费用", "High CMI · high cost"),
    "quadrant.low_cmi_low_cost": ("低难度·低费用", "Low CMI · low cost"),
    "quadrant.low_cmi_high_cost": ("低难度·高费用", "Low CMI · high cost"),
}

STRINGS: dict[str, dict[str, str]] = {
    "zh": {k: v[0] for k, v in _PAIRS.items()},
    "en": {k: v[1] for k, v in _PAIRS.items()},
}

# Flat keys the shell and pages already call (dotted keys above are canonical).
ALIASES: dict[str, str] = {
    "app_title": "app.title", "all_campuses": "filter.all_campuses", "logout": "login.logout",
    "login": "login.title", "username": "login.username", "password": "login.password",
    "yoy": "filter.yoy", "pop": "filter.pop", "stale": "fresh.stale",
    "data_as_of": "fresh.as_of", "last_load": "fresh.last_load", "no_data": "fresh.no_data",
    "export_csv": "export.csv", "export_xlsx": "export.excel", "export_excel": "export.excel",
    "period": "filter.period", "campus": "filter.campus", "period_custom": "filter.custom",
    **{f"period_{g}": f"grain.{g}" for g in ("hour", "day", "week", "month", "quarter", "year")},
    **{k.replace(".", "_", 1): k for k in _PAIRS if k.split(".")[0] in ("nav", "theme", "panel")},
}

#: the model's `panel` values (themes/*.yaml) → panel keys above
PANEL_KEYS = {
    "今日运行": "panel.today",
    "门诊服务": "panel.outpatient",
    "住院效率": "panel.inpatient",
    "手术": "panel.surgery",
    "医疗质量安全": "panel.quality",
    "技术能力/DRG": "panel.drg_capability",
    "经济运行": "panel.economy",
    "医保DRG": "panel.insurance_drg",
    "分级诊疗": "panel.referral",
    "分级诊疗/医联体": "panel.referral",
    "互联网医院": "panel.internet",
}


def norm_lang(lang: str | None) -> str:
    """``en``, ``en-US`` → ``en``; anything else → ``zh``."""
    return "en" if (lang or "").lower().startswith("en") else DEFAULT_LANG


def t(key: str, lang: str = DEFAULT_LANG, **kwargs: Any) -> str:
    """The label for ``key`` in ``lang``, with ``{placeholders}`` filled from kwargs.

    >>> t("filter.yoy", "en"), t("no.such.key"), t("common.top_n", n=10)
    ('YoY', 'no.such.key', '前10名')
    """
    key = key if key in STRINGS[DEFAULT_LANG] else ALIASES.get(key, key)
    text = STRINGS[norm_lang(lang)].get(key) or STRINGS[DEFAULT_LANG].get(key) or key
    if kwargs:
        try:
            return text.format(**kwargs)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def _attr(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def metric_label(metric: Any, lang: str = DEFAULT_LANG) -> str:
    """A metric's label from the model object (or a dict with zh / en / id).

    >>> metric_label({"id": "cmi", "zh": "病例组合指数", "en": "Case-mix index (CMI)"}, "en")
    'Case-mix index (CMI)'
    """
    if metric is None:
        return ""
    if isinstance(metric, str):
        return metric
    text = _attr(metric, norm_lang(lang)) or _attr(metric, "zh") or _attr(metric, "id")
    return str(text or "")


def panel_label(panel: str, lang: str = DEFAULT_LANG) -> str:
    """The model's panel value (``技术能力/DRG``) in ``lang``.

    >>> panel_label("经济运行", "en")
    'Financial operations'
    """
    key = PANEL_KEYS.get(panel)
    return t(key, lang) if key else panel


def dim_label(dim: str, lang: str = DEFAULT_LANG) -> str:
    """A dimension's name: ``department`` → 科室 / Department (unknown: the id itself)."""
    return t(f"dim.{dim}", lang) if f"dim.{dim}" in STRINGS["zh"] else dim
