"""总览 page: the numbers on its cards are `metrics.service.query`'s for the same view, the
hospital view is main + branch with alliance members apart, clicks write the URL, and a
dept_head sees only their departments."""
from __future__ import annotations

import datetime as dt
import sys

import pytest

from cockpit.auth import User, set_current
from cockpit.formatting import fmt_number
from metrics.service import query

AS_OF = dt.datetime(2026, 11, 25, 10, 0)
SEARCH = "?period=month&date=2026-10-15"          # October: a whole past month
START, END = dt.date(2026, 10, 1), dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from cockpit import data
    from cockpit.commands.demo import build_demo
    from cockpit.server import build

    db = str(tmp_path_factory.mktemp("overview") / "ov.duckdb")
    build_demo(db, "tiny", 42, as_of=AS_OF)
    build(db, start_jobs=False)
    mp = pytest.MonkeyPatch()
    mp.setattr(data, "now", lambda: AS_OF)
    set_current(User("director", "leader"))
    yield sys.modules["pages.overview"]
    set_current(None)
    mp.undo()


def find(node, id_):
    """The component with `id_` in a component tree."""
    if getattr(node, "id", None) == id_:
        return node
    kids = getattr(node, "children", None)
    for k in kids if isinstance(kids, (list, tuple)) else [kids]:
        if k is not None and not isinstance(k, (str, int, float)):
            hit = find(k, id_)
            if hit is not None:
                return hit
    return None


def card_value(card) -> str:
    value = next(c for c in card.children if "kpi-value" in (getattr(c, "className", "") or ""))
    return value.children[0] if isinstance(value.children, list) else value.children


def q(ov, metrics, **kw):
    from cockpit import data

    return query(metrics, wh=data.warehouse(), model=data.model(), **kw)


def test_layout_has_prefixed_ids(page):
    tree = page.layout()
    for id_ in ("overview-live", "overview-panel-economy", "overview-trend",
                "overview-movers", "overview-alliance", "overview-metric"):
        assert find(tree, id_) is not None


def test_the_live_strip_comes_with_the_page(page):
    """Opened by a browser (inside a request), the layout already holds the live strip with
    the same cards `render_live` gives, so the first number does not wait for the ~20
    panel callbacks; its own callback only refreshes it (tick, filters)."""
    import dash
    from flask import Flask

    with Flask(__name__).test_request_context("/"):
        tree = page.layout(period="month", date="2026-10-15")
    live = find(tree, "overview-live")
    assert find(live, "overview-live-panel") is not None
    got = card_value(find(live, "overview-live-opd_ed_visits"))
    want = card_value(find(page.render_live(SEARCH), "overview-live-opd_ed_visits"))
    assert got == want and got not in ("", "—")
    assert find(page.layout(), "overview-live").children is None  # no request: no queries
    cb = next(c for c in dash._callback.GLOBAL_CALLBACK_LIST
              if "overview-live.children" in c["output"])
    assert cb["prevent_initial_call"] is True


def test_default_campuses_are_main_and_branch(page):
    assert page.hospital_campuses() == ["C01", "C02"]
    assert page.alliance_campuses() == ["C03", "C04"]


def test_panel_cards_equal_the_query(page):
    where = {"campus": ["C01", "C02"]}
    got = page.render_panel("inpatient", SEARCH)
    ref = q(page, ["discharges", "alos"], start=START, end=END, where=where)
    assert card_value(find(got, "overview-kpi-discharges")) == fmt_number(
        ref["discharges"][0], "integer")
    assert card_value(find(got, "overview-kpi-alos")) == fmt_number(ref["alos"][0], "decimal2")
    # a campus from the URL replaces the default
    got = page.render_panel("inpatient", SEARCH + "&campus=C02")
    ref = q(page, ["discharges"], start=START, end=END, where={"campus": ["C02"]})
    assert card_value(find(got, "overview-kpi-discharges")) == fmt_number(
        ref["discharges"][0], "integer")


def test_revenue_mtd_ytd(page):
    got = page.render_panel("economy", SEARCH)
    ref = q(page, ["medical_revenue:mtd", "medical_revenue:ytd"], start=END, end=END,
            where={"campus": ["C01", "C02"]})
    mtd = find(got, "overview-revenue-mtd")
    ytd = find(got, "overview-revenue-ytd")
    assert card_value(mtd) == fmt_number(ref["medical_revenue:mtd"][0], "yuan")
    assert card_value(ytd) == fmt_number(ref["medical_revenue:ytd"][0], "yuan")


def test_live_strip_today_vs_same_weekday(page):
    got = page.render_live(SEARCH)
    where = {"campus": ["C01", "C02"]}
    today = q(page, ["opd_ed_visits"], start=AS_OF.date(), end=AS_OF.date(), where=where,
              as_of=AS_OF)
    card = find(got, "overview-live-opd_ed_visits")
    assert card_value(card) == fmt_number(today["opd_ed_visits"][0], "integer")
    assert find(got, "overview-live-hourly") is not None
    assert "freshness" in str(got)          # the panel ends with its as-of line


def test_alliance_panel_lists_only_alliance_members(page):
    got = page.render_alliance(SEARCH)
    table = find(got, "overview-alliance-table")
    from cockpit import data

    names = data.labels("campus")
    assert sorted(r["name"] for r in table.data) == sorted([names["C03"], names["C04"]])


def test_clicks_write_the_url(page):
    click = {"points": [{"customdata": "D0125"}]}
    assert page.on_movers_click(click, SEARCH) == "?date=2026-10-15&dept=D0125"
    assert page.on_breakdown_click({"points": [{"customdata": "C01"}]}, SEARCH) == \
        "?date=2026-10-15&campus=C01"
    # with a campus chosen the breakdown is by department, and a click filters the page
    assert page.on_breakdown_click(click, SEARCH + "&campus=C01") == \
        "?date=2026-10-15&campus=C01&dept=D0125"
    links = page.render_focus(SEARCH)
    assert [x.href for x in links if x.id == "overview-metric-discharges"] == \
        ["/?date=2026-10-15&metric=discharges"]


def test_cross_filter_narrows_the_panels(page):
    got = page.render_panel("inpatient", SEARCH + "&dept=D0116")
    ref = q(page, ["discharges"], start=START, end=END,
            where={"campus": ["C01", "C02"], "department": ["D0116"]})
    assert card_value(find(got, "overview-kpi-discharges")) == fmt_number(
        ref["discharges"][0], "integer")


def test_dept_head_sees_only_their_departments(page):
    set_current(User("head", "dept_head", departments=("D0116",)))
    try:
        got = page.render_panel("inpatient", SEARCH)
        ref = q(page, ["discharges"], start=START, end=END, where={"campus": ["C01", "C02"]},
                scope=frozenset({"D0116"}))
        assert card_value(find(got, "overview-kpi-discharges")) == fmt_number(
            ref["discharges"][0], "integer")
        movers = page.movers_data(page.state.from_search(SEARCH), "discharges")
        assert set(movers["department"]) <= {"D0116"}
    finally:
        set_current(User("director", "leader"))


def test_english_and_dark_render(page):
    got = page.render_panel("drg", SEARCH + "&lang=en&theme=dark")
    assert "Case-mix index" in str(got)
