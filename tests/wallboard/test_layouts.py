"""The wallboard's pages built in-process: numbers equal `metrics.service.query`, the network
is a plain scatter (no basemap), rankings scroll when long, targets attainment equals the
query (目标未下达 without a target), reserved panels show no numbers, a campus-limited kiosk
sees its campus."""
from __future__ import annotations

import re

import pytest

from cockpit.auth import User, set_current
from cockpit.formatting import fmt_number

from .conftest import copy_db


@pytest.fixture(scope="module")
def lay(wb_golden, tmp_path_factory):
    from cockpit import data
    from cockpit.server import build

    db = copy_db(wb_golden, tmp_path_factory.mktemp("wb-layouts"))
    build(str(db), start_jobs=False)
    set_current(User("director", "leader"))
    from wallboard import layouts

    yield layouts, data
    set_current(None)


def walk(node):
    yield node
    kids = getattr(node, "children", None)
    for k in kids if isinstance(kids, (list, tuple)) else [kids]:
        if k is not None and not isinstance(k, (str, int, float)):
            yield from walk(k)


def find(node, id_):
    return next((n for n in walk(node) if getattr(n, "id", None) == id_), None)


def nums(node):
    return [n for n in walk(node) if "wb-num" in (getattr(n, "className", "") or "")]


def test_live_strip_equals_the_query(lay):
    layouts, data = lay
    from metrics.service import query

    now = data.now()
    tiles = html_root(layouts.live_strip(None, now))
    ref = query(["opd_ed_visits", "ed_visits"], start=now.date(), end=now.date(),
                where={"campus": ["C01", "C02"]}, as_of=now, wh=data.warehouse(),
                model=data.model())
    opd = nums(find(tiles, "wallboard-tile-opd_ed_visits"))[0]
    assert opd.children == fmt_number(ref["opd_ed_visits"][0], "integer")
    assert float(getattr(opd, "data-value")) == float(ref["opd_ed_visits"][0])
    assert len(tiles.children) == 6
    # every number is a number or an explicit "—" (never a blank)
    for n in nums(tiles):
        assert n.children and (n.children == "—") == (getattr(n, "data-value") == "")


def html_root(children):
    from dash import html

    return html.Div(children)


def test_network_is_a_plain_scatter(lay):
    layouts, data = lay
    fig = layouts.network_figure(None, data.now(), 800, 500)
    assert {t.type for t in fig.data} == {"scatter"}          # no scattergeo, no map tiles
    assert not fig.layout.xaxis.visible and not fig.layout.yaxis.visible
    assert "geo" not in fig.to_plotly_json()["layout"] and "mapbox" not in str(fig.layout)
    names = {t.name for t in fig.data if t.name}
    assert names == {"本部", "分院区", "医联体"}
    # direction kept: the alliance member in Guizhou lies south-east of the main campus
    pts = {c: (x, y) for t in fig.data if t.customdata is not None
           for c, x, y in zip(t.customdata, t.x, t.y)}
    assert pts["C04"][1] < pts["C01"][1] and pts["C04"][0] > pts["C01"][0]


def test_rankings_scroll_when_long(lay):
    layouts, data = lay
    now = data.now()
    short = layouts.ranking("discharges", "month", None, now, visible=50)
    long = layouts.ranking("discharges", "month", None, now, visible=2)
    assert "scrolling" not in short.children.className
    assert "scrolling" in long.children.className
    rows = int(getattr(long, "data-rows"))
    assert len(long.children.children) == 2 * rows + 1       # the list twice: a seamless loop
    # the leading departments only: a long wall of rows is DOM rebuilt every minute
    capped = layouts.ranking("discharges", "month", None, now, visible=2, top_n=3)
    assert int(getattr(capped, "data-rows")) == 3 < rows
    values = [float(getattr(n, "data-value")) for n in nums(capped)][:3]
    assert values == sorted(values, reverse=True)
    assert rows <= layouts.RANK_TOP
    # a name shared by several campuses carries its campus apart from the (cut) name
    tags = [n.children for n in walk(long) if getattr(n, "className", "") == "wb-rank-campus"]
    shared = {name for name, tag in layouts.dept_names().values() if tag}
    assert not shared or tags


