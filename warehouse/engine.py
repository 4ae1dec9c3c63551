"""Engines: where the warehouse lives. DuckDB (embedded, the default) or StarRocks.

Nothing above this module assumes DuckDB: it asks `Warehouse.dialect` and hands SQL built by
sqlglot for that dialect. DuckDB is one process with threads: one database instance, and each
thread reads and writes through its own cursor (`Warehouse.cursor()`), as DuckDB requires.

>>> wh = open_warehouse(":memory:")
>>> wh.dialect
'duckdb'
>>> int(wh.query_df("select 41 + 1 as x")["x"][0])
42
"""
from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any, Iterator

from . import settings
from .errors import EngineError


def parse_target(target: str | None) -> tuple[str, str]:
    """(dialect, location) from a `--db` value: a path, `duckdb:///path` or `starrocks://…`."""
    target = target or settings.get("db")
    if target.startswith("starrocks://"):
        return "starrocks", target
    if target.startswith("duckdb:///"):
        return "duckdb", target[len("duckdb:///"):] or ":memory:"
    if target.startswith("duckdb://"):
        return "duckdb", ":memory:"
    if "://" in target:
        raise EngineError(f"unknown warehouse URL {target!r}: expected a file path, "
                          "duckdb:///path or starrocks://user:pass@host:9030/db")
    return "duckdb", target


