"""Wallboard responsiveness: the browser's long tasks (main thread busy > 50 ms) while a
screen refreshes, and the count-ups it showed.

    cockpit demo --scale small --no-serve
    cockpit wallboard tokens create probe           # prints the token
    cockpit serve --port 8094 &
    python benchmarks/bench_wallboard_longtasks.py \\
        "http://127.0.0.1:8094/wallboard?token=…&refresh=15" --seconds 90

`refresh=15` (allowed from this machine) runs the data callbacks 4× the production rate.
Prints one JSON line: seconds to the first number, DOM elements, long tasks (count, longest,
Σ, median, over 1 s) and `window.__wallboard.animations`. Headless Debian Chromium,
1920×1080. Results: REPORT_wallboard.md.
"""
from __future__ import annotations

import argparse
import json
import time


def main() -> None:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--seconds", type=int, default=90)
    args = ap.parse_args()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.add_init_script(
            "window.__long = []; new PerformanceObserver(l => { for (const e of "
            "l.getEntries()) window.__long.push(Math.round(e.duration)); })"
            ".observe({type: 'longtask', buffered: true});")
        t0 = time.time()
        page.goto(args.url)
        page.wait_for_selector("#wallboard-tile-opd_ed_visits .wb-num", state="attached",
                               timeout=180_000)
        first = time.time() - t0
        time.sleep(args.seconds)
        durations = sorted(page.evaluate("window.__long"))
        out = {"first_number_s": round(first, 1),
               "elements": page.evaluate("document.getElementsByTagName('*').length"),
               "long_tasks": len(durations), "max_ms": durations[-1] if durations else 0,
               "sum_ms": sum(durations),
               "p50_ms": durations[len(durations) // 2] if durations else 0,
               "over_1s": sum(d > 1000 for d in durations),
               "animations": page.evaluate("window.__wallboard.animations")}
        browser.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
