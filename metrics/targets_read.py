"""Targets in the semantic layer: the transforms `target`, `target_to_date`, `attainment` and
`gap` that any metric with a target takes (`medical_revenue:attainment --by department`).

The tables are written by `targets/` (which owns their DDL) and only read here:

- `_targets`: one row per (metric_id, component, node_level, node_id, year, version): value or
  band [lo, hi], the node's reserve (院级预留, kept back from its children), lock, method …;
  `component` is `value`, or `numerator` / `denominator` for a ratio metric whose target is set
  on both parts (catalogue §16.1, the preferred way);
- `_target_versions`: (metric_id, year, version, …): the current set of a metric's targets for a
  year is its highest version; older versions stay (history);
- `_target_phasing`: (metric_id, component, node_level, node_id, year, day, weight): the share of
  the node's annual target falling on each day (Σ = 1 over the year). A node without phasing
  rows is phased flat over the calendar days.

Row semantics (rows are the query's buckets × `by` dims; none = the hospital):
- `target`: the annual target of the row's nodes (year of the bucket's last day in range).
  Additive metrics: Σ over the nodes; a node without its own record is the Σ of its children
  (hospital → campus → department → team). Stocks (snapshot averages) and other non-additive
  metrics are not phased. Ratio metrics: Σ numerator ÷ Σ denominator targets when both exist
  (the implied ratio, never an average of child ratios), else the node's direct ratio target;
  a row holding several nodes with only direct ratio targets has none (null).
- `target_to_date`: the phased target over the bucket's days inside the range, cut at as-of
  (the as-of day counts pro rata by the time of day). Ratio targets are flat (= `target`)
  unless their numerator / denominator records are declared `seasonal`.
- `attainment`: `score(actual, target_to_date, direction)` (below), not capped.
- `gap`: actual − target_to_date.

Completion by direction (catalogue §0.2; `score`):
- up (↑):   actual ÷ target.
- down (↓): target ÷ actual (the catalogue's rule): 1 at target, above 1 when under target,
            falling towards 0 as the actual overshoots. An actual of 0 (or below) with a positive
            target scores the display cap (the best score shown). Needs a positive target.
- band (◇): 1 inside [lo, hi]; outside, 1 − distance ÷ width (width = hi − lo, or |target| when
            the band is a single value), floored at 0: one band-width outside scores 0.
Display caps scores to 0 … 120 % (`display`).

>>> round(score(90.0, 100.0, "up"), 4), round(score(110.0, 100.0, "down"), 4)
(0.9, 0.9091)
>>> score(0.30, None, "band", lo=0.25, hi=0.32), round(score(0.36, None, "band", 0.25, 0.32), 4)
(1.0, 0.4286)
"""
from __future__ import annotations

import datetime as dt
import threading

import numpy as np
import pandas as pd
from sqlglot import exp

from warehouse.errors import QueryError

from . import sqlbuild as sb
from .dialects import render

TARGETS, VERSIONS, PHASING = "_targets", "_target_versions", "_target_phasing"
#: one row, `n`, incremented by every write of targets or phasing (`targets.store`)
GENERATION = "_target_generation"
#: memoised organisation trees and target trees, keyed by `_stamp` (see there)
_MEMO: dict = {}
_MEMO_LOCK = threading.Lock()
LEVELS = ("hospital", "campus", "department", "team")
HOSPITAL = "hospital"  # node_id of the hospital node
COMPONENTS = ("value", "numerator", "denominator")
DISPLAY_CAP = 1.2
TARGET_DIMS = ("campus", "department", "team", "discipline")
RECORD_COLUMNS = ("metric_id", "component", "node_level", "node_id", "parent_id", "year", "value",
                  "lo", "hi", "reserve", "seasonal", "method", "version", "locked", "author",
                  "created_at", "note")


# -- scores ----------------------------------------------------------------------------------

