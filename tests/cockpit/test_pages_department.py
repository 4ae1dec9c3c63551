"""科室 page: tiles equal `metrics.service.query` for the department, teams and the discipline
ranking come from the same queries, clicks write the URL, and a dept_head sees only their
departments (and no ranking built from them alone)."""
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
LEADER = User("director", "leader")
HEAD = User("head", "dept_head", departments=("D0116", "D0211"))


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from cockpit import data
    from cockpit.commands.demo import build_demo
    from cockpit.server import build

    db = str(tmp_path_factory.mktemp("department") / "dp.duckdb")
    build_demo(db, "tiny", 42, as_of=AS_OF)
    build(db, start_jobs=False)
    mp = pytest.MonkeyPatch()
    mp.setattr(data, "now", lambda: AS_OF)
    set_current(LEADER)
    yield sys.modules["pages.department"]
    set_current(None)
    mp.undo()


@pytest.fixture()
def head():
    set_current(HEAD)
    yield
    set_current(LEADER)


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

    return query(metrics, wh=data.warehouse(), model=data.model(), **kw)


def test_layout_ids(page):
    tree = page.layout()
    for id_ in ("department-select", "department-kpis", "department-teams",
                "department-rank", "department-trend"):
        assert find(tree, id_) is not None


def test_leader_lands_on_first_ward_department(page):
    dept, denied = page.resolve_dept(page.state.from_search(SEARCH))
    d = page.departments()
    assert not denied and bool(d[d["dept_id"] == dept]["has_ward"].iloc[0])


def test_tiles_equal_the_query(page):
    got = page.render_kpis(SEARCH + "&dept=D0116")
    ref = q(["discharges", "alos", "cmi"], start=START, end=END,
            where={"department": ["D0116"]})
    assert ref["discharges"][0] > 0
    assert card_value(find(got, "department-kpi-discharges")) == fmt_number(
        ref["discharges"][0], "integer")
    assert card_value(find(got, "department-kpi-alos")) == fmt_number(ref["alos"][0], "decimal2")
    assert card_value(find(got, "department-kpi-cmi")) == fmt_number(ref["cmi"][0], "decimal2")


def test_teams_table(page):
    got = page.render_teams(SEARCH + "&dept=D0116")
    table = find(got, "department-teams-table")
    ref = q(["discharges"], by=["team"], start=START, end=END, where={"department": ["D0116"]})
    assert sorted(r["discharges"] for r in table.data) == sorted(
        fmt_number(v, "integer") for v in ref["discharges"])


def test_team_drill_shows_doctors(page):
    got = page.render_doctors(SEARCH + "&dept=D0116&team=D0116T01")
    assert find(got, "department-doctors-table") is not None
    assert page.render_doctors(SEARCH + "&dept=D0116") is None


def test_rank_among_the_discipline(page):
    frame, discipline = page.ranking("D0116", page.state.from_search(SEARCH))
    d = page.departments()
    peers = set(d[d["discipline"] == discipline]["dept_id"])
    assert set(frame["department"]) == peers and len(peers) > 1
    ref = q(["cmi"], by=["department"], start=START, end=END,
            where={"discipline": [discipline]}).dropna()
    best = ref.sort_values("cmi", ascending=False)["department"].iloc[0]
    assert frame[frame["department"] == best]["cmi__rank"].iloc[0] == 1
    got = page.render_rank(SEARCH + "&dept=D0116")
    assert find(got, "department-rank-table") is not None


def test_clicks_write_the_url(page):
    assert page.on_team_click({"points": [{"customdata": "D0116T01"}]},
                              SEARCH + "&dept=D0116") == \
        "?date=2026-10-15&dept=D0116&team=D0116T01"
    assert page.on_rank_click({"points": [{"customdata": "D0211"}]}, SEARCH + "&dept=D0116") \
        == "?date=2026-10-15&dept=D0211"
    assert page.on_select("D0125", SEARCH + "&dept=D0116&team=D0116T01") == \
        "?date=2026-10-15&dept=D0125"


def test_dept_head_lands_on_their_department(page, head):
    label, opts, value, info, note, _ = page.render_head(SEARCH)
    assert value == "D0116" and {o["value"] for o in opts} == {"D0116", "D0211"}
    # a department outside the scope in the URL falls back to theirs, with a note
    _, _, value, _, note, _ = page.render_head(SEARCH + "&dept=D0125")
    assert value == "D0116" and note