def test_trend_compares_with_last_year(lay):
    """The trends' 去年同期 line is the same periods a year before (`:yoy`), not the current
    line drawn twice."""
    from metrics.service import query

    layouts, data = lay
    now = data.now()
    fig = layouts.trend_panel_figure("discharges", "day", None, now, 890, 286)
    lines = {t.name: [v for v in t.y] for t in fig.data if t.name}
    cur = next(v for k, v in lines.items() if "去年同期" not in k)
    last = next(v for k, v in lines.items() if "去年同期" in k)
    assert cur != last
    start = now.date() - __import__("datetime").timedelta(days=30)
    ref = query(["discharges:yoy"], grain="day", start=start,
                end=now.date() - __import__("datetime").timedelta(days=1),
                where={"campus": layouts.hospital_campuses()}, as_of=now,
                wh=data.warehouse(), model=data.model())
    # a year before the warehouse's history starts the value is unknown (a gap), not 0
    from cockpit.freshness import oldest_rows, tables_of

    first = max(oldest_rows()[t] for t in tables_of(["discharges"])).date()
    want = [float("nan") if layouts._year_before(p) < first or v != v else v
            for p, v in zip(ref["period"], ref["discharges:yoy"])]
    assert [float("nan") if v is None else v for v in last] == pytest.approx(want, nan_ok=True)
    assert any(w != w for w in want) or first.year < now.year - 1


def test_a_site_without_a_feed_shows_a_dash_not_zero(lay, monkeypatch):
    """A campus that delivered no operations in the last four weeks (an alliance member
    without a surgery feed) shows "—" for today's operations; a fed campus with none today
    shows 0."""
    layouts, data = lay
    import datetime as dt

    now = data.now()
    ids = [c["id"] for c in layouts.campuses()]
    # asked with visits, as the network page does: the answer fills a campus's missing
    # operations with 0, which must not pass for a count
    got = layouts.today_by_campus(["opd_ed_visits", "surgeries_all"], ids, now)
    from metrics.service import query

    recent = query(["surgeries_all"], by=["campus"], start=now.date() - dt.timedelta(days=28),
                   end=now.date(), where={"campus": ids}, as_of=now, wh=data.warehouse(),
                   model=data.model())
    fed = {c for c, v in zip(recent["campus"], recent["surgeries_all"]) if v}
    assert set(ids) - fed, "the demo has sites without operations"
    for c in ids:
        v = got[c]["surgeries_all"]
        assert (v is None) == (c not in fed), (c, v)


def test_targets_attainment_equals_the_query_and_no_target_says_so(lay, monkeypatch):
    """The demo sets this year's targets (targets/demo.py): each bar's number is the YTD
    `:attainment` of the hospital view; a metric without a target (CMI here) says
    目标未下达 and shows no invented number."""
    layouts, data = lay
    from metrics.service import query

    monkeypatch.setattr(layouts, "TARGET_METRICS", layouts.TARGET_METRICS + ["cmi"])
    now = data.now()
    panel = layouts.targets_panel(None, now)
    ids = [m for m in layouts.TARGET_METRICS if m != "cmi"]
    ref = query([f"{m}:attainment" for m in ids], start=now.date().replace(month=1, day=1),
                end=now.date(), where={"campus": layouts.hospital_campuses()}, as_of=now,
                wh=data.warehouse(), model=data.model())
    shown = [float(getattr(n, "data-value")) for n in nums(panel)]
    assert shown == pytest.approx([round(float(ref[f"{m}:attainment"][0]), 6) for m in ids])
    rows = [r for r in walk(panel) if getattr(r, "className", "") == "wb-target-row"]
    assert len(rows) == len(ids) + 1 and "目标未下达" in str(rows[-1]) and not nums(rows[-1])


def test_reserved_room_has_no_numbers(lay):
    layouts, data = lay
    page = html_root(layouts.page_overview(None, data.now()))
    for key in ("alerts", "forecast"):
        sec = find(page, f"wallboard-sec-{key}")
        assert "建设中" in str(sec)
        assert not nums(sec) and not re.search(r"\d", "".join(
            c for n in walk(sec) for c in ([n] if isinstance(n, str) else
                                           [n.children] if isinstance(getattr(n, "children", None), str) else [])))


def test_every_page_builds(lay):
    layouts, data = lay
    for name, build_page in layouts.PAGE_BUILDERS.items():
        assert build_page(None, data.now()), name
        assert build_page("C02", data.now()), name


def test_campus_kiosk_scope(lay):
    layouts, data = lay
    from wallboard.tokens import KioskUser

    depts = tuple(r[0] for r in data.warehouse().query_rows(
        "SELECT dept_id FROM dim_department WHERE campus_id = 'C02'"))
    set_current(KioskUser("kiosk:x", "viewer", "x", depts, campus="C02"))
    try:
        rank = layouts.ranking("discharges", "month", "C02", data.now(), visible=50)
        names = [n.children for n in walk(rank)
                 if getattr(n, "className", "") == "wb-rank-text"]
        c02 = {layouts.dept_names()[d][0] for d in depts}
        assert names and set(names) <= c02
        # the other campuses are outside this screen's scope: unknown ("—"), never 0
        nets = {c: v for c, v in layouts.today_by_campus(
            ["opd_ed_visits"], [c["id"] for c in layouts.campuses()], data.now()).items()}
        assert nets["C02"]["opd_ed_visits"] and all(
            v["opd_ed_visits"] is None for c, v in nets.items() if c != "C02")
        cards = html_root(layouts.page_network("C02", data.now()))
        other = find(cards, "wallboard-campus-C01")
        assert [getattr(n, "data-value") for n in nums(other)] == ["", "", ""]
    finally:
        set_current(User("director", "leader"))


