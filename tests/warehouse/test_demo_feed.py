"""The demo feed (warehouse.demo.feed.tick): files in the inbox that load cleanly and move the
live figures, deterministic, never reusing an id, catching up at most CATCH_UP_HOURS."""
from __future__ import annotations

import shutil
import time
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

from warehouse.contract import LOAD_ORDER, TABLES
from warehouse.demo import feed
from warehouse.demo.feed import CATCH_UP_HOURS, tick
from warehouse.engine import open_warehouse
from warehouse.loader import load_file

AS_OF = datetime(2026, 11, 25, 10, 0)      # a Wednesday morning
NOW = datetime(2026, 11, 25, 10, 5)
TODAY = date(2026, 11, 25)
SEED = 1


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    from cockpit.commands.demo import build_demo

    db = tmp_path_factory.mktemp("feed") / "demo.duckdb"
    build_demo(str(db), "tiny", 42, as_of=AS_OF)
    return db


@pytest.fixture
def wh(built, tmp_path):
    """A private copy of the built demo warehouse."""
    db = tmp_path / "w.duckdb"
    shutil.copyfile(built, db)
    w = open_warehouse(str(db))
    yield w
    w.close()


def _files(inbox: Path) -> list[Path]:
    return sorted(inbox.glob("*.csv"), key=lambda p: LOAD_ORDER.index(p.name.split(".")[0]))


def _load(wh, files) -> int:
    """Load files as the inbox does; return the rows quarantined."""
    return sum(load_file(wh, f).quarantined for f in files)


def _query(wh, metric: str, day=TODAY, as_of=NOW) -> float:
    from metrics import query

    df = query([metric], start=day, end=day, as_of=as_of, wh=wh, use_mvs=False)
    return float(df[metric].sum())


def test_files_named_written_whole_and_loaded_clean(wh, tmp_path):
    inbox = tmp_path / "inbox"
    t0 = time.perf_counter()
    text = tick(wh, inbox, now=NOW, seed=SEED)
    assert time.perf_counter() - t0 < 5
    files = _files(inbox)
    assert files, text
    assert not list(inbox.glob("*.part"))
    for f in files:
        table, tag, ext = f.name.split(".")
        assert table in TABLES and tag == "feed-20261125100500" and ext == "csv"
        header = f.read_text(encoding="utf-8").splitlines()[0]
        assert header.split(",") == list(TABLES[table].column_names)
    visits = pd.read_csv(inbox / "fact_visit.feed-20261125100500.csv", dtype=str)
    assert visits.visit_ts.str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d").all()
    assert set(visits.is_appointment) <= {"true", "false"}
    assert "visit" in text and "file(s)" in text
    assert _load(wh, files) == 0


def test_visits_today_go_up(wh, tmp_path):
    before = _query(wh, "opd_ed_visits")
    tick(wh, tmp_path / "inbox", now=NOW, seed=SEED)
    _load(wh, _files(tmp_path / "inbox"))
    after = _query(wh, "opd_ed_visits")
    assert after > before
    new = pd.read_csv(tmp_path / "inbox" / "fact_visit.feed-20261125100500.csv", dtype=str)
    fresh = new[new.visit_id.str.startswith("VF")]
    ts = pd.to_datetime(fresh.visit_ts)
    assert (ts <= NOW).all() and (ts > NOW - pd.Timedelta(minutes=10)).all()
    # nothing is seen or checked in after now; some of the new visits may still wait
    for col in ("checkin_ts", "seen_ts"):
        assert (pd.to_datetime(new[col]).dropna() <= NOW).all()
    # every new visit is billed (registration at least)
    charges = pd.read_csv(tmp_path / "inbox" / "fact_charge.feed-20261125100500.csv", dtype=str)
    assert set(fresh.visit_id) <= set(charges.encounter_id)


