"""Refresh: full the first time, then only the month partitions the loads changed; the
incremental result equals a full rebuild; the data version moves only when data changed;
a reader during a refresh sees the old or the new answer, never a mix."""
from __future__ import annotations

import copy
import datetime as dt
import random
import threading
from dataclasses import replace

import pandas as pd
import pytest

from metrics.materialize import data_version, refresh
from metrics.plan import mv_table
from metrics.service import make_spec, run
from metrics.dialects import render
from metrics.explain import sources
from warehouse.loader import load_delivery

from . import hospital
from .conftest import loaded_warehouse


@pytest.fixture
def wh(tmp_path):
    w = loaded_warehouse(tmp_path / "d0", hospital.generated(seed=3, visits=300, stays=120))
    yield w
    w.close()


def deliver(wh, folder, facts):
    return load_delivery(wh, hospital.write_delivery(folder, facts, dims=False), progress=False)


def tables(model, fact=None) -> list[str]:
    return [mv_table(f, m) for f in model.facts.values() for m in f.materializations
            if fact is None or f.name == fact]


def by_name(report):
    return {r.name: r for r in report.results}


def contents(wh, model) -> dict[str, pd.DataFrame]:
    out = {}
    for t in tables(model):
        df = wh.query_df(f"SELECT * FROM {t}")
        out[t] = df.sort_values(list(df.columns)).reset_index(drop=True)
    return out


def assert_same_contents(a: dict, b: dict):
    assert a.keys() == b.keys()
    for t in a:
        pd.testing.assert_frame_equal(a[t], b[t], check_dtype=False, rtol=1e-9, obj=t)


def test_first_full_then_unchanged(wh, model):
    assert data_version(wh) == "0"
    first = refresh(wh, model)
    assert {r.mode for r in first.results} == {"full"}
    assert len(first.results) == len(tables(model))
    assert all(wh.table_exists(t) for t in tables(model))
    v1 = data_version(wh)
    assert v1 == first.data_version and v1 != "0"
    second = refresh(wh, model)
    assert {r.mode for r in second.results} == {"unchanged"}
    assert all(r.partitions == 0 for r in second.results)
    assert second.data_version == v1 and data_version(wh) == v1


def test_one_day_change_rebuilds_one_month(wh, model, tmp_path):
    refresh(wh, model)
    v1 = data_version(wh)
    deliver(wh, tmp_path / "d1", {"fact_visit": [
        hospital.visit("NEW1", "2025-03-10 09:00:00", "D01", "DR1"),
        hospital.visit("NEW2", "2025-03-10 15:00:00", "D02", "DR2", vtype="emergency")]})
    rep = by_name(refresh(wh, model))
    for t in tables(model, "visit"):
        assert rep[t].mode == "incremental", rep[t]
        assert rep[t].partitions == 1, rep[t]  # a disguised full rebuild reports -1 or more
    for t in set(tables(model)) - set(tables(model, "visit")):
        assert rep[t].partitions == 0, rep[t]  # other facts: nothing rebuilt
    assert data_version(wh) != v1
    incremental = contents(wh, model)
    refresh(wh, model, full=True)
    assert_same_contents(incremental, contents(wh, model))


def test_moving_a_discharge_rebuilds_both_months(wh, model, tmp_path):
    deliver(wh, tmp_path / "d1", {"fact_inpatient": [
        hospital.stay("MOVE1", "2025-03-20 08:00:00", "D01", "2025-03-28 10:00:00")]})
    refresh(wh, model)
    march = make_spec(["discharges"], grain="month", start="2025-03-01", end="2025-04-30")
    before = run(march, wh=wh, model=model, use_mvs=False).frame["discharges"].tolist()
    # the same stay, now discharged in April
    deliver(wh, tmp_path / "d2", {"fact_inpatient": [
        hospital.stay("MOVE1", "2025-03-20 08:00:00", "D01", "2025-04-03 10:00:00")]})
    rep = by_name(refresh(wh, model))
    for t in tables(model, "discharge"):
        assert rep[t].mode == "incremental", rep[t]
        assert rep[t].partitions == 2, rep[t]
    after = run(march, wh=wh, model=model)
    assert all(s != "base" for _, _, s in sources(after))
    assert after.frame["discharges"].tolist() == [before[0] - 1, before[1] + 1]
    incremental = contents(wh, model)
    refresh(wh, model, full=True)
    assert_same_contents(incremental, contents(wh, model))


