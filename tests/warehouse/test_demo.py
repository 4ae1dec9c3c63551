"""The demo hospital generator: contract conformance, invariants (§14.3), seasonality, writer."""
from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from warehouse.contract import FACTS, LOAD_ORDER, TABLES
from warehouse.demo import SCALES, generate, write_delivery
from warehouse.demo.frames import dtype_for, partition_dates
from warehouse.demo.profile import SPRING_FESTIVAL_EVE

AS_OF = datetime(2026, 3, 10, 9, 30)      # a Tuesday morning; the span holds 除夕 2026-02-16


@pytest.fixture(scope="module")
def t() -> dict[str, pd.DataFrame]:
    return generate("tiny", seed=42, as_of=AS_OF)


@pytest.fixture(scope="module")
def dirty() -> dict[str, pd.DataFrame]:
    return generate("tiny", seed=42, as_of=AS_OF, dirty=True)


# --- determinism and sizes --------------------------------------------------------------------

def test_same_seed_same_frames_and_other_seed_differs(t):
    again = generate("tiny", seed=42, as_of=AS_OF)
    for name in LOAD_ORDER:
        pd.testing.assert_frame_equal(t[name], again[name], obj=name)
    other = generate("tiny", seed=7, as_of=AS_OF)
    assert not t["fact_visit"].equals(other["fact_visit"])


def test_tiny_has_the_preset_size(t):
    discharged = t["fact_inpatient"].discharge_ts.notna().sum()
    assert 700 <= discharged <= 1400
    assert 15_000 <= len(t["fact_visit"]) <= 27_000
    assert set(SCALES) == {"tiny", "small", "large", "west-china"}


# --- the contract ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", LOAD_ORDER)
def test_columns_types_enums_nulls_keys(t, name):
    table, df = TABLES[name], t[name]
    assert tuple(df.columns) == table.column_names
    assert len(df) > 0
    for col in table.columns:
        s = df[col.name]
        assert str(s.dtype) == str(pd.Series(dtype=dtype_for(col)).dtype), (name, col.name)
        if not col.nullable:
            assert s.notna().all(), f"{name}.{col.name} has nulls"
        if col.enum:
            assert set(s.dropna().unique()) <= set(col.enum), (name, col.name)
        if col.min is not None and col.type in ("int", "float"):
            assert (s.dropna() >= col.min).all(), (name, col.name)
        if col.max is not None and col.type in ("int", "float"):
            assert (s.dropna() <= col.max).all(), (name, col.name)
    assert not df.duplicated(list(table.primary_key)).any(), f"{name}: duplicate keys"


@pytest.mark.parametrize("name", LOAD_ORDER)
def test_foreign_keys_resolve(t, name):
    for col in TABLES[name].foreign_keys:
        values = set(t[name][col.name].dropna())
        known = set(t[col.ref_table][col.ref_column])
        assert values <= known, f"{name}.{col.name}: {sorted(values - known)[:5]}"


def test_organisation_shape(t):
    dept, campus = t["dim_department"], t["dim_campus"]
    assert set(campus.campus_type) == {"main", "branch", "alliance"}
    assert campus.latitude.notna().all()
    assert (dept.dept_type == "clinical").sum() >= 45 + 10
    main = set(dept[dept.campus_id == "C01"].discipline)
    branch = set(dept[dept.campus_id == "C02"].discipline)
    assert {"心血管内科", "呼吸与危重症医学科", "骨科", "儿科", "急诊科"} <= main & branch
    drg = t["dim_drg"]
    assert len(drg) >= 53 + 40 and "zero" in set(drg.risk_level)
    fm19 = drg.set_index("drg_code").loc["FM19"]
    assert fm19.weight == 2.55 and fm19.benchmark_cost == 45_900


# --- §14.3 invariants ------------------------------------------------------------------------------

def test_census_bed_days_match_length_of_stay(t):            # invariant 1
    c, ip = t["fact_ward_census"], t["fact_inpatient"]
    bed_days = (c.occupied_beds + c.same_day_stays).sum()
    start, end = c.census_date.min(), c.census_date.max()
    d = ip[ip.discharge_ts.notna()]
    ddate = d.discharge_ts.dt.normalize().dt.date
    in_span = (ddate >= start) & (ddate <= end)
    los = (d.discharge_ts.dt.normalize() - d.admit_ts.dt.normalize()).dt.days.clip(lower=1)
    assert abs(bed_days / los[in_span].sum() - 1) < 0.12   # ± 2 % over a year; 3 months here


