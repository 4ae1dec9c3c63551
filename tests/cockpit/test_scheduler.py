"""The serving process's jobs (cockpit.scheduler.Jobs): failures recorded and retried with
backoff, a job never overlapping itself, and the scheduler surviving failures."""
from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import pytest

from cockpit.scheduler import MAX_BACKOFF, Jobs, aligned_start, recent
from warehouse.engine import open_warehouse


@pytest.fixture()
def jobs():
    wh = open_warehouse(":memory:")
    j = Jobs(wh)
    j.scheduler.start(paused=True)  # as in the server, but nothing fires unless resumed
    yield j
    if j.scheduler.running:
        j.shutdown()
    wh.close()


def _log(j, name):
    df = recent(j.wh)
    return df[df["job"] == name].sort_values("started_at").to_dict("records")


def _retry_delay(j, name) -> float:
    job = j.scheduler.get_job(f"{name}-retry")
    assert job is not None, "no retry scheduled"
    run_date = job.trigger.run_date
    return (run_date - dt.datetime.now(dt.timezone.utc)).total_seconds()


def test_a_successful_run_is_recorded(jobs):
    jobs.add("ok", lambda: "3 file(s) loaded", 60, run_now=False)
    jobs._run("ok", lambda: "3 file(s) loaded", True)
    (rec,) = _log(jobs, "ok")
    assert rec["status"] == "ok" and rec["detail"] == "3 file(s) loaded"
    assert rec["error"] is None and rec["seconds"] >= 0
    assert rec["finished_at"] >= rec["started_at"]
    assert jobs.scheduler.get_job("ok-retry") is None


def test_a_failing_job_is_recorded_and_retried_with_backoff(jobs, caplog):
    calls = []

    def boom():
        calls.append(1)
        raise ValueError("the inbox is on fire")

    jobs.add("ingest", boom, 60, run_now=False)
    with caplog.at_level("ERROR", logger="cockpit.scheduler"):
        jobs._run("ingest", boom, True)
    (rec,) = _log(jobs, "ingest")
    assert rec["status"] == "failed"
    assert "ValueError: the inbox is on fire" in rec["error"]
    assert rec["detail"] == "retry in 10s"
    assert any("ingest" in m and "the inbox is on fire" in m for m in caplog.messages)
    assert 8 <= _retry_delay(jobs, "ingest") <= 10.5
    # the scheduled retry runs the same job again, and the delay doubles each time
    retry = jobs.scheduler.get_job("ingest-retry")
    retry.func(*retry.args)
    assert len(calls) == 2
    assert 18 <= _retry_delay(jobs, "ingest") <= 20.5
    jobs._run("ingest", boom, True)
    assert 38 <= _retry_delay(jobs, "ingest") <= 40.5
    assert jobs.failures["ingest"] == 3
    assert [r["status"] for r in _log(jobs, "ingest")] == ["failed"] * 3


def test_backoff_is_capped(jobs):
    def boom():
        raise RuntimeError("x")

    jobs.add("cap", boom, 60, run_now=False)
    jobs.failures["cap"] = 20
    jobs._run("cap", boom, True)
    assert MAX_BACKOFF - 1 <= _retry_delay(jobs, "cap") <= MAX_BACKOFF + 0.5


def test_success_after_failures_resets_the_backoff(jobs):
    state = {"fail": True}

    def flaky():
        if state["fail"]:
            raise RuntimeError("db locked")
        return "ok now"

    jobs.add("flaky", flaky, 60, run_now=False)
    jobs._run("flaky", flaky, True)
    jobs._run("flaky", flaky, True)
    state["fail"] = False
    jobs._run("flaky", flaky, True)
    assert jobs.failures["flaky"] == 0
    assert [r["status"] for r in _log(jobs, "flaky")] == ["failed", "failed", "ok"]
    state["fail"] = True
    jobs._run("flaky", flaky, True)
    assert 8 <= _retry_delay(jobs, "flaky") <= 10.5  # back to the first step


def test_a_job_never_overlaps_itself(jobs):
    started, release = threading.Event(), threading.Event()
    calls = []

    def slow():
        calls.append(threading.get_ident())
        started.set()
        release.wait(5)
        return "done"

    jobs.add("slow", slow, 60, run_now=False)
    t = threading.Thread(target=jobs._run, args=["slow", slow])
    t.start()
    assert started.wait(5)
    t0 = time.perf_counter()
    jobs._run("slow", slow, True)           # e.g. the retry meeting the interval run
    assert time.perf_counter() - t0 < 1  # skipped at once, not queued
    release.set()
    t.join(5)
    assert len(calls) == 1
    assert [r["status"] for r in _log(jobs, "slow")] == ["ok"]
    jobs._run("slow", slow, True)           # free again afterwards
    assert len(calls) == 2


def test_the_scheduler_keeps_running_after_failures(jobs, monkeypatch):
    import cockpit.scheduler as sched

    monkeypatch.setattr(sched, "BASE_BACKOFF", 0.5)  # retries within the test's seconds
    ticks = []

    def boom():
        raise RuntimeError("always")

    def tick():
        ticks.append(time.monotonic())
        return "tick"

    jobs.add("boom", boom, 1)
    jobs.add("tick", tick, 1)
    jobs.scheduler.resume()
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline and (len(ticks) < 3 or len(_log(jobs, "boom")) < 2):
        time.sleep(0.1)
    assert jobs.scheduler.running
    assert len(ticks) >= 3
    failed = _log(jobs, "boom")
    assert len(failed) >= 2 and {r["status"] for r in failed} == {"failed"}
    assert jobs.scheduler.get_job("boom") is not None  # the interval job is still there
    jobs.shutdown()


