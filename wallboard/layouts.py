"""The wallboard's screens: a 1920×1080 design canvas (scaled to the screen by
`cockpit/assets/wallboard.js`, letterboxed) with a header, the live strip and the playlist's
pages stacked on top of each other (the visible one switched client-side, no reload).

Everything is sized in design pixels: figures get explicit widths and heights (no autosize,
the canvas is transformed as a whole), so the screen looks the same on a 1080p TV, a
3840×2160 splice wall and a laptop. Dark, high contrast, large digits, few words, Chinese.

Every number comes from `cockpit.data.q` (the user's or kiosk's scope, the result cache);
today's operating schedule (`surgeries_scheduled`) is asked as of the end of the day, since
the schedule runs ahead of now.
Every number is a `span.wb-num` carrying its raw value in `data-value`, so the asset JS can
animate it to the new value; a missing number is "—", never a silent zero.
"""
from __future__ import annotations

import datetime as dt
import logging
import math

import plotly.graph_objects as go
from dash import dcc, html

from cockpit import data
from cockpit.figures import graph_config, hourly_today_vs_baseline, palette, trend_figure
from cockpit.figures.theme import theme_layout
from cockpit.formatting import fmt_delta, fmt_number, to_float
from cockpit.target_views import tone as target_tone

log = logging.getLogger("wallboard")

W, H = 1920, 1080
THEME = "dark"
P = palette(THEME)

#: metrics whose year-to-date attainment the targets panel shows (those with a target)
TARGET_METRICS = ["medical_revenue", "opd_ed_visits", "discharges", "surgeries_all"]
#: the rankings of the departments page: (metric, span, title)
RANKINGS = [("opd_ed_visits", "today", "今日门急诊人次"),
            ("discharges", "month", "本月出院人次"),
            ("surgeries_all", "month", "本月手术台次")]
#: the trends page: (metric, grain, title)
TRENDS = [("opd_ed_visits", "day", "门急诊人次 · 近30天"),
          ("discharges", "day", "出院人次 · 近30天"),
          ("surgeries_all", "day", "手术台次 · 近30天"),
          ("medical_revenue", "month", "医疗收入 · 近12个月")]
TYPE_LABEL = {"main": "本部", "branch": "分院区", "alliance": "医联体"}
DASH = "—"


# -- the organisation ----------------------------------------------------------------------

def campuses() -> list[dict]:
    """dim_campus rows (id, name, type, city, lat, lon), cached per data version."""
    memo = data._state.setdefault("wallboard_campuses", {})
    key = data.data_version()
    if key not in memo:
        rows = data.warehouse().query_rows(
            "SELECT campus_id, campus_name, campus_type, city, latitude, longitude "
            "FROM dim_campus ORDER BY campus_id")
        memo.clear()
        memo[key] = [{"id": r[0], "name": r[1], "type": r[2], "city": r[3], "lat": r[4],
                      "lon": r[5]} for r in rows]
    return memo[key]


def hospital_campuses() -> list[str]:
    """The hospital view: main and branch campuses (alliance members apart)."""
    rows = campuses()
    return [c["id"] for c in rows if c["type"] in ("main", "branch")] or [c["id"] for c in rows]


def where_for(campus: str | None) -> dict:
    return {"campus": [campus] if campus else hospital_campuses()}


def scope_label(campus: str | None) -> str:
    if campus:
        return next((c["name"] for c in campuses() if c["id"] == campus), campus)
    names = [c["name"] for c in campuses() if c["type"] in ("main", "branch")]
    return "全院" + (f"（{'、'.join(short_name(n) for n in names)}）" if names else "")


def short_name(name: str) -> str:
    """示范医院天府院区 → 天府院区 (the hospital's own prefix adds nothing on its screen)."""
    for cut in ("医院",):
        i = name.find(cut)
        if 0 < i < len(name) - len(cut) and name.endswith("院区"):
            return name[i + len(cut):]
    return name


def site_label(c: dict) -> str:
    """On the network: a campus by its short name, an alliance member by its city (重庆, 拉萨:
    what the command centre calls them; the full name is long for a big-screen label)."""
    if c["type"] == "alliance" and c.get("city"):
        city = str(c["city"])
        return city[:-1] if len(city) > 2 and city.endswith("市") else city
    return short_name(c["name"])


def known(ids):
    return [m for m in ids if m in data.model().metrics]