def test_census_flow_and_occupancy(t):                         # invariants 2 and 3
    c = t["fact_ward_census"].groupby("census_date")[
        ["occupied_beds", "admissions", "discharges", "transfers_in", "transfers_out",
         "same_day_stays", "open_beds"]].sum()
    assert (c.transfers_in == c.transfers_out).all()
    flow = c.occupied_beds.shift(1) + c.admissions - c.discharges
    assert (flow.iloc[1:] == c.occupied_beds.iloc[1:]).all()
    occupancy = (c.occupied_beds + c.same_day_stays).sum() / c.open_beds.sum()
    assert 0.92 <= occupancy <= 1.02


def test_census_counts_the_stays(t):
    c, ip = t["fact_ward_census"], t["fact_inpatient"]
    d = ip[ip.discharge_ts.notna()]
    per_day = d.groupby([d.discharge_ts.dt.date, "discharge_dept_id"]).size()
    census = c.set_index(["census_date", "dept_id"]).discharges
    joined = per_day.reindex(census.index).fillna(0)
    assert (joined.astype(int) == census).all()


def test_visits_appointments_and_slots(t):                     # invariant 4
    v, s = t["fact_visit"], t["fact_clinic_session"]
    assert len(v) >= v.is_appointment.sum()
    assert (s.slots_booked <= s.slots_total).all()
    held = s[s.session_status == "held"]
    assert held.patients_seen.sum() == (v.visit_type.eq("outpatient") & v.seen_ts.notna()).sum()
    assert (s[s.session_status == "cancelled"].patients_seen == 0).all()
    assert (held.slots_booked >= held.patients_seen).mean() > 0.8
    assert s.loc[s.session_status == "cancelled", "cancel_notice_hours"].notna().all()
    op = v[v.visit_type == "outpatient"]
    assert 0.75 <= op.is_appointment.mean() <= 0.85
    assert op.booking_channel.isna().eq(~op.is_appointment).all()
    assert 0.02 <= (v.visit_type == "emergency").mean() <= 0.05


def test_stay_costs_equal_their_charges(t):                     # invariant 5
    ip, ch = t["fact_inpatient"], t["fact_charge"]
    inp = ch[ch.encounter_type == "inpatient"]
    by_stay = inp.groupby("encounter_id").amount.sum().round(2)
    d = ip[ip.discharge_ts.notna()].set_index("admission_id")
    assert np.allclose(by_stay.reindex(d.index).to_numpy(), d.total_cost.to_numpy(), atol=0.01)
    drug = inp[inp.category == "drug"].groupby("encounter_id").amount.sum()
    assert np.allclose(drug.reindex(d.index).fillna(0).to_numpy(), d.drug_cost.to_numpy(),
                       atol=0.01)
    assert (ch.amount < 0).any() and (ch.amount < 0).mean() < 0.01
    share = ch.groupby("category").amount.sum() / ch.amount.sum()
    assert 0.2 <= share["drug"] <= 0.35 and 0.12 <= share["material"] <= 0.3


def test_one_settlement_per_discharge(t):                        # invariant 6
    ip, st = t["fact_inpatient"], t["fact_drg_settlement"]
    discharged = set(ip.loc[ip.discharge_ts.notna(), "admission_id"])
    assert set(st.admission_id) == discharged and st.admission_id.is_unique
    parts = st[["drug_cost", "material_cost", "exam_cost", "lab_cost", "treatment_cost",
                "other_cost"]].sum(axis=1)
    assert np.allclose(parts, st.total_cost, atol=0.02)
    assert 0.003 <= st.drg_code.isna().mean() <= 0.04
    merged = st.merge(ip, on="admission_id")
    assert (merged.died == merged.discharge_disposition.eq("death")).all()
    weights = st.merge(t["dim_drg"], on="drg_code").weight
    assert 1.1 <= weights.mean() <= 1.6                          # CMI
    assert 0.01 <= (st.case_payment_type == "high_outlier").mean() <= 0.08


def test_department_values_roll_up(t):                           # invariant 7
    st = t["fact_drg_settlement"].merge(t["fact_inpatient"], on="admission_id")
    by_dept = st.groupby("discharge_dept_id").total_cost_x.sum()
    assert by_dept.sum() == pytest.approx(st.total_cost_x.sum())


# --- clinical realism -------------------------------------------------------------------------------

