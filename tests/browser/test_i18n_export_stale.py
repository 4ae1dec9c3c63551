"""Language switch (中文 → EN and back, by clicking the shell's control), table export (the
CSV's rows are the query's rows and the screen's), and the stale marker (a server whose
freshness limits are one minute marks every panel stale; the main server, with generous
limits, marks none)."""
from __future__ import annotations


import pandas as pd
import pytest

from cockpit.i18n import metric_label, t

from .conftest import assert_local, login, month_range, open_page, screenshot, settle

pytestmark = pytest.mark.browser

OVERVIEW_READY = ["#overview-live-panel", "#overview-panel-economy-body",
                  "#overview-alliance .panel", "#overview-movers .panel"]


def test_language_switch(director, expected):
    open_page(director, "/", OVERVIEW_READY)
    assert director.inner_text("#nav-overview") == "总览"
    director.click("#shell-lang label:has-text('EN')")
    director.wait_for_function("() => new URLSearchParams(location.search).get('lang') === 'en'")
    director.wait_for_function(
        "() => document.querySelector('#nav-overview').innerText === 'Overview'")
    director.wait_for_function(
        "() => document.querySelector('#overview-panel-outpatient h3') && "
        f"document.querySelector('#overview-panel-outpatient h3').innerText === "
        f"{t('panel.outpatient', 'en')!r}")
    settle(director)
    screenshot(director, "overview-en-light-switched")
    m = expected.model.metrics["opd_ed_visits"]
    label = director.inner_text("#overview-kpi-opd_ed_visits .kpi-label")
    assert label == metric_label(m, "en")
    assert director.inner_text("#shell-title") == "Hospital Operations Cockpit"
    assert director.inner_text("#shell-logout") == "Sign out"
    # the link carries the language to the next page
    director.click("#shell-nav a[href^='/drg']")
    director.wait_for_selector("#drg-kpis .panel")
    settle(director)
    assert "lang=en" in director.url
    assert director.inner_text("#drg-title") == t("panel.insurance_drg", "en")
    director.click("#shell-lang label:has-text('中文')")
    director.wait_for_function(
        "() => document.querySelector('#nav-overview').innerText === '总览'")
    assert "lang=en" not in director.url


@pytest.fixture(scope="module")
def visits_export(director):
    """The 就诊 page's detail table as shown, and its CSV export."""
    open_page(director, "/theme/visits", ["#theme-table .panel", "#theme-table td"])
    headers = [h.strip() for h in director.locator(
        "#theme-table th .column-header-name").all_inner_texts()]
    codes = director.locator("#theme-table td[data-dash-column='department']").all_inner_texts()
    values = director.locator(
        "#theme-table td[data-dash-column='opd_ed_visits']").all_inner_texts()
    with director.expect_download() as dl:
        director.locator("#theme-table button", has_text="导出 CSV").click()
    download = dl.value
    frame = pd.read_csv(download.path(), dtype={"编码": str})
    return {"headers": headers, "codes": [c.strip() for c in codes],
            "values": [v.strip() for v in values], "frame": frame,
            "filename": download.suggested_filename}


def test_export_csv_rows_match_query_and_screen(visits_export, expected):
    frame = visits_export["frame"]
    assert visits_export["filename"] == "theme-table-visits.csv"
    start, end = month_range()
    # the hospital view (no campus chosen) is the main and branch campuses on every page
    q = expected.query(["opd_ed_visits"], by=["department"], start=start, end=end,
                       where={"campus": expected.hospital_campuses()})
    assert sorted(frame["编码"]) == sorted(q["department"])
    got = dict(zip(frame["编码"], frame["门急诊人次"]))
    want = dict(zip(q["department"], q["opd_ed_visits"]))
    assert all(abs(float(got[d]) - float(want[d] or 0)) < 1e-9 for d in want), (got, want)
    # the rows on screen are rows of the file
    from cockpit.formatting import fmt_number

    fmt = expected.model.metrics["opd_ed_visits"].format
    assert visits_export["codes"]
    for code, value in zip(visits_export["codes"], visits_export["values"]):
        assert value == fmt_number(got[code], fmt, "zh", compact=False), code


def test_export_csv_has_the_columns_on_screen(visits_export):
    """The file has the table's columns, the department's name (科室) included."""
    assert visits_export["headers"], "no table headers read"
    assert list(visits_export["frame"].columns) == visits_export["headers"], (
        f"screen {visits_export['headers']} vs CSV {list(visits_export['frame'].columns)}")


def test_no_stale_marker_with_generous_limits(director):
    open_page(director, "/", OVERVIEW_READY)
    assert director.locator(".stale-tag").count() == 0
    assert director.locator(".panel.stale").count() == 0


def test_stale_marker_with_tiny_limits(stale_server, new_context):
    ctx = new_context(stale_server)
    page = ctx.new_page()
    login(page, "director")
    open_page(page, "/", OVERVIEW_READY)
    screenshot(page, "overview-zh-light-stale")
    panels = page.locator("section.panel:has(.freshness)")
    n = panels.count()
    assert n >= 10
    assert page.locator("section.panel.stale:has(.freshness)").count() == n
    tags = page.locator(".stale-tag")
    assert tags.count() >= n
    assert set(tags.all_inner_texts()) == {t("stale", "zh")}
    assert "older than" in (tags.first.get_attribute("title") or "")
    # the theme page greys its cards too
    open_page(page, "/theme/visits", ["#theme-kpis .panel"])
    assert page.locator("#theme-kpis .kpi-card.is-stale").count() >= 1
    assert page.locator("#theme-kpis .kpi-stale").count() >= 1
    settle(page)
    assert_local(ctx)
