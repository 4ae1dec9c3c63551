"""Row validation: every kind of contract breach is quarantined with file, line, column,
value and what is expected; good rows of the same file load."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from warehouse.engine import open_warehouse
from warehouse.loader import load_delivery

sys.path.insert(0, str(Path(__file__).parent))
from wh_delivery_fixtures import visit, write_csv, write_delivery  # noqa: E402


@pytest.fixture
def wh(tmp_path):
    w = open_warehouse(str(tmp_path / "wh.duckdb"))
    yield w
    w.close()


# (row overrides, column, expected reason after "fact_visit.csv:<line>: column <column>: ")
VISIT_CASES = [
    (dict(visit_type="outpt"), "visit_type", "'outpt' is not one of outpatient, emergency"),
    (dict(patient_id=""), "patient_id", "a value is required (the contract does not allow it empty)"),
    (dict(visit_ts="2024-13-45 10:00:00"), "visit_ts",
     "'2024-13-45 10:00:00' is not a timestamp (YYYY-MM-DD HH:MM:SS)"),
    (dict(is_first_visit="maybe"), "is_first_visit",
     "'maybe' is not a boolean (true/false, 1/0, Y/N, 是/否)"),
    (dict(dept_id="D99"), "dept_id",
     "'D99' is not a known dim_department.dept_id; deliver that dim_department row first, or fix the id"),
    (dict(doctor_id="DR404"), "doctor_id",
     "'DR404' is not a known dim_doctor.doctor_id; deliver that dim_doctor row first, or fix the id"),
    (dict(booking_channel="fax"), "booking_channel",
     "'fax' is not one of window, app, wechat, phone, kiosk, clinic, alliance"),
]


@pytest.mark.parametrize("override,column,reason", VISIT_CASES, ids=[c[1] for c in VISIT_CASES])
def test_each_error_kind_names_file_line_column_value(wh, tmp_path, override, column, reason):
    rows = [visit(1), visit(2), visit(3, **override), visit(4)]
    rep = load_delivery(wh, write_delivery(tmp_path / "d", {"fact_visit": rows}), progress=False)
    t = rep.tables["fact_visit"]
    assert (t.read, t.inserted, t.quarantined) == (4, 3, 1)
    got = wh.query_rows("select file, line, column_name, value, reason, status from _quarantine")
    assert len(got) == 1
    file, line, col, value, msg, status = got[0]
    assert (file, line, col, status) == ("fact_visit.csv", 4, column, "open")
    assert msg == f"fact_visit.csv:4: column {column}: {reason}"
    assert value == (override[column] or None)


def test_ints_money_dates_and_ranges(wh, tmp_path):
    d = write_delivery(tmp_path / "d")
    good = dict(census_date="2024-01-01", campus_id="C01", dept_id="D01", open_beds="40",
                occupied_beds="38", same_day_stays="1", admissions="5", discharges="4",
                transfers_in="0", transfers_out="1")
    rows = [good,
            dict(good, census_date="2024-01-02", open_beds="4.5"),
            dict(good, census_date="2024-01-03", occupied_beds="-1"),
            dict(good, census_date="01/04/2024"),
            dict(good, census_date="2024-01-05", admissions="1.0")]
    write_csv(d / "fact_ward_census.csv", "fact_ward_census", rows)
    charges = [dict(charge_id="X1", encounter_type="outpatient", encounter_id="V1",
                    charge_date="2024-01-01", campus_id="C01", dept_id="D01", category="drug",
                    amount="-12.50", payer="self_pay"),
               dict(charge_id="X2", encounter_type="outpatient", encounter_id="V1",
                    charge_date="2024-01-01", campus_id="C01", dept_id="D01", category="drug",
                    amount="12,5", payer="self_pay")]
    write_csv(d / "fact_charge.csv", "fact_charge", charges)
    rep = load_delivery(wh, d, progress=False)
    assert rep.tables["fact_ward_census"].inserted == 2  # "1.0" is an integer
    reasons = [r[0] for r in wh.query_rows("select reason from _quarantine order by file, line")]
    assert reasons == [
        "fact_charge.csv:3: column amount: '12,5' is not an amount in yuan (e.g. 12.50)",
        "fact_ward_census.csv:3: column open_beds: '4.5' is not an integer",
        "fact_ward_census.csv:4: column occupied_beds: '-1' is below the minimum 0",
        "fact_ward_census.csv:5: column census_date: '01/04/2024' is not a date (YYYY-MM-DD)",
    ]
    # negative amounts are refunds, not errors
    assert str(wh.scalar("select amount from fact_charge where charge_id = 'X1'")) == "-12.50"


def test_one_row_with_several_problems_counts_once(wh, tmp_path):
    rows = [visit(1), visit(2, visit_type="x", dept_id="D77", is_appointment="")]
    rep = load_delivery(wh, write_delivery(tmp_path / "d", {"fact_visit": rows}), progress=False)
    assert rep.tables["fact_visit"].quarantined == 1
    cols = sorted(r[0] for r in wh.query_rows("select column_name from _quarantine"))
    assert cols == ["dept_id", "is_appointment", "visit_type"]


def test_iso_t_timestamps_and_fk_to_facts(wh, tmp_path):
    inpatient = [dict(admission_id="A1", patient_id="P1", campus_id="C01",
                      admit_ts="2024-01-01T08:00:00", admit_dept_id="D01",
                      admission_source="outpatient")]
    surgery = [dict(surgery_id="S1", admission_id="A1", patient_id="P1", campus_id="C01",
                    dept_id="D02", surgeon_id="DR2", or_room="OR1", surgery_status="done",
                    start_ts="2024-01-02 09:00:00", grade="3", is_minimally_invasive="N",
                    is_day_surgery="N", is_elective="Y", has_complication="0", anesthesia="general"),
               dict(surgery_id="S2", admission_id="A404", patient_id="P1", campus_id="C01",
                    dept_id="D02", surgeon_id="DR2", or_room="OR1", surgery_status="done",
                    start_ts="2024-01-02 09:00:00", grade="5", is_minimally_invasive="N",
                    is_day_surgery="N", is_elective="Y", has_complication="0", anesthesia="general"),
               dict(surgery_id="S3", patient_id="P1", campus_id="C01", dept_id="D02",
                    surgeon_id="DR2", or_room="OR1", surgery_status="cancelled", grade="1",
                    is_minimally_invasive="N", is_day_surgery="N", is_elective="Y",
                    has_complication="0", anesthesia="none")]
    rep = load_delivery(wh, write_delivery(tmp_path / "d", {"fact_inpatient": inpatient,
                                                           "fact_surgery": surgery}), progress=False)
    assert rep.tables["fact_inpatient"].inserted == 1
    assert str(wh.scalar("select admit_ts from fact_inpatient")) == "2024-01-01 08:00:00"
    assert rep.tables["fact_surgery"].inserted == 1
    reasons = [r[0] for r in wh.query_rows("select reason from _quarantine order by line, column_name")]
    assert reasons == [
        "fact_surgery.csv:3: column admission_id: 'A404' is not a known fact_inpatient.admission_id; "
        "deliver that fact_inpatient row first, or fix the id",
        "fact_surgery.csv:3: column grade: '5' is above the maximum 4",
        "fact_surgery.csv:4: column start_ts, scheduled_start_ts, end_ts: all empty; a "
        "fact_surgery row needs start_ts or scheduled_start_ts or end_ts to date it",
    ]


def test_deleted_rows_need_only_the_key_and_a_valid_flag(wh, tmp_path):
    load_delivery(wh, write_delivery(tmp_path / "d1", {"fact_visit": [visit(1), visit(2)]}),
                  progress=False)
    d = tmp_path / "d2"
    d.mkdir()
    write_csv(d / "fact_visit.csv", "fact_visit",
              [dict(visit_id="V1", _deleted="是"), dict(visit_id="V2", _deleted="perhaps"),
               dict(_deleted="true")], extra=("_deleted",))
    rep = load_delivery(wh, d, progress=False)
    t = rep.tables["fact_visit"]
    assert (t.deleted, t.quarantined) == (1, 2)
    reasons = [r[0] for r in wh.query_rows("select reason from _quarantine order by line")]
    assert reasons[0] == ("fact_visit.csv:3: column _deleted: 'perhaps' is not a boolean "
                          "(true/false, 1/0, Y/N, 是/否)")
    assert reasons[1].startswith("fact_visit.csv:4: column visit_id: a value is required")


def test_missing_nullable_column_is_fine_extra_columns_ignored(wh, tmp_path):
    d = write_delivery(tmp_path / "d")
    (d / "dim_team.csv").write_text("team_id,team_name,dept_id,note\nT9,九组,D02,hello\n",
                                    encoding="utf-8")
    rep = load_delivery(wh, d, progress=False)
    assert rep.tables["dim_team"].inserted == 1
    f = [f for f in rep.files if f["table"] == "dim_team"][0]
    assert f["ignored_columns"] == ["note"]
