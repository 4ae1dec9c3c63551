"""Pure figure functions shared by the cockpit and the wallboard (cockpit.figures)."""
from __future__ import annotations

import datetime as dt
import doctest
import importlib
import pathlib
import subprocess
import sys

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from cockpit import figures as F
from cockpit.figures import theme as theme_mod

FIGURE_MODULES = ["cockpit.figures", "cockpit.figures._common", "cockpit.figures.theme",
                  "cockpit.figures.kpi", "cockpit.figures.trend", "cockpit.figures.bars",
                  "cockpit.figures.dist", "cockpit.figures.drg"]

CMI = {"id": "cmi", "zh": "病例组合指数", "en": "Case-mix index (CMI)", "unit": "-",
       "format": "decimal2", "direction": "up", "band": [1.1, 1.6]}
DISCHARGES = {"id": "discharges", "zh": "出院人次", "en": "Discharges", "unit": "人次",
              "format": "integer", "direction": "up"}
OCCUPANCY = {"id": "bed_occupancy_rate", "zh": "床位使用率", "en": "Bed occupancy rate",
             "unit": "%", "format": "percent", "direction": "band", "band": [0.9, 1.0]}


@pytest.fixture
def daily():
    days = pd.date_range("2026-11-01", periods=10).date
    return pd.DataFrame({"period": days,
                         "medical_revenue": np.linspace(2.0e7, 3.0e7, 10),
                         "bed_occupancy_rate": np.linspace(0.88, 0.97, 10)})


@pytest.fixture
def departments():
    return pd.DataFrame({"department": ["D01", "D02", "D03", "D04"],
                         "discharges": [120, 450, None, 300],
                         "cmi": [0.9, 1.5, 1.1, 1.3], "cost_index": [1.2, 0.9, 1.0, 1.1]})


NAMES = {"D01": "心血管内科", "D02": "骨科", "D03": "普外科", "D04": "呼吸内科"}


def walk(component):
    """Every Dash component in a tree."""
    yield component
    children = getattr(component, "children", None)
    if isinstance(children, (list, tuple)):
        for c in children:
            if hasattr(c, "to_plotly_json"):
                yield from walk(c)
    elif hasattr(children, "to_plotly_json"):
        yield from walk(children)


def texts(component) -> str:
    out = []
    for c in walk(component):
        ch = getattr(c, "children", None)
        if isinstance(ch, str):
            out.append(ch)
        elif isinstance(ch, (list, tuple)):
            out += [x for x in ch if isinstance(x, str)]
    return " ".join(out)


def by_class(component, name):
    return [c for c in walk(component) if name in (getattr(c, "className", "") or "").split()]


def as_list(a):
    return [x.item() if hasattr(x, "item") else x for x in a]


@pytest.mark.parametrize("module", FIGURE_MODULES)
def test_docstring_examples(module):
    mod = importlib.import_module(module)
    assert doctest.testmod(mod, optionflags=doctest.ELLIPSIS).failed == 0


# -- plotly.express stays out ----------------------------------------------------------------

