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
from ..contract import TABLES
from .rand import ids, lognormal_mean, split_cents

STAY_CATEGORIES = ("drug", "material", "exam", "lab", "treatment", "surgery", "nursing", "bed",
                   "consultation", "other")
CATEGORIES = list(TABLES["fact_charge"].column("category").enum)
PAYERS = ["insurance", "self_pay"]
REGISTRATION_FEE = {"general": 10.0, "specialist": 20.0, "expert": 50.0, "special_needs": 200.0}
OUTPATIENT_SELF_PAY = 0.30
ALLIANCE_COST_FACTOR = 0.4
# how often a visit carries each category (registration always): ≈ 3.6 charge rows per visit
PRESENT = {"consultation": 0.3, "drug": 0.9, "exam": 0.45, "lab": 0.4, "treatment": 0.2,
           "material": 0.15, "surgery": 0.03, "other": 0.1}


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
    if cat in ("exam", "consultation", "other", "treatment"):
        w = w * (rng.random(len(day)) < 0.5)       # not billed every day
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
    for k, cat in enumerate(STAY_CATEGORIES):
        w = _day_weights(rng, cat, day, n_days[stay], op_day[stay])
        wsum = np.bincount(stay, weights=w, minlength=len(v))
        w = np.where(wsum[stay] > 0, w, 1.0)     # a category with no eligible day: spread it
        amt = split_cents(rng, v[f"cat_{cat}"].to_numpy(), n_days, w)
        code = CATEGORIES.index(cat)
        frames.append(pd.DataFrame({"stay": stay, "date": date, "cat": np.full(len(stay), code),
                                    "amount": amt}))
    ch = pd.concat(frames, ignore_index=True)
    ch = _refund_inpatient(rng, ch, n_days)
    ch = ch[(ch.amount != 0) & (ch.date <= as_of_day)]
    i = ch.stay.to_numpy()
    col = lambda name: v[name].to_numpy()[i]  # noqa: E731  (numpy take: cheap)
    after_transfer = (v.transfer_offset.to_numpy()[i] >= 0) & (
        (ch.date.to_numpy() - col("admit_day").astype("datetime64[D]")).astype(int)
        >= v.transfer_offset.to_numpy()[i])
    depts = pd.Index(campus_of.index)
    admit_dept = depts.get_indexer(v.admit_dept_id.to_numpy())[i]
    dis_dept = depts.get_indexer(v.discharge_dept_id.to_numpy())[i]
    campus = pd.Index(sorted(set(campus_of)))
    campus_codes = campus.get_indexer(campus_of.to_numpy())[admit_dept]
    n = len(ch)
    return pd.DataFrame({
        "charge_id": ids("CI", np.arange(n) + id_offset, 11),
        "encounter_type": pd.Categorical.from_codes(np.full(n, 2, np.int8),
                                                    ["outpatient", "emergency", "inpatient"]),
        "encounter_id": ids("A", v.stay_no.to_numpy()[i], 9),
        "charge_date": ch.date.to_numpy(),
        "campus_id": pd.Categorical.from_codes(campus_codes, campus),
        # the ordering department: the ward the patient was in (a transfer splits the stay)
        "dept_id": pd.Categorical.from_codes(np.where(after_transfer, dis_dept, admit_dept), depts),
        "category": pd.Categorical.from_codes(ch.cat.to_numpy(), CATEGORIES),
        "amount": ch.amount.to_numpy(),
        "payer": pd.Categorical.from_codes(col("self_pay").astype(np.int8), PAYERS),
    })


def _refund_inpatient(rng, ch: pd.DataFrame, n_days: np.ndarray) -> pd.DataFrame:
    """2 % of stays of 2+ days return drugs on the last day (退药): that day's drug row turns
    negative and the first day's row grows by the same amount, so the stay total is unchanged."""
    stays = np.nonzero((n_days >= 2) & (rng.random(len(n_days)) < 0.02))[0]
    drug = ch.cat.to_numpy() == CATEGORIES.index("drug")
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
                       id_prefix: str, visit_prefix: str, alliance=None) -> pd.DataFrame:
    """Charge rows of a chunk of visits: registration + a random subset of categories.
    `visits` must be in visit-id order with ids `<visit_prefix><row number>`."""
    n = len(visits)
    er = visits.visit_type.to_numpy() == "emergency"
    mean = np.where(er, profile.EMERGENCY_MEAN_COST, profile.OUTPATIENT_MEAN_COST)
    if alliance is not None:        # member institutions charge community-level prices
        mean = np.where(pd.Series(visits.campus_id.to_numpy()).isin(alliance).to_numpy(),
                        mean * ALLIANCE_COST_FACTOR, mean)
    total = lognormal_mean(rng, mean, 0.9)
    mix = profile.OUTPATIENT_CHARGE_MIX
    cats = [c for c in mix if c != "registration"]
    present = rng.random((n, len(cats))) < np.array([PRESENT.get(c, 0.5) for c in cats])
    w = present * np.array([mix[c] for c in cats]) * rng.gamma(2.0, 0.5, (n, len(cats)))
    none = w.sum(axis=1) == 0
    w[none, cats.index("drug")] = 1.0
    reg = pd.Series(visits.registration_class.to_numpy()).map(REGISTRATION_FEE).to_numpy()
    parts = split_cents(rng, np.round(total, 2), np.full(n, len(cats)), w.reshape(-1))
    amount = np.c_[reg, parts.reshape(n, len(cats))]
    all_codes = pd.Index(CATEGORIES).get_indexer(["registration"] + cats)
    vi, ci = np.nonzero(amount != 0)
    day = visits.visit_ts.to_numpy().astype("datetime64[D]")
    out = pd.DataFrame({"visit": vi, "date": day[vi], "cat": all_codes[ci],
                        "amount": amount[vi, ci]})
    # 1 % of visits get a refund of unused drugs or exams 1-3 days later (退费)
    ref = np.nonzero((rng.random(n) < 0.01))[0]
    if len(ref):
        refund = pd.DataFrame({"visit": ref, "date": day[ref] + rng.integers(1, 4, len(ref))
                               .astype("timedelta64[D]"),
                               "cat": np.where(rng.random(len(ref)) < 0.7, CATEGORIES.index("drug"),
                                               CATEGORIES.index("exam")),
                               "amount": -np.round(rng.uniform(20, 300, len(ref)), 2)})
        out = pd.concat([out, refund[refund.date <= as_of_day]], ignore_index=True)
    i = out.visit.to_numpy()
    col = lambda name: pd.Categorical(visits[name]).take(i)  # noqa: E731  (codes: cheap)
    self_pay = rng.random(n) < OUTPATIENT_SELF_PAY
    return pd.DataFrame({
        "charge_id": ids(id_prefix, np.arange(len(out)), 9),
        "encounter_type": col("visit_type"),
        # visit ids are the visit's row number in its chunk (see outpatient.generate)
        "encounter_id": ids(visit_prefix, i, 7),
        "charge_date": out.date.to_numpy(),
        "campus_id": col("campus_id"),
        "dept_id": col("dept_id"),
        "category": pd.Categorical.from_codes(out.cat.to_numpy(), CATEGORIES),
        "amount": out.amount.to_numpy(),
        "payer": pd.Categorical.from_codes(self_pay[i].astype(np.int8), PAYERS),
    })