def first(frame, col):
    if frame is None or frame.empty or col not in frame.columns:
        return None
    return to_float(frame[col].iloc[0])


# -- numbers -------------------------------------------------------------------------------

def num(value, fmt: str = "integer", cls: str = "", key: str | None = None) -> html.Span:
    """A number that animates from the value it had on screen to the new one (asset JS; the
    screen's previous value is found by `key`, else by the nearest element id and position);
    missing → "—"."""
    v = to_float(value)
    text = fmt_number(v, fmt, "zh") if v is not None else DASH
    extra = {"data-key": key} if key else {}
    return html.Span(text, className=("wb-num " + cls).strip() + (" is-missing" if v is None
                                                                  else ""),
                     **{"data-value": "" if v is None else repr(round(v, 6))}, **extra)


def delta(cur, prev, fmt="integer", direction="up", label="较上周同日") -> html.Div:
    d = fmt_delta(cur, prev, fmt, direction, "zh")
    return html.Div([html.Span(d.text, className=f"wb-delta tone-{d.tone}"),
                     html.Span(label, className="wb-delta-label")], className="wb-sub")


def scheduled_surgeries(campus: str | None, now: dt.datetime) -> float | None:
    """Today's operating schedule (`surgeries_scheduled`: not cancelled, by scheduled time).
    The schedule runs ahead of now, so it is asked as of the end of the day."""
    today = now.date()
    frame = data.q(known(["surgeries_scheduled"]), start=today, end=today,
                   where=where_for(campus), as_of=dt.datetime.combine(today, dt.time(23, 59, 59)))
    return first(frame, "surgeries_scheduled")


def live_numbers(campus: str | None, now: dt.datetime) -> dict:
    """The live strip's numbers: today so far and the same time on the same weekday last
    week, the latest midnight census with open beds and occupancy, operations done and
    scheduled."""
    where = where_for(campus)
    today, base_day = now.date(), now.date() - dt.timedelta(days=7)
    ids = known(["opd_ed_visits", "ed_visits", "surgeries_all", "internet_visits"])
    cur = data.q(ids, start=today, end=today, where=where, as_of=now)
    prev = data.q(ids, start=base_day, end=base_day, where=where,
                  as_of=now - dt.timedelta(days=7))
    out = {m: (first(cur, m), first(prev, m)) for m in ids}
    beds = known(["inpatient_census", "avg_open_beds", "bed_occupancy_rate"])
    frame = data.q(beds, grain="day", start=today - dt.timedelta(days=10), end=today,
                   where=where, as_of=now)
    census = {"day": None, "census": None, "open": None, "rate": None, "census_prev": None}
    if "inpatient_census" in frame.columns:
        frame = frame.dropna(subset=["inpatient_census"])
        if not frame.empty:
            last = frame.iloc[-1]
            day = last["period"]
            day = day.date() if hasattr(day, "date") else day
            week = frame[[(p.date() if hasattr(p, "date") else p) == day - dt.timedelta(days=7)
                          for p in frame["period"]]]
            census = {"day": day, "census": to_float(last.get("inpatient_census")),
                      "open": to_float(last.get("avg_open_beds")),
                      "rate": to_float(last.get("bed_occupancy_rate")),
                      "census_prev": first(week, "inpatient_census") if len(week) else None}
    out["census"] = census
    out["scheduled"] = scheduled_surgeries(campus, now)
    return out


def live_strip(campus: str | None, now: dt.datetime) -> list:
    """The six live tiles."""
    n = live_numbers(campus, now)
    c = n["census"]
    empty = (max(c["open"] - c["census"], 0.0) if c["open"] is not None
             and c["census"] is not None else None)
    census_day = f"{c['day']:%-m月%-d日}零点" if c["day"] else ""
    opd, ed = n.get("opd_ed_visits", (None, None)), n.get("ed_visits", (None, None))
    ops, net = n.get("surgeries_all", (None, None)), n.get("internet_visits", (None, None))
    occ_tone = ("bad" if c["rate"] is not None and c["rate"] > 1.0 else
                "warn" if c["rate"] is not None and c["rate"] > 0.95 else "good")
    tiles = [
        tile("今日门急诊人次", num(opd[0], cls="wb-big"), delta(opd[0], opd[1]),
             key="opd_ed_visits", wide=True),
        tile("急诊人次", num(ed[0], cls="wb-big"), delta(ed[0], ed[1]), key="ed_visits"),
        tile("在院人数", num(c["census"], cls="wb-big"),
             delta(c["census"], c["census_prev"], label=census_day or "较上周同日"),
             key="inpatient_census"),
        tile("床位使用率", num(c["rate"], "percent", cls=f"wb-big tone-{occ_tone}"),
             html.Div([html.Span("空床 ", className="wb-delta-label"),
                       num(empty, cls="wb-mid"), html.Span(" 张", className="wb-delta-label")],
                      className="wb-sub"), key="bed_occupancy_rate"),
        tile("今日手术", html.Span([num(ops[0], cls="wb-big"),
                                html.Span(" / ", className="wb-slash"),
                                num(n["scheduled"], cls="wb-mid wb-sched")]),
             html.Div([html.Span("已完成 / 今日排程", className="wb-delta-label")],
                      className="wb-sub"), key="surgeries"),
        tile("互联网诊疗", num(net[0], cls="wb-big"), delta(net[0], net[1]),
             key="internet_visits"),
    ]
    return tiles


