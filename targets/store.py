"""Target records in the warehouse: versioned (a new version never overwrites an old one, the
history stays queryable), audited, and scoped by user.

A *version* is the complete set of one metric's targets for one year. Every change (set,
cascade, import, lock) writes a new version: the current set copied forward with the change
applied, under the next version number, with who, when, what and why in `_target_versions`.
The semantic layer (`metrics/targets_read.py`) reads the highest version.

Tables (DuckDB; created on the first write):

    _targets          metric_id, component, node_level, node_id, parent_id, year, value, lo, hi,
                      reserve, seasonal, method, version, locked, author, created_at, note
    _target_versions  metric_id, year, version, action, author, created_at, note, params (JSON)
    _target_phasing   metric_id, component, node_level, node_id, year, day, weight, source,
                      version (the target version the node was phased at; a later version
                      that re-phases a node adds rows, so every version's phasing is kept)
    _target_audit     ts, username, action, detail, allowed

Users are duck-typed (`username`, `role`, `scope`, `can_edit_targets`, as `cockpit.auth.User`);
`user=None` is the operator at the command line or a server job (trusted). Leaders and
engineers edit; a department head reads the records of their own departments and their teams,
and nothing else; every refusal is audited.

>>> # v = set_target(wh, "medical_revenue", 2026, "hospital", value=1.2e9, reserve=2e7)
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field

import pandas as pd

from metrics.targets_read import (COMPONENTS, GENERATION, HOSPITAL, LEVELS, PHASING,
                                  RECORD_COLUMNS, TARGETS, VERSIONS, current_versions,
                                  org_nodes, records)
from warehouse.errors import AccessDenied, CockpitError

AUDIT = "_target_audit"
_DDL = (
    f"CREATE TABLE IF NOT EXISTS {TARGETS} (metric_id VARCHAR, component VARCHAR, "
    "node_level VARCHAR, node_id VARCHAR, parent_id VARCHAR, year INTEGER, value DOUBLE, "
    "lo DOUBLE, hi DOUBLE, reserve DOUBLE, seasonal BOOLEAN, method VARCHAR, version INTEGER, "
    "locked BOOLEAN, author VARCHAR, created_at TIMESTAMP, note VARCHAR)",
    f"CREATE TABLE IF NOT EXISTS {VERSIONS} (metric_id VARCHAR, year INTEGER, version INTEGER, "
    "action VARCHAR, author VARCHAR, created_at TIMESTAMP, note VARCHAR, params VARCHAR)",
    f"CREATE TABLE IF NOT EXISTS {PHASING} (metric_id VARCHAR, component VARCHAR, "
    "node_level VARCHAR, node_id VARCHAR, year INTEGER, day DATE, weight DOUBLE, source VARCHAR, "
    "version INTEGER)",
    # (warehouses made before phasing was versioned: their rows read as version 0)
    f"ALTER TABLE {PHASING} ADD COLUMN IF NOT EXISTS version INTEGER",
    f"CREATE TABLE IF NOT EXISTS {AUDIT} (ts TIMESTAMP, username VARCHAR, action VARCHAR, "
    "detail VARCHAR, allowed BOOLEAN)",
    f"CREATE TABLE IF NOT EXISTS {GENERATION} (n BIGINT)",
)


def _bump(tx) -> None:
    """Count a write of targets or phasing (readers key their memos on it), inside the
    writing transaction."""
    tx.execute(f"DELETE FROM {GENERATION} WHERE n < (SELECT max(n) FROM {GENERATION})")
    tx.execute(f"INSERT INTO {GENERATION} SELECT coalesce(max(n), 0) + 1 FROM {GENERATION}")


class TargetError(CockpitError):
    """A target cannot be written as asked (unknown node, component, unbalanced cascade …)."""


@dataclass(frozen=True)
class Target:
    """One target record as written. `node_level` is inferred from the node id when omitted."""

    metric_id: str
    node_id: str
    year: int
    value: float | None = None
    lo: float | None = None
    hi: float | None = None
    component: str = "value"
    node_level: str | None = None
    reserve: float = 0.0
    seasonal: bool = False
    locked: bool = False
    method: str = "manual"
    note: str = ""
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.component, self.node_level or "", self.node_id)


def ensure_tables(wh) -> None:
    for ddl in _DDL:
        wh.execute(ddl)


def now() -> dt.datetime:
    from warehouse.settings import hospital_now

    return hospital_now().replace(tzinfo=None, microsecond=0)


# -- access -----------------------------------------------------------------------------------

def audit(wh, action: str, detail: str, user=None, allowed: bool = True) -> None:
    ensure_tables(wh)
    wh.execute(f"INSERT INTO {AUDIT} VALUES (?, ?, ?, ?, ?)",
               [now(), getattr(user, "username", None) or "cli", action, detail[:2000], allowed])


def check_edit(wh, user, metric_id: str, year: int) -> None:
    """Leaders and engineers (and the operator, user=None) edit targets; others are refused
    (and the refusal audited)."""
    if user is None or getattr(user, "can_edit_targets", False):
        return
    audit(wh, "target_edit_denied", f"{metric_id} {year}", user, allowed=False)
    raise AccessDenied(f"user {user.username!r} ({user.role}) may not edit targets: only leaders "
                       "and engineers do")


def visible_nodes(nodes: pd.DataFrame, user) -> pd.DataFrame:
    """The organisation nodes a user may see: all, or a department head's departments and
    their teams."""
    scope = getattr(user, "scope", None) if user is not None else None
    if scope is None:
        return nodes
    return nodes[nodes["department"].isin(sorted(scope))]


def check_view(wh, user, node_ids, nodes: pd.DataFrame | None = None) -> None:
    """Refuse (and audit) a request for any node outside the user's scope."""
    nodes = org_nodes(wh) if nodes is None else nodes
    allowed = set(visible_nodes(nodes, user)["node_id"])
    outside = sorted(set(node_ids) - allowed)
    if outside:
        audit(wh, "target_view_denied", ",".join(outside), user, allowed=False)
        raise AccessDenied(f"user {user.username!r} may not see targets of "
                           f"{', '.join(outside)}: outside their departments")


