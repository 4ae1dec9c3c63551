"""Materializations on DuckDB: full builds (aside, swapped in atomically) and incremental
refreshes of only the days (day grain) or months (month grain) the loader's change log names.

A materialization table `mv_<fact>__<name>` has `_bucket` (the day or month), its dimensions,
and one column per measure component. `_mv_state` records, per table, the definition's
signature, the last load it has seen, rows, duration and the partitions the last refresh
rebuilt; `_refresh_log` keeps every refresh. The data version (`data_version(wh)`) changes
only when a refresh changed something.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import time
from dataclasses import dataclass, field

from sqlglot import exp

from warehouse.contract import PART_DATE, TABLES
from warehouse.loader import bulk_loaded, last_load_id
from warehouse.schema import BULK_LOADS, changes_table

from . import sqlbuild as sb
from .dialects import render
from .memo import IdentityMemo
from .model import Fact, Materialization
from .plan import mv_table

_STATE_DDL = (
    "CREATE TABLE IF NOT EXISTS _mv_state (name VARCHAR, fact VARCHAR, grain VARCHAR, "
    "dimensions VARCHAR, measures VARCHAR, signature VARCHAR, built_load_id BIGINT, "
    "data_version VARCHAR, built_at TIMESTAMP, rows BIGINT, duration_ms DOUBLE, "
    "partitions_rebuilt INTEGER, mode VARCHAR, status VARCHAR, error VARCHAR)",
    "CREATE TABLE IF NOT EXISTS _refresh_log (started_at TIMESTAMP, finished_at TIMESTAMP, "
    "data_version VARCHAR, load_id BIGINT, built INTEGER, incremental INTEGER, "
    "partitions INTEGER, failed INTEGER, error VARCHAR)",
)


@dataclass
class MvResult:
    name: str
    mode: str  # full | incremental | unchanged | failed
    partitions: int = 0
    rows: int = 0
    seconds: float = 0.0
    error: str | None = None


@dataclass
class RefreshReport:
    results: list[MvResult] = field(default_factory=list)
    data_version: str = ""

    @property
    def failed(self) -> list[MvResult]:
        return [r for r in self.results if r.mode == "failed"]

    def to_dict(self) -> dict:
        return {"data_version": self.data_version,
                "materializations": [r.__dict__ for r in self.results]}


def signature(model, fact: Fact, mat: Materialization) -> str:
    payload = json.dumps([fact.model_dump(), mat.model_dump(), model.settings], sort_keys=True,
                         default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _in_ranges(col: str, ranges) -> exp.Expression:
    """`col` inside any of the (first, last) day ranges."""
    return exp.or_(*[exp.and_(exp.GTE(this=sb.col(col), expression=sb.literal(a)),
                              exp.LTE(this=sb.col(col), expression=sb.literal(b)))
                     for a, b in ranges])


# SQL a refresh asks every minute with other parameters (`$since`) or other rows
# (`_mv_rows`, `_mv_ranges`): rendered once per model
_SQL = IdentityMemo(2048)


_SINCE = exp.Placeholder(this="since")  # the load a materialization last saw


def _ranges_temp(ranges, dialect: str) -> str:
    """A TEMP table `_mv_ranges(lo, hi)` of (first, last) day ranges."""
    values = exp.values([(sb.literal(a), sb.literal(b)) for a, b in ranges], alias="v",
                        columns=["lo", "hi"])
    temp = exp.Properties(expressions=[exp.TemporaryProperty()])
    return render(exp.Create(this=exp.to_table("_mv_ranges"), kind="TABLE", properties=temp,
                             replace=True, expression=exp.select("lo", "hi").from_(values)),
                  dialect)


@functools.lru_cache(maxsize=1024)
def _delete_ranges(table: str, dialect: str) -> str:
    """Delete the buckets inside `_mv_ranges` (the same text whatever the ranges)."""
    inside = exp.select(exp.Literal.number(1)).from_(exp.to_table("_mv_ranges", alias="r")) \
        .where(exp.Between(this=exp.column("_bucket", table), low=exp.column("lo", "r"),
                           high=exp.column("hi", "r")))
    return render(exp.delete(table, where=exp.Exists(this=inside)), dialect)


def _fact_rows_in(model, fact: Fact, ranges=None) -> exp.Select:
    """The fact's rows that count, optionally only those of some day ranges."""
    conds = [_in_ranges("_day", ranges)] if ranges else []
    if ranges and sb.partition_aligned(fact, model.settings)[0]:
        # the same ranges on the stored partition date: the scan skips other months' row
        # groups (zone maps) instead of computing every row's day first
        conds.append(_in_ranges(PART_DATE, ranges))
    return sb.filtered(fact, model.settings, conds)