def test_dept_head_tiles_are_scoped(page, head):
    got = page.render_kpis(SEARCH + "&dept=D0211")
    ref = q(["discharges"], start=START, end=END, where={"department": ["D0211"]},
            scope=frozenset(HEAD.departments))
    assert card_value(find(got, "department-kpi-discharges")) == fmt_number(
        ref["discharges"][0], "integer")


def test_dept_head_gets_no_partial_ranking(page, head):
    got = page.render_rank(SEARCH)
    assert find(got, "department-rank-denied") is not None
    assert find(got, "department-rank-table") is None


def _cells(row) -> list[str]:
    out = []
    for td in row.children:
        kid = td.children
        if hasattr(kid, "children") and not isinstance(kid, str):  # a link or a progress bar
            kid = kid.children
            if isinstance(kid, list):  # the bar: [track, label]
                kid = kid[-1].children
        out.append(kid)
    return out


def test_targets_panel_shows_the_department_and_its_teams(page):
    """The demo sets this year's targets (targets/demo.py); the panel's department row and team
    rows are `targets.progress` for the same nodes, formatted as everywhere."""
    from cockpit import data
    from targets.progress import progress

    got = page.render_targets(SEARCH + "&dept=D0116")
    row = find(got, "department-target-discharges")
    assert row is not None, "discharges has a demo target on every ward department"
    ref = progress(data.warehouse(), "discharges", AS_OF.year, AS_OF, "department",
                   model=data.model()).set_index("node_id").loc["D0116"]
    cells = _cells(row)
    assert cells[1:5] == [fmt_number(ref["target"], "integer"),
                          fmt_number(ref["target_to_date"], "integer"),
                          fmt_number(ref["phased_progress"], "percent"),
                          fmt_number(ref["actual"], "integer")]
    assert cells[5] == fmt_number(ref["completion"], "percent")
    gap, pct = fmt_number(ref["gap"], "integer"), fmt_number(ref["gap_pct"], "percent")
    assert cells[6] == f"{gap}（{pct}）"
    teams = progress(data.warehouse(), "discharges", AS_OF.year, AS_OF, "team", "D0116",
                     model=data.model())
    for tid, target in zip(teams["node_id"], teams["target"]):
        team_row = find(got, f"department-target-discharges-{tid}")
        assert team_row is not None and _cells(team_row)[1] == fmt_number(target, "integer")
    assert sum(teams["target"]) == ref["target"]  # teams split the department exactly
    # revenue counts by department only: a department row, no team rows
    assert find(got, "department-target-medical_revenue") is not None
    assert not [i for i in _ids(got) if i.startswith("department-target-medical_revenue-")]


def _ids(node) -> list[str]:
    out = [node.id] if isinstance(getattr(node, "id", None), str) else []
    kids = getattr(node, "children", None)
    for k in kids if isinstance(kids, (list, tuple)) else [kids]:
        if k is not None and not isinstance(k, (str, int, float)):
            out += _ids(k)
    return out


def test_tiles_show_the_phased_target_of_their_period(page):
    got = page.render_kpis(SEARCH + "&dept=D0116")
    ref = q(["discharges:target_to_date"], start=START, end=END,
            where={"department": ["D0116"]})
    card = find(got, "department-kpi-discharges")
    note = [c for c in card.children if "kpi-target" in (getattr(c, "className", "") or "")]
    assert note[0].children == "序时目标 " + fmt_number(
        ref["discharges:target_to_date"][0], "integer")
    cmi = find(got, "department-kpi-cmi")  # no target set for CMI in the demo
    assert [c.children for c in cmi.children
            if "kpi-target" in (getattr(c, "className", "") or "")] == ["目标未下达"]


def test_dept_head_sees_only_their_targets(page, head):
    got = page.render_targets(SEARCH + "&dept=D0211")
    ids = _ids(got)
    assert "department-target-discharges" in ids
    assert all(i.startswith(("department-target-", "department-targets")) for i in ids)
    # a department outside the scope in the URL falls back to theirs
    other = page.render_targets(SEARCH + "&dept=D0125")
    assert _ids(other) == _ids(page.render_targets(SEARCH + "&dept=D0116"))