def test_figures_do_not_import_plotly_express():
    code = ("import sys, cockpit.figures, cockpit.formatting, cockpit.i18n; "
            "print('plotly.express' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=pathlib.Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "False"


def test_no_express_in_the_source():
    root = pathlib.Path(F.__file__).parent
    for path in [*root.glob("*.py"), root.parent / "formatting.py", root.parent / "i18n.py"]:
        src = path.read_text(encoding="utf-8")
        assert "plotly.express" not in src.replace("no plotly.express", ""), path
        assert "import plotly.express" not in src and "from plotly import express" not in src


# -- theme -----------------------------------------------------------------------------------

def test_dark_and_light_differ():
    light, dark = F.theme_layout("light"), F.theme_layout("dark")
    for key in ("paper_bgcolor", "plot_bgcolor"):
        assert light[key] != dark[key]
    assert light["font"]["color"] != dark["font"]["color"]
    assert F.palette("light")["good"] != F.palette("dark")["good"]
    assert F.palette("nonsense") == F.palette("light")


def test_system_chinese_fonts_only():
    family = F.theme_layout()["font"]["family"]
    assert family.startswith('"Noto Sans CJK SC"')
    for name in ("Microsoft YaHei", "PingFang SC", "sans-serif"):
        assert name in family
    assert "http" not in family


def test_scale_for_the_wallboard():
    assert F.theme_layout("dark", scale=1.5)["font"]["size"] > F.theme_layout("dark")["font"][
        "size"]


def test_graph_config_is_offline():
    zh, en = F.graph_config("zh", "收入趋势"), F.graph_config("en")
    assert zh["displaylogo"] is False and en["displaylogo"] is False
    assert zh["locale"] == "zh-CN"
    assert zh["locales"]["zh-CN"]["dictionary"]["Zoom in"] == "放大"
    assert len(zh["locales"]["zh-CN"]["format"]["months"]) == 12
    assert "locale" not in en
    assert zh["toImageButtonOptions"]["filename"] == "收入趋势"
    assert F.graph_config(static=True)["displayModeBar"] is False
    assert "http" not in repr(zh)


def test_figures_carry_the_theme(daily):
    light = F.trend_figure(daily, "medical_revenue", fmt="yuan", theme="light")
    dark = F.trend_figure(daily, "medical_revenue", fmt="yuan", theme="dark")
    assert light.layout.paper_bgcolor == F.palette("light")["paper"]
    assert dark.layout.paper_bgcolor == F.palette("dark")["paper"]
    assert light.data[0].line.color != dark.data[0].line.color


# -- KPI card --------------------------------------------------------------------------------

def test_kpi_card_contents():
    card = F.kpi_card(DISCHARGES, 812, 790, "较上周同日",
                      as_of=dt.datetime(2026, 11, 25, 14, 5), id="overview-kpi-discharges")
    assert card.id == "overview-kpi-discharges"
    text = texts(card)
    assert "出院人次" in text and "812" in text and "较上周同日" in text
    assert "▲ 2.8%" in text
    assert "数据截至 2026-11-25 14:05" in text
    delta = by_class(card, "kpi-delta-value")[0]
    assert delta.style["color"] == F.tone_color("good")
    assert not by_class(card, "kpi-stale")
    assert getattr(card, "data-stale") == "false"
    assert by_class(card, "kpi-unit")[0].children.strip() == "人次"


def test_kpi_card_bad_tone_for_lower_is_better():
    alos = {"zh": "平均住院日", "format": "decimal2", "direction": "down", "unit": "天"}
    card = F.kpi_card(alos, 7.1, 6.8)
    assert by_class(card, "kpi-delta-value")[0].style["color"] == F.tone_color("bad")


def test_kpi_card_stale_marker():
    card = F.kpi_card(DISCHARGES, 812, stale=True, as_of="2026-11-25 08:00")
    tag = by_class(card, "kpi-stale")
    assert tag and tag[0].children == "数据过期"
    assert tag[0].style["background"] == F.palette("light")["stale"]
    value = by_class(card, "kpi-value")[0]
    assert "is-stale" in value.className
    assert value.style["color"] == F.palette("light")["muted"] and value.style["opacity"] < 1
    assert getattr(card, "data-stale") == "true"
    assert "is-stale" in card.className
    en = F.kpi_card(DISCHARGES, 812, stale=True, lang="en")
    assert by_class(en, "kpi-stale")[0].children == "Stale"


def test_kpi_card_band_status_and_percent():
    card = F.kpi_card(OCCUPANCY, 1.034, 0.95, "较去年")
    text = texts(card)
    assert "103.4%" in text and "▲ 8.4 pp" in text
    assert by_class(card, "kpi-band-status")[0].children == "高于区间"
    assert getattr(by_class(card, "kpi-band")[0], "data-band") == "above"
    # band metric: a change is neither good nor bad
    assert by_class(card, "kpi-delta-value")[0].style["color"] == F.tone_color("neutral")
    inside = F.kpi_card(OCCUPANCY, 0.93, lang="en")
    assert by_class(inside, "kpi-band-status")[0].children == "In range"
    # an explicit band on an "up" metric
    cmi = F.kpi_card(CMI, 1.02, band=CMI["band"])
    assert by_class(cmi, "kpi-band-status")[0].children == "低于区间"
    assert not by_class(F.kpi_card(CMI, 1.02), "kpi-band")   # up metric: band only if asked


def test_kpi_card_missing_value_and_english():
    card = F.kpi_card(DISCHARGES, None, 790, lang="en", theme="dark")
    assert "—" in texts(card) and "Discharges" in texts(card)
    assert "is-missing" in card.className
    assert card.style["background"] == F.palette("dark")["card"]
    assert not by_class(card, "kpi-unit")       # Chinese units are not shown in English


def test_kpi_card_from_the_model():
    from metrics.registry import load_model

    metric = load_model().metrics["medical_revenue"]
    card = F.kpi_card(metric, 3.28e8, 3.1e8, "较去年")
    assert "¥3.28亿" in texts(card) and metric.zh in texts(card)


# -- trend -----------------------------------------------------------------------------------

def test_trend_one_line_per_metric(daily):
    fig = F.trend_figure(daily, ["medical_revenue"], {"medical_revenue": "医疗收入"}, "yuan",
                         "day")
    assert isinstance(fig, go.Figure) and len(fig.data) == 1
    tr = fig.data[0]
    assert tr.name == "医疗收入"
    assert as_list(tr.text)[0] == "¥2,000.0万" and as_list(tr.text)[-1] == "¥3,000.0万"
    assert as_list(tr.hovertext)[0] == "11月1日"
    assert as_list(tr.customdata)[0] == "2026-11-01"
    assert "%{text}" in tr.hovertemplate
    assert all("万" in s for s in fig.layout.yaxis.ticktext)
    assert fig.layout.xaxis.ticktext[0] == "11月1日"


def test_trend_compare_dashed_and_band(daily):
    cmp = daily[["period"]].assign(**{"bed_occupancy_rate:yoy": daily["bed_occupancy_rate"] - .02})
    fig = F.trend_figure(daily, "bed_occupancy_rate", {"bed_occupancy_rate": "床位使用率"},
                         "percent", "day", compare=cmp, band=[0.9, 1.0])
    assert len(fig.data) == 2
    assert fig.data[1].line.dash == "dash" and "同比" in fig.data[1].name
    assert as_list(fig.data[0].text)[0] == "88.0%"
    assert len(fig.layout.shapes) == 1 and fig.layout.shapes[0].y0 == 0.9
    assert fig.layout.hovermode == "x unified"
    assert all(s.endswith("%") for s in fig.layout.yaxis.ticktext)


def test_trend_two_metrics_and_english_months():
    months = pd.DataFrame({"period": [dt.date(2025, 12, 1), dt.date(2026, 1, 1),
                                      dt.date(2026, 2, 1)],
                           "a": [1, 2, 3], "b": [3, 2, None]})
    fig = F.trend_figure(months, ["a", "b"], {"a": "A", "b": "B"}, {"a": "integer",
                                                                    "b": "integer"},
                         "month", lang="en", theme="dark")
    assert [tr.name for tr in fig.data] == ["A", "B"]
    assert list(fig.layout.xaxis.ticktext) == ["Dec 2025", "Jan 2026", "Feb"]
    assert as_list(fig.data[1].text)[-1] == "—"


def test_trend_empty_and_missing_columns(daily):
    for fig in (F.trend_figure(pd.DataFrame(), "x"), F.trend_figure(None, "x"),
                F.trend_figure(daily, [])):
        assert len(fig.data) == 0 and fig.layout.annotations[0].text == "暂无数据"
    assert len(F.trend_figure(daily, ["medical_revenue", "nope"]).data) == 1


def test_hourly_today_vs_baseline():
    today = pd.DataFrame({"period": [dt.datetime(2026, 11, 25, h) for h in range(8, 15)],
                          "opd_ed_visits": [800, 2400, 2600, 2100, 900, 700, 1900]})
    base = pd.DataFrame({"hour": range(24), "opd_ed_visits": [100.0] * 24})
    fig = F.hourly_today_vs_baseline(today, base, "opd_ed_visits", cumulative=True,
                                     baseline_label="上周同日")
    assert [tr.name for tr in fig.data] == ["今日", "上周同日"]
    assert as_list(fig.data[0].x)[0] == "08:00" and len(fig.data[1].x) == 24
    assert as_list(fig.data[0].y)[-1] == 11400                       # running total
    assert as_list(fig.data[0].text)[-1] == "11,400"
    assert fig.data[1].line.dash == "dash"
    assert len(F.hourly_today_vs_baseline(today, None, "opd_ed_visits").data) == 1
    assert len(F.hourly_today_vs_baseline(None, None, "x").data) == 0


# -- bars ------------------------------------------------------------------------------------

def test_bar_ranking_sorted_with_ids(departments):
    fig = F.bar_ranking(departments, "department", "discharges", NAMES, "integer",
                        highlight="D04")
    tr = fig.data[0]
    assert len(fig.data) == 1
    assert as_list(tr.y) == ["骨科", "呼吸内科", "心血管内科", "普外科"]   # missing last
    assert as_list(tr.customdata) == ["D02", "D04", "D01", "D03"]
    assert as_list(tr.text) == ["450", "300", "120", "—"]
    assert fig.layout.yaxis.autorange == "reversed"
    colours = list(tr.marker.color)
    assert colours[1] == F.palette("light")["highlight"]
    assert colours[0] == F.palette("light")["primary"]


def test_bar_ranking_top_ascending_and_vertical(departments):
    fig = F.bar_ranking(departments, "department", "cmi", NAMES, "decimal2", top=2,
                        ascending=True, orientation="v")
    assert as_list(fig.data[0].customdata) == ["D01", "D03"]
    assert as_list(fig.data[0].x) == ["心血管内科", "普外科"]


def test_colliding_names_stay_separate_bars():
    f = pd.DataFrame({"team": ["T1", "T2"], "n": [1, 2]})
    fig = F.bar_ranking(f, "team", "n", {"T1": "一组", "T2": "一组"})
    assert as_list(fig.data[0].y) == ["一组 (T2)", "一组 (T1)"]


def test_breakdown_and_stacked_bars(daily):
    f = pd.DataFrame({"category": ["drug", "exam", "lab"], "revenue": [3e7, 1.2e8, 5e6]})
    fig = F.breakdown_bar(f, "category", "revenue", {"drug": "药品"}, "yuan", sort=True)
    assert as_list(fig.data[0].customdata) == ["exam", "drug", "lab"]
    assert as_list(fig.data[0].x) == ["exam", "药品", "lab"]
    grades = pd.DataFrame({"period": [dt.date(2026, 10, 1)] * 2 + [dt.date(2026, 11, 1)] * 2,
                           "surgery_grade": ["3", "4"] * 2, "surgeries": [60, 40, 30, 10]})
    st = F.stacked_bar(grades, "period", "surgeries", "surgery_grade",
                       stack_labels={"3": "三级", "4": "四级"}, grain="month", normalize=True)
    assert [tr.name for tr in st.data] == ["三级", "四级"]
    assert as_list(st.data[1].y) == [0.4, 0.25]
    assert as_list(st.data[1].text) == ["40 (40.0%)", "10 (25.0%)"]
    assert as_list(st.data[0].x) == ["2026年10月", "2026年11月"]
    assert as_list(st.data[0].customdata) == ["2026-10-01", "2026-11-01"]
    assert st.layout.barmode == "stack"


def test_donut_merges_small_slices():
    f = pd.DataFrame({"category": list("abcdefghij"), "revenue": np.arange(10, 0, -1) * 1e6})
    fig = F.donut(f, "category", "revenue", {"a": "药品"}, "yuan", max_slices=4)
    tr = fig.data[0]
    assert as_list(tr.labels) == ["药品", "b", "c", "其他"]
    assert as_list(tr.customdata)[-1] == "__other__"
    assert as_list(tr.values)[-1] == pytest.approx(28e6)
    assert as_list(tr.text)[0] == "¥1,000.0万"
    assert "¥5,500.0万" in fig.layout.annotations[0].text


# -- distributions ---------------------------------------------------------------------------

def test_histogram_formatted_bins():
    fig = F.distribution_histogram([5, 12, 14, 15, 30, None], "minutes", bins=5,
                                   band=[10, 25], marker=14, marker_label="中位数")
    tr = fig.data[0]
    assert sum(as_list(tr.y)) == 5
    assert as_list(tr.hovertext)[0] == "5.0 分钟 – 10.0 分钟"
    assert [s.type for s in fig.layout.shapes] == ["rect", "line"]
    assert "14.0 分钟" in fig.layout.annotations[0].text
    assert len(F.distribution_histogram([], "integer").data) == 0


def test_heatmap_occupancy():
    f = pd.DataFrame({"period": [dt.date(2026, 11, 24), dt.date(2026, 11, 25),
                                 dt.date(2026, 11, 25)],
                      "department": ["D01", "D01", "D02"], "occ": [0.91, 0.95, 1.02]})
    fig = F.heatmap(f, "period", "department", "occ", "percent", y_labels=NAMES)
    tr = fig.data[0]
    assert len(fig.data) == 1
    assert as_list(tr.y) == ["心血管内科", "骨科"]
    assert as_list(tr.x) == ["11月24日", "11月25日"]
    assert [as_list(r) for r in tr.text] == [["91.0%", "95.0%"], ["—", "102.0%"]]
    assert as_list(tr.customdata[1]) == ["D02", "D02"]


# -- DRG -------------------------------------------------------------------------------------

def test_quadrant(departments):
    f = departments.assign(discharges=[100, 300, 50, 200])
    fig = F.quadrant(f, NAMES, hospital_cmi=1.2)
    tr = fig.data[0]
    assert len(fig.data) == 1 and as_list(tr.customdata) == ["D01", "D02", "D03", "D04"]
    assert as_list(tr.marker.size) == [100, 300, 50, 200]
    vertical, horizontal = fig.layout.shapes
    assert vertical.x0 == 1.2 and horizontal.y0 == 1
    p = F.palette("light")
    assert list(tr.marker.color) == [p["bad"], p["good"], p["primary"], p["warn"]]
    assert any("1.20" in a.text for a in fig.layout.annotations)
    # default reference: the case-weighted CMI of the rows
    auto = F.quadrant(f, NAMES)
    assert auto.layout.shapes[0].x0 == pytest.approx((0.9 * 100 + 1.5 * 300 + 1.1 * 50
                                                      + 1.3 * 200) / 650)


def test_pareto_losses_and_cumulative_share():
    f = pd.DataFrame({"drg": ["A", "B", "C", "D"], "loss": [1e6, 5e6, 4e6, -2e6]})
    fig = F.pareto(f, {"B": "GB11 胃大部切除"}, top=2)
    bars, line = fig.data
    assert as_list(bars.customdata) == ["B", "C"]
    assert as_list(bars.text) == ["¥500.0万", "¥400.0万"]
    assert as_list(line.y) == pytest.approx([0.5, 0.9])        # share of all losses
    assert line.yaxis == "y2" and fig.layout.yaxis2.overlaying == "y"
    assert as_list(line.text) == ["50.0%", "90.0%"]
    assert len(F.pareto(f.assign(loss=-1.0)).data) == 0


def test_cost_structure_100_percent():
    f = pd.DataFrame({"drg": ["FM19", "GB11"], "drug": [10.0, 30.0],
                      "consumable": [50.0, 20.0], "exam": [40.0, 50.0]})
    fig = F.cost_structure(f, column_labels={"drug": "药品", "consumable": "耗材",
                                             "exam": "检查"})
    assert [tr.name for tr in fig.data] == ["药品", "耗材", "检查"]
    for i in range(2):
        assert sum(as_list(tr.x)[i] for tr in fig.data) == pytest.approx(1.0)
    assert as_list(fig.data[1].text)[0] == "¥50.00 (50.0%)"
    assert fig.layout.barmode == "stack"


def test_waterfall_payment_vs_cost():
    fig = F.waterfall([{"label": "医保支付", "value": 1.2e8},
                       {"label": "药品", "value": -4e7},
                       {"label": "耗材", "value": -5e7, "measure": "relative"},
                       {"label": "结余", "measure": "total"}])
    tr = fig.data[0]
    assert len(fig.data) == 1
    assert as_list(tr.measure) == ["absolute", "relative", "relative", "total"]
    assert as_list(tr.text)[-1] == "¥3,000.0万"
    assert tr.decreasing.marker.color == F.palette("light")["bad"]
    assert len(F.waterfall([]).data) == 0


# -- every figure serialises (what dcc.Graph sends) -------------------------------------------

def test_all_figures_serialise(daily, departments):
    f = departments.assign(discharges=[100, 300, 50, 200])
    figs = [
        F.trend_figure(daily, "medical_revenue", fmt="yuan", theme="dark", lang="en"),
        F.bar_ranking(departments, "department", "discharges", NAMES),
        F.breakdown_bar(departments, "department", "discharges"),
        F.stacked_bar(daily.assign(k="x"), "period", "medical_revenue", "k", grain="day"),
        F.donut(departments, "department", "discharges"),
        F.distribution_histogram(np.random.default_rng(0).normal(10, 2, 200), "minutes"),
        F.heatmap(daily.assign(department="D01"), "period", "department",
                  "bed_occupancy_rate"),
        F.quadrant(f, NAMES), F.pareto(pd.DataFrame({"drg": ["A"], "loss": [1.0]})),
        F.cost_structure(pd.DataFrame({"drg": ["A"], "drug": [1.0]})),
        F.waterfall([("a", 1.0), ("b", None, "total")]),
        F.hourly_today_vs_baseline(pd.DataFrame({"hour": [1], "v": [1]}), None, "v"),
        F.empty_figure(theme="dark"),
    ]
    for fig in figs:
        assert isinstance(fig, go.Figure)
        text = pio.to_json(fig, validate=True)
        assert "NaN" not in text or '"y":[' in text
        assert fig.layout.font.family == theme_mod.FONT_FAMILY