def build_sql(model, fact: Fact, mat: Materialization, ranges=None,
              rows_table: str | None = None) -> exp.Select:
    """The aggregate that fills a materialization (optionally only for some day ranges:
    [(first, last), …], read in one pass over the fact), or of the rows in `rows_table`."""
    rows = exp.select("*").from_(rows_table) if rows_table else _fact_rows_in(model, fact,
                                                                              ranges)
    src = exp.Subquery(this=rows, alias="s")
    own = {m.name: m for m in fact.measures}
    comps = [(name, sb.component(own[name], model.settings)) for name in mat.measures]
    return sb.aggregate(src, mat.grain, list(mat.dimensions), comps)


def ensure_state(wh) -> None:
    for ddl in _STATE_DDL:
        wh.execute(ddl)


def data_version(wh) -> str:
    """Changes only when a refresh changed data ('0' before the first refresh)."""
    if not wh.table_exists("_refresh_log"):
        return "0"
    v = wh.scalar("SELECT data_version FROM _refresh_log WHERE failed = 0 OR built + "
                  "incremental > 0 ORDER BY finished_at DESC LIMIT 1")
    return v or "0"


def _state(wh) -> dict[str, dict]:
    df = wh.query_df("SELECT * FROM _mv_state")
    return {r["name"]: r for r in df.to_dict("records")}


