"""The demo hospital keeps happening: a simulated feed for the server's inbox.

`tick(wh, inbox)` looks at what the warehouse already holds, draws the events of the demo
hospital between the last thing it knows of and now (hospital time), and drops them into the
inbox as `<table>.feed-<YYYYmmddHHMMSS>.csv` files (written under a `.part` name, then renamed,
so the server never reads half a file). The server runs it every minute (`cockpit demo`); its
inbox job then loads the files and refreshes, and the live figures move.

A tick produces, for the window (last, now]:

* fact_visit: new outpatient and emergency registrations at the hospital's own recent rates
  (per department and visit type over the last 28 days) shaped by the catalogue's weekday and
  hour profiles (§15); outpatients go to a doctor holding a clinic session today. Check-in and
  call-in times are drawn per visit and shown only once they have passed, so some new visits
  are not seen yet; visits still waiting are re-delivered when they are checked in or seen.
* fact_charge: the new visits' charges (as the generator bills them); one day of charges per
  in-house stay for each new admission and, at midnight, for every stay still in a bed; the
  operation fee of the feed's own operations when they finish.
* fact_inpatient: new admissions (no discharge yet) and discharges of in-house stays, as
  updates of the stay row (discharge time, department, disposition, costs summed from the
  stay's charges: the loader upserts by key).
* fact_surgery: today's scheduled operations that started or finished (updates), and the
  operations booked for the new surgical admissions.
* fact_online_consult: new consults, and first responses to waiting ones.
* fact_ward_census: at the first tick of a new day, the midnight census of the day(s) that
  ended, per ward, counted from the stays.

Ids of new rows carry `F` and the tick's timestamp (`VF20261125100500…`), so ticks never
collide with each other or with the generator. A tick is deterministic for (warehouse state,
seed, now). The time of the last tick is kept in the small state table `_demo_feed`; without
it the latest event time in the facts is used. After a long pause the feed catches up the last
`CATCH_UP_HOURS` only, and says so.

>>> _hour_slots(datetime(2026, 11, 25, 9, 30), datetime(2026, 11, 25, 10, 15),
...            (1.0,) * 7, (1.0,) * 24)[2].round(4).tolist()
[0.0208, 0.0104]
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.csv as pacsv

from .. import settings
from ..contract import LOAD_ORDER, TABLES
from . import charges as charge_mod
from . import profile
from .frames import conform
from .rand import ids, pick_dict, rng_for

#: after a pause, catch up at most this many hours (older events are not invented)
CATCH_UP_HOURS = 6
#: days of history the rates are estimated from
RATE_DAYS = 28
#: a visit still waiting after this long left without being seen; older ones are not updated
PENDING_HOURS = 6
#: the feed's state table: one row per tick that dropped something
STATE_TABLE = "_demo_feed"
#: census days filled in at most, after a pause across several midnights
CENSUS_MAX_DAYS = 7
DEFAULT_SEED = 42

_S = np.timedelta64(1, "s")
_OUT_PERIOD = (13, 18)        # before 13:00 am, before 18:00 pm, else night
# per stay-day: how often a category is billed (bed and nursing every day); surgery comes with
# the operation, not daily
_DAILY_PRESENT = {"drug": 0.95, "material": 0.5, "exam": 0.35, "lab": 0.6, "treatment": 0.6,
                  "nursing": 1.0, "bed": 1.0, "consultation": 0.3, "other": 0.4}


# -- small helpers ---------------------------------------------------------------------------
def _naive(ts: datetime | None) -> datetime | None:
    """A timestamp as naive hospital-local time, to the second."""
    if ts is None:
        return None
    if ts.tzinfo is not None:
        ts = ts.astimezone(settings.hospital_tz()).replace(tzinfo=None)
    return ts.replace(microsecond=0)


def _dt64(ts) -> np.datetime64:
    return np.datetime64(pd.Timestamp(ts).to_pydatetime().replace(microsecond=0), "s")


def _hour_slots(since: datetime, now: datetime, dow, hours):
    """(starts, ends, weights) of the hour slots covering (since, now]: weight = the share of an
    average day's events falling in the covered part of the slot (weekday × hour profiles)."""
    hours = np.asarray(hours, float)
    hours = hours / hours.sum()
    starts, ends, weights = [], [], []
    t = since.replace(minute=0, second=0, microsecond=0)
    while t < now:
        lo, hi = max(t, since), min(t + timedelta(hours=1), now)
        frac = (hi - lo).total_seconds() / 3600.0
        starts.append(lo)
        ends.append(hi)
        weights.append(dow[t.weekday()] * hours[t.hour] * frac)
        t += timedelta(hours=1)
    return (np.array(starts, dtype="datetime64[s]"), np.array(ends, dtype="datetime64[s]"),
            np.array(weights, float))


def _draw_times(rng, slots, n: int) -> np.ndarray:
    """n timestamps in (since, now] following the slot weights."""
    starts, ends, w = slots
    if n == 0 or w.sum() <= 0:
        return np.empty(n, dtype="datetime64[s]")
    k = rng.choice(len(w), size=n, p=w / w.sum())
    dur = (ends[k] - starts[k]).astype(np.int64)
    return ends[k] - (rng.random(n) * dur).astype(np.int64).astype("timedelta64[s]")


def _poisson_rows(rng, rates: pd.DataFrame, share: float) -> pd.DataFrame:
    """Repeat each rate row Poisson(per_day × share) times."""
    if rates.empty or share <= 0:
        return rates.iloc[:0].reset_index(drop=True)
    n = rng.poisson(rates.per_day.to_numpy(float) * share)
    return rates.loc[np.repeat(rates.index.to_numpy(), n)].reset_index(drop=True)


def _choose(rng, pool: pd.DataFrame, keys: list[str], want: pd.DataFrame) -> np.ndarray:
    """For each row of `want`, the position in `pool` of a random pool row with the same keys
    (-1 when there is none)."""
    n = len(want)
    if n == 0 or pool.empty:
        return np.full(n, -1)
    p = pool[keys].astype(object).reset_index(drop=True)
    order = np.lexsort([p[k].astype(str).to_numpy() for k in reversed(keys)])
    g = p.iloc[order].assign(_pos=np.arange(len(order)))
    grp = g.groupby(keys, sort=False)._pos.agg(["min", "size"]).reset_index()
    m = want[keys].astype(object).reset_index(drop=True).merge(grp, on=keys, how="left")
    ok = m["size"].notna().to_numpy()
    start = m["min"].fillna(0).to_numpy(np.int64)
    size = m["size"].fillna(1).to_numpy(np.int64)
    pos = start + np.minimum((rng.random(n) * size).astype(np.int64), size - 1)
    return np.where(ok, order[np.clip(pos, 0, len(order) - 1)], -1)