def scores(actual, target, direction: str, lo=None, hi=None) -> np.ndarray:
    """Vectorised completion by direction (see the module doc)."""
    a = np.asarray(pd.to_numeric(pd.Series(actual), errors="coerce"), dtype="float64")
    t = np.asarray(pd.to_numeric(pd.Series(target), errors="coerce"), dtype="float64") \
        if target is not None else np.full_like(a, np.nan)
    t = np.broadcast_to(t, a.shape) if t.shape != a.shape else t
    with np.errstate(divide="ignore", invalid="ignore"):
        if direction == "up":
            return np.where(t > 0, a / t, np.nan)
        if direction == "down":
            out = np.where(a > 0, t / a, DISPLAY_CAP)
            return np.where((t > 0) & ~np.isnan(a), out, np.nan)
        lo_ = _arr(lo, a.shape, t)
        hi_ = _arr(hi, a.shape, t)
        width = np.where(hi_ - lo_ > 0, hi_ - lo_, np.abs(t))
        dist = np.maximum.reduce([lo_ - a, np.zeros_like(a), a - hi_])
        out = np.where(dist <= 0, 1.0, np.maximum(0.0, 1.0 - dist / width))
        return np.where(np.isnan(a) | np.isnan(lo_) | np.isnan(hi_), np.nan, out)


def _arr(v, shape, fallback):
    if v is None:
        return np.asarray(fallback, dtype="float64")
    arr = np.broadcast_to(np.asarray(pd.to_numeric(pd.Series(v), errors="coerce"),
                                     dtype="float64"), shape)
    return np.where(np.isnan(arr), fallback, arr)


def score(actual, target, direction: str, lo=None, hi=None) -> float:
    """Completion of one actual against one target (module doc)."""
    def one(v):
        return [np.nan if v is None else v]

    return float(scores(one(actual), one(target), direction,
                        None if lo is None else one(lo), None if hi is None else one(hi))[0])


def display(value):
    """A score as shown: 0 … 120 %."""
    return np.clip(value, 0.0, DISPLAY_CAP)


# -- the metric and the organisation ------------------------------------------------------

def target_class(model, metric_id: str) -> str:
    """`sum` (additive: phased over time, summed over nodes), `stock` (snapshot: summed over
    nodes, flat over time), `ratio` (numerator ÷ denominator) or `level` (anything else:
    one node's direct target, flat)."""
    m = model.metrics[metric_id]
    if m.kind == "ratio":
        return "ratio"
    if m.kind == "simple":
        agg = model.measures[m.measure][1].agg
        return {"sum": "sum", "count": "sum", "snapshot": "stock",
                "open_count": "stock"}.get(agg, "level")
    if m.kind == "derived" and "/" not in (m.expr or "/"):
        from .plan import measures_of

        if all(model.measures[n][1].agg in ("sum", "count") for n in measures_of(model, m.id)):
            return "sum"
    return "level"


def org_nodes(wh) -> pd.DataFrame:
    """Every node of the organisation tree: level, node_id, parent_level, parent_id and the
    node's campus, department, discipline and team (null above its own level). Memoised per
    load (the organisation changes only with a load); do not modify the frame."""
    return _memo(("org", _stamp(wh)[:2]), lambda: _org_nodes(wh))


def _memo(key, build):
    """`build()` once per key (bounded: cleared past 256 entries)."""
    with _MEMO_LOCK:
        hit = _MEMO.get(key)
    if hit is None:
        hit = build()
        with _MEMO_LOCK:
            if len(_MEMO) > 256:
                _MEMO.clear()
            _MEMO[key] = hit
    return hit


def _org_nodes(wh) -> pd.DataFrame:
    depts = wh.query_df(render(exp.select("dept_id", "campus_id", "discipline")
                               .from_("dim_department"), wh.dialect))
    teams = wh.query_df(render(exp.select("team_id", "dept_id").from_("dim_team"), wh.dialect))
    campuses = wh.query_df(render(exp.select("campus_id").from_("dim_campus"), wh.dialect))
    rows = [dict(level="hospital", node_id=HOSPITAL, parent_level=None, parent_id=None)]
    for c in sorted(campuses["campus_id"]):
        rows.append(dict(level="campus", node_id=c, parent_level="hospital",
                         parent_id=HOSPITAL, campus=c))
    info = {}
    for d, c, disc in depts.sort_values("dept_id").itertuples(index=False):
        info[d] = (c, disc)
        rows.append(dict(level="department", node_id=d, parent_level="campus", parent_id=c,
                         campus=c, department=d, discipline=disc))
    for t, d in teams.sort_values("team_id").itertuples(index=False):
        c, disc = info.get(d, (None, None))
        rows.append(dict(level="team", node_id=t, parent_level="department", parent_id=d,
                         campus=c, department=d, discipline=disc, team=t))
    frame = pd.DataFrame(rows)
    for col in TARGET_DIMS:
        if col not in frame.columns:
            frame[col] = None
    return frame.astype({c: "object" for c in TARGET_DIMS})


