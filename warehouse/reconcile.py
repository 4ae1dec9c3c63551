"""Reconciliation (对账): does the warehouse hold what the source says it delivered?

With a `_manifest.csv` (columns `table, date, rows, amount`: the source system's own count and
money total per table and day), the warehouse's rows and amounts per table and `_part_date`
are compared with it; a dimension's manifest rows leave `date` empty and count the whole table.
Without a manifest, each delivered file is compared with the warehouse: per table and day,
the file's keys (not deleted) must all be in the warehouse on that day with the same amount,
and its deleted keys must be gone.

`reconcile(wh, source)` returns every difference found (an empty list means it reconciles).

>>> Difference("fact_charge", "2024-01-05", "rows", 10, 9, "manifest").message
'fact_charge 2024-01-05: rows: manifest says 10, warehouse holds 9'
"""
from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

from .contract import PART_DATE, TABLES
from .readers import StagedFile, UnreadableFile
from .validate import q, stage_file

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Warehouse

AMOUNT_TOLERANCE = Decimal("0.005")


@dataclass
class Difference:
    """One disagreement between the source's count and the warehouse."""

    table: str
    date: str | None  # ISO day, or None for a whole table
    measure: str  # rows | amount | deleted | table
    expected: object
    actual: object
    against: str  # manifest | file

    @property
    def message(self) -> str:
        where = f"{self.table} {self.date}" if self.date else self.table
        if self.measure == "deleted":
            return (f"{where}: {self.expected} key(s) deleted by the file are still in the "
                    f"warehouse ({self.actual} found)")
        if self.measure == "table":
            return f"{where}: {self.expected}"
        if self.against == "manifest":
            return f"{where}: {self.measure}: manifest says {self.expected}, warehouse holds {self.actual}"
        return (f"{where}: {self.measure}: file has {self.expected}, warehouse holds "
                f"{self.actual} of them")

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("expected", "actual"):
            if isinstance(d[k], Decimal):
                d[k] = float(d[k])
        d["message"] = self.message
        return d

    def __str__(self) -> str:
        return self.message


@dataclass
class ManifestRow:
    table: str
    date: date | None
    rows: int | None
    amount: Decimal | None
    line: int


def read_manifest(path: Path) -> list[ManifestRow]:
    """Parse `_manifest.csv`; a malformed line raises UnreadableFile naming file:line."""
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030", errors="strict")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    need = {"table", "date", "rows", "amount"}
    header = {h.strip().lower() for h in (reader.fieldnames or [])}
    if not {"table", "rows"} <= header:
        raise UnreadableFile(f"{Path(path).name}:1: header must be table,date,rows,amount "
                             f"(found {', '.join(reader.fieldnames or [])})")
    out = []
    for i, r in enumerate(reader, start=2):
        r = {k.strip().lower(): (v or "").strip() for k, v in r.items() if k}
        try:
            d = date.fromisoformat(r["date"]) if r.get("date") else None
            rows = int(r["rows"]) if r.get("rows") else None
            amount = Decimal(r["amount"]) if r.get("amount") else None
        except (ValueError, InvalidOperation) as e:
            raise UnreadableFile(f"{Path(path).name}:{i}: {e}; expected table,YYYY-MM-DD,"
                                 "integer rows,amount in yuan") from e
        out.append(ManifestRow(r.get("table", ""), d, rows, amount, i))
    del need
    return out


def reconcile_manifest(cur, manifest: list[ManifestRow]) -> list[Difference]:
    """Compare the warehouse (on `cur`) with the manifest, per table and day."""
    diffs: list[Difference] = []
    by_table: dict[str, list[ManifestRow]] = {}
    for m in manifest:
        by_table.setdefault(m.table, []).append(m)
    for name, rows in by_table.items():
        t = TABLES.get(name)
        if t is None:
            diffs.append(Difference(name, None, "table", f"manifest line {rows[0].line}: unknown "
                                    "table", None, "manifest"))
            continue
        amt = f"sum({q(t.amount_column)})" if t.amount_column else "NULL"
        days = [m.date for m in rows if m.date is not None]
        actual: dict = {}
        if days and t.partition_by:
            for d, n, a in cur.execute(
                    f"SELECT {PART_DATE}, count(*), {amt} FROM {q(name)} WHERE {PART_DATE} IN "
                    f"(SELECT unnest(?::DATE[])) GROUP BY 1", [days]).fetchall():
                actual[d] = (n, a)
        if any(m.date is None for m in rows):
            actual[None] = tuple(cur.execute(f"SELECT count(*), {amt} FROM {q(name)}").fetchone())
        for m in rows:
            n, a = actual.get(m.date, (0, None))
            day = m.date.isoformat() if m.date else None
            if m.rows is not None and m.rows != n:
                diffs.append(Difference(name, day, "rows", m.rows, n, "manifest"))
            if m.amount is not None and t.amount_column:
                a = Decimal(str(a)) if a is not None else Decimal(0)
                if abs(a - m.amount) > AMOUNT_TOLERANCE:
                    diffs.append(Difference(name, day, "amount", m.amount, a, "manifest"))
    return diffs


