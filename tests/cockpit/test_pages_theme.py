"""主题页 /theme/<theme_id>: eight pages from one module, KPI cards equal to
`metrics.service.query` for the same view (with 同比 / 环比), clicks that write the cross-filter
and the drill into the URL, and a dept_head who sees only their departments."""
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
THEMES = ("visits", "clinic", "internet", "revenue", "surgery", "admission", "records", "drg")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from cockpit import data
    from cockpit.commands.demo import build_demo
    from cockpit.server import build

    db = str(tmp_path_factory.mktemp("theme") / "th.duckdb")
    build_demo(db, "tiny", 42, as_of=AS_OF)
    build(db, start_jobs=False)
    mp = pytest.MonkeyPatch()
    mp.setattr(data, "now", lambda: AS_OF)
    set_current(User("director", "leader"))
    yield sys.modules["pages.theme"]
    set_current(None)
    mp.undo()


def find(node, id_):
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


def q(metrics, **kw):
    """metrics.query as the page asks it: with no campus chosen the hospital view is the main
    and branch campuses (the same default on every page)."""
    from cockpit import data

    if "where" not in kw:
        types = data.campus_types()
        kw["where"] = {"campus": sorted(c for c, k in types.items() if k in ("main", "branch"))}
    return query(metrics, wh=data.warehouse(), model=data.model(), as_of=AS_OF, **kw)


def test_eight_theme_pages_in_the_nav(page):
    import dash

    reg = {p["path"]: p for p in dash.page_registry.values()}
    for i, tid in enumerate(THEMES):
        p = reg[f"/theme/{tid}"]
        assert p["order"] == 10 + i and p["title_key"] == f"nav.{tid}"
        tree = p["layout"](metric="", lang="en")
        assert find(tree, "theme-metric") is not None and find(tree, "theme-kpis") is not None


def test_every_theme_renders(page):
    for tid in THEMES:
        kpis = page.render_kpis(SEARCH, f"/theme/{tid}")
        panels = page.render(SEARCH + "&dept=D0116", f"/theme/{tid}")
        assert kpis[1] is not None and len(panels) == 6


def test_kpi_cards_equal_the_query_with_comparison(page):
    _, kpis = page.render_kpis(SEARCH, "/theme/revenue")
    ref = q(["medical_revenue", "ipd_revenue", "drug_revenue_ratio"], start=START, end=END)
    assert card_value(find(kpis, "theme-kpi-value-medical_revenue")) == fmt_number(
        ref["medical_revenue"][0], "yuan")
    assert card_value(find(kpis, "theme-kpi-value-drug_revenue_ratio")) == fmt_number(
        ref["drug_revenue_ratio"][0], "percent")
    # 环比: October against September, same days
    pv = page.page_view(SEARCH + "&compare=pop", "records")
    row = page.kpi_values(pv).iloc[0]
    prev = q(["discharges"], start=dt.date(2026, 9, 1), end=dt.date(2026, 9, 30))
    assert row["discharges:pop"] == prev["discharges"][0]


def test_department_filter_applies_to_cards(page):
    _, kpis = page.render_kpis(SEARCH + "&dept=D0116", "/theme/records")
    ref = q(["discharges"], start=START, end=END, where={"department": ["D0116"]})
    assert card_value(find(kpis, "theme-kpi-value-discharges")) == fmt_number(
        ref["discharges"][0], "integer")


def test_table_and_ranking_by_level(page):
    panels = page.render(SEARCH + "&metric=discharges&dept=D0116&by=team", "/theme/records")
    table = find(panels[5], "theme-table-records")
    ref = q(["discharges"], by=["team"], start=START, end=END,
            where={"department": ["D0116"]})
    assert sorted(r["team"] for r in table.data) == sorted(ref["team"])
    top = find(panels[3], "theme-rank-top").figure
    assert set(top.data[0].customdata) <= set(ref["team"])


def test_clicks_write_the_url(page):
    cs = page.click_search
    assert cs(SEARCH, "records", "theme-dept-graph", "D0116") == \
        "?date=2026-10-15&by=team&dept=D0116"
    # a second click on the selected department clears it
    assert cs(SEARCH + "&dept=D0116&by=team", "records", "theme-dept-graph", "D0116") == \
        "?date=2026-10-15"
    assert cs(SEARCH + "&dept=D0116&by=team", "records", "theme-rank-top", "D0116T01") == \
        "?date=2026-10-15&by=doctor&dept=D0116&team=D0116T01"
    assert cs(SEARCH, "records", "theme-campus-graph", "C02") == "?date=2026-10-15&campus=C02"
    assert cs(SEARCH, "revenue", "theme-metric", "drug_revenue_ratio") == \
        "?date=2026-10-15&metric=drug_revenue_ratio"
    assert cs(SEARCH, "records", "theme-by", "doctor") == "?date=2026-10-15&by=doctor"
    # revenue has no team level: a department click does not ask for teams
    assert cs(SEARCH, "revenue", "theme-dept-graph", "D0116") == "?date=2026-10-15&dept=D0116"


def test_dept_head_sees_only_their_departments(page):
    set_current(User("head", "dept_head", departments=("D0116", "D0101")))
    try:
        panels = page.render(SEARCH + "&metric=discharges", "/theme/records")
        dept = find(panels[2], "theme-dept-graph").figure
        assert set(dept.data[0].customdata) <= {"D0116", "D0101"}
        table = find(panels[5], "theme-table-records")
        assert {r["department"] for r in table.data} <= {"D0116", "D0101"}
        _, kpis = page.render_kpis(SEARCH, "/theme/records")
        ref = q(["discharges"], start=START, end=END, where={"department": ["D0116", "D0101"]})
        assert card_value(find(kpis, "theme-kpi-value-discharges")) == fmt_number(
            ref["discharges"][0], "integer")
    finally:
        set_current(User("director", "leader"))
