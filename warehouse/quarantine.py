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

from .contract import TABLES
from .errors import ContractError
from .loader import LoadReport, run_load
from .readers import DELETED, stage_rows
from .validate import parse as stage_parse
from .validate import stage_file
from .schema import create_all
from .validate import q

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
    where, params = ["true"], []
    if table:
        where.append("table_name = ?"); params.append(table)
    if status:
        where.append("status = ?"); params.append(status)
    if load_id is not None:
        where.append("load_id = ?"); params.append(int(load_id))
    params.append(int(limit))
    return wh.query_df(
        "SELECT load_id, table_name, file, line, column_name, value, reason, status, "
        f"resolved_load_id FROM _quarantine WHERE {' AND '.join(where)} "
        "ORDER BY load_id DESC, table_name, file, line, column_name LIMIT ?", params)


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


def _settle(cur, table: str, good: str, mapping: str, load_id: int) -> None:
    """Mark the originals of replayed rows: resolved when loaded now, else superseded."""
    cur.execute(
        f"UPDATE _quarantine SET status = 'resolved', resolved_load_id = ? FROM {q(mapping)} m "
        f"WHERE _quarantine.status = 'open' AND _quarantine.table_name = ? "
        f"AND _quarantine.load_id = m.q_load AND _quarantine.file = m.q_file "
        f"AND _quarantine.line = m.q_line AND m.line IN (SELECT _line FROM {q(good)})",
        [load_id, table])
    cur.execute(
        f"UPDATE _quarantine SET status = 'superseded', resolved_load_id = ? FROM {q(mapping)} m "
        f"WHERE _quarantine.status = 'open' AND _quarantine.table_name = ? "
        f"AND _quarantine.load_id = m.q_load AND _quarantine.file = m.q_file "
        f"AND _quarantine.line = m.q_line", [load_id, table])


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
        cur.execute(f"CREATE OR REPLACE TEMP TABLE {mapping} (line BIGINT, q_load BIGINT, "
                    "q_file VARCHAR, q_line BIGINT)")
        cur.executemany(f"INSERT INTO {mapping} VALUES (?, ?, ?, ?)", refs)

    def after(cur, table, v, load_id):
        if has_q:
            _settle(cur, table.name, v.good, mapping, load_id)

    try:
        return run_load(wh, [staged], str(path), "replay", require_rows=False, after_table=after)
    finally:
        cur.execute(f"DROP TABLE IF EXISTS {mapping}")


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
        st = stage_rows(cur, t, rows, label=f"quarantine:{t}")
        stage_parse(cur, st)
        staged.append(st)
        m = maps[t] = f"_replay_map_{t}"
        cur.execute(f"CREATE OR REPLACE TEMP TABLE {q(m)} (line BIGINT, q_load BIGINT, "
                    "q_file VARCHAR, q_line BIGINT)")
        cur.executemany(f"INSERT INTO {q(m)} VALUES (?, ?, ?, ?)",
                        [[r[Q_LINE], r[Q_LOAD], r[Q_FILE], r[Q_LINE]] for r in rows])
    if not staged:
        return LoadReport(None, "quarantine", "replay")

    def after(cur, tbl, v, load_id):
        # lines of replayed rows are their original lines: match on file and line
        m = maps[tbl.name]
        cur.execute(f"UPDATE {q(m)} SET line = NULL WHERE NOT EXISTS (SELECT 1 FROM {q(v.good)} g "
                    f"WHERE g._file = {q(m)}.q_file AND g._line = {q(m)}.q_line)")
        cur.execute(f"UPDATE _quarantine SET status = 'resolved', resolved_load_id = ? FROM {q(m)} m "
                    "WHERE _quarantine.status = 'open' AND _quarantine.table_name = ? "
                    "AND _quarantine.file = m.q_file AND _quarantine.line = m.q_line "
                    "AND m.line IS NOT NULL AND _quarantine.load_id < ?", [load_id, tbl.name, load_id])
        cur.execute("UPDATE _quarantine SET status = 'superseded', resolved_load_id = ? FROM "
                    f"{q(m)} m WHERE _quarantine.status = 'open' AND _quarantine.table_name = ? "
                    "AND _quarantine.file = m.q_file AND _quarantine.line = m.q_line "
                    "AND _quarantine.load_id < ?", [load_id, tbl.name, load_id])

    try:
        return run_load(wh, staged, "quarantine", "replay", require_rows=False, after_table=after)
    finally:
        for m in maps.values():
            cur.execute(f"DROP TABLE IF EXISTS {q(m)}")
