"""Background jobs of the serving process (APScheduler 3): load the inbox and refresh every
minute, the demo feed, and whatever later modules add (alerts, forecasts).

A job never overlaps itself (max_instances=1, coalesce); a failure is logged, recorded in
`_job_log` (the health page shows it), retried with backoff (10 s, 20 s, 40 s … at most
5 min), and never takes the server down.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import traceback
from typing import Callable

log = logging.getLogger("cockpit.scheduler")

_JOB_LOG_DDL = ("CREATE TABLE IF NOT EXISTS _job_log (job VARCHAR, started_at TIMESTAMP, "
                "finished_at TIMESTAMP, seconds DOUBLE, status VARCHAR, detail VARCHAR, "
                "error VARCHAR)")
BASE_BACKOFF = 10  # seconds before the first retry; doubles each failure in a row
MAX_BACKOFF = 300


def aligned_start(now: dt.datetime, seconds: int) -> dt.datetime:
    """The first multiple of `seconds` since the epoch after `now`."""
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    n = int((now - epoch).total_seconds() // seconds) + 1
    return epoch + dt.timedelta(seconds=n * seconds)


class Jobs:
    """The server's scheduler. `add(name, fn, seconds)`; `fn()` returns a short detail."""

    def __init__(self, wh):
        from apscheduler.schedulers.background import BackgroundScheduler

        self.wh = wh
        self.scheduler = BackgroundScheduler(timezone="UTC", job_defaults={
            "max_instances": 1, "coalesce": True, "misfire_grace_time": 30})
        self.failures: dict[str, int] = {}
        self.retry_at: dict[str, float] = {}
        self.locks: dict[str, threading.Lock] = {}
        wh.execute(_JOB_LOG_DDL)

    def add(self, name: str, fn: Callable[[], str | None], seconds: int,
            run_now: bool = True, align: bool = False) -> None:
        """Run `fn` every `seconds` (and once at once with `run_now`). `align`: on the clock's
        multiples of `seconds` (every minute at :00), so a job that warms per-minute views
        runs as their minute begins."""
        self.locks[name] = threading.Lock()
        now = dt.datetime.now(dt.timezone.utc)
        if align:
            self.scheduler.add_job(self._run, "interval", seconds=seconds, id=name,
                                   args=[name, fn], start_date=aligned_start(now, seconds))
            if run_now:
                self.scheduler.add_job(self._run, "date", run_date=now, id=f"{name}-first",
                                       args=[name, fn])
            return
        # (APScheduler reads next_run_time=None as "paused": only pass it to start at once)
        start = {"next_run_time": now} if run_now else {}
        self.scheduler.add_job(self._run, "interval", seconds=seconds, id=name,
                               args=[name, fn], **start)

    def _run(self, name: str, fn, retry: bool = False) -> None:
        if not retry and time.monotonic() < self.retry_at.get(name, 0.0):
            return  # backing off: the scheduled retry runs it
        lock = self.locks[name]
        if not lock.acquire(blocking=False):  # a retry and the interval run met: skip one
            return
        started, t0 = dt.datetime.now(), time.perf_counter()
        try:
            detail = fn()
            self._record(name, started, t0, "ok", detail, None)
            self.failures[name] = 0
            self.retry_at.pop(name, None)
        except Exception as e:  # noqa: BLE001 - a job's failure must not stop the server
            n = self.failures.get(name, 0) + 1
            self.failures[name] = n
            delay = min(BASE_BACKOFF * 2 ** (n - 1), MAX_BACKOFF)
            log.error("job %s failed (%d in a row), retrying in %ds: %s", name, n, delay, e)
            self._record(name, started, t0, "failed", f"retry in {delay}s",
                         "".join(traceback.format_exception_only(type(e), e)).strip())
            self.retry_at[name] = time.monotonic() + delay
            self.scheduler.add_job(self._run, "date", args=[name, fn, True],
                                   run_date=dt.datetime.now(dt.timezone.utc)
                                   + dt.timedelta(seconds=delay),
                                   id=f"{name}-retry", replace_existing=True)
        finally:
            lock.release()

    def _record(self, name, started, t0, status, detail, error) -> None:
        try:
            self.wh.execute("INSERT INTO _job_log VALUES (?, ?, ?, ?, ?, ?, ?)", [
                name, started, dt.datetime.now(), time.perf_counter() - t0, status,
                (detail or "")[:2000], error])
        except Exception as e:  # noqa: BLE001
            log.error("cannot record job %s: %s", name, e)

    def start(self) -> None:
        self.scheduler.start()

    def shutdown(self) -> None:
        self.scheduler.shutdown(wait=False)


def recent(wh, limit: int = 50):
    """The latest job runs, newest first (for the health page)."""
    wh.execute(_JOB_LOG_DDL)
    return wh.query_df("SELECT * FROM _job_log ORDER BY started_at DESC LIMIT ?", [limit])