# -- reading the tables --------------------------------------------------------------------

def current_versions(wh, metric_id: str | None = None) -> pd.DataFrame:
    """(metric_id, year, version) of the current set per metric and year."""
    if not wh.table_exists(VERSIONS):
        return pd.DataFrame(columns=["metric_id", "year", "version"])
    q = exp.select("metric_id", "year", exp.alias_(exp.Max(this=sb.col("version")), "version")
                   ).from_(VERSIONS).group_by("metric_id", "year")
    if metric_id is not None:
        q = q.where(exp.EQ(this=sb.col("metric_id"), expression=sb.literal(metric_id)))
    return wh.query_df(render(q, wh.dialect))


def records(wh, metric_id: str, years=None, version: int | None = None) -> pd.DataFrame:
    """Target records of a metric: the current version per year, or the given version."""
    empty = pd.DataFrame(columns=list(RECORD_COLUMNS))
    if not wh.table_exists(TARGETS):
        return empty
    conds = [exp.EQ(this=sb.col("metric_id"), expression=sb.literal(metric_id))]
    if years is not None:
        conds.append(exp.In(this=sb.col("year"), expressions=[sb.literal(int(y)) for y in years]))
    if version is not None:
        conds.append(exp.EQ(this=sb.col("version"), expression=sb.literal(int(version))))
    frame = wh.query_df(render(exp.select(*RECORD_COLUMNS).from_(TARGETS)
                               .where(exp.and_(*conds)), wh.dialect))
    if version is None and len(frame):
        cur = current_versions(wh, metric_id)
        frame = frame.merge(cur[["year", "version"]], on=["year", "version"])
    return frame.reset_index(drop=True)


def metrics_with_targets(wh, year: int, node_ids) -> list[str]:
    """Metrics whose current version for `year` has a record on any of `node_ids`."""
    if not wh.table_exists(TARGETS) or not node_ids:
        return []
    cur = exp.select("metric_id", exp.alias_(exp.Max(this=sb.col("version")), "version")).from_(
        VERSIONS).where(exp.EQ(this=sb.col("year"), expression=sb.literal(int(year)))
    ).group_by("metric_id")
    q = (exp.select("t.metric_id").distinct().from_(exp.alias_(exp.to_table(TARGETS), "t"))
         .join(cur.subquery("c"), on="t.metric_id = c.metric_id AND t.version = c.version")
         .where(exp.and_(exp.EQ(this=sb.col("year", "t"), expression=sb.literal(int(year))),
                         exp.In(this=sb.col("node_id", "t"),
                                expressions=[sb.literal(str(n)) for n in node_ids])))
         .order_by("t.metric_id"))
    return [r[0] for r in wh.query_rows(render(q, wh.dialect))]