def tile(label: str, value, sub, key: str, wide: bool = False) -> html.Div:
    return html.Div([html.Div(label, className="wb-tile-label"),
                     html.Div(value, className="wb-tile-value"), sub],
                    className="wb-tile" + (" wb-tile-wide" if wide else ""),
                    id=f"wallboard-tile-{key}")


# -- figures -------------------------------------------------------------------------------

def sized(fig: go.Figure, width: int, height: int, font: int = 20) -> go.Figure:
    """A figure at design pixels with big type and a transparent background."""
    fig.update_layout(width=width, height=height, autosize=False,
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
                      font={"size": font}, legend={"font": {"size": font}},
                      margin={"l": 12, "r": 24, "t": 48, "b": 12}, hovermode=False,
                      transition={"duration": 0})
    fig.update_xaxes(tickfont={"size": font - 2})
    fig.update_yaxes(tickfont={"size": font - 2})
    return fig


def graph(id_: str, fig: go.Figure) -> dcc.Graph:
    cfg = graph_config("zh", id_, static=True)
    cfg.update(staticPlot=True, responsive=False)
    return dcc.Graph(id=id_, figure=fig, config=cfg, className="wb-graph",
                     style={"width": f"{fig.layout.width}px", "height": f"{fig.layout.height}px"})


def hourly_figure(campus, now, width, height) -> go.Figure:
    where = where_for(campus)
    today = data.q(["opd_ed_visits"], grain="hour", start=now.date(), end=now.date(),
                   where=where, as_of=now)
    base_day = now.date() - dt.timedelta(days=7)
    base = data.q(["opd_ed_visits"], grain="hour", start=base_day, end=base_day, where=where)
    if "period" in today.columns:
        today = today[[p.hour <= now.hour for p in today["period"]]]
    fig = hourly_today_vs_baseline(today, base, "opd_ed_visits", "integer", label="今日累计",
                                   baseline_label="上周同日", cumulative=True, lang="zh",
                                   theme=THEME)
    fig = sized(fig, width, height)
    fig.update_layout(legend={"y": 1.02, "x": 0, "yanchor": "bottom"},
                      margin={"l": 12, "r": 24, "t": 40, "b": 12})
    fig.update_xaxes(tickvals=[f"{h:02d}:00" for h in range(0, 24, 4)], tickangle=0)
    return fig


#: schematic network: ring radius of the nearest site and the step per farther site, and the
#: smallest angle kept between two sites (so their labels never sit on each other)
RING0, RING_STEP, MIN_GAP = 1.0, 0.55, math.radians(38)


def bearing_and_distance(lat0, lon0, lat, lon) -> tuple[float, float]:
    dx = (lon - lon0) * math.cos(math.radians(lat0))
    dy = lat - lat0
    return math.atan2(dy, dx), math.hypot(dx, dy)


def spread(angles: list[float], gap: float = MIN_GAP, rounds: int = 60) -> list[float]:
    """Push angles apart until neighbours (around the circle) are at least `gap` apart, moving
    each as little as possible; the order around the circle is kept."""
    n = len(angles)
    if n < 2 or n * gap > 2 * math.pi:
        return list(angles)
    order = sorted(range(n), key=lambda i: angles[i])
    a = [angles[i] for i in order]
    for _ in range(rounds):
        moved = False
        for k in range(n):
            j = (k + 1) % n
            diff = (a[j] - a[k]) % (2 * math.pi)
            if diff < gap - 1e-9:
                push = (gap - diff) / 2
                a[k] -= push
                a[j] += push
                moved = True
        if not moved:
            break
    out = [0.0] * n
    for pos, i in enumerate(order):
        out[i] = a[pos]
    return out


