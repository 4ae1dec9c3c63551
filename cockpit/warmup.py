"""Views computed before anyone opens them.

A live view's cache entries hold for one minute (its as-of is the minute) and for one data
version, so without help the first person to open the overview after each ingest pays for
every query of it (seconds at `large`). Right after each ingest the scheduler opens the
views of the `warm_paths` setting once, as the whole hospital (a leader's scope, which the
wallboard and the leadership share): their page-open callbacks run with the default view
and fill the result cache; the outputs are thrown away. The ingest runs on the minute
(`Jobs.add(..., align=True)`), so what it warms serves the rest of that minute.

A page-open callback is one whose inputs are only the URL, the shell's tick or the targets
version: what Dash runs when the page is opened (the benchmarks time the same set).
"""
from __future__ import annotations

import logging
import time
from typing import Callable

log = logging.getLogger("cockpit.warmup")

PAGE_INPUTS = {("url", "search"), ("url", "pathname"), ("shell-tick", "n_intervals"),
               ("targets-version", "data")}
_DEFAULTS = {("url", "search"): "", ("shell-tick", "n_intervals"): 0}


def _ids(specs) -> list[tuple[str, str]]:
    out = []
    for s in specs or []:
        cid = s["id"] if isinstance(s, dict) else s.component_id
        prop = s["property"] if isinstance(s, dict) else s.component_property
        out.append((str(cid), prop))
    return out


def page_open_callbacks(app=None) -> list[tuple[str, str, Callable, list]]:
    """(page path, module.function, function, default arguments) of every page-open
    callback of the registered Dash pages: those `dash.callback` registered and, once the
    app has served its first request (Dash then moves them there), those in `app`'s map."""
    import dash
    from dash._callback import GLOBAL_CALLBACK_MAP

    by_module: dict[str, list[str]] = {}
    for p in dash.page_registry.values():
        by_module.setdefault(p["module"].rsplit(".", 1)[-1], []).append(p["path"])
    callbacks = {**(app.callback_map if app is not None else {}), **GLOBAL_CALLBACK_MAP}
    out = []
    for key, cb in callbacks.items():
        inputs = _ids(cb.get("inputs"))
        if not inputs or not all(i in PAGE_INPUTS for i in inputs):
            continue
        fn = cb["callback"]
        fn = getattr(fn, "__wrapped__", fn)
        prefix = key.lstrip(".").split(".")[0].split("@")[0].split("-")[0]
        paths = by_module.get(prefix) or (["/"] if prefix in ("shell", "url") else [])
        name = (f"{getattr(fn, '__module__', '?').rsplit('.', 1)[-1]}."
                f"{getattr(fn, '__name__', '?')}")
        for path in paths:
            args = [(path if (cid, prop) == ("url", "pathname") else _DEFAULTS.get((cid, prop)))
                    for cid, prop in inputs + _ids(cb.get("state"))]
            out.append((path, name, fn, args))
    return out


def warm(app, paths: list[str]) -> str:
    """Open `paths` of the Dash `app` once as the whole hospital; a short detail for the job
    log. A callback that fails is logged and skipped (its panel shows the error to whoever
    opens it)."""
    from .auth import User, current_user, set_current

    server = app.server
    wanted = [c for c in page_open_callbacks(app) if c[0] in paths]
    before, failed, t = current_user(), 0, time.perf_counter()
    set_current(User("_warmup", "leader"))
    try:
        with server.test_request_context("/"):
            for path, name, fn, args in wanted:
                try:
                    fn(*args)
                except Exception as e:  # noqa: BLE001 - warming must not fail the ingest
                    failed += 1
                    log.warning("warming %s %s failed: %s", path, name, e)
    finally:
        set_current(before)
    return (f"warmed {len(wanted) - failed} of {len(wanted)} callback(s) of "
            f"{', '.join(paths)} in {time.perf_counter() - t:.1f}s")
