"""fact_charge: one row per encounter × category × day, and the cost split of each stay.

A stay's total cost is split into categories by its group's cost structure (§11.3) to the cent;
each category is then spread over the days of the stay (beds and nursing per night, the
operation and most implants on the operation day, exams and labs front-loaded), again to the
cent, so a stay's charges sum exactly to its total_cost, drug_cost and material_cost.
Outpatient visits get 2-6 categories on the visit day (§12.1 outpatient mix). A small share of
encounters carry a negative refund (退费) row.

>>> import numpy as np
>>> from warehouse.demo.rand import rng_for
>>> split = category_split(rng_for(1, "x"), np.array([1000.0]), np.array(["medical"]))
>>> round(float(split.sum()), 2)
1000.0
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import profile
from .rand import ids, lognormal_mean, pick_dict, split_cents

STAY_CATEGORIES = ("drug", "material", "exam", "lab", "treatment", "surgery", "nursing", "bed",
                   "consultation", "other")
REGISTRATION_FEE = {"general": 10.0, "specialist": 20.0, "expert": 50.0, "special_needs": 200.0}
OUTPATIENT_SELF_PAY = 0.30


def category_split(rng, totals: np.ndarray, cost_types: np.ndarray) -> np.ndarray:
    """(n, 10) category amounts per stay, Dirichlet-noised around its type's structure; each
    row sums to its total exactly (cents)."""
    struct = np.array([[profile.COST_STRUCTURE[t][c] for c in STAY_CATEGORIES]
                       for t in profile.COST_STRUCTURE])
    type_i = pd.Index(list(profile.COST_STRUCTURE)).get_indexer(cost_types)
    w = struct[type_i] * rng.gamma(30.0, 1 / 30.0, (len(totals), len(STAY_CATEGORIES)))
    parts = split_cents(rng, totals, np.full(len(totals), len(STAY_CATEGORIES)), w.reshape(-1))
    return parts.reshape(len(totals), len(STAY_CATEGORIES))


def _day_weights(rng, cat: str, day: np.ndarray, n_days: np.ndarray, op_day: np.ndarray):
    """Weight of each stay-day for one category (see the module docstring)."""
    last = day == n_days - 1
    if cat in ("bed", "nursing"):
        return np.where(last & (n_days > 1), 0.0, 1.0)
    if cat == "surgery":
        return (day == op_day).astype(float)
    if cat == "material":
        return 0.3 / n_days + 0.7 * (day == op_day)
    w = rng.exponential(1.0, len(day)) + 0.3
    if cat in ("exam", "lab"):
        w = w * np.exp(-day / 3.0)
    return w


def inpatient_charges(rng, v: pd.DataFrame, as_of_day: np.datetime64, campus_of: pd.Series,
                      id_offset: int = 0) -> pd.DataFrame:
    """Charge rows of the stays in `v` (visible stays with cat_* columns), up to as_of's day."""
    n_days = (v.los.to_numpy() + 1).astype(int)
    stay = np.repeat(np.arange(len(v)), n_days)
    first = np.r_[0, np.cumsum(n_days)[:-1]]
    day = np.arange(len(stay)) - np.repeat(first, n_days)
    off = v.surgery_offset.to_numpy()
    op_day = np.clip(np.where(off >= 0, off, np.minimum(1, n_days - 1)), 0, n_days - 1)
    date = v.admit_day.to_numpy().astype("datetime64[D]")[stay] + day.astype("timedelta64[D]")
    frames = []
    for cat in STAY_CATEGORIES:
        w = _day_weights(rng, cat, day, n_days[stay], op_day[stay])
        wsum = np.bincount(stay, weights=w, minlength=len(v))
        w = np.where(wsum[stay] > 0, w, 1.0)     # a category with no eligible day: spread it
        amt = split_cents(rng, v[f"cat_{cat}"].to_numpy(), n_days, w)
        frames.append(pd.DataFrame({"stay": stay, "date": date, "category": cat, "amount": amt}))
    ch = pd.concat(frames, ignore_index=True)
    ch = _refund_inpatient(rng, ch, n_days)
    ch = ch[(ch.amount != 0) & (ch.date <= as_of_day)]
    vv = v.iloc[ch.stay.to_numpy()]
    return pd.DataFrame({
        "charge_id": ids("CI", np.arange(len(ch)) + id_offset, 11).to_numpy(),
        "encounter_type": "inpatient",
        "encounter_id": vv.admission_id.to_numpy(),
        "charge_date": ch.date.to_numpy(),
        "campus_id": vv.admit_dept_id.map(campus_of).to_numpy(),
        # the ordering department: the ward the patient was in (transfer splits it)
        "dept_id": np.where((vv.transfer_offset.to_numpy() >= 0)
                            & ((ch.date.to_numpy() - vv.admit_day.to_numpy().astype("datetime64[D]"))
                               .astype(int) >= vv.transfer_offset.to_numpy()),
                            vv.discharge_dept_id.to_numpy(), vv.admit_dept_id.to_numpy()),
        "category": ch.category.to_numpy(),
        "amount": ch.amount.to_numpy(),
        "payer": np.where(vv.self_pay.to_numpy(), "self_pay", "insurance"),
    })