def test_a_discharge_filled_in_later_rebuilds_its_month_not_the_admission_month(
        wh, model, tmp_path):
    """A stay admitted in January and discharged in March (the usual update of the day):
    facts dated by discharge rebuild March only; the unchanged admission date names nothing."""
    deliver(wh, tmp_path / "d1", {"fact_inpatient": [
        hospital.stay("LONG1", "2025-01-10 08:00:00", "D01", None)]})
    refresh(wh, model)
    deliver(wh, tmp_path / "d2", {"fact_inpatient": [
        hospital.stay("LONG1", "2025-01-10 08:00:00", "D01", "2025-03-05 10:00:00")]})
    rep = by_name(refresh(wh, model))
    for t in tables(model, "discharge"):
        assert rep[t].mode == "incremental" and rep[t].partitions == 1, rep[t]
    incremental = contents(wh, model)
    refresh(wh, model, full=True)
    assert_same_contents(incremental, contents(wh, model))


def settlement(aid: str, settle_date: str) -> dict:
    """An ungrouped DRG settlement (no dim_drg in this fixture) of stay `aid`."""
    money = dict(total_cost=1000, drug_cost=300, material_cost=100, exam_cost=100,
                 lab_cost=100, treatment_cost=300, other_cost=100, payment_standard=900,
                 insurance_paid=800)
    return dict(admission_id=aid, settle_date=settle_date, case_payment_type="normal",
                los_days=3, died="false", **money)


def test_a_fact_dated_through_its_stay_rebuilds_the_discharge_month_only(wh, tmp_path):
    """Settlements count by their stay's discharge date (a join by the stay's key): the
    stay's discharge filled in later rebuilds March, not the unchanged admission month
    (the packaged model: the test model has no joined fact)."""
    from metrics.registry import load_model

    model = load_model()
    deliver(wh, tmp_path / "d1", {
        "fact_inpatient": [hospital.stay("LONG2", "2025-01-10 08:00:00", "D01", None)],
        "fact_drg_settlement": [settlement("LONG2", "2025-03-06")]})
    refresh(wh, model)
    deliver(wh, tmp_path / "d2", {"fact_inpatient": [
        hospital.stay("LONG2", "2025-01-10 08:00:00", "D01", "2025-03-05 10:00:00")]})
    rep = by_name(refresh(wh, model))
    assert len(tables(model, "drg_case")) > 10
    for t in tables(model, "drg_case"):
        assert rep[t].mode == "incremental" and rep[t].partitions == 1, rep[t]
    assert wh.scalar("SELECT sum(drg_settled_case_count) FROM mv_drg_case__daily_org "
                     "WHERE _bucket = DATE '2025-03-05'") == 1
    incremental = contents(wh, model)
    refresh(wh, model, full=True)
    assert_same_contents(incremental, contents(wh, model))


def _random_delivery(rng: random.Random, it: int, existing_visits: list[dict],
                     existing_stays: list[dict]) -> dict:
    visits = [hospital.gen_visit(rng, 50000 + it * 100 + i) for i in range(rng.randrange(1, 6))]
    for v in rng.sample(existing_visits, 3):  # updates: another day / department
        moved = hospital.gen_visit(rng, 0)
        visits.append({**moved, "visit_id": v["visit_id"], "patient_id": v["patient_id"]})
    gone = rng.choice(existing_visits)
    visits.append({**gone, "_deleted": "true"})
    stays = [hospital.gen_stay(rng, 60000 + it * 100 + i) for i in range(rng.randrange(1, 4))]
    for s in rng.sample(existing_stays, 2):
        new = hospital.gen_stay(rng, 0)
        stays.append({**new, "admission_id": s["admission_id"], "patient_id": s["patient_id"]})
    day = hospital._day(rng)
    census = [hospital.census(str(day), "D01", rng.randrange(10), 10)]
    return {"fact_visit": visits, "fact_inpatient": stays, "fact_ward_census": census}