def schematic(rows: list[dict], main: dict) -> dict[str, tuple[float, float]]:
    """Schematic positions: the main campus in the middle; every other site in its true
    direction from it (bearing from latitude and longitude), on a ring by how far it is (the
    nearest innermost; a campus 25 km away and a member 1,200 km away both read), spread so
    no two sit in the same direction."""
    others = [c for c in rows if c["id"] != main["id"]]
    geo = {c["id"]: bearing_and_distance(main["lat"], main["lon"], c["lat"], c["lon"])
           for c in others}
    by_distance = sorted(others, key=lambda c: geo[c["id"]][1])
    radius = {c["id"]: RING0 + RING_STEP * i for i, c in enumerate(by_distance)}
    angles = spread([geo[c["id"]][0] for c in others])
    pos = {main["id"]: (0.0, 0.0)}
    for c, th in zip(others, angles):
        pos[c["id"]] = (radius[c["id"]] * math.cos(th), radius[c["id"]] * math.sin(th))
    return pos


#: a label beside a site, as a segment in schematic units (near end, far end)
LABEL_REACH = (0.2, 1.0)


def label_side(pos: dict[str, tuple[float, float]], site: str) -> str:
    """Which side of a site its label goes: outward (left of a site west of the middle,
    right of one east of it) unless another site sits on that side closer than on the other
    (the branch campus below the main one, a member beside it)."""
    x, y = pos[site]
    others = [p for k, p in pos.items() if k != site]

    def clearance(sign: float) -> float:
        ends = [(x + sign * r, y) for r in LABEL_REACH]
        return min((math.hypot(ex - ox, ey - oy) for ex, ey in ends for ox, oy in others),
                   default=math.inf)

    outward = -1.0 if x < -1e-9 else 1.0
    side = outward if clearance(outward) >= min(1.0, clearance(-outward)) else -outward
    return "middle left" if side < 0 else "middle right"


def network_figure(campus, now, width, height, font=20) -> go.Figure:
    """Campuses and alliance members as a schematic network (`schematic`: true directions,
    rings by distance), lines from the main campus, marker area by today's visits. No
    basemap, no borders."""
    rows = [c for c in campuses() if c["lat"] is not None and c["lon"] is not None]
    if not rows:
        return sized(go.Figure(layout=theme_layout(THEME)), width, height, font)
    today = today_by_campus(["opd_ed_visits"], [c["id"] for c in rows], now)
    by = {c: v["opd_ed_visits"] for c, v in today.items()}
    main = next((c for c in rows if c["type"] == "main"), rows[0])
    pos = schematic(rows, main)
    # the main campus's label away from its nearest neighbour (usually the branch campus)
    near = min((c for c in rows if c["id"] != main["id"]), default=None,
               key=lambda c: math.hypot(*pos[c["id"]]))
    main_label = "top center" if near is not None and pos[near["id"]][1] < 0 else \
        "bottom center"
    colour = {"main": P["primary"], "branch": P["series"][1], "alliance": P["highlight"]}
    traces = []
    for c in rows:
        if c["id"] == main["id"]:
            continue
        x0, y0 = pos[main["id"]]
        x1, y1 = pos[c["id"]]
        traces.append({"type": "scatter", "x": [x0, x1], "y": [y0, y1], "mode": "lines",
                       "line": {"color": colour[c["type"]], "width": 3,
                                "dash": "solid" if c["type"] == "branch" else "dot"},
                       "hoverinfo": "skip", "showlegend": False})
    top = max([v for v in by.values() if v] or [1.0])
    # markers in proportion to the figure (designed at 660 px high): the overview's small
    # network keeps its sites and labels apart
    k = min(1.0, min(width, height) / 660)
    for kind in ("main", "branch", "alliance"):
        group = [c for c in rows if c["type"] == kind]
        if not group:
            continue
        vals = [by.get(c["id"]) for c in group]
        sizes = [(34 + 40 * math.sqrt((v or 0) / top)) * k for v in vals]
        text = [f"<b>{site_label(c)}</b><br>"
                f"{fmt_number(v, 'integer', 'zh') if v is not None else DASH} 人次"
                for c, v in zip(group, vals)]
        dim = [0.35 if campus and c["id"] != campus else 1.0 for c in group]
        where_text = [main_label if c["id"] == main["id"] else label_side(pos, c["id"])
                      for c in group]
        traces.append({"type": "scatter", "x": [pos[c["id"]][0] for c in group],
                       "y": [pos[c["id"]][1] for c in group], "mode": "markers+text",
                       "name": TYPE_LABEL[kind], "text": text, "textposition": where_text,
                       "cliponaxis": False,  # a label may reach into the margin
                       "textfont": {"size": font, "color": P["text"]},
                       "marker": {"size": sizes, "color": colour[kind], "opacity": dim,
                                  "line": {"color": "#ffffff", "width": 2}},
                       "customdata": [c["id"] for c in group], "hoverinfo": "skip"})
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 0.5)
    layout = theme_layout(THEME)
    layout.update(  # room for the outward labels on both sides
        xaxis={"visible": False, "range": [min(xs) - span * 0.4, max(xs) + span * 0.4]},
        yaxis={"visible": False, "range": [min(ys) - span * 0.25, max(ys) + span * 0.35],
               "scaleanchor": "x", "scaleratio": 1},
        showlegend=True,
        legend={"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"},
        annotations=[{"text": "示意图：方位按经纬度，由近及远，非地图", "xref": "paper",
                      "yref": "paper", "x": 1, "y": 0, "xanchor": "right", "yanchor": "bottom",
                      "showarrow": False, "font": {"size": font - 4, "color": P["muted"]}}])
    fig = go.Figure(data=traces, layout=layout)
    return sized(fig, width, height, font)


