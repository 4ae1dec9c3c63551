"""The result cache of cockpit.data.q: keyed by the normalised query and the data version, so
a refresh that changed data invalidates by itself and one that found nothing keeps it; in
process by default, in a real Redis (redis-server started here) when COCKPIT_REDIS_URL is set.

Refreshes here rebuild only the visit materializations (`only=VISIT_MVS`) to stay fast; the
data version is computed the same way as by a full refresh."""
from __future__ import annotations

import datetime as dt
import pickle
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from cockpit import data
from cockpit.auth import User, set_current
from tests.cockpit.conftest import TINY_AS_OF, copy_tiny
from warehouse.contract import TABLES

VISIT_MVS = {"mv_visit__daily_org", "mv_visit__monthly_dept", "mv_offline_revisit__daily_org"}
Q = dict(by=["campus"], start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 25), as_of=TINY_AS_OF)
METRICS = ["opd_visits"]


# -- helpers ---------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url():
    """A throw-away redis-server (no persistence) on a free port."""
    import redis

    exe = shutil.which("redis-server") or "/usr/bin/redis-server"
    port = free_port()
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    home = tmp_path_factory.mktemp("cache-home")
    mp = pytest.MonkeyPatch()
    for k in ("COCKPIT_REDIS_URL", "COCKPIT_SECRET"):
        mp.delenv(k, raising=False)
    mp.setenv("COCKPIT_HOME", str(home))
    mp.setenv("COCKPIT_USERS", str(home / "users.yaml"))
    set_current(User("boss", "leader"))
    yield {"home": home, "mp": mp}
    set_current(None)
    mp.undo()


@pytest.fixture()
def runs(monkeypatch):
    """Counts the queries that reach the warehouse (metrics.service.run)."""
    import metrics.service as service

    calls = []
    real = service.run

    def counting(spec, **kw):
        calls.append(spec)
        return real(spec, **kw)

    monkeypatch.setattr(service, "run", counting)
    return calls


def serve(db: Path, redis: str | None = None):
    from cockpit.server import build

    mp = pytest.MonkeyPatch()
    if redis:
        mp.setenv("COCKPIT_REDIS_URL", redis)
    else:
        mp.delenv("COCKPIT_REDIS_URL", raising=False)
    try:
        return build(str(db), start_jobs=False)
    finally:
        mp.undo()


def new_visits_file(wh, path: Path, prefix: str, n: int) -> Path:
    cols = ", ".join(TABLES["fact_visit"].column_names)
    wh.execute(f"""COPY (SELECT {cols} FROM (
        SELECT '{prefix}' || row_number() OVER () AS visit_id, * EXCLUDE (visit_id)
        FROM (SELECT * FROM fact_visit WHERE visit_ts BETWEEN TIMESTAMP '2026-11-25 00:00'
              AND TIMESTAMP '2026-11-25 09:00' AND visit_type = 'outpatient'
              ORDER BY visit_id LIMIT {n}))) TO '{path}' (HEADER)""")
    return path


def load_and_refresh(wh, path: Path):
    from metrics.materialize import refresh
    from warehouse.loader import load_file

    load_file(wh, path)
    rep = refresh(wh, data.model(), only=VISIT_MVS)
    data.invalidate_version()
    return rep


def direct(wh):
    """The answer straight from the warehouse, without the cache."""
    from metrics.service import query

    return query(METRICS, Q["by"], None, Q["start"], Q["end"], None, Q["as_of"], None, wh=wh,
                 model=data.model())


def q():
    return data.q(METRICS, **Q)


# -- in process ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def local(env, tiny_golden):
    db = copy_tiny(tiny_golden, env["home"] / "local")
    serve(db)
    return db


def test_in_process_cache_without_redis(local):
    from cachelib import SimpleCache

    assert isinstance(data._state["cache"].cache, SimpleCache)


def test_second_identical_query_is_served_from_the_cache(local, runs):
    first = q()
    assert len(runs) == 1
    second = q()
    assert len(runs) == 1
    assert second.equals(first) and second is not first
    # the normalised query is the key: the same filter written differently is the same entry
    a = data.q(METRICS, **{**Q, "by": []}, where={"campus": ["C02", "C01"]})
    b = data.q(METRICS, **{**Q, "by": []}, where={"campus": "C01,C02"})
    assert len(runs) == 2 and a.equals(b)


def test_cached_frames_cannot_be_changed_by_a_caller(local, runs):
    f = q()
    f.loc[:, "opd_visits"] = -1
    assert (q()["opd_visits"] >= 0).all()


def test_scopes_do_not_share_entries(local, runs):
    everyone = data.q(METRICS, **{**Q, "by": ["department"]})
    set_current(User("head", "dept_head", departments=("D0105",)))
    try:
        mine = data.q(METRICS, **{**Q, "by": ["department"]})
    finally:
        set_current(User("boss", "leader"))
    assert set(mine["department"]) == {"D0105"}
    assert len(set(everyone["department"])) > 1