def test_random_changes_incremental_equals_full(tmp_path, model):
    base = hospital.generated(seed=5, visits=200, stays=80)
    wh = loaded_warehouse(tmp_path / "d0", base)
    try:
        refresh(wh, model)
        rng = random.Random(17)
        for it in range(3):
            facts = _random_delivery(rng, it, base["fact_visit"], base["fact_inpatient"])
            deliver(wh, tmp_path / f"d{it + 1}", facts)
            rep = refresh(wh, model)
            assert not rep.failed, rep.failed
            assert any(r.mode == "incremental" for r in rep.results)
        incremental = contents(wh, model)
        refresh(wh, model, full=True)
        assert_same_contents(incremental, contents(wh, model))
    finally:
        wh.close()


def test_random_stay_changes_under_joined_facts_incremental_equals_full(tmp_path):
    """The packaged model's facts joined to stays (settlements, operations by discharge
    date) stay equal to a full rebuild while stays move, get discharged or disappear."""
    from metrics.registry import load_model

    model = load_model()
    base = hospital.generated(seed=9, visits=60, stays=80)
    rng = random.Random(23)
    base["fact_drg_settlement"] = [settlement(s["admission_id"], "2025-02-01")
                                   for s in rng.sample(base["fact_inpatient"], 40)]
    wh = loaded_warehouse(tmp_path / "d0", base)
    try:
        refresh(wh, model)
        for it in range(3):
            facts = _random_delivery(rng, it, base["fact_visit"], base["fact_inpatient"])
            gone = rng.choice(base["fact_inpatient"])
            facts["fact_inpatient"].append({**gone, "_deleted": "true"})
            deliver(wh, tmp_path / f"d{it + 1}", facts)
            rep = refresh(wh, model)
            assert not rep.failed, rep.failed
            assert any(r.mode == "incremental" for r in rep.results
                       if r.name.startswith("mv_drg_case"))
        incremental = contents(wh, model)
        refresh(wh, model, full=True)
        assert_same_contents(incremental, contents(wh, model))
    finally:
        wh.close()


def test_reader_sees_old_or_new_never_a_mix(wh, model, tmp_path):
    refresh(wh, model)
    spec = make_spec(["opd_ed_visits"], grain="year", start="2024-01-01", end="2024-12-31")
    old = run(spec, wh=wh, model=model).frame["opd_ed_visits"].tolist()
    deliver(wh, tmp_path / "d1", {"fact_visit": [
        hospital.visit(f"NEWV{i}", f"2024-{1 + i % 12:02d}-15 09:00:00", "D01", "DR1")
        for i in range(24)]})
    new = run(spec, wh=wh, model=model, use_mvs=False).frame["opd_ed_visits"].tolist()
    assert new != old
    seen, errors, served = [], [], set()
    done = threading.Event()

    def reader():
        while not done.is_set():
            try:
                res = run(spec, wh=wh, model=model)
                seen.append(res.frame["opd_ed_visits"].tolist())
                served.update(s for _, _, s in sources(res))
            except Exception as e:  # noqa: BLE001 - a failing read is a finding
                errors.append(repr(e))

    t = threading.Thread(target=reader)
    t.start()
    try:
        refresh(wh, model)  # incremental: 12 month partitions
        for _ in range(2):
            refresh(wh, model, full=True, only=set(tables(model, "visit")))  # aside + swap
    finally:
        done.set()
        t.join(timeout=60)
    assert not errors, errors[:3]
    assert seen, "the reader never ran"
    assert all(v in (old, new) for v in seen), [v for v in seen if v not in (old, new)][:3]
    assert run(spec, wh=wh, model=model).frame["opd_ed_visits"].tolist() == new
    assert any(s != "base" for s in served)  # the reads went through the materializations


