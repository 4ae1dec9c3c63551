"""fact_inpatient and fact_ward_census, both read off the stays working frame.

The census is counted from the same stays (midnight occupancy per department from the stay
segments, a transfer splitting a stay at its transfer day), so census(t) = census(t−1) +
admissions − discharges + transfers in − transfers out holds per department, exactly.
Open beds are sized per department and year at 98 % mean occupancy (§14.1).

>>> from datetime import datetime
>>> from warehouse.demo import hospital, stays
>>> h = hospital.build("tiny", 1, datetime(2026, 3, 10, 9, 30))
>>> c = census(h, stays.generate(h))
>>> bool((c.occupied_beds >= 0).all())
True
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import profile
from .hospital import Hospital
from .rand import ids, pick, rng_for

CATEGORIES_IN_STAY = ("drug", "material", "exam", "lab", "treatment", "surgery", "nursing", "bed",
                      "consultation", "other")


def visible(h: Hospital, s: pd.DataFrame) -> pd.DataFrame:
    """Stays the delivery holds: admitted by as_of and not discharged before the span."""
    as_of = np.datetime64(h.as_of, "s")
    keep = (s.admit_ts.to_numpy() <= as_of) & (
        (s.discharge_day.to_numpy() >= np.datetime64(h.start)) | (s.discharge_ts.to_numpy() > as_of))
    v = s[keep].copy()
    v["discharged"] = v.discharge_ts.to_numpy() <= as_of
    v["admission_id"] = ids("A", v.stay_no.to_numpy(), 9).to_numpy()
    v["patient_id"] = ids("P", v.patient_no.to_numpy(), 9).to_numpy()
    return v


def assign_team(h: Hospital, v: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(team_id, attending doctor) at the discharge department, one random team per stay."""
    rng = rng_for(h.seed, "stay-teams")
    team = np.empty(len(v), dtype=object)
    doc = np.empty(len(v), dtype=object)
    members = h.doctor.dropna(subset=["team_id"])
    by_dept = h.team.groupby("dept_id").team_id.apply(np.array).to_dict()
    dept = v.discharge_dept_id.to_numpy()
    for d in np.unique(dept):
        sel = dept == d
        team[sel] = rng.choice(by_dept[d], int(sel.sum()))
    by_team = members.groupby("team_id").doctor_id.apply(np.array).to_dict()
    for t in np.unique(team):
        sel = team == t
        doc[sel] = rng.choice(by_team[t], int(sel.sum()))
    return team, doc


def fact_inpatient(h: Hospital, v: pd.DataFrame) -> pd.DataFrame:
    """The contract's fact_inpatient rows from the visible stays (front page fields included)."""
    rng = rng_for(h.seed, "front-page")
    n, dis = len(v), v.discharged.to_numpy()
    as_of = np.datetime64(h.as_of, "s")
    g = h.groups.set_index("drg_code")
    team, doc = assign_team(h, v)
    archive = v.discharge_ts.to_numpy() + (np.exp(rng.normal(1.1, 0.6, n)) * 86400).astype(
        "timedelta64[s]")
    archived = dis & (archive <= as_of)
    planned = v.discharge_day.to_numpy() + rng.integers(-1, 2, n).astype("timedelta64[D]")
    planned = np.where(rng.random(n) < np.where(dis, 0.6, 0.8), planned, np.datetime64("NaT"))
    dx = g.principal_dx.reindex(v.drg_code).to_numpy()
    dx = np.where(rng.random(n) < 0.005, None, dx)
    nat = np.datetime64("NaT")
    money = lambda col: np.where(dis, v[col].to_numpy(), np.nan)  # noqa: E731
    return pd.DataFrame({
        "admission_id": v.admission_id.to_numpy(),
        "patient_id": v.patient_id.to_numpy(),
        "campus_id": v.admit_dept_id.map(h.dept.set_index("dept_id").campus_id).to_numpy(),
        "admit_ts": v.admit_ts.to_numpy(),
        "admit_dept_id": v.admit_dept_id.to_numpy(),
        "discharge_ts": np.where(dis, v.discharge_ts.to_numpy(), nat),
        "discharge_dept_id": np.where(dis, v.discharge_dept_id.to_numpy(), None),
        "team_id": team,
        "attending_doctor_id": doc,
        "admission_source": v.admission_source.to_numpy(),
        "planned_discharge_date": planned.astype("datetime64[D]"),
        "discharge_disposition": np.where(dis, v.disposition.to_numpy(), None),
        "principal_dx": dx,
        "readmission_planned": pd.array(np.where(dis, v.readmission_planned.to_numpy(), None),
                                        dtype="boolean"),
        "mr_archived_ts": np.where(archived, archive, nat),
        "mr_qc_grade": np.where(archived, pick(rng, ["A", "B", "C"], [0.9, 0.09, 0.01], n), None),
        "total_cost": money("total_cost"),
        "drug_cost": money("cat_drug"),
        "material_cost": money("cat_material"),
    })


