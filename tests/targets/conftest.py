"""A fixture hospital for the target tests: the metrics tests' organisation (campus C01 with
departments D01 and D02, campus C02 with D03; teams T01 in D01 and T02 in D02) and a handful
of charges and census rows whose sums the tests use by hand.

Revenue (医疗收入) 2025: D01 600 (drug 180), D02 300 (drug 60), D03 100 (drug 40).
Revenue 2026 Q1:        D01 300 (drug 90),  D02 100 (drug 20),  D03 0.
Open beds (2025-06-30): D01 40, D02 20, D03 20.
"""
from __future__ import annotations

import pytest

from metrics.registry import load_model
from tests.metrics import hospital
from warehouse.engine import open_warehouse
from warehouse.loader import load_delivery

REVENUE_2025 = {"D01": 600.0, "D02": 300.0, "D03": 100.0}
DRUG_2025 = {"D01": 180.0, "D02": 60.0, "D03": 40.0}


def charge(cid, day, dept, category, amount) -> dict:
    return dict(charge_id=cid, encounter_type="outpatient", encounter_id="E" + cid,
                charge_date=day, campus_id=hospital.DEPT_CAMPUS[dept], dept_id=dept,
                category=category, amount=amount, payer="insurance")


def facts() -> dict:
    charges = [
        charge("c1", "2025-03-10", "D01", "drug", 180), charge("c2", "2025-06-10", "D01", "exam", 420),
        charge("c3", "2025-03-11", "D02", "drug", 60), charge("c4", "2025-06-11", "D02", "exam", 240),
        charge("c5", "2025-03-12", "D03", "drug", 40), charge("c6", "2025-06-12", "D03", "exam", 60),
        charge("c7", "2026-01-15", "D01", "drug", 90), charge("c8", "2026-02-20", "D01", "exam", 210),
        charge("c9", "2026-03-05", "D02", "drug", 20), charge("c10", "2026-03-05", "D02", "exam", 80),
    ]
    census = [hospital.census("2025-06-30", d, 0, beds)
              for d, beds in (("D01", 40), ("D02", 20), ("D03", 20))]
    return {"fact_charge": charges, "fact_ward_census": census}


def write_delivery(folder):
    folder = hospital.write_delivery(folder, facts())
    campuses = [dict(c, latitude="30.6", longitude="104.1") for c in hospital.DIMS["dim_campus"]]
    hospital.write_csv(folder / "dim_campus.csv", "dim_campus", campuses)
    return folder


@pytest.fixture(scope="session")
def model():
    return load_model()


@pytest.fixture()
def wh(tmp_path):
    """A fresh warehouse per test (targets are written)."""
    w = open_warehouse(str(tmp_path / "t.duckdb"))
    load_delivery(w, write_delivery(tmp_path / "delivery"), progress=False)
    yield w
    w.close()
