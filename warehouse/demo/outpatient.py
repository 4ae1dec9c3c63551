"""fact_clinic_session and fact_visit for a range of days (one chunk, e.g. a month).

Sessions come first: each department-day gets enough half-day sessions for its expected
volume (≈ 24 visits per session, §14.1), each staffed by one of its doctors; the session's type
follows the doctor's title. Visits are then drawn per session, so patients_seen, slots_booked
and slots_total agree with the visits (slots_booked = appointments + no-shows ≤ slots_total;
walk-ins are 加号). Emergency visits arrive around the clock at the emergency departments.

>>> from datetime import datetime
>>> from warehouse.demo import hospital
>>> h = hospital.build("tiny", 1, datetime(2026, 3, 10, 9, 30))
>>> sess, vis = generate(h, h.start, h.end, "t")
>>> int(sess.patients_seen.sum()) == int((vis.visit_type.eq("outpatient") & vis.seen_ts.notna()).sum())
True
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import profile
from .hospital import VISITS_PER_SESSION, Hospital
from .rand import ids, pick, pick_cat, pick_dict, rng_for, times_in_day

PERIODS = ("am", "pm", "night")
PERIOD_MIX = (0.60, 0.37, 0.03)
PERIOD_HOURS = {"am": range(7, 13), "pm": range(13, 18), "night": range(18, 21)}
SESSION_CAPACITY = {"general": 40, "specialist": 30, "expert": 20, "special_needs": 10, "mdt": 6}
TYPE_BY_TITLE = {
    "chief": ({"expert": 0.8, "special_needs": 0.12, "mdt": 0.08}),
    "associate_chief": ({"expert": 0.5, "specialist": 0.5}),
    "attending": ({"specialist": 0.6, "general": 0.4}),
    "resident": ({"general": 1.0}),
}
VISIT_TYPES = ["outpatient", "emergency"]
CLASSES = ["general", "specialist", "expert", "special_needs"]
NO_SHOW = 0.08
CANCELLED_SESSIONS = 0.02
MIN_SESSION_LOAD = 12.0


def _lambda(h: Hospital, days: pd.DatetimeIndex) -> tuple[np.ndarray, pd.DataFrame]:
    """Expected outpatient visits per (day, clinic department) of the chunk."""
    f = h.factors.iloc[h.day_index(days.to_numpy())]
    clinics = h.dept[h.dept.opd_share > 0].reset_index(drop=True)
    per_day = h.visits_per_day * (1 - profile.EMERGENCY_SHARE) / (1 - h.scale.alliance_visit_share)
    lam = per_day * (f.outpatient * f.growth).to_numpy()[:, None] * clinics.opd_share.to_numpy()
    resp = clinics.respiratory.to_numpy()
    lam[:, resp] *= f.respiratory.to_numpy()[:, None]   # paediatric/respiratory +40 % at peak
    return lam, clinics


def _sessions(rng, h: Hospital, days, lam, clinics) -> pd.DataFrame:
    # a quiet clinic opens on some days only, with enough patients to be worth a session
    quiet = lam < MIN_SESSION_LOAD
    n_sess = np.where(quiet, rng.random(lam.shape) < lam / MIN_SESSION_LOAD,
                      np.maximum(1, np.rint(lam / VISITS_PER_SESSION))).astype(int)
    lam = np.where(quiet, MIN_SESSION_LOAD, lam)
    d_i, k_i = np.nonzero(n_sess)
    reps = n_sess[d_i, k_i]
    d_i, k_i = np.repeat(d_i, reps), np.repeat(k_i, reps)
    s = pd.DataFrame({"day": days.to_numpy()[d_i].astype("datetime64[D]"), "d": d_i, "k": k_i,
                      "lam": lam[d_i, k_i]})
    s["session_period"] = pick(rng, PERIODS, PERIOD_MIX, len(s))
    s["dept_id"] = pd.Categorical(clinics.dept_id.to_numpy()[k_i], categories=h.dept.dept_id)
    s["campus_id"] = pd.Categorical(clinics.campus_id.to_numpy()[k_i],
                                    categories=h.campus.campus_id)
    # rotate each department's doctors so nobody runs two sessions in one half-day
    s["j"] = s.groupby(["d", "k", "session_period"]).cumcount()
    docs = h.doctor.groupby("dept_id")[["doctor_id", "title"]].agg(list)
    s = s.join(docs, on="dept_id")
    n_docs = s.doctor_id.str.len().to_numpy()
    pick_i = (s.j.to_numpy() + s.d.to_numpy() * 3 + rng.integers(0, 1000, len(s))) % n_docs
    s["title"] = [t[i] for t, i in zip(s.title, pick_i)]
    s["doctor_id"] = pd.Categorical([t[i] for t, i in zip(s.doctor_id, pick_i)],
                                    categories=h.doctor.doctor_id)
    s["session_type"] = "general"
    for title, mix in TYPE_BY_TITLE.items():
        sel = (s.title == title).to_numpy()
        s.loc[sel, "session_type"] = pick_dict(rng, mix, int(sel.sum()))
    s["session_type"] = pd.Categorical(s.session_type, categories=list(SESSION_CAPACITY))
    s["capacity"] = s.session_type.map(SESSION_CAPACITY).astype(float)
    cap_sum = s.groupby(["d", "k"]).capacity.transform("sum")
    s["expected"] = s.lam * s.capacity / cap_sum
    s["cancelled"] = rng.random(len(s)) < CANCELLED_SESSIONS
    return s.drop(columns=["title", "j"])


def _slot_times(rng, day, period) -> np.ndarray:
    """A booked slot start (on the quarter hour) inside the session's half day."""
    out = np.empty(len(day), dtype="datetime64[s]")
    for p, hrs in PERIOD_HOURS.items():
        sel = period == p
        prof = np.zeros(24)
        prof[list(hrs)] = np.asarray(profile.OUTPATIENT_HOURS)[list(hrs)] + 0.5
        t = times_in_day(rng, day[sel], prof)
        out[sel] = t - (t.astype("int64") % 900).astype("timedelta64[s]")
    return out


