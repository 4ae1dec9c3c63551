"""UI strings in Chinese and English (cockpit.i18n)."""
from __future__ import annotations

import doctest
import re

import pytest

from cockpit import i18n
from cockpit.i18n import ALIASES, PANEL_KEYS, STRINGS, dim_label, metric_label, panel_label, t


def test_docstring_examples():
    assert doctest.testmod(i18n).failed == 0


def test_languages_have_the_same_keys():
    assert set(STRINGS["zh"]) == set(STRINGS["en"])
    assert all(STRINGS["zh"][k].strip() and STRINGS["en"][k].strip() for k in STRINGS["zh"])


def test_placeholders_match_between_languages():
    for key in STRINGS["zh"]:
        zh = set(re.findall(r"{(\w+)}", STRINGS["zh"][key]))
        en = set(re.findall(r"{(\w+)}", STRINGS["en"][key]))
        assert zh == en, key


@pytest.mark.parametrize("key, zh, en", [
    ("nav.overview", "总览", "Overview"), ("nav.department", "科室", "Department"),
    ("nav.catalog", "指标目录", "Catalogue"), ("nav.health", "运行状态", "Health"),
    ("nav.targets", "目标", "Targets"), ("nav.drg", "DRG", "DRG"),
    ("filter.period", "期间", "Period"), ("filter.campus", "院区", "Campus"),
    ("filter.all_campuses", "全部院区", "All campuses"), ("filter.yoy", "同比", "YoY"),
    ("filter.pop", "环比", "PoP"), ("filter.custom", "自定义", "Custom"),
    ("grain.day", "日", "Day"), ("grain.quarter", "季", "Quarter"),
    ("panel.today", "今日运行", "Today's operations"),
    ("panel.insurance_drg", "医保DRG", "Insurance DRG"),
    ("panel.referral", "分级诊疗/医联体", "Tiered care / alliance"),
    ("fresh.as_of", "数据截至", "Data as of"), ("fresh.last_load", "最近加载", "Last load"),
    ("fresh.stale", "数据过期", "Stale"),
    ("export.csv", "导出 CSV", "Export CSV"), ("export.excel", "导出 Excel", "Export Excel"),
    ("login.title", "登录", "Sign in"), ("login.username", "用户名", "Username"),
    ("login.password", "密码", "Password"), ("login.logout", "退出", "Sign out"),
    ("theme.light", "浅色", "Light"), ("theme.dark", "深色", "Dark"),
    ("common.today", "今日", "Today"),
    ("compare.same_weekday_last_week", "较上周同日", "vs same weekday last week"),
    ("common.mtd", "本月累计", "MTD"), ("common.ytd", "本年累计", "YTD"),
    ("compare.last_year", "较去年", "vs last year"), ("common.ranking", "排名", "Ranking"),
    ("common.trend", "趋势", "Trend"), ("common.distribution", "分布", "Distribution"),
    ("common.department_breakdown", "科室构成", "Department breakdown"),
])
def test_labels(key, zh, en):
    assert t(key) == t(key, "zh") == zh
    assert t(key, "en") == t(key, "en-US") == en


def test_every_catalogue_panel_has_a_label():
    for key in ("today", "outpatient", "inpatient", "surgery", "quality", "drg_capability",
                "economy", "insurance_drg", "referral", "internet"):
        assert f"panel.{key}" in STRINGS["zh"]


def test_model_panels_map_to_labels():
    from metrics.registry import load_model

    for metric in load_model().metrics.values():
        assert metric.panel in PANEL_KEYS, metric.panel
        assert panel_label(metric.panel, "en") != metric.panel
    assert panel_label("未知面板", "en") == "未知面板"


def test_missing_keys_fall_back_to_chinese_then_to_the_key(monkeypatch):
    monkeypatch.setitem(STRINGS, "en", {k: v for k, v in STRINGS["en"].items()
                                        if k != "nav.overview"})
    assert t("nav.overview", "en") == "总览"
    assert t("no.such.key", "en") == "no.such.key"
    assert t("nav.overview", "fr") == "总览"        # unknown language → Chinese
    assert t("nav.overview", None) == "总览"


def test_placeholders_never_crash():
    assert t("common.top_n", n=10) == "前10名"
    assert t("common.top_n", "en", n=5) == "Top 5"
    assert t("common.top_n") == "前{n}名"               # missing kwarg: the raw text
    assert t("fresh.as_of_time", "en", time="2026-11-25 14:05", extra=1) == \
        "Data as of 2026-11-25 14:05"


def test_flat_aliases_used_by_the_shell():
    assert all(target in STRINGS["zh"] for target in ALIASES.values())
    assert t("nav_health", "en") == "Health"
    assert t("export_xlsx") == "导出 Excel"
    assert t("period_quarter") == "季" and t("period_custom", "en") == "Custom"
    assert t("theme_dark") == "深色" and t("all_campuses", "en") == "All campuses"


def test_metric_label_from_the_model():
    from metrics.registry import load_model

    cmi = load_model().metrics["cmi"]
    assert metric_label(cmi) == "病例组合指数"
    assert metric_label(cmi, "en") == "Case-mix index (CMI)"
    assert metric_label({"id": "x", "zh": "某指标"}, "en") == "某指标"   # no en: Chinese
    assert metric_label({"id": "x"}) == "x"
    assert metric_label("discharges") == "discharges"
    assert metric_label(None) == ""


def test_dimension_labels():
    assert dim_label("department") == "科室"
    assert dim_label("team", "en") == "Team"
    assert dim_label("unknown_dim") == "unknown_dim"