# -- reading ----------------------------------------------------------------------------------

def current(wh, metric_id: str, year: int, user=None, version: int | None = None,
            nodes: pd.DataFrame | None = None) -> pd.DataFrame:
    """The records of a metric-year (the current version, or `version`), limited to what the
    user may see."""
    frame = records(wh, metric_id, [year], version)
    if user is not None and getattr(user, "scope", None) is not None:
        nodes = org_nodes(wh) if nodes is None else nodes
        frame = frame[frame["node_id"].isin(set(visible_nodes(nodes, user)["node_id"]))]
    return frame.sort_values(["component", "node_level", "node_id"],
                             key=lambda s: s.map(_level_rank) if s.name == "node_level" else s
                             ).reset_index(drop=True)


def _level_rank(level):
    return LEVELS.index(level) if level in LEVELS else len(LEVELS)


def current_version(wh, metric_id: str, year: int) -> int:
    cur = current_versions(wh, metric_id)
    hit = cur[cur["year"] == year]
    return int(hit["version"].iloc[0]) if len(hit) else 0


def history(wh, metric_id: str | None = None, year: int | None = None) -> pd.DataFrame:
    """Every version: metric_id, year, version, action, author, created_at, note, params."""
    if not wh.table_exists(VERSIONS):
        return pd.DataFrame(columns=["metric_id", "year", "version", "action", "author",
                                     "created_at", "note", "params"])
    frame = wh.query_df(f"SELECT * FROM {VERSIONS} ORDER BY metric_id, year, version")
    if metric_id is not None:
        frame = frame[frame["metric_id"] == metric_id]
    if year is not None:
        frame = frame[frame["year"] == year]
    return frame.reset_index(drop=True)


def compare_versions(wh, metric_id: str, year: int, a: int, b: int, user=None) -> pd.DataFrame:
    """Record by record: component, node_level, node_id, value_a, value_b, diff, change
    (added / removed / changed / same)."""
    key = ["component", "node_level", "node_id"]
    va = current(wh, metric_id, year, user, version=a)
    vb = current(wh, metric_id, year, user, version=b)
    m = va[key + ["value", "lo", "hi", "locked"]].merge(
        vb[key + ["value", "lo", "hi", "locked"]], on=key, how="outer", suffixes=("_a", "_b"))
    m["diff"] = m["value_b"].astype("float64") - m["value_a"].astype("float64")

    def change(r):
        if pd.isna(r.value_a) and pd.isna(r.lo_a) and pd.isna(r.locked_a):
            return "added"
        if pd.isna(r.value_b) and pd.isna(r.lo_b) and pd.isna(r.locked_b):
            return "removed"
        same = all(_eq(getattr(r, f + "_a"), getattr(r, f + "_b"))
                   for f in ("value", "lo", "hi", "locked"))
        return "same" if same else "changed"

    m["change"] = [change(r) for r in m.itertuples(index=False)]
    return m[key + ["value_a", "value_b", "diff", "change"]]


def _eq(x, y) -> bool:
    if pd.isna(x) and pd.isna(y):
        return True
    return x == y


