"""Progress against the targets: what a department head tracks (catalogue §16.1 "Attainment").

Per node, as of a moment:

- `target`: the annual target; `target_to_date`: the phased target from 1 January to as-of;
- `actual`: the metric from 1 January to as-of (`metrics.query`, as everything else);
- `time_progress`: the share of the year elapsed; `phased_progress`: target_to_date ÷ target
  (ahead of time progress in busy months, behind it around 春节);
- `completion`: actual against target_to_date by direction (`metrics.targets_read.score`: ↑
  actual ÷ target, ↓ target ÷ actual, ◇ 1 inside the band and falling with the distance
  outside), and `completion_display` capped to 0 … 120 %;
- `gap` = actual − target_to_date and `gap_pct` = gap ÷ target_to_date;
- `landing`: a year-end landing by seasonal run-rate, actual ÷ phased_progress (linear
  run-rate in `landing_linear`); ratios and stocks land at their current value. The
  forecasting module will replace it.
- `on_track`: completion ≥ 1 − tolerance (inside the band for ◇).

`off_track(frame)` lists the nodes not on track, the furthest behind first.

>>> # progress(wh, "medical_revenue", 2026, dt.datetime(2026, 11, 25, 10), "department")
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from metrics.targets_read import (display, org_nodes, pick, scores, target_class,
                                  target_table)

from .store import check_view, visible_nodes

TOLERANCE = 0.05


def progress(wh, metric_id: str, year: int, as_of: dt.datetime, level: str = "department",
             parent: str | None = None, user=None, model=None,
             tolerance: float = TOLERANCE) -> pd.DataFrame:
    """One row per node at `level` (under `parent` when given; `parent` may be a node of
    `level` itself: its own row) that the user may see."""
    from metrics.registry import load_model
    from metrics.service import make_spec, query
    from warehouse.errors import QueryError

    model = model or load_model()
    nodes = org_nodes(wh)
    if parent is not None and user is not None and getattr(user, "scope", None) is not None:
        check_view(wh, user, [parent], nodes)
    scope = getattr(user, "scope", None) if user is not None else None
    start = dt.date(year, 1, 1)
    end = min(dt.date(year, 12, 31), max(as_of.date(), start))
    by = [] if level == "hospital" else [level]
    where = {}
    if parent is not None:
        plevel = str(nodes.loc[nodes["node_id"] == parent, "level"].iloc[0])
        if plevel != "hospital":
            where = {plevel: [parent]}
    spec = make_spec([metric_id], by, None, start, end, where, as_of, scope)
    try:
        actual = query([metric_id], by, None, start, end, where, as_of, scope, wh=wh,
                       model=model)
    except QueryError:  # the metric's fact lacks this level (revenue by team): no actual
        actual = pd.DataFrame(columns=by + [metric_id])
    actual = actual.rename(columns={metric_id: "_value"}).assign(_bucket=0)
    table = target_table(wh, model, spec, metric_id, lambda: actual.copy())
    out = None
    for tr in ("target", "target_to_date", "attainment"):
        f = pick(table, model, metric_id, tr, ["_bucket", *by])
        f = f.rename(columns={"_value": tr}).drop(columns="_bucket")
        if out is None:
            out = f
        elif by:
            out = out.merge(f, on=by, how="outer")
        else:
            out[tr] = f[tr].to_numpy()
    if not by:
        out["node_id"] = "hospital"
        out["actual"] = float(actual["_value"].iloc[0]) if len(actual) else np.nan
    else:
        out = out.rename(columns={level: "node_id"}).merge(
            actual.rename(columns={level: "node_id", "_value": "actual"})[["node_id", "actual"]],
            on="node_id", how="left")
    return _derive(out, model, metric_id, year, as_of, level, nodes, user, tolerance)


def _derive(out, model, metric_id, year, as_of, level, nodes, user, tolerance):
    metric = model.metrics[metric_id]
    cls = target_class(model, metric_id)
    first = dt.datetime(year, 1, 1)
    span = (dt.datetime(year + 1, 1, 1) - first).total_seconds()
    elapsed = float(np.clip((as_of - first).total_seconds() / span, 0.0, 1.0))
    out["level"] = level
    if cls == "sum":
        out["actual"] = out["actual"].astype("float64").fillna(0.0)
    out = out.rename(columns={"attainment": "completion"})
    t, td, a = (out[c].astype("float64") for c in ("target", "target_to_date", "actual"))
    out["time_progress"] = elapsed
    additive = cls == "sum"
    out["phased_progress"] = (td / t.where(t != 0)) if additive else np.nan
    out["completion_display"] = display(out["completion"].astype("float64"))
    out["gap"] = a - td
    out["gap_pct"] = out["gap"] / td.where(td != 0).abs()
    if additive:
        pp = out["phased_progress"].astype("float64")
        out["landing"] = a / pp.where(pp > 0)
        out["landing_linear"] = a / elapsed if elapsed > 0 else np.nan
    else:
        out["landing"] = a
        out["landing_linear"] = a
    direction = metric.scoring_direction
    out["landing_completion"] = scores(out["landing"], t, direction) \
        if direction != "band" else out["completion"]
    comp = out["completion"].astype("float64")
    bar = 1.0 if direction == "band" else 1 - tolerance
    out["on_track"] = pd.array([None if pd.isna(c) else bool(c >= bar) for c in comp],
                               dtype="boolean")
    out["behind"] = 1.0 - comp
    if user is not None and getattr(user, "scope", None) is not None:
        out = out[out["node_id"].isin(set(visible_nodes(nodes, user)["node_id"]))]
    cols = ["level", "node_id", "target", "target_to_date", "actual", "time_progress",
            "phased_progress", "completion", "completion_display", "gap", "gap_pct",
            "landing", "landing_linear", "landing_completion", "on_track", "behind"]
    return out[cols].sort_values("node_id").reset_index(drop=True)


def off_track(frame: pd.DataFrame) -> pd.DataFrame:
    """Nodes with a target that are not on track, the furthest behind first (by completion
    shortfall, then by the relative gap)."""
    f = frame[frame["target"].notna() & frame["on_track"].eq(False).fillna(False)]
    return f.sort_values(["behind", "gap_pct"], ascending=[False, True]).reset_index(drop=True)
