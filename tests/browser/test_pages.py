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

from .conftest import assert_local, month_range, open_page, screenshot, settle

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


def _with(path: str, **params) -> str:
    sep = "&" if "?" in path else "?"
    return path + sep + "&".join(f"{k}={v}" for k, v in params.items())


CAPTURE = """() => {
  const own = e => (e && e.firstChild ? e.firstChild.textContent : '').trim();
  const tiles = {}, bands = {};
  for (const card of document.querySelectorAll('.kpi-card[id]')) {
    tiles[card.id] = own(card.querySelector('.kpi-value'));
    bands[card.id] = !!card.querySelector('.kpi-band');
  }
  const all = sel => Array.from(document.querySelectorAll(sel)).map(e => e.innerText);
  const date = document.getElementById('shell-date');
  const input = date && (date.matches('input') ? date : date.querySelector('input'));
  const root = document.getElementById('shell-root');
  return {
    body: document.body.innerText, tiles, bands,
    errors: all('.ov-error, .dp-error'),
    headings: all('h2, h3.panel-title, h4, th'),
    nav: all('#shell-nav a'),
    nav_ids: Array.from(document.querySelectorAll('#shell-nav a')).map(e => e.id),
    targets: all('#department-kpis-panel .kpi-target'),
    movers_compare: all("#overview-movers-table td[data-dash-column='compare']"),
    hospital_row: all('#targets-row-hospital td'),
    catalog_value: all('#catalog-current-value'),
    health_status: all('#health-status'),
    date_placeholder: input ? input.placeholder : (date ? date.innerText : null),
    root_class: root ? root.className : '',
    panel_colours: (() => { const p = document.querySelector('.panel');
      if (!p) return null; const c = getComputedStyle(p); return [c.backgroundColor, c.color]; })(),
  };
}"""


def _render(page, name: str, lang: str, theme: str) -> dict:
    """Open a page in one language and theme, screenshot it, and read what it shows."""
    path, ready = PAGES[name]
    params = {k: v for k, v in (("lang", lang), ("theme", theme))
              if (k, v) not in (("lang", "zh"), ("theme", "light"))}
    url = _with(path, **params) if params else path
    open_page(page, url, ready)
    shot = screenshot(page, f"{name}-{lang}-{theme}")
    seen = page.evaluate(CAPTURE)
    seen.update(url=url, screenshot=shot)
    return seen


def _pass(page, names, lang, theme) -> dict:
    return {n: _render(page, n, lang, theme) for n in names}


@pytest.fixture(scope="module")
def zh_light(director):
    """Every page once, in Chinese, light (the director's default)."""
    return _pass(director, list(PAGES), "zh", "light")


#: the overview in English is shot by the language-switch test (test_i18n_export_stale)
EN_PAGES = ["theme-visits", "department", "drg", "catalog"]
DARK_PAGES = ["overview", "drg"]


@pytest.fixture(scope="module")
def en_light(director, zh_light):
    return _pass(director, EN_PAGES, "en", "light")


@pytest.fixture(scope="module")
def zh_dark(director, en_light):
    return _pass(director, DARK_PAGES, "zh", "dark")


def _healthy(seen: dict, lang: str, theme: str) -> None:
    url = seen["url"]
    assert not seen["errors"], f"{url}: panels failed: {seen['errors']}"
    for bad in ERROR_TEXT:
        assert bad not in seen["body"], f"{url}: the page shows {bad!r}"
    cls = seen["root_class"].split()
    assert theme in cls and f"lang-{lang}" in cls, (url, cls)
    keys = sorted(set(RAW_KEY.findall(seen["body"])))
    assert not keys, f"{url}: raw i18n keys on screen: {keys}"
    assert seen["screenshot"].stat().st_size > 10_000


# -- every page renders ----------------------------------------------------------------------

@pytest.mark.parametrize("name", list(PAGES))
def test_page_renders_zh_light(zh_light, name):
    seen = zh_light[name]
    _healthy(seen, "zh", "light")
    assert len(seen["nav"]) >= 13 and all(CJK.search(t) or t == "DRG" for t in seen["nav"]), \
        seen["nav"]


@pytest.mark.parametrize("name", EN_PAGES)
def test_page_renders_en_light(en_light, name):
    seen = en_light[name]
    _healthy(seen, "en", "light")
    assert seen["nav"][0] == "Overview", seen["nav"]
    assert not any(CJK.search(t) for t in seen["nav"]), seen["nav"]
    assert "Hospital Operations Cockpit" in seen["body"]