class Warehouse:
    """A handle on the warehouse. Thread-safe: every thread gets its own cursor."""

    dialect: str

    def __init__(self, dialect: str, location: str, read_only: bool = False):
        self.dialect = dialect
        self.location = location
        self.read_only = read_only
        self._local = threading.local()
        self._lock = threading.RLock()
        self._root: Any = None
        self._sa_engine: Any = None
        self._pool: Any = None  # threads answering `query_frames` (created on first use)
        if dialect == "duckdb":
            import duckdb

            if location != ":memory:":
                if read_only and not Path(location).exists():
                    raise EngineError(f"no warehouse at {location}: create it with "
                                      "`cockpit demo` or `cockpit load SOURCE_DIR`, or give --db")
                Path(location).parent.mkdir(parents=True, exist_ok=True)
            from . import settings

            try:
                self._root = duckdb.connect(location, read_only=read_only, config={
                    "memory_limit": settings.get("duckdb_memory"),
                    "checkpoint_threshold": settings.get("duckdb_checkpoint")})
            except duckdb.IOException as e:  # held by another process (the server)
                raise EngineError(
                    f"cannot open {location}: {e}. A DuckDB file is held by one process; if the "
                    "cockpit server is running, ask it (cockpit query/load talk to it) or stop it"
                ) from e
        elif dialect == "starrocks":
            import sqlalchemy as sa

            self._sa_engine = sa.create_engine(location, pool_pre_ping=True)
        else:
            raise EngineError(f"unknown dialect {dialect!r}")

    # -- connections -------------------------------------------------------------------
    def cursor(self):
        """This thread's DuckDB cursor (created on first use)."""
        if self.dialect != "duckdb":
            raise EngineError("cursor() is the DuckDB path; use sqlalchemy_engine() on StarRocks")
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            with self._lock:
                cur = self._root.cursor()
            self._local.cursor = cur
        return cur

    def sqlalchemy_engine(self):
        """A SQLAlchemy engine on this warehouse (DuckDB: its connections are our cursors)."""
        if self._sa_engine is None:
            import duckdb_engine
            import sqlalchemy as sa
            from sqlalchemy.pool import StaticPool

            self._sa_engine = sa.create_engine(
                "duckdb://", poolclass=StaticPool,
                creator=lambda: duckdb_engine.ConnectionWrapper(self._root.cursor()))
        return self._sa_engine

    # -- running SQL -------------------------------------------------------------------
    def execute(self, sql: str, params: list | None = None) -> None:
        if self.dialect == "duckdb":
            self.cursor().execute(sql, params or [])
        else:
            import sqlalchemy as sa

            with self._sa_engine.begin() as conn:
                conn.execute(sa.text(sql))

    def query_df(self, sql: str, params: list | None = None):
        """Run a SELECT and return a pandas DataFrame."""
        if self.dialect == "duckdb":
            return self.cursor().execute(sql, params or []).df()
        import pandas as pd
        import sqlalchemy as sa

        with self._sa_engine.connect() as conn:
            return pd.read_sql(sa.text(sql), conn)

    def query_frames(self, statements: list[str]) -> list:
        """Run independent SELECTs, up to `query_threads` at a time, and return their
        DataFrames in order. The calling thread runs statements too, taking whichever the
        pool has not started, so a busy pool (other users' statements) never leaves it
        waiting idle. DuckDB answers a small query on one or two threads; a dashboard panel
        asks a dozen of them."""
        workers = settings.query_threads()
        if workers == 1 or len(statements) < 2 or getattr(self._local, "in_transaction", False):
            # (inside a transaction only this thread's cursor sees its uncommitted rows)
            return [self.query_df(s) for s in statements]
        pool = self._query_pool(workers)
        futures = [pool.submit(self.query_df, s) for s in statements[1:]]
        out = [None] * len(statements)
        try:
            out[0] = self.query_df(statements[0])
            started = []
            for i, f in enumerate(futures, 1):  # take what the pool has not started
                if f.cancel():
                    out[i] = self.query_df(statements[i])
                else:
                    started.append((i, f))
            for i, f in started:
                out[i] = f.result()
        except BaseException:
            for f in futures:
                f.cancel()
            raise
        return out

    def _query_pool(self, workers: int):
        with self._lock:
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor

                # the caller runs statements too: workers - 1 more threads
                self._pool = ThreadPoolExecutor(max(1, workers - 1),
                                                thread_name_prefix="cockpit-query")
            return self._pool

    def query_rows(self, sql: str, params: list | dict | None = None) -> list[tuple]:
        if self.dialect == "duckdb":
            return self.cursor().execute(sql, params or []).fetchall()
        import sqlalchemy as sa

        with self._sa_engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql))]

    def scalar(self, sql: str, params: list | None = None) -> Any:
        rows = self.query_rows(sql, params)
        return rows[0][0] if rows else None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        """One atomic unit on this thread's cursor: all of it commits, or none of it."""
        if self.dialect != "duckdb":
            raise EngineError("transactions on StarRocks go through its load path (not yet built)")
        cur = self.cursor()
        cur.execute("BEGIN TRANSACTION")
        self._local.in_transaction = True
        try:
            yield cur
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        else:
            cur.execute("COMMIT")
        finally:
            self._local.in_transaction = False

    def checkpoint(self) -> bool:
        """Write the write-ahead log into the file (DuckDB; StarRocks has nothing to do).
        The server calls it after a refresh, so commits on the way to fresh numbers do not
        checkpoint; False when DuckDB declined (another transaction wrote meanwhile)."""
        if self.dialect != "duckdb" or self.read_only or self.location == ":memory:":
            return True
        import duckdb

        try:
            self.cursor().execute("CHECKPOINT")
        except duckdb.TransactionException:
            return False
        return True

    def table_names(self) -> set[str]:
        """Every table and view of the warehouse, in one query (for code that would otherwise
        ask `table_exists` once per table)."""
        return {r[0] for r in self.query_rows("select table_name from information_schema.tables")}

    def table_exists(self, name: str) -> bool:
        if self.dialect == "duckdb":
            return bool(self.scalar(
                "select count(*) from information_schema.tables where table_name = ?", [name]))
        import sqlalchemy as sa

        with self._sa_engine.connect() as conn:
            return bool(conn.execute(sa.text(
                "select count(*) from information_schema.tables where table_name = :n"),
                {"n": name}).scalar())

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._root is not None:
            self._root.close()
            self._root = None
        if self._sa_engine is not None:
            self._sa_engine.dispose()


def open_warehouse(target: str | None = None, read_only: bool = False) -> Warehouse:
    """Open the warehouse named by `--db` / `COCKPIT_DB` (default `./cockpit.duckdb`)."""
    dialect, location = parse_target(target)
    return Warehouse(dialect, location, read_only=read_only)