def test_jobs_run_once_at_start_unless_told(jobs):
    jobs.add("now", lambda: "x", 3600)
    jobs.add("later", lambda: "x", 3600, run_now=False)
    now = dt.datetime.now(dt.timezone.utc)
    assert abs((jobs.scheduler.get_job("now").next_run_time - now).total_seconds()) < 5
    # not paused (APScheduler's next_run_time=None would be): due after one interval
    later = jobs.scheduler.get_job("later").next_run_time
    assert later is not None and 3590 < (later - now).total_seconds() < 3610


def test_an_aligned_job_runs_on_the_clock(jobs):
    """The ingest warms per-minute views, so it runs as each minute begins."""
    assert aligned_start(dt.datetime(2026, 3, 1, 12, 34, 56, 700, tzinfo=dt.timezone.utc),
                         60) == dt.datetime(2026, 3, 1, 12, 35, tzinfo=dt.timezone.utc)
    assert aligned_start(dt.datetime(2026, 3, 1, 12, 35, tzinfo=dt.timezone.utc),
                         60) == dt.datetime(2026, 3, 1, 12, 36, tzinfo=dt.timezone.utc)
    now = dt.datetime.now(dt.timezone.utc)
    jobs.add("minute", lambda: "x", 60, align=True)
    jobs.add("quiet", lambda: "x", 60, run_now=False, align=True)
    start = jobs.scheduler.get_job("minute").trigger.start_date
    assert start.second == 0 and start.microsecond == 0
    assert 0 < (start - now).total_seconds() <= 61
    first = jobs.scheduler.get_job("minute-first")  # and once at once
    assert abs((first.trigger.run_date - now).total_seconds()) < 5
    assert jobs.scheduler.get_job("quiet-first") is None


def test_ingest_failure_is_reported_and_retried(tmp_path, monkeypatch):
    """The server's own ingest job: a refresh that fails raises, so the run is 'failed'."""
    from cockpit import server
    from metrics import materialize
    from metrics.materialize import MvResult, RefreshReport

    monkeypatch.setenv("COCKPIT_HOME", str(tmp_path))
    monkeypatch.setenv("COCKPIT_REFRESH_SECONDS", "60")
    monkeypatch.setenv("COCKPIT_WARM_PATHS", "")
    wh = open_warehouse(":memory:")
    from cockpit import data

    data.configure(wh, None, None)
    monkeypatch.setattr(materialize, "refresh", lambda wh, model: RefreshReport(
        [MvResult("mv_visit__daily_org", "failed", error="out of memory")]))
    j = Jobs(wh)
    j.scheduler.start(paused=True)
    try:
        server._add_jobs(j, wh, None, demo=False, app=None)
        job = j.scheduler.get_job("ingest")
        assert job.trigger.interval.total_seconds() == 60
        job.func(*job.args)
        (rec,) = _log(j, "ingest")
        assert rec["status"] == "failed" and "mv_visit__daily_org" in rec["error"]
        assert j.scheduler.get_job("ingest-retry") is not None
    finally:
        j.shutdown()
        wh.close()


def test_interval_runs_wait_while_a_job_backs_off(jobs):
    """The regular interval does not hammer a failing job: until its retry time only the
    scheduled retry runs it."""
    calls = []

    def boom():
        calls.append(1)
        raise RuntimeError("down")

    jobs.add("backoff", boom, 3600, run_now=False)
    jobs._run("backoff", boom, True)      # fails: retry scheduled 10 s later
    jobs._run("backoff", boom)            # the interval run meanwhile: skipped
    assert len(calls) == 1
    jobs._run("backoff", boom, True)      # the retry itself runs
    assert len(calls) == 2


def test_ingest_checkpoints_after_the_refresh_not_inside_it(tmp_path, monkeypatch):
    """Commits on the way to fresh numbers leave their log in the WAL (the threshold is high);
    the ingest job writes it into the file once the refresh is visible."""
    from cockpit import data, server
    from metrics import materialize
    from metrics.materialize import MvResult, RefreshReport

    monkeypatch.setenv("COCKPIT_HOME", str(tmp_path))
    monkeypatch.setenv("COCKPIT_WARM_PATHS", "")
    db = tmp_path / "w.duckdb"
    wh = open_warehouse(str(db))
    assert wh.scalar("SELECT current_setting('checkpoint_threshold')") == "244.1 MiB"  # 256MB
    wal = Path(str(db) + ".wal")
    seen = {}

    def fake_refresh(wh_, model):
        wh_.execute("CREATE TABLE IF NOT EXISTS t AS SELECT range AS i, range::VARCHAR AS s "
                    "FROM range(100000)")
        seen["wal"] = wal.stat().st_size if wal.exists() else 0
        return RefreshReport([MvResult("mv_visit__daily_org", "incremental", 1, 10)])

    data.configure(wh, None, None)
    monkeypatch.setattr(materialize, "refresh", fake_refresh)
    j = Jobs(wh)
    j.scheduler.start(paused=True)
    try:
        server._add_jobs(j, wh, None, demo=False, app=None)
        job = j.scheduler.get_job("ingest")
        job.func(*job.args)
        (rec,) = _log(j, "ingest")
        assert rec["status"] == "ok" and "checkpoint" in rec["detail"], rec
        assert "deferred" not in rec["detail"]
        assert seen["wal"] > 1_000_000  # the refresh's commit did not checkpoint
        assert (wal.stat().st_size if wal.exists() else 0) < seen["wal"] // 10
    finally:
        j.shutdown()
        wh.close()
