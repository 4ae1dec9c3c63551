"""DRG groups: the dim_drg table and the case mix the stays are drawn from.

The sample groups' volumes are the catalogue's cases per 10k discharges (≈ 41 %); the long tail
is scaled to fill the remaining ≈ 59 % (§11). Benchmark cost = RW × 18,000 元, payment standard
= RW × base rate × hospital coefficient, the hospital's own mean LOS ≈ 0.85 × benchmark.

>>> g = groups()
>>> g.set_index("drg_code").loc["FM19", "benchmark_cost"]
np.float64(45900.0)
>>> 1.2 <= case_mix_index(g) <= 1.5
True
"""
from __future__ import annotations

import io

import numpy as np
import pandas as pd

from . import drg_table, profile

SAMPLE_SHARE = 0.41      # the 53 sample groups cover about 41 % of discharges (§11)
TIME_INDEX = 0.85        # the hospital is faster than the region (§11: 0.8-0.9)
SCHEME = "CHS-DRG 1.1"
OR_TAIL_BOOST = 2.0

_COLS = ["drg_code", "drg_name", "kind", "weight", "benchmark_los", "cases", "risk_level",
         "disciplines", "cost_type", "or_case", "short_share"]


def _parse(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), sep="|", names=_COLS, header=None)


def groups() -> pd.DataFrame:
    """All groups with the generator's working columns (share of discharges, hospital LOS...)."""
    sample, tail = _parse(drg_table.SAMPLE), _parse(drg_table.LONG_TAIL)
    sample["share"] = sample.cases / 10_000
    # operated groups weigh double in the tail so that ≈ 50 % of discharges are surgical (§14.1)
    w = tail.cases * np.where(tail.or_case == 1, OR_TAIL_BOOST, 1.0)
    tail["share"] = w / w.sum() * (1 - sample.share.sum())
    g = pd.concat([sample.assign(is_sample=True), tail.assign(is_sample=False)], ignore_index=True)
    g["mdc_code"] = g.drg_code.str[0]
    g["adrg_code"] = g.drg_code.str[:3]
    g["benchmark_cost"] = (g.weight * profile.BASE_RATE).round(-2)
    g["payment_standard"] = (g.weight * profile.BASE_RATE * profile.PAYMENT_COEFFICIENT).round(2)
    g["hospital_los"] = g.benchmark_los * TIME_INDEX
    g["hospital_cost"] = g.benchmark_cost * profile.COST_INDEX
    g["or_case"] = g.or_case.astype(bool)
    g["respiratory"] = g.adrg_code.isin(["ES3", "ET2", "EX1", "DT1", "SS1"])
    g["cardio_cerebral"] = g.adrg_code.isin(["BR2", "BR1", "FR2"])   # +10-20 % in the cold months
    g["principal_dx"] = g.adrg_code.map(drg_table.ICD10)
    return g


def dim_drg(g: pd.DataFrame) -> pd.DataFrame:
    """The contract's dim_drg rows."""
    out = g.copy()
    out["scheme"] = SCHEME
    return out


def case_mix_index(g: pd.DataFrame) -> float:
    """Expected CMI of the mix: Σ share × RW."""
    return float((g.share * g.weight).sum() / g.share.sum())


def allocation(g: pd.DataFrame) -> pd.DataFrame:
    """Long table (drg_code, discipline, share): which disciplines treat each group."""
    rows = []
    for code, spec in zip(g.drg_code, g.disciplines):
        for part in spec.split(";"):
            name, _, w = part.partition(":")
            rows.append((code, name, float(w) if w else 1.0))
    return pd.DataFrame(rows, columns=["drg_code", "discipline", "share"])


def dept_drg_mix(g: pd.DataFrame, dept: pd.DataFrame, branch_share: float) -> pd.DataFrame:
    """(drg_code, dept_id, share of all discharges): each group split over its disciplines and,
    where the branch campus has the discipline, `branch_share` of it to the branch."""
    alloc = allocation(g).merge(g[["drg_code", "share"]].rename(columns={"share": "g"}),
                                on="drg_code")
    wards = dept[dept.has_ward & dept.campus_type.isin(["main", "branch"])]
    m = alloc.merge(wards[["dept_id", "discipline", "campus_type"]], on="discipline")
    n_campus = m.groupby(["drg_code", "discipline"]).campus_type.transform("size")
    campus_w = np.where(n_campus == 1, 1.0,
                        np.where(m.campus_type == "main", 1 - branch_share, branch_share))
    m["share"] = m.share * m.g * campus_w
    return m[["drg_code", "dept_id", "share"]]


def expected_dept_load(g: pd.DataFrame, mix: pd.DataFrame) -> pd.DataFrame:
    """Per department: share of admissions and share of bed-days (for sizing beds and teams)."""
    m = mix.merge(g[["drg_code", "hospital_los"]], on="drg_code")
    m["bed_days"] = m.share * m.hospital_los
    out = m.groupby("dept_id")[["share", "bed_days"]].sum()
    return out


def mean_los(g: pd.DataFrame) -> float:
    """Expected ALOS of the mix before day-case shortening."""
    return float((g.share * g.hospital_los).sum() / g.share.sum())
