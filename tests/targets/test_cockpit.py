"""End to end on the tiny demo hospital: targets set and cascaded with the CLI, then
`cockpit query --metric medical_revenue:attainment --by department`; and the targets page:
the tree and off-track list, editing for leaders only, and a department head who can neither
edit nor see (nor export) other departments' targets, in the UI callbacks and by direct call."""
from __future__ import annotations

import datetime as dt
import io
import json
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from cockpit.auth import User, set_current
from warehouse.errors import AccessDenied

AS_OF = dt.datetime(2026, 11, 25, 10, 0)
LEADER = User("director", "leader")
HEAD = User("head", "dept_head", departments=("D0111",))
SEARCH = "?metric=medical_revenue&year=2026"


def cli(*args):
    from cockpit.cli import _register_all, app

    _register_all()
    r = CliRunner().invoke(app, list(args))
    assert r.exit_code == 0, r.output + repr(r.exception)
    return r.output


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from cockpit.commands.demo import build_demo

    db = str(tmp_path_factory.mktemp("targets") / "demo.duckdb")
    build_demo(db, "tiny", 42, as_of=AS_OF)
    cli("targets", "set", "medical_revenue", "--year", "2026", "--value", "40000000",
        "--reserve", "1000000", "--db", db)
    cli("targets", "cascade", "medical_revenue", "--year", "2026", "--to", "department",
        "--method", "equal", "--hold", "D0101=2000000", "--db", db)
    cli("targets", "cascade", "medical_revenue", "--year", "2026", "--from", "D0111", "--to",
        "team", "--method", "equal", "--db", db)
    return db


def test_query_attainment_by_department_end_to_end(demo):
    out = cli("query", "--metric", "medical_revenue:attainment", "--metric", "medical_revenue",
              "--metric", "medical_revenue:target_to_date", "--by", "department",
              "--from", "2026-01-01", "--to", "2026-11-25", "--as-of", "2026-11-25 10:00",
              "--format", "json", "--db", demo)
    rows = json.loads(out)
    assert len(rows) == 116 and all(r["medical_revenue:attainment"] is not None for r in rows)
    for r in rows:
        assert r["medical_revenue:attainment"] == pytest.approx(
            r["medical_revenue"] / r["medical_revenue:target_to_date"])
    d0101 = next(r for r in rows if r["department"] == "D0101")
    # D0101 is held at 2,000,000, phased by the calendar profile: about 89 % by 25 November
    assert 0.85 * 2e6 < d0101["medical_revenue:target_to_date"] < 0.93 * 2e6
    out = cli("query", "--metric", "revenue_target_attainment", "--from", "2026-01-01",
              "--to", "2026-11-25", "--as-of", "2026-11-25 10:00", "--format", "json",
              "--db", demo)
    assert json.loads(out)[0]["revenue_target_attainment"] > 0


@pytest.fixture(scope="module")
def page(demo):
    from cockpit import data
    from cockpit.server import build

    build(demo, start_jobs=False)
    mp = pytest.MonkeyPatch()
    mp.setattr(data, "now", lambda: AS_OF)
    set_current(LEADER)
    yield sys.modules["pages.targets"]
    set_current(None)
    mp.undo()
    data.warehouse().close()


@pytest.fixture()
def head():
    set_current(HEAD)
    yield
    set_current(LEADER)


def ids(node, out=None):
    out = set() if out is None else out
    if getattr(node, "id", None) is not None and isinstance(node.id, str):
        out.add(node.id)
    kids = getattr(node, "children", None)
    for k in kids if isinstance(kids, (list, tuple)) else [kids]:
        if k is not None and not isinstance(k, (str, int, float)):
            ids(k, out)
    return out


def test_layout_and_registration(page):
    import dash

    reg = next(p for p in dash.page_registry.values() if p["module"] == "pages.targets")
    assert (reg["path"], reg["order"], reg["title_key"]) == ("/targets", 40, "nav_targets")
    assert {"targets-tree", "targets-offtrack", "targets-editor", "targets-metric"} <= \
        ids(page.layout())