def trend_panel_figure(mid, grain, campus, now, width, height) -> go.Figure:
    m = data.model().metrics.get(mid)
    if m is None:
        return sized(go.Figure(layout=theme_layout(THEME)), width, height)
    from cockpit.freshness import oldest_rows, tables_of

    # complete periods only: the last 30 days to yesterday, the last 12 whole months (a
    # month so far would read as a dip)
    if grain == "month":
        end = now.date().replace(day=1) - dt.timedelta(days=1)
        start = (end.replace(day=1) - dt.timedelta(days=334)).replace(day=1)
    else:
        end = now.date() - dt.timedelta(days=1)
        start = now.date() - dt.timedelta(days=30)
    frame = data.q([mid, f"{mid}:yoy"], grain=grain, start=start, end=end,
                   where=where_for(campus), as_of=now)
    yoy = f"{mid}:yoy"  # the same periods a year before (compare=frame would redraw `mid`)
    compare = None
    if yoy in frame.columns and "period" in frame.columns:
        # a year before the warehouse's history starts the value is unknown, not 0
        starts = [oldest_rows().get(t) for t in tables_of([mid])]
        first = max((d for d in starts if d is not None), default=None)
        compare = frame[["period", yoy]].copy()
        if first is not None:
            before = [_year_before(p) < first.date() for p in compare["period"]]
            compare.loc[before, yoy] = None
    fig = trend_figure(frame, mid, {mid: m.zh.split("（")[0]}, m.format, grain, compare=compare,
                       lang="zh", theme=THEME, compare_label="去年同期", markers=False)
    fig = sized(fig, width, height)
    fig.update_layout(legend={"y": 1.02, "x": 0, "yanchor": "bottom"},
                      margin={"l": 12, "r": 24, "t": 40, "b": 12})
    fig.update_traces(line={"width": 4}, selector={"mode": "lines"})
    return fig


def _year_before(period) -> dt.date:
    d = period.date() if hasattr(period, "date") else period
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


# -- rankings (轮播) ------------------------------------------------------------------------

def dept_names() -> dict[str, tuple[str, str]]:
    """Department → (name, campus tag): the tag (本部, 天府 …) only where several campuses have
    a department of that name (`data.campus_tags`); shown apart from the name, so cutting a
    long name never cuts what tells two departments apart."""
    camp = {c["id"]: short_name(c["name"]).removesuffix("院区") for c in campuses()}
    tags = data.campus_tags()
    return {d: (name, camp.get(tags[d], tags[d]) if tags.get(d) else "")
            for d, name in data.labels("department").items()}


