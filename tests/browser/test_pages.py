"""Every page renders on the demo hospital, in Chinese and English, light and dark; a sample
of KPI tiles on every page shows exactly `fmt_number(metrics.query(...))` for the view the
page's code defines; the numbers agree across pages; no request leaves 127.0.0.1.

Screenshots: test-artifacts/screenshots/<page>-<lang>-<theme>.png
"""
from __future__ import annotations

import datetime as dt
import re

import pytest
import requests

from .conftest import (assert_local, login, month_range, open_page, screenshot, settle,
                       tile_text)

pytestmark = pytest.mark.browser

THEMES = ("visits", "clinic", "internet", "revenue", "surgery", "admission", "records", "drg")

#: page name → (path, selectors that exist once its callbacks have answered)
PAGES = {
    "overview": ("/", ["#overview-live-panel", "#overview-panel-economy-body",
                       "#overview-trend .panel", "#overview-breakdown .panel",
                       "#overview-movers .panel", "#overview-alliance .panel"]),
    **{f"theme-{t}": (f"/theme/{t}", ["#theme-kpis .panel", "#theme-trend .panel",
                                       "#theme-dept .panel", "#theme-table .panel"])
       for t in THEMES},
    "department": ("/department", ["#department-kpis-panel", "#department-teams .panel",
                                   "#department-rank .panel", "#department-trend .panel"]),
    "drg": ("/drg", ["#drg-kpis .panel", "#drg-drill .panel", "#drg-pareto .panel",
                     "#drg-cases .panel"]),
    "catalog": ("/catalog?metric=cmi", ["#catalog-table td", "#catalog-current-value"]),
    "health": ("/health-page", ["#health-status"]),
    "targets": ("/targets", ["#targets-tree-panel"]),
}

#: a panel that failed shows its error inline instead of the numbers
ERROR_SELECTORS = ".ov-error, .dp-error"
ERROR_TEXT = ("查询出错", "Query failed", "Traceback", "Error loading layout")
#: i18n keys that leak when a label is missing (nav_overview, panel.economy, fresh.as_of …)
RAW_KEY = re.compile(r"\b(?:(?:nav|panel|fresh|filter|common|compare|band|grain|export|login"
                     r"|app|theme|period|quadrant|chart|ov|dp|ct|tg)[._]|dim\.)[a-z][a-z0-9_.]*\b")
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def director(browser, server):
    """One signed-in director for the whole module (pages are opened by URL)."""
    from .conftest import _new_context

    ctx = _new_context(browser, server)
    page = ctx.new_page()
    login(page, "director")
    yield page
    ctx.close()


def _with(path: str, **params) -> str:
    sep = "&" if "?" in path else "?"
    return path + sep + "&".join(f"{k}={v}" for k, v in params.items())


def _render(page, name: str, lang: str, theme: str) -> str:
    path, ready = PAGES[name]
    url = path if (lang, theme) == ("zh", "light") else _with(
        path, **{k: v for k, v in (("lang", lang), ("theme", theme))
                 if (k, v) not in (("lang", "zh"), ("theme", "light"))})
    open_page(page, url, ready)
    screenshot(page, f"{name}-{lang}-{theme}")
    body = page.inner_text("body")
    errors = page.locator(ERROR_SELECTORS).all_inner_texts()
    assert not errors, f"{url}: panels failed: {errors}"
    for bad in ERROR_TEXT:
        assert bad not in body, f"{url}: the page shows {bad!r}"
    root = page.get_attribute("#shell-root", "class") or ""
    assert theme in root.split() and f"lang-{lang}" in root.split(), (url, root)
    return body


# -- every page, three looks -----------------------------------------------------------------

@pytest.mark.parametrize("name", list(PAGES))
def test_page_renders_zh_light(director, name):
    body = _render(director, name, "zh", "light")
    keys = sorted(set(RAW_KEY.findall(body)))
    assert not keys, f"{name}: raw i18n keys on screen: {keys}"
    nav = director.locator("#shell-nav a").all_inner_texts()
    assert len(nav) >= 13 and all(CJK.search(t) or t == "DRG" for t in nav), nav


@pytest.mark.parametrize("name", list(PAGES))
def test_page_renders_en_light(director, name):
    body = _render(director, name, "en", "light")
    keys = sorted(set(RAW_KEY.findall(body)))
    assert not keys, f"{name}: raw i18n keys on screen: {keys}"
    assert director.inner_text("#nav-overview") == "Overview"
    assert director.inner_text("#shell-title") == "Hospital Operations Cockpit"


