"""The demo hospital's annual targets (年度指标下发), set the way a hospital's planning office
sets them, so a newcomer's `cockpit demo` shows a targets page, department targets and the
wallboard's attainment instead of empty panels.

The reference is the last 12 months before "now" (the demo data start about 14 months back,
so the calendar year before is incomplete; a hospital would use last year's 决算):

- Volumes and revenue (additive): the hospital's target is the reference × a growth factor
  (revenue keeps a 2 % 院级预留 reserve), split over the departments with activity in
  proportion to their reference, then over each department's teams in proportion to theirs
  where the metric counts by team (revenue does not: 医疗收入 is attributed to departments);
  a department keeps back, as its reserve, the share of its activity no team carries.
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

#: metric → (growth over the reference, share of the hospital target kept as 院级预留)
ADDITIVE = {"medical_revenue": (1.08, 0.02), "discharges": (1.05, 0.0),
            "opd_ed_visits": (1.04, 0.0), "discharge_surgeries": (1.06, 0.0),
            "surgeries_all": (1.06, 0.0)}
#: ratio metric → factor on the reference value (a lower-is-better metric gets one < 1)
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
    return float(round(v, q))


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
        records = [Target(mid, HOSPITAL, year, value, reserve=reserve, method="manual",
                          note=f"近12个月实际 × {growth:g}")]
        dept_ref, team_ref = _refs(wh, model, mid, now, "department"), \
            _refs(wh, model, mid, now, "team")
        teams = nodes[nodes["level"] == "team"]
        for dept, dv in _split(value, reserve, dept_ref).items():
            kids = {t: team_ref[t] for t in teams.loc[teams["department"] == dept, "node_id"]
                    if t in team_ref}
            # the department keeps back the share of its activity that no team carries
            # (e.g. visits registered to the department, not to a team)
            held = _round(dv * (1 - sum(kids.values()) / dept_ref[dept])) if kids else 0.0
            records.append(Target(mid, dept, year, dv, node_level="department", reserve=held,
                                  method="cascade:proportional"))
            records += [Target(mid, t, year, tv, node_level="team",
                               method="cascade:proportional")
                        for t, tv in _split(dv, held, kids).items()]
        written.append((mid, write_version(wh, mid, year, records, "cascade", author=AUTHOR,
                                           note="demo: 全院 → 科室 → 诊疗组，按近12个月实际比例",
                                           model=model)))
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


def _refs(wh, model, mid, now, level: str) -> dict[str, float]:
    """Each node's positive reference at `level`; {} when the metric is not attributed to
    that level (revenue by team)."""
    from warehouse.errors import QueryError

    try:
        frame = _reference(wh, model, mid, now, [level])
    except QueryError:
        return {}
    return {str(n): float(v) for n, v in zip(frame[level], frame[mid])
            if n is not None and v == v and v > 0}


def _split(value: float, reserve: float, weights: dict[str, float]) -> dict[str, float]:
    """`value` − `reserve` over `weights`' nodes in proportion, exactly (`allocate`)."""
    return allocate(float(value), weights, reserve=reserve) if weights else {}


def _phase(wh, model, mid: str, year: int) -> None:
    from metrics.targets_read import records

    from .phasing import phase_records

    cur = records(wh, mid, [year])
    phase_records(wh, mid, year, list(zip(cur["component"], cur["node_id"])), model=model)