def _segments(s: pd.DataFrame) -> pd.DataFrame:
    """Bed segments (dept, first day, end day): a transfer splits a stay at its transfer day."""
    a, d = s.admit_day.to_numpy(), s.discharge_day.to_numpy()
    moved = s.transfer_offset.to_numpy() >= 0
    t = a + np.maximum(s.transfer_offset.to_numpy(), 0).astype("timedelta64[D]")
    first = pd.DataFrame({"dept": s.admit_dept_id.to_numpy(), "start": a,
                          "end": np.where(moved, t, d)})
    second = pd.DataFrame({"dept": s.discharge_dept_id.to_numpy()[moved], "start": t[moved],
                           "end": d[moved]})
    return pd.concat([first, second], ignore_index=True)


def census(h: Hospital, s: pd.DataFrame) -> pd.DataFrame:
    """fact_ward_census for every ward department and complete day of the span (to yesterday)."""
    as_of = np.datetime64(h.as_of, "s")
    s = s[s.admit_ts.to_numpy() <= as_of]
    days = pd.date_range(h.start, pd.Timestamp(h.end) - pd.Timedelta(days=1), freq="D")
    wards = h.dept[h.dept.has_ward].reset_index(drop=True)
    col = pd.Series(np.arange(len(wards)), index=wards.dept_id)
    n_days = (np.datetime64(h.end) - np.datetime64(h.gen_start)).astype(int) + 2

    def day_counts(dept, day) -> np.ndarray:
        m = np.zeros((n_days, len(wards)), dtype=np.int64)
        i = np.clip(h.day_index(day), 0, n_days - 1)
        np.add.at(m, (i, col.reindex(dept).to_numpy()), 1)
        return m

    seg = _segments(s)
    occ = np.cumsum(day_counts(seg.dept, seg.start) - day_counts(seg.dept, seg.end), axis=0)
    moved = s.transfer_offset.to_numpy() >= 0
    t_day = s.admit_day.to_numpy()[moved] + s.transfer_offset.to_numpy()[moved].astype(
        "timedelta64[D]")
    same = s.los.to_numpy() == 0
    parts = {
        "occupied_beds": occ,
        "same_day_stays": day_counts(s.admit_dept_id[same], s.admit_day[same]),
        "admissions": day_counts(s.admit_dept_id, s.admit_day),
        "discharges": day_counts(s.discharge_dept_id, s.discharge_day),
        "transfers_in": day_counts(s.discharge_dept_id[moved], t_day),
        "transfers_out": day_counts(s.admit_dept_id[moved], t_day),
    }
    rows = h.day_index(days.to_numpy())
    out = pd.DataFrame({
        "census_date": np.repeat(days.to_numpy().astype("datetime64[D]"), len(wards)),
        "campus_id": np.tile(wards.campus_id.to_numpy(), len(days)),
        "dept_id": np.tile(wards.dept_id.to_numpy(), len(days)),
    })
    for name, m in parts.items():
        out[name] = m[rows].reshape(-1)
    out["open_beds"] = _open_beds(out)
    return out


def _open_beds(c: pd.DataFrame) -> np.ndarray:
    """实际开放床位 per department and calendar year: mean bed use / 98 %, at least 1."""
    year = pd.DatetimeIndex(c.census_date).year
    use = c.occupied_beds + c.same_day_stays
    mean = use.groupby([c.dept_id, year]).transform("mean")
    return np.maximum(np.rint(mean / profile.TARGET_OCCUPANCY), 1).astype(np.int64).to_numpy()