def test_scheduled_surgeries_is_the_whole_days_schedule_and_scoped(lay):
    """`surgeries_scheduled` for today counts the operations scheduled later today too (asked
    as of the end of the day), never fewer than those done so far; a scope narrows it."""
    import datetime as dt

    layouts, data = lay
    from metrics.service import query

    now = data.now()
    today = now.date()
    hospital = {"campus": layouts.hospital_campuses()}
    whole = query(["surgeries_scheduled"], start=today, end=today, where=hospital,
                  as_of=dt.datetime.combine(today, dt.time(23, 59, 59)), wh=data.warehouse(),
                  model=data.model())["surgeries_scheduled"][0]
    so_far = query(["surgeries_scheduled", "surgeries_all"], start=today, end=today,
                   where=hospital, as_of=now, wh=data.warehouse(), model=data.model())
    assert layouts.scheduled_surgeries(None, now) == whole
    assert whole >= so_far["surgeries_scheduled"][0] >= so_far["surgeries_all"][0]
    set_current(User("head", "dept_head", departments=("D_NONE",)))
    try:
        assert not layouts.scheduled_surgeries(None, now)  # nothing in scope: 0 or none
    finally:
        set_current(User("director", "leader"))


def test_schematic_keeps_directions_and_separates_sites():
    """Sites in nearly the same direction (Chongqing and Guizhou from Chengdu) are spread at
    least MIN_GAP apart, keep their order around the circle, and sit on rings by distance."""
    import math

    from wallboard.layouts import MIN_GAP, schematic, spread

    rows = [dict(id="M", lat=30.66, lon=104.06), dict(id="B", lat=30.57, lon=104.07),
            dict(id="CQ", lat=29.56, lon=106.55), dict(id="GZ", lat=29.40, lon=106.70),
            dict(id="YN", lat=25.04, lon=102.71), dict(id="XZ", lat=29.65, lon=91.13)]
    pos = schematic(rows, rows[0])
    assert pos["M"] == (0.0, 0.0)
    radius = {k: math.hypot(*v) for k, v in pos.items()}
    assert radius["B"] < radius["CQ"] < radius["GZ"] < radius["YN"] < radius["XZ"]
    assert pos["XZ"][0] < 0 < pos["CQ"][0] and pos["YN"][1] < 0      # west, east, south
    angles = sorted(math.atan2(y, x) for k, (x, y) in pos.items() if k != "M")
    gaps = [(b - a) % (2 * math.pi) for a, b in zip(angles, angles[1:] + angles[:1])]
    assert min(gaps) >= MIN_GAP - 1e-6
    assert spread([0.0, 0.01]) != [0.0, 0.01] and spread([0.0, math.pi]) == [0.0, math.pi]


def test_pages_are_sent_as_few_components(lay):
    """Each page goes to the browser as a few dozen components (blocks without a graph as
    HTML in one component each), with every graph still a graph and every number still a
    `wb-num` with its value: Dash's renderer revisits every component on each callback."""
    from dash import dcc

    from wallboard.rawhtml import compact, count

    layouts, data = lay
    now = data.now()

    def graphs(node):
        return [n.id for n in walk(node) if isinstance(n, dcc.Graph)]

    for name, build_page in layouts.PAGE_BUILDERS.items():
        whole = html_root(build_page(None, now))
        small = compact(html_root(build_page(None, now)))
        assert count(small) <= 40 < count(whole) or count(whole) <= 40, name
        assert graphs(small) == graphs(whole), name
        text = "".join(n.children for n in walk(small) if isinstance(n, dcc.Markdown))
        for num in nums(whole):
            assert f'data-value="{getattr(num, "data-value")}"' in text, (name, num)


def test_a_label_goes_where_no_other_site_is():
    """Labels point outward unless another site sits on that side: the branch campus just
    below the main one, with a member to its right, takes its label on the left."""
    from wallboard.layouts import label_side

    pos = {"M": (0.0, 0.0), "B": (0.04, -1.0), "GZ": (1.36, -1.6), "XZ": (-3.2, -0.3),
           "CQ": (1.5, -0.3)}
    assert label_side(pos, "B") == "middle left"
    assert label_side(pos, "XZ") == "middle left" and label_side(pos, "CQ") == "middle right"
    pos["GZ"], pos["CQ"] = (3.0, -2.5), (3.0, 0.5)  # far away: outward again
    assert label_side(pos, "B") == "middle right"
