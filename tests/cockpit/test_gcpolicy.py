"""The collector policy of the cockpit's processes (`cockpit.gcpolicy`): rare collections
while starting, then start-up's objects frozen out of every later collection's walk. Each
check runs in a fresh interpreter: a freeze is for the life of a process."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from tests.cockpit.conftest import copy_tiny


def _run(code: str, **env) -> dict:
    import os

    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, timeout=300, env={**os.environ, **env})
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_starting_then_settled():
    got = _run("""
        import gc, json
        from cockpit import gcpolicy
        before = gc.get_freeze_count()
        gcpolicy.starting()
        during = gc.get_threshold()
        import pandas, sqlglot  # start-up's long-lived objects
        gcpolicy.settled()
        print(json.dumps(dict(before=before, during=during, frozen=gc.get_freeze_count(),
                              after=gc.get_threshold(), enabled=gc.isenabled())))
    """)
    assert got["before"] == 0 and got["frozen"] > 10_000
    assert got["during"][0] > 10 * got["after"][0]
    assert tuple(got["after"]) == (700, 10, 10) and got["enabled"]


def test_the_server_settles_once_built_with_every_facts_sql_rendered(tiny_golden, tmp_path):
    """`cockpit serve` (waitress replaced by a stand-in that reports and returns)."""
    db = copy_tiny(tiny_golden, tmp_path)
    got = _run(f"""
        import gc, json
        import waitress
        from metrics import prebuilt, sqlbuild
        from cockpit import data, server

        class Stub:
            def run(self):
                print(json.dumps(dict(
                    frozen=gc.get_freeze_count(), threshold=gc.get_threshold(),
                    rows=len(sqlbuild._FACT_ROWS), facts=len(data.model().facts),
                    texts=sum(d == "duckdb" for _, d in prebuilt._TEXTS))))
            def close(self):
                pass

        waitress.create_server = lambda *a, **k: Stub()
        server.serve({str(db)!r}, port=0)
    """, COCKPIT_HOME=str(tmp_path), COCKPIT_WARM_PATHS="")
    assert got["frozen"] > 50_000  # Dash, pandas, the model: out of the collector's walks
    assert tuple(got["threshold"]) == (700, 10, 10)
    assert got["rows"] == got["facts"]  # no query pays for building a fact's rows SQL…
    assert got["texts"] >= got["facts"]  # …nor for rendering it in the warehouse's dialect


def test_building_the_app_alone_freezes_nothing(tiny_golden, tmp_path):
    """Tests and benchmarks build apps in-process: a freeze there would keep each one alive."""
    db = copy_tiny(tiny_golden, tmp_path)
    got = _run(f"""
        import gc, json
        from cockpit.server import build
        build({str(db)!r}, start_jobs=False)
        print(json.dumps(dict(frozen=gc.get_freeze_count())))
    """, COCKPIT_HOME=str(tmp_path))
    assert got["frozen"] == 0
