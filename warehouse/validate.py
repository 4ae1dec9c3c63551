"""Row validation of a delivered file, vectorised in DuckDB SQL.

`parse` reads the file once (through readers.open_source: the columns the reader can type
already typed, the others as text, cast with TRY_CAST; a CSV the typed reading refuses is read
again all as text) and flags rows that break the contract (missing required value, bad type, bad enum,
out of range, bad boolean spelling, no partition date) into a typed TEMP table; `validate` then
anti-joins find unknown foreign keys (against the warehouse, which already holds this
delivery's dimensions and earlier facts: the loader validates tables in load order inside one
transaction); a GROUP BY finds keys delivered twice with different content (both rows are
quarantined) or twice identically (collapsed to one). Only the few bad rows are revisited to
write their reasons, from the file's all-text reading, so a reason quotes the delivered text.

Every reason names the file, line, column and value, and what is expected, e.g.
`fact_visit.csv:118: column visit_type: 'outpt' is not one of outpatient, emergency`.

>>> import duckdb, tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "dim_campus.csv"
>>> _ = p.write_text("campus_id,campus_name,campus_type,province,city\\nC01,总院,main,四川,成都\\nC02,x,mian,a,b\\n")
>>> cur = duckdb.connect()
>>> v = validate(cur, stage_file(cur, p))
>>> (v.read, v.good_rows, v.quarantined)
(2, 1, 1)
>>> cur.execute(f"select reason from {v.problems}").fetchone()[0]
"dim_campus.csv:3: column campus_type: 'mian' is not one of main, branch, alliance"
"""
from __future__ import annotations

from dataclasses import dataclass

from .contract import FALSE_SPELLINGS, PART_DATE, TABLES, TRUE_SPELLINGS, Column, Table
from .readers import DELETED, StagedFile
from .schema import duckdb_type


#: the end of the reason given to each line of a key delivered twice with different content
REPEATED = "times in this delivery with different content; deliver it once"


