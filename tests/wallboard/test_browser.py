"""The wallboard in headless Chromium against a real `cockpit serve` process: screenshots at
1080p, 4K and a laptop (saved to test-artifacts/screenshots/wallboard-*.png), rotation without
reload, a file dropped into the inbox reaching the screen, the stale marker when the server
stops and its recovery when the server returns on the same port, a revoked token refused, and a
short heap soak (the 30-minute one is benchmarks/bench_wallboard_soak.py)."""
from __future__ import annotations

import datetime as dt
import time

import pytest

from .conftest import FAST, SHOTS, Server, copy_db, free_port, new_token

pytestmark = [pytest.mark.browser, pytest.mark.slow]
import playwright.sync_api as playwright  # noqa: E402,F401

LIVE_NUM = "#wallboard-tile-opd_ed_visits .wb-num"


@pytest.fixture(scope="module")
def server(wb_golden, tmp_path_factory):
    home = tmp_path_factory.mktemp("wb-home")
    db = copy_db(wb_golden, home)
    (home / "playlists").mkdir()
    (home / "playlists" / "fast.yaml").write_text(FAST, encoding="utf-8")
    tokens = {"screen": new_token(db, "screen"), "doomed": new_token(db, "doomed")}
    srv = Server(db, home, free_port(), refresh_seconds=2)
    srv.start()
    srv.tokens = tokens
    srv.golden = wb_golden
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser(shared_chromium):
    return shared_chromium  # one Playwright driver per session (tests/conftest.py)


def open_board(browser, server, path="/wallboard", query="", size=(1920, 1080),
               token="screen", wait_graphs=True):
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    url = f"{server.url}{path}?token={server.tokens[token]}" + (f"&{query}" if query else "")
    page.goto(url)
    page.wait_for_selector(LIVE_NUM, state="attached", timeout=120_000)
    if wait_graphs:
        page.wait_for_selector(".wb-page.active .wb-section", timeout=120_000)
        page.wait_for_function("document.querySelectorAll('.wb-page.active .main-svg').length"
                               " > 0 || !document.querySelector('.wb-page.active .wb-graph')",
                               timeout=60_000)
    page.evaluate("window.__noReload = 1")
    return page


def status(page) -> str:
    return page.inner_text("#wallboard-status-text")


@pytest.mark.parametrize("size, tag", [((1920, 1080), "1080p"), ((3840, 2160), "4k"),
                                       ((1440, 900), "laptop")])
def test_screenshots_scale_the_canvas(browser, server, size, tag):
    page = open_board(browser, server, size=size)
    time.sleep(2.0)                                   # graphs drawn, number animations done
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"wallboard-{tag}.png"))
    box = page.locator("#wallboard-canvas").bounding_box()
    scale = min(size[0] / 1920, size[1] / 1080)
    assert box["width"] == pytest.approx(1920 * scale, abs=2)
    assert box["height"] == pytest.approx(1080 * scale, abs=2)
    assert box["x"] == pytest.approx((size[0] - box["width"]) / 2, abs=2)   # letterboxed
    assert box["y"] == pytest.approx((size[1] - box["height"]) / 2, abs=2)
    assert not page.locator(".shell-header").is_visible()                  # no cockpit shell
    # large digits: the live numbers are at least 60 design px, scaled with the screen
    px = page.eval_on_selector(LIVE_NUM, "e => e.getBoundingClientRect().height")
    assert px >= 60 * scale
    # Chinese labels, no fake numbers in reserved room
    assert "今日门急诊人次" in page.inner_text("#wallboard-live")
    assert "建设中" in page.inner_text("#wallboard-sec-alerts")
    page.close()


def test_rotation_advances_without_reload(browser, server):
    page = open_board(browser, server, "/wallboard/fast")
    seen, t0 = [], time.time()
    while time.time() - t0 < 40 and len(seen) < 4:
        cur = page.evaluate("document.documentElement.getAttribute('data-wb-page')")
        if cur and (not seen or seen[-1] != cur):
            seen.append(cur)
            if len(seen) > 1:                         # a screenshot of each page, for review
                time.sleep(1.2)
                page.screenshot(path=str(SHOTS / f"wallboard-1080p-{cur}.png"))
        time.sleep(0.25)
    # pages follow each other in the playlist's order (a busy browser may skip one)
    assert set(seen) <= {"overview", "network", "departments", "trends"}
    assert len(set(seen)) >= 3, seen
    assert page.evaluate("window.__noReload") == 1
    active = page.locator(".wb-page.active")
    assert active.count() == 1
    assert page.inner_text("#wallboard-pagetitle") in ("运营总览", "院区与医联体", "科室排名",
                                                      "运行趋势")
    page.close()


def _visits_csv(golden, path, n: int) -> None:
    """n outpatient visits at the main campus registered a minute ago (hospital time)."""
    import duckdb

    from warehouse.settings import hospital_now

    now = hospital_now()
    ts = max(now - dt.timedelta(minutes=1), now.replace(hour=0, minute=0, second=5))
    con = duckdb.connect(str(golden), read_only=True)
    try:
        df = con.sql("SELECT * EXCLUDE (_part_date) FROM fact_visit WHERE campus_id = 'C01' "
                     "AND visit_type = 'outpatient' LIMIT ?", params=[n]).df()
    finally:
        con.close()
    df["visit_id"] = [f"VWALLBOARD{ts:%H%M%S}{i:03d}" for i in range(len(df))]
    df["visit_ts"] = ts
    for col in ("slot_start_ts", "checkin_ts", "seen_ts", "booking_channel"):
        df[col] = None
    df["is_appointment"] = False
    tmp = path.with_suffix(".part")
    df.to_csv(tmp, index=False)
    tmp.rename(path)