@pytest.mark.parametrize("name", ["overview", "theme-visits", "department", "drg", "catalog",
                                  "targets"])
def test_page_renders_zh_dark(director, name):
    _render(director, name, "zh", "dark")
    # dark mode: the cards are dark, and their text is light (readable)
    colours = director.evaluate("""() => {
        const el = document.querySelector('.panel');
        const s = getComputedStyle(el);
        return [s.backgroundColor, s.color];
    }""")
    bg, fg = (_lum(c) for c in colours)
    assert bg < 0.3 and fg > 0.6, f"{name}: dark panel {colours}"


def _lum(css: str) -> float:
    nums = [float(x) for x in re.findall(r"[\d.]+", css)[:3]]
    return sum(nums) / 3 / 255


# -- what a Chinese-speaking director reads --------------------------------------------------

@pytest.mark.parametrize("name", list(PAGES))
def test_chinese_ui_has_chinese_headings(director, name):
    """In the Chinese UI every panel title and table heading is Chinese (acronyms such as
    DRG / CMI / CSV aside): no English column names or placeholders."""
    path, ready = PAGES[name]
    open_page(director, path, ready)
    texts = director.locator("h2, h3.panel-title, h4, th").all_inner_texts()
    english = [t for t in texts if t.strip() and not CJK.search(t)
               and not re.fullmatch(r"[\sA-Z0-9×()/·.%-]+", t.strip())]
    assert not english, f"{name}: English headings in the Chinese UI: {english[:12]}"


def test_date_picker_placeholder_is_chinese(director):
    """The shell's date picker is the first control a director sees: its placeholder must
    not be Dash's default English 'Select Date' in the Chinese UI."""
    open_page(director, "/catalog", PAGES["catalog"][1])
    ph = director.get_attribute("#shell-date input", "placeholder") or ""
    assert not ph or CJK.search(ph), f"shell-date placeholder in the Chinese UI: {ph!r}"


# -- tiles equal metrics.query ---------------------------------------------------------------

def _expect_month(expected, ids, where, grain=None):
    """Each metric's formatted value for this month so far (the last bucket with a grain)."""
    start, end = month_range()
    out = {}
    for m in ids:
        try:
            f = expected.query([m], grain=grain, start=start, end=end, where=where)
            v = f[m].iloc[-1] if len(f) else None
        except Exception:  # the page shows — for a metric that cannot answer
            v = None
        out[m] = expected.text(v, m)
    return out


def _check_tiles(page, prefix: str, want: dict) -> None:
    got = {m: tile_text(page, f"#{prefix}{m} .kpi-value") for m in want}
    assert got == want, f"tiles differ from metrics.query: screen {got} vs query {want}"


OVERVIEW_SAMPLE = ["opd_ed_visits", "discharges", "bed_occupancy_rate", "cmi",
                   "medical_revenue", "drg_balance", "internet_visits"]


def test_overview_tiles_equal_query(director, expected):
    open_page(director, "/", PAGES["overview"][1])
    want = _expect_month(expected, OVERVIEW_SAMPLE,
                         {"campus": expected.hospital_campuses()})
    _check_tiles(director, "overview-kpi-", want)


@pytest.mark.parametrize("theme_id", THEMES)
def test_theme_tiles_equal_query(director, expected, theme_id):
    open_page(director, f"/theme/{theme_id}", PAGES[f"theme-{theme_id}"][1])
    ids = [m.id for m in expected.model.themes[theme_id].metrics][:4]
    want = _expect_month(expected, ids, {}, grain="month")
    _check_tiles(director, "theme-kpi-value-", want)


def test_department_tiles_equal_query(director, expected, demo):
    open_page(director, "/department", PAGES["department"][1])
    ids = ["discharges", "opd_ed_visits", "alos", "cmi", "medical_revenue",
           "bed_occupancy_rate"]
    # the director lands on the first department with wards on the main / branch campuses
    want = _expect_month(expected, ids, {"department": [demo["head_dept"]]})
    _check_tiles(director, "department-kpi-", want)


def test_drg_tiles_equal_query(director, expected):
    open_page(director, "/drg", PAGES["drg"][1])
    ids = ["drg_grouped_cases", "cmi", "total_weight", "drg_balance", "drg_balance_rate",
           "cost_index"]
    want = _expect_month(expected, ids, {}, grain="month")
    _check_tiles(director, "drg-kpi-", want)


