"""Roll up: the sum of the children, and a conflict report wherever bottom-up (Σ children +
reserve) and top-down (the parent's own record) disagree.

For ratio metrics, the implied parent ratio Σ child numerators ÷ Σ child denominators is set
against the parent's target (its own numerator ÷ denominator, or its direct ratio target), and a
gap in the wrong direction is flagged. Children's ratios are never averaged.

>>> # conflicts(rollup(wh, "medical_revenue", 2026))
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.targets_read import TargetTree, org_nodes, records, target_class

TOLERANCE = 0.5  # in the metric's unit: below half a unit is rounding


def _tree(wh, model, metric_id, year):
    nodes = org_nodes(wh)
    recs = records(wh, metric_id, [year])
    cls = target_class(model, metric_id)
    return nodes, recs, TargetTree(nodes, recs, pd.DataFrame(columns=[
        "component", "node_level", "node_id", "day", "weight"]), year, cls)


def rollup(wh, metric_id: str, year: int, model=None, tolerance: float = TOLERANCE,
           user=None) -> pd.DataFrame:
    """Per parent record with children below it: component, node_level, node_id, top_down,
    reserve, bottom_up (Σ of the nearest descendants with targets), children, diff
    (top_down − bottom_up − reserve), conflict."""
    from metrics.registry import load_model

    from .store import visible_nodes

    model = model or load_model()
    nodes, recs, tree = _tree(wh, model, metric_id, year)
    rows = []
    for r in recs.itertuples(index=False):
        if r.component not in tree.rolls_up:
            continue
        kids = tree.children.get((r.node_level, r.node_id), [])
        vals = [tree.annual(r.component, lv, n) for lv, n in kids]
        have = [v for v in vals if not np.isnan(v)]
        if not have:
            continue
        bottom = float(sum(have))
        reserve = float(r.reserve or 0.0)
        top = float(r.value) if not pd.isna(r.value) else np.nan
        diff = top - bottom - reserve
        rows.append(dict(component=r.component, node_level=r.node_level, node_id=r.node_id,
                         top_down=top, reserve=reserve, bottom_up=bottom,
                         children=len(have), diff=diff,
                         conflict=bool(np.isnan(diff) or abs(diff) > tolerance)))
    out = pd.DataFrame(rows, columns=["component", "node_level", "node_id", "top_down",
                                      "reserve", "bottom_up", "children", "diff", "conflict"])
    if user is not None and getattr(user, "scope", None) is not None:
        out = out[out["node_id"].isin(set(visible_nodes(nodes, user)["node_id"]))]
    return out.reset_index(drop=True)


def conflicts(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["conflict"]].reset_index(drop=True)


def ratio_check(wh, metric_id: str, year: int, model=None) -> pd.DataFrame:
    """For a ratio metric, per node with children holding numerator and denominator targets:
    the implied ratio Σnum ÷ Σden of the children, the node's own target, the gap and a flag
    when the implied ratio misses the node's target in the metric's direction."""
    from metrics.registry import load_model

    model = model or load_model()
    metric = model.metrics[metric_id]
    nodes, recs, tree = _tree(wh, model, metric_id, year)
    rows = []
    parents = {(r.node_level, r.node_id) for r in recs.itertuples(index=False)}
    for lv, nid in sorted(parents):
        kids = tree.children.get((lv, nid), [])
        num = [tree.annual("numerator", k, n) for k, n in kids]
        den = [tree.annual("denominator", k, n) for k, n in kids]
        pairs = [(a, b) for a, b in zip(num, den) if not (np.isnan(a) or np.isnan(b))]
        if not pairs:
            continue
        implied = sum(a for a, _ in pairs) / sum(b for _, b in pairs) if sum(
            b for _, b in pairs) else np.nan
        own = tree.rec.get(("value", lv, nid))
        pn, pd_ = tree.rec.get(("numerator", lv, nid)), tree.rec.get(("denominator", lv, nid))
        if pn is not None and pd_ is not None and pd_.value:
            target = float(pn.value) / float(pd_.value)
        elif own is not None and not pd.isna(own.value):
            target = float(own.value)
        else:
            target = np.nan
        gap = implied - target
        if metric.scoring_direction == "up":
            flag = gap < 0
        elif metric.scoring_direction == "down":
            flag = gap > 0
        else:
            lo = own.lo if own is not None and not pd.isna(own.lo) else (metric.band or [target])[0]
            hi = own.hi if own is not None and not pd.isna(own.hi) else (metric.band or [target])[-1]
            flag = not (lo <= implied <= hi)
        rows.append(dict(node_level=lv, node_id=nid, implied=implied, target=target, gap=gap,
                         children=len(pairs), flag=bool(flag) if not np.isnan(gap) else False))
    return pd.DataFrame(rows, columns=["node_level", "node_id", "implied", "target", "gap",
                                       "children", "flag"])
