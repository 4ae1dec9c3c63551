"""Quarantined rows: list them, export them to CSV for fixing, replay the fixed file, or
re-validate them once what they were missing (e.g. a department) has arrived.

A quarantine entry is one problem of one delivered row (`_quarantine`: load_id, table_name,
file, line, column_name, value, reason, row_json, status, resolved_load_id). Its status is
`open`, `resolved` (the row's key was loaded later: by a later delivery, a replay or a
re-validation; `resolved_load_id` says which load) or `superseded` (replayed but still bad:
the new load's own entries describe it).

Typical round trip:

    cockpit quarantine list
    cockpit quarantine export --out fixes/       # fixes/fact_visit.quarantine.csv ...
    (edit the files)
    cockpit quarantine replay fixes/fact_visit.quarantine.csv
    cockpit quarantine replay --revalidate       # after the missing dimension rows arrived
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from sqlglot import exp

from . import sqltree as st
from .contract import TABLES
from .errors import ContractError
from .loader import LoadReport, run_load
from .readers import DELETED, stage_rows
from .validate import parse as stage_parse
from .validate import stage_file
from .schema import create_all

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Warehouse

#: bookkeeping columns an exported file carries next to the contract's
Q_LOAD, Q_FILE, Q_LINE, Q_REASONS = "_q_load_id", "_q_file", "_q_line", "_q_reasons"


def list_quarantine(wh: "Warehouse", table: str | None = None, status: str | None = "open",
                    load_id: int | None = None, limit: int = 1000):
    """DataFrame of quarantine entries, newest load first.

    >>> from warehouse.engine import open_warehouse
    >>> len(list_quarantine(open_warehouse(":memory:")))
    0
    """
    create_all(wh)
    where, params = [], []
    for name, value in (("table_name", table), ("status", status),
                        ("load_id", None if load_id is None else int(load_id))):
        if value not in (None, ""):
            where.append(exp.EQ(this=st.column(name), expression=exp.Placeholder()))
            params.append(value)
    shown = ["load_id", "table_name", "file", "line", "column_name", "value", "reason",
             "status", "resolved_load_id"]
    sel = (exp.select(*[st.column(c) for c in shown]).from_(st.table("_quarantine"))
           .where(st.all_of(where))
           .order_by(exp.Ordered(this=st.column("load_id"), desc=True),
                     *[st.column(c) for c in ("table_name", "file", "line", "column_name")])
           .limit(exp.Placeholder()))
    return wh.query_df(sel.sql("duckdb"), params + [int(limit)])


def _open_rows(wh: "Warehouse", table: str) -> list[dict]:
    """The open quarantined rows of a table, one per delivered row (latest load per file:line)."""
    rows = wh.query_rows(
        "SELECT load_id, file, line, any_value(row_json), string_agg(reason, ' | ' ORDER BY "
        "column_name) FROM _quarantine WHERE status = 'open' AND table_name = ? "
        "GROUP BY load_id, file, line ORDER BY file, line, load_id", [table])
    latest: dict[tuple, dict] = {}
    for load_id, file, line, row_json, reasons in rows:
        r = json.loads(row_json) if row_json else {}
        r.update({Q_LOAD: load_id, Q_FILE: file, Q_LINE: line, Q_REASONS: reasons})
        latest[(file, line)] = r  # ordered by load_id: the latest wins
    return list(latest.values())


def export_quarantine(wh: "Warehouse", out_dir: Path, table: str | None = None) -> list[Path]:
    """Write the open quarantined rows of each table (or of `table`) to
    `out_dir/<table>.quarantine.csv`: the contract's columns as delivered, plus `_q_load_id`,
    `_q_file`, `_q_line` (where the row came from) and `_q_reasons`. Fix the values, keep the
    `_q_` columns, and replay the file."""
    import csv

    create_all(wh)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = [table] if table else [r[0] for r in wh.query_rows(
        "SELECT DISTINCT table_name FROM _quarantine WHERE status = 'open' ORDER BY 1")]
    written = []
    for t in tables:
        if t not in TABLES:
            raise ContractError(f"unknown table {t!r}; expected one of {', '.join(TABLES)}")
        rows = _open_rows(wh, t)
        if not rows:
            continue
        cols = list(TABLES[t].column_names) + [DELETED, Q_LOAD, Q_FILE, Q_LINE, Q_REASONS]
        path = out_dir / f"{t}.quarantine.csv"
        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
            w.writeheader()
            for r in rows:
                w.writerow({c: ("" if r.get(c) is None else r.get(c)) for c in cols})
        written.append(path)
    return written


#: a replay's map: its line, and the quarantine entry (load, file, line) the row came from
_MAP_COLUMNS = [("line", "BIGINT"), ("q_load", "BIGINT"), ("q_file", "VARCHAR"),
                ("q_line", "BIGINT")]


def _create_map(cur, name: str, refs: list[list]) -> None:
    st.run(cur, st.temp_table(name, _MAP_COLUMNS))
    cur.executemany(st.insert_params(name, len(_MAP_COLUMNS)).sql("duckdb"), refs)


def _mark(cur, mapping: str, status: str, params: list, conds: list) -> None:
    """Open quarantine entries of one table (parameters: the load marking them, the table,
    then those of `conds`) that `mapping` names by file and line, and that meet `conds`,
    become `status`."""
    quar = lambda c: st.column(c, "_quarantine")  # noqa: E731
    m = lambda c: st.column(c, "m")  # noqa: E731
    where = [exp.EQ(this=quar("status"), expression=exp.Literal.string("open")),
             exp.EQ(this=quar("table_name"), expression=exp.Placeholder()),
             exp.EQ(this=quar("file"), expression=m("q_file")),
             exp.EQ(this=quar("line"), expression=m("q_line"))] + conds
    st.run(cur, st.update_from("_quarantine", {"status": exp.Literal.string(status),
                                               "resolved_load_id": exp.Placeholder()},
                               st.table(mapping, "m"), st.all_of(where)), params)


def _settle(cur, table: str, good: str, mapping: str, load_id: int) -> None:
    """Mark the originals of replayed rows: resolved when loaded now, else superseded."""
    same_load = exp.EQ(this=st.column("load_id", "_quarantine"),
                       expression=st.column("q_load", "m"))
    loaded = exp.In(this=st.column("line", "m"), query=exp.Subquery(
        this=exp.select(st.column("_line")).from_(st.table(good))))
    _mark(cur, mapping, "resolved", [load_id, table], [same_load, loaded])
    _mark(cur, mapping, "superseded", [load_id, table], [same_load.copy()])


def _replay_refs(path: Path, encoding: str | None) -> list[list]:
    """(line, _q_load_id, _q_file, _q_line) of every row of an exported file that has them."""
    import csv

    enc = "utf-8-sig" if encoding in (None, "utf-8") else encoding
    with open(path, encoding=enc, newline="") as f:
        reader = csv.DictReader(f)
        if not {Q_LOAD, Q_FILE, Q_LINE} <= set(reader.fieldnames or ()):
            return []
        out = []
        for i, r in enumerate(reader, start=2):
            try:
                out.append([i, int(r[Q_LOAD]), r[Q_FILE], int(r[Q_LINE])])
            except (TypeError, ValueError):
                continue  # a row added by hand: nothing to settle
        return out


def replay_file(wh: "Warehouse", path: Path, encoding: str | None = None) -> LoadReport:
    """Load a fixed export (`<table>.quarantine.csv`) as a delivery of its table, in one
    transaction; the quarantine entries its rows came from become `resolved` (loaded now) or
    `superseded` (still bad: see the new entries)."""
    path = Path(path)
    create_all(wh)
    cur = wh.cursor()
    staged = stage_file(cur, path, encoding=encoding)
    mapping = "_replay_map"
    refs = _replay_refs(path, staged.encoding) if staged.format == "csv" else []
    has_q = bool(refs)
    if has_q:
        _create_map(cur, mapping, refs)

    def after(cur, table, v, load_id):
        if has_q:
            _settle(cur, table.name, v.good, mapping, load_id)

    try:
        return run_load(wh, [staged], str(path), "replay", require_rows=False, after_table=after)
    finally:
        st.run(cur, st.drop(mapping))


def revalidate(wh: "Warehouse", table: str | None = None) -> LoadReport:
    """Validate the open quarantined rows again (e.g. after the dimension rows they referred to
    arrived) and load those that now pass, in one transaction. Messages keep the rows' original
    file:line."""
    create_all(wh)
    cur = wh.cursor()
    tables = [table] if table else [r[0] for r in wh.query_rows(
        "SELECT DISTINCT table_name FROM _quarantine WHERE status = 'open'")]
    staged, maps = [], {}
    for t in tables:
        rows = _open_rows(wh, t)
        if not rows:
            continue
        for r in rows:
            r["_line"], r["_file"] = r[Q_LINE], r[Q_FILE]
        one = stage_rows(cur, t, rows, label=f"quarantine:{t}")
        stage_parse(cur, one)
        staged.append(one)
        m = maps[t] = f"_replay_map_{t}"
        _create_map(cur, m, [[r[Q_LINE], r[Q_LOAD], r[Q_FILE], r[Q_LINE]] for r in rows])
    if not staged:
        return LoadReport(None, "quarantine", "replay")

    def after(cur, tbl, v, load_id):
        # lines of replayed rows are their original lines: match on file and line
        m = maps[tbl.name]
        loaded = exp.Exists(this=exp.select(exp.Literal.number(1)).from_(st.table(v.good, "g"))
                            .where(st.all_of([
                                exp.EQ(this=st.column("_file", "g"),
                                       expression=st.column("q_file", m)),
                                exp.EQ(this=st.column("_line", "g"),
                                       expression=st.column("q_line", m))])))
        st.run(cur, exp.update(st.table(m), {"line": exp.Null()},
                               where=exp.Not(this=loaded)))
        earlier = exp.LT(this=st.column("load_id", "_quarantine"), expression=exp.Placeholder())
        _mark(cur, m, "resolved", [load_id, tbl.name, load_id], [
            exp.Not(this=exp.Is(this=st.column("line", "m"), expression=exp.Null())), earlier])
        _mark(cur, m, "superseded", [load_id, tbl.name, load_id], [earlier.copy()])

    try:
        return run_load(wh, staged, "quarantine", "replay", require_rows=False, after_table=after)
    finally:
        for m in maps.values():
            st.run(cur, st.drop(m))