def test_catalog_value_equals_query(director, expected):
    open_page(director, "/catalog?metric=cmi", PAGES["catalog"][1])
    from cockpit.state import View

    today = View().range()[1]
    f = expected.query(["cmi"], start=today.replace(day=1), end=today,
                       where={"campus": expected.hospital_campuses()})
    want = expected.text(f["cmi"].iloc[0], "cmi")
    assert director.inner_text("#catalog-current-value").strip() == want


def test_health_page_equals_health_json(director, server):
    open_page(director, "/health-page", PAGES["health"][1])
    status = requests.get(server + "/health", timeout=10).json()["status"]
    assert director.inner_text("#health-status").strip() == status


def test_targets_hospital_actual_equals_query(director, expected):
    """The hospital row's 累计完成 is medical revenue from 1 January to now."""
    open_page(director, "/targets", PAGES["targets"][1])
    from cockpit.state import View

    today = View().range()[1]
    f = expected.query(["medical_revenue"], start=dt.date(today.year, 1, 1), end=today)
    want = expected.text(f["medical_revenue"].iloc[0], "medical_revenue")
    cells = director.locator("#targets-row-hospital td").all_inner_texts()
    assert cells and cells[3].strip() == want, (cells, want)


# -- the same number everywhere --------------------------------------------------------------

def test_hospital_visits_agree_between_overview_and_theme_page(director):
    """门急诊人次 for 全院 / 全部院区 this month is one number: the overview's panel and the
    就诊 theme page must not disagree (one counts the alliance members, the other not)."""
    open_page(director, "/", PAGES["overview"][1])
    overview = tile_text(director, "#overview-kpi-opd_ed_visits .kpi-value")
    open_page(director, "/theme/visits", PAGES["theme-visits"][1])
    theme = tile_text(director, "#theme-kpi-value-opd_ed_visits .kpi-value")
    assert overview == theme, (f"总览 shows 门急诊人次 {overview}, 就诊 shows {theme} for the "
                               f"same month and the same (all-campus) filter")


def test_ytd_revenue_agrees_between_overview_and_targets(director):
    open_page(director, "/", PAGES["overview"][1])
    overview = tile_text(director, "#overview-revenue-ytd .kpi-value")
    open_page(director, "/targets", PAGES["targets"][1])
    cells = director.locator("#targets-row-hospital td").all_inner_texts()
    assert cells[3].strip() == overview, (f"总览 本年累计 {overview} vs 目标页 全院累计完成 "
                                          f"{cells[3]}")


def test_month_count_not_judged_by_a_daily_band(director):
    """A count's band is per day (the overview shows it only on a day view): the theme page's
    month card of 急诊人次 must not say 低于区间 against the daily 400 – 800."""
    open_page(director, "/theme/visits", PAGES["theme-visits"][1])
    card = director.locator("#theme-kpi-value-ed_visits")
    assert card.locator(".kpi-band").count() == 0, card.inner_text()


def test_department_tiles_without_targets_say_no_target(director):
    """No targets are loaded in the demo: every tile says 目标未下达, never 目标 0."""
    open_page(director, "/department", PAGES["department"][1])
    texts = director.locator("#department-kpis-panel .kpi-target").all_inner_texts()
    assert texts and all(t.strip() == "目标未下达" for t in texts), texts


def test_movers_comparison_without_last_year_is_not_zero(director, expected):
    """The tiny demo has no data a year ago: 同比 is unknown (—), not 0, and the change column
    must not pass a whole month's volume off as growth."""
    from cockpit.state import View

    start, end = View().range()
    ly = expected.query(["opd_ed_visits"], start=start.replace(year=start.year - 1),
                        end=end.replace(year=end.year - 1),
                        where={"campus": expected.hospital_campuses()})
    assert not ly["opd_ed_visits"].fillna(0).iloc[0], "premise: the tiny demo has no data a year ago"
    open_page(director, "/", PAGES["overview"][1])
    cells = director.locator("#overview-movers-table td[data-dash-column='compare']")
    values = cells.all_inner_texts()
    assert values and all(v.strip() in ("—", "-", "–", "") for v in values), values[:5]


# -- the network -----------------------------------------------------------------------------

def test_no_request_leaves_localhost(director):
    """Everything the module loaded (all pages, both languages, both themes)."""
    settle(director)
    assert_local(director.context)