def _take(pool: pd.DataFrame, col: str, pos: np.ndarray, default=None) -> np.ndarray:
    vals = pool[col].to_numpy(dtype=object)
    out = np.full(len(pos), default, dtype=object)
    ok = pos >= 0
    out[ok] = vals[pos[ok]]
    return out


def _u(keys, seed: int, tag: str) -> np.ndarray:
    """Uniforms in (0, 1) fixed by (seed, tag, key): an event's own times stay the same from one
    tick to the next, so a waiting visit or a running operation moves on consistently."""
    hk = f"{seed % 10**8:08d}{tag[:8]:<8}"
    h = pd.util.hash_pandas_object(pd.Series(np.asarray(keys, dtype=object)), index=False,
                                   hash_key=hk).to_numpy()
    return (h >> np.uint64(11)).astype(np.float64) / 2.0 ** 53 + 2.0 ** -54


def _z(keys, seed: int, tag: str) -> np.ndarray:
    """Standard normals fixed by (seed, tag, key) (Box-Muller)."""
    u1, u2 = _u(keys, seed, tag + "a"), _u(keys, seed, tag + "b")
    return np.sqrt(-2 * np.log(u1)) * np.cos(2 * np.pi * u2)


def _ts(s) -> np.ndarray:
    return pd.to_datetime(pd.Series(s)).to_numpy().astype("datetime64[s]")


# -- what the warehouse holds ------------------------------------------------------------------
def last_event_ts(wh) -> datetime | None:
    """The last time the feed ran (state table), else the latest event time in the facts."""
    parts = ["SELECT max(visit_ts) AS t FROM fact_visit",
             "SELECT greatest(max(admit_ts), max(discharge_ts)) FROM fact_inpatient",
             "SELECT max(request_ts) FROM fact_online_consult",
             "SELECT greatest(max(start_ts), max(end_ts)) FROM fact_surgery"]
    if wh.table_exists(STATE_TABLE):
        parts.append(f"SELECT max(now_ts) FROM {STATE_TABLE}")
    if not wh.table_exists("fact_visit"):
        return None
    t = wh.scalar("SELECT max(t) FROM (" + " UNION ALL ".join(parts) + ")")
    return None if t is None or pd.isna(t) else _naive(pd.Timestamp(t).to_pydatetime())


@dataclass
class _Context:
    """Dimensions and recent rates of the warehouse, read once per tick."""

    since: datetime
    now: datetime
    seed: int
    stamp: str
    dept: pd.DataFrame = field(default=None)
    campus: pd.DataFrame = field(default=None)
    doctor: pd.DataFrame = field(default=None)
    team: pd.DataFrame = field(default=None)
    room: pd.DataFrame = field(default=None)
    sessions: pd.DataFrame = field(default=None)
    visit_rates: pd.DataFrame = field(default=None)
    adm_rates: pd.DataFrame = field(default=None)
    dis_rates: pd.DataFrame = field(default=None)
    online_rates: pd.DataFrame = field(default=None)
    dx: pd.DataFrame = field(default=None)
    op_rates: pd.DataFrame = field(default=None)
    daily_charge: pd.DataFrame = field(default=None)
    surgery_fee: pd.Series = field(default=None)
    open_beds: pd.Series = field(default=None)
    last_census: object = None

    @property
    def today(self) -> np.datetime64:
        return np.datetime64(self.now.date(), "D")


def _read_context(wh, since: datetime, now: datetime, seed: int) -> _Context:
    c = _Context(since, now, seed, now.strftime("%Y%m%d%H%M%S"))
    q = wh.query_df
    c.campus = q("SELECT campus_id, campus_type FROM dim_campus ORDER BY campus_id")
    c.dept = q("SELECT dept_id, campus_id, discipline, is_surgical, has_ward FROM dim_department "
               "ORDER BY dept_id")
    c.doctor = q("SELECT doctor_id, dept_id, team_id, title FROM dim_doctor ORDER BY doctor_id")
    c.team = q("SELECT team_id, dept_id, leader_doctor_id FROM dim_team ORDER BY team_id")
    c.room = q("SELECT or_room, campus_id, open_minutes_weekend FROM dim_or_room ORDER BY or_room")
    c.sessions = q("SELECT dept_id, session_period, doctor_id, session_type FROM "
                   "fact_clinic_session WHERE session_date = ? AND session_status = 'held' "
                   "ORDER BY session_id", [now.date()])
    d1 = since.replace(hour=0, minute=0, second=0)
    d0 = d1 - timedelta(days=RATE_DAYS)
    rng_ = [d0, d1]

    def per_day(sql: str, ts: str, table: str) -> pd.DataFrame:
        days = wh.scalar(f"SELECT count(DISTINCT CAST({ts} AS DATE)) FROM {table} "
                         f"WHERE {ts} >= ? AND {ts} < ?", rng_) or 0
        df = q(sql, rng_)
        df["per_day"] = df.n.astype(float) / max(int(days), 1)
        return df

    c.visit_rates = per_day(
        "SELECT campus_id, dept_id, visit_type, count(*) AS n FROM fact_visit WHERE visit_ts >= ? "
        "AND visit_ts < ? GROUP BY ALL ORDER BY ALL", "visit_ts", "fact_visit")
    c.adm_rates = per_day(
        "SELECT campus_id, admit_dept_id AS dept_id, admission_source, count(*) AS n FROM "
        "fact_inpatient WHERE admit_ts >= ? AND admit_ts < ? GROUP BY ALL ORDER BY ALL",
        "admit_ts", "fact_inpatient")
    c.dis_rates = per_day(
        "SELECT discharge_dept_id AS dept_id, count(*) AS n, avg(date_diff('second', admit_ts, "
        "discharge_ts)) / 86400.0 AS los FROM fact_inpatient WHERE discharge_ts >= ? AND "
        "discharge_ts < ? GROUP BY ALL ORDER BY ALL", "discharge_ts", "fact_inpatient")
    c.online_rates = per_day(
        "SELECT dept_id, count(*) AS n FROM fact_online_consult WHERE request_ts >= ? AND "
        "request_ts < ? GROUP BY ALL ORDER BY ALL", "request_ts", "fact_online_consult")
    c.dx = q("SELECT admit_dept_id AS dept_id, principal_dx FROM fact_inpatient "
             "WHERE admit_ts >= ? AND admit_ts < ? AND principal_dx IS NOT NULL "
             "ORDER BY admission_id", rng_)
    c.op_rates = q(
        "WITH ops AS (SELECT dept_id, count(*) AS ops, avg(CAST(is_elective AS INT)) AS elective "
        "FROM fact_surgery WHERE admission_id IS NOT NULL AND surgery_status = 'done' "
        "AND start_ts >= ? AND start_ts < ? GROUP BY ALL), "
        "adm AS (SELECT admit_dept_id AS dept_id, count(*) AS adm FROM fact_inpatient "
        "WHERE admit_ts >= ? AND admit_ts < ? GROUP BY ALL) "
        "SELECT ops.dept_id, least(ops / adm, 1.0) AS p_op, elective FROM ops JOIN adm USING "
        "(dept_id) ORDER BY 1", rng_ + rng_)
    bed_days = q("SELECT dept_id, sum(occupied_beds + same_day_stays) AS bed_days FROM "
                 "fact_ward_census WHERE census_date >= ? AND census_date < ? GROUP BY ALL", rng_)
    ch = q("SELECT dept_id, category, sum(amount) AS amount FROM fact_charge WHERE "
           "encounter_type = 'inpatient' AND charge_date >= ? AND charge_date < ? GROUP BY ALL",
           rng_)
    daily = ch[ch.category.isin(list(_DAILY_PRESENT))].merge(bed_days, on="dept_id")
    daily = daily[daily.bed_days > 0]
    daily = daily.assign(mean=daily.amount / daily.bed_days)
    c.daily_charge = daily.pivot(index="dept_id", columns="category", values="mean").reindex(
        columns=list(_DAILY_PRESENT)).fillna(0.0)
    ops_n = q("SELECT dept_id, count(*) AS n FROM fact_surgery WHERE admission_id IS NOT NULL "
              "AND surgery_status = 'done' AND start_ts >= ? AND start_ts < ? GROUP BY ALL", rng_)
    fee = ch[ch.category == "surgery"].merge(ops_n, on="dept_id")
    c.surgery_fee = (fee.set_index("dept_id").amount / fee.set_index("dept_id").n).clip(lower=0)
    c.open_beds = q("SELECT dept_id, arg_max(open_beds, census_date) AS open_beds FROM "
                    "fact_ward_census GROUP BY ALL").set_index("dept_id").open_beds
    c.last_census = wh.scalar("SELECT max(census_date) FROM fact_ward_census")
    return c


