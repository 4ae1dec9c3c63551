"""DRG page: the drill hospital → MDC → group → department → team → case list through URL
parameters, with values equal to `metrics.service.query` for the same view; patient ids
masked for a viewer and not for finance; a dept_head sees only their departments in the
quadrant and in the case list."""
from __future__ import annotations

import datetime as dt
import sys

import pytest

from cockpit.auth import User, set_current
from cockpit.formatting import fmt_number
from metrics.service import query

AS_OF = dt.datetime(2026, 11, 25, 10, 0)
SEARCH = "?period=month&date=2026-10-15"
START, END = dt.date(2026, 10, 1), dt.date(2026, 10, 31)
FINANCE = User("fin", "finance")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from cockpit import data
    from cockpit.commands.demo import build_demo
    from cockpit.server import build

    db = str(tmp_path_factory.mktemp("drg") / "drg.duckdb")
    build_demo(db, "tiny", 42, as_of=AS_OF)
    build(db, start_jobs=False)
    mp = pytest.MonkeyPatch()
    mp.setattr(data, "now", lambda: AS_OF)
    set_current(FINANCE)
    yield sys.modules["pages.drg"]
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
    from cockpit import data

    return query(metrics, wh=data.warehouse(), model=data.model(), as_of=AS_OF, **kw)


def where_of(search: str, page) -> dict:
    return page.where_of(page.page_view(search))


def test_layout_ids(page):
    tree = page.layout()
    for id_ in ("drg-kpis", "drg-drill", "drg-quadrant", "drg-structure", "drg-bridge",
                "drg-pareto", "drg-cases", "drg-cases-download"):
        assert find(tree, id_) is not None


def test_drill_from_hospital_to_case_list(page):
    search = SEARCH
    expected = ["mdc", "drg", "dept", "team"]
    for param in expected:
        pv = page.page_view(search)
        assert page.next_level(pv) == param
        where = page.where_of(pv)
        # the KPI cards are the query's numbers for this selection
        _, _, kpis = page.render_kpis(search, "/drg")
        ref = q(["drg_balance", "cmi"], start=START, end=END, where=where)
        assert card_value(find(kpis, "drg-kpi-drg_balance")) == fmt_number(
            ref["drg_balance"][0], "yuan")
        assert card_value(find(kpis, "drg-kpi-cmi")) == fmt_number(ref["cmi"][0], "decimal2")
        # the drill bars are the next level's balances
        level = page.level_frame(pv)
        dim = page.dim_of(param)
        ref_level = q(["drg_balance"], by=[dim], start=START, end=END, where=where)
        assert level[dim].tolist() == ref_level[dim].tolist()
        assert level["drg_balance"].tolist() == pytest.approx(ref_level["drg_balance"].tolist())
        # click the level's busiest member
        pick = level.dropna(subset=[dim]).sort_values("drg_grouped_cases",
                                                      ascending=False)[dim].iloc[0]
        search = page.drill_search(search, "drill", pick)
        assert f"{param}={pick}" in search
    pv = page.page_view(search)
    assert page.next_level(pv) is None
    out = page.render(search, "/drg")
    table = find(out[6], "drg-cases-table")
    where = page.where_of(pv)
    ref = q(["drg_grouped_cases", "drg_balance"], start=START, end=END, where=where)
    assert len(table.data) == ref["drg_grouped_cases"][0] > 0
    cases, total = page.case_list(pv)
    assert total == len(cases) and cases["balance"].sum() == pytest.approx(
        ref["drg_balance"][0], abs=0.01)


def test_cost_structure_and_bridge_equal_the_metrics(page):
    for search in (SEARCH, SEARCH + "&mdc=F"):
        pv = page.page_view(search)
        tot = page.cost_totals(pv)
        ref = q(["drg_balance", "drg_payment_to_charge"], start=START, end=END,
                where=page.where_of(pv))
        assert tot["payment_standard"] - tot["total_cost"] == pytest.approx(
            ref["drg_balance"][0], abs=0.01)
        assert sum(tot[c] for c in page.COST_COLUMNS) == pytest.approx(tot["total_cost"],
                                                                        abs=0.05)
        assert tot["payment_standard"] / tot["total_cost"] == pytest.approx(
            ref["drg_payment_to_charge"][0])


def test_pareto_of_losses(page):
    frame = page.pareto_frame(page.page_view(SEARCH))
    assert (frame["drg_balance"] < 0).all() and frame["loss"].is_monotonic_decreasing
    ref = q(["drg_balance"], by=["drg"], start=START, end=END)
    assert frame["loss"].sum() == pytest.approx(-ref[ref["drg_balance"] < 0]["drg_balance"].sum())
    drg, mdc = frame["drg"].iloc[0], frame["mdc"].iloc[0]
    assert page.drill_search(SEARCH, "pareto", (mdc, drg)) == \
        f"?date=2026-10-15&drg={drg}&mdc={mdc}"


def test_quadrant_click_sets_department(page):
    out = page.quadrant_panel(page.page_view(SEARCH))
    fig = find(out, "drg-quadrant-graph").figure
    dept = fig.data[0].customdata[0]
    assert page.drill_search(SEARCH, "quadrant", dept) == f"?date=2026-10-15&dept={dept}"
    ref = q(["cmi"], by=["department"], start=START, end=END)
    assert set(fig.data[0].customdata) <= set(ref["department"])


def test_patient_ids_masked_by_role(page):
    pv = page.page_view(SEARCH + "&dept=D0116")
    raw, _ = page.case_list(pv)
    assert raw["patient_id"].str.match(r"^P\d+$").all()
    set_current(User("v", "viewer"))
    try:
        masked, _ = page.case_list(pv)
        assert masked["patient_id"].str.contains(r"\*\*\*").all()
        assert masked["admission_id"].tolist() == raw["admission_id"].tolist()
        shown = find(page.cases_panel(pv), "drg-cases-table").data
        assert all("***" in r["patient_id"] for r in shown)
    finally:
        set_current(FINANCE)


def test_dept_head_sees_only_their_departments(page):
    set_current(User("head", "dept_head", departments=("D0116",)))
    try:
        fig = find(page.quadrant_panel(page.page_view(SEARCH)), "drg-quadrant-graph").figure
        assert set(fig.data[0].customdata) <= {"D0116"}
        cases, _ = page.case_list(page.page_view(SEARCH + "&dept=D0116"))
        assert len(cases) and set(cases["department"]) == {"D0116"}
        other, total = page.case_list(page.page_view(SEARCH + "&dept=D0101"))
        assert total == 0 and other.empty
        tot = page.cost_totals(page.page_view(SEARCH))
        ref = q(["drg_balance"], start=START, end=END, scope={"D0116"})
        assert tot["payment_standard"] - tot["total_cost"] == pytest.approx(
            ref["drg_balance"][0], abs=0.01)
    finally:
        set_current(FINANCE)