@pytest.mark.parametrize("name", DARK_PAGES)
def test_page_renders_zh_dark(zh_dark, name):
    seen = zh_dark[name]
    _healthy(seen, "zh", "dark")
    bg, fg = (_lum(c) for c in seen["panel_colours"])
    assert bg < 0.3 and fg > 0.6, f"{name}: dark panel {seen['panel_colours']}"


def _lum(css: str) -> float:
    nums = [float(x) for x in re.findall(r"[\d.]+", css)[:3]]
    return sum(nums) / 3 / 255


# -- what a Chinese-speaking director reads --------------------------------------------------

@pytest.mark.parametrize("name", list(PAGES))
def test_chinese_ui_has_chinese_headings(zh_light, name):
    """In the Chinese UI every panel title and table heading is Chinese (acronyms such as
    DRG / CMI / CSV aside): no English column names."""
    texts = zh_light[name]["headings"]
    english = [t for t in texts if t.strip() and not CJK.search(t)
               and not re.fullmatch(r"[\sA-Z0-9×()/·.%-]+", t.strip())]
    assert not english, f"{name}: English headings in the Chinese UI: {english[:12]}"


def test_nav_link_ids_are_unique(zh_light):
    """Each navigation link has its own id (`nav-<module>`): the DRG theme page and the
    医保DRG page must not both be `nav-drg`."""
    ids = zh_light["overview"]["nav_ids"]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    assert not dupes, f"duplicate nav ids: {dupes} in {ids}"


def test_date_picker_placeholder_is_chinese(zh_light):
    """The shell's date picker is the first control a director sees: its placeholder must
    not be Dash's default English 'Select Date' in the Chinese UI."""
    ph = zh_light["overview"]["date_placeholder"] or ""
    assert not ph.strip() or CJK.search(ph), f"shell-date placeholder in the Chinese UI: {ph!r}"


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


def _check_tiles(seen: dict, prefix: str, want: dict) -> None:
    got = {m: seen["tiles"].get(prefix + m) for m in want}
    assert got == want, f"{seen['url']}: screen {got} vs metrics.query {want}"


OVERVIEW_SAMPLE = ["opd_ed_visits", "discharges", "bed_occupancy_rate", "cmi",
                   "medical_revenue", "drg_balance", "internet_visits"]


def test_overview_tiles_equal_query(zh_light, expected):
    want = _expect_month(expected, OVERVIEW_SAMPLE, {"campus": expected.hospital_campuses()})
    _check_tiles(zh_light["overview"], "overview-kpi-", want)


@pytest.mark.parametrize("theme_id", THEMES)
def test_theme_tiles_equal_query(zh_light, expected, theme_id):
    ids = [m.id for m in expected.model.themes[theme_id].metrics][:4]
    want = _expect_month(expected, ids, {"campus": expected.hospital_campuses()}, grain="month")
    _check_tiles(zh_light[f"theme-{theme_id}"], "theme-kpi-value-", want)


def test_department_tiles_equal_query(zh_light, expected, demo):
    ids = ["discharges", "opd_ed_visits", "alos", "cmi", "medical_revenue",
           "bed_occupancy_rate"]
    # the director lands on the first department with wards on the main / branch campuses
    want = _expect_month(expected, ids, {"department": [demo["head_dept"]]})
    _check_tiles(zh_light["department"], "department-kpi-", want)


def test_drg_tiles_equal_query(zh_light, expected):
    ids = ["drg_grouped_cases", "cmi", "total_weight", "drg_balance", "drg_balance_rate",
           "cost_index"]
    want = _expect_month(expected, ids, {"campus": expected.hospital_campuses()}, grain="month")
    _check_tiles(zh_light["drg"], "drg-kpi-", want)


def test_catalog_value_equals_query(zh_light, expected):
    from cockpit.state import View

    today = View().range()[1]
    f = expected.query(["cmi"], start=today.replace(day=1), end=today,
                       where={"campus": expected.hospital_campuses()})
    want = expected.text(f["cmi"].iloc[0], "cmi")
    assert [v.strip() for v in zh_light["catalog"]["catalog_value"]] == [want]


def test_health_page_equals_health_json(zh_light, server):
    status = requests.get(server + "/health", timeout=10).json()["status"]
    assert [v.strip() for v in zh_light["health"]["health_status"]] == [status]


