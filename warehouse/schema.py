"""The warehouse's tables, declared in code (SQLAlchemy Core) from the source contract.

Every contract table becomes a warehouse table of the same name with the contract's columns,
typed, plus the columns the warehouse adds (`physical_columns()`: a dimension's integer
surrogate key, a fact's `_part_date`). The warehouse's own bookkeeping tables start with `_`.
Nothing here reflects a live database (duckdb-engine's reflection is not relied on): DDL is
compiled from these declarations, per dialect.

>>> "fact_visit" in METADATA.tables and "_changes_fact_visit" in METADATA.tables
True
>>> [s.split("(")[0].strip() for s in ddl("duckdb")][:1]
['CREATE TABLE IF NOT EXISTS dim_campus']

No primary-key constraints are declared on DuckDB (DESIGN decision 4): the loader enforces
keys. On StarRocks, facts are PRIMARY KEY tables keyed by (pk, `_part_date`), partitioned by
month on `_part_date` and distributed by hash of the pk; dimensions are PRIMARY KEY tables on
their surrogate key.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.schema import CreateTable

from .contract import LOAD_ORDER, PART_DATE, TABLES, Column, Table
from .errors import EngineError

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Warehouse

#: columns that link a fact to other rows; the change log records their old and new values so
#: the refresher can find the partitions of joined facts that an update moved
LINK_COLUMNS = ("admission_id", "patient_id", "dept_id", "admit_dept_id", "discharge_dept_id",
                "team_id")

#: every internal (bookkeeping) table, in creation order (plus one `_changes_<table>` per
#: contract table, and the `_change_log` view over them)
INTERNAL_TABLES = ("_loads", "_load_log", "_load_files", "_quarantine", "_bulk_loads")
CHANGE_LOG = "_change_log"
BULK_LOADS = "_bulk_loads"


def tracked_columns(table: Table) -> list[str]:
    """Non-key columns whose old and new values the change log keeps for a changed key: a
    fact's date columns, `_part_date` and link columns; every column of a dimension."""
    if table.kind == "dimension":
        cols = list(table.column_names)
    else:
        cols = list(table.date_columns) + [PART_DATE]
        cols += [c for c in LINK_COLUMNS if c in table.column_names]
    return [c for c in cols if c not in table.primary_key]


def changes_table(name: str) -> str:
    """Name of the typed change table of contract table `name`."""
    return f"_changes_{name}"


def sa_type(col: Column) -> sa.types.TypeEngine:
    """The SQL type of a contract column (identifiers get a bounded VARCHAR: StarRocks keys
    need one; DuckDB ignores the length)."""
    t = col.type
    if t == "str":
        return sa.String(64) if (col.name.endswith("_id") or col.references) else sa.String()
    if t == "enum":
        return sa.String(32)
    if t == "int":
        return sa.Integer()
    if t == "float":
        return sa.Double()
    if t == "money":
        return sa.Numeric(14, 2)
    if t == "bool":
        return sa.Boolean()
    if t == "date":
        return sa.Date()
    if t == "timestamp":
        return sa.DateTime()
    raise EngineError(f"contract column {col.name} has unknown type {t!r}")  # pragma: no cover


def duckdb_type(col: Column) -> str:
    """The DuckDB type name used when casting staged text to this column's type."""
    return {"str": "VARCHAR", "enum": "VARCHAR", "int": "INTEGER", "float": "DOUBLE",
            "money": "DECIMAL(14,2)", "bool": "BOOLEAN", "date": "DATE",
            "timestamp": "TIMESTAMP"}[col.type]


def _contract_columns(table: Table, *, key_first: bool) -> list[sa.Column]:
    """Columns in contract order (DuckDB), or key columns first (StarRocks requires the
    primary-key columns to lead, in key order)."""
    cols = {c.name: sa.Column(c.name, sa_type(c), nullable=c.nullable, comment=c.doc or None)
            for c in table.columns}
    extra: dict[str, sa.Column] = {}
    if table.surrogate_key:
        extra[table.surrogate_key] = sa.Column(table.surrogate_key, sa.BigInteger(), nullable=False,
                                               comment="integer surrogate key")
    if table.partition_by:
        extra[PART_DATE] = sa.Column(PART_DATE, sa.Date(), nullable=False,
                                     comment="first non-null of " + ", ".join(table.partition_by))
    every = {**cols, **extra}
    if not key_first:
        return list(every.values())
    lead = _starrocks_key(table)
    return [every[n] for n in lead] + [c for n, c in every.items() if n not in lead]


