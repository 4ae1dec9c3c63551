"""fact_drg_settlement and fact_admission_booking, from the stays.

Settlement: one row per discharged stay (settled a few days after discharge, never after
as_of); ≈ 1.5 % are not groupable (null drg_code, paid by item under special review). Payment
follows §10.3: group standard, more for high outliers (cost ≥ 2-3 × benchmark), by item for
low outliers, special review for stays over 60 days.

Bookings (住院证): most elective stays from the clinic have one issued a few days before
admission; stays admitted after as_of make the current waiting list; ~8 % are cancelled.

>>> outlier_threshold(__import__("numpy").array([0.5, 2.0, 5.0])).tolist()
[3.0, 2.5, 2.0]
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .hospital import Hospital
from .rand import ids, pick, rng_for

UNGROUPABLE = 0.015


def outlier_threshold(weight: np.ndarray) -> np.ndarray:
    """High-outlier threshold as a multiple of the benchmark; it falls as RW rises (§10.3)."""
    return np.where(weight < 1.0, 3.0, np.where(weight < 3.0, 2.5, 2.0))


def fact_drg_settlement(h: Hospital, v: pd.DataFrame) -> pd.DataFrame:
    """One settlement per discharged visible stay."""
    rng = rng_for(h.seed, "settlement")
    d = v[v.discharged.to_numpy()]
    n = len(d)
    g = h.groups.set_index("drg_code").loc[d.drg_code]
    lag = rng.geometric(0.35, n) - 1
    settle = d.discharge_day.to_numpy().astype("datetime64[D]") + lag.astype("timedelta64[D]")
    settle = np.minimum(settle, np.datetime64(h.as_of.date()))
    grouped = rng.random(n) >= UNGROUPABLE
    total = d.total_cost.to_numpy()
    bench = g.benchmark_cost.to_numpy()
    standard = g.payment_standard.to_numpy()
    thr = outlier_threshold(g.weight.to_numpy())
    los = np.maximum(d.los.to_numpy(), 1)
    ctype = np.where(total >= thr * bench, "high_outlier",
                     np.where(total <= 0.4 * bench, "low_outlier", "normal"))
    ctype = np.where((los > 60) | ~grouped, "special_review", ctype)
    pay = np.select([ctype == "high_outlier", ctype == "low_outlier", ctype == "special_review"],
                    [standard + 0.9 * (total - thr * bench), total, total], standard)
    pay = np.round(pay, 2)
    insured = ~d.self_pay.to_numpy()
    paid = np.round(np.where(insured, pay * rng.uniform(0.6, 0.85, n), 0.0), 2)
    cat = lambda *cs: np.round(sum(d[f"cat_{c}"].to_numpy() for c in cs), 2)  # noqa: E731
    return pd.DataFrame({
        "admission_id": d.admission_id.to_numpy(),
        "settle_date": settle,
        "drg_code": np.where(grouped, d.drg_code.to_numpy(), None),
        "total_cost": total,
        "drug_cost": cat("drug"),
        "material_cost": cat("material"),
        "exam_cost": cat("exam"),
        "lab_cost": cat("lab"),
        "treatment_cost": cat("treatment", "surgery"),
        "other_cost": cat("nursing", "bed", "consultation", "other"),
        "payment_standard": pay,
        "case_payment_type": ctype,
        "insurance_paid": paid,
        "los_days": los.astype(np.int64),
        "died": d.disposition.to_numpy() == "death",
    })


def _request_ts(rng, admit_ts: np.ndarray, emergency: np.ndarray) -> np.ndarray:
    """When the admission slip was issued: days before (clinic hours), hours for emergencies."""
    n = len(admit_ts)
    days = np.rint(np.exp(rng.normal(1.6, 0.9, n))).clip(1, 60).astype("timedelta64[D]")
    clinic = (admit_ts.astype("datetime64[D]") - days).astype("datetime64[s]") + (
        rng.integers(8 * 3600, 17 * 3600, n).astype("timedelta64[s]"))
    er = admit_ts - rng.integers(1800, 6 * 3600, n).astype("timedelta64[s]")
    return np.where(emergency, er, clinic)


def fact_admission_booking(h: Hospital, s: pd.DataFrame, v: pd.DataFrame) -> pd.DataFrame:
    """Bookings of visible stays (admitted), of future stays (waiting) and cancelled ones."""
    rng = rng_for(h.seed, "booking")
    now = np.datetime64(h.as_of, "s")
    future = s[s.admit_ts.to_numpy() > now].copy()
    future["admission_id"] = None
    future["patient_id"] = ids("P", future.patient_no.to_numpy(), 9).to_numpy()
    both = pd.concat([v.assign(is_future=False), future.assign(is_future=True)], ignore_index=True)
    src = both.admission_source.to_numpy()
    p = np.select([src == "outpatient", src == "referral_in", src == "emergency"], [0.9, 0.9, 0.3],
                  0.0)
    b = both[rng.random(len(both)) < p]
    n = len(b)
    emergency = b.admission_source.to_numpy() == "emergency"
    request = _request_ts(rng, b.admit_ts.to_numpy(), emergency)
    source = np.where(emergency, "emergency", np.where(
        b.admission_source.to_numpy() == "referral_in",
        pick(rng, ["referral_in", "alliance"], [0.5, 0.5], n), "outpatient"))
    planned = b.admit_day.to_numpy().astype("datetime64[D]") + np.where(
        rng.random(n) < 0.8, 0, rng.integers(-3, 4, n)).astype("timedelta64[D]")
    waiting = b.is_future.to_numpy()
    out = pd.DataFrame({
        "booking_id": ids("B", b.stay_no.to_numpy(), 9).to_numpy(),
        "patient_id": b.patient_id.to_numpy(),
        "campus_id": b.admit_dept_id.map(h.dept.set_index("dept_id").campus_id).to_numpy(),
        "dept_id": b.admit_dept_id.to_numpy(),
        "request_ts": request,
        "source": source,
        "planned_admit_date": np.where(emergency, np.datetime64("NaT"), planned),
        "admitted_ts": np.where(waiting, np.datetime64("NaT"), b.admit_ts.to_numpy()),
        "cancelled_ts": np.datetime64("NaT"),
        "admission_id": b.admission_id.to_numpy(),
        "booking_status": np.where(waiting, "waiting", "admitted"),
    })
    out = out[out.request_ts.to_numpy() <= now]
    return pd.concat([out, _cancelled(rng, h, out)], ignore_index=True)


def _cancelled(rng, h: Hospital, booked: pd.DataFrame) -> pd.DataFrame:
    """~8 % extra bookings that the patient cancelled (or that are still open if recent)."""
    clinic = booked[booked.source.to_numpy() != "emergency"]
    n = int(len(clinic) * 0.08)
    c = clinic.sample(n, random_state=rng.integers(1 << 31)).copy()
    c["booking_id"] = "BC" + c.booking_id.str[1:]
    c["patient_id"] = ids("P", rng.integers(2 * 10**8, 3 * 10**8, n), 9).to_numpy()
    cancel = c.request_ts + pd.to_timedelta(rng.integers(3600, 12 * 86400, n), unit="s")
    late = cancel > pd.Timestamp(h.as_of)
    c["cancelled_ts"] = cancel.where(~late)
    c["admitted_ts"] = pd.NaT
    c["admission_id"] = None
    c["booking_status"] = np.where(late, "waiting", "cancelled")
    return c