def test_leader_sees_the_tree_and_the_editor(page):
    tree, off = page.render_tree(SEARCH)
    rows = {i for i in ids(tree) if i.startswith("targets-row-")}
    assert {"targets-row-hospital", "targets-row-D0101", "targets-row-D0111",
            "targets-row-D0111T01"} <= rows
    assert "targets-offtrack-table" in ids(off)
    assert page.render_editor(SEARCH) is not None


def test_head_sees_only_their_department(page, head):
    tree, off = page.render_tree(SEARCH)
    rows = {i for i in ids(tree) if i.startswith("targets-row-")}
    assert rows and all(r.startswith("targets-row-D0111") for r in rows)
    assert not any(r.startswith("targets-row-D0101") for r in ids(off))
    assert page.render_editor(SEARCH) is None
    frame = pd.read_csv(io.StringIO(page.export_file("csv", SEARCH)["content"]))
    assert len(frame) and set(frame["node_id"].str[:5]) == {"D0111"}


def test_head_cannot_edit_in_the_ui(page, head):
    from targets.store import history

    from cockpit import data

    before = len(history(data.warehouse(), "medical_revenue", 2026))
    msg, version = page.save_target(1, SEARCH, "D0101", 1.0, [], 0)
    assert "无权" in str(msg) and version is page.no_update
    msg, _ = page.run_cascade(1, SEARCH, "hospital", "department", "equal", None, [], 0)
    assert "无权" in str(msg)
    assert len(history(data.warehouse(), "medical_revenue", 2026)) == before
    denied = data.warehouse().query_df("SELECT * FROM _audit WHERE action = 'denied'")
    assert len(denied) >= 2


def test_head_direct_requests_are_refused(page):
    from cockpit import data
    from targets.cascade import cascade
    from targets.progress import progress
    from targets.store import check_view, current, set_target

    wh = data.warehouse()
    with pytest.raises(AccessDenied):
        set_target(wh, "medical_revenue", 2026, "D0111", 1.0, user=HEAD, phase=False)
    with pytest.raises(AccessDenied):
        cascade(wh, "medical_revenue", 2026, user=HEAD, phase=False)
    with pytest.raises(AccessDenied):
        check_view(wh, HEAD, ["D0101"])
    with pytest.raises(AccessDenied):
        progress(wh, "medical_revenue", 2026, AS_OF, "team", parent="D0101", user=HEAD)
    mine = current(wh, "medical_revenue", 2026, user=HEAD)
    assert set(mine["node_id"]) == {"D0111"} | {n for n in mine["node_id"] if
                                               n.startswith("D0111T")}
    assert set(progress(wh, "medical_revenue", 2026, AS_OF, "department",
                        user=HEAD)["node_id"]) == {"D0111"}
    audit = wh.query_df("SELECT action FROM _target_audit WHERE NOT allowed")
    assert {"target_edit_denied", "target_view_denied"} <= set(audit["action"])


def test_leader_edits_with_a_hold(page):
    from cockpit import data
    from targets.store import current

    msg, version = page.save_target(1, SEARCH, "D0102", 3_000_000, ["lock"], 0)
    assert version == 1, str(msg)
    msg, version = page.run_cascade(1, SEARCH, "hospital", "department", "equal", 1_000_000,
                                    ["D0101"], version)
    assert version == 2, str(msg)
    cur = current(data.warehouse(), "medical_revenue", 2026).set_index("node_id")
    assert cur.loc["D0101", "value"] == 2_000_000 and cur.loc["D0102", "value"] == 3_000_000
    depts = cur[cur["node_level"] == "department"]["value"].sum()
    assert depts + 1_000_000 == 40_000_000


