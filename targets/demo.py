"""The demo hospital's annual targets (年度指标下发), set the way a hospital's planning office
sets them, so a newcomer's `cockpit demo` shows a targets page, department targets and the
wallboard's attainment instead of empty panels.

The reference is the last 12 months before "now" (the demo data start about 14 months back,
so the calendar year before is incomplete; a hospital would use last year's 决算):

- Volumes and revenue (additive): the hospital's target is the reference × a growth factor
  (revenue keeps a 2 % 院级预留 reserve), cascaded to departments in proportion to last year
  (`targets.cascade`), then to each department's teams in proportion to their reference where
  the metric counts by team (revenue does not: 医疗收入 is attributed to departments).
- Ratios: a direct target per node (hospital and departments), the reference value improved
  by a factor in the metric's direction (ALOS 3 % shorter, grade-4 share 5 % higher); nodes
  without reference data get none.

Every record is written through `targets.store` (versioned, audited as author `demo`) and
phased by the node's own seasonal profile like any other target.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from metrics.targets_read import HOSPITAL, org_nodes

from .cascade import allocate
from .store import Target, write_version

#: metric → growth over last year's actual (hospital), reserve share kept at hospital level
ADDITIVE = {"medical_revenue": (1.08, 0.02), "discharges": (1.05, 0.0),
            "opd_ed_visits": (1.04, 0.0), "discharge_surgeries": (1.06, 0.0),
            "surgeries_all": (1.06, 0.0)}
#: ratio metric → factor on last year's value (lower-is-better metrics get a factor < 1)
RATIOS = {"alos": 0.97, "grade4_share": 1.05, "bed_occupancy_rate": 1.0}
AUTHOR = "demo"


def _reference(wh, model, metric_id: str, now: dt.datetime, by: list[str]) -> pd.DataFrame:
    """The metric over the 365 days before `now`'s day."""
    from metrics.service import query

    end = now.date() - dt.timedelta(days=1)
    return query([metric_id], by=by, start=end - dt.timedelta(days=364), end=end,
                 as_of=dt.datetime.combine(end, dt.time(23, 59, 59)), wh=wh, model=model)


def _round(v: float, digits: int = 3) -> float:
    """Round to `digits` significant figures, as a planning office states a target."""
    from math import floor, log10

    if not v:
        return 0.0
    q = digits - 1 - floor(log10(abs(v)))
    return float(round(v, q)) if q > 0 else float(round(v, q))


def seed(wh, now: dt.datetime, model=None) -> list[tuple[str, int]]:
    """Write the demo targets for `now`'s year; returns [(metric_id, version)] written.
    Metrics missing from the model or without reference data are skipped."""
    from metrics.registry import load_model

    model = model or load_model()
    year = now.year
    nodes = org_nodes(wh)
    written = []
    for mid, (growth, reserve_share) in ADDITIVE.items():
        if mid not in model.metrics:
            continue
        total = _reference(wh, model, mid, now, [])
        base = float(total[mid].iloc[0]) if len(total) else 0.0
        if not base or base != base:
            continue
        value = _round(base * growth)
        reserve = _round(value * reserve_share)
        hospital = Target(mid, HOSPITAL, year, value, reserve=reserve, method="manual",
                          note=f"近12个月实际 × {growth:g}")
        depts = _split(wh, model, mid, now, "department", {HOSPITAL: (value, reserve)}, nodes)
        teams = _split(wh, model, mid, now, "team",
                       {t.node_id: (t.value, 0.0) for t in depts}, nodes)
        written.append((mid, write_version(wh, mid, year, [hospital, *depts, *teams], "cascade",
                                           author=AUTHOR, note="demo: 全院 → 科室 → 诊疗组，"
                                           "按近12个月实际比例", model=model)))
        _phase(wh, model, mid, year)
    for mid, factor in RATIOS.items():
        if mid not in model.metrics:
            continue
        recs = []
        for level in ("hospital", "department"):
            by = [] if level == "hospital" else [level]
            frame = _reference(wh, model, mid, now, by)
            ids = [HOSPITAL] * len(frame) if level == "hospital" else frame[level]
            for node, v in zip(ids, frame[mid]):
                if node is not None and v == v and v:
                    recs.append(Target(mid, str(node), year, _round(float(v) * factor),
                                       node_level=level, method="manual",
                                       note=f"近12个月 × {factor:g}"))
        if recs:
            written.append((mid, write_version(wh, mid, year, recs, "set", author=AUTHOR,
                                               note="demo: 各级直接下达比率目标", model=model)))
            _phase(wh, model, mid, year)
    return written


def _split(wh, model, mid, now, level: str, parents: dict, nodes) -> list[Target]:
    """Each parent's (value, reserve) split over its children at `level` in proportion to
    their reference (exactly, `targets.cascade.allocate`); none where the metric is not
    attributed to that level (revenue by team) or a parent's children have no reference."""
    from warehouse.errors import QueryError

    try:
        last = _reference(wh, model, mid, now, [level])
    except QueryError:
        return []
    ref = {n: float(v) for n, v in zip(last[level], last[mid]) if n is not None and v == v}
    kids_of = nodes[nodes["level"] == level]
    parent_col = "department" if level == "team" else None
    out = []
    for parent, (value, reserve) in parents.items():
        kids = (kids_of["node_id"] if parent_col is None
                else kids_of.loc[kids_of[parent_col] == parent, "node_id"]).tolist()
        weights = {k: ref.get(k, 0.0) for k in kids}
        if not kids or not sum(weights.values()):
            continue
        for k, v in allocate(float(value), weights, reserve=reserve).items():
            out.append(Target(mid, k, now.year, v, node_level=level,
                              method="cascade:proportional"))
    return out


def _phase(wh, model, mid: str, year: int) -> None:
    from metrics.targets_read import records

    from .phasing import phase_records

    cur = records(wh, mid, [year])
    phase_records(wh, mid, year, list(zip(cur["component"], cur["node_id"])), model=model)
