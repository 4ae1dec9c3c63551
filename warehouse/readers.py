"""Opening delivered files for reading: typed where that is safe, else as text, with source
line numbers.

CSV (UTF-8 with or without BOM, or GBK/GB18030, detected or given) is read by DuckDB's own
`read_csv`: first with the contract's number, date and timestamp columns typed by the reader
(CSV_TYPED; the other columns as VARCHAR), and only when that read fails (a value the reader
cannot type) again with every column as VARCHAR, checked by TRY_CAST. Non-UTF-8 files are
first transcoded to a UTF-8 temporary file in Python, streaming in chunks (DuckDB's encodings
extension cannot be installed offline). Parquet columns whose type fits the contract's are
read as they are; the others are cast to text and checked like CSV text. Bad rows are always
described from the all-text reading (`StagedFile.text`), so reasons quote the delivered text.

`open_source` checks the header and returns a StagedFile whose `relation` is a SQL FROM item
yielding `_line` plus the contract's columns (and `_deleted` when delivered); validate.parse
then reads it exactly once. Lines: the header is line 1 of a CSV (quoted fields spanning
several lines shift the numbering of the rows after them); row 1 is the first row of a
Parquet file.

>>> table_for_file(Path("inbox/fact_visit.20240105.csv"))
'fact_visit'
"""
from __future__ import annotations

import codecs
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Callable

from .contract import TABLES, Table
from .errors import ContractError

DELETED = "_deleted"
SUFFIXES = (".csv", ".parquet")
_CHUNK = 1 << 22  # characters per transcoding step
_UTF8 = {"utf-8", "utf8", "utf-8-sig", "utf_8", "u8"}


class UnreadableFile(ContractError):
    """A delivered file cannot be read as a contract table (encoding, format, header)."""


@dataclass
class StagedFile:
    """A delivered file opened for reading: `relation` is a SQL FROM item (with `?`
    placeholders bound by `params`) yielding `_line`, the contract's columns as VARCHAR, and
    `_deleted` when delivered; replayed rows also carry `_file`. `typed` names the TEMP table
    the parse step (validate.parse) wrote, `rows` its row count."""

    table: str
    path: Path
    format: str  # csv | parquet | rows
    encoding: str | None
    relation: str
    params: list
    size_bytes: int
    modified_at: datetime
    has_deleted: bool = False
    ignored_columns: list[str] = field(default_factory=list)
    rows: int | None = None
    typed: str | None = None
    tmpdir: Path | None = None
    #: relation column -> DuckDB type, for the columns `relation` yields already typed (the
    #: others are VARCHAR); empty for the all-text path
    types: dict = field(default_factory=dict)
    #: the same rows with every column as text (VARCHAR), when `relation` is typed: bad rows
    #: are described, and kept for replay, from it, exactly as delivered
    text_relation: str | None = None

    @property
    def text(self) -> str:
        """A FROM item of the rows as text (same placeholders as `relation`)."""
        return self.text_relation or self.relation

    def use_text(self) -> None:
        """Drop the typed reading (it failed): read every column as text from now on."""
        if self.text_relation:
            self.relation, self.text_relation, self.types = self.text_relation, None, {}

    @property
    def label(self) -> str:
        """How messages name the file: its base name."""
        return self.path.name

    @property
    def explicit_lines(self) -> bool:
        """True when the relation carries its own `_file` column (replayed rows)."""
        return self.format == "rows"

    def sliced(self, first_line: int, last_line: int) -> "StagedFile":
        """The same Parquet file restricted to lines `first_line`..`last_line` (1-based): the
        reader skips the other row groups. Parsed and validated like a whole file."""
        if self.format != "parquet":
            raise ValueError("only a Parquet file is read in slices")

        def cut(rel: str | None) -> str | None:
            if rel is None:
                return None
            if rel.count(_PARQUET_SCAN + ")") != 1:
                raise ValueError(f"unexpected Parquet relation {rel[:80]}…")
            return rel.replace(_PARQUET_SCAN + ")",
                               _PARQUET_SCAN + " WHERE file_row_number BETWEEN ? AND ?)")
        return replace(self, relation=cut(self.relation), text_relation=cut(self.text_relation),
                       params=list(self.params) + [first_line - 1, last_line - 1],
                       rows=None, typed=None, tmpdir=None, ignored_columns=[])

    def cleanup(self, cur=None) -> None:
        """Drop the temp tables and files this staged file made."""
        if cur is not None:
            if self.typed:
                cur.execute(f"DROP TABLE IF EXISTS {_quote(self.typed)}")
            if self.format == "rows":
                cur.execute(f"DROP TABLE IF EXISTS {_quote('_rows_' + self.table)}")
        if self.tmpdir is not None:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None


