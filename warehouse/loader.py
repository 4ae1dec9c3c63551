"""The warehouse loader: deliveries (a folder) and single inbox files, under contract v1.1.

One load run is one transaction: dimensions first, then facts (contract.LOAD_ORDER); every row
validated (warehouse.validate); bad rows quarantined with file, line, column, value and reason;
good rows upserted by primary key (new key: insert; same content: unchanged; other content:
update = delete + insert, so fact tables stay ordered by `_part_date`); `_deleted` rows remove
their key (an unknown key is counted, not an error). Dimensions get integer surrogate keys that
stay stable across loads. For every inserted, updated or deleted key the change log records the
old and new values of its date columns, its `_part_date` and its link columns
(schema.LINK_COLUMNS), so the refresher knows exactly which partitions changed. A fact's
first load into an empty table changes every partition it has: it is recorded once, as a
whole-table change (`_bulk_loads`), not per key (a fifth of a big first load's time).

>>> import tempfile, pathlib
>>> from warehouse.engine import open_warehouse
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "dim_campus.csv").write_text("campus_id,campus_name,campus_type,province,city\\nC01,总院,main,四川,成都\\n")
>>> rep = load_delivery(open_warehouse(":memory:"), d, progress=False)
>>> rep.tables["dim_campus"].inserted
1
"""
from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from sqlglot import exp

from .contract import LOAD_ORDER, PART_DATE, TABLES, Table
from .errors import ContractError, EngineError
from . import sqltree as st
from .readers import DELETED, StagedFile, UnreadableFile, table_for_file
from .schema import BULK_LOADS, changes_table, create_all, tracked_columns
from .validate import Validation, stage_file, validate

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Warehouse
    from .reconcile import Difference

MANIFEST = "_manifest.csv"


class NothingLoaded(ContractError):
    """A load found nothing it could load (no rows, or every row quarantined). The
    quarantine is committed all the same; `.report` holds the load report."""

    def __init__(self, message: str, report: "LoadReport | None" = None):
        super().__init__(message)
        self.report = report


@dataclass
class TableReport:
    """Counts of one table in one load. read = inserted + updated + unchanged + deleted +
    delete_unknown + duplicates + quarantined."""

    table: str
    file: str | None = None
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    delete_unknown: int = 0
    duplicates: int = 0  # identical repeats of a key inside the delivery, collapsed to one
    quarantined: int = 0
    seconds: float = 0.0

    @property
    def loaded(self) -> int:
        """Rows newly inserted (the report's 'loaded' column)."""
        return self.inserted

    @property
    def changed(self) -> int:
        return self.inserted + self.updated + self.deleted


@dataclass
class LoadReport:
    """What one load run did. `to_dict()` is what the server's inbox job and the CLI show."""

    load_id: int | None
    source: str
    kind: str  # delivery | file | replay | check
    tables: dict[str, TableReport] = field(default_factory=dict)
    files: list[dict] = field(default_factory=list)
    ignored_files: list[str] = field(default_factory=list)
    reconciliation: list["Difference"] = field(default_factory=list)
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def read(self) -> int:
        return sum(t.read for t in self.tables.values())

    @property
    def quarantined(self) -> int:
        return sum(t.quarantined for t in self.tables.values())

    @property
    def changed(self) -> int:
        return sum(t.changed for t in self.tables.values())

    @property
    def loaded_anything(self) -> bool:
        """True when some row was accepted (inserted, updated, deleted or found unchanged)."""
        return any(t.changed + t.unchanged + t.delete_unknown + t.duplicates
                   for t in self.tables.values())

    def to_dict(self) -> dict:
        return {
            "load_id": self.load_id, "source": self.source, "kind": self.kind,
            "started_at": self.started_at.isoformat(sep=" ") if self.started_at else None,
            "finished_at": self.finished_at.isoformat(sep=" ") if self.finished_at else None,
            "tables": {k: {**asdict(v), "loaded": v.loaded} for k, v in self.tables.items()},
            "files": self.files, "ignored_files": self.ignored_files,
            "totals": {"read": self.read, "changed": self.changed,
                       "quarantined": self.quarantined},
            "reconciliation": [d.to_dict() for d in self.reconciliation],
        }


# -- progress ----------------------------------------------------------------------------------
class _Progress:
    """A rich progress bar per file (stages: read, validate, merge), or nothing."""

    def __init__(self, enabled: bool):
        self._p = None
        if enabled and sys.stderr.isatty():
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._p = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                               transient=True)
            self._p.start()
        self._tasks: dict[str, int] = {}

    def step(self, name: str, what: str, total: int = 3) -> None:
        if self._p is None:
            return
        if name not in self._tasks:
            self._tasks[name] = self._p.add_task(f"{name}: {what}", total=total)
        else:
            self._p.update(self._tasks[name], description=f"{name}: {what}", advance=1)

    def close(self) -> None:
        if self._p is not None:
            self._p.stop()