# -- writing ----------------------------------------------------------------------------------

def resolve(target: Target, nodes: pd.DataFrame, model) -> Target:
    """Check a record against the model and the organisation; fill its level."""
    from metrics.targets_read import target_class

    if target.metric_id not in model.metrics:
        raise TargetError(f"unknown metric {target.metric_id!r} (`cockpit catalog` lists them)")
    if target.component not in COMPONENTS:
        raise TargetError(f"{target.metric_id}: component {target.component!r} is not one of "
                          f"{', '.join(COMPONENTS)}")
    cls = target_class(model, target.metric_id)
    if target.component != "value" and cls != "ratio":
        raise TargetError(f"{target.metric_id} is not a ratio metric: it has no "
                          f"{target.component} target")
    hit = nodes[nodes["node_id"] == target.node_id]
    if target.node_level:
        hit = hit[hit["level"] == target.node_level]
    if hit.empty:
        raise TargetError(f"unknown organisation node {target.node_id!r} (expected 'hospital', a "
                          "campus, department or team id)")
    if target.value is None and (target.lo is None or target.hi is None):
        raise TargetError(f"{target.metric_id} {target.node_id}: give a value or a band lo..hi")
    if target.lo is not None and target.hi is not None and target.lo > target.hi:
        raise TargetError(f"{target.metric_id} {target.node_id}: band lo {target.lo} > hi "
                          f"{target.hi}")
    level = str(hit["level"].iloc[0])
    return Target(**{**asdict(target), "node_level": level})


def write_version(wh, metric_id: str, year: int, changes: list[Target], action: str,
                  user=None, author: str | None = None, note: str = "", params: dict | None = None,
                  model=None, replace_all: bool = False, remove: list[tuple] = ()) -> int:
    """Write a new version: the current set (unless `replace_all`) with `changes` applied
    (same component + node replaced) and `remove` keys dropped. Returns the version number."""
    from metrics.registry import load_model

    check_edit(wh, user, metric_id, year)
    model = model or load_model()
    nodes = org_nodes(wh)
    parent = dict(zip(nodes["node_id"], nodes["parent_id"]))
    author = author or getattr(user, "username", None) or "cli"
    ensure_tables(wh)
    changes = [resolve(t, nodes, model) for t in changes]
    for t in changes:
        if t.metric_id != metric_id or int(t.year) != int(year):
            raise TargetError(f"record {t.metric_id} {t.year} {t.node_id} does not belong to "
                              f"{metric_id} {year}")
    base = pd.DataFrame(columns=list(RECORD_COLUMNS)) if replace_all else \
        records(wh, metric_id, [year])
    drop = {t.key for t in changes} | set(remove)
    keep = [r for r in base.to_dict("records")
            if (r["component"], r["node_level"], r["node_id"]) not in drop]
    ts = now()
    rows = []
    for r in keep:
        rows.append({c: r[c] for c in RECORD_COLUMNS})
    for t in changes:
        rows.append(dict(metric_id=metric_id, component=t.component, node_level=t.node_level,
                         node_id=t.node_id, parent_id=parent.get(t.node_id), year=int(year),
                         value=t.value, lo=t.lo, hi=t.hi, reserve=float(t.reserve or 0),
                         seasonal=bool(t.seasonal), method=t.method, locked=bool(t.locked),
                         author=author, created_at=ts, note=t.note))
    frame = pd.DataFrame(rows, columns=list(RECORD_COLUMNS))
    for c in ("value", "lo", "hi", "reserve"):
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")
    for c in ("seasonal", "locked"):
        frame[c] = frame[c].fillna(False).astype(bool)
    frame["created_at"] = pd.to_datetime(frame["created_at"])
    with wh.transaction() as tx:
        version = int(tx.execute(f"SELECT coalesce(max(version), 0) + 1 FROM {VERSIONS} "
                                 "WHERE metric_id = ? AND year = ?",
                                 [metric_id, int(year)]).fetchall()[0][0])
        frame["version"] = version
        frame["year"] = int(year)
        tx.register("_targets_new", frame)
        try:
            tx.execute(f"INSERT INTO {TARGETS} SELECT {', '.join(RECORD_COLUMNS)} "
                       "FROM _targets_new")
        finally:
            tx.unregister("_targets_new")
        tx.execute(f"INSERT INTO {VERSIONS} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   [metric_id, int(year), version, action, author, ts, note,
                    json.dumps(params or {}, ensure_ascii=False, default=str)])
        _bump(tx)
    audit(wh, f"target_{action}", f"{metric_id} {year} v{version} ({len(changes)} records)", user)
    return version


