"""fact_online_consult: the internet hospital, ≈ 6 % of outpatient volume (§14.1).

Requests peak 09-11 and 20-22 (§15.5); forms are text 60-75 %, video 15-30 %, phone 5-10 %,
services mostly online follow-up (§14.2). Completed consults get a first response after a
log-normal delay; cancelled and timed-out ones have none (and no fee).

>>> from datetime import datetime
>>> from warehouse.demo import hospital
>>> h = hospital.build("tiny", 1, datetime(2026, 3, 10, 9, 30))
>>> c = generate(h, h.start, h.end, "t")
>>> set(c.consult_status) <= {"completed", "cancelled", "timeout"}
True
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import profile
from .hospital import Hospital
from .rand import ids, pick_dict, rng_for, times_in_day

TYPES = {"text": 0.68, "video": 0.22, "phone": 0.10}
SERVICES = {"follow_up": 0.62, "consultation": 0.20, "prescription_renewal": 0.12,
            "report_reading": 0.045, "nursing": 0.015}
CHANNELS = {"wechat": 0.45, "mini_program": 0.25, "app": 0.25, "web": 0.05}
STATUS = {"completed": 0.91, "cancelled": 0.05, "timeout": 0.04}
FEE = {"text": 30.0, "video": 60.0, "phone": 45.0}


def generate(h: Hospital, first, last, key: str) -> pd.DataFrame:
    """Consults requested on the days first..last, up to as_of."""
    rng = rng_for(h.seed, "online", key)
    days = pd.date_range(first, last, freq="D")
    f = h.factors.iloc[h.day_index(days.to_numpy())]
    depts = h.dept[(h.dept.campus_type == "main") & (h.dept.opd_share > 0)]
    per_day = h.visits_per_day * (1 - profile.EMERGENCY_SHARE) * profile.ONLINE_SHARE
    w = depts.opd_share.to_numpy() / depts.opd_share.sum()
    lam = per_day * (f.online * f.growth).to_numpy()[:, None] * w[None, :]
    counts = rng.poisson(lam)
    d_i, k_i = np.nonzero(counts)
    reps = counts[d_i, k_i]
    d_i, k_i = np.repeat(d_i, reps), np.repeat(k_i, reps)
    n = len(d_i)
    request = times_in_day(rng, days.to_numpy()[d_i], profile.ONLINE_HOURS)
    ctype = pick_dict(rng, TYPES, n)
    status = pick_dict(rng, STATUS, n)
    response = request + (np.exp(rng.normal(np.log(900), 0.9, n)).clip(30, 86400)).astype(
        "timedelta64[s]")
    done = status == "completed"
    dept = depts.dept_id.to_numpy()[k_i]
    docs = h.doctor.groupby("dept_id").doctor_id.apply(np.array)
    doctor = np.empty(n, dtype=object)
    for d in np.unique(dept):
        sel = dept == d
        doctor[sel] = rng.choice(docs[d], int(sel.sum()))
    doctor = np.where(~done & (rng.random(n) < 0.5), None, doctor)   # never assigned
    service = pick_dict(rng, SERVICES, n)
    rx = done & np.isin(service, ["follow_up", "prescription_renewal"]) & (rng.random(n) < 0.55)
    fee = np.where(done, pd.Series(ctype).map(FEE).to_numpy() * rng.choice([0.5, 1.0, 1.5], n),
                   0.0)
    now = np.datetime64(h.as_of, "s")
    out = pd.DataFrame({
        "consult_id": ids("OC" + key, np.arange(n), 7).to_numpy(),
        "patient_id": ids("P", (h.visits_per_day * 160 * rng.random(n) ** 1.5).astype(np.int64),
                          9).to_numpy(),
        "request_ts": request,
        "response_ts": np.where(done & (response <= now), response, np.datetime64("NaT")),
        "dept_id": dept,
        "doctor_id": doctor,
        "consult_type": ctype,
        "service": service,
        "channel": pick_dict(rng, CHANNELS, n),
        "consult_status": status,
        "fee": np.round(fee, 2),
        "has_prescription": rx,
    })
    out = out[out.request_ts <= pd.Timestamp(h.as_of)]
    return out.sort_values("request_ts", kind="stable").reset_index(drop=True)