def _clinic_visits(rng, h: Hospital, s: pd.DataFrame) -> pd.DataFrame:
    n_vis = np.where(s.cancelled, 0, rng.poisson(s.expected.to_numpy()))
    v = s.loc[np.repeat(s.index.to_numpy(), n_vis)].reset_index(names="session_row")
    n = len(v)
    appt = rng.random(n) < profile.APPOINTMENT_SHARE
    slot = _slot_times(rng, v.day.to_numpy(), v.session_period.to_numpy())
    early = np.rint(rng.normal(-20, 22, n)).clip(-90, 60).astype("timedelta64[m]")
    walk_in = slot + rng.integers(-1800, 1800, n).astype("timedelta64[s]")
    checkin = np.where(appt, slot + early, walk_in + rng.integers(60, 600, n).astype(
        "timedelta64[s]"))
    visit_ts = np.where(appt, checkin - rng.integers(0, 180, n).astype("timedelta64[s]"), walk_in)
    start = np.where(appt, np.maximum(checkin, slot), checkin)
    wait = rng.exponential(np.where(appt, 15 * 60, 30 * 60), n).astype("timedelta64[s]")
    seen = start + wait
    nat = np.datetime64("NaT")
    seen = np.where(rng.random(n) < 0.015, nat, seen)           # left without being seen
    no_checkin = rng.random(n) < 0.02
    checkin = np.where(no_checkin, nat, checkin)
    cls = v.session_type.cat.rename_categories({"mdt": "expert_mdt"}).astype(object)
    cls = pd.Categorical(np.where(cls == "expert_mdt", "expert", cls), categories=CLASSES)
    alliance = v.campus_id.map(h.campus.set_index("campus_id").campus_type).eq("alliance")
    channel = pick_cat(rng, profile.BOOKING_CHANNELS, n)
    channel[~appt] = np.nan
    return pd.DataFrame({
        "session_row": v.session_row.to_numpy(),
        "campus_id": v.campus_id.array,
        "dept_id": v.dept_id.array,
        "doctor_id": v.doctor_id.array,
        "visit_ts": visit_ts.astype("datetime64[s]"),
        "visit_type": pd.Categorical.from_codes(np.zeros(n, np.int8), VISIT_TYPES),
        "is_first_visit": rng.random(n) < 0.35,
        "registration_class": cls,
        "is_appointment": appt,
        "booking_channel": channel,
        "slot_start_ts": np.where(appt, slot, nat).astype("datetime64[s]"),
        "checkin_ts": checkin.astype("datetime64[s]"),
        "seen_ts": seen.astype("datetime64[s]"),
        "referred_down": (rng.random(n) < 0.006) & ~alliance.to_numpy(),
    })


def _emergency_visits(rng, h: Hospital, days: pd.DatetimeIndex) -> pd.DataFrame:
    f = h.factors.iloc[h.day_index(days.to_numpy())]
    ed = h.dept[(h.dept.discipline == "急诊科") & h.dept.campus_type.isin(["main", "branch"])]
    share = np.where(ed.campus_type == "main", 1 - h.scale.branch_share, h.scale.branch_share)
    lam = (h.visits_per_day * profile.EMERGENCY_SHARE * (f.emergency * f.growth
           * (1 + 0.5 * (f.respiratory - 1))).to_numpy()[:, None] * share[None, :])
    counts = rng.poisson(lam)
    d_i, k_i = np.nonzero(counts)
    reps = counts[d_i, k_i]
    d_i, k_i = np.repeat(d_i, reps), np.repeat(k_i, reps)
    n = len(d_i)
    ts = times_in_day(rng, days.to_numpy()[d_i], profile.EMERGENCY_HOURS)
    checkin = ts + rng.integers(0, 300, n).astype("timedelta64[s]")
    docs = h.doctor.groupby("dept_id").doctor_id.apply(np.array)
    dept = ed.dept_id.to_numpy()[k_i]
    doctor = np.empty(n, dtype=object)
    for d in np.unique(dept):
        sel = dept == d
        doctor[sel] = rng.choice(docs[d], int(sel.sum()))
    return pd.DataFrame({
        "session_row": -1,
        "campus_id": pd.Categorical(ed.campus_id.to_numpy()[k_i], categories=h.campus.campus_id),
        "dept_id": pd.Categorical(dept, categories=h.dept.dept_id),
        "doctor_id": pd.Categorical(doctor, categories=h.doctor.doctor_id),
        "visit_ts": ts, "visit_type": pd.Categorical.from_codes(np.ones(n, np.int8), VISIT_TYPES),
        "is_first_visit": rng.random(n) < 0.7,
        "registration_class": pd.Categorical.from_codes(np.zeros(n, np.int8), CLASSES),
        "is_appointment": False,
        "booking_channel": pd.Categorical.from_codes(np.full(n, -1, np.int8),
                                                     list(profile.BOOKING_CHANNELS)),
        "slot_start_ts": np.datetime64("NaT", "s"), "checkin_ts": checkin,
        "seen_ts": checkin + rng.exponential(900, n).astype("timedelta64[s]"),
        "referred_down": False,
    })