# -- visits ------------------------------------------------------------------------------------
def _visit_timeline(v: pd.DataFrame, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(check-in, seen) of each visit as it will happen, fixed per visit id: appointments check
    in around their slot, walk-ins a few minutes after registering, emergencies at once; waits
    are exponential (15 min booked, 30 walk-in, 15 emergency); 2 % of outpatients never check
    in and 1.5 % leave without being seen."""
    vid = v.visit_id.to_numpy(dtype=object)
    n = len(v)
    visit = _ts(v.visit_ts)
    slot = _ts(v.slot_start_ts)
    appt = v.is_appointment.to_numpy(bool)
    er = (v.visit_type == "emergency").to_numpy()
    u1, u2, u3, u4 = (_u(vid, seed, t) for t in ("vchk", "vwait", "vnoci", "vlwbs"))
    early = np.rint(np.clip(-20 + 22 * _z(vid, seed, "vearly"), -90, 60) * 60).astype(np.int64)
    planned = np.where(appt & ~np.isnat(slot), np.maximum(slot + early * _S, visit), visit)
    walk = visit + (60 + u1 * 540).astype(np.int64) * _S
    checkin = np.where(er, visit + (u1 * 300).astype(np.int64) * _S,
                       np.where(appt, planned, walk))
    known = _ts(v.checkin_ts)
    checkin = np.where(np.isnat(known), checkin, known)
    nat = np.datetime64("NaT", "s")
    checkin = np.where(~er & (u3 < 0.02) & np.isnat(known), nat, checkin)
    start = np.where(appt & ~np.isnat(slot), np.maximum(checkin, slot), checkin)
    mean = np.where(er | appt, 900.0, 1800.0)
    seen = start + (-mean * np.log(u2)).astype(np.int64) * _S
    seen = np.where(~er & (u4 < 0.015), nat, seen)
    return checkin.astype("datetime64[s]"), seen.astype("datetime64[s]")


def _new_visits(rng, c: _Context) -> pd.DataFrame:
    r = c.visit_rates
    parts = []
    for vtype, dow, hours in (("outpatient", profile.DOW_OUTPATIENT, profile.OUTPATIENT_HOURS),
                              ("emergency", profile.DOW_EMERGENCY, profile.EMERGENCY_HOURS)):
        slots = _hour_slots(c.since, c.now, dow, hours)
        rows = _poisson_rows(rng, r[r.visit_type == vtype].reset_index(drop=True), slots[2].sum())
        rows["visit_ts"] = _draw_times(rng, slots, len(rows))
        parts.append(rows)
    v = pd.concat(parts, ignore_index=True)
    v = v.sort_values(["visit_ts", "dept_id"], kind="stable").reset_index(drop=True)
    n = len(v)
    er = (v.visit_type == "emergency").to_numpy()
    hour = pd.DatetimeIndex(v.visit_ts).hour.to_numpy()
    v["session_period"] = np.where(hour < _OUT_PERIOD[0], "am",
                                   np.where(hour < _OUT_PERIOD[1], "pm", "night"))
    # outpatients see a doctor holding a session now (else today, else any of the department)
    pos = _choose(rng, c.sessions, ["dept_id", "session_period"], v)
    pos = np.where(pos >= 0, pos, _choose(rng, c.sessions, ["dept_id"], v))
    pos = np.where(er, -1, pos)
    doc = _take(c.sessions, "doctor_id", pos)
    stype = _take(c.sessions, "session_type", pos, "general")
    any_doc = _take(c.doctor, "doctor_id", _choose(rng, c.doctor, ["dept_id"], v))
    v["doctor_id"] = np.where(pos >= 0, doc, any_doc)
    cls = np.where(stype == "mdt", "expert", stype)
    v["registration_class"] = np.where(er, "general", cls)
    campus_type = v.campus_id.map(c.campus.set_index("campus_id").campus_type).to_numpy()
    appt = ~er & (rng.random(n) < profile.APPOINTMENT_SHARE)
    v["is_appointment"] = appt
    channel = pick_dict(rng, profile.BOOKING_CHANNELS, n).astype(object)
    v["booking_channel"] = np.where(appt, channel, None)
    v["is_first_visit"] = rng.random(n) < np.where(er, 0.7, 0.35)
    v["referred_down"] = (rng.random(n) < 0.006) & (campus_type != "alliance") & ~er
    v["visit_id"] = ids("VF" + c.stamp, np.arange(n), 7).to_numpy()
    v["patient_id"] = ids("P", rng.integers(0, 10**8, n), 9).to_numpy()
    # a booked slot on the quarter hour, ~20 min after the patient registers on arrival
    visit = _ts(v.visit_ts)
    lead = np.rint(np.clip(rng.normal(20, 15, n), -30, 75) * 60).astype(np.int64)
    slot = visit + lead * _S
    slot = slot - (slot.astype(np.int64) % 900) * _S
    v["slot_start_ts"] = np.where(appt, slot, np.datetime64("NaT", "s"))
    v["checkin_ts"] = pd.NaT
    checkin, seen = _visit_timeline(v, c.seed)
    now = _dt64(c.now)
    v["checkin_ts"] = np.where(checkin <= now, checkin, np.datetime64("NaT", "s"))
    v["seen_ts"] = np.where(seen <= now, seen, np.datetime64("NaT", "s"))
    return v


def _visit_updates(wh, c: _Context) -> pd.DataFrame:
    """Visits of the last PENDING_HOURS still waiting, re-delivered once checked in or seen."""
    cols = ", ".join(TABLES["fact_visit"].column_names)
    p = wh.query_df(f"SELECT {cols} FROM fact_visit WHERE visit_ts > ? AND visit_ts <= ? AND "
                    "(seen_ts IS NULL OR checkin_ts IS NULL) ORDER BY visit_id",
                    [c.now - timedelta(hours=PENDING_HOURS), c.now])
    if p.empty:
        return p
    checkin, seen = _visit_timeline(p, c.seed)
    now, since = _dt64(c.now), _dt64(c.since)
    old_ci, old_seen = _ts(p.checkin_ts), _ts(p.seen_ts)
    # an event the warehouse has not shown yet happens in this window, not in the past
    u = _u(p.visit_id.to_numpy(dtype=object), c.seed, "vlate")
    span = max(int((now - since) / _S), 1)
    late = since + np.maximum((u * span).astype(np.int64), 1) * _S
    checkin = np.where(checkin <= since, late, checkin)
    seen = np.where(~np.isnat(seen), np.maximum(seen, checkin), seen)
    seen = np.where(seen <= since, np.maximum(late, checkin), seen)
    new_ci = np.where(np.isnat(old_ci) & (checkin <= now), checkin, old_ci)
    new_seen = np.where(np.isnat(old_seen) & ~np.isnat(new_ci) & (seen <= now), seen, old_seen)
    changed = (np.isnat(old_ci) & ~np.isnat(new_ci)) | (np.isnat(old_seen) & ~np.isnat(new_seen))
    p["checkin_ts"], p["seen_ts"] = new_ci, new_seen
    return p[changed].reset_index(drop=True)


# -- inpatients --------------------------------------------------------------------------------
def _new_admissions(rng, c: _Context) -> pd.DataFrame:
    r = c.adm_rates
    parts = []
    for emergency in (False, True):
        hours = profile.EMERGENCY_HOURS if emergency else profile.ELECTIVE_ADMIT_HOURS
        slots = _hour_slots(c.since, c.now, profile.DOW_ADMISSIONS, hours)
        sel = (r.admission_source == "emergency") == emergency
        rows = _poisson_rows(rng, r[sel].reset_index(drop=True), slots[2].sum())
        rows["admit_ts"] = _draw_times(rng, slots, len(rows))
        parts.append(rows)
    a = pd.concat(parts, ignore_index=True).sort_values(["admit_ts", "dept_id"], kind="stable")
    a = a.reset_index(drop=True).rename(columns={"dept_id": "admit_dept_id"})
    n = len(a)
    a["admission_id"] = ids("AF" + c.stamp, np.arange(n), 5).to_numpy()
    a["patient_id"] = ids("P", rng.integers(0, 10**8, n), 9).to_numpy()
    want = pd.DataFrame({"dept_id": a.admit_dept_id})
    tpos = _choose(rng, c.team, ["dept_id"], want)
    a["team_id"] = _take(c.team, "team_id", tpos)
    members = c.doctor[c.doctor.team_id.notna()].reset_index(drop=True)
    dpos = _choose(rng, members, ["team_id"], a.assign(team_id=a.team_id.astype(object)))
    a["attending_doctor_id"] = _take(members, "doctor_id", dpos)
    los = a.admit_dept_id.map(c.dis_rates.set_index("dept_id").los).fillna(6.0).to_numpy()
    stay = np.maximum(np.rint(los * rng.lognormal(-0.1, 0.45, n)), 1).astype(np.int64)
    stay = stay.astype("timedelta64[D]")
    planned = _ts(a.admit_ts).astype("datetime64[D]") + stay
    a["planned_discharge_date"] = np.where(rng.random(n) < 0.8, planned, np.datetime64("NaT"))
    a["principal_dx"] = _take(c.dx, "principal_dx", _choose(rng, c.dx, ["dept_id"], want))
    for col in ("discharge_ts", "mr_archived_ts"):
        a[col] = pd.NaT
    for col in ("discharge_dept_id", "discharge_disposition", "mr_qc_grade"):
        a[col] = None
    a["readmission_planned"] = pd.array([None] * n, dtype="boolean")
    for col in ("total_cost", "drug_cost", "material_cost"):
        a[col] = np.nan
    return a


def _in_house(wh) -> pd.DataFrame:
    cols = ", ".join(TABLES["fact_inpatient"].column_names)
    return wh.query_df(f"SELECT {cols} FROM fact_inpatient WHERE discharge_ts IS NULL "
                       "ORDER BY admission_id")


def _ward(c: _Context, stays: pd.DataFrame) -> np.ndarray:
    """The department holding the stay: its discharge department once known, else its team's
    department, else where it was admitted."""
    team_dept = stays.team_id.map(c.team.set_index("team_id").dept_id)
    return stays.discharge_dept_id.fillna(team_dept).fillna(stays.admit_dept_id).to_numpy(object)


def _discharges(rng, c: _Context, house: pd.DataFrame, busy: set) -> pd.DataFrame:
    """Stays leaving in the window: per department Poisson around its recent discharges ×
    weekday × hour profile, chosen among its in-house stays weighted by time in bed relative to
    the department's ALOS (× 8 when the planned discharge date has come); stays with an
    operation still to do stay in."""
    if house.empty:
        return house.iloc[:0]
    slots = _hour_slots(c.since, c.now, profile.DOW_DISCHARGES, profile.DISCHARGE_HOURS)
    h = house.copy()
    h["ward"] = _ward(c, h)
    rates = c.dis_rates.set_index("dept_id")
    lam = h.ward.map(rates.per_day).fillna(0.0).to_numpy() * slots[2].sum()
    n_ward = h.groupby("ward").ward.transform("size").to_numpy()
    # the department's expected count, spread over its stays, then drawn per department
    per_ward = pd.Series(lam / n_ward).groupby(h.ward.to_numpy()).sum()
    want = pd.Series(rng.poisson(per_ward.to_numpy()), index=per_ward.index)
    days_in = (_dt64(c.now) - _ts(h.admit_ts)).astype(np.int64) / 86400.0
    alos = h.ward.map(rates.los).fillna(6.0).to_numpy()
    planned = pd.to_datetime(h.planned_discharge_date).to_numpy().astype("datetime64[D]")
    w = np.clip(days_in / np.maximum(alos, 0.5), 0.01, 50) ** 2
    w = w * np.where(~np.isnat(planned) & (planned <= c.today), 8.0, 1.0)
    w = np.where((days_in < 0.25) | h.admission_id.isin(busy).to_numpy(), 0.0, w)
    key = np.where(w > 0, np.log(rng.random(len(h))) / np.maximum(w, 1e-12), -np.inf)
    h["_key"] = key
    rank = h.groupby("ward")._key.rank(ascending=False, method="first").to_numpy()
    k = h.ward.map(want).fillna(0).to_numpy()
    d = h[(rank <= k) & np.isfinite(key)].copy()
    m = len(d)
    d["discharge_ts"] = np.maximum(_draw_times(rng, slots, m), _ts(d.admit_ts) + 3600 * _S)
    d["discharge_dept_id"] = d.ward.to_numpy()
    p_death = np.where(d.ward.isin(c.dept.dept_id[c.dept.discipline.isin(["重症医学科"])]),
                       0.05, 0.004)
    disp = pick_dict(rng, profile.DISPOSITION, m).astype(object)
    d["discharge_disposition"] = np.where(rng.random(m) < p_death, "death", disp)
    d["readmission_planned"] = pd.array(rng.random(m) < 0.05, dtype="boolean")
    return d.drop(columns=["ward", "_key"]).reset_index(drop=True)


# -- operations --------------------------------------------------------------------------------
def _op_times(s: pd.DataFrame, c: _Context) -> tuple[np.ndarray, np.ndarray]:
    """(start, end) of each operation, fixed per surgery id: start 12 ± 18 min after the
    scheduled time (as the generator), duration log-normal by grade."""
    sid = s.surgery_id.to_numpy(dtype=object)
    sched = _ts(s.scheduled_start_ts)
    delay = np.rint(np.clip(12 + 18 * _z(sid, c.seed, "opdelay"), -10, 120) * 60).astype(np.int64)
    start = np.where(np.isnat(_ts(s.start_ts)), sched + delay * _S, _ts(s.start_ts))
    from .surgery import MINUTES_BY_GRADE

    mean = MINUTES_BY_GRADE[s.grade.to_numpy(np.int64)]
    sigma = np.sqrt(np.log1p(0.4 ** 2))
    minutes = np.exp(np.log(mean) - sigma ** 2 / 2 + sigma * _z(sid, c.seed, "opdur"))
    end = start + (np.clip(minutes, 15, 900) * 60).astype(np.int64) * _S
    return start.astype("datetime64[s]"), end.astype("datetime64[s]")


def _new_operations(rng, c: _Context, adm: pd.DataFrame) -> pd.DataFrame:
    """Operations booked for the new admissions of surgical departments (their share of
    operated admissions): elective ones on the next working day's list, emergencies within
    1-5 h."""
    if adm.empty or c.op_rates.empty:
        return pd.DataFrame(columns=list(TABLES["fact_surgery"].column_names))
    ops = c.op_rates.set_index("dept_id")
    p = adm.admit_dept_id.map(ops.p_op).fillna(0.0).to_numpy()
    a = adm[rng.random(len(adm)) < p].reset_index(drop=True)
    rooms = c.room[c.room.open_minutes_weekend > 0].reset_index(drop=True)
    rpos = _choose(rng, rooms, ["campus_id"], a)
    a = a[rpos >= 0].reset_index(drop=True)
    rpos = rpos[rpos >= 0]
    n = len(a)
    emergency = (a.admission_source == "emergency").to_numpy()
    admit = _ts(a.admit_ts)
    day = admit.astype("datetime64[D]") + np.timedelta64(1, "D")
    dow = (day.view("int64") - 4) % 7                     # 1970-01-01 was a Thursday
    day = day + np.where(dow >= 5, 7 - dow, 0).astype("timedelta64[D]")
    from .surgery import ELECTIVE_START_HOURS, GRADE_BY_RW

    start_hour = np.asarray(ELECTIVE_START_HOURS, float)
    hour = rng.choice(24, size=n, p=start_hour / start_hour.sum())
    listed = day.astype("datetime64[s]") + (hour * 3600 + rng.integers(0, 4, n) * 900) * _S
    urgent = admit + rng.integers(3600, 5 * 3600, n) * _S
    grade = 1 + rng.choice(4, size=n, p=np.asarray(GRADE_BY_RW[1]))
    leaders = c.team.set_index("team_id").leader_doctor_id
    surgeon = np.where(pd.isna(a.attending_doctor_id), a.team_id.map(leaders),
                       a.attending_doctor_id)
    any_doc = _take(c.doctor, "doctor_id", _choose(rng, c.doctor, ["dept_id"],
                                                    a.rename(columns={"admit_dept_id": "dept_id"})))
    surgeon = np.where(pd.isna(surgeon), any_doc, surgeon)
    incision = np.where(rng.random(n) < 0.8, "I", "II").astype(object)
    out = pd.DataFrame({
        "surgery_id": ids("SF" + c.stamp, np.arange(n), 5).to_numpy(),
        "admission_id": a.admission_id.to_numpy(),
        "patient_id": a.patient_id.to_numpy(),
        "campus_id": a.campus_id.to_numpy(),
        "dept_id": a.admit_dept_id.to_numpy(),
        "team_id": a.team_id.to_numpy(),
        "surgeon_id": surgeon,
        "or_room": rooms.or_room.to_numpy()[rpos],
        "scheduled_start_ts": np.where(emergency, urgent, listed).astype("datetime64[s]"),
        "surgery_status": "scheduled",
        "start_ts": np.datetime64("NaT", "s"),
        "end_ts": np.datetime64("NaT", "s"),
        "grade": grade.astype(np.int64),
        "is_minimally_invasive": rng.random(n) < 0.35,
        "is_day_surgery": False,
        "is_elective": ~emergency,
        "has_complication": rng.random(n) < 0.01,
        "incision_class": incision,
        "has_ssi": pd.array(np.zeros(n, bool), dtype="boolean"),
        "anesthesia": np.where(rng.random(n) < np.where(grade >= 3, 0.9, 0.45), "general",
                               np.where(rng.random(n) < 0.5, "regional", "local")),
    })
    return out[out.surgery_id.notna()]


def _operations(wh, rng, c: _Context, adm: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(operation rows to deliver, operations still to do). Today's scheduled and running
    operations move on when their (fixed) start and end pass; new ones are booked."""
    cols = ", ".join(TABLES["fact_surgery"].column_names)
    cur = wh.query_df(
        f"SELECT {cols} FROM fact_surgery WHERE surgery_status IN ('scheduled', 'in_progress') "
        "AND coalesce(start_ts, scheduled_start_ts) >= ? ORDER BY surgery_id",
        [c.now - timedelta(days=2)])
    new = _new_operations(rng, c, adm)
    allops = pd.concat([cur.assign(_new=False), new.assign(_new=True)], ignore_index=True)
    if allops.empty:
        return allops.drop(columns="_new"), allops
    start, end = _op_times(allops, c)
    since, now = _dt64(c.since), _dt64(c.now)
    was = allops.surgery_status.to_numpy(object)
    # what the warehouse has not shown yet happens in this window, not in the past
    start = np.where((was == "scheduled") & (start <= since) & ~allops._new.to_numpy(),
                     since + np.int64(1) * _S, start)
    end = np.maximum(end, start + 600 * _S)
    end = np.where((was != "done") & (end <= since) & ~allops._new.to_numpy(),
                   since + np.int64(60) * _S, end)
    unscheduled = np.isnat(_ts(allops.scheduled_start_ts)) & np.isnat(_ts(allops.start_ts))
    start = np.where(unscheduled, np.datetime64("NaT", "s"), start)
    status = np.where(end <= now, "done", np.where(start <= now, "in_progress", was))
    nat = np.datetime64("NaT", "s")
    allops["start_ts"] = np.where(status != "scheduled", start, nat)
    allops["end_ts"] = np.where(status == "done", end, nat)
    allops["surgery_status"] = status
    deliver = allops[(status != was) | allops._new.to_numpy()]
    pending = allops[np.isin(status, ["scheduled", "in_progress"])]
    return deliver.reset_index(drop=True), pending


# -- charges -----------------------------------------------------------------------------------
def _payer(keys, seed: int) -> np.ndarray:
    return np.where(_u(keys, seed, "payer") < profile.SELF_PAY_SHARE, "self_pay", "insurance")


def _day_charges(rng, c: _Context, stays: pd.DataFrame, day) -> pd.DataFrame:
    """One day of charges per stay (admission_id, campus_id, ward, payer): every daily category
    present with its probability, around the ward's recent mean per bed-day."""
    if stays.empty:
        return pd.DataFrame()
    cats = list(_DAILY_PRESENT)
    hosp_mean = c.daily_charge.mean(axis=0).reindex(cats).fillna(0.0).to_numpy()
    means = c.daily_charge.reindex(stays.ward.to_numpy()).to_numpy()
    means = np.where(np.isnan(means), hosp_mean[None, :], means)
    prob = np.array([_DAILY_PRESENT[k] for k in cats])
    n = len(stays)
    present = rng.random((n, len(cats))) < prob[None, :]
    amount = np.round(means / prob[None, :] * rng.gamma(4.0, 0.25, (n, len(cats))), 2)
    si, ci = np.nonzero(present & (amount > 0))
    return pd.DataFrame({
        "encounter_type": "inpatient",
        "encounter_id": stays.admission_id.to_numpy()[si],
        "charge_date": np.datetime64(day, "D"),
        "campus_id": stays.campus_id.to_numpy()[si],
        "dept_id": stays.ward.to_numpy()[si],
        "category": np.asarray(cats, dtype=object)[ci],
        "amount": amount[si, ci],
        "payer": stays.payer.to_numpy()[si],
    })


def _stay_payers(wh, c: _Context, admission_ids) -> pd.DataFrame:
    """Per stay: its payer and charges so far (from the warehouse)."""
    if len(admission_ids) == 0:
        return pd.DataFrame(columns=["encounter_id", "payer", "total", "drug", "material"])
    return wh.query_df(
        "SELECT encounter_id, any_value(payer) AS payer, sum(amount) AS total, "
        "coalesce(sum(amount) FILTER (WHERE category = 'drug'), 0) AS drug, "
        "coalesce(sum(amount) FILTER (WHERE category = 'material'), 0) AS material "
        "FROM fact_charge WHERE encounter_type = 'inpatient' AND encounter_id IN "
        "(SELECT unnest(CAST(? AS VARCHAR[]))) GROUP BY ALL ORDER BY 1",
        [list(map(str, admission_ids))])


def _inpatient_charges(rng, wh, c: _Context, house: pd.DataFrame, adm: pd.DataFrame,
                       dis: pd.DataFrame, done_ops: pd.DataFrame
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(charge rows, per-stay charges so far). New admissions are billed their first day; at
    each midnight in the window every stay then in a bed is billed the new day; the feed's own
    operations bill their fee when they finish."""
    midnights = pd.date_range(pd.Timestamp(c.since).floor("D") + pd.Timedelta(days=1),
                              pd.Timestamp(c.now), freq="D")
    stays = pd.concat([house, adm], ignore_index=True)
    if len(dis):
        stays = stays.set_index("admission_id")
        stays.loc[dis.admission_id, "discharge_ts"] = dis.set_index("admission_id").discharge_ts
        stays.loc[dis.admission_id, "discharge_dept_id"] = dis.set_index(
            "admission_id").discharge_dept_id
        stays = stays.reset_index()
    stays["ward"] = _ward(c, stays)
    need = set(dis.admission_id)
    if len(midnights):
        need |= set(house.admission_id)
    known = _stay_payers(wh, c, sorted(need))
    payer = stays.admission_id.map(known.set_index("encounter_id").payer).to_numpy(object)
    stays["payer"] = np.where(pd.isna(payer), _payer(stays.admission_id, c.seed), payer)
    frames = []
    if len(adm):
        first = stays[stays.admission_id.isin(adm.admission_id)]
        for day, grp in first.groupby(_ts(first.admit_ts).astype("datetime64[D]")):
            frames.append(_day_charges(rng, c, grp, day))
    admit, out = _ts(stays.admit_ts), _ts(stays.discharge_ts)
    for m in midnights:
        t = _dt64(m)
        inside = (admit < t) & (np.isnat(out) | (out > t))
        frames.append(_day_charges(rng, c, stays[inside], m.date()))
    if len(done_ops):
        ops = done_ops.merge(stays[["admission_id", "ward", "payer"]], on="admission_id")
        fee = ops.dept_id.map(c.surgery_fee).fillna(c.surgery_fee.median()
                                                     if len(c.surgery_fee) else 3000.0)
        fee = np.round(fee.to_numpy() * rng.lognormal(-0.1, 0.45, len(ops)), 2)
        day = _ts(ops.end_ts).astype("datetime64[D]")
        for cat, amt in (("surgery", fee), ("material", np.round(fee * 0.6, 2))):
            frames.append(pd.DataFrame({
                "encounter_type": "inpatient", "encounter_id": ops.admission_id.to_numpy(),
                "charge_date": day, "campus_id": ops.campus_id.to_numpy(),
                "dept_id": ops.ward.to_numpy(), "category": cat, "amount": amt,
                "payer": ops.payer.to_numpy()}))
    frames = [f for f in frames if len(f)]
    ch = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if len(ch):
        ch.insert(0, "charge_id", ids("CIF" + c.stamp, np.arange(len(ch)), 9).to_numpy())
    return ch, known


def _discharge_costs(dis: pd.DataFrame, known: pd.DataFrame, ch: pd.DataFrame) -> pd.DataFrame:
    """total / drug / material cost of each discharged stay: every charge it has."""
    if dis.empty:
        return dis
    parts = [known[["encounter_id", "total", "drug", "material"]]]
    if len(ch):
        mine = ch[ch.encounter_id.isin(dis.admission_id)]
        parts.append(pd.DataFrame({
            "encounter_id": mine.encounter_id, "total": mine.amount,
            "drug": np.where(mine.category == "drug", mine.amount, 0.0),
            "material": np.where(mine.category == "material", mine.amount, 0.0)}))
    s = pd.concat(parts, ignore_index=True).groupby("encounter_id").sum()
    dis = dis.copy()
    for col, src in (("total_cost", "total"), ("drug_cost", "drug"), ("material_cost", "material")):
        dis[col] = dis.admission_id.map(s[src]).fillna(0.0).round(2).to_numpy()
    return dis


# -- online consults ---------------------------------------------------------------------------
def _consult_response(cs: pd.DataFrame, seed: int) -> np.ndarray:
    cid = cs.consult_id.to_numpy(dtype=object)
    delay = np.exp(np.log(900) + 0.9 * _z(cid, seed, "ocresp")).clip(30, 86400)
    return _ts(cs.request_ts) + delay.astype(np.int64) * _S


def _new_consults(rng, c: _Context) -> pd.DataFrame:
    from . import online

    slots = _hour_slots(c.since, c.now, profile.DOW_ONLINE, profile.ONLINE_HOURS)
    o = _poisson_rows(rng, c.online_rates, slots[2].sum())
    n = len(o)
    o["request_ts"] = _draw_times(rng, slots, n)
    o = o.sort_values(["request_ts", "dept_id"], kind="stable").reset_index(drop=True)
    o["consult_id"] = ids("OCF" + c.stamp, np.arange(n), 6).to_numpy()
    o["patient_id"] = ids("P", rng.integers(0, 10**8, n), 9).to_numpy()
    o["consult_type"] = pick_dict(rng, online.TYPES, n)
    status = pick_dict(rng, online.STATUS, n)
    o["consult_status"] = status
    done = status == "completed"
    doc = _take(c.doctor, "doctor_id", _choose(rng, c.doctor, ["dept_id"], o))
    o["doctor_id"] = np.where(~done & (rng.random(n) < 0.5), None, doc)
    service = pick_dict(rng, online.SERVICES, n)
    o["service"] = service
    o["channel"] = pick_dict(rng, online.CHANNELS, n)
    o["has_prescription"] = done & np.isin(service, ["follow_up", "prescription_renewal"]) & (
        rng.random(n) < 0.55)
    fee = pd.Series(o.consult_type).map(online.FEE).to_numpy() * rng.choice([0.5, 1.0, 1.5], n)
    o["fee"] = np.round(np.where(done, fee, 0.0), 2)
    resp = _consult_response(o, c.seed)
    o["response_ts"] = np.where(done & (resp <= _dt64(c.now)), resp, np.datetime64("NaT", "s"))
    return o


def _consult_updates(wh, c: _Context) -> pd.DataFrame:
    cols = ", ".join(TABLES["fact_online_consult"].column_names)
    p = wh.query_df(f"SELECT {cols} FROM fact_online_consult WHERE consult_status = 'completed' "
                    "AND response_ts IS NULL AND request_ts > ? AND request_ts <= ? "
                    "ORDER BY consult_id", [c.now - timedelta(days=1), c.now])
    if p.empty:
        return p
    resp = _consult_response(p, c.seed)
    since, now = _dt64(c.since), _dt64(c.now)
    resp = np.where(resp <= since, since + np.int64(30) * _S, resp)
    p["response_ts"] = np.where(resp <= now, resp, np.datetime64("NaT", "s"))
    return p[~np.isnat(_ts(p.response_ts))].reset_index(drop=True)


# -- census ------------------------------------------------------------------------------------
def _census(wh, c: _Context, adm: pd.DataFrame, dis: pd.DataFrame) -> pd.DataFrame:
    """Midnight census of the day(s) that ended in the window (after the last census day, at
    most CENSUS_MAX_DAYS), per ward, counted from the stays (with this tick's events)."""
    if c.since.date() >= c.now.date():
        return pd.DataFrame()
    first = c.now.date() - timedelta(days=CENSUS_MAX_DAYS)
    if c.last_census is not None and not pd.isna(c.last_census):
        first = max(first, pd.Timestamp(c.last_census).date() + timedelta(days=1))
    days = pd.date_range(first, c.now.date() - timedelta(days=1), freq="D")
    if len(days) == 0:
        return pd.DataFrame()
    s = wh.query_df("SELECT admission_id, campus_id, admit_ts, admit_dept_id, discharge_ts, "
                    "discharge_dept_id, team_id FROM fact_inpatient WHERE discharge_ts IS NULL "
                    "OR discharge_ts >= ? ORDER BY admission_id", [days[0].to_pydatetime()])
    keep = ["admission_id", "campus_id", "admit_ts", "admit_dept_id", "discharge_ts",
            "discharge_dept_id", "team_id"]
    s = pd.concat([s, adm[keep], dis[keep]], ignore_index=True)
    s = s.drop_duplicates("admission_id", keep="last").reset_index(drop=True)
    ward = _ward(c, s)
    admit, out = _ts(s.admit_ts), _ts(s.discharge_ts)
    adm_day, out_day = admit.astype("datetime64[D]"), out.astype("datetime64[D]")
    wards = c.dept[c.dept.has_ward.astype(bool)].reset_index(drop=True)
    frames = []
    for d in days:
        day = np.datetime64(d.date(), "D")
        end = (day + np.timedelta64(1, "D")).astype("datetime64[s]")
        occ = (admit < end) & (np.isnat(out) | (out >= end))
        same = (adm_day == day) & (out_day == day)

        def count(mask, dept):
            return pd.Series(dept[mask]).value_counts().reindex(wards.dept_id, fill_value=0)

        occ_n = count(occ, ward).to_numpy()
        f = pd.DataFrame({
            "census_date": np.full(len(wards), day), "campus_id": wards.campus_id.to_numpy(),
            "dept_id": wards.dept_id.to_numpy(), "occupied_beds": occ_n,
            "same_day_stays": count(same, s.admit_dept_id.to_numpy(object)).to_numpy(),
            "admissions": count(adm_day == day, s.admit_dept_id.to_numpy(object)).to_numpy(),
            "discharges": count(out_day == day, ward).to_numpy(),
            "transfers_in": 0, "transfers_out": 0})
        beds = wards.dept_id.map(c.open_beds).fillna(0).to_numpy()
        f["open_beds"] = np.maximum(beds, 1).astype(np.int64)
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


# -- the tick ----------------------------------------------------------------------------------
def events(wh, since: datetime, now: datetime, seed: int | None = None) -> dict[str, pd.DataFrame]:
    """The demo hospital's events in (since, now], as conformed frames per table (only tables
    with rows). Reads the warehouse, writes nothing; deterministic for (state, seed, window)."""
    seed = DEFAULT_SEED if seed is None else int(seed)
    since, now = _naive(since), _naive(now)
    c = _read_context(wh, since, now, seed)
    rng = rng_for(seed, "demo-feed", since.isoformat(), now.isoformat())
    out: dict[str, pd.DataFrame] = {}

    visits = _new_visits(rng, c)
    alliance = c.campus.campus_id[c.campus.campus_type == "alliance"].tolist()
    vch = charge_mod.outpatient_charges(rng, visits, c.today, "COF" + c.stamp, "VF" + c.stamp,
                                        alliance) if len(visits) else pd.DataFrame()
    out["fact_visit"] = pd.concat([visits, _visit_updates(wh, c)], ignore_index=True)

    adm = _new_admissions(rng, c)
    ops, pending = _operations(wh, rng, c, adm)
    house = _in_house(wh)
    dis = _discharges(rng, c, house, set(pending.admission_id.dropna()))
    done_feed = ops[(ops.surgery_status == "done") & ops.surgery_id.str.startswith("SF")
                    & ops.admission_id.notna()]
    ich, known = _inpatient_charges(rng, wh, c, house, adm, dis, done_feed)
    dis = _discharge_costs(dis, known, ich)
    out["fact_inpatient"] = pd.concat([adm, dis], ignore_index=True)
    out["fact_surgery"] = ops.drop(columns="_new", errors="ignore")
    out["fact_charge"] = pd.concat([f for f in (vch, ich) if len(f)] or [pd.DataFrame()],
                                   ignore_index=True)
    out["fact_online_consult"] = pd.concat([_new_consults(rng, c), _consult_updates(wh, c)],
                                           ignore_index=True)
    out["fact_ward_census"] = _census(wh, c, adm, dis)
    return {t: conform(t, df) for t in LOAD_ORDER if (df := out.get(t)) is not None and len(df)}


def _csv_bytes(table: str, df: pd.DataFrame) -> bytes:
    """The contract's CSV: header, timestamps `YYYY-MM-DD HH:MM:SS`, true/false, empty = null."""
    import io

    from .writer import _to_arrow

    at = _to_arrow(table, df, csv=True)
    buf = io.BytesIO()
    buf.write((",".join(at.schema.names) + "\n").encode())
    pacsv.write_csv(at, buf, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    return buf.getvalue()


def write_files(frames: dict[str, pd.DataFrame], inbox: Path, stamp: str) -> list[Path]:
    """Write each table as `<table>.feed-<stamp>.csv` (via a `.part` name and a rename, in load
    order so a referenced row never arrives after the row referring to it)."""
    inbox = Path(inbox)
    inbox.mkdir(parents=True, exist_ok=True)
    staged = []
    for t in LOAD_ORDER:
        df = frames.get(t)
        if df is None or not len(df):
            continue
        target = inbox / f"{t}.feed-{stamp}.csv"
        tmp = inbox / (target.name + ".part")
        tmp.write_bytes(_csv_bytes(t, df))
        staged.append((tmp, target))
    for tmp, target in staged:
        os.replace(tmp, target)
    return [t for _, t in staged]


def _record(wh, since: datetime, now: datetime, rows: int, note: str) -> None:
    wh.execute(f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (ticked_at TIMESTAMP, "
               "since_ts TIMESTAMP, now_ts TIMESTAMP, rows BIGINT, note VARCHAR)")
    wh.execute(f"INSERT INTO {STATE_TABLE} VALUES (?, ?, ?, ?, ?)",
               [datetime.now().replace(microsecond=0), since, now, int(rows), note[:500]])


def _summary(frames: dict[str, pd.DataFrame], stamp: str) -> str:
    def n(t, pred=None):
        df = frames.get(t)
        if df is None:
            return 0
        return int(len(df) if pred is None else pred(df).sum())

    new = lambda col, p: (lambda df: df[col].str.startswith(p))  # noqa: E731
    visits = n("fact_visit", new("visit_id", "VF" + stamp))
    adm = n("fact_inpatient", new("admission_id", "AF" + stamp))
    dis = n("fact_inpatient", lambda df: df.discharge_ts.notna())
    ops = n("fact_surgery", lambda df: df.surgery_status.isin(["in_progress", "done"]))
    parts = [f"{visits} visit(s) (+{n('fact_visit') - visits} checked in/seen)",
             f"{adm} admission(s)", f"{dis} discharge(s)", f"{ops} operation update(s)",
             f"{n('fact_charge')} charge row(s)",
             f"{n('fact_online_consult', new('consult_id', 'OCF' + stamp))} consult(s)"]
    if "fact_ward_census" in frames:
        parts.append(f"{n('fact_ward_census')} census row(s)")
    return ", ".join(parts)


def tick(wh, inbox: Path, now: datetime | None = None, seed: int | None = None) -> str:
    """Drop the demo hospital's events since the last tick into `inbox`; return what was
    dropped (one line). See the module docstring."""
    import time

    t0 = time.perf_counter()
    now = _naive(now) or settings.hospital_now()
    last = last_event_ts(wh)
    if last is None:
        return "demo feed: the warehouse holds no data yet; nothing dropped"
    if now <= last:
        return f"demo feed: nothing new since {last:%Y-%m-%d %H:%M:%S}; nothing dropped"
    since = max(last, now - timedelta(hours=CATCH_UP_HOURS))
    note = ""
    if since > last:
        note = (f"; the feed was idle since {last:%Y-%m-%d %H:%M}: caught up the last "
                f"{CATCH_UP_HOURS} h only")
    frames = events(wh, since, now, seed)
    stamp = now.strftime("%Y%m%d%H%M%S")
    files = write_files(frames, inbox, stamp)
    rows = sum(len(f) for f in frames.values())
    text = (f"demo feed {since:%H:%M:%S}→{now:%H:%M:%S}: {_summary(frames, stamp)}; "
            f"{len(files)} file(s) in {time.perf_counter() - t0:.1f}s{note}")
    _record(wh, since, now, rows, text)
    return text
