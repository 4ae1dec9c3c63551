"""Inpatient stays: admissions, length of stay, operations day, discharge, outcome and cost.

One working frame (`stays`) carries everything later tables need: fact_inpatient is a
projection of it, and the census, surgeries, settlements, bookings and inpatient charges are
derived from it, so they agree by construction.

Admissions per (DRG, department) and day are Poisson around the daily base × calendar factors;
LOS is log-normal per group (§11.1) with a day-case spike; discharges move off Sundays and wards
clear before 除夕 (§15.3); cost is log-normal, correlated with LOS, with outliers.

>>> from datetime import datetime
>>> from warehouse.demo import hospital
>>> h = hospital.build("tiny", 1, datetime(2026, 3, 10, 9, 30))
>>> s = generate(h)
>>> bool((s.discharge_day >= s.admit_day).all())
True
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import profile
from .hospital import Hospital
from .rand import lognormal_mean, pick, pick_dict, rng_for, times_in_day

LOS_CV = 0.55
COST_CV = 0.45
COST_LOS_RHO = 0.6
TRANSFER_SHARE = 0.03
READMISSION_SHARE = 0.05


def _draw_admissions(h: Hospital, rng) -> pd.DataFrame:
    """One row per admission: (day, drg row, dept) from Poisson counts per day and pair."""
    f, g, mix = h.factors, h.groups.set_index("drg_code"), h.mix
    season = np.ones((len(f), len(mix)))
    resp = g.loc[mix.drg_code, "respiratory"].to_numpy()
    cc = g.loc[mix.drg_code, "cardio_cerebral"].to_numpy()
    season[:, resp] = f.respiratory.to_numpy()[:, None]
    season[:, cc] = f.cardio_cerebral.to_numpy()[:, None]
    base = (f.admissions * f.growth).to_numpy()[:, None] * mix.share.to_numpy()[None, :]
    lam = h.admissions_per_day * base * season
    counts = rng.poisson(lam)
    day_i, pair_i = np.nonzero(counts)
    reps = counts[day_i, pair_i]
    day_i, pair_i = np.repeat(day_i, reps), np.repeat(pair_i, reps)
    days = np.datetime64(h.gen_start) + day_i.astype("timedelta64[D]")
    return pd.DataFrame({"admit_day": days, "drg_code": mix.drg_code.to_numpy()[pair_i],
                         "admit_dept_id": mix.dept_id.to_numpy()[pair_i]})


def _los(rng, g: pd.DataFrame, elective: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(LOS in days, day-case flag): log-normal around the group's hospital LOS (median ≈ 0.85 ×
    mean) with a spike at 0-1 day for day-surgery / day-case groups (elective only)."""
    los = np.maximum(np.rint(lognormal_mean(rng, g.hospital_los.to_numpy(), LOS_CV, z)), 1)
    day_case = elective & (rng.random(len(g)) < g.short_share.to_numpy())
    short = np.where(rng.random(len(g)) < 0.3, 0, 1)
    return np.where(day_case, short, np.minimum(los, 180)).astype(int), day_case


def _surgery_offset(rng, n: int, or_case, elective, day_case, admit_dow) -> np.ndarray:
    """Days from admission to the operation: same day for day surgery and emergencies, else
    1-2 days of work-up, moved off the weekend to Monday (elective lists run Mon-Fri)."""
    pre = pick(rng, [0, 1, 2, 3], [0.1, 0.65, 0.2, 0.05], n)
    pre = np.where(day_case | ~elective, 0, pre)
    dow = (admit_dow + pre) % 7
    weekend = (dow >= 5) & elective & ~day_case
    # a list that would fall on the weekend is done on Friday if the work-up allows, else Monday
    back = pre - (dow - 4)
    to_friday = weekend & (back >= 0) & (rng.random(n) < 0.3)
    next_week = weekend & ~to_friday & (rng.random(n) < 0.85)
    slot = pick(rng, [0, 1, 2], [0.45, 0.35, 0.2], n)      # Monday's list fills up first
    pre = np.where(to_friday, back, np.where(next_week, pre + 7 - dow + slot, pre))
    return np.where(or_case, pre, -1)


