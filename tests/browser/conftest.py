"""Browser tests: one tiny demo hospital, one `cockpit serve` and one headless Chromium per
session (Debian's /usr/bin/chromium driven by Playwright's Python package; never
`playwright install`).

- `server` is the main server (base URL); its freshness limits are generous so no panel is
  stale and the pages look as they do on a day with current data.
- `stale_server` serves a copy of the same warehouse with one-minute limits: every panel is
  stale there.
- `expected` answers `metrics.service.query` on a third copy of the warehouse (the server holds
  its DuckDB file's lock), so a test compares the screen with the semantic layer itself.
- `context` records every request the browser makes (`context.requests`); `assert_local`
  checks that none left 127.0.0.1.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
PASSWORDS = {"director": "pw-director-1", "head": "pw-head-1", "finance": "pw-finance-1",
             "viewer": "pw-viewer-1"}
GENEROUS = ",".join(f"{t}=3650d" for t in (
    "fact_visit", "fact_inpatient", "fact_surgery", "fact_online_consult", "fact_charge",
    "fact_ward_census", "fact_clinic_session", "fact_admission_booking",
    "fact_drg_settlement"))
TINY = GENEROUS.replace("3650d", "1m")
#: page load budget (a cold overview asks for some forty queries on two cores)
TIMEOUT_MS = 90_000


# -- the warehouse, the users, the servers --------------------------------------------------

def _copy(src: Path, dst: Path) -> Path:
    shutil.copyfile(src, dst)
    wal = src.with_name(src.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, dst.with_name(dst.name + ".wal"))
    return dst


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> dict:
    """The tiny demo hospital (data up to now), three copies, and the users file."""
    from cockpit.auth import save_user
    from cockpit.commands.demo import build_demo
    from warehouse.engine import open_warehouse

    folder = tmp_path_factory.mktemp("browser")
    db = folder / "serve.duckdb"
    build_demo(str(db), "tiny", 42, as_of=None)
    expected = _copy(db, folder / "expected.duckdb")
    stale = _copy(db, folder / "stale.duckdb")
    wh = open_warehouse(str(expected), read_only=True)
    wards = [r[0] for r in wh.query_rows(
        "SELECT dept_id FROM dim_department d JOIN dim_campus c USING (campus_id) "
        "WHERE dept_type = 'clinical' AND has_ward AND campus_type = 'main' ORDER BY dept_id")]
    wh.close()
    assert len(wards) >= 2, "the tiny demo needs two main-campus departments with wards"
    users = folder / "users.yaml"
    save_user("director", PASSWORDS["director"], "leader", "院长", path=users)
    save_user("head", PASSWORDS["head"], "dept_head", "科主任", [wards[0]], path=users)
    save_user("finance", PASSWORDS["finance"], "finance", "医保办", path=users)
    save_user("viewer", PASSWORDS["viewer"], "viewer", "访客", path=users)
    return {"folder": folder, "db": db, "expected": expected, "stale": stale, "users": users,
            "head_dept": wards[0], "other_dept": wards[1]}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(db: Path, home: Path, users: Path, freshness: str, tz: str | None = None):
    import requests

    home.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = dict(os.environ, COCKPIT_HOME=str(home), COCKPIT_USERS=str(users),
               COCKPIT_REFRESH_SECONDS="3600", COCKPIT_FRESHNESS=freshness,
               COCKPIT_TZ=tz or os.environ.get("COCKPIT_TZ", "Asia/Shanghai"))
    env.pop("COCKPIT_REDIS_URL", None)
    env.pop("COCKPIT_TRUSTED_HEADER", None)
    log = open(home / "server.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "cockpit.cli", "serve", "--db", str(db),
                             "--port", str(port)], cwd=home, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            log.close()
            raise RuntimeError("cockpit serve exited:\n" +
                               (home / "server.log").read_text(errors="replace")[-3000:])
        try:
            if requests.get(base + "/health", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            proc.terminate()
            raise RuntimeError("cockpit serve did not answer /health within 120 s")
        time.sleep(0.3)
    return proc, base, log


def _stop(proc, log) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    log.close()


@pytest.fixture(scope="session")
def server(demo):
    proc, base, log = _start(demo["db"], demo["folder"] / "home", demo["users"], GENEROUS)
    yield base
    _stop(proc, log)


@pytest.fixture(scope="session")
def stale_server(demo):
    """The same data with one-minute freshness limits: every panel is stale. The server's
    clock runs an hour ahead (Tokyo), so rows the demo wrote seconds before the test still
    count as old (a demo built a minute ago is otherwise still "fresh" under a 1 m limit)."""
    proc, base, log = _start(demo["stale"], demo["folder"] / "home-stale", demo["users"], TINY,
                             tz="Asia/Tokyo")
    yield base
    _stop(proc, log)


# -- what the semantic layer says ---------------------------------------------------------

class Expected:
    """`metrics.service.query` on a copy of the served warehouse."""

    def __init__(self, path: Path):
        from metrics.registry import load_model
        from warehouse.engine import open_warehouse

        self.wh = open_warehouse(str(path), read_only=True)
        self.model = load_model()

    def query(self, metrics, by=(), grain=None, start=None, end=None, where=None,
              scope=None):
        from metrics.service import query
        from warehouse.settings import hospital_now

        return query(metrics, by, grain, start, end, where,
                     hospital_now().replace(second=0), scope, wh=self.wh, model=self.model)

    def hospital_campuses(self) -> list[str]:
        rows = self.wh.query_rows("SELECT campus_id, campus_type FROM dim_campus")
        return sorted(c for c, kind in rows if kind in ("main", "branch"))

    def text(self, value, metric: str, lang: str = "zh") -> str:
        from cockpit.formatting import fmt_number

        return fmt_number(value, self.model.metrics[metric].format, lang)


@pytest.fixture(scope="session")
def expected(demo):
    e = Expected(demo["expected"])
    yield e
    e.wh.close()


def month_range() -> tuple[dt.date, dt.date]:
    """The default view's range (this month so far, in the hospital's time zone)."""
    from cockpit.state import View

    return View().range()


# -- the browser -----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser(shared_chromium):
    return shared_chromium  # one Playwright driver per session (tests/conftest.py)


def _new_context(browser, base: str, **kw):
    ctx = browser.new_context(base_url=base, viewport={"width": 1440, "height": 900},
                              locale="zh-CN", timezone_id="Asia/Shanghai",
                              accept_downloads=True, **kw)
    ctx.set_default_timeout(TIMEOUT_MS)
    ctx.requests = []
    ctx.on("request", lambda r: ctx.requests.append(r.url))
    return ctx


@pytest.fixture
def context(browser, server):
    ctx = _new_context(browser, server)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def new_context(browser):
    """Factory for extra contexts (another user, the stale server); closed at teardown."""
    made = []

    def make(base: str):
        ctx = _new_context(browser, base)
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.close()


def login(page, user: str) -> None:
    """Sign in through the form at /login (the page's context has the server as base URL)."""
    page.goto("/login")
    page.fill("#username", user)
    page.fill("#password", PASSWORDS[user])
    page.click("#login-submit")
    page.wait_for_selector("#shell-root")


def foreign_hosts(urls) -> list[str]:
    """URLs whose host is not 127.0.0.1 (data: and blob: URLs stay in the page)."""
    out = []
    for u in urls:
        parts = urlsplit(u)
        if parts.scheme in ("data", "blob", "about", "chrome-extension"):
            continue
        if parts.hostname != "127.0.0.1":
            out.append(u)
    return out


def assert_local(ctx) -> None:
    assert ctx.requests, "no request was recorded"
    bad = foreign_hosts(ctx.requests)
    assert not bad, f"requests left 127.0.0.1: {bad[:10]}"


# -- waiting and reading ------------------------------------------------------------------

def settle(page) -> None:
    """Wait until Dash has no callback in flight and the network is quiet."""
    page.wait_for_load_state("networkidle")
    page.wait_for_function(
        "() => !document.querySelector('[data-dash-is-loading=\"true\"]')",
        timeout=TIMEOUT_MS)


def open_page(page, path: str, ready: list[str]) -> None:
    page.goto(path)
    for sel in ready:
        page.wait_for_selector(sel, state="attached")
    settle(page)


def tile_text(page, selector: str) -> str:
    """The formatted number of a KPI card: the value div's own text (without its unit)."""
    el = page.wait_for_selector(selector, state="attached")
    return el.evaluate("e => (e.firstChild ? e.firstChild.textContent : '').trim()")


def screenshot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="module")
def director(browser, server):
    """One signed-in director per test module (pages are opened by URL)."""
    ctx = _new_context(browser, server)
    page = ctx.new_page()
    login(page, "director")
    yield page
    ctx.close()
