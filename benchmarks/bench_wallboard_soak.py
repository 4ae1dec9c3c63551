"""Wallboard soak: does a screen's JavaScript heap stay flat over hours?

Starts a cockpit server (`cockpit serve`, its own home and a copy of the warehouse), creates a
kiosk token, opens the wallboard in headless Chromium with accelerated refresh (`?refresh=1`:
every callback every second instead of every minute, so 30 minutes ≈ 30 hours of a screen) and
a fast playlist (pages rotate every 5 s), and samples the heap through CDP every
`--sample` seconds:

- `JSHeapUsedSize` from `Performance.getMetrics` as the page has it (garbage included), and
- the same after a forced collection (`HeapProfiler.collectGarbage`): the live heap, the
  number that must not grow;
- DOM nodes, JS event listeners and documents (leaks of detached nodes show here).

    python benchmarks/bench_wallboard_soak.py --minutes 30 --db /path/demo.duckdb \
        --json benchmarks/wallboard_soak.json

Without `--db` a tiny demo warehouse is built first (~20 s). The verdict: the live heap's
growth from the first sample after warm-up (minute 2) to the last, and a least-squares slope
over the samples after warm-up, in KB per minute (flat: |slope| < 50 KB/min, which would be
< 72 MB a day even at this 60× accelerated rate).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FAST = """title: 医院运营大屏
pages:
  - {page: overview, seconds: 5}
  - {page: network, seconds: 5}
  - {page: departments, seconds: 5}
  - {page: trends, seconds: 5}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: Path, home: Path, port: int, refresh_seconds: int = 60) -> subprocess.Popen:
    env = dict(os.environ, COCKPIT_HOME=str(home), COCKPIT_DB=str(db),
               COCKPIT_REFRESH_SECONDS=str(refresh_seconds),
               COCKPIT_USERS=str(home / "users.yaml"))
    log = open(home / f"server-{port}.log", "ab")
    proc = subprocess.Popen([sys.executable, "-m", "cockpit.cli", "serve", "--db", str(db),
                             "--port", str(port)], cwd=str(ROOT), env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    wait_up(port, proc)
    return proc


def wait_up(port: int, proc: subprocess.Popen | None = None, timeout: float = 90) -> None:
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).read()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("server did not come up")


def create_token(db: Path, name: str, campus: str | None = None) -> str:
    """A kiosk token written straight into the warehouse (before the server opens it)."""
    from warehouse.engine import open_warehouse
    from wallboard.tokens import create

    wh = open_warehouse(str(db))
    try:
        return create(wh, name, campus)[0]
    finally:
        wh.close()


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (x, y)."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    den = sum((p[0] - mx) ** 2 for p in points) or 1.0
    return sum((p[0] - mx) * (p[1] - my) for p in points) / den


def soak(url: str, minutes: float, sample_s: float, out=print) -> list[dict]:
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--no-sandbox", "--enable-precise-memory-info"])
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        page.goto(url)
        page.wait_for_selector(".wb-tile-label", state="attached", timeout=180000)
        t0 = time.time()
        end = t0 + minutes * 60
        nxt = t0
        while True:
            now = time.time()
            if now >= nxt:
                m = {x["name"]: x["value"] for x in cdp.send("Performance.getMetrics")["metrics"]}
                raw = m.get("JSHeapUsedSize", 0)
                cdp.send("HeapProfiler.collectGarbage")
                m2 = {x["name"]: x["value"]
                      for x in cdp.send("Performance.getMetrics")["metrics"]}
                st = page.evaluate("window.__wallboard ? {oks: window.__wallboard.oks, "
                                   "fails: window.__wallboard.fails} : {}")
                row = {"minute": round((now - t0) / 60, 2), "heap_used_mb": raw / 2**20,
                       "heap_after_gc_mb": m2.get("JSHeapUsedSize", 0) / 2**20,
                       "heap_total_mb": m2.get("JSHeapTotalSize", 0) / 2**20,
                       "nodes": int(m2.get("Nodes", 0)),
                       "listeners": int(m2.get("JSEventListeners", 0)),
                       "documents": int(m2.get("Documents", 0)),
                       "callbacks_ok": st.get("oks"), "callbacks_failed": st.get("fails")}
                rows.append(row)
                out(json.dumps(row))
                nxt += sample_s
                if now >= end:
                    break
            page.wait_for_timeout(min(1000, max(50, (nxt - time.time()) * 1000)))
        browser.close()
    return rows


def verdict(rows: list[dict], warmup_min: float = 2.0) -> dict:
    after = [r for r in rows if r["minute"] >= warmup_min] or rows
    pts = [(r["minute"], r["heap_after_gc_mb"]) for r in after]
    return {"samples": len(rows), "minutes": rows[-1]["minute"] if rows else 0,
            "live_heap_first_mb": round(after[0]["heap_after_gc_mb"], 2),
            "live_heap_last_mb": round(after[-1]["heap_after_gc_mb"], 2),
            "live_heap_max_mb": round(max(r["heap_after_gc_mb"] for r in after), 2),
            "live_heap_slope_kb_per_min": round(slope(pts) * 1024, 1),
            "nodes_first": after[0]["nodes"], "nodes_last": after[-1]["nodes"],
            "nodes_max": max(r["nodes"] for r in after),
            "listeners_first": after[0]["listeners"], "listeners_last": after[-1]["listeners"],
            "callbacks_ok": rows[-1].get("callbacks_ok"),
            "callbacks_failed": rows[-1].get("callbacks_failed")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--sample", type=float, default=60, help="seconds between samples")
    ap.add_argument("--db", help="a warehouse to copy (default: build the tiny demo)")
    ap.add_argument("--json", help="write samples and verdict here")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="wallboard-soak-"))
    db = work / "soak.duckdb"
    if args.db:
        shutil.copyfile(args.db, db)
    else:
        from cockpit.commands.demo import build_demo

        build_demo(str(db), "tiny", 42)
    (work / "playlists").mkdir()
    (work / "playlists" / "fast.yaml").write_text(FAST, encoding="utf-8")
    token = create_token(db, "soak")
    port = free_port()
    proc = start_server(db, work, port)
    try:
        url = f"http://127.0.0.1:{port}/wallboard/fast?refresh=1&token={token}"
        print(f"soak {args.minutes} min at {url}", flush=True)
        rows = soak(url, args.minutes, args.sample, out=lambda s: print(s, flush=True))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    v = verdict(rows)
    print(json.dumps(v, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps({"verdict": v, "samples": rows}, indent=2),
                                   encoding="utf-8")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