def _shift_discharge(rng, h: Hospital, s: pd.DataFrame) -> np.ndarray:
    """Discharge day after weekday habits (few on Sundays) and the pre-除夕 ward clearing."""
    los = s.los.to_numpy().copy()
    min_los = np.where(s.surgery_offset >= 0, s.surgery_offset + (~s.day_case), 0)
    dday = s.admit_day.to_numpy() + los.astype("timedelta64[D]")
    dow = ((dday.astype("datetime64[D]").view("int64") - 4) % 7)   # 1970-01-01 was a Thursday
    u = rng.random(len(s))
    long_enough = los >= 3
    los = np.where((dow == 6) & long_enough & (u < 0.25), los - 2, los)           # Sun -> Fri
    los = np.where((dow == 6) & long_enough & (u >= 0.25) & (u < 0.5), los + 1, los)  # -> Mon
    los = np.where((dow == 5) & long_enough & (u < 0.15), los - 1, los)          # Sat -> Fri
    sf = h.factors.sf_offset.to_numpy()
    di = np.clip(h.day_index(s.admit_day.to_numpy() + los.astype("timedelta64[D]")), 0,
                 len(sf) - 1)
    holiday = (sf[di] >= 0) & (sf[di] <= 6) & s.elective.to_numpy() & (los >= 2)
    pull = rng.integers(1, 4, len(s)) + sf[di]
    los = np.where(holiday & (rng.random(len(s)) < 0.6), np.maximum(los - pull, 1), los)
    return np.maximum(los, min_los).astype(int)


def _disposition(rng, h: Hospital, s: pd.DataFrame, g: pd.DataFrame) -> np.ndarray:
    """离院方式: death from the group's risk tier (seasonal), else the §14.2 mix."""
    p_death = g.risk_level.map(profile.MORTALITY).to_numpy()
    season = h.factors.deaths.to_numpy()
    p_death = p_death * season[np.clip(h.day_index(s.discharge_day), 0, len(season) - 1)]
    out = pick_dict(rng, profile.DISPOSITION, len(s))
    return np.where(rng.random(len(s)) < p_death, "death", out)


