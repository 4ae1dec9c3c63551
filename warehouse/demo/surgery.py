"""fact_surgery: one operation per operated stay, plus cancelled lists and outpatient procedures.

Each operated stay (its DRG is an OR group) has its operation on the stay's operation day:
elective lists start 08:00-08:30 and mostly before 14:00, emergencies around the clock (§15.5).
Grade follows the group's weight (§14.2 mix overall), minimally invasive ≈ 35 %, complications
≈ 1 %, SSI ≈ 0.5 % of class-I incisions. The OR status follows as_of: operations not started
yet are `scheduled`, running ones `in_progress`.

>>> GRADE_BY_RW[0][0] > GRADE_BY_RW[2][0]
True
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .hospital import Hospital
from .rand import ids, lognormal_mean, pick, rng_for, times_in_day

# grade mix (1..4) for RW < 0.8, 0.8-2, > 2
GRADE_BY_RW = ((0.30, 0.40, 0.25, 0.05), (0.05, 0.22, 0.40, 0.33), (0.01, 0.05, 0.27, 0.67))
MINUTES_BY_GRADE = np.array([0, 40, 70, 120, 210])
ELECTIVE_START_HOURS = (0,) * 8 + (40, 10, 14, 10, 5, 8, 6, 4, 2, 1) + (0,) * 6
MIS_BY_TYPE = {"implant": 0.6, "major": 0.45, "minor": 0.25, "icu": 0.1, "medical": 0.3,
               "chemo": 0.3}


def _grade(rng, weight: np.ndarray) -> np.ndarray:
    band = np.digitize(weight, [0.8, 2.0])
    u = rng.random(len(weight))
    cum = np.cumsum(np.array(GRADE_BY_RW), axis=1)[band]
    return 1 + (u[:, None] > cum).sum(axis=1).clip(0, 3)


def _incision(rng, mdc: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """切口等级: clean for most, clean-contaminated for the digestive and genital tracts."""
    n = len(mdc)
    dirty_tract = np.isin(mdc, ["G", "H", "N", "O", "D"])
    cls = np.where(dirty_tract, pick(rng, ["I", "II", "III"], [0.2, 0.7, 0.1], n),
                   pick(rng, ["I", "II", "III"], [0.85, 0.12, 0.03], n))
    cls = np.where((kind == "procedure") & (rng.random(n) < 0.6), "none", cls)
    return np.where(rng.random(n) < 0.02, None, cls)


def _times(rng, h: Hospital, op: pd.DataFrame, grade: np.ndarray):
    """(scheduled start, start, end) of each operation, inside its stay."""
    n = len(op)
    day = (op.admit_day.to_numpy() + op.surgery_offset.to_numpy().astype("timedelta64[D]"))
    elective = op.elective.to_numpy()
    sched = times_in_day(rng, day, ELECTIVE_START_HOURS)
    sched = np.where(elective, sched, op.admit_ts.to_numpy()
                     + rng.integers(3600, 5 * 3600, n).astype("timedelta64[s]"))
    sched = np.maximum(sched, op.admit_ts.to_numpy() + np.timedelta64(3600, "s"))
    start = sched + np.rint(rng.normal(12, 18, n)).clip(-10, 120).astype("timedelta64[m]")
    minutes = lognormal_mean(rng, MINUTES_BY_GRADE[grade], 0.4).clip(15, 900)
    end = start + np.rint(minutes).astype("timedelta64[m]")
    # stay inside the stay: a same-day case is operated early enough to go home after it
    latest = op.discharge_ts.to_numpy() - np.timedelta64(30, "m")
    first = op.admit_ts.to_numpy() + np.timedelta64(30, "m")
    start = np.maximum(np.minimum(start, latest - np.timedelta64(20, "m")), first)
    sched = np.minimum(sched, start + np.timedelta64(10, "m"))
    end = np.maximum(np.minimum(end, latest), start + np.timedelta64(10, "m"))
    unscheduled = ~elective & (rng.random(n) < 0.6)
    sched = np.where(unscheduled, np.datetime64("NaT"), sched)
    return sched.astype("datetime64[s]"), start.astype("datetime64[s]"), end.astype("datetime64[s]")


def _status(h: Hospital, sched, start, end):
    """OR state at as_of, and start/end blanked where they have not happened yet."""
    now = np.datetime64(h.as_of, "s")
    status = np.where(end <= now, "done", np.where(start <= now, "in_progress", "scheduled"))
    nat = np.datetime64("NaT")
    start = np.where(start <= now, start, nat)
    end = np.where(end <= now, end, nat)
    return status, start, end


def fact_surgery(h: Hospital, v: pd.DataFrame, ip: pd.DataFrame) -> pd.DataFrame:
    """Operations of the visible stays `v` (ip: their fact_inpatient rows, same order)."""
    rng = rng_for(h.seed, "surgery")
    op_mask = v.or_case.to_numpy()
    op, ipo = v[op_mask], ip[op_mask]
    g = h.groups.set_index("drg_code").loc[op.drg_code]
    n = len(op)
    grade = _grade(rng, g.weight.to_numpy())
    grade = np.where(op.day_case.to_numpy(), np.minimum(grade, 3), grade)
    sched, start, end = _times(rng, h, op, grade)
    status, start, end = _status(h, sched, start, end)
    keep = ~((status == "scheduled") & np.isnat(sched))      # unscheduled emergencies not yet happened
    incision = _incision(rng, g.mdc_code.to_numpy(), g.kind.to_numpy())
    ssi_p = pd.Series(incision).map({"I": 0.005, "II": 0.015, "III": 0.04, "none": 0.0}).to_numpy()
    ssi = pd.array(np.where(pd.isna(incision), None, rng.random(n) < np.nan_to_num(ssi_p)),
                   dtype="boolean")
    general = np.where(grade >= 3, 0.9, 0.45)
    anaesthesia = np.where(rng.random(n) < general, "general",
                           pick(rng, ["regional", "local"], [0.5, 0.5], n))
    anaesthesia = np.where(g.kind.to_numpy() == "procedure",
                           pick(rng, ["local", "general"], [0.75, 0.25], n), anaesthesia)
    rooms = h.or_room.assign(day=h.or_room.open_minutes_weekend.eq(0))
    campus = ipo.campus_id.to_numpy()
    room = np.empty(n, dtype=object)
    for (cid, day_centre), r in rooms.groupby(["campus_id", "day"]):
        sel = (campus == cid) & (op.day_case.to_numpy() == day_centre)
        room[sel] = rng.choice(r.or_room.to_numpy(), int(sel.sum()))
    leaders = h.team.set_index("team_id").leader_doctor_id
    surgeon = np.where(rng.random(n) < 0.6, ipo.attending_doctor_id.to_numpy(),
                       leaders.reindex(ipo.team_id).to_numpy())
    out = pd.DataFrame({
        "surgery_id": ids("S", op.stay_no.to_numpy(), 9).to_numpy(),
        "admission_id": ipo.admission_id.to_numpy(),
        "patient_id": ipo.patient_id.to_numpy(),
        "campus_id": campus,
        "dept_id": op.discharge_dept_id.to_numpy(),
        "team_id": ipo.team_id.to_numpy(),
        "surgeon_id": surgeon,
        "or_room": room,
        "scheduled_start_ts": sched,
        "surgery_status": status,
        "start_ts": start,
        "end_ts": end,
        "grade": grade.astype(np.int64),
        "is_minimally_invasive": rng.random(n) < g.cost_type.map(MIS_BY_TYPE).to_numpy(),
        "is_day_surgery": op.day_case.to_numpy() & op.elective.to_numpy(),
        "is_elective": op.elective.to_numpy(),
        "has_complication": rng.random(n) < 0.01,
        "incision_class": incision,
        "has_ssi": ssi,
        "anesthesia": anaesthesia,
    })[keep]
    return pd.concat([out, _cancelled(rng, out), _outpatient(rng, h, out)], ignore_index=True)


def _cancelled(rng, ops: pd.DataFrame) -> pd.DataFrame:
    """~2 % of elective operations were first listed a day earlier and cancelled (停台)."""
    sel = ops.is_elective.to_numpy() & ~ops.scheduled_start_ts.isna().to_numpy() & (
        rng.random(len(ops)) < 0.02)
    c = ops[sel].copy()
    c["surgery_id"] = "SX" + c.surgery_id.str[1:]
    c["scheduled_start_ts"] = c.scheduled_start_ts - pd.Timedelta(days=1)
    c["surgery_status"] = "cancelled"
    c["start_ts"] = pd.NaT
    c["end_ts"] = pd.NaT
    c["has_complication"] = False
    c["has_ssi"] = pd.array([None] * len(c), dtype="boolean")
    return c


def _outpatient(rng, h: Hospital, ops: pd.DataFrame) -> pd.DataFrame:
    """Outpatient procedures (门诊手术, no admission): 3 % on top, minor, local anaesthesia."""
    done = ops[ops.surgery_status == "done"]
    n = int(len(done) * 0.03)
    if n == 0:
        return ops.iloc[:0]
    o = done.sample(n, random_state=rng.integers(1 << 31)).copy()
    o["surgery_id"] = "SO" + o.surgery_id.str[1:]
    o["admission_id"] = None
    o["patient_id"] = ids("P", rng.integers(10**8, 2 * 10**8, n), 9).to_numpy()
    o["grade"] = rng.integers(1, 3, n).astype(np.int64)
    o["is_day_surgery"] = False
    o["is_elective"] = True
    o["is_minimally_invasive"] = False
    o["anesthesia"] = "local"
    dur = pd.to_timedelta(rng.integers(15, 60, n), unit="m")
    o["end_ts"] = o.start_ts + dur
    o = o[o.end_ts <= pd.Timestamp(h.as_of)]
    return o
