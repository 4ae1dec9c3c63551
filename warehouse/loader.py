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

import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .contract import LOAD_ORDER, PART_DATE, TABLES, Table
from .errors import ContractError, EngineError
from .readers import StagedFile, UnreadableFile, table_for_file
from .schema import BULK_LOADS, changes_table, create_all, tracked_columns
from .validate import Validation, lit, q, stage_file, validate

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


def _merge(cur, table: Table, v: Validation, load_id: int, rep: TableReport) -> None:
    """Upsert the validated rows of `table` into the warehouse and record the changed keys."""
    name = table.name
    pk = list(table.primary_key)
    non_key = [c for c in table.column_names if c not in pk]
    tracked = tracked_columns(table)
    sk = table.surrogate_key
    cols = list(table.column_names) + ([PART_DATE] if table.partition_by else [])
    sel = ", ".join(q(c) for c in cols)
    order = PART_DATE if table.partition_by else ", ".join(q(k) for k in pk)
    chg = q(changes_table(name))
    chg_cols = ", ".join(["load_id", "op"] + [q(k) for k in pk] +
                         [q(p + c) for c in tracked for p in ("old_", "new_")])
    empty = cur.execute(f"SELECT count(*) = 0 FROM (SELECT 1 FROM {q(name)} LIMIT 1)").fetchone()[0]

    if empty:  # fast path: every key is new; no join
        rep.inserted, rep.delete_unknown = cur.execute(
            f"SELECT count(*) FILTER (WHERE NOT _del), count(*) FILTER (WHERE _del) "
            f"FROM {q(v.good)}").fetchone()
        if not rep.inserted:
            return
        sk_sel = f", row_number() OVER (ORDER BY {', '.join(q(k) for k in pk)})" if sk else ""
        cur.execute(f"INSERT INTO {q(name)} ({sel}{', ' + q(sk) if sk else ''}) "
                    f"SELECT {sel}{sk_sel} FROM {q(v.good)} WHERE NOT _del ORDER BY {order}")
        if table.kind == "fact":  # every partition is new: one whole-table change
            cur.execute(f"INSERT INTO {BULK_LOADS} VALUES (?, ?, ?)",
                        [load_id, name, rep.inserted])
            return
        vals = ", ".join([str(int(load_id)), "'insert'"] + [q(k) for k in pk] +
                         [x for c in tracked for x in ("NULL", q(c))])
        cur.execute(f"INSERT INTO {chg} ({chg_cols}) SELECT {vals} FROM {q(v.good)} WHERE NOT _del")
        return

    mrg = q(f"_mrg_{name}")
    olds = [f"o.{q(c)} AS {q('_old_' + c)}" for c in tracked]
    if sk:
        olds.append(f"o.{q(sk)} AS _old_sk")
    same = " AND ".join(f"g.{q(c)} IS NOT DISTINCT FROM o.{q(c)}" for c in non_key) or "true"
    join = " AND ".join(f"g.{q(k)} = o.{q(k)}" for k in pk)
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE {mrg} AS SELECT g._line, o.rowid AS _orow, "
        f"{', '.join(olds) + ', ' if olds else ''}"
        f"CASE WHEN o.rowid IS NULL THEN (CASE WHEN g._del THEN 'delete_unknown' ELSE 'insert' END) "
        f"WHEN g._del THEN 'delete' WHEN {same} THEN 'unchanged' ELSE 'update' END AS _op "
        f"FROM {q(v.good)} g LEFT JOIN {q(name)} o ON {join}")
    counts = dict(cur.execute(f"SELECT _op, count(*) FROM {mrg} GROUP BY _op").fetchall())
    rep.inserted = counts.get("insert", 0)
    rep.updated = counts.get("update", 0)
    rep.unchanged = counts.get("unchanged", 0)
    rep.deleted = counts.get("delete", 0)
    rep.delete_unknown = counts.get("delete_unknown", 0)
    if not (rep.inserted or rep.updated or rep.deleted):
        cur.execute(f"DROP TABLE {mrg}")
        return

    # changed keys first (old values are read from the merge table, new from the good rows)
    vals = ", ".join([str(int(load_id)), "m._op"] + [f"g.{q(k)}" for k in pk] + [
        x for c in tracked for x in (f"m.{q('_old_' + c)}",
                                     f"CASE WHEN m._op = 'delete' THEN NULL ELSE g.{q(c)} END")])
    cur.execute(f"INSERT INTO {chg} ({chg_cols}) SELECT {vals} FROM {q(v.good)} g "
                f"JOIN {mrg} m ON g._line = m._line WHERE m._op IN ('insert', 'update', 'delete')")
    if sk:  # before the delete: an updated row keeps its key, new keys come after every old one
        max_sk = cur.execute(f"SELECT coalesce(max({q(sk)}), 0) FROM {q(name)}").fetchone()[0]
    if rep.updated or rep.deleted:
        cur.execute(f"DELETE FROM {q(name)} WHERE rowid IN "
                    f"(SELECT _orow FROM {mrg} WHERE _op IN ('update', 'delete'))")
    gsel = ", ".join(f"g.{q(c)}" for c in cols)
    src = f"{q(v.good)} g JOIN {mrg} m ON g._line = m._line"
    if sk:
        keys = ", ".join(f"g.{q(k)}" for k in pk)
        cur.execute(f"INSERT INTO {q(name)} ({sel}, {q(sk)}) SELECT {gsel}, CASE WHEN m._op = 'update' "
                    f"THEN m._old_sk ELSE {int(max_sk)} + row_number() OVER "
                    f"(PARTITION BY m._op ORDER BY {keys}) END AS _sk FROM {src} "
                    f"WHERE m._op IN ('insert', 'update') ORDER BY _sk")
    else:
        cur.execute(f"INSERT INTO {q(name)} ({sel}) SELECT {gsel} FROM {src} "
                    f"WHERE m._op IN ('insert', 'update') ORDER BY g.{order if table.partition_by else q(pk[0])}")
    cur.execute(f"DROP TABLE {mrg}")