def _transfers(rng, h: Hospital, s: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(discharge department, transfer day offset or -1): ~3 % of longer stays change ward."""
    wards = h.dept[h.dept.has_ward]
    dis = s.admit_dept_id.to_numpy().copy()
    offset = np.full(len(s), -1)
    cand = (s.los.to_numpy() >= 3) & (rng.random(len(s)) < TRANSFER_SHARE)
    campus = s.admit_dept_id.map(h.dept.set_index("dept_id").campus_id).to_numpy()
    for cid, w in wards.groupby("campus_id"):
        sel = cand & (campus == cid)
        dest = pick(rng, w.dept_id.to_numpy(), w.expected_beds.to_numpy(), int(sel.sum()))
        dis[sel] = dest
        offset[sel] = np.maximum(1, s.los.to_numpy()[sel] // 2)
    moved = dis != s.admit_dept_id.to_numpy()
    return dis, np.where(moved, offset, -1)


def _cost(rng, g: pd.DataFrame, z_los: np.ndarray, los: np.ndarray) -> np.ndarray:
    """Total charges of the stay: log-normal around the group's hospital cost, correlated with
    LOS, with 3 % high outliers (≥ 2.5 × mean) and 5 % low ones (≤ 0.4 ×) (§11.1)."""
    z = COST_LOS_RHO * z_los + np.sqrt(1 - COST_LOS_RHO ** 2) * rng.standard_normal(len(g))
    cost = lognormal_mean(rng, g.hospital_cost.to_numpy(), COST_CV, z)
    u = rng.random(len(g))
    cost = np.where(u < 0.03, cost * rng.uniform(2.6, 4.0, len(g)), cost)
    cost = np.where((u > 0.95) & (los <= 2), cost * rng.uniform(0.2, 0.4, len(g)), cost)
    return np.round(cost, 2)


def _readmissions(rng, s: pd.DataFrame, n_patients: int) -> tuple[np.ndarray, np.ndarray]:
    """Patient ids, with ~5 % of stays (40 % of chemotherapy cycles) being the same patient
    readmitted 1-31 days after an earlier discharge; returns (patient number, planned flag)."""
    n = len(s)
    patient = rng.integers(0, n_patients, n)
    chemo = s.drg_code.str[:2].isin(["RE", "RG"]).to_numpy()
    want = rng.random(n) < np.where(chemo, 0.4, READMISSION_SHARE)
    dis = s.discharge_day.to_numpy().astype("datetime64[D]").view("int64")
    adm = s.admit_day.to_numpy().astype("datetime64[D]").view("int64")
    order = np.argsort(dis, kind="stable")
    lo = np.searchsorted(dis[order], adm - 31, side="left")
    hi = np.searchsorted(dis[order], adm - 1, side="right")
    ok = want & (hi > lo)
    prev = order[np.minimum(lo + (rng.random(n) * (hi - lo)).astype(int), n - 1)]
    # one readmission per earlier stay, so a patient is never in two beds at once
    first = np.zeros(n, bool)
    _, keep = np.unique(np.where(ok, prev, -1 - np.arange(n)), return_index=True)
    first[keep] = True
    ok &= first
    patient = np.where(ok, patient[prev], patient)
    planned = np.where(ok, chemo | (rng.random(n) < 0.35), False)
    return patient, planned, ok


def generate(h: Hospital) -> pd.DataFrame:
    """All stays admitted between the warm-up start and as_of + look-ahead (working frame)."""
    rng = rng_for(h.seed, "stays")
    s = _draw_admissions(h, rng)
    g = h.groups.set_index("drg_code").loc[s.drg_code].reset_index()
    n = len(s)
    ed_dept = s.admit_dept_id.map(h.dept.set_index("dept_id").discipline).eq("急诊科").to_numpy()
    or_case = g.or_case.to_numpy()
    emergency = ed_dept | (rng.random(n) < np.where(or_case, 0.15, 0.24))
    s["elective"] = ~emergency
    other = {k: v for k, v in profile.ADMISSION_SOURCE.items() if k != "emergency"}
    s["admission_source"] = np.where(emergency, "emergency", pick_dict(rng, other, n))
    z_los = rng.standard_normal(n)
    s["los"], s["day_case"] = _los(rng, g, s.elective.to_numpy(), z_los)
    # the day-surgery centre and day wards close at weekends: those cases come on Monday
    admit_dow = (s.admit_day.to_numpy().astype("datetime64[D]").view("int64") - 4) % 7
    shift = np.where(s.day_case.to_numpy() & (admit_dow >= 5),
                     7 - admit_dow + rng.integers(0, 3, n), 0)
    s["admit_day"] = s.admit_day.to_numpy() + shift.astype("timedelta64[D]")
    admit_dow = (admit_dow + shift) % 7
    s["or_case"] = or_case
    s["surgery_offset"] = _surgery_offset(rng, n, or_case, s.elective.to_numpy(),
                                          s.day_case.to_numpy(), admit_dow)
    s["los"] = _shift_discharge(rng, h, s)
    s["discharge_day"] = s.admit_day + pd.to_timedelta(s.los, unit="D")
    s["discharge_dept_id"], s["transfer_offset"] = _transfers(rng, h, s)
    s["disposition"] = _disposition(rng, h, s, g)
    s["total_cost"] = _cost(rng, g, z_los, s.los.to_numpy())
    s["cost_type"] = g.cost_type.to_numpy()
    s["self_pay"] = rng.random(n) < profile.SELF_PAY_SHARE
    # admission time: elective in the morning, emergencies around the clock; day cases early
    s["admit_ts"] = np.where(s.elective, times_in_day(rng, s.admit_day.to_numpy(),
                                                      profile.ELECTIVE_ADMIT_HOURS),
                             times_in_day(rng, s.admit_day.to_numpy(), profile.EMERGENCY_HOURS))
    dis_ts = times_in_day(rng, s.discharge_day.to_numpy(), profile.DISCHARGE_HOURS)
    same_day = s.los.to_numpy() == 0
    later = s.admit_ts.to_numpy() + rng.integers(3 * 3600, 9 * 3600, n).astype("timedelta64[s]")
    s["discharge_ts"] = np.where(same_day, np.minimum(later, s.discharge_day.to_numpy()
                                                      .astype("datetime64[s]")
                                                      + np.timedelta64(86399, "s")), dis_ts)
    s = s.sort_values("admit_ts", kind="stable").reset_index(drop=True)
    s["stay_no"] = np.arange(len(s))
    n_patients = int(max(len(s), 1) * 12)
    s["patient_no"], s["readmission_planned"], s["is_readmission"] = _readmissions(
        rng, s, n_patients)
    return s