def test_inbox_file_reaches_the_screen(browser, server):
    page = open_board(browser, server, "/wallboard/fast", "refresh=1")
    before = float(page.get_attribute(LIVE_NUM, "data-value") or 0)
    # every frame's text of today's visits, to see it count up (the refresh rebuilds the tile)
    page.evaluate("""sel => { window.__seen = []; const tick = () => {
        const el = document.querySelector(sel); if (el) window.__seen.push(el.textContent);
        if (window.__seen.length < 50000) requestAnimationFrame(tick); };
        requestAnimationFrame(tick); }""", LIVE_NUM)
    inbox = server.home / "inbox"
    inbox.mkdir(exist_ok=True)
    _visits_csv(server.golden, inbox / "fact_visit.csv", 7)
    t0 = time.time()
    page.wait_for_function(
        f"parseFloat(document.querySelector('{LIVE_NUM}').getAttribute('data-value')) >= "
        f"{before + 7}", timeout=120_000)
    took = time.time() - t0
    assert took < 120
    assert page.evaluate("window.__noReload") == 1              # no reload happened
    time.sleep(1.5)                                             # the count-up animation ends
    assert page.inner_text(LIVE_NUM).replace(",", "") == str(int(before + 7))
    # the number counted up through values between the old and the new one
    seen = {int(t.replace(",", "")) for t in page.evaluate("window.__seen")
            if t.replace(",", "").isdigit()}
    assert seen & set(range(int(before) + 1, int(before) + 7)), sorted(seen)[-12:]
    assert page.evaluate("window.__wallboard.animations") > 0
    page.close()


def test_stale_marker_while_the_server_is_away(browser, server):
    page = open_board(browser, server, "/wallboard/fast", "refresh=1")
    page.wait_for_function("document.getElementById('wallboard-status-text').textContent"
                           ".startsWith('实时')", timeout=30_000)
    shown = page.inner_text(LIVE_NUM)
    server.stop()
    try:
        page.wait_for_function("document.getElementById('wallboard-status-text').textContent"
                               ".startsWith('连接中断')", timeout=30_000)
        text = status(page)
        assert "数据截至" in text and any(ch.isdigit() for ch in text)
        page.screenshot(path=str(SHOTS / "wallboard-1080p-disconnected.png"))
        assert page.inner_text(LIVE_NUM) == shown                # the last data, not blanks
        assert page.locator("#wallboard-root.wb-disconnected").count() == 1
    finally:
        server.start()                                          # the same port
    page.wait_for_function("document.getElementById('wallboard-status-text').textContent"
                           ".startsWith('实时')", timeout=90_000)
    assert page.locator("#wallboard-root.wb-disconnected").count() == 0
    assert page.evaluate("window.__noReload") == 1
    page.close()


def test_revoked_token_is_refused(browser, server):
    page = open_board(browser, server, "/wallboard/fast", "refresh=1", token="doomed",
                      wait_graphs=False)
    r = server.cli("wallboard", "tokens", "revoke", "doomed")
    assert r.returncode == 0, r.stderr
    page.wait_for_function("document.getElementById('wallboard-status-text').textContent"
                           ".startsWith('访问令牌已失效')", timeout=60_000)
    fresh = browser.new_page()
    resp = fresh.goto(f"{server.url}/wallboard?token={server.tokens['doomed']}")
    assert resp.status == 403 and "令牌无效或已撤销" in fresh.inner_text("body")
    listed = server.cli("wallboard", "tokens", "list", "--format", "json")
    assert '"doomed"' in listed.stdout and listed.returncode == 0
    fresh.close()
    page.close()


def test_short_soak_heap_is_flat(browser, server):
    """≤ 70 s of refresh=1 and 6 s pages: the live heap (after a forced GC) does not keep
    growing. The live heap wanders by ±2 MB once every page is drawn (the 30-minute soak,
    benchmarks/bench_wallboard_soak.py, measured 23–30 MB), so a short run can only catch a
    steady leak: every step up by more than noise, or growth beyond the soak's whole range."""
    page = open_board(browser, server, "/wallboard/fast", "refresh=1")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")

    def live_heap() -> float:
        cdp.send("HeapProfiler.collectGarbage")
        m = {x["name"]: x["value"] for x in cdp.send("Performance.getMetrics")["metrics"]}
        return m["JSHeapUsedSize"] / 2**20

    time.sleep(24)                                   # warm-up: every page drawn twice
    samples = []
    for _ in range(8):
        samples.append(live_heap())
        time.sleep(5)
    growth = samples[-1] - samples[0]
    steady = all(b - a > 0.1 for a, b in zip(samples, samples[1:]))
    assert not (steady and growth > 1.0), samples
    assert growth < 4.0, samples
    assert page.evaluate("window.__wallboard.oks") > 30
    page.close()
