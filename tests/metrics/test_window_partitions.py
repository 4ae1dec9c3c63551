"""Facts with window columns (a patient's next admission, an admission's first operation)
compute them only over the window partitions that hold a row passing the query's
conditions; the rows that pass are exactly those, with exactly the values, of the window
over the whole fact."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlglot import exp

from metrics import sqlbuild as sb
from metrics.dialects import render
from metrics.materialize import ensure_calendar_for_data
from metrics.registry import load_model

from . import hospital
from .conftest import loaded_warehouse


def surgery(sid, admission, patient, start, dept="D01", grade=3, complication=False) -> dict:
    return dict(surgery_id=sid, admission_id=admission or "", patient_id=patient,
                campus_id=hospital.DEPT_CAMPUS[dept], dept_id=dept,
                surgeon_id=hospital.DEPT_DOCTORS[dept][0], or_room="OR1",
                scheduled_start_ts=start, surgery_status="done", start_ts=start,
                end_ts=start[:11] + "23:00:00", grade=grade, is_minimally_invasive="false",
                is_day_surgery="false", is_elective="true",
                has_complication="true" if complication else "false", incision_class="I",
                has_ssi="false", anesthesia="general")


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    stays = [  # P1 readmitted 15 days after a discharge; P2 once; P3 three times
        hospital.stay("A1", "2025-01-02 08:00:00", "D01", "2025-01-10 10:00:00", patient="P1"),
        hospital.stay("A2", "2025-01-25 08:00:00", "D01", "2025-02-03 10:00:00", patient="P1"),
        hospital.stay("A3", "2025-01-05 08:00:00", "D02", "2025-01-10 12:00:00", patient="P2"),
        hospital.stay("A4", "2024-12-20 08:00:00", "D03", "2025-01-10 09:00:00", patient="P3"),
        hospital.stay("A5", "2025-01-20 08:00:00", "D03", "2025-01-28 09:00:00", patient="P3"),
        hospital.stay("A6", "2025-02-10 08:00:00", "D03", None, patient="P3"),
    ]
    ops = [surgery("S1", "A1", "P1", "2025-01-03 09:00:00"),
           surgery("S2", "A1", "P1", "2025-01-06 09:00:00", grade=4, complication=True),
           surgery("S3", "A2", "P1", "2025-01-26 09:00:00"),
           surgery("S4", None, "P9", "2025-01-10 09:00:00"),  # outpatient: no admission
           surgery("S5", None, "P8", "2025-01-10 15:00:00", grade=4)]
    rooms = [dict(or_room="OR1", campus_id="C01", open_minutes_weekday=600,
                  open_minutes_weekend=0)]
    w = loaded_warehouse(tmp_path_factory.mktemp("win"), {
        "dim_or_room": rooms, "fact_inpatient": stays, "fact_surgery": ops})
    ensure_calendar_for_data(w)  # the operating-room-day fact reads the calendar
    yield w
    w.close()


def windowed_facts(model):
    return [f for f in model.facts.values()
            if any(e.find(exp.Window) for e in sb.fact_rows(f, model.settings).expressions)]


#: facts whose windows share their partition keys: a patient (readmissions), an admission
#: (its operations), an operating room's day (its first case: three keys)
PRE_FILTERED = ("discharge", "discharge_surgery", "surgery_op")


def rows(wh, model, fact, conds, rewrite: bool, monkeypatch) -> pd.DataFrame:
    if not rewrite:
        monkeypatch.setattr(sb, "_window_partitions_of", lambda r, *a: r)
    sql = render(sb.filtered(fact, model.settings, conds), "duckdb")
    monkeypatch.undo()
    assert ("_wkey" in sql) == (rewrite and fact.name in PRE_FILTERED), fact.name
    df = wh.query_df(sql)
    return df.sort_values(list(df.columns)[:3]).reset_index(drop=True)


@pytest.mark.parametrize("day", ["2025-01-10", "2025-01-28", "2025-02-03", "2025-01-06"])
def test_a_day_of_rows_equals_the_window_over_the_whole_fact(wh, day, monkeypatch):
    model = load_model()
    facts = windowed_facts(model)
    assert set(PRE_FILTERED) <= {f.name for f in facts}
    d = dt.date.fromisoformat(day)
    conds = [exp.EQ(this=sb.col("_day"), expression=sb.literal(d))]
    for fact in facts:
        whole = rows(wh, model, fact, conds, False, monkeypatch)
        part = rows(wh, model, fact, conds, True, monkeypatch)
        pd.testing.assert_frame_equal(part, whole, obj=f"{fact.name} on {day}")


def test_the_readmission_flag_survives_a_one_day_query(wh, monkeypatch):
    """A1 (discharged 10 Jan) is an unplanned readmission case because of A2 (25 Jan), a
    row the day's condition would exclude: the window still sees it."""
    model = load_model()
    conds = [exp.EQ(this=sb.col("_day"), expression=sb.literal(dt.date(2025, 1, 10)))]
    df = rows(wh, model, model.facts["discharge"], conds, True, monkeypatch)
    flags = dict(zip(df["admission_id"], df["unplanned_readmitted"]))
    assert flags["A1"] == True  # noqa: E712 (a numpy or pandas boolean)
    assert pd.isna(flags["A3"]) or flags["A3"] == False  # noqa: E712 (no next stay)
    assert str(df.set_index("admission_id").loc["A1", "next_admit_ts"])[:10] == "2025-01-25"