def table_for_file(path: Path) -> str | None:
    """The contract table a file delivers, from its name: `<table>.csv|.parquet`, or
    `<table>.<anything>.csv` / `<table>_<anything>.csv` for files dropped into the inbox."""
    name = path.name
    if not name.lower().endswith(SUFFIXES):
        return None
    stem = name.rsplit(".", 1)[0]
    best = None
    for t in TABLES:
        if stem == t or re.match(re.escape(t) + r"[._\-]", stem):
            if best is None or len(t) > len(best):
                best = t
    return best


def detect_encoding(path: Path, sample_bytes: int = 1 << 20) -> str:
    """'utf-8' when the file's first `sample_bytes` decode as UTF-8 (BOM allowed), else
    'gb18030' (a superset of GBK and GB2312, which hospital exports often are)."""
    with open(path, "rb") as f:
        head = f.read(sample_bytes)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


def transcode_to_utf8(src: Path, dst: Path, encoding: str,
                      on_progress: Callable[[int], None] | None = None) -> None:
    """Copy `src` (in `encoding`) to `dst` as UTF-8, streaming in chunks; memory stays flat."""
    try:
        with open(src, "r", encoding=encoding, newline="") as fin, \
                open(dst, "w", encoding="utf-8", newline="") as fout:
            while True:
                chunk = fin.read(_CHUNK)
                if not chunk:
                    break
                fout.write(chunk)
                if on_progress:
                    on_progress(len(chunk))
    except (UnicodeDecodeError, LookupError) as e:
        raise UnreadableFile(f"{src.name}: cannot be read as {encoding}: {e}. Give the file's "
                             "encoding with --encoding (utf-8, gb18030)") from e


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _map_columns(path: Path, table: Table, header: list[str]) -> tuple[dict[str, str], bool, list[str]]:
    """contract column -> delivered column; whether `_deleted` is there; ignored columns."""
    by_lower = {h.strip().lower(): h for h in header}
    mapping: dict[str, str] = {}
    missing = []
    for c in table.columns:
        h = by_lower.get(c.name.lower())
        if h is not None:
            mapping[c.name] = h
        elif not c.nullable:
            missing.append(c.name)
    if missing:
        raise UnreadableFile(
            f"{path.name}:1: header lacks required column(s) {', '.join(missing)} of {table.name} "
            f"(found: {', '.join(header)}); add them, named as in the contract")
    has_deleted = DELETED in by_lower
    if has_deleted:
        mapping[DELETED] = by_lower[DELETED]
    used = {v for v in mapping.values()}
    ignored = [h for h in header if h not in used]
    return mapping, has_deleted, ignored


def _select_list(table: Table, mapping: dict[str, str], cast: bool) -> str:
    parts = []
    for name in list(table.column_names) + ([DELETED] if DELETED in mapping else []):
        src = mapping.get(name)
        if src is None:
            parts.append(f"CAST(NULL AS VARCHAR) AS {_quote(name)}")
        elif cast:
            parts.append(f"CAST({_quote(src)} AS VARCHAR) AS {_quote(name)}")
        else:
            parts.append(f"{_quote(src)} AS {_quote(name)}")
    return ", ".join(parts)


_CSV_OPTS = "header=true, all_varchar=true, delim=',', quote='\"', escape='\"'"
_CSV_TYPED_OPTS = "header=true, auto_detect=false, delim=',', quote='\"', escape='\"'"