def test_the_tree_is_cached_per_scope_until_a_target_changes(page, monkeypatch):
    """The tree's progress goes through the result cache: opening it again computes nothing,
    another scope computes its own, and an edit (a new target version) shows at once."""
    import targets.progress as tp

    calls = []
    real = tp.progress
    monkeypatch.setattr(tp, "progress", lambda *a, **k: calls.append(a) or real(*a, **k))
    page.tree_frame("medical_revenue", 2026, LEADER)
    n = len(calls)
    first = page.tree_frame("medical_revenue", 2026, LEADER).set_index("node_id")
    assert len(calls) == n  # served from the cache
    mine = page.tree_frame("medical_revenue", 2026, HEAD)
    assert len(calls) > n and set(mine["node_id"].str[:5]) == {"D0111"}
    before = first.loc["D0103", "target"]
    msg, _ = page.save_target(1, SEARCH, "D0103", 2_345_678, [], 0)
    after = page.tree_frame("medical_revenue", 2026, LEADER).set_index("node_id")
    assert after.loc["D0103", "target"] == 2_345_678 != before, str(msg)


def test_implied_ratio_of_direct_targets_on_the_page(page, demo):
    """Direct ALOS targets (the demo's, no numerator or denominator targets): the page states
    the ratio they imply for the hospital, each weighted by its actual discharges, and flags
    it against a hospital target it misses (↓: an implied ALOS above 3 days)."""
    from cockpit import data
    from targets.rollup import ratio_check
    from targets.store import set_target

    set_target(data.warehouse(), "alos", 2026, "hospital", 3, phase=False)
    check = ratio_check(data.warehouse(), "alos", 2026).set_index("node_id")
    h = check.loc["hospital"]
    assert h["weighted"] > 1 and h["implied"] > 3 and bool(h["flag"])
    shown = page.checks("alos", 2026, "zh")
    text = " ".join(str(c.children) for c in shown)
    from cockpit.formatting import fmt_number

    shown_value = fmt_number(h["implied"], data.model().metrics["alos"].format, "zh")
    assert f"下级合计推算比率 {shown_value}，全院目标 3" in text, text
    assert f"其中 {int(h['weighted'])} 个直接比率目标按实际分母加权" in text, text
    assert any("flag" in c.className for c in shown)


def test_leader_sets_a_band_and_a_ratios_parts_in_the_editor(page):
    """The editor sets a band (lo … hi), a ratio's numerator and denominator (declared
    seasonal), and cascades a part by clinic sessions with the remainder to a chosen child."""
    from cockpit import data
    from targets.store import current

    wh = data.warehouse()
    occ = "?metric=bed_occupancy_rate&year=2026"
    msg, _ = page.save_target(1, occ, "D0111", None, ["lock"], 0, "value", 0.85, 0.93)
    rec = current(wh, "bed_occupancy_rate", 2026).set_index("node_id").loc["D0111"]
    assert (rec["lo"], rec["hi"], bool(rec["locked"])) == (0.85, 0.93, True), str(msg)
    drug = "?metric=drug_revenue_ratio&year=2026"
    assert {"targets-component", "targets-lo", "targets-hi", "targets-cascade-component",
            "targets-remainder"} <= ids(page.render_editor(drug))
    page.save_target(1, drug, "hospital", 3_000_000, ["seasonal"], 0, "numerator")
    page.save_target(1, drug, "hospital", 10_000_000, [], 0, "denominator")
    cur = current(wh, "drug_revenue_ratio", 2026).set_index(["component", "node_id"])
    assert cur.loc[("numerator", "hospital"), "value"] == 3_000_000
    assert bool(cur.loc[("numerator", "hospital"), "seasonal"])
    msg, v = page.run_cascade(1, drug, "hospital", "department", "capacity_sessions", 1001,
                              [], 0, "numerator", "D0111")
    assert v == 1, str(msg)
    from targets.store import history

    params = json.loads(history(wh, "drug_revenue_ratio", 2026)["params"].iloc[-1])
    assert (params["method"], params["capacity"], params["component"],
            params["remainder_to"]) == ("capacity", "sessions", "numerator", "D0111")
    depts = current(wh, "drug_revenue_ratio", 2026)
    depts = depts[(depts["component"] == "numerator") & (depts["node_level"] == "department")]
    assert depts["value"].sum() + 1001 == 3_000_000  # children + reserve = parent, exactly