def generate(h: Hospital, first, last, key: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(fact_clinic_session, fact_visit) for the days first..last; `key` names the chunk."""
    rng = rng_for(h.seed, "outpatient", key)
    days = pd.date_range(first, last, freq="D")
    lam, clinics = _lambda(h, days)
    s = _sessions(rng, h, days, lam, clinics)
    v = pd.concat([_clinic_visits(rng, h, s), _emergency_visits(rng, h, days)], ignore_index=True)
    v = v.sort_values("visit_ts", kind="stable").reset_index(drop=True)
    registered = _registrations(h, v)
    v = _cut_at_now(h, v)
    n_pat = max(int(h.visits_per_day * 365 * h.scale.patients_per_visit), 1000)
    v.insert(0, "visit_id", ids("V" + key, np.arange(len(v)), 7))
    v.insert(1, "patient_id", ids("P", (n_pat * rng.random(len(v)) ** 1.5).astype(np.int64), 9))
    return _session_table(rng, s, v, registered, key), v


def _registrations(h: Hospital, v: pd.DataFrame) -> pd.Series:
    """Registrations per session known at as_of: every appointment (booked in advance, even
    for later today) and the same-day registrations made so far."""
    known = v.is_appointment.to_numpy() | (v.visit_ts <= pd.Timestamp(h.as_of)).to_numpy()
    clinic = v[(v.session_row.to_numpy() >= 0) & known]
    appts = clinic.is_appointment.groupby(clinic.session_row).sum()
    return pd.DataFrame({"registered": clinic.groupby("session_row").size(), "appointments": appts})


def _cut_at_now(h: Hospital, v: pd.DataFrame) -> pd.DataFrame:
    """Live day: drop visits registered after as_of; blank check-in / call-in still to come."""
    now = pd.Timestamp(h.as_of)
    v = v[v.visit_ts <= now].copy()
    for col in ("checkin_ts", "seen_ts"):
        v[col] = v[col].where(v[col] <= now)
    return v


def _session_table(rng, s: pd.DataFrame, v: pd.DataFrame, registered: pd.DataFrame,
                   key: str) -> pd.DataFrame:
    """Session rows with their counts taken from the visits actually drawn.

    Registrations (appointments, their no-shows, same-day registrations) take the released
    slots; those beyond them are 加号 (extra numbers), so slots_booked ≤ slots_total and
    registrations = slots_booked + 加号 (§14.3 invariant 4)."""
    clinic = v[v.session_row >= 0]
    seen = clinic[clinic.seen_ts.notna()].groupby("session_row").size()
    s = s.copy()
    s["patients_seen"] = seen.reindex(s.index, fill_value=0).to_numpy()
    reg = registered.reindex(s.index, fill_value=0)
    no_shows = rng.binomial(reg.appointments.to_numpy().astype(np.int64), NO_SHOW)
    cap = np.rint(s.capacity.to_numpy() * rng.uniform(0.9, 1.2, len(s))).astype(np.int64)
    booked = np.minimum(reg.registered.to_numpy() + no_shows, cap)
    cancelled = s.cancelled.to_numpy()
    booked = np.where(cancelled, rng.binomial(cap, 0.6), booked)
    notice = np.where(rng.random(len(s)) < 0.3, rng.uniform(1, 24, len(s)),
                      rng.uniform(24, 336, len(s)))
    return pd.DataFrame({
        "session_id": ids("K" + key, np.arange(len(s)), 6).to_numpy(),
        "session_date": s.day.to_numpy(),
        "session_period": s.session_period.to_numpy(),
        "campus_id": s.campus_id.to_numpy(),
        "dept_id": s.dept_id.to_numpy(),
        "doctor_id": s.doctor_id.to_numpy(),
        "session_type": s.session_type.to_numpy(),
        "slots_total": cap,
        "slots_booked": booked.astype(np.int64),
        "patients_seen": s.patients_seen.to_numpy().astype(np.int64),
        "session_status": np.where(cancelled, "cancelled", "held"),
        "cancel_notice_hours": np.where(cancelled, np.round(notice, 1), np.nan),
    })
