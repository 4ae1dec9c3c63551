"""write_delivery: a delivery folder as a source system would drop it in the inbox.

One file per table (`<table>.parquet` or `<table>.csv`) and `_manifest.csv` with the source's
own count per table and partition date (`table,date,rows,amount`; dimensions have an empty
date; a fact with undated rows - dirty mode - also gets its whole-table total, date empty). CSV follows the contract: UTF-8 with a header, timestamps `YYYY-MM-DD HH:MM:SS`, dates
`YYYY-MM-DD`, booleans true/false, money with 2 decimals, empty = null. Tables listed in
`gbk_tables` are written in GBK, as some hospital systems still export.

Chunks are streamed: pass `generate_chunks(...)` and each table's file grows chunk by chunk.

>>> import tempfile, pandas as pd
>>> from datetime import datetime
>>> from warehouse.demo import generate
>>> out = write_delivery(generate("tiny", as_of=datetime(2026, 3, 10, 9, 30)),
...                      tempfile.mkdtemp(), fmt="csv")
>>> sorted(p.name for p in out.iterdir())[0]
'_manifest.csv'
"""
from __future__ import annotations

import io
from collections import defaultdict
from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..contract import LOAD_ORDER, TABLES
from .frames import partition_days


def _arrow_schema(table: str) -> pa.Schema:
    types = {"str": pa.string(), "enum": pa.string(), "int": pa.int64(), "float": pa.float64(),
             "money": pa.float64(), "bool": pa.bool_(), "timestamp": pa.timestamp("s"),
             "date": pa.date32()}
    return pa.schema([pa.field(c.name, types[c.type], c.nullable)
                      for c in TABLES[table].columns])


def _to_arrow(table: str, df: pd.DataFrame, csv: bool) -> pa.Table:
    """Arrow table with the contract's types; for CSV, money as decimal(18,2) so it prints
    with exactly two decimals."""
    schema = _arrow_schema(table)
    # non-nullable fields would reject the nulls dirty mode injects: relax them
    schema = pa.schema([f.with_nullable(True) for f in schema])
    at = pa.Table.from_pandas(df[list(schema.names)], preserve_index=False)
    at = at.cast(schema, safe=False)
    if csv:
        cols = []
        for c, f in zip(TABLES[table].columns, schema):
            col = at.column(f.name)
            cols.append(col.cast(pa.decimal128(18, 2), safe=False) if c.type == "money" else col)
        at = pa.Table.from_arrays(cols, names=schema.names)
    return at


class _Manifest:
    """Accumulates rows and amount per (table, date) over the chunks."""

    def __init__(self):
        self.rows: dict = defaultdict(int)
        self.amount: dict = defaultdict(float)
        self.total_rows: dict = defaultdict(int)
        self.total_amount: dict = defaultdict(float)

    def add(self, table: str, df: pd.DataFrame) -> None:
        t = TABLES[table]
        if t.kind == "dimension":
            self.rows[(table, "")] += len(df)
            return
        cols = {"day": pc.fill_null(partition_days(table, df).cast(pa.string()), "")}
        if t.amount_column:
            self.total_amount[table] += float(df[t.amount_column].sum())
        self.total_rows[table] += len(df)
        if t.amount_column:
            cols["amt"] = pa.array(df[t.amount_column].to_numpy(dtype=float), from_pandas=True)
        aggs = [("day", "count")] + ([("amt", "sum")] if t.amount_column else [])
        res = pa.table(cols).group_by("day").aggregate(aggs).to_pydict()
        for i, d in enumerate(res["day"]):
            self.rows[(table, d)] += int(res["day_count"][i])
            if t.amount_column:
                self.amount[(table, d)] += float(res["amt_sum"][i] or 0.0)

    def frame(self) -> pd.DataFrame:
        """Manifest rows. A fact's rows without any partition date cannot sit under a day:
        the source then also states its whole-table total (date empty, as the reconciler
        reads it), so what it sent is still fully counted."""
        rows = []
        for (table, d), n in sorted(self.rows.items(), key=lambda kv: (
                LOAD_ORDER.index(kv[0][0]), kv[0][1])):
            t = TABLES[table]
            if d == "" and t.kind == "fact":
                n, amount = self.total_rows[table], self.total_amount[table]
            else:
                amount = self.amount[(table, d)]
            rows.append((table, d, n, f"{amount:.2f}" if t.amount_column else ""))
        return pd.DataFrame(rows, columns=["table", "date", "rows", "amount"])


class _Sink:
    """One open output file per table, appended chunk by chunk."""

    def __init__(self, out: Path, fmt: str, gbk_tables: Iterable[str]):
        self.out, self.fmt, self.gbk = out, fmt, set(gbk_tables)
        self.files: dict = {}

    def write(self, table: str, df: pd.DataFrame) -> None:
        at = _to_arrow(table, df, self.fmt == "csv")
        if self.fmt == "parquet":
            if table not in self.files:
                # dictionary-encode only repetitive columns (not the unique ids)
                ids = {c for c in TABLES[table].column_names if c.endswith("_id")} - {
                    "campus_id", "dept_id", "doctor_id", "team_id", "surgeon_id"}
                self.files[table] = pq.ParquetWriter(
                    self.out / f"{table}.parquet", at.schema,
                    use_dictionary=[c for c in at.schema.names if c not in ids])
            self.files[table].write_table(at)
            return
        encoding = "gbk" if table in self.gbk else "utf-8"
        if table not in self.files:
            fh = open(self.out / f"{table}.csv", "wb")
            fh.write((",".join(at.schema.names) + "\n").encode(encoding))
            self.files[table] = fh
        buf = io.BytesIO()
        pacsv.write_csv(at, buf, pacsv.WriteOptions(include_header=False,
                                                    quoting_style="needed"))
        data = buf.getvalue()
        self.files[table].write(data if encoding == "utf-8" else data.decode().encode(encoding))

    def close(self, tables: Iterable[str]) -> None:
        for t in tables:               # a table with no chunk still gets its (empty) file
            if t not in self.files:
                self.write(t, pd.DataFrame({c: pd.Series(dtype=object)
                                            for c in TABLES[t].column_names}))
        for f in self.files.values():
            f.close()


def write_delivery(tables: Mapping[str, pd.DataFrame] | Iterable[tuple[str, pd.DataFrame]],
                   out_dir, fmt: str = "parquet", manifest: bool = True,
                   gbk_tables: Iterable[str] = ()) -> Path:
    """Write the tables (a dict, or an iterator of (table, chunk)) to `out_dir`; return it.

    >>> write_delivery({}, "/tmp/empty-delivery", fmt="csv").name
    'empty-delivery'
    """
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"fmt must be 'parquet' or 'csv', got {fmt!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    items = tables.items() if isinstance(tables, Mapping) else tables
    sink, man, seen = _Sink(out, fmt, gbk_tables), _Manifest(), []
    try:
        for table, df in items:
            sink.write(table, df)
            man.add(table, df)
            seen.append(table)
    finally:
        sink.close(t for t in dict.fromkeys(seen))
    if manifest:
        man.frame().to_csv(out / "_manifest.csv", index=False)
    return out
