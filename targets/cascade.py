"""Cascade a parent's target down to its children (年度指标下发), in the vocabulary of planning
tools such as TM1 (catalogue §16.1).

    parent = Σ children + reserve (院级预留), exactly.

1. Held children (locked in the current version, or named in `holds`) keep their values.
2. What is left, parent − reserve − Σ held, is spread over the free children in proportion to
   their weights: a reference (last year's actuals, or a weighted history of N years, times a
   per-child growth factor), capacity (open beds, clinic sessions), equal shares, or manual
   values. When every free child's weight is zero (or missing) the split is equal.
3. Shares are rounded to `decimals`; the rounding remainder goes to one designated child
   (`remainder_to`, default the free child with the largest weight), so children plus reserve
   equal the parent exactly.

`allocate` is the pure arithmetic; `cascade` reads the parent, the children, the weights and
the holds from the warehouse and writes the result as a new version.

>>> allocate(100, {"a": 1, "b": 1, "c": 1})
{'a': 34.0, 'b': 33.0, 'c': 33.0}
>>> allocate(100, {"a": 2, "b": 1, "c": 1}, holds={"c": 40}, reserve=10)
{'a': 33.0, 'b': 17.0, 'c': 40.0}
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

import pandas as pd

from metrics.targets_read import HOSPITAL, LEVELS, org_nodes, records, target_class

from .store import Target, TargetError, current_version, write_version

METHODS = ("proportional", "equal", "capacity", "manual")
CAPACITIES = {"beds": "avg_open_beds", "sessions": "sessions_held"}


def allocate(parent: float, weights: dict[str, float], holds: dict[str, float] | None = None,
             reserve: float = 0.0, remainder_to: str | None = None,
             decimals: int = 0) -> dict[str, float]:
    """Split `parent` over the children of `weights` (module doc). Children in `holds` keep
    their held values; the result's values plus `reserve` sum to `parent` exactly (in
    `decimals` places)."""
    holds = dict(holds or {})
    unknown = sorted(set(holds) - set(weights))
    if unknown:
        raise TargetError(f"held node(s) {', '.join(unknown)} are not children of the parent")
    q = Decimal(1).scaleb(-decimals)
    total = _dec(parent, q) - _dec(reserve, q) - sum((_dec(v, q) for v in holds.values()),
                                                     Decimal(0))
    free = [c for c in weights if c not in holds]
    if total < 0:
        raise TargetError(f"parent {parent} − reserve {reserve} − held {sum(holds.values())} "
                          f"= {total} < 0: release a hold or lower the reserve")
    if not free:
        if total != 0:
            raise TargetError(f"every child is held but {total} is left to allocate: release a "
                              "hold or change the reserve")
        return {c: float(_dec(holds[c], q)) for c in weights}
    w = {c: max(float(weights[c] or 0.0), 0.0) if weights[c] == weights[c] else 0.0
         for c in free}
    if sum(w.values()) <= 0:  # a zero reference falls back to an equal split
        w = {c: 1.0 for c in free}
    wsum = sum(w.values())
    shares = {c: (total * Decimal(repr(w[c])) / Decimal(repr(wsum))).quantize(
        q, rounding=ROUND_HALF_EVEN) for c in free}
    target = remainder_to or max(free, key=lambda c: (w[c], -free.index(c)))
    if target not in free:
        raise TargetError(f"the rounding remainder must go to a free child; {target!r} is "
                          f"{'held' if target in holds else 'not a child'}")
    shares[target] += total - sum(shares.values())
    out = {}
    for c in weights:
        out[c] = float(_dec(holds[c], q)) if c in holds else float(shares[c])
    return out


def _dec(v, q) -> Decimal:
    return Decimal(repr(float(v or 0.0))).quantize(q, rounding=ROUND_HALF_EVEN)


@dataclass
class CascadeResult:
    version: int
    allocation: pd.DataFrame  # node_id, weight, held, value
    params: dict = field(default_factory=dict)


def children_of(nodes: pd.DataFrame, parent: str, level: str) -> tuple[str, list[str]]:
    """(parent level, child ids at `level` under `parent`), e.g. hospital → departments."""
    hit = nodes[nodes["node_id"] == parent]
    if hit.empty:
        raise TargetError(f"unknown parent node {parent!r}")
    plevel = str(hit["level"].iloc[0])
    if level not in LEVELS or LEVELS.index(level) <= LEVELS.index(plevel):
        raise TargetError(f"cannot cascade from {plevel} {parent} to {level!r}: choose a level "
                          f"below it ({', '.join(LEVELS[LEVELS.index(plevel) + 1:])})")
    kids = nodes[nodes["level"] == level]
    if plevel != "hospital":
        kids = kids[kids[plevel] == parent]
    if kids.empty:
        raise TargetError(f"{plevel} {parent} has no {level} children")
    return plevel, list(kids["node_id"])


def reference_weights(wh, model, metric_id: str, year: int, plevel: str, parent: str,
                      level: str, component: str = "value", years: int = 1,
                      history_weights=None, reference_metric: str | None = None) -> dict:
    """Each child's reference: Σ_k w_k × actual(year − k) for k = 1 … `years` (weights default
    equal; `history_weights` = most recent first). Ratio components use the ratio's parts."""
    from metrics.service import make_spec, query

    mid = reference_metric or metric_id
    hw = list(history_weights or [1.0] * years)
    where = {} if plevel == "hospital" else {plevel: [parent]}
    out: dict[str, float] = {}
    for k, wk in enumerate(hw, start=1):
        y = year - k
        start, end = dt.date(y, 1, 1), dt.date(y, 12, 31)
        as_of = dt.datetime(y, 12, 31, 23, 59, 59)
        if component != "value" and reference_metric is None:
            from metrics.targets_read import ratio_parts

            frame = ratio_parts(wh, model, make_spec([mid], [level], None, start, end, where,
                                                     as_of), mid)
            col = component
        else:
            frame = query([mid], by=[level], start=start, end=end, where=where, as_of=as_of,
                          wh=wh, model=model)
            col = mid
        for node, v in zip(frame[level], frame[col]):
            if node is not None and v == v:
                out[node] = out.get(node, 0.0) + wk * float(v)
    return out


