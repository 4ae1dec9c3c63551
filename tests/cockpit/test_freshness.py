"""Freshness (cockpit.freshness): limits from the setting, a panel stale when its newest row
is older than the table's limit, and stale when the last refresh of its fact failed (and the
health page shows that refresh as failing)."""
from __future__ import annotations

import datetime as dt

import pytest

from cockpit import data, freshness
from cockpit.freshness import for_metrics, limits, newest_rows
from tests.cockpit.conftest import TINY_AS_OF, copy_tiny


@pytest.fixture(scope="module")
def wh(tiny_golden, tmp_path_factory):
    from metrics.registry import load_model
    from warehouse.engine import open_warehouse

    w = open_warehouse(str(copy_tiny(tiny_golden, tmp_path_factory.mktemp("fresh"))))
    data.configure(w, load_model(), None)
    yield w
    w.close()


@pytest.fixture()
def fresh_env(monkeypatch):
    monkeypatch.delenv("COCKPIT_FRESHNESS", raising=False)
    return monkeypatch


# -- limits ----------------------------------------------------------------------------------
def test_default_limits(fresh_env):
    lim = limits()
    assert lim["fact_visit"] == dt.timedelta(hours=2)
    assert lim["fact_charge"] == dt.timedelta(days=2)
    assert lim["fact_drg_settlement"] == dt.timedelta(days=45)
    from warehouse.contract import TABLES

    assert set(lim) <= {t.name for t in TABLES.values() if t.kind == "fact"}


def test_limits_parsing(fresh_env):
    fresh_env.setenv("COCKPIT_FRESHNESS",
                     " fact_visit = 90m ,fact_charge=1.5d,fact_surgery=3h,junk,fact_inpatient=5y,=3h")
    assert limits() == {"fact_visit": dt.timedelta(minutes=90),
                        "fact_charge": dt.timedelta(hours=36),
                        "fact_surgery": dt.timedelta(hours=3)}
    fresh_env.setenv("COCKPIT_FRESHNESS", "")
    assert limits() == {}


# -- newest rows -----------------------------------------------------------------------------
def test_newest_rows_per_fact_table(wh):
    newest = newest_rows()
    assert newest["fact_visit"] == wh.scalar("SELECT max(visit_ts) FROM fact_visit")
    assert newest["fact_visit"] <= TINY_AS_OF
    # a table partitioned by a date counts its newest day until its end
    d = wh.scalar("SELECT max(charge_date) FROM fact_charge")
    assert newest["fact_charge"] == dt.datetime.combine(d, dt.time(23, 59))
    assert freshness.last_load() == wh.scalar("SELECT max(finished_at) FROM _loads")


# -- stale or not ----------------------------------------------------------------------------
def test_fresh_within_the_limit(wh, fresh_env):
    newest = newest_rows()["fact_visit"]
    f = for_metrics(["opd_visits"], now=newest + dt.timedelta(minutes=119))
    assert not f.stale and f.reasons == ()
    assert f.newest == newest and f.last_load is not None


def test_stale_beyond_the_limit(wh, fresh_env):
    newest = newest_rows()["fact_visit"]
    fresh_env.setattr(data, "now", lambda: newest + dt.timedelta(hours=3))
    f = for_metrics(["opd_visits"])
    assert f.stale
    assert len(f.reasons) == 1 and f.reasons[0].startswith("fact_visit: newest row ")
    fresh_env.setenv("COCKPIT_FRESHNESS", "fact_visit=4h")
    assert not for_metrics(["opd_visits"]).stale


def test_transforms_and_several_tables(wh, fresh_env):
    newest = newest_rows()
    now = newest["fact_visit"] + dt.timedelta(minutes=5)
    assert not for_metrics(["opd_visits:yoy", "opd_revenue"], now=now).stale
    later = newest["fact_charge"] + dt.timedelta(days=3)
    f = for_metrics(["opd_visits", "opd_revenue"], now=later)
    assert f.stale and {r.split(":")[0] for r in f.reasons} == {"fact_visit", "fact_charge"}
    assert f.newest == min(newest["fact_visit"], newest["fact_charge"])


def test_a_failed_refresh_marks_its_fact_stale(wh, fresh_env):
    from cockpit.health import health_json

    newest = newest_rows()["fact_visit"]
    now = newest + dt.timedelta(minutes=1)
    assert not for_metrics(["opd_visits"], now=now).stale
    wh.execute("UPDATE _mv_state SET status = 'failed', mode = 'failed', error = 'disk full' "
               "WHERE name = 'mv_visit__daily_org'")
    try:
        f = for_metrics(["opd_visits"], now=now)
        assert f.stale and "visit: the last refresh failed" in f.reasons
        # a metric of another fact is not affected
        assert not for_metrics(["discharges"], now=newest_rows()["fact_inpatient"]
                               + dt.timedelta(minutes=1)).stale
        h = health_json()
        assert h["status"] == "degraded" and "mv_visit__daily_org" in h["failing"]
    finally:
        wh.execute("UPDATE _mv_state SET status = 'ok', mode = 'full', error = NULL "
                   "WHERE name = 'mv_visit__daily_org'")
    assert not for_metrics(["opd_visits"], now=now).stale
    assert health_json()["status"] == "ok"


def test_a_failed_refresh_run_marks_what_it_failed_to_update(wh, fresh_env, monkeypatch):
    """Through the real refresher: a materialization that cannot be built is recorded as
    failed, its fact is stale, the others are not."""
    from metrics import materialize
    from metrics.materialize import refresh

    real = materialize._full

    def failing_full(wh_, model, fact, mat, table):
        if table == "mv_charge__daily_org":
            raise RuntimeError("out of memory")
        return real(wh_, model, fact, mat, table)

    monkeypatch.setattr(materialize, "_full", failing_full)
    try:
        rep = refresh(wh, data.model(), only={"mv_charge__daily_org"}, full=True)
        assert [r.name for r in rep.failed] == ["mv_charge__daily_org"]
        assert "charge" in freshness.failed_facts()
        now = newest_rows()["fact_charge"] + dt.timedelta(hours=1)
        f = for_metrics(["opd_revenue"], now=now)
        assert "charge: the last refresh failed" in f.reasons
        assert not for_metrics(["opd_visits"], now=newest_rows()["fact_visit"]).stale
    finally:
        monkeypatch.setattr(materialize, "_full", real)
        refresh(wh, data.model(), only={"mv_charge__daily_org"})
    assert "charge" not in freshness.failed_facts()


def test_a_table_without_rows_is_stale(wh, fresh_env, monkeypatch):
    monkeypatch.setattr(freshness, "newest_rows", lambda: {"fact_visit": None})
    f = for_metrics(["opd_visits"], now=TINY_AS_OF)
    assert f.stale and f.reasons == ("fact_visit: no data",) and f.newest is None