# -- the pipeline ------------------------------------------------------------------------------
def _require_duckdb(wh: "Warehouse") -> None:
    if wh.dialect != "duckdb":
        raise EngineError(f"loading into {wh.dialect} is not built yet; load into DuckDB, or "
                          "create the StarRocks tables from `cockpit compile --dialect starrocks`")


def _is_empty(cur, name: str) -> bool:
    first = exp.select(exp.Literal.number(1)).from_(st.table(name)).limit(1)
    return bool(st.run(cur, exp.select(exp.EQ(this=exp.Count(this=exp.Star()),
                                              expression=exp.Literal.number(0)))
                       .from_(first.subquery("x"))).fetchone()[0])


def _count_new(cur, good: str) -> tuple[int, int]:
    """(rows to insert, deletions of keys the table does not hold) of validated rows that
    meet an empty table."""
    not_del = exp.Not(this=st.column("_del"))
    inserted, unknown = st.run(cur, exp.select(
        exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=not_del)),
        exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=st.column("_del"))))
        .from_(st.table(good))).fetchone()
    return int(inserted), int(unknown)


def _insert_new(cur, table: Table, v: Validation) -> tuple[int, int]:
    """Insert the validated rows of `table` whose keys the table cannot hold yet (it was
    empty); returns (inserted, deletions of unknown keys)."""
    inserted, unknown = _count_new(cur, v.good)
    if inserted:
        _insert_rows(cur, table, v.good)
    return inserted, unknown


def _insert_rows(cur, table: Table, source: str) -> None:
    """The rows of `source` (validated rows, `_del` false) into `table`, ordered by
    partition; dimensions number their surrogate keys."""
    pk = list(table.primary_key)
    sk = table.surrogate_key
    cols = list(table.column_names) + ([PART_DATE] if table.partition_by else [])
    order = [PART_DATE] if table.partition_by else pk
    sel = exp.select(*[st.column(c) for c in cols]).from_(st.table(source)).where(
        exp.Not(this=st.column("_del")))
    if sk:
        sel = sel.select(exp.Window(this=exp.RowNumber(), order=exp.Order(
            expressions=[exp.Ordered(this=st.column(k)) for k in pk])))
    st.run(cur, exp.insert(sel.order_by(*[st.column(c) for c in order]),
                           into=st.table(table.name),
                           columns=[exp.to_identifier(c, quoted=True)
                                    for c in cols + ([sk] if sk else [])]))