def test_stays_look_like_the_catalogue(t):
    ip, su = t["fact_inpatient"], t["fact_surgery"]
    d = ip[ip.discharge_ts.notna()]
    los = (d.discharge_ts.dt.normalize() - d.admit_ts.dt.normalize()).dt.days.clip(lower=1)
    assert 4.8 <= los.mean() <= 6.8
    done = su[su.surgery_status == "done"]
    assert 0.4 <= done.admission_id.notna().sum() / len(d) <= 0.62
    elective = done[done.is_elective & done.admission_id.notna()]
    assert 0.78 <= done.is_elective.mean() <= 0.92
    assert 0.12 <= elective.is_day_surgery.mean() <= 0.4
    assert 0.2 <= done.is_minimally_invasive.mean() <= 0.5
    assert 0.2 <= (done.grade == 4).mean() <= 0.45
    assert done.admission_id.isna().any() and (su.surgery_status == "cancelled").any()
    assert (done.end_ts > done.start_ts).all()
    within = done.merge(ip, on="admission_id")
    assert (within.start_ts >= within.admit_ts).all()
    out = within[within.discharge_ts.notna()]
    assert (out.end_ts <= out.discharge_ts).all()
    sources = ip.admission_source.value_counts(normalize=True)
    assert 0.65 <= sources["outpatient"] <= 0.82 and 0.14 <= sources["emergency"] <= 0.26


def test_readmissions_and_bookings(t):
    ip, b = t["fact_inpatient"], t["fact_admission_booking"]
    s = ip.sort_values("admit_ts")
    prev = s.groupby("patient_id").discharge_ts.shift(1)
    gap = (s.admit_ts - prev).dt.days
    assert ((gap >= 0) & (gap <= 31)).sum() >= 10
    assert set(b.booking_status) == {"waiting", "admitted", "cancelled"}
    adm = b[b.booking_status == "admitted"].merge(ip, on="admission_id")
    assert (adm.request_ts <= adm.admit_ts).all()
    assert b.loc[b.booking_status == "cancelled", "cancelled_ts"].notna().all()


def test_live_day_at_as_of(t):
    now = pd.Timestamp(AS_OF)
    v, ip, su = t["fact_visit"], t["fact_inpatient"], t["fact_surgery"]
    assert v.visit_ts.max() <= now and (v.visit_ts.dt.date == AS_OF.date()).sum() > 0
    in_house = ip[ip.discharge_ts.isna()]
    assert len(in_house) > 20 and in_house.total_cost.isna().all()
    assert ip.discharge_ts.max() <= now
    today = su[su.scheduled_start_ts.dt.date == AS_OF.date()]
    assert {"scheduled", "in_progress"} & set(today.surgery_status)
    assert su.start_ts.max() <= now


def test_monday_busier_than_sunday(t):
    v = t["fact_visit"]
    op = v[v.visit_type == "outpatient"]
    daily = op.groupby(op.visit_ts.dt.normalize()).size()
    by_dow = daily.groupby(daily.index.day_of_week).mean()
    assert by_dow[0] > 1.8 * by_dow[6]


def test_spring_festival_dip_on_the_real_eve(t):
    eve = pd.Timestamp(SPRING_FESTIVAL_EVE[2026])
    assert eve == pd.Timestamp("2026-02-16")
    v = t["fact_visit"]
    daily = v[v.visit_type == "outpatient"].groupby(v.visit_ts.dt.normalize()).size()
    holiday = daily[eve:eve + pd.Timedelta(days=6)].sum()
    before = daily[eve - pd.Timedelta(days=28):eve - pd.Timedelta(days=22)].sum()
    assert holiday < 0.45 * before
    c = t["fact_ward_census"].groupby("census_date").occupied_beds.sum()
    assert c[date(2026, 2, 19)] < 0.8 * c[date(2026, 1, 21)]


def test_spring_festival_dates_agree_with_holidays_package():
    import holidays

    for year in (2019, 2024, 2025, 2026):
        days = holidays.China(years=year)
        first = min(d for d, n in days.items() if "Spring Festival" in n)
        assert SPRING_FESTIVAL_EVE[year] == first - pd.Timedelta(days=1)


def test_online_consults_share(t):
    o, v = t["fact_online_consult"], t["fact_visit"]
    assert 0.03 <= len(o) / len(v) <= 0.09
    done = o[o.consult_status == "completed"]
    assert (done.response_ts.dropna() > done.request_ts[done.response_ts.notna()]).all()
    assert o.loc[o.consult_status != "completed", "response_ts"].isna().all()