def _starrocks_key(table: Table) -> list[str]:
    if table.kind == "dimension":
        return [table.surrogate_key]
    return list(table.primary_key) + [PART_DATE]


def _starrocks_kwargs(table: Table) -> dict:
    key = _starrocks_key(table)
    kw = {"starrocks_primary_key": ", ".join(key)}
    if table.kind == "dimension":
        kw["starrocks_distributed_by"] = f"HASH({table.surrogate_key})"
    else:
        kw["starrocks_partition_by"] = f"date_trunc('month', {PART_DATE})"
        kw["starrocks_distributed_by"] = "HASH(" + ", ".join(table.primary_key) + ")"
        kw["starrocks_order_by"] = PART_DATE
    return kw


def _internal_tables(md: sa.MetaData, starrocks: bool) -> None:
    def kw(key: str) -> dict:
        return ({"starrocks_duplicate_key": key, "starrocks_distributed_by": f"HASH({key})"}
                if starrocks else {})

    S, B, T = sa.String, sa.BigInteger, sa.DateTime
    sa.Table("_loads", md,
             sa.Column("load_id", B, nullable=False),
             sa.Column("kind", S(16), comment="delivery | file | replay"),
             sa.Column("source", S()),
             sa.Column("started_at", T), sa.Column("finished_at", T),
             sa.Column("rows_read", B), sa.Column("rows_changed", B), sa.Column("rows_quarantined", B),
             comment="one row per load run (one transaction)", **kw("load_id"))
    sa.Table("_load_log", md,
             sa.Column("load_id", B, nullable=False),
             sa.Column("table_name", S(64)), sa.Column("file", S()),
             *[sa.Column(n, B) for n in ("rows_read", "inserted", "updated", "unchanged", "deleted",
                                         "delete_unknown", "duplicates", "quarantined")],
             sa.Column("seconds", sa.Float()), sa.Column("loaded_at", T),
             comment="per table per load: the load report", **kw("load_id"))
    sa.Table("_load_files", md,
             sa.Column("load_id", B, nullable=False),
             sa.Column("table_name", S(64)), sa.Column("path", S()),
             sa.Column("format", S(16)), sa.Column("encoding", S(32)),
             sa.Column("size_bytes", B), sa.Column("modified_at", T), sa.Column("rows_read", B),
             comment="every file a load read", **kw("load_id"))
    sa.Table("_quarantine", md,
             sa.Column("load_id", B, nullable=False),
             sa.Column("table_name", S(64)), sa.Column("file", S()), sa.Column("line", B),
             sa.Column("column_name", S(64)), sa.Column("value", S()), sa.Column("reason", S()),
             sa.Column("row_json", S(), comment="the whole delivered row, as text, for replay"),
             sa.Column("status", S(16), comment="open | resolved | superseded"),
             sa.Column("resolved_load_id", B),
             comment="rows that broke the contract: one row per problem", **kw("load_id"))
    sa.Table(BULK_LOADS, md,
             sa.Column("load_id", B, nullable=False), sa.Column("table_name", S(64)),
             sa.Column("rows", B),
             comment="first loads of a fact into an empty table: every partition is new, so the "
                     "load is one whole-table change here instead of one change row per key",
             **kw("load_id"))
    for name in LOAD_ORDER:
        t = TABLES[name]
        typed = {c.name: c for c in t.columns}
        cols = [sa.Column("load_id", B, nullable=False),
                sa.Column("op", S(8), comment="insert | update | delete")]
        cols += [sa.Column(k, sa_type(typed[k])) for k in t.primary_key]
        for c in tracked_columns(t):
            ty = sa.Date() if c == PART_DATE else sa_type(typed[c])
            cols += [sa.Column("old_" + c, ty), sa.Column("new_" + c, ty)]
        sa.Table(changes_table(name), md, *cols,
                 comment=f"changed keys of {name}: old and new values, per load", **kw("load_id"))