def _merge(cur, table: Table, v: Validation, load_id: int, rep: TableReport) -> None:
    """Upsert the validated rows of `table` into the warehouse and record the changed keys."""
    name = table.name
    pk = list(table.primary_key)
    non_key = [c for c in table.column_names if c not in pk]
    tracked = tracked_columns(table)
    sk = table.surrogate_key
    cols = list(table.column_names) + ([PART_DATE] if table.partition_by else [])
    chg_cols = ["load_id", "op"] + pk + [p + c for c in tracked for p in ("old_", "new_")]
    not_del = exp.Not(this=st.column("_del"))
    if _is_empty(cur, name):  # fast path: every key is new; no join
        rep.inserted, rep.delete_unknown = _insert_new(cur, table, v)
        if not rep.inserted:
            return
        if table.kind == "fact":  # every partition is new: one whole-table change
            st.run(cur, st.insert_params(BULK_LOADS, 3), [load_id, name, rep.inserted])
            return
        vals = [exp.Literal.number(int(load_id)), exp.Literal.string("insert")] + [
            st.column(k) for k in pk] + [x for c in tracked for x in (exp.Null(), st.column(c))]
        st.run(cur, exp.insert(exp.select(*vals).from_(st.table(v.good)).where(not_del.copy()),
                             into=st.table(changes_table(name)),
                             columns=[exp.to_identifier(c, quoted=True) for c in chg_cols]))
        return

    mrg = f"_mrg_{name}"
    g, o, m = (lambda c: st.column(c, "g")), (lambda c: st.column(c, "o")), (lambda c: st.column(c, "m"))
    rowid = exp.column("rowid", table="o")
    same = st.all_of([exp.NullSafeEQ(this=g(c), expression=o(c)) for c in non_key])
    op = exp.Case(ifs=[
        exp.If(this=exp.Is(this=rowid, expression=exp.Null()),
               true=exp.Case(ifs=[exp.If(this=g("_del"), true=exp.Literal.string(
                   "delete_unknown"))], default=exp.Literal.string("insert"))),
        exp.If(this=g("_del"), true=exp.Literal.string("delete")),
        exp.If(this=same, true=exp.Literal.string("unchanged"))],
        default=exp.Literal.string("update"))
    olds = [exp.alias_(o(c), "_old_" + c, quoted=True) for c in tracked]
    if sk:
        olds.append(exp.alias_(o(sk), "_old_sk"))
    st.run(cur, exp.Create(
        this=st.table(mrg), kind="TABLE", replace=True,
        properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
        expression=exp.select(g("_line"), exp.alias_(rowid.copy(), "_orow"), *olds,
                              exp.alias_(op, "_op"))
        .from_(st.table(v.good, "g")).join(st.table(name, "o"), join_type="left",
                                      on=st.all_of([exp.EQ(this=g(k), expression=o(k))
                                               for k in pk]))))
    counts = dict(st.run(cur, exp.select(exp.column("_op"), exp.Count(this=exp.Star()))
                       .from_(st.table(mrg)).group_by(exp.column("_op"))).fetchall())
    rep.inserted = counts.get("insert", 0)
    rep.updated = counts.get("update", 0)
    rep.unchanged = counts.get("unchanged", 0)
    rep.deleted = counts.get("delete", 0)
    rep.delete_unknown = counts.get("delete_unknown", 0)
    if not (rep.inserted or rep.updated or rep.deleted):
        st.run(cur, st.drop(mrg))
        return

    # changed keys first (old values are read from the merge table, new from the good rows)
    on_line = exp.EQ(this=g("_line"), expression=m("_line"))
    vals = [exp.Literal.number(int(load_id)), m("_op")] + [g(k) for k in pk] + [
        x for c in tracked for x in (m("_old_" + c), exp.Case(
            ifs=[exp.If(this=exp.EQ(this=m("_op"), expression=exp.Literal.string("delete")),
                        true=exp.Null())], default=g(c)))]
    st.run(cur, exp.insert(
        exp.select(*vals).from_(st.table(v.good, "g")).join(st.table(mrg, "m"), on=on_line)
        .where(st.one_of(m("_op"), "insert", "update", "delete")),
        into=st.table(changes_table(name)),
        columns=[exp.to_identifier(c, quoted=True) for c in chg_cols]))
    if sk:  # before the delete: an updated row keeps its key, new keys come after every old one
        max_sk = st.run(cur, exp.select(exp.Coalesce(this=exp.Max(this=st.column(sk)), expressions=[
            exp.Literal.number(0)])).from_(st.table(name))).fetchone()[0]
    if rep.updated or rep.deleted:
        st.run(cur, exp.delete(st.table(name), where=exp.In(
            this=exp.column("rowid"), query=exp.Subquery(this=exp.select(exp.column("_orow"))
                                                         .from_(st.table(mrg)).where(st.one_of(
                                                             exp.column("_op"), "update",
                                                             "delete"))))))
    sel = (exp.select(*[g(c) for c in cols]).from_(st.table(v.good, "g"))
           .join(st.table(mrg, "m"), on=on_line.copy())
           .where(st.one_of(m("_op"), "insert", "update")))
    if sk:
        new_sk = exp.Add(this=exp.Literal.number(int(max_sk)), expression=exp.Window(
            this=exp.RowNumber(), partition_by=[m("_op")],
            order=exp.Order(expressions=[exp.Ordered(this=g(k)) for k in pk])))
        sel = sel.select(exp.alias_(exp.Case(
            ifs=[exp.If(this=exp.EQ(this=m("_op"), expression=exp.Literal.string("update")),
                        true=m("_old_sk"))], default=new_sk), "_sk")).order_by(
            exp.column("_sk"))
        into_cols = cols + [sk]
    else:
        sel = sel.order_by(g(PART_DATE if table.partition_by else pk[0]))
        into_cols = cols
    st.run(cur, exp.insert(sel, into=st.table(name),
                         columns=[exp.to_identifier(c, quoted=True) for c in into_cols]))
    st.run(cur, st.drop(mrg))


#: a fact's first load from a Parquet file of more rows than this is read in slices of this
#: many rows (a slice's typed copy is what spills beyond DuckDB's memory limit)
SLICE_ROWS = 10_000_000
#: memory of the scratch database a slice is validated in, and the rows it hands over at once
SCRATCH_MEMORY = "2GB"
SLICE_BATCH = 1_000_000
#: keys grouped at once when looking for keys repeated across slices (~16 bytes each)
HASH_PART_ROWS = 150_000_000


def _in_slices(cur, table: Table, s: StagedFile) -> bool:
    return (table.kind == "fact" and s.format == "parquet" and s.typed is None
            and (s.rows or 0) > SLICE_ROWS and _is_empty(cur, table.name))