def _refund_inpatient(rng, ch: pd.DataFrame, n_days: np.ndarray) -> pd.DataFrame:
    """2 % of stays of 2+ days return drugs on the last day (退药): that day's drug row turns
    negative and the first day's row grows by the same amount, so the stay total is unchanged."""
    stays = np.nonzero((n_days >= 2) & (rng.random(len(n_days)) < 0.02))[0]
    drug = ch.category.to_numpy() == "drug"
    first_day = np.r_[True, ch.stay.to_numpy()[1:] != ch.stay.to_numpy()[:-1]]
    last_day = np.r_[ch.stay.to_numpy()[1:] != ch.stay.to_numpy()[:-1], True]
    sel = np.isin(ch.stay.to_numpy(), stays) & drug
    amt = ch.amount.to_numpy().copy()
    lasts, firsts = np.nonzero(sel & last_day)[0], np.nonzero(sel & first_day)[0]
    back = np.round(amt[lasts] + rng.uniform(50, 800, len(lasts)), 2)
    amt[lasts] -= back
    amt[firsts] += back
    ch = ch.copy()
    ch["amount"] = np.round(amt, 2)
    return ch


def outpatient_charges(rng, visits: pd.DataFrame, as_of_day: np.datetime64,
                       id_prefix: str) -> pd.DataFrame:
    """Charge rows of a chunk of visits: registration + a random subset of categories."""
    n = len(visits)
    er = visits.visit_type.to_numpy() == "emergency"
    total = lognormal_mean(rng, np.where(er, profile.EMERGENCY_MEAN_COST,
                                         profile.OUTPATIENT_MEAN_COST), 0.9)
    mix = profile.OUTPATIENT_CHARGE_MIX
    cats = [c for c in mix if c != "registration"]
    present = rng.random((n, len(cats))) < np.array([0.6 if c == "consultation" else
                                                     min(0.95, mix[c] * 2.2 + 0.15)
                                                     for c in cats])
    w = present * np.array([mix[c] for c in cats]) * rng.gamma(2.0, 0.5, (n, len(cats)))
    none = w.sum(axis=1) == 0
    w[none, cats.index("drug")] = 1.0
    reg = pd.Series(visits.registration_class.to_numpy()).map(REGISTRATION_FEE).to_numpy()
    parts = split_cents(rng, np.round(total, 2), np.full(n, len(cats)), w.reshape(-1))
    amount = np.c_[reg, parts.reshape(n, len(cats))]
    all_cats = np.array(["registration"] + cats)
    vi, ci = np.nonzero(amount != 0)
    day = visits.visit_ts.to_numpy().astype("datetime64[D]")
    out = pd.DataFrame({"visit": vi, "date": day[vi], "category": all_cats[ci],
                        "amount": amount[vi, ci]})
    # 1 % of visits get a refund of unused drugs or exams 1-3 days later (退费)
    ref = np.nonzero((rng.random(n) < 0.01))[0]
    if len(ref):
        refund = pd.DataFrame({"visit": ref, "date": day[ref] + rng.integers(1, 4, len(ref))
                               .astype("timedelta64[D]"),
                               "category": pick_dict(rng, {"drug": 0.7, "exam": 0.3}, len(ref)),
                               "amount": -np.round(rng.uniform(20, 300, len(ref)), 2)})
        out = pd.concat([out, refund[refund.date <= as_of_day]], ignore_index=True)
    vv = visits.iloc[out.visit.to_numpy()]
    self_pay = rng.random(n) < OUTPATIENT_SELF_PAY
    return pd.DataFrame({
        "charge_id": ids(id_prefix, np.arange(len(out)), 9).to_numpy(),
        "encounter_type": vv.visit_type.to_numpy(),
        "encounter_id": vv.visit_id.to_numpy(),
        "charge_date": out.date.to_numpy(),
        "campus_id": vv.campus_id.to_numpy(),
        "dept_id": vv.dept_id.to_numpy(),
        "category": out.category.to_numpy(),
        "amount": out.amount.to_numpy(),
        "payer": np.where(self_pay[out.visit.to_numpy()], "self_pay", "insurance"),
    })