def test_a_window_over_several_keys_keeps_its_whole_partition(wh, monkeypatch):
    """The first case of an operating room's day (partitioned by room, day and whether the
    operation was done): asking only for S5 (grade 4, OR1, 10 Jan 15:00) still sees S4 (OR1,
    10 Jan 09:00), the day's first case."""
    model = load_model()
    fact = model.facts["surgery_op"]
    conds = [exp.EQ(this=sb.col("grade"), expression=sb.literal(4)),
             exp.EQ(this=sb.col("_day"), expression=sb.literal(dt.date(2025, 1, 10)))]
    part = rows(wh, model, fact, conds, True, monkeypatch)
    assert list(part["surgery_id"]) == ["S5"]
    assert part.loc[0, "first_case_row"] == False  # noqa: E712 (S4 came first)
    pd.testing.assert_frame_equal(part, rows(wh, model, fact, conds, False, monkeypatch))


def test_a_condition_on_a_windowed_column_keeps_the_whole_window(wh):
    model = load_model()
    cond = [exp.Not(this=exp.Is(this=sb.col("next_admit_ts"), expression=exp.Null()))]
    assert "_wkey" not in render(sb.filtered(model.facts["discharge"], model.settings, cond),
                                 "duckdb")


def test_rows_whose_partition_key_is_null_keep_their_window(wh, monkeypatch):
    """Operations without an admission (outpatient) form one window partition of their own
    (NULL); the pre-filter keeps it whole instead of dropping it."""
    model = load_model()
    base = model.facts["surgery_op"]
    fact = base.model_copy(update={"name": "surgery_op_windowed", "columns": {
        "stay_rank": "row_number() over (partition by f.admission_id order by f.surgery_id)"}})
    conds = [exp.EQ(this=sb.col("_day"), expression=sb.literal(dt.date(2025, 1, 10)))]
    sql = render(sb.filtered(fact, model.settings, conds), "duckdb")
    assert "_wkey" in sql
    part = wh.query_df(sql).sort_values("surgery_id").reset_index(drop=True)
    monkeypatch.setattr(sb, "_window_partitions_of", lambda r, *a: r)
    whole = wh.query_df(render(sb.filtered(fact, model.settings, conds), "duckdb")) \
        .sort_values("surgery_id").reset_index(drop=True)
    assert {"S4", "S5"} <= set(part["surgery_id"])
    assert part.set_index("surgery_id").loc["S5", "stay_rank"] == 2  # after S4, across days
    pd.testing.assert_frame_equal(part, whole)