def _load_in_slices(cur, table: Table, s: StagedFile, load_id: int, tr: TableReport,
                    prog: "_Progress") -> list:
    """A fact's first load (into an empty table) from a big Parquet file, slice by slice:
    each slice is parsed and validated (types, enums, foreign keys, its own repeated keys)
    in a scratch database (`_scratch`), and its good rows and problems stream into the
    warehouse before the next slice is read, so the temporary copy is one slice, not the
    file. Keys repeated across slices are then found on the inserted rows
    (`_repeated_across_slices`). Returns the per-day differences of file and accepted rows."""
    name = table.name
    days: dict = {}
    slices = range(1, s.rows + 1, SLICE_ROWS)
    scratch = _scratch(cur, table)
    try:
        for first in slices:
            last = min(first + SLICE_ROWS - 1, s.rows)
            prog.step(name, f"lines {first:,}–{last:,} of {s.rows:,}", total=2 + len(slices))
            part = s.sliced(first, last)
            v = validate(scratch, part)
            tr.read += v.read
            tr.quarantined += v.quarantined
            tr.duplicates += v.duplicates
            inserted, unknown = _count_new(scratch, v.good)
            tr.inserted += inserted
            tr.delete_unknown += unknown
            if inserted:
                with _streamed(cur, scratch, v.good, "_slice_rows") as rows:
                    _insert_rows(cur, table, rows)
            with _streamed(cur, scratch, v.problems, "_slice_problems") as problems:
                cur.execute(_quarantine_sql(problems), [load_id, name])
            for d, *counts in v.per_day or []:
                days[d] = [(a or 0) + (b or 0) for a, b in zip(days.get(d, [0] * 4), counts)]
            for temp in {v.good, v.problems, part.typed}:
                st.run(scratch, st.drop(temp))
    finally:
        scratch.close()
    repeated = len(slices) > 1 and _repeated_across_slices(cur, table, s, load_id, tr)
    if tr.inserted:
        st.run(cur, st.insert_params(BULK_LOADS, 3), [load_id, name, tr.inserted])
    if repeated:  # the slices' own per-day counts no longer add up: count the file whole
        from .validate import per_day_of_load

        return per_day_of_load(cur, s, name)
    return [(d, *c) for d, c in sorted(days.items(), key=lambda kv: (kv[0] is not None, kv[0]))]


def _scratch(cur, table: Table):
    """An in-memory DuckDB for a sliced load's parsing and validation. A transaction keeps
    every temporary block it wrote until it ends (a dropped TEMP table included), so a
    slice validated inside the load's transaction would leave its copy behind; outside it,
    each slice's tables are freed when dropped. It holds copies of the columns the table's
    foreign keys point at (read inside the load, so this delivery's dimensions count) and
    spills beside the warehouse's own temporary folder."""
    import duckdb

    temp = cur.execute("SELECT current_setting('temp_directory')").fetchone()[0] or ".tmp"
    scratch = duckdb.connect(config={"memory_limit": SCRATCH_MEMORY,
                                     "temp_directory": temp.rstrip("/") + ".slices"})
    refs: dict[str, set[str]] = {}
    for c in table.foreign_keys:
        refs.setdefault(c.ref_table, set()).add(c.ref_column)
    for ref, columns in refs.items():
        rows = cur.execute(exp.select(*[st.column(c) for c in sorted(columns)]).distinct()
                           .from_(st.table(ref)).sql("duckdb")).df()  # (a dimension: small)
        scratch.register("_ref_rows", rows)
        scratch.execute(exp.Create(this=st.table(ref), kind="TABLE", expression=exp.select(
            exp.Star()).from_("_ref_rows")).sql("duckdb"))
        scratch.unregister("_ref_rows")
    return scratch


@contextlib.contextmanager
def _streamed(cur, scratch, table: str, name: str):
    """`table` (a TEMP table of the scratch database) visible on `cur` as `name` while
    inside, streamed in batches through Arrow."""
    scratch.execute("SELECT 1").fetchall()  # (the connection's last result finished)
    cur.register(name, scratch.sql(exp.select(exp.Star()).from_(st.table(table)).sql(
        "duckdb")).to_arrow_reader(SLICE_BATCH))
    try:
        yield name
    finally:
        cur.unregister(name)


def _table_key(table: Table, alias: str | None = None) -> exp.Expression:
    """A row's key as one text (parts joined by '|'), as the quarantine's `value` holds it."""
    return _joined([exp.cast(st.column(k, alias), "VARCHAR") for k in table.primary_key])