def campuses_in_scope() -> set[str]:
    """The campuses the screen's user may see: all, or (a campus-limited kiosk token, a
    department head) those of the departments in scope."""
    from cockpit.auth import current_scope

    scope = current_scope()
    if scope is None:
        return {c["id"] for c in campuses()}
    return {c for d, c in data.department_campus().items() if d in scope}


#: how far back a campus's feed of a metric is looked for: without a row in that window a
#: missing value is "no feed" (—), with one it is a true zero
FEED_DAYS = 28


def today_by_campus(metric_ids: list[str], ids: list[str], now: dt.datetime) -> dict:
    """{campus: {metric: today's value}} for `ids`: known only for a campus the screen may see
    that delivered the metric in the last FEED_DAYS days (none today is then a true 0);
    otherwise unknown (None, shown "—"), never a silent zero."""
    where = {"campus": ids}
    today = data.q(metric_ids, by=["campus"], start=now.date(), end=now.date(), where=where,
                   as_of=now)
    recent = data.q(metric_ids, by=["campus"], start=now.date() - dt.timedelta(days=FEED_DAYS),
                    end=now.date(), where=where, as_of=now)
    visible = campuses_in_scope()
    out = {c: {} for c in ids}
    for m in metric_ids:
        fed = ({c for c, v in zip(recent["campus"], recent[m]) if to_float(v)}
               if {"campus", m} <= set(recent.columns) else set())
        got = ({c: to_float(v) for c, v in zip(today["campus"], today[m])}
               if {"campus", m} <= set(today.columns) else {})
        for c in ids:  # (an answer of several metrics fills a campus's missing one with 0)
            out[c][m] = (got.get(c) or 0.0) if c in visible and c in fed else None
    return out


#: a ranking shows the leading departments, not all of them: a leader reads the top of it,
#: and every row is DOM the screen rebuilds each minute (a wall of 60+ rows twice over froze
#: the page for seconds on a modest box)
RANK_TOP = 15


def ranking(mid: str, span: str, campus, now, visible: int = 11,
            top_n: int = RANK_TOP) -> html.Div:
    """The `top_n` departments by `mid`, largest first: rows that scroll upward in a loop
    (CSS) when there are more than fit, starting from the top each time the page shows."""
    if mid not in data.model().metrics:
        return html.Div("指标未定义", className="wb-placeholder")
    start = now.date() if span == "today" else now.date().replace(day=1)
    frame = data.q([mid], by=["department"], start=start, end=now.date(),
                   where=where_for(campus), as_of=now)
    if frame.empty or mid not in frame.columns:
        return html.Div("暂无数据", className="wb-placeholder")
    frame = frame.dropna(subset=[mid]).sort_values(mid, ascending=False, kind="stable")
    frame = frame[frame[mid] > 0].head(top_n)
    if frame.empty:
        return html.Div("暂无数据", className="wb-placeholder")
    names = dept_names()
    top = float(frame[mid].iloc[0]) or 1.0
    fmt = data.model().metrics[mid].format

    def name(d):
        text, tag = names.get(d, (d, ""))
        return html.Span([html.Span(text, className="wb-rank-text")]
                         + ([html.Span(tag, className="wb-rank-campus")] if tag else []),
                         className="wb-rank-name")

    rows = [html.Div([html.Span(str(i + 1), className="wb-rank-no" + (" top3" if i < 3 else "")),
                      name(d),
                      html.Span(html.Span(className="wb-rank-fill",
                                          style={"width": f"{100 * float(v) / top:.1f}%"}),
                                className="wb-rank-bar"),
                      num(v, fmt, "wb-rank-value", key=f"{mid}-{d}")],
                     className="wb-rank-row")
            for i, (d, v) in enumerate(zip(frame["department"], frame[mid]))]
    scroll = len(rows) > visible
    track = rows + ([html.Div(className="wb-rank-gap")] + rows if scroll else [])
    style = {"animationDuration": f"{max(len(rows) * 2.5, 10):.0f}s"} if scroll else {}
    return html.Div(html.Div(track, className="wb-rank-track" + (" scrolling" if scroll
                                                                  else ""), style=style),
                    className="wb-rank", **{"data-rows": str(len(rows))})


# -- targets -------------------------------------------------------------------------------