def test_discharges_update_in_house_stays(wh, tmp_path):
    later = datetime(2026, 11, 25, 14, 0)
    in_house = set(wh.query_df("SELECT admission_id FROM fact_inpatient "
                               "WHERE discharge_ts IS NULL").admission_id)
    before = _query(wh, "discharges", as_of=later)
    text = tick(wh, tmp_path / "inbox", now=later, seed=SEED)
    files = _files(tmp_path / "inbox")
    ip = pd.read_csv(tmp_path / "inbox" / "fact_inpatient.feed-20261125140000.csv", dtype=str)
    dis = ip[ip.discharge_ts.notna()]
    assert len(dis) > 0, text
    assert set(dis.admission_id) <= in_house                       # updates of known stays
    assert dis.discharge_disposition.notna().all() and dis.total_cost.notna().all()
    assert (ip[ip.discharge_ts.isna()].admission_id.str.startswith("AF")).all()  # admissions
    assert _load(wh, files) == 0
    assert _query(wh, "discharges", as_of=later) == before + len(dis)
    left = wh.query_df("SELECT admission_id FROM fact_inpatient WHERE discharge_ts IS NOT NULL "
                       "AND admission_id IN (SELECT unnest(CAST(? AS VARCHAR[])))",
                       [list(dis.admission_id)])
    assert len(left) == len(dis)
    # their costs are the sum of their charges
    totals = wh.query_df("SELECT i.total_cost, sum(c.amount) AS charged FROM fact_inpatient i JOIN "
                         "fact_charge c ON c.encounter_id = i.admission_id WHERE i.admission_id "
                         "IN (SELECT unnest(CAST(? AS VARCHAR[]))) GROUP BY i.admission_id, "
                         "i.total_cost", [list(dis.admission_id)])
    assert (totals.total_cost - totals.charged).abs().max() < 0.01


def test_same_seed_and_now_give_the_same_files(built, tmp_path):
    out = {}
    for name, seed in (("a", SEED), ("b", SEED), ("c", SEED + 1)):
        db = tmp_path / f"{name}.duckdb"
        shutil.copyfile(built, db)
        w = open_warehouse(str(db))
        tick(w, tmp_path / name, now=NOW, seed=seed)
        w.close()
        out[name] = {p.name: p.read_bytes() for p in _files(tmp_path / name)}
    assert out["a"] == out["b"]
    assert out["a"] != out["c"]


def test_two_ticks_never_reuse_an_id(wh, tmp_path):
    seen: dict[str, set] = {}
    for k, now in enumerate((NOW, datetime(2026, 11, 25, 10, 6))):
        inbox = tmp_path / f"in{k}"
        tick(wh, inbox, now=now, seed=SEED)
        files = _files(inbox)
        assert _load(wh, files) == 0
        stamp = now.strftime("%Y%m%d%H%M%S")
        for f in files:
            table = f.name.split(".")[0]
            pk = list(TABLES[table].primary_key)
            df = pd.read_csv(f, dtype=str)
            assert not df.duplicated(pk).any(), f.name
            if len(pk) == 1:
                new = {i for i in df[pk[0]] if "F" + stamp in i}
                assert not (new & seen.get(table, set())), f.name
                seen.setdefault(table, set()).update(new)
    n = wh.scalar("SELECT count(*) FROM fact_visit WHERE visit_id LIKE 'VF%'")
    assert n == len(seen["fact_visit"])


def test_a_tick_at_the_last_time_drops_nothing(wh, tmp_path):
    last = feed.last_event_ts(wh)
    assert last is not None and last <= AS_OF
    text = tick(wh, tmp_path / "a", now=last, seed=SEED)
    assert "nothing" in text and not _files(tmp_path / "a")
    tick(wh, tmp_path / "b", now=NOW, seed=SEED)
    text = tick(wh, tmp_path / "c", now=NOW, seed=SEED)            # again: the feed remembers
    assert "nothing" in text and not _files(tmp_path / "c")
    assert feed.last_event_ts(wh) == NOW


def test_long_pause_is_capped_and_the_day_rollover_writes_the_census(wh, tmp_path):
    now = datetime(2026, 11, 26, 1, 0)             # 15 h after the build, past midnight
    text = tick(wh, tmp_path / "in", now=now, seed=SEED)
    assert f"{CATCH_UP_HOURS} h" in text
    files = _files(tmp_path / "in")
    visits = pd.read_csv(tmp_path / "in" / "fact_visit.feed-20261126010000.csv", dtype=str)
    assert (pd.to_datetime(visits.visit_ts) > now - pd.Timedelta(hours=CATCH_UP_HOURS)).all()
    census = pd.read_csv(tmp_path / "in" / "fact_ward_census.feed-20261126010000.csv", dtype=str)
    wards = wh.scalar("SELECT count(*) FROM dim_department WHERE has_ward")
    assert set(census.census_date) == {"2026-11-25"} and len(census) == wards
    charges = pd.read_csv(tmp_path / "in" / "fact_charge.feed-20261126010000.csv", dtype=str)
    assert "2026-11-26" in set(charges.charge_date)     # the new day billed to in-house stays
    assert _load(wh, files) == 0
    assert _query(wh, "inpatient_census", day=TODAY, as_of=now) > 0