def _quarantined_key(table: Table) -> exp.Expression:
    """The key of a quarantined row, from its delivered values (`row_json`)."""
    return _joined([exp.func("json_extract_string", exp.column("row_json"),
                             exp.Literal.string("$." + k)) for k in table.primary_key])


def _concat(*parts) -> exp.Expression:
    """`a || b || …`; a str part is a string literal."""
    parts = [exp.Literal.string(p) if isinstance(p, str) else p for p in parts]
    out = parts[0]
    for p in parts[1:]:
        out = exp.DPipe(this=out, expression=p)
    return out


def _repeated_across_slices(cur, table: Table, s: StagedFile, load_id: int,
                            tr: TableReport) -> bool:
    """What the whole-file check of repeated keys finds, for a load read in slices. Keys the
    slices inserted more than once (the table held only this load's rows) are grouped a hash
    part of the keys at a time, so the grouping fits in memory; a key a slice quarantined
    that another slice inserted was delivered with different content. Identical repeats
    collapse to one row; for a key delivered with different content every line of the file
    is quarantined, with the key's count in the whole file. True when it found any."""
    import sqlglot

    from .validate import REPEATED

    name, pk_names = table.name, ", ".join(table.primary_key)
    key, col, lit, ph = _table_key(table), exp.column, exp.Literal, exp.Placeholder
    count = exp.Count(this=exp.Star())
    this_load = st.all_of([exp.EQ(this=col("load_id"), expression=ph()),
                           exp.EQ(this=col("table_name"), expression=ph())])
    repeated = st.table("_repeated")

    def keys_where(nd_test) -> exp.Expression:  # key IN (SELECT k FROM _repeated WHERE …)
        return exp.In(this=key.copy(), query=exp.select("k").from_(repeated.copy()).where(
            nd_test(this=col("nd"), expression=lit.number(1))).subquery())

    # 64-bit hashes of the keys seen twice (a part of the hashes at a time), then the keys
    parts = max(1, -(-tr.inserted // HASH_PART_ROWS))
    st.run(cur, st.temp_table("_repeated_h", [("h", "UBIGINT")]))
    hashes = exp.select(exp.alias_(exp.func("hash", key.copy()), "h")).from_(st.table(name))
    for p in range(parts):
        st.run(cur, exp.insert(
            exp.select("h").from_(hashes.subquery("x")).where(exp.EQ(
                this=exp.Mod(this=col("h"), expression=lit.number(parts)),
                expression=lit.number(p))).group_by("h").having(exp.GT(
                    this=count.copy(), expression=lit.number(1))),
            into=st.table("_repeated_h")))
    st.run(cur, exp.Create(
        this=repeated.copy(), kind="TABLE", replace=True,
        properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
        expression=exp.select(
            exp.alias_(key.copy(), "k"),
            exp.alias_(exp.Count(this=exp.Distinct(expressions=[exp.func(
                "hash", *[st.column(c) for c in table.column_names])])), "nd"))
        .from_(st.table(name)).where(exp.In(
            this=exp.func("hash", key.copy()),
            query=exp.select("h").from_(st.table("_repeated_h")).subquery()))
        .group_by(key.copy()).having(exp.GT(this=count.copy(), expression=lit.number(1)))))
    st.run(cur, st.drop("_repeated_h"))
    if st.run(cur, exp.select(count.copy()).from_("_quarantine").where(this_load.copy()),
              [load_id, name]).fetchone()[0]:  # (a join: the few quarantined keys build)
        quarantined = exp.select(exp.alias_(_quarantined_key(table), "qk")).from_(
            "_quarantine").where(this_load.copy())
        st.run(cur, exp.insert(
            exp.select(col("qk", table="b"), lit.number(2)).distinct()
            .from_(quarantined.subquery("b"))
            .join(st.table(name, "t"), on=exp.EQ(this=col("qk", table="b"),
                                                 expression=_table_key(table, "t")))
            .where(exp.Not(this=exp.In(this=col("qk", table="b"), query=exp.select("k").from_(
                repeated.copy()).subquery()))),
            into=repeated.copy()), [load_id, name])
    if not st.run(cur, exp.select(count.copy()).from_(repeated.copy())).fetchone()[0]:
        st.run(cur, st.drop("_repeated"))
        return False
    numbered = exp.select(exp.column("rowid"), exp.alias_(exp.Window(
        this=exp.RowNumber(), partition_by=[key.copy()],
        order=exp.Order(expressions=[exp.Ordered(this=exp.column("rowid"))])), "i")).from_(
        st.table(name)).where(keys_where(exp.EQ))
    collapsed = st.run(cur, exp.delete(st.table(name), where=exp.In(  # identical: one stays
        this=exp.column("rowid"), query=exp.select("rowid").from_(numbered.subquery("x"))
        .where(exp.GT(this=col("i"), expression=lit.number(1))).subquery()))).fetchone()[0]
    tr.duplicates += collapsed
    tr.inserted -= collapsed
    lines = exp.select(exp.Count(this=exp.Distinct(expressions=[col("line")]))).from_(
        "_quarantine").where(this_load.copy())
    before = st.run(cur, lines, [load_id, name]).fetchone()[0]
    st.run(cur, exp.delete("_quarantine", where=st.all_of([
        this_load.copy(), exp.EQ(this=col("column_name"), expression=ph()),
        exp.Like(this=col("reason"), expression=ph()),
        exp.In(this=col("value"), query=exp.select("k").from_(repeated.copy()).where(
            exp.GT(this=col("nd"), expression=lit.number(1))).subquery())])),
        [load_id, name, pk_names, "%" + REPEATED])
    delivered = [c for c in table.column_names] + ([DELETED] if s.has_deleted else [])
    lines_of_keys = exp.select(
        col("_line", table="f"), col("k", table="r"),
        exp.alias_(exp.Window(this=count.copy(), partition_by=[col("k", table="r")]), "n"),
        exp.alias_(exp.func("to_json", exp.func("struct_pack", *[
            exp.PropertyEQ(this=exp.to_identifier(c, quoted=True),
                           expression=st.column(c, "f")) for c in delivered])), "j"),
    ).from_(exp.alias_(sqlglot.parse_one(s.text, dialect="duckdb"), "f", table=True)).join(
        st.table("_repeated", "r"), on=exp.EQ(this=col("k", table="r"),
                                              expression=_table_key(table, "f"))).where(
        exp.GT(this=col("nd", table="r"), expression=lit.number(1)))
    reason = _concat(lit.string(s.label), ":", col("_line"), f": column {pk_names}: key '",
                     col("k"), "' appears ", col("n"), " " + REPEATED)
    st.run(cur, exp.insert(  # differing content: every line of the key, as the whole file
        exp.select(ph(), ph(), lit.string(s.label), col("_line"), lit.string(pk_names),
                   col("k"), reason, col("j"), lit.string("open"), exp.Null())
        .from_(lines_of_keys.subquery("x")).order_by(col("_line")),
        into="_quarantine", columns=["load_id", "table_name", "file", "line", "column_name",
                                     "value", "reason", "row_json", "status",
                                     "resolved_load_id"]), [load_id, name, *s.params])
    tr.quarantined += st.run(cur, lines, [load_id, name]).fetchone()[0] - before
    tr.inserted -= st.run(cur, exp.delete(st.table(name), where=keys_where(exp.GT))
                          ).fetchone()[0]
    st.run(cur, st.drop("_repeated"))
    return True


def _resolve_by_key(cur, table: Table, loaded: str, load_id: int) -> None:
    """Open quarantine entries of earlier loads whose key has now been loaded (is in the
    table `loaded`: the good rows, or the fact a first load filled) are resolved."""
    if not cur.execute("SELECT count(*) FROM _quarantine WHERE status = 'open' AND table_name = ? "
                       "AND load_id < ?", [table.name, load_id]).fetchone()[0]:
        return
    qkey, gkey = _quarantined_key(table), _table_key(table)
    ph = exp.Placeholder
    update = exp.update(st.table("_quarantine"), {"status": exp.Literal.string("resolved"),
                                              "resolved_load_id": ph()}, where=st.all_of([
        exp.EQ(this=exp.column("status"), expression=exp.Literal.string("open")),
        exp.EQ(this=exp.column("table_name"), expression=ph()),
        exp.LT(this=exp.column("load_id"), expression=ph()),
        exp.In(this=qkey, query=exp.Subquery(this=exp.select(gkey).from_(st.table(loaded))))]))
    cur.execute(update.sql("duckdb"), [load_id, table.name, load_id])


def _joined(parts: list[exp.Expression]) -> exp.Expression:
    """A composite key as one text: the parts joined by '|'."""
    out = parts[0]
    for p in parts[1:]:
        out = exp.DPipe(this=exp.DPipe(this=out, expression=exp.Literal.string("|")),
                        expression=p)
    return out


def _quarantine_sql(problems: str) -> str:
    """The problems of one table's validation into `_quarantine` (load id and table name as
    parameters)."""
    kept = ["file", "line", "column_name", "value", "reason", "row_json"]
    sel = exp.select(exp.Placeholder(), exp.Placeholder(), *[exp.column(c) for c in kept],
                     exp.Literal.string("open"), exp.Null()).from_(st.table(problems)).order_by(
        exp.column("line"), exp.column("column_name"))
    return exp.insert(sel, into=st.table("_quarantine"), columns=[
        "load_id", "table_name", *kept, "status", "resolved_load_id"]).sql("duckdb")


def _next_load_id(cur) -> int:
    return int(cur.execute("SELECT coalesce(max(load_id), 0) + 1 FROM _loads").fetchone()[0])


AfterTable = Callable[[object, Table, Validation, int], None]


def run_load(wh: "Warehouse", staged: list[StagedFile], source: str, kind: str,
             manifest: Path | None = None, progress: "bool | _Progress" = False,
             after_table: AfterTable | None = None, require_rows: bool = True) -> LoadReport:
    """Validate and merge already staged files in one transaction (lower-level entry point;
    `load_delivery` and `load_file` stage then call this). `after_table(cur, table, validation,
    load_id)` runs inside the transaction after each table (quarantine replay uses it)."""
    rep = LoadReport(None, source, kind, started_at=datetime.now())
    per_day: dict[str, list] = {}
    by_table = {s.table: s for s in staged}
    prog = progress if isinstance(progress, _Progress) else _Progress(progress)
    cur = wh.cursor()
    try:
        with wh.transaction() as cur:
            load_id = rep.load_id = _next_load_id(cur)
            for name in LOAD_ORDER:
                s = by_table.get(name)
                if s is None:
                    continue
                t0 = time.perf_counter()
                table = TABLES[name]
                tr = rep.tables[name] = TableReport(name, str(s.path) if s.format != "rows" else s.label)
                if _in_slices(cur, table, s):  # a first load: the table holds only its rows
                    per_day[name] = _load_in_slices(cur, table, s, load_id, tr, prog)
                    _resolve_by_key(cur, table, name, load_id)
                else:
                    prog.step(name, "validating")
                    v = validate(cur, s)
                    tr.read, tr.quarantined, tr.duplicates = v.read, v.quarantined, v.duplicates
                    per_day[name] = v.per_day or []
                    prog.step(name, "merging")
                    _merge(cur, table, v, load_id, tr)
                    cur.execute(_quarantine_sql(v.problems), [load_id, name])
                    _resolve_by_key(cur, table, v.good, load_id)
                    if after_table is not None:
                        after_table(cur, table, v, load_id)
                    for temp in (v.good, v.problems):
                        st.run(cur, st.drop(temp))
                tr.seconds = round(time.perf_counter() - t0, 3)
                cur.execute(
                    "INSERT INTO _load_log (load_id, table_name, file, rows_read, inserted, updated, "
                    "unchanged, deleted, delete_unknown, duplicates, quarantined, seconds, loaded_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [load_id, name, tr.file, tr.read, tr.inserted, tr.updated, tr.unchanged,
                     tr.deleted, tr.delete_unknown, tr.duplicates, tr.quarantined, tr.seconds,
                     datetime.now()])
                prog.step(name, "done")
            for s in staged:
                if s.format == "rows":
                    continue
                rep.files.append({"path": str(s.path), "table": s.table, "format": s.format,
                                  "encoding": s.encoding, "rows": s.rows,
                                  "ignored_columns": s.ignored_columns})
                cur.execute("INSERT INTO _load_files VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            [load_id, s.table, str(s.path), s.format, s.encoding, s.size_bytes,
                             s.modified_at, s.rows])
            from .reconcile import differences_from_days, reconcile_manifest, read_manifest

            if manifest is not None:
                rep.reconciliation = reconcile_manifest(cur, read_manifest(manifest))
            else:  # the files against what they left in the warehouse: quarantined rows
                rep.reconciliation = differences_from_days(per_day)
            rep.finished_at = datetime.now()
            cur.execute("INSERT INTO _loads VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [load_id, kind, source, rep.started_at, rep.finished_at, rep.read,
                         rep.changed, rep.quarantined])
    finally:
        prog.close()
        for s in staged:
            s.cleanup(cur)
    if require_rows and rep.read == 0:
        raise NothingLoaded(f"{source}: no rows to load (the files hold a header only)", rep)
    if require_rows and not rep.loaded_anything:
        raise NothingLoaded(
            f"{source}: nothing could be loaded: all {rep.quarantined} row(s) were quarantined; "
            "see `cockpit quarantine list`", rep)
    return rep


