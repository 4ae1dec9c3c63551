"""Fixtures of the wallboard tests: one tiny demo warehouse per session (copied per module),
and a real `cockpit serve` process for the browser tests (restartable on the same port)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.cockpit.conftest import copy_tiny

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
FAST = """title: 医院运营大屏
pages:
  - {page: overview, seconds: 6}
  - {page: network, seconds: 6}
  - {page: departments, seconds: 6}
  - {page: trends, seconds: 6}
"""


@pytest.fixture(scope="session")
def wb_golden(tmp_path_factory) -> Path:
    """The tiny demo hospital (seed 42, as of now), built once per session; copy, don't write."""
    from cockpit.commands.demo import build_demo

    path = tmp_path_factory.mktemp("wb-golden") / "t.duckdb"
    build_demo(str(path), "tiny", 42)
    return path


def copy_db(golden: Path, folder: Path, name: str = "w.duckdb") -> Path:
    return copy_tiny(golden, folder, name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: `cockpit` with the wallboard commands registered even before cockpit/cli.py lists them
CLI = ("import sys, cockpit.cli as c\n"
       "if 'wallboard' not in c.COMMAND_MODULES: c.COMMAND_MODULES += ('wallboard',)\n"
       "sys.argv[0] = 'cockpit'; c.main()")


class Server:
    """`cockpit serve` in its own process, its own home; stop() and start() on the same port."""

    def __init__(self, db: Path, home: Path, port: int, refresh_seconds: int = 2):
        self.db, self.home, self.port = db, home, port
        self.env = dict(os.environ, COCKPIT_HOME=str(home), COCKPIT_DB=str(db),
                        COCKPIT_REFRESH_SECONDS=str(refresh_seconds),
                        COCKPIT_USERS=str(home / "users.yaml"))
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> None:
        log = open(self.home / "server.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cockpit.cli", "serve", "--db", str(self.db), "--port",
             str(self.port)], cwd=str(ROOT), env=self.env, stdout=log, stderr=subprocess.STDOUT)
        t0 = time.time()
        while time.time() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {(self.home / 'server.log').read_text()}")
            try:
                urllib.request.urlopen(self.url + "/health", timeout=2).read()
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("server did not come up")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        """`cockpit …` against this server's home (talks to its local API while it runs)."""
        return subprocess.run([sys.executable, "-c", CLI, *args], cwd=str(self.home),
                              env=self.env, capture_output=True, text=True, timeout=120)


def new_token(db: Path, name: str, campus: str | None = None) -> str:
    from warehouse.engine import open_warehouse
    from wallboard.tokens import create

    wh = open_warehouse(str(db))
    try:
        return create(wh, name, campus)[0]
    finally:
        wh.close()


def launch_browser(p):
    return p.chromium.launch(executable_path="/usr/bin/chromium",
                             args=["--no-sandbox", "--enable-precise-memory-info"])
