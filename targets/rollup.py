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

from metrics.targets_read import HOSPITAL, TargetTree, org_nodes, records, target_class

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


def ratio_check(wh, metric_id: str, year: int, model=None, parents=None) -> pd.DataFrame:
    """For a ratio metric, per node with a target and children holding targets: the implied
    ratio Σ numerators ÷ Σ denominators of the children, the node's own target, the gap, and a
    flag when the implied ratio misses the node's target in the metric's direction.

    The children are the nearest descendants with targets (a campus without targets is looked
    through to its departments). One with numerator and denominator targets contributes them;
    one with a direct ratio target contributes ratio × weight, the weight being its
    denominator target, else its actual denominator last year, or this year so far for a
    node without last year (`weighted` counts those; one with neither is left out and
    counted in `unweighted`). Children's ratios are never averaged. `parents` (node ids)
    limits the nodes checked."""
    from metrics.registry import load_model

    from .cascade import reference_weights

    model = model or load_model()
    metric = model.metrics[metric_id]
    columns = ["node_level", "node_id", "implied", "target", "gap", "children", "weighted",
               "unweighted", "flag"]
    if target_class(model, metric_id) != "ratio":
        return pd.DataFrame(columns=columns)
    nodes, recs, tree = _tree(wh, model, metric_id, year)
    actual: dict[str, tuple[dict, dict]] = {}

    def actual_denominator(level: str, node: str) -> float:
        """The node's actual denominator last year, else this year so far."""
        if level not in actual:
            # last year, then this year (so far): each the year before `year`, `year + 1`
            actual[level] = tuple(
                reference_weights(wh, model, metric_id, y, "hospital", HOSPITAL, level,
                                  component="denominator") for y in (year, year + 1))
        for known in actual[level]:
            if known.get(node):
                return float(known[node])
        return np.nan

    def parts(level: str, node: str) -> list[tuple[float, float, str]]:
        """(numerator, denominator, how) of the node's nearest descendants with targets."""
        out = []
        for k, c in tree.children.get((level, node), []):
            a, b = tree.annual("numerator", k, c), tree.annual("denominator", k, c)
            r = tree.annual("value", k, c)
            if not (np.isnan(a) or np.isnan(b)):
                out.append((a, b, "parts"))
            elif not np.isnan(r):
                how = "denominator target"
                if np.isnan(b):
                    b, how = actual_denominator(k, c), "actual"
                out.append((r * b, b, how) if not np.isnan(b) else (np.nan, np.nan, "none"))
            else:
                out.extend(parts(k, c))
        return out

    rows = []
    for lv, nid in sorted({(r.node_level, r.node_id) for r in recs.itertuples(index=False)}):
        if parents is not None and nid not in parents:
            continue
        got = parts(lv, nid)
        used = [(a, b) for a, b, how in got if how != "none"]
        if not used:
            continue
        num, den, n = sum(a for a, _ in used), sum(b for _, b in used), len(used)
        weighted = sum(how == "actual" for *_, how in got)
        unweighted = len(got) - n
        implied = num / den if den else np.nan
        rows.append(dict(node_level=lv, node_id=nid, implied=implied,
                         target=_own_ratio(tree, lv, nid), children=n, weighted=weighted,
                         unweighted=unweighted))
    out = pd.DataFrame(rows, columns=["node_level", "node_id", "implied", "target", "children",
                                      "weighted", "unweighted"])
    out["gap"] = out["implied"] - out["target"]
    out["flag"] = [_misses(metric, tree, r) for r in out.itertuples(index=False)]
    return out[columns]


def _own_ratio(tree: TargetTree, level: str, node: str) -> float:
    """A node's ratio target: its numerator ÷ denominator, else its direct ratio target."""
    pn, pd_ = tree.rec.get(("numerator", level, node)), tree.rec.get(("denominator", level, node))
    if pn is not None and pd_ is not None and pd_.value:
        return float(pn.value) / float(pd_.value)
    return tree.annual("value", level, node)


def _misses(metric, tree: TargetTree, r) -> bool:
    """Whether an implied ratio misses the node's target in the metric's direction."""
    if np.isnan(r.gap):
        return False
    if metric.scoring_direction == "up":
        return bool(r.gap < 0)
    if metric.scoring_direction == "down":
        return bool(r.gap > 0)
    own = tree.rec.get(("value", r.node_level, r.node_id))
    lo = own.lo if own is not None and not pd.isna(own.lo) else (metric.band or [r.target])[0]
    hi = own.hi if own is not None and not pd.isna(own.hi) else (metric.band or [r.target])[-1]
    return not (lo <= r.implied <= hi)