def delivery_files(source: Path) -> tuple[list[tuple[str, Path]], Path | None, list[str]]:
    """The (table, file) pairs of a delivery folder in load order, its manifest, ignored files."""
    source = Path(source)
    if not source.is_dir():
        raise UnreadableFile(f"{source}: not a folder")
    found: dict[str, Path] = {}
    ignored: list[str] = []
    manifest = None
    for p in sorted(source.iterdir()):
        if p.name == MANIFEST:
            manifest = p
            continue
        t = table_for_file(p) if p.is_file() else None
        if t is None:
            ignored.append(p.name)
        elif t in found:
            raise UnreadableFile(f"{source}: two files for {t} ({found[t].name}, {p.name}); "
                                 "deliver one file per table")
        else:
            found[t] = p
    return [(t, found[t]) for t in LOAD_ORDER if t in found], manifest, ignored


def load_delivery(wh: "Warehouse", source: Path, encoding: str | None = None,
                  progress: bool = True) -> LoadReport:
    """Load a delivery folder (`<table>.csv|.parquet` files, optional `_manifest.csv`) in one
    transaction and return its report. A single file path is passed on to `load_file`.

    Raises UnreadableFile when a file cannot be read (nothing is loaded then) and NothingLoaded
    when no row could be loaded.
    """
    source = Path(source)
    if source.is_file():
        return load_file(wh, source, encoding=encoding, progress=progress)
    _require_duckdb(wh)
    pairs, manifest, ignored = delivery_files(source)
    if not pairs:
        raise NothingLoaded(f"{source}: no contract table files (expected <table>.csv or "
                            f"<table>.parquet, e.g. fact_visit.csv)")
    create_all(wh)
    cur = wh.cursor()
    staged: list[StagedFile] = []
    prog = _Progress(progress)
    try:
        for t, p in pairs:
            prog.step(t, f"reading {p.name}")
            staged.append(stage_file(cur, p, t, encoding=encoding, defer_above=SLICE_ROWS))
    except BaseException:
        prog.close()
        for s in staged:
            s.cleanup(cur)
        raise
    rep = run_load(wh, staged, str(source), "delivery", manifest=manifest, progress=prog)
    rep.ignored_files = ignored
    return rep


