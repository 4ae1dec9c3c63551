"""The engine layer: independent statements answered together (`Warehouse.query_frames`)."""
from __future__ import annotations

import threading
import time

import duckdb
import pytest

from warehouse.engine import open_warehouse


@pytest.fixture()
def wh(tmp_path, monkeypatch):
    monkeypatch.setenv("COCKPIT_QUERY_THREADS", "3")
    w = open_warehouse(str(tmp_path / "w.duckdb"))
    w.execute("CREATE TABLE t AS SELECT range AS i FROM range(1000)")
    yield w
    w.close()


def test_query_frames_answers_in_order_on_several_threads(wh):
    seen: set[str] = set()
    original = wh.query_df

    def spy(sql, params=None):
        name = threading.current_thread().name
        if not seen and not name.startswith("cockpit-query"):
            time.sleep(0.05)  # the caller's first statement is slow: the pool takes the next
        seen.add(name)
        return original(sql, params)

    wh.query_df = spy
    statements = [f"SELECT count(*) AS n FROM t WHERE i < {k}" for k in range(1, 40)]
    frames = wh.query_frames(statements)
    assert [int(f["n"][0]) for f in frames] == list(range(1, 40))
    assert threading.current_thread().name in seen  # the caller takes statements too
    assert any(n.startswith("cockpit-query") for n in seen)


def test_query_frames_raises_the_failing_statement_and_stays_usable(wh):
    with pytest.raises(duckdb.Error, match="no_such_table"):
        wh.query_frames(["SELECT 1 AS x", "SELECT * FROM no_such_table", "SELECT 2 AS x"])
    assert [int(f["x"][0]) for f in wh.query_frames(["SELECT 3 AS x", "SELECT 4 AS x"])] == [3, 4]


def test_one_query_thread_runs_statements_in_the_callers_thread(tmp_path, monkeypatch):
    monkeypatch.setenv("COCKPIT_QUERY_THREADS", "1")
    wh = open_warehouse(":memory:")
    frames = wh.query_frames(["SELECT 1 AS x", "SELECT 2 AS x"])
    assert [int(f["x"][0]) for f in frames] == [1, 2]
    assert wh._pool is None  # no threads were started
    wh.close()


def test_query_frames_sees_committed_data_of_the_callers_cursor(wh):
    wh.execute("INSERT INTO t VALUES (5000)")  # autocommitted on the caller's cursor
    frames = wh.query_frames(["SELECT max(i) AS m FROM t"] * 4)
    assert {int(f["m"][0]) for f in frames} == {5000}


def test_query_threads_setting(monkeypatch):
    from warehouse import settings

    monkeypatch.setenv("COCKPIT_QUERY_THREADS", "auto")
    assert 1 <= settings.query_threads() <= 4
    monkeypatch.setenv("COCKPIT_QUERY_THREADS", "3")
    assert settings.query_threads() == 3
    monkeypatch.setenv("COCKPIT_QUERY_THREADS", "many")
    with pytest.raises(ValueError, match="COCKPIT_QUERY_THREADS='many'.*whole number or auto"):
        settings.query_threads()


def test_inside_a_transaction_statements_see_its_uncommitted_rows(wh):
    """Other threads' cursors cannot see a transaction's rows: inside one, the statements
    run on the caller's cursor."""
    with wh.transaction() as cur:
        cur.execute("INSERT INTO t VALUES (7000)")
        frames = wh.query_frames(["SELECT max(i) AS m FROM t"] * 4)
        assert {int(f["m"][0]) for f in frames} == {7000}
        assert wh._pool is None
    frames = wh.query_frames(["SELECT max(i) AS m FROM t"] * 4)  # committed: any thread
    assert {int(f["m"][0]) for f in frames} == {7000}