def test_targets_hospital_actual_equals_query(zh_light, expected):
    """The hospital row's 累计完成 is medical revenue from 1 January to now."""
    from cockpit.state import View

    today = View().range()[1]
    f = expected.query(["medical_revenue"], start=dt.date(today.year, 1, 1), end=today)
    want = expected.text(f["medical_revenue"].iloc[0], "medical_revenue")
    cells = zh_light["targets"]["hospital_row"]
    # 组织, 年度目标, 序时目标, 序时进度, 累计完成, …
    assert len(cells) >= 5 and cells[4].strip() == want, (cells, want)


# -- the same number everywhere --------------------------------------------------------------

def test_hospital_visits_agree_between_overview_and_theme_page(zh_light):
    """门急诊人次 for 全院 / 全部院区 this month is one number: the overview's panel and the
    就诊 theme page must not disagree (the theme page adds the alliance members in)."""
    overview = zh_light["overview"]["tiles"]["overview-kpi-opd_ed_visits"]
    theme = zh_light["theme-visits"]["tiles"]["theme-kpi-value-opd_ed_visits"]
    assert overview == theme, (f"总览 shows 门急诊人次 {overview}, 就诊 shows {theme} for the "
                               f"same month and the same (all-campus) filter")


def test_ytd_revenue_on_the_targets_page_is_the_whole_target_tree(zh_light, expected):
    """The targets page's hospital row is the sum of the target tree, which covers every
    campus with a target (alliance members included, the catalogue's "totals: every campus");
    the overview's hospital view is main + branch. Each must equal its own query."""
    import datetime as dt

    from warehouse.settings import hospital_now

    today = hospital_now().date()
    start = dt.date(today.year, 1, 1)
    every = expected.query(["medical_revenue"], start=start, end=today)
    own = expected.query(["medical_revenue"], start=start, end=today,
                         where={"campus": expected.hospital_campuses()})
    cells = zh_light["targets"]["hospital_row"]
    assert len(cells) >= 5  # 组织, 年度目标, 序时目标, 序时进度, 累计完成, …
    assert cells[4].strip() == expected.text(every["medical_revenue"].iloc[0], "medical_revenue")
    overview = zh_light["overview"]["tiles"]["overview-revenue-ytd"]
    assert overview == expected.text(own["medical_revenue"].iloc[0], "medical_revenue")


def test_month_count_not_judged_by_a_daily_band(zh_light):
    """A count's band is per day (the overview shows it only on a day view): the theme page's
    month card of 急诊人次 must not say 低于区间 against the daily 400 – 800."""
    assert zh_light["theme-visits"]["bands"]["theme-kpi-value-ed_visits"] is False


def test_department_tiles_show_their_phased_target(zh_light, expected, demo):
    """The demo sets this year's targets: a tile with a target shows 序时目标 = the month's
    `:target_to_date` for the department; one without says 目标未下达, never 目标 0."""
    texts = [t.strip() for t in zh_light["department"]["targets"]]
    start, end = month_range()
    f = expected.query(["discharges:target_to_date"], start=start, end=end,
                       where={"department": [demo["head_dept"]]})
    want = "序时目标 " + expected.text(f["discharges:target_to_date"].iloc[0], "discharges")
    assert want in texts, (want, texts)
    assert "目标未下达" in texts  # CMI has no demo target
    assert all(t == "目标未下达" or t.startswith("序时目标 ") for t in texts), texts


def test_movers_comparison_without_last_year_is_not_zero(zh_light, expected):
    """The tiny demo has no data a year ago: 同比 is unknown (—), not 0, and the change column
    must not pass a whole month's volume off as growth."""
    from cockpit.state import View

    start, end = View().range()
    ly = expected.query(["opd_ed_visits"], start=start.replace(year=start.year - 1),
                        end=end.replace(year=end.year - 1),
                        where={"campus": expected.hospital_campuses()})
    assert not ly["opd_ed_visits"].fillna(0).iloc[0], "premise: no demo data a year ago"
    values = zh_light["overview"]["movers_compare"]
    assert values and all(v.strip() in ("—", "-", "–", "") for v in values), values[:5]


# -- the network -----------------------------------------------------------------------------

def test_no_request_leaves_localhost(director, zh_light, en_light, zh_dark):
    """Everything the module loaded (all pages, both languages, both themes)."""
    settle(director)
    assert_local(director.context)