def capacity_weights(wh, model, kind: str, year: int, plevel: str, parent: str,
                     level: str) -> dict:
    """Open beds (average over last year) or clinic sessions held last year, per child."""
    from metrics.service import query

    if kind not in CAPACITIES:
        raise TargetError(f"capacity {kind!r}: use {' or '.join(CAPACITIES)}")
    where = {} if plevel == "hospital" else {plevel: [parent]}
    y = year - 1
    frame = query([CAPACITIES[kind]], by=[level], start=dt.date(y, 1, 1),
                  end=dt.date(y, 12, 31), where=where, as_of=dt.datetime(y, 12, 31, 23, 59),
                  wh=wh, model=model)
    return {n: float(v) for n, v in zip(frame[level], frame[CAPACITIES[kind]]) if v == v}


def cascade(wh, metric_id: str, year: int, parent: str = HOSPITAL, level: str = "department",
            method: str = "proportional", component: str = "value", years: int = 1,
            history_weights=None, growth: dict | None = None, capacity: str = "beds",
            reference_metric: str | None = None, manual: dict | None = None,
            holds: dict | None = None, reserve: float | None = None,
            remainder_to: str | None = None, decimals: int = 0, user=None,
            author: str | None = None, note: str = "", model=None,
            phase: bool = True) -> CascadeResult:
    """Cascade the parent's current target to its children at `level` as a new version.

    `reserve` defaults to the reserve stored on the parent's record. Children locked in the
    current version are held at their values; `holds` adds or overrides holds.

    >>> # cascade(wh, "medical_revenue", 2026, "hospital", "department", "proportional",
    >>> #         holds={"D0101": 5e7}, reserve=2e7, remainder_to="D0102")
    """
    from metrics.registry import load_model

    from .store import check_edit

    check_edit(wh, user, metric_id, year)
    model = model or load_model()
    if method not in METHODS:
        raise TargetError(f"method {method!r}: use one of {', '.join(METHODS)}")
    cls = target_class(model, metric_id)
    if cls == "ratio" and component == "value":
        raise TargetError(f"{metric_id} is a ratio: cascade its numerator and denominator "
                          "(both additive), or set each node's ratio target directly")
    if cls == "level":
        raise TargetError(f"{metric_id} is not additive: set each node's target directly")
    nodes = org_nodes(wh)
    plevel, kids = children_of(nodes, parent, level)
    cur = records(wh, metric_id, [year])
    mine = cur[cur["component"] == component]
    prow = mine[mine["node_id"] == parent]
    if prow.empty or pd.isna(prow["value"].iloc[0]):
        raise TargetError(f"{metric_id} {year}: {parent} has no {component} target to cascade "
                          "(set it first)")
    pvalue = float(prow["value"].iloc[0])
    reserve = float(prow["reserve"].iloc[0] or 0.0) if reserve is None else float(reserve)
    held = {r.node_id: float(r.value) for r in mine.itertuples(index=False)
            if r.node_id in kids and bool(r.locked) and not pd.isna(r.value)}
    held.update({k: float(v) for k, v in (holds or {}).items()})
    if method == "manual":
        manual = {k: float(v) for k, v in (manual or {}).items()}
        missing = sorted(set(kids) - set(manual) - set(held))
        if missing:
            raise TargetError(f"manual cascade: no value for {', '.join(missing[:5])}"
                              f"{' …' if len(missing) > 5 else ''}")
        weights = {k: manual.get(k, held.get(k, 0.0)) for k in kids}
        values = _manual_values(pvalue, reserve, {k: manual.get(k, held.get(k)) for k in kids},
                                set(held) - set(manual), remainder_to, decimals)
    else:
        if method == "equal":
            ref = {k: 1.0 for k in kids}
        elif method == "capacity":
            ref = capacity_weights(wh, model, capacity, year, plevel, parent, level)
        else:
            ref = reference_weights(wh, model, metric_id, year, plevel, parent, level,
                                    component, years, history_weights, reference_metric)
        weights = {k: ref.get(k, 0.0) * float((growth or {}).get(k, 1.0)) for k in kids}
        values = allocate(pvalue, weights, held, reserve, remainder_to, decimals)
    free = [k for k in kids if k not in held]
    # allocate() splits equally when every free child's reference is zero: say so
    equal_fallback = method not in ("equal", "manual") and bool(free) and not any(
        (weights[k] or 0) > 0 for k in free if weights[k] == weights[k])
    params = dict(parent=parent, level=level, method=method, component=component, years=years,
                  history_weights=history_weights, growth=growth, capacity=capacity,
                  reference_metric=reference_metric, holds=held, reserve=reserve,
                  remainder_to=remainder_to, decimals=decimals,
                  based_on_version=current_version(wh, metric_id, year),
                  equal_fallback=equal_fallback)
    old = {r.node_id: r for r in mine.itertuples(index=False)}
    changes = [Target(metric_id, k, int(year), values[k], component=component, node_level=level,
                      seasonal=bool(prow["seasonal"].iloc[0]), locked=k in held,
                      method="held" if k in held else f"cascade:{method}",
                      note=(old[k].note or "") if k in old else "",
                      reserve=float(old[k].reserve or 0.0) if k in old else 0.0)
               for k in kids]
    if reserve != float(prow["reserve"].iloc[0] or 0.0):
        p = prow.iloc[0]
        changes.append(Target(metric_id, parent, int(year), pvalue, _o(p.lo), _o(p.hi),
                              component, plevel, reserve, bool(p.seasonal), bool(p.locked),
                              p.method, p.note or ""))
    version = write_version(wh, metric_id, year, changes, "cascade", user, author, note,
                            params, model=model)
    if phase:
        from .phasing import phase_records

        phase_records(wh, metric_id, year, [(component, k) for k in kids], model=model)
    alloc = pd.DataFrame({"node_id": kids, "weight": [weights[k] for k in kids],
                          "held": [k in held for k in kids],
                          "value": [values[k] for k in kids]})
    return CascadeResult(version, alloc, params)