def targets_panel(campus, now) -> html.Div:
    """Year-to-date attainment per metric (`<metric>:attainment`); "目标未下达" where no target
    has been set (or the targets module is not there)."""
    ids = known(TARGET_METRICS)
    start = now.date().replace(month=1, day=1)
    rows = []
    frame = None
    try:
        frame = data.q([f"{m}:{tr}" for m in ids for tr in ("attainment", "target_to_date")]
                       + ids, start=start, end=now.date(), where=where_for(campus), as_of=now)
    except Exception as e:  # noqa: BLE001 - the targets module may not accept it yet
        log.info("targets attainment not available: %s", e)
    model = data.model()
    for m in ids:
        label = model.metrics[m].zh.split("（")[0]
        target = first(frame, f"{m}:target_to_date") if frame is not None else None
        att = first(frame, f"{m}:attainment") if frame is not None else None
        if not target or att is None:
            rows.append(html.Div([html.Span(label, className="wb-target-name"),
                                  html.Span("目标未下达", className="wb-target-none")],
                                 className="wb-target-row"))
            continue
        # a score, higher-is-better whatever the metric's direction; the targets page's bands
        tone = target_tone(att)
        rows.append(html.Div([
            html.Span(label, className="wb-target-name"),
            html.Span(html.Span(className=f"wb-target-fill tone-{tone}",
                                style={"width": f"{min(att, 1.2) / 1.2 * 100:.1f}%"}),
                      className="wb-target-bar"),
            num(att, "percent", f"wb-target-value tone-{tone}")], className="wb-target-row"))
    return html.Div(rows, className="wb-targets")


def reserved(title: str, note: str, key: str) -> html.Section:
    """Room that a later module fills (alerts, forecasts): says so, shows no numbers."""
    return section(title, html.Div([html.Div("建设中", className="wb-reserved-tag"),
                                    html.Div(note, className="wb-reserved-note")],
                                   className="wb-reserved"), key, extra="wb-reserved-panel")


def section(title: str, body, key: str, extra: str = "", note: str = "") -> html.Section:
    head = [html.Span(title, className="wb-section-title")]
    if note:
        head.append(html.Span(note, className="wb-section-note"))
    return html.Section([html.Div(head, className="wb-section-head"),
                         html.Div(body, className="wb-section-body")],
                        className=f"wb-section {extra}".strip(), id=f"wallboard-sec-{key}")


# -- the pages -----------------------------------------------------------------------------

def page_overview(campus, now) -> list:
    return [
        html.Div([
            section("门急诊人次 · 今日累计与上周同日", graph("wallboard-g-hourly",
                    hourly_figure(campus, now, 576, 324)), "hourly"),
            section("院区与医联体", graph("wallboard-g-network-mini",
                    network_figure(campus, now, 576, 324, font=18)), "network-mini",
                    note="今日门急诊人次"),
            section("科室排名 · 今日门急诊人次", ranking("opd_ed_visits", "today", campus, now,
                                                  visible=6), "rank-mini"),
        ], className="wb-row wb-row-top"),
        html.Div([
            section("目标达成 · 本年累计", targets_panel(campus, now), "targets"),
            reserved("运行预警", "预警模块上线后在此显示实时预警（床位、候诊、手术延误等）",
                     "alerts"),
            reserved("趋势预测", "预测模块上线后在此显示今日与未来七日的就诊量、在院人数预测",
                     "forecast"),
        ], className="wb-row wb-row-bottom"),
    ]


def page_network(campus, now) -> list:
    rows = campuses()
    ids = [c["id"] for c in rows]
    by = today_by_campus(known(["opd_ed_visits", "surgeries_all"]), ids, now)
    census = data.q(known(["inpatient_census"]), by=["campus"], grain="day",
                    start=now.date() - dt.timedelta(days=3), end=now.date(),
                    where={"campus": ids}, as_of=now)
    last_census: dict = {}
    if "inpatient_census" in census.columns:
        for _, r in census.dropna(subset=["inpatient_census"]).sort_values("period").iterrows():
            last_census[r["campus"]] = r["inpatient_census"]
    cards = []
    for c in rows:
        r = by[c["id"]]
        cards.append(html.Div([
            html.Div([html.Span(short_name(c["name"]), className="wb-campus-name"),
                      html.Span(TYPE_LABEL.get(c["type"], c["type"]),
                                className=f"wb-campus-type type-{c['type']}")],
                     className="wb-campus-head"),
            html.Div([
                html.Div([html.Div("门急诊", className="wb-mini-label"),
                          num(r.get("opd_ed_visits"), cls="wb-mid")]),
                html.Div([html.Div("在院", className="wb-mini-label"),
                          num(last_census.get(c["id"]), cls="wb-mid")]),
                html.Div([html.Div("手术", className="wb-mini-label"),
                          num(r.get("surgeries_all"), cls="wb-mid")]),
            ], className="wb-campus-nums")],
            className="wb-campus-card" + (" is-dim" if campus and c["id"] != campus else ""),
            id=f"wallboard-campus-{c['id']}"))
    return [html.Div([
        section("院区与医联体 · 今日门急诊人次", graph("wallboard-g-network",
                network_figure(campus, now, 1160, 660, font=24)), "network"),
        section("各院区今日运行", html.Div(cards, className="wb-campus-list" + (
                    " two-columns" if len(cards) > 4 else "")), "campus-list",
                note="在院：最近零点"),
    ], className="wb-row wb-row-full")]