def test_first_rows_of_a_fact_rebuild_its_materializations_whole(tmp_path, model):
    """A fact first loaded into an empty table is one whole-table change (`_bulk_loads`, no
    per-key change rows): materializations built while it was empty are rebuilt fully, and
    equal a fresh full build."""
    base = hospital.generated(seed=9, visits=120, stays=60)
    sessions = base.pop("fact_clinic_session")
    wh = loaded_warehouse(tmp_path / "d0", base)
    try:
        refresh(wh, model)
        assert all(wh.scalar(f"SELECT count(*) FROM {t}") == 0
                   for t in tables(model, "clinic_session"))
        rep = deliver(wh, tmp_path / "d1", {"fact_clinic_session": sessions})
        assert rep.tables["fact_clinic_session"].inserted == len(sessions)
        assert wh.scalar("SELECT count(*) FROM _changes_fact_clinic_session "
                         "WHERE load_id = ?", [rep.load_id]) == 0
        assert wh.query_rows("SELECT table_name, rows FROM _bulk_loads WHERE load_id = ?",
                             [rep.load_id]) == [("fact_clinic_session", len(sessions))]
        after = by_name(refresh(wh, model))
        for t in tables(model, "clinic_session"):
            assert after[t].mode == "full", after[t]
            assert after[t].rows > 0
        for t in tables(model, "visit"):
            assert after[t].mode == "unchanged", after[t]
        built = contents(wh, model)
        refresh(wh, model, full=True)
        assert_same_contents(built, contents(wh, model))
        # consumed by every materialization: pruned with the change tables
        assert wh.scalar("SELECT count(*) FROM _bulk_loads") == 0
    finally:
        wh.close()


def test_a_day_grain_materialization_rebuilds_only_the_changed_days(wh, model, tmp_path):
    """Day buckets hold only their day's rows, so a new visit on 10 March rebuilds 10 March
    of a day-grain materialization and leaves 12 March alone; a month-grain one rebuilds
    March. (A marker planted in the stored rows shows which buckets were rewritten.)"""
    refresh(wh, model)
    daily, monthly = "mv_visit__daily_all", "mv_visit__monthly_dept"
    assert {daily, monthly} <= set(tables(model, "visit"))
    wh.execute(f"UPDATE {daily} SET opd_ed_visit_count = -1 WHERE _bucket IN "
               "(DATE '2025-03-10', DATE '2025-03-12')")
    wh.execute(f"UPDATE {monthly} SET opd_ed_visit_count = -1 WHERE _bucket = DATE '2025-03-01'")
    deliver(wh, tmp_path / "d1", {"fact_visit": [
        hospital.visit("NEW1", "2025-03-10 09:00:00", "D01", "DR1")]})
    rep = by_name(refresh(wh, model))
    assert rep[daily].mode == rep[monthly].mode == "incremental"
    marked = lambda t, day: wh.scalar(  # noqa: E731
        f"SELECT count(*) FROM {t} WHERE _bucket = DATE '{day}' AND opd_ed_visit_count = -1")
    assert marked(daily, "2025-03-10") == 0       # rebuilt
    assert marked(daily, "2025-03-12") > 0        # not touched
    assert marked(monthly, "2025-03-01") == 0     # the whole month rebuilt