#: contract types a CSV is first read as, typed by DuckDB's CSV reader: for these its parser
#: accepts exactly what TRY_CAST of the text accepts (checked value by value; `int` is not
#: among them: the reader rounds '3.5' to 4, the contract rejects it; `bool` neither: the
#: contract spells 是/否). A file with a value the reader rejects is read again as text.
CSV_TYPED = {"float": "DOUBLE", "money": "DECIMAL(14,2)", "date": "DATE", "timestamp": "TIMESTAMP"}

#: Parquet column types taken as they are, per contract type (else cast to text and checked
#: like CSV text)
_PARQUET_OK = {
    "int": {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER",
            "UBIGINT", "HUGEINT"},
    "float": {"FLOAT", "DOUBLE", "TINYINT", "SMALLINT", "INTEGER", "BIGINT"},
    "money": {"DOUBLE", "FLOAT", "TINYINT", "SMALLINT", "INTEGER", "BIGINT"},  # + DECIMAL(p,s)
    "bool": {"BOOLEAN"},
    "date": {"DATE"},
    "timestamp": {"TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "DATE"},
    "str": {"VARCHAR"}, "enum": {"VARCHAR"},
}


def _lit(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _csv_relation(cur, path: Path, src_path: Path, table: Table):
    """(typed relation, all-text relation, {column: type}, params, has_deleted, ignored); the
    typed one is the text one when no column is read typed (then the second is None)."""
    src = f"read_csv(?, {_CSV_OPTS})"
    header = [r[0] for r in cur.execute(f"DESCRIBE SELECT * FROM {src}", [str(src_path)]).fetchall()]
    mapping, has_deleted, ignored = _map_columns(path, table, header)
    rel = (f"(SELECT row_number() OVER () + 1 AS _line, {_select_list(table, mapping, cast=False)} "
           f"FROM {src})")
    # typed first: the same reader with the contract's date, time and number columns typed
    by_src = {v: k for k, v in mapping.items()}
    types, cols = {}, []
    for h in header:
        name = by_src.get(h)
        c = table.column(name) if name and name in table.column_names else None
        typ = CSV_TYPED.get(c.type) if c is not None else None
        if typ:
            types[name] = typ
        cols.append(f"{_lit(h)}: {_lit(typ or 'VARCHAR')}")
    typed_rel = None
    if types and len(set(header)) == len(header):
        typed_src = f"read_csv(?, {_CSV_TYPED_OPTS}, columns={{{', '.join(cols)}}})"
        typed_rel = (f"(SELECT row_number() OVER () + 1 AS _line, "
                     f"{_select_list(table, mapping, cast=False)} FROM {typed_src})")
    if typed_rel is None:
        return rel, None, {}, [str(src_path)], has_deleted, ignored
    return typed_rel, rel, types, [str(src_path)], has_deleted, ignored


#: how a Parquet relation reads its file (`StagedFile.sliced` adds a row range to it)
_PARQUET_SCAN = "FROM read_parquet(?, file_row_number=true)"


def parquet_rows(cur, path: Path) -> int:
    """A Parquet file's row count, from its footer."""
    return int(cur.execute("SELECT sum(num_rows) FROM parquet_file_metadata(?)",
                           [str(path)]).fetchone()[0] or 0)


def _parquet_relation(cur, path: Path, table: Table):
    """(relation with the columns whose Parquet type fits the contract typed, all-text
    relation, {column: type} of the typed ones, params, has_deleted, ignored)."""
    desc = cur.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
    header = [r[0] for r in desc]
    src_type = {r[0]: str(r[1]).upper() for r in desc}
    mapping, has_deleted, ignored = _map_columns(path, table, header)
    text_rel = (f"(SELECT file_row_number + 1 AS _line, {_select_list(table, mapping, cast=True)} "
                f"{_PARQUET_SCAN})")
    types, parts = {}, []
    for name in list(table.column_names) + ([DELETED] if has_deleted else []):
        src = mapping.get(name)
        if src is None:
            parts.append(f"CAST(NULL AS VARCHAR) AS {_quote(name)}")
            continue
        st = src_type[src]
        c = table.column(name) if name in table.column_names else None
        ok = c is not None and (st in _PARQUET_OK.get(c.type, ()) or
                                (c.type == "money" and st.startswith("DECIMAL")))
        if ok and st != "VARCHAR":
            types[name] = st
            parts.append(f"{_quote(src)} AS {_quote(name)}")
        elif ok:
            parts.append(f"{_quote(src)} AS {_quote(name)}")
        else:
            parts.append(f"CAST({_quote(src)} AS VARCHAR) AS {_quote(name)}")
    rel = f"(SELECT file_row_number + 1 AS _line, {', '.join(parts)} {_PARQUET_SCAN})"
    return rel, text_rel, types, [str(path)], has_deleted, ignored


def open_source(cur, path: Path, table: str | None = None, encoding: str | None = None,
                force_transcode: bool = False) -> StagedFile:
    """Open a delivered file for reading (header checked, GBK transcoded); nothing is
    materialised yet (validate.parse reads it once).

    >>> import duckdb, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "dim_campus.csv"
    >>> _ = p.write_text("campus_id,campus_name,campus_type,province,city\\nC01,总院,main,四川,成都\\n")
    >>> open_source(duckdb.connect(), p).encoding
    'utf-8'
    """
    path = Path(path)
    if not path.is_file():
        raise UnreadableFile(f"{path}: no such file")
    tname = table or table_for_file(path)
    if tname not in TABLES:
        raise UnreadableFile(f"{path.name}: not a contract table file; name it <table>.csv or "
                             f"<table>.parquet with <table> one of {', '.join(TABLES)}")
    tdef = TABLES[tname]
    st = path.stat()
    fmt = "parquet" if path.suffix.lower() == ".parquet" else "csv"
    used_encoding, tmpdir = None, None
    try:
        if fmt == "parquet":
            rel, text_rel, types, params, has_deleted, ignored = _parquet_relation(cur, path, tdef)
        else:
            used_encoding = "gb18030" if force_transcode and not encoding else \
                (encoding or detect_encoding(path)).lower()
            src = path
            if used_encoding in _UTF8:
                used_encoding = "utf-8"
            else:
                tmpdir = Path(tempfile.mkdtemp(prefix="cockpit-transcode-"))
                src = tmpdir / path.name
                transcode_to_utf8(path, src, used_encoding)
            rel, text_rel, types, params, has_deleted, ignored = _csv_relation(cur, path, src, tdef)
    except ContractError:
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)
        raise
    except Exception as e:
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)
        if fmt == "csv" and encoding is None and not force_transcode and "unicode" in str(e).lower():
            return open_source(cur, path, tname, None, force_transcode=True)
        raise UnreadableFile(f"{path.name}: cannot be read as {fmt}: {error_text(e)}") from e
    # `rel` yields the `types` columns typed (the rest as text); `text_rel` all as text
    return StagedFile(tname, path, fmt, used_encoding, rel, params, st.st_size,
                      datetime.fromtimestamp(st.st_mtime), has_deleted, ignored, tmpdir=tmpdir,
                      types=types, text_relation=text_rel if types else None)


def error_text(e: Exception) -> str:
    """The first paragraph of a DuckDB error, on one line."""
    return str(e).split("\n\n")[0].replace("\n", " ")


def stage_rows(cur, table: str, rows: list[dict], label: str = "replay") -> StagedFile:
    """Stage rows given as dicts of text (replaying quarantined rows), each with its original
    line (`_line`) and file (`_file`), into a TEMP table read like a file."""
    tdef = TABLES[table]
    names = list(tdef.column_names) + [DELETED]
    tmp = _quote("_rows_" + table)
    cols = ", ".join(f"{_quote(n)} VARCHAR" for n in names)
    cur.execute(f"CREATE OR REPLACE TEMP TABLE {tmp} (_line BIGINT, _file VARCHAR, {cols})")
    if rows:
        ph = ", ".join(["?"] * (len(names) + 2))
        cur.executemany(f"INSERT INTO {tmp} VALUES ({ph})",
                        [[r.get("_line"), r.get("_file")] +
                         [None if r.get(n) in (None, "") else str(r.get(n)) for n in names]
                         for r in rows])
    return StagedFile(table, Path(label), "rows", None, f"(SELECT * FROM {tmp})", [], 0,
                      datetime.now(), True, [])


def file_size(path: Path) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0