def test_a_refresh_that_found_nothing_keeps_the_version_and_the_cache(local, runs):
    from metrics.materialize import refresh

    q()
    v = data.data_version()
    n = len(runs)
    rep = refresh(data.warehouse(), data.model(), only=VISIT_MVS)
    assert {r.mode for r in rep.results} == {"unchanged"}
    data.invalidate_version()
    assert data.data_version() == v
    q()
    assert len(runs) == n


def test_new_data_changes_the_version_and_the_next_query_recomputes(local, runs, tmp_path):
    wh = data.warehouse()
    before = q()
    v = data.data_version()
    n = len(runs)
    load_and_refresh(wh, new_visits_file(wh, tmp_path / "fact_visit.csv", "VCACHE", 5))
    assert data.data_version() != v
    after = q()
    assert len(runs) == n + 1
    assert after["opd_visits"].sum() == before["opd_visits"].sum() + 5
    q()
    assert len(runs) == n + 1


def test_a_load_that_changed_nothing_keeps_the_version(local, runs, tmp_path):
    """DESIGN 6: the data version 'changes only when data changed'. Loading a file whose rows
    are all already there (read 5, changed 0) and refreshing still gives a new version, so
    every cached result is thrown away: data.data_version includes last_load_id (a new id per
    load, changed or not) and metrics.materialize.refresh counts a materialization whose
    affected_days() is empty as 'incremental' (0 partitions) and mints a new version."""
    wh = data.warehouse()
    f = new_visits_file(wh, tmp_path / "fact_visit.csv", "VSAME", 3)
    load_and_refresh(wh, f)
    q()
    v = data.data_version()
    n = len(runs)
    rep = load_and_refresh(wh, f)  # the very same rows again
    assert data.data_version() == v, [(r.name, r.mode, r.partitions) for r in rep.results]
    q()
    assert len(runs) == n


# -- Redis -----------------------------------------------------------------------------------
def test_values_round_trip_through_redis(env, tiny_golden, redis_url, runs):
    import redis
    from cachelib import RedisCache

    client = redis.Redis.from_url(redis_url)
    client.flushall()
    db = copy_tiny(tiny_golden, env["home"] / "redis")
    serve(db, redis_url)
    assert isinstance(data._state["cache"].cache, RedisCache)
    first = q()
    assert len(runs) == 1
    keys = [k.decode() for k in client.keys("*")]
    wanted = [k for k in keys if data.data_version() in k and k.startswith("flask_cache_q:")]
    assert len(wanted) == 1, keys
    raw = client.get(wanted[0])
    stored = pickle.loads(raw[1:] if raw[:1] == b"!" else raw)
    assert stored.equals(first)
    assert client.ttl(wanted[0]) > 0
    assert q().equals(first) and len(runs) == 1  # read back from Redis
    client.flushall()
    assert q().equals(first) and len(runs) == 2  # gone from Redis: computed again


def test_redis_entries_survive_a_server_restart(env, redis_url, runs):
    db = env["home"] / "redis" / "t.duckdb"
    q()
    n = len(runs)
    serve(db, redis_url)  # a new process would build the same way
    q()
    assert len(runs) == n


def test_redis_does_not_mix_up_two_warehouses(env, tiny_golden, redis_url, runs, tmp_path):
    """Two warehouses whose histories give the same data version (here: each got one load and
    one refresh of the same materializations, e.g. a rebuilt demo, or a test and a production
    cockpit configured with one Redis) share cache keys 'q:<version>:<spec>': the second
    server answers with the first one's numbers. The key needs the warehouse's identity
    (e.g. its path or a random id kept in the warehouse)."""
    import redis

    redis.Redis.from_url(redis_url).flushall()
    from warehouse.engine import open_warehouse

    dbs = []
    for name, n in (("b", 2), ("c", 6)):
        db = copy_tiny(tiny_golden, env["home"] / f"redis-{name}")
        wh = open_warehouse(str(db))
        load_and_refresh(wh, new_visits_file(wh, tmp_path / f"fact_visit.{name}.csv", f"V{name.upper()}", n))
        wh.close()
        dbs.append(db)
    serve(dbs[0], redis_url)
    vb, b = data.data_version(), q()
    serve(dbs[1], redis_url)
    vc, c = data.data_version(), q()
    # the situation under test: the same history, so only the warehouse's identity differs
    assert vb.split("/", 1)[1] == vc.split("/", 1)[1] and vb != vc
    expected = direct(data.warehouse())
    assert c["opd_visits"].sum() == expected["opd_visits"].sum()
    assert c["opd_visits"].sum() == b["opd_visits"].sum() + 4


def test_an_unreachable_redis_does_not_break_queries(env, runs):
    """The cache only saves time: with Redis down (restarting, network) a query must still be
    answered from the warehouse. Today cache.get raises redis ConnectionError out of data.q,
    so every panel fails. Catch cache errors in data.q (or use flask-caching's
    CACHE_IGNORE_ERRORS / a fallback) and compute."""
    db = env["home"] / "local" / "t.duckdb"
    serve(db, f"redis://127.0.0.1:{free_port()}/0")
    frame = q()
    assert frame["opd_visits"].sum() > 0