def load_file(wh: "Warehouse", path: Path, encoding: str | None = None,
              progress: bool = False) -> LoadReport:
    """Load one file (e.g. dropped into the inbox: `fact_visit.csv`, `fact_visit.20240105.csv`)
    in one transaction; foreign keys are checked against what the warehouse already holds."""
    _require_duckdb(wh)
    path = Path(path)
    create_all(wh)
    cur = wh.cursor()
    staged = stage_file(cur, path, encoding=encoding, defer_above=SLICE_ROWS)
    return run_load(wh, [staged], str(path), "file", progress=progress)


# -- reading back ------------------------------------------------------------------------------
def last_load_id(wh: "Warehouse") -> int:
    """The id of the latest committed load (0 when none): a data version that changes only when
    data changed."""
    if not wh.table_exists("_loads"):
        return 0
    return int(wh.scalar("SELECT coalesce(max(load_id), 0) FROM _loads"))


def bulk_loaded(wh: "Warehouse", since_load_id: int = 0) -> set[str]:
    """Fact tables first loaded (into an empty table) by loads after `since_load_id`: all their
    partitions are new, and their keys are not in the change tables."""
    if not wh.table_exists(BULK_LOADS):
        return set()
    sel = exp.select(exp.column("table_name")).distinct().from_(st.table(BULK_LOADS)).where(
        exp.GT(this=exp.column("load_id"), expression=exp.Placeholder()))
    return {r[0] for r in wh.query_rows(sel.sql("duckdb"), [since_load_id])}


