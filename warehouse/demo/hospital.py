"""The demo hospital of one (scale, seed, as_of): its organisation, case mix and calendar.

`build()` sizes everything from the preset: the expected daily workload per department gives
its beds, teams, clinic doctors and the campus's operating rooms, so every scale has the same
shape. The generator modules read their inputs from the returned `Hospital`.

>>> from datetime import datetime
>>> h = build("tiny", 42, datetime(2026, 3, 10, 9, 30))
>>> h.start.isoformat(), h.campus.campus_id.tolist()[:2]
('2025-12-10', ['C01', 'C02'])
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from . import drg, org, profile, seasonal
from .rand import rng_for
from .scales import SCALES, Scale

WARMUP_DAYS = 120      # stays admitted before the span fill the wards at its start
LOOKAHEAD_DAYS = 45    # stays admitted after as_of feed the waiting list
VISITS_PER_SESSION = 24  # §14.1
MIN_WARD_BEDS = 4.0


@dataclass
class Hospital:
    scale: Scale
    seed: int
    as_of: datetime
    start: date
    end: date
    gen_start: date
    gen_end: date
    factors: pd.DataFrame          # seasonal.daily_factors over gen_start..gen_end
    campus: pd.DataFrame
    dept: pd.DataFrame             # dim_department + working columns
    team: pd.DataFrame
    doctor: pd.DataFrame
    or_room: pd.DataFrame
    groups: pd.DataFrame           # DRG groups with working columns
    mix: pd.DataFrame              # (drg_code, dept_id, share)
    admissions_per_day: float      # at the as_of level, before calendar factors
    visits_per_day: float          # main + branch, outpatient + emergency

    def day_index(self, days) -> np.ndarray:
        """Position of datetime64 days in the generation calendar."""
        d = np.asarray(days).astype("datetime64[D]")
        return (d - np.datetime64(self.gen_start)).astype(int)


def _outpatient_weights(dept: pd.DataFrame, branch_share: float, alliance_share: float) -> np.ndarray:
    """Share of all visits per department (emergency excluded)."""
    w = dept.opd_weight.to_numpy(float).copy()
    shared = dept.discipline.isin(dept.loc[dept.campus_type == "branch", "discipline"]).to_numpy()
    ctype = dept.campus_type.to_numpy()
    w = np.where((ctype == "main") & shared, w * (1 - branch_share), w)
    w = np.where(ctype == "branch", w * branch_share, w)
    hosp = ctype != "alliance"
    out = np.zeros(len(w))
    out[hosp] = w[hosp] / w[hosp].sum() * (1 - alliance_share)
    if (~hosp).any() and alliance_share > 0:
        out[~hosp] = w[~hosp] / w[~hosp].sum() * alliance_share
    return out


def _size_wards(dept, groups, mix, adm_per_day):
    """Expected beds per department. Wards too small for the scale are closed and their cases
    go to the campus's 普通外科 (surgical) or 全科医学科 (medical), as a small hospital runs
    a 大外科 / 大内科, so the case mix is unchanged and every open ward has a few real beds."""
    def beds(m):
        load = drg.expected_dept_load(groups, m).reindex(dept.dept_id, fill_value=0.0)
        return load.bed_days.to_numpy() * adm_per_day / profile.TARGET_OCCUPANCY

    fallback = dept.discipline.isin(["普通外科", "全科医学科"]) & dept.has_ward
    dept["expected_beds"] = beds(mix)
    closed = dept.has_ward & (dept.expected_beds < MIN_WARD_BEDS) & ~fallback
    target = {}
    for row in dept[closed].itertuples():
        kind = "普通外科" if row.is_surgical else "全科医学科"
        hit = dept[(dept.campus_id == row.campus_id) & (dept.discipline == kind)]
        target[row.dept_id] = hit.dept_id.iloc[0]
    mix = mix.assign(dept_id=mix.dept_id.replace(target))
    mix = mix.groupby(["drg_code", "dept_id"], as_index=False, sort=False).share.sum()
    dept["has_ward"] = dept.has_ward & ~closed
    dept["expected_beds"] = np.where(dept.has_ward, beds(mix), 0.0)
    return dept, mix


def build(scale: str, seed: int, as_of: datetime) -> Hospital:
    """Assemble the hospital for a preset; see the module docstring."""
    sc = SCALES[scale]
    start, end = sc.span(as_of)
    gen_start, gen_end = start - timedelta(days=WARMUP_DAYS), end + timedelta(days=LOOKAHEAD_DAYS)
    factors = seasonal.daily_factors(gen_start, gen_end, as_of.date())
    rng = rng_for(seed, "org")

    campus = org.campuses(sc.n_alliance)
    dept = org.departments(campus)
    groups = drg.groups()
    mix = drg.dept_drg_mix(groups, dept, sc.branch_share)
    adm_per_day = sc.discharges_per_year / 365.0
    dept, mix = _size_wards(dept, groups, mix, adm_per_day)

    alliance_share = sc.alliance_visit_share
    hosp_visits = sc.discharges_per_year * sc.visits_per_discharge / 365.0
    dept["opd_share"] = _outpatient_weights(dept, sc.branch_share, alliance_share)
    total_visits = hosp_visits / (1 - alliance_share)
    # sessions on a busy weekday (Monday index 1.38) decide how many clinic doctors we need
    peak_sessions = np.ceil(dept.opd_share * total_visits * 1.45 / VISITS_PER_SESSION)
    clinic_docs = np.where(dept.opd_share > 0, np.maximum(peak_sessions / 1.6 + 1, 2), 0)
    clinic_docs = np.where(dept.discipline == "急诊科", np.maximum(4, hosp_visits * 0.03 / 12), clinic_docs)

    n_teams = org.team_counts(dept, dept.expected_beds)
    team = org.teams(dept, n_teams)
    doctor = org.doctors(rng, dept, team, np.ceil(clinic_docs).astype(int))
    team["leader_doctor_id"] = org.team_leaders(team, doctor)

    surg_share = (groups.share * groups.or_case).sum()
    rooms = {}
    for cid in campus.campus_id[campus.campus_type.isin(["main", "branch"])]:
        campus_share = mix.merge(dept[["dept_id", "campus_id"]]).query("campus_id == @cid")
        per_day = adm_per_day * campus_share.share.sum() * surg_share * 1.35
        rooms[cid] = int(max(2, np.ceil(per_day / 4.5)))
    or_room = org.or_rooms(campus, rooms)

    return Hospital(sc, seed, as_of, start, end, gen_start, gen_end, factors, campus, dept, team,
                    doctor, or_room, groups, mix, adm_per_day, hosp_visits)