def _runs(days: set[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """The days as (first, last) runs of consecutive days."""
    out: list[tuple[dt.date, dt.date]] = []
    for d in sorted(days):
        if out and d == out[-1][1] + dt.timedelta(days=1):
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out


def _months(days: set[dt.date]) -> list[tuple[dt.date, dt.date]]:
    out = set()
    for d in days:
        start = d.replace(day=1)
        end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        out.add((start, end))
    return sorted(out)


@dataclass(frozen=True)
class Changes:
    """What the loads after one load changed: the contract tables with change rows, and the
    fact tables first loaded whole (every partition new)."""

    tables: frozenset[str]
    bulk: frozenset[str]


def changes_since(wh, since: int, existing: set[str] | None = None) -> Changes:
    """The changes after load `since` (one cheap probe per change table, in one query);
    `existing`: `wh.table_names()`, when the caller has it."""
    existing = wh.table_names() if existing is None else existing
    probes = [exp.select(exp.alias_(sb.literal(name), "t")).from_(changes_table(name))
              .where(exp.GT(this=sb.col("load_id"), expression=sb.literal(int(since)))).limit(1)
              for name in TABLES if changes_table(name) in existing]
    tables: set[str] = set()
    if probes:
        union = probes[0]
        for pr in probes[1:]:
            union = exp.union(union, pr, distinct=False)
        tables = {t for (t,) in wh.query_rows(render(union, wh.dialect))}
    return Changes(frozenset(tables), frozenset(bulk_loaded(wh, since)))


def _key_joins(fact: Fact) -> dict[str, tuple[str, str]]:
    """Joined tables each fact row meets through the joined table's own key (`on` is
    `alias.key = f.column`): table -> (alias, key). A change to such a row cannot relink
    it; it can only move its fact rows between days through the fact's time, or change
    them within their day."""
    out: dict[str, tuple[str, str]] = {}
    seen: dict[str, int] = {}
    for j in fact.joins:
        seen[j.table] = seen.get(j.table, 0) + 1
        pk = TABLES[j.table].primary_key if j.table in TABLES else ()
        on = sb.parse_expr(j.on)
        if len(pk) != 1 or j.table == fact.table or not isinstance(on, exp.EQ):
            continue
        sides = {(c.table, c.name) for c in (on.this, on.expression) if isinstance(c, exp.Column)}
        if len(sides) == 2 and (j.alias, pk[0]) in sides and any(t == "f" for t, _ in sides):
            out[j.table] = (j.alias, pk[0])
    return {t: v for t, v in out.items() if seen[t] == 1}


def _changed_dates(fact: Fact, tables: set[str]) -> exp.Expression | None:
    """(t, k, d) for every old and new date of a changed key of the fact's tables after load
    `$since`, from the typed change tables: the date columns and `_part_date` (link columns
    are ids, not days). An unchanged date of an updated row of the fact's own table
    (single-column key) is left out: the row's current day is found from the row itself,
    and the unchanged value moves nothing (a discharge filled in today does not touch the
    admission month of a fact dated by discharge). A table joined by its key gives only the
    dates the fact's time reads from it (the old day of its rows; their current day comes
    from the keyed pass): a settlement dated by its stay's discharge does not rebuild the
    stay's admission month. Other joined tables keep every value."""
    from warehouse.schema import tracked_columns

    key_joins = _key_joins(fact)
    time_cols = {(c.table, c.name) for c in sb.parse_expr(fact.time).find_all(exp.Column)}
    parts = []
    for name in sorted(tables):
        table = TABLES[name]
        pk = table.primary_key
        key = exp.cast(sb.col(pk[0]), "VARCHAR") if len(pk) == 1 else exp.func(
            "CONCAT", *[x for k in pk for x in (exp.cast(sb.col(k), "VARCHAR"),
                                                sb.literal("|"))][:-1])
        own = name == fact.table and len(pk) == 1
        for c in tracked_columns(table):
            if c != PART_DATE and c not in table.date_columns:
                continue
            if name in key_joins and (key_joins[name][0], c) not in time_cols:
                continue
            old, new = sb.col("old_" + c), sb.col("new_" + c)
            for side in (old, new):
                cond = [exp.GT(this=sb.col("load_id"), expression=_SINCE.copy()),
                        exp.Not(this=exp.Is(this=side.copy(), expression=exp.Null()))]
                if own:
                    cond.append(exp.NullSafeEQ(this=old.copy(), expression=new.copy()).not_())
                parts.append(exp.select(exp.alias_(sb.literal(name), "t"),
                                        exp.alias_(key.copy(), "k"),
                                        exp.alias_(exp.cast(side.copy(), "DATE"), "d"))
                             .from_(changes_table(name)).where(exp.and_(*cond)))
    if not parts:
        return None
    union = parts[0]
    for pr in parts[1:]:
        union = exp.union(union, pr, distinct=False, copy=False)
    return union


def _span(pairs) -> set[dt.date]:
    """Every day of the union of (first, last) ranges."""
    days: set[dt.date] = set()
    for lo, hi in pairs:
        days |= {lo + dt.timedelta(days=i) for i in range((hi - lo).days + 1)}
    return days


def affected_days(wh, model, fact: Fact, since: int, changed: Changes | None = None
                  ) -> set[dt.date] | None:
    """Days whose rows may have changed since load `since`; None means 'rebuild all'
    (a dimension the fact reads changed, or a table it reads got its first rows). `changed`:
    `changes_since(wh, since)`, when the caller already probed (once for every fact of a
    refresh). The dates come from the typed change tables in SQL (a day of feed data at
    `large` is ~0.7 M change values: no Python loop over them)."""
    tables = {fact.table} | {j.table for j in fact.joins}
    dims_read = {"dim_department"} | ({"dim_doctor"} if fact.org.doctor and not fact.org.team
                                     else set()) | ({"dim_drg"} if fact.drg else set())
    dims_read |= {t for t in tables if t in TABLES and TABLES[t].kind == "dimension"}
    changes = changes_since(wh, since) if changed is None else changed
    if changes.bulk & tables:
        return None  # first rows of a table it reads: every partition is new
    if changes.tables & dims_read:
        return None
    relevant = {t for t in changes.tables & tables if TABLES[t].kind == "fact"}
    if not relevant:
        return set()
    key = (fact.name, tuple(sorted(relevant)), wh.dialect)
    params = {"since": int(since)}
    days: set[dt.date] = set()
    span = fact.span_changes  # every day between a key's old and new dates, up to today
    sql = _SQL.get((model,), ("dates", span) + key,
                   lambda: _dates_sql(fact, relevant, span, wh.dialect))
    if sql is not None and span:
        today = dt.date.today()
        days |= _span((lo, max(hi, today)) for lo, hi in wh.query_rows(sql, params))
    elif sql is not None:
        days |= {d for (d,) in wh.query_rows(sql, params) if d is not None}
    # the current day of the fact's rows whose own key changed, or that meet a changed row
    # of a table joined by its key (e.g. an operation's partition is its stay's discharge
    # date): one pass over the fact, keyed by the change tables. An inserted row of a fact
    # dated by its own columns needs no pass: its new values above are its day.
    if _keyed_sources(fact, relevant):
        days |= {d for (d,) in wh.query_rows(
            _SQL.get((model,), ("keyed",) + key,
                     lambda: _keyed_sql(model, fact, relevant, wh.dialect)),
            params) if d is not None}
    if fact.lookback_days:
        days = {d - dt.timedelta(days=k) for d in days for k in range(fact.lookback_days + 1)}
    return days


def _dates_sql(fact: Fact, tables: set[str], span: bool, dialect: str) -> str | None:
    """The distinct changed dates `d`, or with `span` each changed key's (first, last)."""
    dates = _changed_dates(fact, tables)
    if dates is None:
        return None
    src = exp.Subquery(this=dates, alias="c")
    if span:
        per_key = exp.select(exp.alias_(exp.Min(this=sb.col("d")), "lo"),
                             exp.alias_(exp.Max(this=sb.col("d")), "hi")).from_(src) \
            .group_by(sb.col("t"), sb.col("k"))
        q = exp.select("lo", "hi").from_(exp.Subquery(this=per_key, alias="p"))
    else:
        q = exp.select(sb.col("d")).from_(src)
    return render(q.distinct(), dialect)


def _keyed_sources(fact: Fact, tables: set[str]) -> list[tuple[str, str, str, list[str]]]:
    """(table, alias, key, ops) whose changed keys name fact rows directly: the fact's own
    table (single-column key) and tables joined by their key."""
    out = []
    pk = TABLES[fact.table].primary_key if fact.table in TABLES else ()
    if len(pk) == 1 and fact.table in tables:
        ops = ["update"] if _dated_by_own_columns(fact) else ["update", "insert"]
        out.append((fact.table, "f", pk[0], ops))
    for name, (alias, key) in sorted(_key_joins(fact).items()):
        if name in tables:
            out.append((name, alias, key, ["update", "insert", "delete"]))
    return out


def _keyed_sql(model, fact: Fact, tables: set[str], dialect: str) -> str:
    """The current day of the fact's rows whose key, or whose key-joined row, changed after
    `$since`."""
    conds = []
    for name, alias, key, ops in _keyed_sources(fact, tables):
        keyed = exp.select(sb.col(key)).from_(changes_table(name)).where(exp.and_(
            exp.GT(this=sb.col("load_id"), expression=_SINCE.copy()),
            exp.In(this=sb.col("op"), expressions=[sb.literal(o) for o in ops])))
        conds.append(exp.In(this=sb.col(key, alias), query=exp.Subquery(this=keyed)))
    rows = sb.fact_rows(fact, model.settings).where(exp.or_(*conds))
    q = exp.select(exp.Distinct(expressions=[sb.col("_day")])).from_(
        exp.Subquery(this=rows, alias="r"))
    return render(q, dialect)


def _dated_by_own_columns(fact: Fact) -> bool:
    """The fact's date is an expression of its own table's columns only (no joined table)."""
    cols = list(sb.parse_expr(fact.time).find_all(exp.Column))
    return bool(cols) and all(c.table in ("", "f") for c in cols)


def _drop(name: str) -> exp.Drop:
    return exp.Drop(tables=[exp.to_table(name)], kind="TABLE", exists=True)


def _count_in(cur, table: str, dialect: str) -> int:
    return int(cur.execute(render(exp.select(exp.Count(this=exp.Star())).from_(table),
                                  dialect)).fetchone()[0])


def _full(wh, model, job: "_Job") -> int:
    """Build aside as `<table>__new`, then swap it in within one transaction, which also
    records the new state."""
    table = job.table
    new = exp.to_table(table + "__new")
    create = exp.Create(this=new, kind="TABLE", expression=build_sql(model, job.fact, job.mat))
    rename = exp.Alter(this=new.copy(), kind="TABLE",
                       actions=[exp.AlterRename(this=exp.to_table(table))])
    wh.execute(render(_drop(table + "__new"), wh.dialect))
    wh.execute(render(create, wh.dialect))
    with wh.transaction() as cur:
        cur.execute(render(_drop(table), wh.dialect))
        cur.execute(render(rename, wh.dialect))
        rows = _count_in(cur, table, wh.dialect)
        job.record(cur, rows, "full", -1)
    return rows


def _incremental(wh, model, job: "_Job") -> int:
    """Delete and re-insert the buckets of the job's (first, last) day ranges and record the
    new state, all in one transaction (one commit) and one statement each: the fact's rows
    are computed once (its window functions span the whole fact, so every pass over it costs
    a full scan), not once per range."""
    t0 = time.perf_counter()
    with wh.transaction() as cur:
        cur.execute(_ranges_temp(job.ranges, wh.dialect))
        cur.execute(_delete_ranges(job.table, wh.dialect))
        cur.execute(render(exp.insert(build_sql(model, job.fact, job.mat, job.ranges),
                                      job.table), wh.dialect))
        rows = _count_in(cur, job.table, wh.dialect)
        job.record(cur, rows, "incremental", job.months, seconds=time.perf_counter() - t0)
        cur.execute(render(_drop("_mv_ranges"), wh.dialect))
    return rows


def _incremental_fact(wh, model, fact: Fact, jobs: list["_Job"]) -> None:
    """Several materializations of one fact with the same day ranges rebuilt in one
    transaction: the fact's rows of those days are computed once (a TEMP table) and each
    aggregates them. Readers see all of them switch at once. Only the rows' SQL depends on
    the ranges; each materialization's delete and insert are the same text every time."""
    ranges = jobs[0].ranges
    temp = exp.Properties(expressions=[exp.TemporaryProperty()])
    create = exp.Create(this=exp.to_table("_mv_rows"), kind="TABLE", properties=temp,
                        replace=True, expression=_fact_rows_in(model, fact, ranges))
    t0 = time.perf_counter()
    with wh.transaction() as cur:
        cur.execute(render(create, wh.dialect))
        cur.execute(_ranges_temp(ranges, wh.dialect))
        shared = (time.perf_counter() - t0) / len(jobs)  # the rows, shared by all
        for job in jobs:
            t1 = time.perf_counter()
            cur.execute(_delete_ranges(job.table, wh.dialect))
            cur.execute(_SQL.get((model,), ("insert", job.table, wh.dialect), lambda: render(
                exp.insert(build_sql(model, fact, job.mat, rows_table="_mv_rows"), job.table),
                wh.dialect)))
            job.record(cur, _count_in(cur, job.table, wh.dialect), "incremental", job.months,
                       seconds=shared + time.perf_counter() - t1)
        cur.execute(render(_drop("_mv_rows"), wh.dialect))
        cur.execute(render(_drop("_mv_ranges"), wh.dialect))


def data_range(wh) -> tuple[dt.date, dt.date] | None:
    """First and last partition date over every loaded fact table."""
    existing = wh.table_names()
    tables = tuple(t.name for t in TABLES.values() if t.kind == "fact" and t.name in existing)
    if not tables:
        return None
    lo, hi = wh.query_rows(_data_range_sql(tables, wh.dialect))[0]
    return (lo, hi) if lo is not None else None


@functools.lru_cache(maxsize=16)
def _data_range_sql(tables: tuple[str, ...], dialect: str) -> str:
    parts = [exp.select(exp.alias_(exp.Min(this=sb.col(PART_DATE)), "lo"),
                        exp.alias_(exp.Max(this=sb.col(PART_DATE)), "hi")).from_(t)
             for t in tables]
    union = parts[0]
    for p in parts[1:]:
        union = exp.union(union, p, distinct=False, copy=False)
    return render(exp.select(exp.Min(this=sb.col("lo")), exp.Max(this=sb.col("hi"))).from_(
        exp.Subquery(this=union, alias="u")), dialect)


def ensure_calendar_for_data(wh) -> None:
    """The calendar covers the data, a year back (for 同比) and a year ahead (targets)."""
    from warehouse.calendar import ensure_calendar

    span = data_range(wh)
    today = dt.date.today()
    lo, hi = span if span else (today, today)
    ensure_calendar(wh, dt.date(min(lo, today).year - 1, 1, 1),
                    dt.date(max(hi, today).year + 1, 12, 31))


@dataclass
class _Job:
    """One materialization in one refresh: what it is, what was recorded of it, and how its
    outcome is recorded (inside the transaction that changed it, or later with the others)."""

    fact: Fact
    mat: Materialization
    table: str
    sig: str
    st: dict | None
    load_id: int
    report: RefreshReport
    t0: float = field(default_factory=time.perf_counter)
    ranges: list = field(default_factory=list)
    months: int = 0

    def record(self, cur, rows: int, mode: str, parts: int, error: str | None = None,
               seconds: float | None = None) -> None:
        res = MvResult(self.table, mode, parts, rows,
                       time.perf_counter() - self.t0 if seconds is None else seconds, error)
        _record(cur, self.fact, self.mat, self.table, self.sig, self.load_id, res, self.st)
        self.report.results.append(res)

    def forget(self) -> None:
        """A commit that failed after this job's state was written is not a success."""
        self.report.results[:] = [r for r in self.report.results if r.name != self.table]


def refresh(wh, model, full: bool = False, only: set[str] | None = None) -> RefreshReport:
    """Bring every materialization up to date with the warehouse (one transaction each, so a
    reader sees the old or the new table, never a mix)."""
    ensure_state(wh)
    ensure_calendar_for_data(wh)
    started = dt.datetime.now()
    load_id = last_load_id(wh)
    state = _state(wh)
    existing = wh.table_names()  # one query, not one per materialization
    report = RefreshReport()
    affected: dict[tuple[str, int], set | None] = {}  # once per fact and starting load
    logs: dict[int, Changes] = {}  # the change tables probed once per starting load
    later: list[tuple] = []  # (job, rows, mode, error, seconds): recorded in one commit

    def fail(job: _Job, e: Exception) -> None:
        job.forget()
        later.append((job, 0, "failed", str(e), time.perf_counter() - job.t0))

    for fact in model.facts.values():
        batch: list[_Job] = []  # this fact's incremental rebuilds
        for mat in fact.materializations:
            table = mv_table(fact, mat)
            if only and table not in only:
                continue
            st = state.get(table)
            job = _Job(fact, mat, table, signature(model, fact, mat), st, load_id, report)
            try:
                if full or st is None or st["signature"] != job.sig or st["status"] != "ok" \
                        or table not in existing:
                    _full(wh, model, job)
                    continue
                since = int(st["built_load_id"])
                days: set | None = set()
                if since < load_id:
                    if (fact.name, since) not in affected:
                        if since not in logs:
                            logs[since] = changes_since(wh, since, existing)
                        affected[(fact.name, since)] = affected_days(wh, model, fact, since,
                                                                     logs[since])
                    days = affected[(fact.name, since)]
                if days is None:
                    _full(wh, model, job)
                elif not days:  # nothing since, or the loads since touched nothing it reads
                    later.append((job, int(st["rows"]), "unchanged", None,
                                  time.perf_counter() - job.t0))
                else:
                    # a day bucket holds only its day's rows: rebuild the changed days; a
                    # month bucket its whole month. `partitions` counts months either way.
                    months = _months(days)
                    job.ranges = _runs(days) if mat.grain == "day" else months
                    job.months = len(months)
                    batch.append(job)
            except Exception as e:  # recorded, shown on the health page; never fatal
                fail(job, e)
        groups: dict[tuple, list[_Job]] = {}  # same ranges: the rows are read once (a month
        for job in batch:                     # grain reads its whole month, a day grain
            groups.setdefault(tuple(job.ranges), []).append(job)  # only its days)
        for group in groups.values():
            if len(group) > 1:
                try:
                    _incremental_fact(wh, model, fact, group)
                    continue
                except Exception:  # rebuild them one by one: a failure stays with its own
                    for job in group:
                        job.forget()
            for job in group:
                try:
                    _incremental(wh, model, job)
                except Exception as e:
                    fail(job, e)
    if later:
        with wh.transaction() as cur:
            for job, rows, mode, error, seconds in later:
                job.record(cur, rows, mode, 0, error, seconds)
    order = {mv_table(f, m): i for i, (f, m) in enumerate(
        (f, m) for f in model.facts.values() for m in f.materializations)}
    report.results.sort(key=lambda r: order[r.name])
    wh._mv_state_cache = None
    _prune_change_log(wh)
    changed = [r for r in report.results if r.mode in ("full", "incremental")]
    previous = data_version(wh)
    report.data_version = (f"{load_id}.{hashlib.sha256(json.dumps(sorted(r.name for r in changed)).encode()).hexdigest()[:6]}"
                           if changed else previous)
    wh.execute("INSERT INTO _refresh_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        started, dt.datetime.now(), report.data_version, load_id,
        sum(r.mode == "full" for r in report.results),
        sum(r.mode == "incremental" for r in report.results),
        sum(max(r.partitions, 0) for r in report.results), len(report.failed),
        "; ".join(f"{r.name}: {r.error}" for r in report.failed) or None])
    return report


def _prune_change_log(wh) -> None:
    """Change rows every materialization has already consumed are dropped, so the log does
    not grow with every load (a new materialization starts with a full build anyway)."""
    row = wh.query_rows("SELECT min(built_load_id), count(*) FILTER (WHERE status <> 'ok') "
                        "FROM _mv_state")
    consumed, failing = row[0] if row else (None, 1)
    if consumed is None or failing:
        return
    existing = wh.table_names()
    for table in [changes_table(name) for name in TABLES] + [BULK_LOADS]:
        if table in existing:
            wh.execute(render(exp.delete(table, where=exp.LTE(
                this=sb.col("load_id"), expression=sb.literal(int(consumed)))), wh.dialect))


def _record(cur, fact, mat, table, sig, load_id, res: MvResult, st) -> None:
    """Write one materialization's state (inside the caller's transaction)."""
    ok = res.mode != "failed"
    cur.execute("DELETE FROM _mv_state WHERE name = ?", [table])
    cur.execute("INSERT INTO _mv_state VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        table, fact.name, mat.grain, ",".join(mat.dimensions), ",".join(mat.measures),
        sig if ok else (st or {}).get("signature"),
        load_id if ok else (st or {}).get("built_load_id", 0), None, dt.datetime.now(),
        res.rows, res.seconds * 1000, res.partitions, res.mode, "ok" if ok else "failed",
        res.error])