def q(name: str) -> str:
    """Quote an identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    """A SQL string literal for a constant of the contract (never for delivered values)."""
    return "'" + str(text).replace("'", "''") + "'"


@dataclass
class Validation:
    """The outcome of validating one staged file.

    `good` names a TEMP table of typed rows ready to merge: the contract's columns, `_del`
    (BOOLEAN: the row deletes its key), `_line`, and `_part_date` for facts. `problems` names a
    TEMP table (file, line, column_name, value, reason, row_json), one row per problem."""

    table: str
    good: str
    problems: str
    read: int
    good_rows: int
    quarantined: int
    duplicates: int
    per_day: list = None  # type: ignore[assignment]  # see _per_day


# -- per-column expressions ------------------------------------------------------------------
# `src` is the type the relation yields the column as (None: VARCHAR text, as delivered)
def _v(col: Column, src: str | None = None) -> str:
    """The delivered value, NULL when empty (text trimmed for non-text types)."""
    raw = f"s.{q(col.name)}"
    if src:
        return raw
    if col.type in ("int", "float", "money"):
        return f"nullif(trim({raw}), '')"
    return f"nullif({raw}, '')"


def _bool_expr(v: str) -> str:
    t = ", ".join(lit(x) for x in TRUE_SPELLINGS)
    f = ", ".join(lit(x) for x in FALSE_SPELLINGS)
    return f"(CASE WHEN lower({v}) IN ({t}) THEN true WHEN lower({v}) IN ({f}) THEN false END)"


def _typed(col: Column, src: str | None = None) -> str:
    v = _v(col, src)
    if src:
        target = duckdb_type(col)
        return v if src == target else f"TRY_CAST({v} AS {target})"
    if col.type == "str":
        return v
    if col.type == "enum":
        return f"(CASE WHEN {v} IN ({', '.join(lit(e) for e in col.enum or ())}) THEN {v} END)"
    if col.type == "bool":
        return _bool_expr(v)
    if col.type == "int":
        return (f"(CASE WHEN TRY_CAST({v} AS DOUBLE) = TRY_CAST({v} AS INTEGER) "
                f"THEN TRY_CAST({v} AS INTEGER) END)")
    return f"TRY_CAST({v} AS {duckdb_type(col)})"


_TYPE_HINT = {
    "int": "is not an integer", "float": "is not a number",
    "money": "is not an amount in yuan (e.g. 12.50)",
    "bool": "is not a boolean (true/false, 1/0, Y/N, 是/否)",
    "date": "is not a date (YYYY-MM-DD)", "timestamp": "is not a timestamp (YYYY-MM-DD HH:MM:SS)",
}


def _checks(table: Table, col: Column, src: str | None = None) -> list[tuple[str, str]]:
    """(condition over the inner query's v_/t_ columns, message expression) per kind of problem."""
    v, t = q("v_" + col.name), q("t_" + col.name)
    applies = "true" if col.name in table.primary_key else "NOT _del"
    shown = f"'''' || CAST({v} AS VARCHAR) || ''''"
    out = []
    if not col.nullable:
        out.append((f"{applies} AND {v} IS NULL",
                    lit("a value is required (the contract does not allow it empty)")))
    if col.type == "enum":
        hint = " is not one of " + ", ".join(col.enum or ())
    else:
        hint = " " + _TYPE_HINT.get(col.type, "")
    if col.type != "str" and src != duckdb_type(col):  # (a value read as its type casts)
        out.append((f"{applies} AND {v} IS NOT NULL AND {t} IS NULL", f"{shown} || {lit(hint)}"))
    if col.min is not None:
        out.append((f"{applies} AND {t} < {col.min!r}", f"{shown} || {lit(f' is below the minimum {col.min:g}')}"))
    if col.max is not None:
        out.append((f"{applies} AND {t} > {col.max!r}", f"{shown} || {lit(f' is above the maximum {col.max:g}')}"))
    return out


def _inner_select(table: Table, staged: StagedFile, text: bool = False) -> str:
    """SELECT of _line, _file, v_*, t_*, _del, _del_bad, _del_raw, _part_date over the file's
    relation `s` (placeholders: staged.params, then the file label unless rows carry `_file`);
    over its all-text reading when `text`."""
    types = {} if text else staged.types
    parts = ["s._line AS _line"]
    parts.append("s._file AS _file" if staged.explicit_lines else "CAST(? AS VARCHAR) AS _file")
    for c in table.columns:
        parts.append(f"{_v(c, types.get(c.name))} AS {q('v_' + c.name)}")
        parts.append(f"{_typed(c, types.get(c.name))} AS {q('t_' + c.name)}")
    if staged.has_deleted:
        d = f"nullif(trim(s.{q(DELETED)}), '')"
        # an unreadable flag still marks the row as meant for deletion: it is quarantined for
        # the flag alone, not for lacking the columns a deletion does not need
        parts.append(f"coalesce({_bool_expr(d)}, {d} IS NOT NULL) AS _del")
        parts.append(f"({d} IS NOT NULL AND {_bool_expr(d)} IS NULL) AS _del_bad")
        parts.append(f"{d} AS _del_raw")
    else:
        parts.append("false AS _del")
        parts.append("false AS _del_bad")
        parts.append("CAST(NULL AS VARCHAR) AS _del_raw")
    inner = "SELECT " + ", ".join(parts) + f" FROM {staged.text if text else staged.relation} s"
    if table.partition_by:
        part = "coalesce(" + ", ".join(f"CAST({q('t_' + c)} AS DATE)" for c in table.partition_by) + ")"
        return f"SELECT *, {part} AS {PART_DATE} FROM ({inner})"
    return inner


def _params(staged: StagedFile) -> list:
    return ([] if staged.explicit_lines else [staged.label]) + list(staged.params)


def _row_problems(table: Table, types: dict | None = None) -> list[tuple[str, str, str, str]]:
    """(condition, column label, value expression, message expression) of row-local problems
    (`types`: the columns the relation yields typed, see StagedFile.types)."""
    out = []
    for c in table.columns:
        for cond, msg in _checks(table, c, (types or {}).get(c.name)):
            out.append((cond, c.name, q("v_" + c.name), msg))
    out.append(("_del_bad", DELETED, "_del_raw",
                "'''' || _del_raw || ''' ' || " + lit(_TYPE_HINT["bool"])))
    if table.kind == "dimension":
        out.append(("_del", DELETED, "_del_raw", lit(
            "only fact rows can be deleted; drop the row, or fix the dimension row instead")))
    if table.partition_by and all(table.column(c).nullable for c in table.partition_by):
        # (a required or invalid partition column is reported as such)
        cols = ", ".join(table.partition_by)
        empty = " AND ".join(f"{q('v_' + c)} IS NULL" for c in table.partition_by)
        out.append((f"NOT _del AND {empty}", cols, "CAST(NULL AS VARCHAR)", lit(
            f"all empty; a {table.name} row needs {cols.replace(', ', ' or ')} to date it")))
    return out


def parse(cur, staged: StagedFile) -> str:
    """Read the file once into a typed TEMP table (contract columns typed, `_del`, `_line`,
    `_file`, `_part_date`, and `_ok`: no row-local problem). Needs nothing from the warehouse,
    so it runs before the load's transaction. Returns the table name; sets staged.rows."""
    import duckdb

    table = TABLES[staged.table]
    typ = f"_typ_{staged.table}"
    keep = [f"{q('t_' + n)} AS {q(n)}" for n in table.column_names] + ["_del", "_line", "_file"]
    if table.partition_by:
        keep.append(PART_DATE)
    while True:
        problems = _row_problems(table, staged.types)
        any_bad = " OR ".join(f"coalesce({cond}, false)" for cond, *_ in problems) or "false"
        try:
            cur.execute(f"CREATE OR REPLACE TEMP TABLE {q(typ)} AS SELECT {', '.join(keep)}, "
                        f"NOT ({any_bad}) AS _ok FROM ({_inner_select(table, staged)})",
                        _params(staged))
            break
        except duckdb.Error as e:
            if staged.text_relation and staged.format == "csv":
                staged.use_text()  # a value the typed reader refuses: check it as text
                continue
            from .readers import UnreadableFile, error_text

            raise UnreadableFile(f"{staged.label}: cannot be read as {staged.format}: "
                                 f"{error_text(e)}") from e
    staged.typed = typ
    staged.rows = cur.execute(f"SELECT count(*) FROM {q(typ)}").fetchone()[0]
    return typ


def stage_file(cur, path, table: str | None = None, encoding: str | None = None,
               defer_above: int | None = None) -> StagedFile:
    """Open and parse one delivered file (see readers.open_source and parse); a CSV that
    turns out not to be UTF-8 past the sniffed sample is transcoded from GB18030 and re-read.
    A Parquet file of more than `defer_above` rows is only opened (its row count read from
    its footer): the loader parses it inside the load, whole or in slices."""
    from .readers import UnreadableFile, open_source, parquet_rows

    staged = open_source(cur, path, table, encoding)
    if defer_above is not None and staged.format == "parquet":
        staged.rows = parquet_rows(cur, staged.path)
        if staged.rows > defer_above:
            return staged
        staged.rows = None
    try:
        parse(cur, staged)
    except UnreadableFile as e:
        staged.cleanup(cur)
        if staged.format != "csv" or encoding or staged.encoding != "utf-8" \
                or "unicode" not in str(e).lower():
            raise
        staged = open_source(cur, path, table, None, force_transcode=True)
        try:
            parse(cur, staged)
        except BaseException:
            staged.cleanup(cur)
            raise
    return staged


def validate(cur, staged: StagedFile) -> Validation:
    """Finish validating a parsed file (FKs against the warehouse on `cur`, duplicate keys,
    reasons for bad rows); write the `good` and `problems` TEMP tables (see Validation).

    Foreign keys are checked against the warehouse tables on `cur` (in the caller's
    transaction, after this delivery's earlier tables were merged).
    """
    table = TABLES[staged.table]
    tag = staged.table
    if staged.typed is None:
        parse(cur, staged)
    typ, good, prob = staged.typed, f"_good_{tag}", f"_prob_{tag}"
    problems = _row_problems(table)
    contract = list(table.column_names)

    cur.execute(f"CREATE OR REPLACE TEMP TABLE {q(prob)} (file VARCHAR, line BIGINT, "
                "column_name VARCHAR, value VARCHAR, reason VARCHAR, row_json VARCHAR)")
    n_bad = cur.execute(f"SELECT count(*) FROM {q(typ)} WHERE NOT _ok").fetchone()[0]
    if n_bad:
        # read the bad rows again, as delivered, to say what is wrong with them
        bad = f"_bad_{tag}"
        cur.execute(f"CREATE OR REPLACE TEMP TABLE {q(bad)} AS SELECT * FROM "
                    f"({_inner_select(table, staged, text=True)}) WHERE _line IN "
                    f"(SELECT _line FROM {q(typ)} WHERE NOT _ok)", _params(staged))
        for cond, colname, value, msg in problems:
            cur.execute(
                f"INSERT INTO {q(prob)} (file, line, column_name, value, reason) "
                f"SELECT _file, _line, {lit(colname)}, {value}, "
                f"_file || ':' || _line || ': column {colname}: ' || {msg} FROM {q(bad)} "
                f"WHERE coalesce({cond}, false)")
        if staged.text_relation:  # (never expected) a row the typed reading flagged that
            # its text passes: quarantined all the same, never dropped without a reason
            cur.execute(
                f"INSERT INTO {q(prob)} (file, line, column_name, value, reason) "
                f"SELECT _file, _line, NULL, NULL, _file || ':' || _line || ': the row fails a "
                f"check of its typed reading' FROM {q(bad)} WHERE _line NOT IN "
                f"(SELECT line FROM {q(prob)})")
        cur.execute(f"DROP TABLE {q(bad)}")

    # unknown foreign keys
    for c in table.foreign_keys:
        ref_t, ref_c = c.ref_table, c.ref_column
        cur.execute(
            f"INSERT INTO {q(prob)} (file, line, column_name, value, reason) "
            f"SELECT t._file, t._line, {lit(c.name)}, t.{q(c.name)}, t._file || ':' || t._line || "
            f"': column {c.name}: ''' || t.{q(c.name)} || ''' is not a known {ref_t}.{ref_c}; "
            f"deliver that {ref_t} row first, or fix the id' "
            f"FROM {q(typ)} t WHERE t.{q(c.name)} IS NOT NULL AND NOT t._del AND NOT EXISTS "
            f"(SELECT 1 FROM {q(ref_t)} r WHERE r.{q(ref_c)} = t.{q(c.name)})")

    # keys delivered more than once
    pk = [q(k) for k in table.primary_key]
    content = ", ".join([q(n) for n in contract] + ["_del"])
    dups = f"_dup_{tag}"
    notnull = " AND ".join(f"{k} IS NOT NULL" for k in pk)
    cur.execute(f"CREATE OR REPLACE TEMP TABLE {q(dups)} AS SELECT {', '.join(pk)}, count(*) AS n "
                f"FROM {q(typ)} WHERE {notnull} GROUP BY ALL HAVING count(*) > 1")
    # (content is compared only for the few repeated keys)
    if cur.execute(f"SELECT count(*) FROM {q(dups)}").fetchone()[0]:
        cur.execute(f"CREATE OR REPLACE TEMP TABLE {q(dups)} AS SELECT d.*, "
                    f"(SELECT count(DISTINCT hash({', '.join('t.' + c for c in content.split(', '))})) "
                    f"FROM {q(typ)} t WHERE {' AND '.join(f't.{k} = d.{k}' for k in pk)}) AS nd, "
                    f"(SELECT min(t._line) FROM {q(typ)} t WHERE "
                    f"{' AND '.join(f't.{k} = d.{k}' for k in pk)}) AS first_line FROM {q(dups)} d")
    else:
        cur.execute(f"ALTER TABLE {q(dups)} ADD COLUMN nd BIGINT")
        cur.execute(f"ALTER TABLE {q(dups)} ADD COLUMN first_line BIGINT")
    n_dup_keys, n_conflicts = cur.execute(
        f"SELECT count(*), count(*) FILTER (WHERE nd > 1) FROM {q(dups)}").fetchone()
    join_on = " AND ".join(f"t.{k} = d.{k}" for k in pk)
    key_text = " || '|' || ".join(f"CAST(t.{k} AS VARCHAR)" for k in pk)
    if n_conflicts:
        cur.execute(
            f"INSERT INTO {q(prob)} (file, line, column_name, value, reason) "
            f"SELECT t._file, t._line, {lit(', '.join(table.primary_key))}, {key_text}, "
            f"t._file || ':' || t._line || ': column {', '.join(table.primary_key)}: key ''' || "
            f"{key_text} || ''' appears ' || d.n || ' {REPEATED}' "
            f"FROM {q(typ)} t JOIN {q(dups)} d ON {join_on} WHERE d.nd > 1")

    n_prob = cur.execute(f"SELECT count(*) FROM {q(prob)}").fetchone()[0]
    if n_prob:
        # keep the whole delivered row with each problem, for export and replay
        src_cols = [q(c) for c in contract] + ([q(DELETED)] if staged.has_deleted else [])
        cur.execute(
            f"UPDATE {q(prob)} SET row_json = r.j FROM (SELECT s._line AS _line, "
            f"to_json(struct_pack({', '.join(f'{c} := s.{c}' for c in src_cols)})) AS j "
            f"FROM {staged.text} s WHERE s._line IN (SELECT line FROM {q(prob)})) r "
            f"WHERE r._line = {q(prob)}.line", list(staged.params))

    collapsed = 0
    if n_prob or n_dup_keys:
        cols = ", ".join(q(n) for n in keep_names(table))
        where = ["t._ok", f"t._line NOT IN (SELECT line FROM {q(prob)})"]
        if n_dup_keys:  # identical duplicates: keep the first line
            where.append(f"NOT EXISTS (SELECT 1 FROM {q(dups)} d WHERE {join_on} "
                         f"AND d.nd = 1 AND t._line <> d.first_line)")
            collapsed = cur.execute(f"SELECT coalesce(sum(n - 1), 0) FROM {q(dups)} WHERE nd = 1"
                                    ).fetchone()[0]
        cur.execute(f"CREATE OR REPLACE TEMP TABLE {q(good)} AS SELECT {cols} FROM {q(typ)} t "
                    f"WHERE {' AND '.join(where)}")
    else:
        good = typ  # every row is good: no copy
    cur.execute(f"DROP TABLE {q(dups)}")
    per_day = []
    if n_prob or n_dup_keys:
        per_day = _per_day(cur, table, q(typ), q(good))
    good_rows = cur.execute(f"SELECT count(*) FROM {q(good)}").fetchone()[0]
    quarantined = cur.execute(f"SELECT count(DISTINCT line) FROM {q(prob)}").fetchone()[0]
    return Validation(staged.table, good, prob, staged.rows, good_rows, quarantined, int(collapsed),
                      per_day)


def per_day_of_load(cur, staged: StagedFile, table_name: str) -> list[tuple]:
    """`_per_day` of a whole file (read again, typed as `parse` types it, nothing kept)
    against a fact table that holds only what this load inserted (a first load)."""
    table = TABLES[staged.table]
    keep = ", ".join([f"{q('t_' + n)} AS {q(n)}" for n in table.column_names]
                     + ["_del", "_line", PART_DATE])
    return _per_day(cur, table, f"(SELECT {keep} FROM ({_inner_select(table, staged)}))",
                    f"(SELECT *, false AS _del, 0 AS _line FROM {q(table_name)})",
                    _params(staged))


def _per_day(cur, table: Table, file_rows: str, good_rows: str, params=()) -> list[tuple]:
    """(day, file rows, accepted rows, file amount, accepted amount) per partition day where the
    two differ: what in-load reconciliation reports (quarantined rows are missing).
    `file_rows` and `good_rows` are FROM items (`params` bind the first one's placeholders)."""
    key = " || '|' || ".join(f"CAST({q(k)} AS VARCHAR)" for k in table.primary_key)
    day = PART_DATE if table.partition_by else "CAST(NULL AS DATE)"
    amt = q(table.amount_column) if table.amount_column else "CAST(NULL AS DECIMAL(18,2))"

    def agg(src: str) -> str:
        return (f"SELECT {day} AS d, count(DISTINCT coalesce({key}, '#' || _line)) AS n, "
                f"sum({amt}) AS a FROM {src} WHERE NOT _del GROUP BY 1")
    return cur.execute(
        f"SELECT f.d, f.n, coalesce(g.n, 0), f.a, g.a FROM ({agg(file_rows)}) f LEFT JOIN ({agg(good_rows)}) g "
        f"ON f.d IS NOT DISTINCT FROM g.d WHERE f.n <> coalesce(g.n, 0) OR "
        f"f.a IS DISTINCT FROM g.a ORDER BY f.d NULLS FIRST", list(params)).fetchall()


def keep_names(table: Table) -> list[str]:
    """Columns of a `good` table."""
    out = list(table.column_names) + ["_del", "_line", "_file"]
    if table.partition_by:
        out.append(PART_DATE)
    return out