def test_a_failing_materialization_fails_alone_and_is_rebuilt_next_time(wh, model, tmp_path):
    """A fact's materializations are rebuilt together (one pass over its rows, one commit);
    when one of them fails the others still land, the failure is recorded against it
    alone, and the next refresh rebuilds it fully."""
    refresh(wh, model)
    daily, monthly = "mv_visit__daily_all", "mv_visit__monthly_dept"
    last = wh.query_rows(f"SELECT column_name FROM (DESCRIBE {monthly})")[-1][0]
    wh.execute(f"ALTER TABLE {monthly} DROP COLUMN {last}")  # its insert now fails
    deliver(wh, tmp_path / "d1", {"fact_visit": [
        hospital.visit("NEW1", "2025-03-10 09:00:00", "D01", "DR1")]})
    report = refresh(wh, model)
    assert [r.name for r in report.results].count(monthly) == 1  # not also a success
    rep = by_name(report)
    assert rep[monthly].mode == "failed" and rep[monthly].error
    assert rep[daily].mode == "incremental"
    assert wh.scalar("SELECT status FROM _mv_state WHERE name = ?", [monthly]) == "failed"
    assert wh.scalar(f"SELECT sum(opd_ed_visit_count) FROM {daily} "
                     "WHERE _bucket = DATE '2025-03-10'") >= 1
    again = by_name(refresh(wh, model))
    assert again[monthly].mode == "full" and again[daily].mode == "unchanged"
    rebuilt = contents(wh, model)
    refresh(wh, model, full=True)
    assert_same_contents(rebuilt, contents(wh, model))


def test_compiled_sql_is_reused_only_for_the_same_model_route_and_spec(wh, model, tmp_path):
    """The query service memoises a unit's SQL; a refresh that builds a materialization
    reroutes the next query to it (a new entry), and another model compiles its own."""
    from metrics import fetch

    fetch._COMPILED.clear()
    spec = make_spec(["opd_ed_visits"], by=["department"], grain="month",
                     start=dt.date(2025, 1, 1), end=dt.date(2025, 6, 30))
    before = run(spec, wh=wh, model=model)
    assert {s for _, _, s in sources(before)} == {"base"}
    n = len(fetch._COMPILED)
    again = run(spec, wh=wh, model=model)
    assert len(fetch._COMPILED) == n  # served from the memo
    pd.testing.assert_frame_equal(before.frame, again.frame)
    refresh(wh, model)
    routed = run(spec, wh=wh, model=model)
    assert {s for _, _, s in sources(routed)} != {"base"}
    assert len(fetch._COMPILED) > n
    pd.testing.assert_frame_equal(before.frame, routed.frame, check_dtype=False)
    other = copy.deepcopy(model)  # e.g. the themes reloaded: never its SQL reused
    k = len(fetch._COMPILED)
    run(spec, wh=wh, model=other)
    assert len(fetch._COMPILED) > k


def test_live_tail_reuses_the_days_before_today_across_minutes(wh, model):
    """A range reaching today: the days before it come from a materialization, compiled once
    whatever the minute; today's part is compiled per as-of (its rows up to that moment)."""
    from metrics import fetch

    refresh(wh, model)
    fetch._COMPILED.clear()
    spec = make_spec(["opd_ed_visits"], by=["department"], grain="month",
                     start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 31),
                     as_of=dt.datetime(2025, 3, 20, 10, 0))
    first = run(spec, wh=wh, model=model)
    (unit,) = [u for _, f in first.fetches for u in f.units]
    assert unit.source != "base" and unit.tail_sql is not None  # history + live today
    n = len(fetch._COMPILED)
    later = run(replace(spec, as_of=dt.datetime(2025, 3, 20, 10, 1)), wh=wh, model=model)
    (unit2,) = [u for _, f in later.fetches for u in f.units]
    assert len(fetch._COMPILED) == n + 1  # only today's part is new
    assert unit2.sql is unit.sql  # the history's SQL tree is the memoised one
    assert "10:01:00" in render(unit2.tail_sql, "duckdb")
    assert "10:01:00" not in render(unit.tail_sql, "duckdb")
    base = run(replace(spec, as_of=dt.datetime(2025, 3, 20, 10, 1)), wh=wh, model=model,
               use_mvs=False)
    pd.testing.assert_frame_equal(later.frame, base.frame, check_dtype=False)