# --- delivery -----------------------------------------------------------------------------------------

def _manifest_matches(out, tables):
    m = pd.read_csv(out / "_manifest.csv", dtype={"date": str}, keep_default_na=False)
    for name in LOAD_ORDER:
        rows = m[m.table == name]
        dated = rows[rows.date != ""]
        total = rows[rows.date == ""]
        df = tables[name]
        if TABLES[name].kind == "dimension" or len(total):
            assert total["rows"].item() == len(df), name
        undated = partition_dates(name, df).eq("").sum() if TABLES[name].partition_by else 0
        if TABLES[name].kind == "fact":
            assert dated["rows"].sum() == len(df) - undated, name
        amount_col = TABLES[name].amount_column
        if amount_col:
            dated_amount = df.loc[partition_dates(name, df).ne("").to_numpy(), amount_col].sum()
            assert float(pd.to_numeric(dated.amount).sum()) == pytest.approx(
                float(dated_amount), abs=0.05)
    ch = m[m.table == "fact_charge"].set_index("date")["rows"]
    days = partition_dates("fact_charge", tables["fact_charge"]).value_counts()
    assert (ch.sort_index() == days.sort_index().rename("rows")).all()


def test_write_delivery_parquet_round_trip(t, tmp_path):
    out = write_delivery(t, tmp_path / "pq")
    for name in LOAD_ORDER:
        back = pq.read_table(out / f"{name}.parquet").to_pandas()
        assert tuple(back.columns) == TABLES[name].column_names
        assert len(back) == len(t[name])
    _manifest_matches(out, t)


def test_write_delivery_csv_round_trip(t, tmp_path):
    out = write_delivery(t, tmp_path / "csv", fmt="csv")
    ip = pd.read_csv(out / "fact_inpatient.csv", dtype=str, keep_default_na=False)
    assert len(ip) == len(t["fact_inpatient"])
    assert ip.admit_ts.str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d").all()
    assert ip.readmission_planned.isin(["true", "false", ""]).all()
    money = ip.total_cost[ip.total_cost != ""]
    assert money.str.fullmatch(r"-?\d+\.\d\d").all()
    census = pd.read_csv(out / "fact_ward_census.csv", dtype=str)
    assert census.census_date.str.fullmatch(r"\d{4}-\d\d-\d\d").all()
    dept = pd.read_csv(out / "dim_department.csv", encoding="utf-8")
    assert "心血管内科" in set(dept.dept_name)
    _manifest_matches(out, t)


# --- dirty mode ----------------------------------------------------------------------------------------

def test_dirty_mode_injects_every_fault_kind(t, dirty):
    kinds = {k for df in dirty.values() for k in df.attrs.get("demo_faults", {})}
    assert kinds == {"missing_timestamp", "unknown_department", "duplicate_key", "bad_enum",
                     "late_row"}
    v = dirty["fact_visit"]
    assert v.visit_ts.isna().any()
    assert (v.dept_id == "D9999").any()
    assert v.visit_id.duplicated().any()
    assert not set(v.booking_channel.dropna()) <= set(TABLES["fact_visit"].column(
        "booking_channel").enum)
    assert (v.visit_ts < pd.Timestamp(t["fact_ward_census"].census_date.min())).any()
    faulty = sum(n for df in dirty.values() for n in df.attrs["demo_faults"].values())
    rows = sum(len(dirty[f.name]) for f in FACTS)
    assert 0.001 <= faulty / rows <= 0.02


def test_dirty_delivery_in_gbk_with_manifest(dirty, tmp_path):
    out = write_delivery(dirty, tmp_path / "d", fmt="csv", gbk_tables=("dim_department",
                                                                          "fact_visit"))
    raw = (out / "dim_department.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert "心血管内科" in raw.decode("gbk")
    visits = pd.read_csv(out / "fact_visit.csv", encoding="gbk", dtype=str)
    assert len(visits) == len(dirty["fact_visit"])
    _manifest_matches(out, dirty)
    m = pd.read_csv(out / "_manifest.csv", dtype={"date": str}, keep_default_na=False)
    visits = m[m.table == "fact_visit"]                     # some rows have no visit_ts:
    assert visits.loc[visits.date == "", "rows"].item() == len(dirty["fact_visit"])