def build_metadata(dialect: str = "duckdb") -> sa.MetaData:
    """A fresh MetaData with every warehouse table for `dialect` (duckdb | starrocks)."""
    starrocks = dialect == "starrocks"
    md = sa.MetaData()
    for name in LOAD_ORDER:
        t = TABLES[name]
        sa.Table(name, md, *_contract_columns(t, key_first=starrocks),
                 comment=f"{t.zh}: {t.doc}", **(_starrocks_kwargs(t) if starrocks else {}))
    _internal_tables(md, starrocks)
    return md


#: the canonical declaration (DuckDB column order = contract order + extras)
METADATA = build_metadata("duckdb")


def _dialect(name: str):
    if name == "duckdb":
        from duckdb_engine import Dialect

        return Dialect()
    if name == "starrocks":
        from starrocks.dialect import StarRocksDialect

        return StarRocksDialect()
    raise EngineError(f"unknown dialect {name!r}: expected duckdb or starrocks")


def ddl(dialect: str = "duckdb") -> list[str]:
    """CREATE TABLE statements (idempotent) for every warehouse table, in load order.

    >>> any("PARTITION BY date_trunc('month', _part_date)" in s for s in ddl("starrocks"))
    True
    """
    md = METADATA if dialect == "duckdb" else build_metadata(dialect)
    d = _dialect(dialect)
    out = []
    for t in md.tables.values():
        out.append(str(CreateTable(t, if_not_exists=True).compile(dialect=d)).strip())
    out.append(change_log_view_sql(dialect))
    return out


def change_log_view_sql(dialect: str = "duckdb") -> str:
    """The `_change_log` view: the change tables in long form, one row per (load, table, key,
    column): load_id, table_name, row_key ('|'-joined key values), op, column_name, old_value,
    new_value (text). For an update every tracked column is listed (changed or not); for an
    insert the non-null new values; for a delete the non-null old values; for a dimension only
    the columns whose value changed."""
    parts = []
    for name in LOAD_ORDER:
        t = TABLES[name]
        keys = [f"CAST({k} AS VARCHAR)" for k in t.primary_key]  # concat(): `||` is OR on StarRocks
        key = keys[0] if len(keys) == 1 else "concat(" + ", '|', ".join(keys) + ")"
        for c in tracked_columns(t):
            o, n = "old_" + c, "new_" + c
            cond = (f"{o} IS DISTINCT FROM {n}" if t.kind == "dimension"
                    else f"NOT ({o} IS NULL AND {n} IS NULL)")
            parts.append(f"SELECT load_id, '{name}' AS table_name, {key} AS row_key, op, "
                         f"'{c}' AS column_name, CAST({o} AS VARCHAR) AS old_value, "
                         f"CAST({n} AS VARCHAR) AS new_value FROM {changes_table(name)} WHERE {cond}")
    head = ("CREATE OR REPLACE VIEW" if dialect == "duckdb" else "CREATE VIEW IF NOT EXISTS")
    return f"{head} {CHANGE_LOG} AS\n" + "\nUNION ALL ".join(parts)


def create_all(wh: "Warehouse") -> None:
    """Create every warehouse table that does not exist yet (idempotent).

    >>> from warehouse.engine import open_warehouse
    >>> wh = open_warehouse(":memory:"); create_all(wh); wh.table_exists("_changes_fact_visit")
    True
    """
    if wh.dialect == "duckdb":
        cur = wh.cursor()
        last = (CHANGE_LOG, changes_table(LOAD_ORDER[-1]), BULK_LOADS)
        if cur.execute("SELECT count(*) FROM information_schema.tables WHERE table_name IN "
                       "(?, ?, ?)", list(last)).fetchone()[0] == len(last):
            return  # already there (the view is created last; _bulk_loads came later)
        for stmt in ddl("duckdb"):
            cur.execute(stmt)
    else:
        for stmt in ddl(wh.dialect):
            wh.execute(stmt)
