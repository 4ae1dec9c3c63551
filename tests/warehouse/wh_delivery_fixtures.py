"""Small, hand-made deliveries for the loader tests (written into tmp_path as CSV)."""
from __future__ import annotations

import csv
from pathlib import Path

from warehouse.contract import TABLES

DIMS = {
    "dim_campus": [
        dict(campus_id="C01", campus_name="总院", campus_type="main", province="四川", city="成都",
             latitude="30.6", longitude="104.0"),
        dict(campus_id="C02", campus_name="分院", campus_type="branch", province="四川", city="成都"),
    ],
    "dim_department": [
        dict(dept_id="D01", dept_name="心血管内科", campus_id="C01", discipline="心血管内科",
             dept_type="clinical", is_surgical="false", has_ward="true"),
        dict(dept_id="D02", dept_name="普外科", campus_id="C01", discipline="普外科",
             dept_type="clinical", is_surgical="是", has_ward="Y"),
    ],
    "dim_team": [dict(team_id="T01", team_name="一组", dept_id="D01")],
    "dim_doctor": [
        dict(doctor_id="DR1", doctor_name="张三", dept_id="D01", team_id="T01", title="chief"),
        dict(doctor_id="DR2", doctor_name="李四", dept_id="D02", title="resident"),
    ],
    "dim_drg": [dict(drg_code="FM19", drg_name="x", adrg_code="FM1", mdc_code="F", weight="1.2",
                     benchmark_cost="12000.50", benchmark_los="7.5", risk_level="low",
                     payment_standard="11000")],
    "dim_or_room": [dict(or_room="OR1", campus_id="C01", open_minutes_weekday="600",
                         open_minutes_weekend="0")],
}


def visit(i: int, **kw) -> dict:
    row = dict(visit_id=f"V{i}", patient_id=f"P{i % 3}", visit_ts=f"2024-01-0{1 + i % 3} 08:{i % 60:02d}:00",
               campus_id="C01", dept_id="D01", doctor_id="DR1", visit_type="outpatient",
               is_first_visit="true", registration_class="general", is_appointment="false",
               referred_down="0")
    row.update(kw)
    return row


def charge(i: int, **kw) -> dict:
    row = dict(charge_id=f"CH{i}", encounter_type="outpatient", encounter_id=f"V{i}",
               charge_date=f"2024-01-0{1 + i % 2}", campus_id="C01", dept_id="D01",
               category="drug", amount=f"{10 + i}.50", payer="insurance")
    row.update(kw)
    return row


def write_csv(path: Path, table: str, rows: list[dict], encoding: str = "utf-8",
              extra: tuple[str, ...] = ()) -> Path:
    cols = list(TABLES[table].column_names) + list(extra)
    with open(path, "w", encoding=encoding, newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="raise")
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in cols})
    return path


def write_delivery(folder: Path, facts: dict[str, list[dict]] | None = None, dims: bool = True,
                   extra: dict[str, tuple[str, ...]] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if dims:
        for t, rows in DIMS.items():
            write_csv(folder / f"{t}.csv", t, rows)
    for t, rows in (facts or {}).items():
        write_csv(folder / f"{t}.csv", t, rows, extra=(extra or {}).get(t, ()))
    return folder
