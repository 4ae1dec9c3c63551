"""Dirty mode: the faults a real source system delivers, at a low rate (~0.1-0.5 %).

Every fault except `late_row` breaks the contract, so the loader must quarantine the row:
  missing_timestamp  a required timestamp is empty
  unknown_department dept_id not in dim_department
  duplicate_key      the same primary key twice in one delivery with different content
  bad_enum           a value outside the column's enum
  late_row           a valid row whose date lies before the span (arrives late; it loads)
The manifest still counts these rows: it is the source system's view of what it sent.

>>> import pandas as pd
>>> from warehouse.demo.rand import rng_for
>>> df = pd.DataFrame({"dept_id": ["D0101"] * 1000})
>>> faulty, n = unknown_department(rng_for(1, "d"), df, 0.01)
>>> n, int((faulty.dept_id == UNKNOWN_DEPT).sum())
(10, 10)
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..contract import TABLES

UNKNOWN_DEPT = "D9999"
RATE = 0.002
BAD_ENUM = {"fact_visit": ("booking_channel", "alipay"), "fact_charge": ("payer", "commercial"),
            "fact_surgery": ("surgery_status", "postponed"),
            "fact_inpatient": ("admission_source", "walk_in")}
MISSING_TS = {"fact_visit": "visit_ts", "fact_inpatient": "admit_ts",
              "fact_online_consult": "request_ts"}
UNKNOWN_DEPT_TABLES = ("fact_visit", "fact_charge", "fact_clinic_session")
DUPLICATE_TABLES = ("fact_visit", "fact_charge", "fact_online_consult")
LATE_TABLES = ("fact_charge", "fact_visit")


def _rows(rng, n: int, rate: float) -> np.ndarray:
    k = max(1, int(round(n * rate))) if n else 0
    return rng.choice(n, size=k, replace=False) if k else np.array([], int)


def missing_timestamp(rng, df: pd.DataFrame, col: str, rate: float = RATE):
    rows = _rows(rng, len(df), rate)
    df.loc[df.index[rows], col] = pd.NaT
    return df, len(rows)


def unknown_department(rng, df: pd.DataFrame, rate: float = RATE):
    rows = _rows(rng, len(df), rate)
    df.loc[df.index[rows], "dept_id"] = UNKNOWN_DEPT
    return df, len(rows)


def bad_enum(rng, df: pd.DataFrame, col: str, value: str, rate: float = RATE):
    rows = _rows(rng, len(df), rate)
    df.loc[df.index[rows], col] = value
    return df, len(rows)


def duplicate_key(rng, df: pd.DataFrame, table: str, rate: float = RATE):
    """Append copies of some rows with the same key but a changed required column;
    both rows of each pair are faulty, so the count is twice the copies."""
    rows = _rows(rng, len(df), rate)
    dup = df.iloc[rows].copy()
    t = TABLES[table]
    col = next(c for c in t.columns if c.type in ("money", "timestamp") and c.name not in
               t.primary_key and not c.nullable)
    if col.type == "money":
        dup[col.name] = (dup[col.name] + 1.0).round(2)
    else:
        dup[col.name] = dup[col.name] + pd.Timedelta(minutes=7)
    return pd.concat([df, dup], ignore_index=True), 2 * len(rows)


def late_row(rng, df: pd.DataFrame, table: str, before, rate: float = RATE):
    """Copies of rows, re-keyed and dated 1-60 days before the span (valid, arriving late)."""
    rows = _rows(rng, len(df), rate)
    late = df.iloc[rows].copy()
    key = TABLES[table].primary_key[0]
    late[key] = late[key].astype(str) + "L"
    shift = pd.to_timedelta(rng.integers(1, 61, len(late)), unit="D")
    col = TABLES[table].partition_by[0]
    base = pd.Timestamp(before)
    if TABLES[table].column(col).type == "date":
        late[col] = pd.Series([(base - s).date() for s in shift], index=late.index).astype(
            df[col].dtype)
    else:
        late[col] = (base - shift) + (late[col] - late[col].dt.floor("D")).to_numpy()
        for other in ("checkin_ts", "seen_ts", "slot_start_ts"):
            if other in late:
                late[other] = pd.NaT
    return pd.concat([df, late], ignore_index=True), len(late)


def inject(rng, table: str, df: pd.DataFrame, span_start) -> tuple[pd.DataFrame, dict]:
    """Apply every fault that this table carries; returns (frame, {fault: rows})."""
    counts: dict[str, int] = {}
    if not len(df):
        return df, counts
    df = df.copy()
    # late rows and duplicates first, so that they copy clean rows
    if table in LATE_TABLES:
        df, counts["late_row"] = late_row(rng, df, table, span_start)
    if table in DUPLICATE_TABLES:
        df, counts["duplicate_key"] = duplicate_key(rng, df, table)
    if table in MISSING_TS:
        df, counts["missing_timestamp"] = missing_timestamp(rng, df, MISSING_TS[table])
    if table in UNKNOWN_DEPT_TABLES:
        df, counts["unknown_department"] = unknown_department(rng, df)
    if table in BAD_ENUM:
        df, counts["bad_enum"] = bad_enum(rng, df, *BAD_ENUM[table])
    return df, counts
