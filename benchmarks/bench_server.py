"""Cockpit server benchmarks (issue #5): page callbacks in-process, and a load test.

    # 1. every page's render callbacks, called in-process, result cache bypassed
    COCKPIT_HOME=/tmp/bench python benchmarks/bench_server.py inproc --db DB [--runs 20]
    # 2. capture the real Dash callback POST bodies of each page once (headless Chromium)
    COCKPIT_HOME=/tmp/bench python benchmarks/bench_server.py capture --url http://127.0.0.1:8077 \
        --user bench --password bench [--out /tmp/bench/callbacks.json]
    # 3. replay them: N simulated users for S seconds against a running `cockpit serve`
    COCKPIT_HOME=/tmp/bench python benchmarks/bench_server.py load --url http://127.0.0.1:8077 \
        --user bench --password bench [--users 20] [--seconds 60]

inproc: `cockpit.server.build(db, start_jobs=False)`, user `User('b', 'leader')`; every callback
registered with `dash.callback` whose inputs are only the URL (search / pathname), the shell
tick or the targets version (i.e. what runs when a page opens) is called with the page's
default view. "cold" clears the result cache (`cockpit.data._state['cache'].clear()`) before
each call; "warm" leaves the cache as the cold call filled it, then bypasses it
(`_state['cache'] = None`) for the "nocache" column — the cost of computing with the
warehouse warm.

load: each user logs in with a `requests.Session` (POST /login), then loops: pick a page,
GET it, replay that page's captured callback POSTs one after another (like one browser tab,
sequential). Reports requests/s, p50/p95 latency and errors (non-2xx or exceptions).
Results are printed and written as JSON; REPORT_server.md is written by hand from them.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_query import load, pct  # noqa: E402  (the same load average and percentile)

def page_callbacks():
    """(page path, name, function, args) for every page-open callback (the set the server
    warms, `cockpit.warmup`), with two of the theme pages."""
    from cockpit.warmup import page_open_callbacks

    cbs = page_open_callbacks()
    themes = sorted({p for p, *_ in cbs if p.startswith("/theme")})[:2]
    return [c for c in cbs if not c[0].startswith("/theme") or c[0] in themes]


def inproc(db: str, runs: int, out_json: str) -> None:
    from cockpit import data
    from cockpit.auth import User, set_current
    from cockpit.server import build

    from cockpit.gcpolicy import settled

    app, jobs, token = build(db, start_jobs=False)
    settled()  # as `cockpit serve` does once the server is built
    set_current(User("b", "leader"))
    cache = data._state["cache"]
    cbs = page_callbacks()
    print(f"{len(cbs)} page-open callbacks on {len({c[0] for c in cbs})} pages", flush=True)
    res = []
    with app.server.test_request_context("/"):
        for path, name, fn, args in cbs:  # one untimed pass: imports, first connections
            try:
                fn(*args)
            except Exception as e:  # noqa: BLE001
                print("first call failed", path, name, repr(e)[:200])
        for path, name, fn, args in cbs:
            cold, warm, nocache, errors = [], [], [], 0
            l0 = load()
            for _ in range(runs):
                data._state["cache"] = cache
                cache.clear()
                t = time.perf_counter()
                try:
                    fn(*args)
                except Exception:  # noqa: BLE001
                    errors += 1
                cold.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                try:
                    fn(*args)
                except Exception:  # noqa: BLE001
                    errors += 1
                warm.append((time.perf_counter() - t) * 1000)
                data._state["cache"] = None
                t = time.perf_counter()
                try:
                    fn(*args)
                except Exception:  # noqa: BLE001
                    errors += 1
                nocache.append((time.perf_counter() - t) * 1000)
            data._state["cache"] = cache
            r = dict(page=path, callback=name, runs=runs, errors=errors,
                     cold_p50=pct(cold, 50), cold_p95=pct(cold, 95),
                     warm_p50=pct(warm, 50), warm_p95=pct(warm, 95),
                     nocache_p50=pct(nocache, 50), nocache_p95=pct(nocache, 95),
                     load=(l0 + load()) / 2)
            res.append(r)
            print(json.dumps(r), flush=True)
    # per page: all its callbacks one after another (what one page open costs in CPU)
    pages = {}
    for r in res:
        p = pages.setdefault(r["page"], dict(page=r["page"], callbacks=0, cold_p95_sum=0.0,
                                             nocache_p95_sum=0.0, warm_p95_sum=0.0))
        p["callbacks"] += 1
        p["cold_p95_sum"] += r["cold_p95"]
        p["nocache_p95_sum"] += r["nocache_p95"]
        p["warm_p95_sum"] += r["warm_p95"]
    Path(out_json).write_text(json.dumps(dict(callbacks=res, pages=list(pages.values())),
                                         indent=1))
    print("wrote", out_json)


# -- 2. capture ------------------------------------------------------------------------------
def capture(url: str, user: str, password: str, out: str, paths: list[str]) -> None:
    from playwright.sync_api import sync_playwright

    bodies: dict[str, list] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=["--no-sandbox"])
        page = browser.new_page()
        page.set_default_timeout(240_000)
        page.goto(url + "/login")
        page.fill("#username", user)
        page.fill("#password", password)
        page.press("#password", "Enter")
        page.wait_for_url(lambda u: "/login" not in u)
        page.wait_for_load_state("networkidle")
        current: list = []
        page.on("request", lambda r: current.append(r.post_data)
                if r.method == "POST" and "_dash-update-component" in r.url else None)
        for path in paths:
            current.clear()
            page.goto(url + path)
            page.wait_for_load_state("networkidle", timeout=240_000)
            page.wait_for_timeout(1500)
            bodies[path] = [json.loads(b) for b in current if b]
            print(path, len(bodies[path]), "callback POSTs", flush=True)
        browser.close()
    Path(out).write_text(json.dumps(bodies, ensure_ascii=False, indent=1))
    print("wrote", out)


# -- 2b. first meaningful paint -----------------------------------------------------------------
#: per page, the element whose text is the page's first meaningful content (a number or row)
PAINT = {"/": "#overview-live .kpi-value", "/department": "#department-kpis .kpi-value",
         "/drg": ".kpi-card[id^='drg-kpi-'] .kpi-value", "/theme/visits": ".kpi-card .kpi-value",
         "/targets": "#targets-tree-panel td", "/catalog": "#catalog-table td"}


def paint(url: str, user: str, password: str, runs: int, out_json: str) -> None:
    """Navigation start → the page's first meaningful content painted (the selector in PAINT
    has text), in a fresh browser page per run, after login; the result cache is whatever
    the server has (run it twice: the first pass is cold)."""
    from playwright.sync_api import sync_playwright

    res = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=["--no-sandbox"])
        ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
        page = ctx.new_page()
        page.goto(url + "/login")
        page.fill("#username", user)
        page.fill("#password", password)
        page.press("#password", "Enter")
        page.wait_for_url(lambda u: "/login" not in u)
        for path, sel in PAINT.items():
            times = []
            for _ in range(runs):
                pg = ctx.new_page()
                t = time.perf_counter()
                pg.goto(url + path, wait_until="commit")
                pg.wait_for_function(
                    "s => { const e = document.querySelector(s); "
                    "return e && e.innerText.trim().length > 0; }", arg=sel, timeout=120_000)
                times.append((time.perf_counter() - t) * 1000)
                pg.close()
            res[path] = dict(runs=runs, first=times[0], p50=pct(times, 50), max=max(times),
                             load=load())
            print(path, {k: round(v, 1) if isinstance(v, float) else v
                         for k, v in res[path].items()}, flush=True)
        browser.close()
    Path(out_json).write_text(json.dumps(res, indent=1))


# -- 3. load ---------------------------------------------------------------------------------
def _session(url, user, password):
    import requests

    s = requests.Session()
    r = s.post(url + "/login", data={"username": user, "password": password},
               allow_redirects=False, timeout=30)
    if r.status_code not in (302, 303):
        raise RuntimeError(f"login failed: {r.status_code}")
    return s


def load_test(url, user, password, bodies_file, users, seconds, out_json, seed=1) -> None:
    bodies = json.loads(Path(bodies_file).read_text())
    pages = [p for p, b in bodies.items() if b]
    lat: list[tuple[str, float]] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    start_evt = threading.Event()

    def worker(i):
        rng = random.Random(seed + i)
        try:
            s = _session(url, user, password)
        except Exception as e:  # noqa: BLE001
            with lock:
                errors.append(f"login: {e!r}")
            return
        start_evt.wait()
        mine, errs = [], []
        while time.monotonic() < stop:
            path = rng.choice(pages)
            reqs = [("GET", path, None)] + [("POST", "/_dash-update-component", b)
                                             for b in bodies[path]]
            for method, p, body in reqs:
                if time.monotonic() >= stop:
                    break
                t = time.perf_counter()
                try:
                    r = (s.get(url + p, timeout=120) if method == "GET" else
                         s.post(url + p, json=body, timeout=120))
                    ok = 200 <= r.status_code < 300
                    if not ok:
                        errs.append(f"{method} {p} -> {r.status_code}")
                except Exception as e:  # noqa: BLE001
                    errs.append(f"{method} {p}: {e!r}")
                mine.append((f"{method} {p}", (time.perf_counter() - t) * 1000))
        with lock:
            lat.extend(mine)
            errors.extend(errs)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(users)]
    for th in threads:
        th.start()
    time.sleep(2)  # logins
    l0 = load()
    t0 = time.perf_counter()
    stop = time.monotonic() + seconds
    start_evt.set()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    l1 = load()
    xs = [v for _, v in lat]
    cb = [v for k, v in lat if k.startswith("POST")]
    res = dict(users=users, seconds=round(wall, 1), requests=len(xs),
               rps=len(xs) / wall, callback_requests=len(cb), callback_rps=len(cb) / wall,
               p50=pct(xs, 50), p95=pct(xs, 95), max=max(xs) if xs else None,
               callback_p50=pct(cb, 50), callback_p95=pct(cb, 95),
               errors=len(errors), error_samples=sorted(set(errors))[:10],
               load_start=l0, load_end=l1, pages=pages)
    print(json.dumps(res, indent=1))
    Path(out_json).write_text(json.dumps(res, indent=1))


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    a1 = sub.add_parser("inproc")
    a1.add_argument("--db", required=True)
    a1.add_argument("--runs", type=int, default=20)
    a1.add_argument("--json", default="/tmp/bench/server_inproc.json")
    a2 = sub.add_parser("capture")
    a2.add_argument("--url", required=True)
    a2.add_argument("--user", default="bench")
    a2.add_argument("--password", default="bench")
    a2.add_argument("--out", default="/tmp/bench/callbacks.json")
    a2.add_argument("--paths", nargs="*", default=None)
    a4 = sub.add_parser("paint")
    a4.add_argument("--url", required=True)
    a4.add_argument("--user", default="bench")
    a4.add_argument("--password", default="bench")
    a4.add_argument("--runs", type=int, default=5)
    a4.add_argument("--json", default="/tmp/bench/server_paint.json")
    a3 = sub.add_parser("load")
    a3.add_argument("--url", required=True)
    a3.add_argument("--user", default="bench")
    a3.add_argument("--password", default="bench")
    a3.add_argument("--bodies", default="/tmp/bench/callbacks.json")
    a3.add_argument("--users", type=int, default=20)
    a3.add_argument("--seconds", type=int, default=60)
    a3.add_argument("--json", default="/tmp/bench/server_load.json")
    a = ap.parse_args()
    if a.cmd == "inproc":
        inproc(a.db, a.runs, a.json)
    elif a.cmd == "capture":
        paths = a.paths
        if not paths:
            from metrics.registry import load_model

            themes = sorted(load_model().themes)[:2]
            paths = ["/", "/department", "/drg", "/catalog", "/targets", "/health-page"] + [
                f"/theme/{t}" for t in themes]
        capture(a.url, a.user, a.password, a.out, paths)
    elif a.cmd == "paint":
        paint(a.url, a.user, a.password, a.runs, a.json)
    else:
        load_test(a.url, a.user, a.password, a.bodies, a.users, a.seconds, a.json)


if __name__ == "__main__":
    main()