def page_departments(campus, now) -> list:
    return [html.Div([section(title, ranking(mid, span, campus, now, visible=11),
                              f"rank-{mid}")
                      for mid, span, title in RANKINGS], className="wb-row wb-row-full")]


def page_trends(campus, now) -> list:
    cells = [section(title, graph(f"wallboard-g-trend-{mid}",
                                  trend_panel_figure(mid, grain, campus, now, 890, 286)),
                     f"trend-{mid}")
             for mid, grain, title in TRENDS]
    return [html.Div(cells[:2], className="wb-row wb-row-half"),
            html.Div(cells[2:], className="wb-row wb-row-half")]


PAGE_BUILDERS = {"overview": page_overview, "network": page_network,
                 "departments": page_departments, "trends": page_trends}


# -- the canvas ----------------------------------------------------------------------------

def canvas(config: dict) -> html.Div:
    """The whole screen for a playlist config (`wallboard.playlists.Playlist.to_json()` plus
    `refresh` seconds and the scope label)."""
    from dash import dcc

    import json

    pages = config["pages"]
    rotation = json.dumps({"pages": [{k: p[k] for k in ("page", "seconds", "title")}
                                     for p in pages],
                           "refresh": config["refresh"], "tz": config.get("tz")},
                          ensure_ascii=False)
    # the pages rotate in the asset JS (a timer switching classes), not through a callback:
    # every Dash callback costs the renderer a pass over all of the screen's components
    return html.Div(id="wallboard-root", className="wallboard-root",
                    **{"data-rotation": rotation}, children=[
        dcc.Store(id="wallboard-config", data=config),
        dcc.Interval(id="wallboard-tick", interval=int(config["refresh"]) * 1000),
        html.Div(id="wallboard-canvas", className="wallboard-canvas", children=[
            html.Header(className="wb-header", children=[
                html.Div([html.Div(config["title"], className="wb-title"),
                          html.Div(config["scope_label"], id="wallboard-scope",
                                   className="wb-scope")], className="wb-header-left"),
                html.Div([html.Div(pages[0]["title"], id="wallboard-pagetitle",
                                   className="wb-pagetitle"),
                          html.Div([html.Span(className="wb-dot active" if i == 0 else "wb-dot")
                                    for i in range(len(pages))], className="wb-dots")],
                         className="wb-header-mid"),
                html.Div([html.Div(id="wallboard-clock", className="wb-clock"),
                          html.Div([html.Span(className="wb-status-dot"),
                                    html.Span("连接中…", id="wallboard-status-text")],
                                   id="wallboard-status", className="wb-status"),
                          html.Span(id="wallboard-asof", className="wb-asof-hidden"),
                          html.Div(id="wallboard-fresh", className="wb-fresh")],
                         className="wb-header-right"),
            ]),
            html.Div(id="wallboard-live", className="wb-live",
                     children=[html.Div(className="wb-tile wb-tile-loading")
                               for _ in range(6)]),
            html.Div(className="wb-pages", children=[
                html.Div(className="wb-page active" if i == 0 else "wb-page",
                         **{"data-page": p["page"]},
                         children=html.Div(
                             id={"type": "wallboard-body", "index": i},
                             className=f"wb-page-body wb-page-{p['page']}",
                             children=html.Div("加载中…", className="wb-placeholder")))
                for i, p in enumerate(pages)]),
        ]),
    ])


def error_screen(message: str) -> html.Div:
    return html.Div(id="wallboard-root", className="wallboard-root", children=[
        html.Div(className="wallboard-canvas", children=[
            html.Div(message, className="wb-error")])])
