"""While `cockpit serve` owns the warehouse, `cockpit query` asks its local API (same JSON as
without the server) and `cockpit load` hands files to its inbox, which the server loads
within its refresh interval (DESIGN.md decision 4). A real server runs in a subprocess."""
from __future__ import annotations

import gc
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tests.cockpit.conftest import copy_tiny
from warehouse.contract import TABLES

QUERY = ["query", "--metric", "opd_visits", "--metric", "discharges", "--by", "campus",
         "--grain", "day", "--from", "2026-11-20", "--to", "2026-11-25",
         "--as-of", "2026-11-25 10:00", "--format", "json"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(*modules):
    from cockpit.commands import load as load_cmd
    from cockpit.commands import query as query_cmd

    app = typer.Typer()
    for m in modules or (load_cmd, query_cmd):
        m.register(app)

    @app.callback()
    def _cb():  # keep sub-commands named
        pass

    return app


def run_cli(*args):
    return CliRunner().invoke(cli(), list(args))


def get_json(port: int, path: str):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        return json.loads(r.read())


@pytest.fixture(scope="module")
def server(tiny_golden, tmp_path_factory):
    home = tmp_path_factory.mktemp("handoff-home")
    db = copy_tiny(tiny_golden, home)
    mp = pytest.MonkeyPatch()
    for k in ("COCKPIT_REDIS_URL", "COCKPIT_SECRET", "COCKPIT_DB"):
        mp.delenv(k, raising=False)
    mp.setenv("COCKPIT_HOME", str(home))
    mp.setenv("COCKPIT_USERS", str(home / "users.yaml"))
    # the answer without a server: the CLI opens the file itself (read-only)
    alone = run_cli(*QUERY, "--db", str(db))
    assert alone.exit_code == 0, alone.output
    gc.collect()  # the CLI leaves its read-only handle to the garbage collector
    port = _free_port()
    env = {**os.environ, "COCKPIT_HOME": str(home), "COCKPIT_USERS": str(home / "users.yaml"),
           "COCKPIT_REFRESH_SECONDS": "2"}
    for k in ("COCKPIT_REDIS_URL", "COCKPIT_SECRET", "COCKPIT_DB"):
        env.pop(k, None)
    log = open(home / "server.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "cockpit.cli", "serve", "--db", str(db),
                             "--port", str(port)], cwd=home, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while True:
        try:
            if (home / ".cockpit-server.json").exists() and get_json(port, "/health")["jobs"]:
                break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.close()
            pytest.fail("the server did not start:\n" + (home / "server.log").read_text())
        time.sleep(0.2)
    yield {"home": home, "db": db, "port": port, "proc": proc, "alone": alone.stdout, "mp": mp}
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    log.close()
    mp.undo()


def test_the_server_announces_itself(server):
    from cockpit.localapi import server_for as _server_for
    from cockpit.server import running_server, server_file

    f = server_file()
    assert f == server["home"] / ".cockpit-server.json"
    assert stat.S_IMODE(os.stat(f).st_mode) == 0o600
    info = running_server()
    assert info["pid"] == server["proc"].pid and info["port"] == server["port"]
    assert len(info["token"]) >= 32
    assert Path(info["db"]).resolve() == server["db"].resolve()
    assert _server_for(str(server["db"])) == info
    assert _server_for(str(server["home"] / "other.duckdb")) is None


def test_health_over_http(server):
    h = get_json(server["port"], "/health")
    assert h["status"] == "ok", h.get("failing")
    assert any(j["job"] == "ingest" and j["status"] == "ok" for j in h["jobs"])


def test_query_asks_the_server_and_answers_the_same_json(server, monkeypatch):
    from cockpit.commands import query as query_mod

    asked = []
    real = query_mod.ask_server
    monkeypatch.setattr(query_mod, "ask_server", lambda *a, **k: asked.append(1) or real(*a, **k))
    res = run_cli(*QUERY, "--db", str(server["db"]))
    assert res.exit_code == 0, res.output
    assert asked == [1]
    rows = json.loads(res.stdout)
    assert rows == json.loads(server["alone"])
    assert rows and {r["campus"] for r in rows} >= {"C01", "C02"}


def test_query_errors_come_back_from_the_server(server):
    res = run_cli("query", "--metric", "opd_visits", "--from", "2026-11-25", "--to",
                  "2026-11-01", "--db", str(server["db"]))
    assert res.exit_code != 0
    assert "after" in str(res.exception) or "after" in res.output


def test_query_with_labels_while_the_server_runs(server):
    """`--labels` skips the server and opens the DuckDB file itself, which the server holds
    (DuckDB: 'Could not set lock on file'). While a server runs, the labels must come from it
    too (e.g. /api/query with "labels": true)."""
    res = run_cli("query", "--metric", "opd_visits", "--by", "campus", "--from", "2026-11-01",
                  "--to", "2026-11-25", "--labels", "--format", "json", "--db",
                  str(server["db"]))
    assert res.exit_code == 0, repr(res.exception)
    rows = json.loads(res.stdout)
    assert rows and all(len(r) > 2 for r in rows)  # campus, a name column, the metric


def test_targets_commands_run_inside_the_server(server, tmp_path):
    """The server holds the file, so `cockpit targets …` (reads and writes) go through its
    local API; what they write is what the cockpit then shows."""
    import urllib.error

    from cockpit.commands import targets as targets_cmd

    def targets(*args):
        return CliRunner().invoke(cli(targets_cmd), ["targets", *args, "--db", str(server["db"])])

    res = targets("set", "medical_revenue", "--year", "2026", "--value", "1000000",
                  "--reserve", "50000", "--author", "财务处")
    assert res.exit_code == 0, repr(res.exception)
    assert "medical_revenue 2026 hospital: version " in res.output
    v = int(res.output.split("version ")[1].split()[0])  # after the demo's own targets
    res = targets("cascade", "medical_revenue", "--year", "2026", "--to", "campus",
                  "--method", "equal", "--format", "json")
    assert res.exit_code == 0, repr(res.exception)
    alloc = json.loads(res.output)
    assert len(alloc) >= 2 and sum(r["value"] for r in alloc) == 950000
    res = targets("show", "medical_revenue", "--year", "2026", "--history", "--format", "json")
    versions = json.loads(res.output)
    assert [x["version"] for x in versions][-2:] == [v, v + 1]
    assert versions[-2]["author"] == "财务处"
    res = targets("progress", "medical_revenue", "--year", "2026", "--level", "hospital",
                  "--as-of", "2026-11-25 10:00", "--format", "json")
    assert res.exit_code == 0, repr(res.exception)
    assert json.loads(res.output)[0]["target"] == 1000000
    out = tmp_path / "targets.csv"
    assert targets("export", str(out)).exit_code == 0 and out.exists()
    res = targets("cascade", "medical_revenue", "--year", "2026", "--to", "campus",
                  "--hold", "C01=5000000")
    assert res.exit_code != 0 and "release a hold" in str(res.exception)  # server-side
    req = urllib.request.Request(f"http://127.0.0.1:{server['port']}/api/targets", method="POST",
                                 data=b'{"action": "show"}',
                                 headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(req, timeout=10)
    assert denied.value.code == 403  # no token: refused


def _visits_file(server, tmp: Path, n: int) -> Path:
    """New visits on 2026-11-25, written from a read of the golden rows (via the server)."""
    import duckdb

    cols = ", ".join(TABLES["fact_visit"].column_names)
    src = tmp / "fact_visit.csv"
    con = duckdb.connect()
    con.execute(f"ATTACH '{server['golden']}' AS g (READ_ONLY)")
    con.execute(f"""COPY (SELECT {cols} FROM (
        SELECT 'VHAND' || row_number() OVER () AS visit_id, * EXCLUDE (visit_id)
        FROM (SELECT * FROM g.fact_visit WHERE visit_ts BETWEEN TIMESTAMP '2026-11-25 00:00'
              AND TIMESTAMP '2026-11-25 09:00' AND visit_type = 'outpatient'
              ORDER BY visit_id LIMIT {n}))) TO '{src}' (HEADER)""")
    con.close()
    return src


@pytest.fixture()
def golden_path(server, tiny_golden):
    server["golden"] = tiny_golden
    return tiny_golden


def test_load_hands_over_and_the_server_loads_within_its_interval(server, golden_path,
                                                                    tmp_path):
    port = server["port"]
    day = ["query", "--metric", "opd_visits", "--from", "2026-11-25", "--to", "2026-11-25",
           "--as-of", "2026-11-25 10:00", "--format", "json", "--db", str(server["db"])]
    before = json.loads(run_cli(*day).stdout)[0]["opd_visits"]
    loads_before = {ld["load_id"] for ld in get_json(port, "/health")["loads"]}
    src = _visits_file(server, tmp_path, 4)
    res = run_cli("load", str(src), "--db", str(server["db"]))
    assert res.exit_code == 0, res.output
    assert "inbox" in res.output
    assert src.exists()  # copied, not moved
    deadline = time.monotonic() + 60
    new = []
    while time.monotonic() < deadline:
        h = get_json(port, "/health")
        new = [ld for ld in h["loads"] if ld["load_id"] not in loads_before]
        refreshed = new and any(r["load_id"] >= new[0]["load_id"] for r in h["refreshes"])
        if refreshed:
            break
        time.sleep(0.25)
    assert new, "the server did not load the handed-over file within a minute"
    assert new[0]["rows_changed"] == 4 and "fact_visit" in new[0]["source"]
    assert h["status"] == "ok", h.get("failing")
    inbox = server["home"] / "inbox"
    assert not list(inbox.glob("*.csv")) and not list(inbox.glob("*.part"))
    assert list((server["home"] / "archive").rglob("fact_visit*.csv"))
    after = json.loads(run_cli(*day).stdout)[0]["opd_visits"]
    assert after == before + 4


def test_stopping_the_server_removes_its_file(server):
    from cockpit.localapi import server_for as _server_for
    from cockpit.server import running_server

    proc = server["proc"]
    proc.send_signal(signal.SIGTERM)
    proc.wait(20)
    assert not (server["home"] / ".cockpit-server.json").exists()
    assert running_server() is None and _server_for(str(server["db"])) is None
    # and the CLI opens the file itself again
    res = run_cli(*QUERY, "--db", str(server["db"]))
    assert res.exit_code == 0, res.output
    gc.collect()
    rows, alone = json.loads(res.stdout), json.loads(server["alone"])
    assert [(r["period"], r["campus"]) for r in rows] == [(r["period"], r["campus"]) for r in alone]
    total = sum(r["opd_visits"] for r in rows)
    assert total == sum(r["opd_visits"] for r in alone) + 4  # what the server loaded