def _manual_values(parent: float, reserve: float, given: dict, held: set,
                   remainder_to: str | None, decimals: int) -> dict:
    """Manual values rounded to `decimals` places, the rounding remainder given to
    `remainder_to` (default: the largest child not held) so that children + reserve equal
    the parent exactly; values that miss the parent by more than rounding are refused."""
    q = Decimal(1).scaleb(-decimals)
    vals = {k: _dec(v, q) for k, v in given.items()}
    gap = _dec(parent, q) - _dec(reserve, q) - sum(vals.values(), Decimal(0))
    if abs(gap) > q / 2 * len(vals):
        total = float(sum(Decimal(repr(float(v))) for v in given.values()))
        raise TargetError(f"manual cascade: children {total:g} + reserve {reserve:g} ≠ "
                          f"parent {parent:g}")
    if gap:
        free = [k for k in vals if k not in held]
        target = remainder_to or (max(free, key=lambda k: (vals[k], -free.index(k)))
                                  if free else None)
        if target not in free:
            raise TargetError(f"the rounding remainder {gap} must go to a child that is not "
                              f"held; {target!r} is {'held' if target in held else 'not a child'}")
        vals[target] += gap
    return {k: float(v) for k, v in vals.items()}


def _o(v):
    return None if v is None or pd.isna(v) else float(v)