def phasing(wh, metric_id: str, years, version: int | None = None) -> pd.DataFrame:
    """The day weights of a metric's records: per node, the phasing of the latest version that
    phased it — up to `version` when given (a past version as it was), else the current."""
    cols = ["component", "node_level", "node_id", "year", "day", "weight"]
    if not wh.table_exists(PHASING) or not years:
        return pd.DataFrame(columns=cols)
    versioned = bool(wh.query_rows(render(
        exp.select(exp.Count(this=exp.Star())).from_("information_schema.columns").where(
            exp.and_(exp.EQ(this=sb.col("table_name"), expression=sb.literal(PHASING)),
                     exp.EQ(this=sb.col("column_name"), expression=sb.literal("version")))),
        wh.dialect))[0][0])
    v = exp.Coalesce(this=sb.col("version") if versioned else sb.literal(0),
                     expressions=[sb.literal(0)])
    conds = [exp.EQ(this=sb.col("metric_id"), expression=sb.literal(metric_id)),
             exp.In(this=sb.col("year"), expressions=[sb.literal(int(y)) for y in years])]
    if version is not None:
        conds.append(exp.LTE(this=v.copy(), expression=sb.literal(int(version))))
    keys = ["component", "node_level", "node_id", "year"]
    latest = (exp.select(*keys, exp.alias_(exp.Max(this=v.copy()), "v")).from_(PHASING)
              .where(exp.and_(*[c.copy() for c in conds])).group_by(*keys))
    on = exp.and_(*[exp.EQ(this=sb.col(k, "p"), expression=sb.col(k, "m")) for k in keys],
                  exp.EQ(this=_qualified(v, "p"), expression=sb.col("v", "m")))
    q = (exp.select(*[sb.col(c, "p") for c in cols])
         .from_(exp.alias_(exp.to_table(PHASING), "p", table=True))
         .join(latest.subquery("m"), on=on)
         .where(exp.and_(*[_qualified(c, "p") for c in conds])))
    return wh.query_df(render(q, wh.dialect))


def _qualified(cond: exp.Expression, alias: str) -> exp.Expression:
    """`cond` with its bare columns qualified by `alias`."""
    cond = cond.copy()
    for c in cond.find_all(exp.Column):
        if not c.table:
            c.set("table", exp.to_identifier(alias))
    return cond


# -- the tree of one metric-year ------------------------------------------------------------

class TargetTree:
    """Annual and to-date targets of every node for one metric and year: a node's own record,
    else the Σ of its children's (additive parts only)."""

    def __init__(self, nodes: pd.DataFrame, recs: pd.DataFrame, phase: pd.DataFrame,
                 year: int, cls: str = "sum"):
        self.year = year
        #: a node without a record takes the Σ of its children for these components
        self.rolls_up = {"numerator", "denominator"} | ({"value"} if cls in ("sum", "stock")
                                                         else set())
        self.first = dt.date(year, 1, 1)
        self.ndays = (dt.date(year + 1, 1, 1) - self.first).days
        self.children: dict[tuple, list[tuple]] = {}
        for lv, nid, plv, pid in nodes[["level", "node_id", "parent_level", "parent_id"]] \
                .itertuples(index=False):
            if plv is not None:
                self.children.setdefault((plv, pid), []).append((lv, nid))
        self.rec = {(r.component, r.node_level, r.node_id): r
                    for r in recs.itertuples(index=False)}
        self.cum: dict[tuple, np.ndarray] = {}
        if len(phase):  # one row of day weights per node, cumulated: a range is 2 lookups
            keys = ["component", "node_level", "node_id"]
            grp = phase.groupby(keys, sort=False)
            code = grp.ngroup().to_numpy()
            day = (pd.to_datetime(phase["day"]) - pd.Timestamp(self.first)).dt.days.to_numpy()
            w = np.zeros((grp.ngroups, self.ndays + 1))
            w[code, day + 1] = phase["weight"].astype("float64").to_numpy()
            w = np.cumsum(w, axis=1)
            # ngroup numbers groups in order of first appearance, as drop_duplicates keeps them
            for i, key in enumerate(phase[keys].drop_duplicates().itertuples(index=False)):
                self.cum[tuple(key)] = w[i]
        self._memo: dict = {}

    def annual(self, comp: str, level: str, node: str, field: str = "value") -> float:
        """The node's annual value (or lo / hi) of a component."""
        key = ("a", comp, level, node, field)
        if key not in self._memo:
            r = self.rec.get((comp, level, node))
            v = getattr(r, field) if r is not None else None
            if v is None or pd.isna(v):
                if comp == "value" and field == "value" and r is not None and not pd.isna(
                        r.lo) and not pd.isna(r.hi):
                    v = (float(r.lo) + float(r.hi)) / 2  # a band's centre
                elif r is None and comp in self.rolls_up:
                    kids = [self.annual(comp, lv, n, field)
                            for lv, n in self.children.get((level, node), [])]
                    kids = [k for k in kids if not np.isnan(k)]
                    v = float(sum(kids)) if kids else np.nan
                else:
                    v = np.nan
            self._memo[key] = float(v)
        return self._memo[key]

    def seasonal_parts(self, level: str, node: str) -> bool:
        """Whether a node's numerator and denominator targets are declared seasonal: its own
        records', else (rolled up) any of its descendants'."""
        own = [self.rec.get((c, level, node)) for c in ("numerator", "denominator")]
        own = [r for r in own if r is not None]
        if own:
            return any(bool(r.seasonal) for r in own if not pd.isna(r.seasonal))
        return any(self.seasonal_parts(lv, n) for lv, n in self.children.get((level, node), []))

    def fraction(self, comp: str, level: str, node: str, a: dt.date, b: dt.date,
                 cut: dt.datetime | None) -> float:
        """Share of the node's year falling in [a, b] (dates inside this year), cut at `cut`
        (its day pro rata)."""
        last = b if cut is None else min(b, cut.date() - dt.timedelta(days=1))
        i, j = (a - self.first).days, (last - self.first).days
        cum = self.cum.get((comp, level, node))
        full = 0.0
        if j >= i:
            full = (cum[j + 1] - cum[i]) if cum is not None else (j - i + 1) / self.ndays
        if cut is not None and a <= cut.date() <= b:
            k = (cut.date() - self.first).days
            day_w = (cum[k + 1] - cum[k]) if cum is not None else 1 / self.ndays
            secs = (cut - dt.datetime.combine(cut.date(), dt.time())).total_seconds()
            full += day_w * secs / 86400
        return full

    def to_date(self, comp, level, node, a, b, cut, field="value") -> float:
        r = self.rec.get((comp, level, node))
        if r is not None:
            return self.annual(comp, level, node, field) * self.fraction(comp, level, node, a,
                                                                         b, cut)
        kids = [self.to_date(comp, lv, n, a, b, cut, field)
                for lv, n in self.children.get((level, node), [])]
        kids = [k for k in kids if not np.isnan(k)]
        return float(sum(kids)) if kids else np.nan


