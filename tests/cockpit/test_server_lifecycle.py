"""The serving process's start and stop, on a real `cockpit serve` subprocess (waitress).

Stopping: a wallboard keeps a browser connected (keep-alive, a callback every minute), and a
restart must not wait for it: on SIGTERM or SIGINT the server stops accepting, gives requests
in flight a short grace, closes every connection, stops its jobs, closes the warehouse and
exits 0 within seconds, so the next server (or the CLI) can open the DuckDB file at once.

Starting: Dash moves the pages' callbacks into its callback map on its first request; a screen
reconnecting to a restarted server sends several callbacks at once, and none may find the map
half-filled ("Callback function not found", HTTP 500). The requests here are the server's very
first: they are sent while it starts, before anything else has asked it anything.
"""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.cockpit.conftest import copy_tiny

pytestmark = pytest.mark.slow

STOP_WITHIN = 10  # seconds from the signal to the process's exit
GRACE = 5  # cockpit.server.STOP_GRACE: for requests in flight (and a running job)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`cockpit serve` in its own process group (so that nothing it starts outlives the
    test), on a private copy of the tiny warehouse."""

    def __init__(self, golden: Path, home: Path, **env_extra: str):
        from cockpit.auth import save_user

        self.home, self.port = home, _free_port()
        self.db = copy_tiny(golden, home)
        users = home / "users.yaml"
        mp = pytest.MonkeyPatch()
        mp.setenv("COCKPIT_USERS", str(users))
        try:
            save_user("boss", "boss-pw", "leader", "院长")
        finally:
            mp.undo()
        env = {**os.environ, "COCKPIT_HOME": str(home), "COCKPIT_USERS": str(users),
               **env_extra}
        for k in ("COCKPIT_REDIS_URL", "COCKPIT_SECRET", "COCKPIT_DB"):
            env.pop(k, None)
        self.log_path = home / "server.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cockpit.cli", "serve", "--db", str(self.db),
             "--port", str(self.port)], cwd=home, env=env, stdout=self._log,
            stderr=subprocess.STDOUT, start_new_session=True)

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_healthy(self, timeout: float = 90) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"the server exited ({self.proc.returncode}):\n{self.log()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                conn.request("GET", "/health")
                h = json.loads(conn.getresponse().read())
                conn.close()
                if h.get("jobs"):  # the first ingest has run
                    return h
            except OSError:
                pass
            time.sleep(0.1)
        pytest.fail("the server did not start:\n" + self.log())

    def stop(self) -> None:
        """Whatever the test did: nothing of the process group survives."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(10)
        finally:
            self._log.close()


@pytest.fixture
def start(tiny_golden, tmp_path):
    servers: list[Server] = []

    def _start(name: str, **env_extra: str) -> Server:
        s = Server(tiny_golden, tmp_path / name, **env_extra)
        servers.append(s)
        return s

    yield _start
    for s in servers:
        s.stop()


# -- stopping ------------------------------------------------------------------------------------
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_server_promptly_despite_open_connections(start, signum):
    import duckdb

    srv = start(signum.name)
    srv.wait_healthy()
    # a screen's keep-alive connection: a request answered, the connection left open
    idle = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=15)
    idle.request("GET", "/health")
    r = idle.getresponse()
    assert r.status == 200 and r.getheader("Connection", "").lower() != "close"
    r.read()
    # a client half-way through sending its request
    half = socket.create_connection(("127.0.0.1", srv.port), timeout=15)
    half.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    # and a request sent just before the signal (in flight: not yet answered, maybe not read)
    busy = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=15)
    busy.request("GET", "/health")

    t0 = time.monotonic()
    srv.proc.send_signal(signum)
    try:
        code = srv.proc.wait(STOP_WITHIN)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{signum.name} did not stop the server within {STOP_WITHIN}s "
                    f"(connections open):\n{srv.log()[-3000:]}")
    took = time.monotonic() - t0
    assert code == 0, srv.log()[-3000:]
    # nothing slow was running: the open connections did not use up the grace (5 s)
    assert took < GRACE, took
    # the request that had arrived was answered (the grace), the open connections closed
    b = busy.getresponse()
    assert b.status == 200 and json.loads(b.read())["status"]
    with pytest.raises((http.client.HTTPException, OSError)):
        idle.request("GET", "/health")
        idle.getresponse()
    half.settimeout(5)
    assert half.recv(100) == b""  # closed, not answered
    for c in (idle, busy, half):
        c.close()
    assert not (srv.home / ".cockpit-server.json").exists()
    # the warehouse is released: the next process opens it for writing at once
    con = duckdb.connect(str(srv.db))
    try:
        assert con.execute("select count(*) from _job_log").fetchone()[0] >= 1
    finally:
        con.close()


# -- starting ------------------------------------------------------------------------------------
ROUTER = {  # Dash pages' own callback, the first one a reopened screen sends
    "output": ".._pages_content.children..._pages_store.data..",
    "outputs": [{"id": "_pages_content", "property": "children"},
                {"id": "_pages_store", "property": "data"}],
    "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/health-page"},
               {"id": "_pages_location", "property": "search", "value": ""}],
    "state": [], "changedPropIds": ["_pages_location.pathname"]}
PAGE = {  # a page's callback (registered with `dash.callback`: moved at the first request)
    "output": "..health-summary.children...health-tables.children..",
    "outputs": [{"id": "health-summary", "property": "children"},
                {"id": "health-tables", "property": "children"}],
    "inputs": [{"id": "url", "property": "search", "value": ""},
               {"id": "shell-tick", "property": "n_intervals", "value": 0}],
    "state": [], "changedPropIds": ["url.search"]}


def _post_when_up(port: int, body: dict, go: threading.Event, out: list, deadline: float):
    """POST the callback as soon as the server accepts connections; (status, text) to `out`."""
    go.wait()
    data = json.dumps(body).encode()
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.request("POST", "/_dash-update-component", data, {
                "Content-Type": "application/json", "X-Remote-User": "boss",
                "Referer": f"http://127.0.0.1:{port}/health-page"})
            r = conn.getresponse()
            out.append((r.status, r.read().decode(errors="replace")[:300]))
            return
        except ConnectionRefusedError:
            time.sleep(0.01)
        except OSError as e:
            out.append((None, repr(e)))
            return
        finally:
            conn.close()
    out.append((None, "the server never accepted a connection"))


def test_the_first_callbacks_after_a_start_find_their_functions(start):
    srv = start("first", COCKPIT_TRUSTED_HEADER="X-Remote-User",
                COCKPIT_TRUSTED_PROXIES="127.0.0.1")
    go, out = threading.Event(), []
    deadline = time.monotonic() + 90
    threads = [threading.Thread(target=_post_when_up,
                                args=(srv.port, body, go, out, deadline), daemon=True)
               for body in [ROUTER, PAGE] * 6]
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join(100)
    assert len(out) == len(threads), srv.log()[-3000:]
    bad = [o for o in out if o[0] != 200]
    assert not bad, (bad, srv.log()[-3000:])
    assert srv.proc.poll() is None