def differences_from_days(per_day: dict[str, list[tuple]]) -> list[Difference]:
    """Differences from validate's per-day counts (file rows vs rows accepted into the
    warehouse, and their amounts), per table in load order."""
    diffs = []
    for name, days in per_day.items():
        t = TABLES[name]
        for d, fn, gn, fa, ga in days:
            day = d.isoformat() if d else None
            if fn != gn:
                diffs.append(Difference(name, day, "rows", fn, gn, "file"))
            elif t.amount_column and fa is not None and \
                    abs(Decimal(str(fa)) - Decimal(str(ga or 0))) > AMOUNT_TOLERANCE:
                diffs.append(Difference(name, day, "amount", fa, ga, "file"))
    return diffs


def reconcile_files(cur, staged: list[StagedFile]) -> list[Difference]:
    """Compare parsed delivery files (validate.stage_file) with the warehouse on `cur`, per
    table and day: every key a file delivers (not deleted) should be in the warehouse on that
    day with the same amount; every key it deletes should be gone."""
    diffs: list[Difference] = []
    for s in staged:
        t = TABLES[s.table]
        fkey = " || '|' || ".join(f"CAST(f.{q(k)} AS VARCHAR)" for k in t.primary_key)
        wkey = " || '|' || ".join(f"CAST(w.{q(k)} AS VARCHAR)" for k in t.primary_key)
        day = (lambda a: f"{a}.{PART_DATE}") if t.partition_by else (lambda a: "CAST(NULL AS DATE)")
        amt = (lambda a: f"{a}.{q(t.amount_column)}") if t.amount_column else \
            (lambda a: "CAST(NULL AS DECIMAL(18,2))")
        rows = cur.execute(f"""
            WITH f AS (SELECT DISTINCT coalesce({fkey}, '#' || f._line) AS k, {day('f')} AS d,
                              {amt('f')} AS a, f._del AS del FROM {q(s.typed)} f),
                 w AS (SELECT {wkey} AS k, {day('w')} AS d, {amt('w')} AS a FROM {q(t.name)} w
                       WHERE {wkey} IN (SELECT k FROM f))
            SELECT f.d, count(*) FILTER (WHERE NOT f.del),
                   count(w.k) FILTER (WHERE NOT f.del AND w.d IS NOT DISTINCT FROM f.d),
                   sum(f.a) FILTER (WHERE NOT f.del),
                   sum(w.a) FILTER (WHERE NOT f.del AND w.d IS NOT DISTINCT FROM f.d),
                   count(*) FILTER (WHERE f.del), count(w.k) FILTER (WHERE f.del)
            FROM f LEFT JOIN w ON f.k = w.k GROUP BY f.d ORDER BY f.d NULLS FIRST""").fetchall()
        for d, fn, wn, fa, wa, dn, dw in rows:
            day_s = d.isoformat() if d else None
            if fn != wn:
                diffs.append(Difference(t.name, day_s, "rows", fn, wn, "file"))
            elif t.amount_column and fa is not None and \
                    abs(Decimal(str(fa)) - Decimal(str(wa or 0))) > AMOUNT_TOLERANCE:
                diffs.append(Difference(t.name, day_s, "amount", fa, wa, "file"))
            if dw:
                diffs.append(Difference(t.name, day_s, "deleted", dn, dw, "file"))
    return diffs


def reconcile(wh: "Warehouse", source: Path, encoding: str | None = None) -> list[Difference]:
    """Reconcile a delivery folder (or one file) with the warehouse, without loading anything:
    against its `_manifest.csv` when it has one, else against its files."""
    from .loader import MANIFEST, delivery_files

    source = Path(source)
    cur = wh.cursor()
    if source.is_dir() and (source / MANIFEST).is_file():
        return reconcile_manifest(cur, read_manifest(source / MANIFEST))
    if source.is_file():
        pairs = [(None, source)]
    else:
        pairs, _, _ = delivery_files(source)
    staged = []
    try:
        for t, p in pairs:
            staged.append(stage_file(cur, p, t, encoding=encoding))
        for s in staged:
            if not wh.table_exists(s.table):
                return [Difference(s.table, None, "table", "not in the warehouse yet (load it)",
                                   None, "file")]
        return reconcile_files(cur, staged)
    finally:
        for s in staged:
            s.cleanup(cur)