# -- the transforms --------------------------------------------------------------------------

def _level_and_nodes(spec, nodes: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    dims = set(spec.by) | {d for d, _ in spec.where}
    bad = sorted(dims - set(TARGET_DIMS))
    if bad:
        raise QueryError(f"targets are set per organisation node (hospital, campus, department, "
                         f"team); they cannot be split by {', '.join(bad)}")
    if "team" in dims:
        level = "team"
    elif dims & {"department", "discipline"} or spec.scope is not None:
        level = "department"
    elif "campus" in dims:
        level = "campus"
    else:
        level = "hospital"
    sel = nodes[nodes["level"] == level]
    for d, values in spec.where:
        sel = sel[sel[d].isin(values)]
    if spec.scope is not None:
        sel = sel[sel["department"].isin(sorted(spec.scope))]
    return level, sel


def _ranges(spec, bucket) -> list[tuple[int, dt.date, dt.date]]:
    """(year, first, last) pieces of a bucket's days inside the query range."""
    from .fetch import bucket_end

    if spec.grain is None:
        a, b = spec.start, spec.end
    else:
        b0 = bucket.date() if isinstance(bucket, pd.Timestamp) else bucket
        a, b = max(b0, spec.start), min(bucket_end(b0, spec.grain), spec.end)
    out = []
    for y in range(a.year, b.year + 1):
        out.append((y, max(a, dt.date(y, 1, 1)), min(b, dt.date(y, 12, 31))))
    return out


def target_frame(wh, model, spec, metric_id: str, transform: str, actual_fn) -> pd.DataFrame:
    """The `_bucket`, `by` …, `_value` frame of `metric_id:transform` (module doc).
    `actual_fn()` gives the metric's own values on the same rows."""
    table = target_table(wh, model, spec, metric_id, actual_fn, transform)
    return pick(table, model, metric_id, transform, ["_bucket"] + list(spec.by))


def target_table(wh, model, spec, metric_id: str, actual_fn, what: str = "target"):
    """Every row's actual (`_value`), annual `target`, phased `to_date` and band `lo`/`hi`:
    what each transform is computed from (`pick`), built once for all of them."""
    if spec.grain == "hour":
        raise QueryError(f"{metric_id}:{what}: targets are phased to days; use --grain day "
                         "or coarser")
    cls = target_class(model, metric_id)
    actual = actual_fn()
    keys = ["_bucket"] + list(spec.by)
    buckets = list(dict.fromkeys(actual["_bucket"])) or [0]
    years = sorted({y for bk in buckets for y, _, _ in _ranges(spec, bk)})
    nodes, trees = _trees(wh, metric_id, tuple(years), cls)
    level, sel = _level_and_nodes(spec, nodes)
    groups = (sel.groupby(list(spec.by), dropna=False, sort=True) if spec.by
              else [((), sel)])
    out = []
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        ids = list(g["node_id"])
        for bk in buckets:
            row = dict(zip(keys, (bk,) + key))
            row.update(_row_targets(trees, spec, cls, level, ids, bk))
            out.append(row)
    tf = pd.DataFrame(out, columns=keys + ["target", "to_date", "lo", "hi"])
    for d in spec.by:
        tf[d] = tf[d].astype("object")
        actual[d] = actual[d].astype("object")
    return actual.merge(tf, on=keys, how="outer") if len(tf) else actual.assign(
        target=np.nan, to_date=np.nan, lo=np.nan, hi=np.nan)


def pick(table: pd.DataFrame, model, metric_id: str, transform: str, keys) -> pd.DataFrame:
    """One transform's `_value` from a `target_table`."""
    cls = target_class(model, metric_id)
    metric = model.metrics[metric_id]
    merged = table.copy()
    act = merged["_value"].astype("float64")
    if cls == "sum":
        act = act.fillna(0.0)
    if transform == "target":
        merged["_value"] = merged["target"]
    elif transform == "target_to_date":
        merged["_value"] = merged["to_date"]
    elif transform == "gap":
        merged["_value"] = act - merged["to_date"].astype("float64")
    else:
        direction = metric.scoring_direction
        lo = merged["lo"] if direction == "band" else None
        hi = merged["hi"] if direction == "band" else None
        if direction == "band" and metric.band and cls in ("ratio", "level"):
            lo = lo.fillna(metric.band[0])
            hi = hi.fillna(metric.band[1])
        merged["_value"] = scores(act, merged["to_date"], direction, lo, hi)
    return merged[list(keys) + ["_value"]]


def _stamp(wh) -> tuple:
    """(warehouse, last load, target generation): changes whenever the organisation (a load)
    or the targets (a version, a phasing: `targets.store` counts every write in
    `_target_generation`) change. The key of the memos below; two small queries."""
    names = ("_loads", GENERATION, VERSIONS)
    have = {r[0] for r in wh.query_rows(
        "SELECT table_name FROM information_schema.tables WHERE table_name IN (?, ?, ?)",
        list(names))}
    loads = "(SELECT coalesce(max(load_id), 0) FROM _loads)" if "_loads" in have else "0"
    gen = (f"(SELECT coalesce(max(n), 0) FROM {GENERATION})" if GENERATION in have else
           f"(SELECT count(*) FROM {VERSIONS})" if VERSIONS in have else "0")
    row = wh.query_rows(f"SELECT {loads}, {gen}")[0]
    return (getattr(wh, "location", ""), row[0], row[1])


def _trees(wh, metric_id: str, years: tuple, cls: str):
    """(organisation nodes, {year: TargetTree}) of a metric, memoised per `_stamp` (a page
    asks the same trees for many tiles; building them reads three tables)."""
    def build():
        nodes = org_nodes(wh)
        recs = records(wh, metric_id, list(years))
        phase = phasing(wh, metric_id, list(years))
        return nodes, {y: TargetTree(nodes, recs[recs["year"] == y], phase[phase["year"] == y],
                                     y, cls) for y in years}

    return _memo((_stamp(wh), metric_id, years, cls), build)


def _row_targets(trees, spec, cls, level, node_ids, bucket) -> dict:
    pieces = _ranges(spec, bucket)
    cut = spec.as_of
    end = pieces[-1][2] if cut is None else max(min(pieces[-1][2], cut.date()), pieces[0][1])
    t = trees[end.year]  # `target` is the annual target of the year of the last day counted
    if cls == "ratio":
        return _ratio_targets(trees, pieces, cut, level, node_ids, t)
    annual = _sum([t.annual("value", level, n) for n in node_ids])
    if cls in ("stock", "level"):
        if cls == "level" and len(node_ids) != 1:
            annual = np.nan
        lo = _sum([t.annual("value", level, n, "lo") for n in node_ids])
        hi = _sum([t.annual("value", level, n, "hi") for n in node_ids])
        return dict(target=annual, to_date=annual, lo=lo, hi=hi)
    td, lo, hi = [], [], []
    for y, a, b in pieces:
        tr = trees[y]
        td += [tr.to_date("value", level, n, a, b, cut) for n in node_ids]
        lo += [tr.to_date("value", level, n, a, b, cut, "lo") for n in node_ids]
        hi += [tr.to_date("value", level, n, a, b, cut, "hi") for n in node_ids]
    return dict(target=annual, to_date=_sum(td), lo=_sum(lo), hi=_sum(hi))


def _ratio_targets(trees, pieces, cut, level, node_ids, t) -> dict:
    num = [t.annual("numerator", level, n) for n in node_ids]
    den = [t.annual("denominator", level, n) for n in node_ids]
    if node_ids and not any(np.isnan(num + den)):
        implied = _div(sum(num), sum(den))
        seasonal = any(t.seasonal_parts(level, n) for n in node_ids)
        td = implied
        if seasonal:
            n_td = sum(trees[y].to_date("numerator", level, n, a, b, cut)
                       for y, a, b in pieces for n in node_ids)
            d_td = sum(trees[y].to_date("denominator", level, n, a, b, cut)
                       for y, a, b in pieces for n in node_ids)
            td = _div(n_td, d_td)
        return dict(target=implied, to_date=td, lo=np.nan, hi=np.nan)
    if len(node_ids) == 1:
        (n,) = node_ids
        r = t.rec.get(("value", level, n))
        if r is not None:
            v = t.annual("value", level, n)
            return dict(target=v, to_date=v, lo=_f(r.lo), hi=_f(r.hi))
    return dict(target=np.nan, to_date=np.nan, lo=np.nan, hi=np.nan)


def _sum(values) -> float:
    vals = [v for v in values if not pd.isna(v)]
    return float(sum(vals)) if vals else np.nan


def _div(a, b) -> float:
    return float(a) / float(b) if b else np.nan


def _f(v) -> float:
    return np.nan if v is None or pd.isna(v) else float(v)


# -- actual parts of a ratio (for references and seasonal profiles) --------------------------

def ratio_parts(wh, model, spec, metric_id: str, use_mvs: bool = True) -> pd.DataFrame:
    """`_bucket`, `by` …, `numerator`, `denominator` of a ratio metric: its two sides, each
    recomputed at the row's grain (what a numerator / denominator target is compared with)."""
    from .evaluate import eval_expr
    from .fetch import fetch, measure_values
    from .plan import measures_of, validate_spec

    validate_spec(model, spec)
    m = model.metrics[metric_id]
    if m.kind != "ratio":
        raise QueryError(f"{metric_id} is a {m.kind} metric, not a ratio: it has no numerator "
                         "and denominator")
    fetched = fetch(wh, model, spec, measures_of(model, metric_id), spec.start, spec.end,
                    use_mvs=use_mvs)
    frame = measure_values(wh, model, spec, fetched, spec.start, spec.end)

    def lookup(name):
        return pd.to_numeric(frame[name], errors="coerce").astype("float64")

    out = frame[["_bucket"] + list(spec.by)].copy()
    out["numerator"] = np.asarray(eval_expr(m.numerator, lookup), dtype="float64")
    out["denominator"] = np.asarray(eval_expr(m.denominator, lookup), dtype="float64")
    return out