def set_target(wh, metric_id: str, year: int, node_id: str, value: float | None = None,
               lo: float | None = None, hi: float | None = None, component: str = "value",
               reserve: float = 0.0, locked: bool = False, seasonal: bool = False,
               note: str = "", user=None, author: str | None = None, model=None,
               phase: bool = True) -> int:
    """Set (or replace) one node's target as a new version; phase it over the year.

    >>> # set_target(wh, "medical_revenue", 2026, "hospital", 1.2e9, reserve=2e7)
    """
    t = Target(metric_id, node_id, int(year), value, lo, hi, component, reserve=reserve,
               seasonal=seasonal, locked=locked, method="manual", note=note)
    v = write_version(wh, metric_id, year, [t], "set", user, author, note, model=model)
    if phase:
        from .phasing import phase_records

        phase_records(wh, metric_id, year, [(component, node_id)], model=model)
    return v


def set_locks(wh, metric_id: str, year: int, node_ids, locked: bool = True, user=None,
              author: str | None = None) -> int:
    """Lock (hold) or unlock nodes' current records as a new version."""
    cur = records(wh, metric_id, [year])
    hit = cur[cur["node_id"].isin(list(node_ids))]
    if hit.empty:
        raise TargetError(f"{metric_id} {year}: no current record for {', '.join(node_ids)}")
    changes = [Target(metric_id, r.node_id, int(year), _opt(r.value), _opt(r.lo), _opt(r.hi),
                      r.component, r.node_level, float(r.reserve or 0), bool(r.seasonal),
                      locked, r.method, r.note or "") for r in hit.itertuples(index=False)]
    return write_version(wh, metric_id, year, changes, "lock" if locked else "unlock", user,
                         author)


def _opt(v):
    return None if v is None or pd.isna(v) else float(v)


def replace_phasing(wh, metric_id: str, year: int, frame: pd.DataFrame) -> None:
    """Store the phasing of the (component, node) pairs in `frame` (columns component,
    node_level, node_id, day, weight, source) under the metric-year's current version: it
    replaces what that version had for those nodes, and leaves earlier versions' phasing as it
    was, so a past version's expected-to-date can be rebuilt (`targets_read.phasing`)."""
    if frame.empty:
        return
    ensure_tables(wh)
    frame = frame.assign(metric_id=metric_id, year=int(year))[
        ["metric_id", "component", "node_level", "node_id", "year", "day", "weight", "source"]]
    with wh.transaction() as tx:
        version = int(tx.execute(f"SELECT coalesce(max(version), 0) FROM {VERSIONS} "
                                 "WHERE metric_id = ? AND year = ?",
                                 [metric_id, int(year)]).fetchall()[0][0])
        frame = frame.assign(version=version)
        for comp, lv, nid in frame[["component", "node_level", "node_id"]].drop_duplicates() \
                .itertuples(index=False):
            tx.execute(f"DELETE FROM {PHASING} WHERE metric_id = ? AND year = ? AND "
                       "component = ? AND node_level = ? AND node_id = ? AND "
                       "coalesce(version, 0) = ?", [metric_id, int(year), comp, lv, nid, version])
        tx.register("_phasing_new", frame)
        try:
            tx.execute(f"INSERT INTO {PHASING} (metric_id, component, node_level, node_id, year, "
                       "day, weight, source, version) SELECT metric_id, component, node_level, "
                       "node_id, year, day, weight, source, version FROM _phasing_new")
        finally:
            tx.unregister("_phasing_new")
        _bump(tx)


def to_date(wh, metric_id: str, year: int, day: dt.date, version: int | None = None,
            model=None) -> pd.DataFrame:
    """Each record's expected-to-date from 1 January to `day` (inclusive) as the version
    (default: current) had it: its records and the phasing they were phased with."""
    from metrics.registry import load_model
    from metrics.targets_read import TargetTree, phasing, target_class

    model = model or load_model()
    recs = records(wh, metric_id, [year], version)
    tree = TargetTree(org_nodes(wh), recs, phasing(wh, metric_id, [year], version), year,
                      target_class(model, metric_id))
    first = dt.date(year, 1, 1)
    out = recs[["component", "node_level", "node_id", "version"]].copy()
    out["to_date"] = [tree.to_date(c, lv, n, first, min(day, dt.date(year, 12, 31)), None)
                      if day >= first else 0.0
                      for c, lv, n in out[["component", "node_level", "node_id"]]
                      .itertuples(index=False)]
    return out


__all__ = ["Target", "TargetError", "set_target", "write_version", "current", "history",
           "compare_versions", "set_locks", "check_edit", "check_view", "audit", "HOSPITAL"]