def changed_partitions(wh: "Warehouse", since_load_id: int = 0):
    """DataFrame (table_name, part_date) of every fact partition touched by loads after
    `since_load_id`: old and new `_part_date` of every inserted, updated or deleted key, and
    every partition of a table first loaded in that span."""
    since = [exp.GT(this=exp.column("load_id"), expression=exp.Placeholder()),
             exp.EQ(this=exp.column("column_name"), expression=exp.Placeholder())]
    parts = [exp.select(exp.column("table_name"), exp.alias_(exp.column(side), "d"))
             .from_(st.table("_change_log")).where(st.all_of([c.copy() for c in since]))
             for side in ("old_value", "new_value")]
    parts += [exp.select(exp.Literal.string(t), exp.cast(st.column(PART_DATE), "VARCHAR"))
              .from_(st.table(t)) for t in sorted(bulk_loaded(wh, since_load_id))]
    union = parts[0]
    for p in parts[1:]:
        union = exp.union(union, p, distinct=False)
    sel = (exp.select(exp.column("table_name"),
                      exp.alias_(exp.cast(exp.column("d"), "DATE"), "part_date"))
           .distinct().from_(union.subquery("u"))
           .where(exp.Not(this=exp.Is(this=exp.column("d"), expression=exp.Null())))
           .order_by(exp.Literal.number(1), exp.Literal.number(2)))
    return wh.query_df(sel.sql("duckdb"), [since_load_id, PART_DATE, since_load_id, PART_DATE])
