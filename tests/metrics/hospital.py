"""Small, hand-made hospital deliveries for the metrics tests (CSV files in tmp_path).

`tiny()` is the named fixture whose numbers test_query_values.py computes by hand;
`generated(seed)` is a larger deterministic delivery for the materialized-vs-base and
refresh tests.
"""
from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

from warehouse.contract import TABLES

MODEL_DIR = Path(__file__).parent / "models" / "good"

DIMS: dict[str, list[dict]] = {
    "dim_campus": [
        dict(campus_id="C01", campus_name="总院", campus_type="main", province="四川", city="成都"),
        dict(campus_id="C02", campus_name="东院", campus_type="branch", province="四川", city="成都"),
    ],
    "dim_department": [
        dict(dept_id="D01", dept_name="心血管内科", campus_id="C01", discipline="心血管内科",
             dept_type="clinical", is_surgical="false", has_ward="true"),
        dict(dept_id="D02", dept_name="普通外科", campus_id="C01", discipline="普通外科",
             dept_type="clinical", is_surgical="true", has_ward="true"),
        dict(dept_id="D03", dept_name="心血管内科（东院）", campus_id="C02",
             discipline="心血管内科", dept_type="clinical", is_surgical="false", has_ward="true"),
    ],
    "dim_team": [
        dict(team_id="T01", team_name="心内一组", dept_id="D01"),
        dict(team_id="T02", team_name="普外一组", dept_id="D02"),
    ],
    "dim_doctor": [
        dict(doctor_id="DR1", doctor_name="张一", dept_id="D01", team_id="T01", title="chief"),
        dict(doctor_id="DR2", doctor_name="李二", dept_id="D02", team_id="T02", title="attending"),
        dict(doctor_id="DR3", doctor_name="王三", dept_id="D03", title="resident"),
        dict(doctor_id="DR4", doctor_name="赵四", dept_id="D01", team_id="T01", title="resident"),
    ],
}
DEPT_CAMPUS = {"D01": "C01", "D02": "C01", "D03": "C02"}
DEPT_DOCTORS = {"D01": ["DR1", "DR4"], "D02": ["DR2"], "D03": ["DR3"]}
DOCTOR_TEAM = {"DR1": "T01", "DR4": "T01", "DR2": "T02", "DR3": ""}


def visit(vid, ts, dept, doctor, vtype="outpatient", appt=False, down=False) -> dict:
    return dict(visit_id=vid, patient_id="P" + vid, visit_ts=ts, campus_id=DEPT_CAMPUS[dept],
                dept_id=dept, doctor_id=doctor, visit_type=vtype, is_first_visit="false",
                registration_class="general", is_appointment=str(appt).lower(),
                referred_down=str(down).lower())


def stay(aid, admit_ts, dept, discharge_ts=None, doctor=None, disposition="home",
         patient=None) -> dict:
    doctor = doctor or DEPT_DOCTORS[dept][0]
    row = dict(admission_id=aid, patient_id=patient or "P" + aid, campus_id=DEPT_CAMPUS[dept],
               admit_ts=admit_ts, admit_dept_id=dept, admission_source="outpatient")
    if discharge_ts:
        row.update(discharge_ts=discharge_ts, discharge_dept_id=dept,
                   team_id=DOCTOR_TEAM[doctor], attending_doctor_id=doctor,
                   discharge_disposition=disposition)
    return row


def census(day, dept, occupied, open_beds) -> dict:
    return dict(census_date=day, campus_id=DEPT_CAMPUS[dept], dept_id=dept, open_beds=open_beds,
                occupied_beds=occupied, same_day_stays=0, admissions=0, discharges=0,
                transfers_in=0, transfers_out=0)


def session(sid, day, dept, doctor, status="held", notice=None) -> dict:
    return dict(session_id=sid, session_date=day, session_period="am",
                campus_id=DEPT_CAMPUS[dept], dept_id=dept, doctor_id=doctor,
                session_type="general", slots_total=10, slots_booked=5, patients_seen=4,
                session_status=status, cancel_notice_hours="" if notice is None else notice)


def write_csv(path: Path, table: str, rows: list[dict]) -> Path:
    """Rows with `_deleted` set make the file carry the contract's `_deleted` column."""
    cols = list(TABLES[table].column_names)
    if any("_deleted" in r for r in rows):
        cols.append("_deleted")
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="raise")
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in cols})
    return path


