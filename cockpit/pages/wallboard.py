"""运营大屏 wallboard: `/wallboard` (the default playlist) and `/wallboard/<playlist>`.

Not in the navigation (order None) and without the shell: `cockpit/assets/wallboard.js`
marks the document `wallboard-mode` on /wallboard paths before the first paint, and
`wallboard.css` hides the shell's header and filters there.

URL parameters: `token=` (kiosk token, see `wallboard.tokens`), `refresh=` (data refresh in
seconds; below 60 only for requests from this machine: tests and benchmarks).

Callbacks: the live strip and the pages' bodies refresh on `wallboard-tick` (every minute).
The visible page is switched by the asset JS on a 1-second timer from the playlist's
durations (the root's `data-rotation`), without reloading and without a callback: each Dash
callback costs the renderer a pass over every component on the screen, which at one a second
kept a modest box busy. For the same reason the callbacks send every block without a graph
as HTML in one component (`wallboard.rawhtml.compact`): a screen is a few dozen components
instead of a thousand. A failing panel keeps its last content (no_update).
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict

import dash
from dash import ALL, Input, Output, State, callback
from dash import ctx, html, no_update

from cockpit import data
from cockpit.auth import current_user

log = logging.getLogger("wallboard.page")

DEFAULT_REFRESH = 60
LOCAL = ("127.0.0.1", "::1", "localhost")


def _campus_of_user():
    """A campus-limited kiosk token pins the screen to its campus."""
    from wallboard.tokens import KioskUser

    u = current_user()
    return u.campus if isinstance(u, KioskUser) and u.campus else None


def _refresh(value) -> int:
    from flask import has_request_context, request

    try:
        seconds = int(value) if value not in (None, "") else DEFAULT_REFRESH
    except (TypeError, ValueError):
        return DEFAULT_REFRESH
    seconds = max(1, min(seconds, 600))
    if seconds < DEFAULT_REFRESH and not (has_request_context()
                                          and request.remote_addr in LOCAL):
        return DEFAULT_REFRESH  # accelerated refresh: tests and benchmarks on this machine
    return seconds


def layout(playlist: str | None = None, token: str | None = None, refresh=None, **_params):
    from warehouse import settings as wsettings
    from warehouse.errors import ConfigError
    from wallboard import layouts, playlists

    try:
        pl = playlists.get(playlist)
    except ConfigError as e:
        return layouts.error_screen(f"播放列表无效：{e}")
    pl = pl.for_campus(_campus_of_user())
    config = pl.to_json()
    config.update(refresh=_refresh(refresh), tz=wsettings.get("tz"),
                  scope_label=layouts.scope_label(pl.campus))
    return layouts.canvas(config)


dash.register_page("wallboard", path="/wallboard", name="运营大屏", title="运营大屏",
                   order=None, layout=layout)
dash.register_page("wallboard_playlist", path_template="/wallboard/<playlist>",
                   name="运营大屏", title="运营大屏", order=None, layout=layout)


_memo: OrderedDict = OrderedDict()
_memo_lock = threading.Lock()
MEMO_SIZE = 64


def memo(key: tuple, build):
    """A rendered block per (what, campus, user scope, data version, minute): every screen
    refreshing within the same minute gets the same tree without re-querying or re-building
    figures. Bounded (LRU), so it never grows."""
    from cockpit.auth import current_scope

    full = key + (current_scope(), data.data_version())
    with _memo_lock:
        if full in _memo:
            _memo.move_to_end(full)
            return _memo[full]
    value = build()
    with _memo_lock:
        _memo[full] = value
        while len(_memo) > MEMO_SIZE:
            _memo.popitem(last=False)
    return value


def page_campus(config: dict, index: int | None = None) -> str | None:
    pinned = _campus_of_user()
    if pinned:
        return pinned
    if index is not None and 0 <= index < len(config.get("pages", [])):
        return config["pages"][index].get("campus") or config.get("campus")
    return config.get("campus")


@callback(Output("wallboard-live", "children"), Output("wallboard-asof", "children"),
          Output("wallboard-fresh", "children"),
          Input("wallboard-tick", "n_intervals"), State("wallboard-config", "data"))
def render_live(_n, config):
    from cockpit.freshness import for_metrics
    from wallboard import layouts
    from wallboard.rawhtml import compact

    if not config:
        return no_update, no_update, no_update
    now = data.now()
    try:
        campus = page_campus(config)
        tiles = memo(("live", campus, now), lambda: compact(layouts.live_strip(campus, now)))
    except Exception:  # keep the last numbers on screen; the log says why
        log.exception("wallboard live strip failed")
        return no_update, no_update, no_update
    fresh = ""
    try:
        fr = for_metrics(layouts.known(["opd_ed_visits", "ed_visits", "surgeries_all"]), now)
        if fr.stale:
            newest = f"{fr.newest:%H:%M}" if fr.newest else "—"
            fresh = html.Span(f"数据延迟 · 最新 {newest}", className="wb-fresh-tag",
                              title="; ".join(fr.reasons))
    except Exception:  # noqa: BLE001
        log.exception("wallboard freshness failed")
    return tiles, f"{now:%H:%M}", fresh


@callback(Output({"type": "wallboard-body", "index": ALL}, "children"),
          Input("wallboard-tick", "n_intervals"), State("wallboard-config", "data"))
def render_pages(_n, config):
    from wallboard import layouts
    from wallboard.rawhtml import compact

    outs = ctx.outputs_list or []
    if not config:
        return [no_update] * len(outs)
    now = data.now()
    result = []
    for o in outs:
        i = o["id"]["index"]
        try:
            page = config["pages"][i]["page"]
            campus = page_campus(config, i)
            result.append(memo((page, campus, now),
                               lambda: compact(layouts.PAGE_BUILDERS[page](campus, now))))
        except Exception:  # keep that page's last content
            log.exception("wallboard page %s failed", i)
            result.append(no_update)
    return result


