"""The source contract v1.1 as code: the one declaration of every table hospitals deliver.

The loader, the demo generator, the DuckDB and StarRocks DDL and the contract documentation
(`docs/contract.md`, written by `cockpit contract-doc`) all read this module; nothing else
spells a column name, type or enum of the contract.

>>> TABLES["fact_visit"].primary_key
('visit_id',)
>>> TABLES["fact_visit"].column("visit_type").enum
('outpatient', 'emergency')
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

CONTRACT_VERSION = "1.1"

ColumnType = Literal["str", "int", "float", "money", "bool", "date", "timestamp", "enum"]

#: Spellings the contract accepts for booleans (compared case-insensitively).
TRUE_SPELLINGS = ("true", "1", "y", "yes", "t", "是")
FALSE_SPELLINGS = ("false", "0", "n", "no", "f", "否")


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    nullable: bool = False
    enum: tuple[str, ...] | None = None
    references: str | None = None  # "table.column" for a foreign key
    doc: str = ""
    min: float | None = None
    max: float | None = None

    @property
    def is_date_like(self) -> bool:
        return self.type in ("date", "timestamp")

    @property
    def ref_table(self) -> str | None:
        return self.references.split(".")[0] if self.references else None

    @property
    def ref_column(self) -> str | None:
        return self.references.split(".")[1] if self.references else None


@dataclass(frozen=True)
class Table:
    name: str
    kind: Literal["dimension", "fact"]
    zh: str
    doc: str
    primary_key: tuple[str, ...]
    columns: tuple[Column, ...]
    #: a fact's partition date is the first non-null of these columns; the warehouse stores it
    #: as `_part_date` and keeps the table physically ordered by it (zone maps skip blocks)
    partition_by: tuple[str, ...] = ()
    #: the money column reconciled against the manifest's `amount`
    amount_column: str | None = None
    #: integer surrogate key column the warehouse adds (dimensions only)
    surrogate_key: str | None = None
    extra: dict = field(default_factory=dict)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def date_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.is_date_like)

    @property
    def foreign_keys(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.references)


def _c(name, type_, nullable=False, enum=None, ref=None, doc="", min=None, max=None) -> Column:
    return Column(name, type_, nullable, tuple(enum) if enum else None, ref, doc, min, max)


N = True  # "null ok"

DIMENSIONS: tuple[Table, ...] = (
    Table("dim_campus", "dimension", "院区", "Campus or member institution (医联体成员).", ("campus_id",), (
        _c("campus_id", "str", doc="e.g. C01"),
        _c("campus_name", "str"),
        _c("campus_type", "enum", enum=("main", "branch", "alliance"),
           doc="main campus, branch campus, alliance member (医联体成员)"),
        _c("province", "str"),
        _c("city", "str"),
        _c("latitude", "float", N, min=-90, max=90),
        _c("longitude", "float", N, min=-180, max=180),
    ), surrogate_key="campus_sk"),
    Table("dim_department", "dimension", "科室", "Department, unique across campuses.", ("dept_id",), (
        _c("dept_id", "str", doc="unique across campuses"),
        _c("dept_name", "str", doc="Chinese name"),
        _c("dept_name_en", "str", N),
        _c("campus_id", "str", ref="dim_campus.campus_id"),
        _c("discipline", "str", doc="specialty shared across campuses (学科), e.g. 心血管内科"),
        _c("dept_type", "enum", enum=("clinical", "medtech", "other")),
        _c("is_surgical", "bool", doc="surgical department (手术科室)"),
        _c("has_ward", "bool", doc="has inpatient beds"),
    ), surrogate_key="dept_sk"),
    Table("dim_team", "dimension", "诊疗组", "Treatment team within a department.", ("team_id",), (
        _c("team_id", "str"),
        _c("team_name", "str"),
        _c("dept_id", "str", ref="dim_department.dept_id"),
        _c("leader_doctor_id", "str", N),
    ), surrogate_key="team_sk"),
    Table("dim_doctor", "dimension", "医生", "Doctor (names pseudonymised).", ("doctor_id",), (
        _c("doctor_id", "str"),
        _c("doctor_name", "str"),
        _c("dept_id", "str", ref="dim_department.dept_id"),
        _c("team_id", "str", N, ref="dim_team.team_id"),
        _c("title", "enum", enum=("chief", "associate_chief", "attending", "resident"),
           doc="主任/副主任/主治/住院医师"),
    ), surrogate_key="doctor_sk"),
    Table("dim_drg", "dimension", "DRG病组", "DRG groups from the payer's grouper version in force.",
          ("drg_code",), (
        _c("drg_code", "str", doc="e.g. FM19: MDC letter + ADRG + severity digit"),
        _c("drg_name", "str"),
        _c("adrg_code", "str", doc="the ADRG (take it from here, never from the code's characters)"),
        _c("mdc_code", "str", doc="major diagnostic category"),
        _c("weight", "float", doc="relative weight (RW)", min=0),
        _c("benchmark_cost", "money", doc="regional average cost per case for the group"),
        _c("benchmark_los", "float", doc="regional average length of stay (days)", min=0),
        _c("risk_level", "enum", enum=("zero", "low", "mid_low", "mid_high", "high"),
           doc="mortality-risk tier; zero = no reference deaths (in no tier)"),
        _c("scheme", "str", N, doc="grouper scheme and version, e.g. CHS-DRG 1.1"),
        _c("payment_standard", "money", doc="what the payer pays per case of this group"),
    ), surrogate_key="drg_sk"),
    Table("dim_or_room", "dimension", "手术间", "Operating room.", ("or_room",), (
        _c("or_room", "str"),
        _c("campus_id", "str", ref="dim_campus.campus_id"),
        _c("open_minutes_weekday", "int", doc="scheduled open minutes on a working day", min=0),
        _c("open_minutes_weekend", "int", doc="scheduled open minutes on a weekend day or holiday",
           min=0),
    ), surrogate_key="or_room_sk"),
)

_CHANNELS = ("window", "app", "wechat", "phone", "kiosk", "clinic", "alliance")
_CATEGORIES = ("registration", "consultation", "exam", "lab", "treatment", "surgery", "nursing",
               "bed", "material", "drug", "other")

FACTS: tuple[Table, ...] = (
    Table("fact_visit", "fact", "就诊", "One outpatient or emergency visit.", ("visit_id",), (
        _c("visit_id", "str"),
        _c("patient_id", "str", doc="pseudonymised master patient index"),
        _c("visit_ts", "timestamp", doc="registration time"),
        _c("campus_id", "str", ref="dim_campus.campus_id"),
        _c("dept_id", "str", ref="dim_department.dept_id"),
        _c("doctor_id", "str", N, ref="dim_doctor.doctor_id"),
        _c("visit_type", "enum", enum=("outpatient", "emergency")),
        _c("is_first_visit", "bool", doc="初诊"),
        _c("registration_class", "enum", enum=("general", "specialist", "expert", "special_needs"),
           doc="普通/专科/专家/特需"),
        _c("is_appointment", "bool", doc="booked in advance (预约)"),
        _c("booking_channel", "enum", N, enum=_CHANNELS,
           doc="null when not booked; clinic = 诊间预约, alliance = slot reserved for a member"),
        _c("slot_start_ts", "timestamp", N, doc="start of the booked time slot"),
        _c("checkin_ts", "timestamp", N, doc="arrival / check-in"),
        _c("seen_ts", "timestamp", N, doc="called in by the doctor"),
        _c("referred_down", "bool", doc="referred to a primary-care / alliance institution (下转)"),
    ), partition_by=("visit_ts",)),
    Table("fact_charge", "fact", "收入", "Charges: one row per encounter x category x day.",
          ("charge_id",), (
        _c("charge_id", "str"),
        _c("encounter_type", "enum", enum=("outpatient", "emergency", "inpatient")),
        _c("encounter_id", "str", doc="visit_id or admission_id"),
        _c("charge_date", "date"),
        _c("campus_id", "str", ref="dim_campus.campus_id"),
        _c("dept_id", "str", ref="dim_department.dept_id", doc="ordering department"),
        _c("category", "enum", enum=_CATEGORIES),
        _c("amount", "money", doc="may be negative (refund / reversal)"),
        _c("payer", "enum", enum=("insurance", "self_pay")),
    ), partition_by=("charge_date",), amount_column="amount"),
    Table("fact_inpatient", "fact", "住院",
          "One admission, with the medical-record front page (病案首页) fields.", ("admission_id",), (
        _c("admission_id", "str"),
        _c("patient_id", "str"),
        _c("campus_id", "str", ref="dim_campus.campus_id"),
        _c("admit_ts", "timestamp"),
        _c("admit_dept_id", "str", ref="dim_department.dept_id"),
        _c("discharge_ts", "timestamp", N, doc="null while still in hospital"),
        _c("discharge_dept_id", "str", N, ref="dim_department.dept_id"),
        _c("team_id", "str", N, ref="dim_team.team_id", doc="treating team at discharge"),
        _c("attending_doctor_id", "str", N, ref="dim_doctor.doctor_id"),
        _c("admission_source", "enum",
           enum=("outpatient", "emergency", "referral_in", "transfer", "other"), doc="入院途径"),
        _c("planned_discharge_date", "date", N, doc="预出院日期 set by the ward"),
        _c("discharge_disposition", "enum", N,
           enum=("home", "transfer_hospital", "transfer_primary", "against_advice", "death", "other"),
           doc="离院方式 1, 2, 3, 4, 5, 9"),
        _c("principal_dx", "str", N, doc="ICD-10 code of the principal diagnosis"),
        _c("readmission_planned", "bool", N, doc="a readmission within 31 days is planned"),
        _c("mr_archived_ts", "timestamp", N, doc="medical record archived"),
        _c("mr_qc_grade", "enum", N, enum=("A", "B", "C"), doc="front-page quality grade"),
        _c("total_cost", "money", N),
        _c("drug_cost", "money", N),
        _c("material_cost", "money", N),
    ), partition_by=("admit_ts",), amount_column="total_cost"),
    Table("fact_ward_census", "fact", "病房日报", "One row per department per day.",
          ("census_date", "dept_id"), (
        _c("census_date", "date"),
        _c("campus_id", "str", ref="dim_campus.campus_id"),
        _c("dept_id", "str", ref="dim_department.dept_id"),
        _c("open_beds", "int", min=0),
        _c("occupied_beds", "int", min=0, doc="patients in bed at midnight"),
        _c("same_day_stays", "int", min=0, doc="admitted and discharged the same day"),
        _c("admissions", "int", min=0),
        _c("discharges", "int", min=0),
        _c("transfers_in", "int", min=0),
        _c("transfers_out", "int", min=0),
    ), partition_by=("census_date",)),
    Table("fact_surgery", "fact", "手术", "One operation (台次).", ("surgery_id",), (
        _c("surgery_id", "str"),
        _c("admission_id", "str", N, ref="fact_inpatient.admission_id",
           doc="null for outpatient procedures"),
        _c("patient_id", "str"),
        _c("campus_id", "str", ref="dim_campus.campus_id"),
        _c("dept_id", "str", ref="dim_department.dept_id"),
        _c("team_id", "str", N, ref="dim_team.team_id"),
        _c("surgeon_id", "str", ref="dim_doctor.doctor_id"),
        _c("or_room", "str", ref="dim_or_room.or_room"),
        _c("scheduled_start_ts", "timestamp", N),
        _c("surgery_status", "enum", enum=("scheduled", "in_progress", "done", "cancelled")),
        _c("start_ts", "timestamp", N, doc="patient in room"),
        _c("end_ts", "timestamp", N, doc="patient out of room"),
        _c("grade", "int", min=1, max=4, doc="手术分级"),
        _c("is_minimally_invasive", "bool"),
        _c("is_day_surgery", "bool"),
        _c("is_elective", "bool", doc="择期"),
        _c("has_complication", "bool", doc="complication not present on admission"),
        _c("incision_class", "enum", N, enum=("I", "II", "III", "none")),
        _c("has_ssi", "bool", N, doc="surgical-site infection"),
        _c("anesthesia", "enum", enum=("general", "regional", "local", "none")),
    ), partition_by=("start_ts", "scheduled_start_ts", "end_ts")),
    Table("fact_clinic_session", "fact", "出诊", "One doctor session (half day).", ("session_id",), (
        _c("session_id", "str"),
        _c("session_date", "date"),
        _c("session_period", "enum", enum=("am", "pm", "night")),
        _c("campus_id", "str", ref="dim_campus.campus_id"),
        _c("dept_id", "str", ref="dim_department.dept_id"),
        _c("doctor_id", "str", ref="dim_doctor.doctor_id"),
        _c("session_type", "enum",
           enum=("general", "specialist", "expert", "special_needs", "mdt")),
        _c("slots_total", "int", min=0),
        _c("slots_booked", "int", min=0),
        _c("patients_seen", "int", min=0),
        _c("session_status", "enum", enum=("held", "cancelled")),
        _c("cancel_notice_hours", "float", N),
    ), partition_by=("session_date",)),
    Table("fact_online_consult", "fact", "互联网医院", "One internet-hospital consultation.",
          ("consult_id",), (
        _c("consult_id", "str"),
        _c("patient_id", "str"),
        _c("request_ts", "timestamp"),
        _c("response_ts", "timestamp", N, doc="first doctor response"),
        _c("dept_id", "str", ref="dim_department.dept_id"),
        _c("doctor_id", "str", N, ref="dim_doctor.doctor_id"),
        _c("consult_type", "enum", enum=("text", "video", "phone")),
        _c("service", "enum", enum=("consultation", "follow_up", "prescription_renewal",
                                    "report_reading", "nursing"), doc="业态"),
        _c("channel", "enum", enum=("app", "wechat", "mini_program", "web")),
        _c("consult_status", "enum", enum=("completed", "cancelled", "timeout")),
        _c("fee", "money"),
        _c("has_prescription", "bool"),
    ), partition_by=("request_ts",), amount_column="fee"),
    Table("fact_drg_settlement", "fact", "DRG结算", "One row per settled discharge.",
          ("admission_id",), (
        _c("admission_id", "str", ref="fact_inpatient.admission_id"),
        _c("settle_date", "date"),
        _c("drg_code", "str", N, ref="dim_drg.drg_code", doc="null = not groupable"),
        _c("total_cost", "money"),
        _c("drug_cost", "money"),
        _c("material_cost", "money"),
        _c("exam_cost", "money"),
        _c("lab_cost", "money"),
        _c("treatment_cost", "money", doc="includes surgery"),
        _c("other_cost", "money", doc="nursing, bed, other"),
        _c("payment_standard", "money"),
        _c("case_payment_type", "enum",
           enum=("normal", "high_outlier", "low_outlier", "special_review")),
        _c("insurance_paid", "money"),
        _c("los_days", "int", min=0),
        _c("died", "bool"),
    ), partition_by=("settle_date",), amount_column="total_cost"),
    Table("fact_admission_booking", "fact", "入院预约", "Admission booking (住院证).",
          ("booking_id",), (
        _c("booking_id", "str"),
        _c("patient_id", "str"),
        _c("campus_id", "str", ref="dim_campus.campus_id"),
        _c("dept_id", "str", ref="dim_department.dept_id"),
        _c("request_ts", "timestamp", doc="admission slip issued"),
        _c("source", "enum", enum=("outpatient", "emergency", "referral_in", "alliance")),
        _c("planned_admit_date", "date", N),
        _c("admitted_ts", "timestamp", N),
        _c("cancelled_ts", "timestamp", N),
        _c("admission_id", "str", N, ref="fact_inpatient.admission_id"),
        _c("booking_status", "enum", enum=("waiting", "admitted", "cancelled")),
    ), partition_by=("request_ts",)),
)

TABLES: dict[str, Table] = {t.name: t for t in DIMENSIONS + FACTS}

#: load order: dimensions in FK order, then facts in FK order
LOAD_ORDER: tuple[str, ...] = (
    "dim_campus", "dim_department", "dim_team", "dim_doctor", "dim_drg", "dim_or_room",
    "fact_inpatient", "fact_visit", "fact_charge", "fact_ward_census", "fact_surgery",
    "fact_clinic_session", "fact_online_consult", "fact_drg_settlement", "fact_admission_booking",
)


PART_DATE = "_part_date"


def physical_columns(table: Table) -> tuple[str, ...]:
    """Columns of the warehouse table: the contract's, plus those the warehouse adds
    (a dimension's integer surrogate key, a fact's partition date)."""
    extra: list[str] = []
    if table.surrogate_key:
        extra.append(table.surrogate_key)
    if table.partition_by:
        extra.append(PART_DATE)
    return table.column_names + tuple(extra)