def write_delivery(folder: Path, facts: dict[str, list[dict]], dims: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for t, rows in ({**DIMS} if dims else {}).items():
        write_csv(folder / f"{t}.csv", t, rows)
    for t, rows in facts.items():
        write_csv(folder / f"{t}.csv", t, rows)
    return folder


# -- the tiny named fixture: every number in test_query_values.py is computed from this ------
def tiny() -> dict[str, list[dict]]:
    return {
        "fact_visit": [
            visit("V01", "2025-03-03 08:00:00", "D01", "DR1", appt=True),
            visit("V02", "2025-03-03 09:00:00", "D01", "DR1"),
            visit("V03", "2025-03-03 10:30:00", "D02", "DR2", vtype="emergency"),
            visit("V04", "2025-03-10 08:00:00", "D02", "DR2", appt=True, down=True),
            visit("V05", "2025-03-20 14:00:00", "D03", "DR3", appt=True),
            visit("V06", "2025-02-14 09:00:00", "D01", "DR1"),
            visit("V07", "2025-02-28 23:30:00", "D02", "DR2", vtype="emergency"),
            visit("V08", "2025-01-15 09:00:00", "D01", "DR1", appt=True),
            visit("V09", "2024-03-05 09:00:00", "D01", "DR1"),
            visit("V10", "2024-03-06 09:00:00", "D01", "DR1"),
            visit("V11", "2025-04-02 08:00:00", "D01", "DR1"),
        ],
        "fact_inpatient": [
            stay("A1", "2025-02-27 09:00:00", "D01", "2025-03-04 10:00:00"),  # LOS 5
            stay("A2", "2025-03-01 08:00:00", "D01", "2025-03-11 10:00:00",
                 disposition="transfer_primary"),  # LOS 10
            stay("A3", "2025-03-05 08:00:00", "D02", "2025-03-06 10:00:00"),  # LOS 1
            stay("A4", "2025-03-10 08:00:00", "D02", "2025-03-13 10:00:00"),  # LOS 3
            stay("A5", "2025-03-15 08:00:00", "D02", "2025-03-20 10:00:00"),  # LOS 5
            stay("A6", "2025-03-25 08:00:00", "D03"),  # still in hospital
            stay("A7", "2025-02-01 08:00:00", "D01", "2025-02-10 10:00:00"),  # LOS 9, February
        ],
        "fact_ward_census": [
            census("2025-03-01", "D01", 2, 10), census("2025-03-02", "D01", 3, 10),
            census("2025-03-03", "D01", 4, 10),
            census("2025-03-01", "D02", 1, 5), census("2025-03-02", "D02", 1, 5),
            # D02 has no row on 2025-03-03: it counts 0 that day
        ],
        "fact_clinic_session": [
            session("S1", "2025-03-03", "D01", "DR1"),
            session("S2", "2025-03-03", "D01", "DR4"),
            session("S3", "2025-03-04", "D01", "DR1"),
            session("S4", "2025-03-04", "D02", "DR2", status="cancelled", notice=12),
        ],
    }


# -- a larger generated delivery -------------------------------------------------------------
START, END = dt.date(2024, 1, 1), dt.date(2025, 6, 30)


def _ts(rng: random.Random, day: dt.date) -> str:
    return f"{day} {rng.randrange(24):02d}:{rng.randrange(60):02d}:00"


def _day(rng: random.Random, lo=START, hi=END) -> dt.date:
    return lo + dt.timedelta(days=rng.randrange((hi - lo).days + 1))


def gen_visit(rng: random.Random, i: int, day: dt.date | None = None) -> dict:
    dept = rng.choice(list(DEPT_CAMPUS))
    return visit(f"GV{i:05d}", _ts(rng, day or _day(rng)), dept, rng.choice(DEPT_DOCTORS[dept]),
                 vtype=rng.choice(["outpatient", "outpatient", "emergency"]),
                 appt=rng.random() < 0.5, down=rng.random() < 0.1)


def gen_stay(rng: random.Random, i: int, admit: dt.date | None = None,
             los: int | None = None) -> dict:
    dept = rng.choice(list(DEPT_CAMPUS))
    admit = admit or _day(rng)
    los = rng.randrange(0, 20) if los is None else los
    discharge = admit + dt.timedelta(days=los)
    return stay(f"GA{i:05d}", _ts(rng, admit), dept,
                None if discharge > END or rng.random() < 0.05 else
                f"{discharge} {rng.randrange(8, 20):02d}:00:00",
                doctor=rng.choice(DEPT_DOCTORS[dept]),
                disposition=rng.choice(["home", "home", "transfer_primary", "death"]))


def generated(seed: int = 7, visits: int = 600, stays: int = 200) -> dict[str, list[dict]]:
    rng = random.Random(seed)
    census_rows, sessions = [], []
    d = START
    k = 0
    while d <= END:
        for dept in DEPT_CAMPUS:
            if rng.random() < 0.9:  # some department-days are missing
                open_beds = 10 + rng.randrange(5)
                census_rows.append(census(str(d), dept, rng.randrange(open_beds + 1), open_beds))
            if d.weekday() < 5 and rng.random() < 0.4:
                k += 1
                doc = rng.choice(DEPT_DOCTORS[dept])
                sessions.append(session(f"GS{k:05d}", str(d), dept, doc,
                                        status=rng.choice(["held", "held", "cancelled"]),
                                        notice=rng.choice([6, 48])))
        d += dt.timedelta(days=1)
    return {
        "fact_visit": [gen_visit(rng, i) for i in range(visits)],
        "fact_inpatient": [gen_stay(rng, i) for i in range(stays)],
        "fact_ward_census": census_rows,
        "fact_clinic_session": sessions,
    }