def _resolve_by_key(cur, table: Table, v: Validation, load_id: int) -> None:
    """Open quarantine entries of earlier loads whose key has now been loaded are resolved."""
    if not cur.execute("SELECT count(*) FROM _quarantine WHERE status = 'open' AND table_name = ? "
                       "AND load_id < ?", [table.name, load_id]).fetchone()[0]:
        return
    pk = list(table.primary_key)
    qkey = " || '|' || ".join(f"json_extract_string(row_json, {lit('$.' + k)})" for k in pk)
    gkey = " || '|' || ".join(f"CAST({q(k)} AS VARCHAR)" for k in pk)
    cur.execute(f"UPDATE _quarantine SET status = 'resolved', resolved_load_id = ? "
                f"WHERE status = 'open' AND table_name = ? AND load_id < ? AND {qkey} IN "
                f"(SELECT {gkey} FROM {q(v.good)})", [load_id, table.name, load_id])


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
                prog.step(name, "validating")
                v = validate(cur, s)
                tr.read, tr.quarantined, tr.duplicates = v.read, v.quarantined, v.duplicates
                per_day[name] = v.per_day or []
                prog.step(name, "merging")
                _merge(cur, table, v, load_id, tr)
                cur.execute(
                    "INSERT INTO _quarantine (load_id, table_name, file, line, column_name, value, "
                    "reason, row_json, status, resolved_load_id) SELECT ?, ?, file, line, "
                    f"column_name, value, reason, row_json, 'open', NULL FROM {q(v.problems)} "
                    "ORDER BY line, column_name", [load_id, name])
                _resolve_by_key(cur, table, v, load_id)
                if after_table is not None:
                    after_table(cur, table, v, load_id)
                cur.execute(f"DROP TABLE IF EXISTS {q(v.good)}")
                cur.execute(f"DROP TABLE IF EXISTS {q(v.problems)}")
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
            staged.append(stage_file(cur, p, t, encoding=encoding))
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
    staged = stage_file(cur, path, encoding=encoding)
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
    return {r[0] for r in wh.query_rows(f"SELECT DISTINCT table_name FROM {BULK_LOADS} "
                                        "WHERE load_id > ?", [since_load_id])}


def changed_partitions(wh: "Warehouse", since_load_id: int = 0):
    """DataFrame (table_name, part_date) of every fact partition touched by loads after
    `since_load_id`: old and new `_part_date` of every inserted, updated or deleted key, and
    every partition of a table first loaded in that span."""
    bulk = sorted(bulk_loaded(wh, since_load_id))
    whole = "".join(f" UNION ALL SELECT {lit(t)}, CAST({PART_DATE} AS VARCHAR) FROM {q(t)}"
                    for t in bulk)
    return wh.query_df(
        "SELECT DISTINCT table_name, CAST(d AS DATE) AS part_date FROM ("
        "SELECT table_name, old_value AS d FROM _change_log WHERE load_id > ? AND column_name = ? "
        "UNION ALL SELECT table_name, new_value FROM _change_log WHERE load_id > ? AND column_name = ?"
        f"{whole}) WHERE d IS NOT NULL ORDER BY 1, 2",
        [since_load_id, PART_DATE, since_load_id, PART_DATE])
