"""The contract documentation (`docs/contract.md`), generated from `warehouse.contract`.

Regenerate after any change to the contract:

    python -m warehouse.contract_doc > docs/contract.md

A test fails while the committed file is stale. The type cells use the notation of the
contract's own specification (`shared/contract/source_tables.md`): `str PK`,
`str FK dim_campus.campus_id`, `enum a, b null ok`, `int 1..4`, so `parse_type_cell` reads both.

>>> "### fact_visit (就诊)" in render_markdown()
True
>>> parse_type_cell("enum window, app null ok")
{'type': 'enum', 'pk': False, 'fk': None, 'nullable': True, 'enum': ('window', 'app'), 'min': None, 'max': None}
"""
from __future__ import annotations

import re
import sys

from .contract import (
    CONTRACT_VERSION, DIMENSIONS, FACTS, FALSE_SPELLINGS, LOAD_ORDER, PART_DATE, TRUE_SPELLINGS,
    Column, Table,
)

COMMAND = "python -m warehouse.contract_doc > docs/contract.md"

_DELIVERIES = """\
- A delivery is a folder of files (or a file dropped into the server's inbox), one file per
  table named `<table>.csv` (UTF-8, header row) or `<table>.parquet`, or tables of the same names
  in the warehouse.
- Every row is an upsert by its primary key: a key seen in an earlier delivery with different
  content is an update; the same key twice with different content inside one delivery is
  ambiguous and both rows are quarantined. Dimensions are upserts too.
- An optional boolean column `_deleted` in a fact file removes that key (退号, voided charges,
  cancelled bookings). Deleting an unknown key is reported, not an error.
- An optional `_manifest.csv` (`table, date, rows, amount`) is the source system's own count per
  table and day (and money total where the table has an amount column, see each table).
  Reconciliation (对账) compares it with what the warehouse holds after the load.
- Load order (foreign keys first): {order}."""

_CONVENTIONS = """\
- Timestamps are local hospital time (Asia/Shanghai), naive, `YYYY-MM-DD HH:MM:SS`; dates
  `YYYY-MM-DD`.
- Money is yuan with 2 decimals. Negative amounts are legitimate reversals (refunds), not errors.
- Booleans: {true} for true; {false} for false (case-insensitive).
- IDs are strings. Every foreign key (`FK`) must exist in the table it names, else the row is
  quarantined.
- `enum` lists the only accepted values; anything else is a rejected row with a reason.
- Nullable columns are marked `null ok`; every other column is required. `a..b` is the accepted
  range of a number.
- The warehouse adds, per dimension, an integer surrogate key, and per fact `{part}`: the
  partition date, the first non-null of the listed partition columns."""

_GUARANTEES = """\
- A row that breaks the contract (missing required value, bad enum, unparseable type, unknown FK,
  duplicate PK with different content) is not loaded: it goes to a quarantine table with the
  file, line number, column and reason, and the load summary counts it. Nothing is silently
  dropped.
- Reloading the same file is idempotent (same PK, same content: no duplicates).
- Per table and per day, the load report reconciles rows read, loaded, quarantined (对账)."""


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def type_cell(table: Table, col: Column) -> str:
    """The type cell of one column, in the specification's notation.

    >>> from warehouse.contract import TABLES
    >>> type_cell(TABLES["fact_surgery"], TABLES["fact_surgery"].column("grade"))
    'int 1..4'
    >>> type_cell(TABLES["fact_visit"], TABLES["fact_visit"].column("doctor_id"))
    'str FK dim_doctor.doctor_id null ok'
    """
    parts = [col.type]
    if col.name in table.primary_key:
        parts.append("PK")
    if col.references:
        parts.append(f"FK {col.references}")
    if col.enum:
        parts.append(", ".join(col.enum))
    if col.min is not None or col.max is not None:
        lo = _num(col.min) if col.min is not None else ""
        hi = _num(col.max) if col.max is not None else ""
        parts.append(f"{lo}..{hi}")
    if col.nullable:
        parts.append("null ok")
    return " ".join(parts)


_RANGE = re.compile(r"^(-?\d+(?:\.\d+)?)?\.\.(-?\d+(?:\.\d+)?)?$")


def parse_type_cell(cell: str) -> dict:
    """Read a type cell back: `{type, pk, fk, nullable, enum, min, max}`. `fk` is the named
    target (`dim_campus` or `dim_campus.campus_id`), `""` for a bare `FK`, None for no FK.

    >>> parse_type_cell("str PK FK fact_inpatient")["fk"]
    'fact_inpatient'
    >>> parse_type_cell("int 1..4")["max"]
    4.0
    """
    text = cell.strip().replace("`", "")
    nullable = text.endswith("null ok")
    if nullable:
        text = text[: -len("null ok")].strip()
    base, _, rest = text.partition(" ")
    out = {"type": base, "pk": False, "fk": None, "nullable": nullable, "enum": None,
           "min": None, "max": None}
    if base == "enum":
        out["enum"] = tuple(v.strip() for v in rest.split(",") if v.strip())
        return out
    words = rest.split()
    i = 0
    while i < len(words):
        w = words[i]
        if w == "PK":
            out["pk"] = True
        elif w == "FK":
            nxt = words[i + 1] if i + 1 < len(words) else ""
            if nxt.startswith(("dim_", "fact_")):
                out["fk"] = nxt
                i += 1
            else:
                out["fk"] = ""
        elif m := _RANGE.match(w):
            out["min"] = float(m.group(1)) if m.group(1) else None
            out["max"] = float(m.group(2)) if m.group(2) else None
        else:
            raise ValueError(f"cannot read type cell {cell!r}: unexpected {w!r}")
        i += 1
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table_section(t: Table) -> list[str]:
    lines = [f"### {t.name} ({t.zh})", "", t.doc, ""]
    facts = [f"- Primary key: {', '.join(f'`{c}`' for c in t.primary_key)}"]
    if t.surrogate_key:
        facts.append(f"- Surrogate key added by the warehouse: `{t.surrogate_key}`")
    if t.partition_by:
        facts.append(f"- Partition date (`{PART_DATE}`): first non-null of "
                     + ", ".join(f"`{c}`" for c in t.partition_by))
    if t.amount_column:
        facts.append(f"- Money reconciled against the manifest's `amount`: `{t.amount_column}`")
    if t.foreign_keys:
        facts.append("- Foreign keys: " + "; ".join(f"`{c.name}` → `{c.references}`"
                                                    for c in t.foreign_keys))
    lines += facts + ["", "| column | type | meaning |", "|---|---|---|"]
    for c in t.columns:
        lines.append(f"| {c.name} | {_cell(type_cell(t, c))} | {_cell(c.doc)} |")
    return lines + [""]


#: how a fact reaches a level it does not carry: (level, table it must reference, cell text)
_VIA = (
    ("dim_campus", "dim_department", "via department"),
    ("dim_team", "dim_doctor", "via doctor"),
) + tuple((lv, "fact_inpatient", "via its stay")
          for lv in ("dim_campus", "dim_department", "dim_team", "dim_doctor"))


def _org_levels() -> list[str]:
    lines = ["| fact | campus | department | team | doctor |", "|---|---|---|---|---|"]
    for t in FACTS:
        cells = []
        refs = {c.ref_table for c in t.foreign_keys  # an optional link to a stay is no path
                if not (c.ref_table.startswith("fact_") and c.nullable)}
        for level in ("dim_campus", "dim_department", "dim_team", "dim_doctor"):
            cols = ", ".join(f"`{c.name}`" for c in t.foreign_keys if c.ref_table == level)
            via = next((v for lv, need, v in _VIA if lv == level and need in refs), "—")
            cells.append(cols or via)
        lines.append(f"| {t.name} | " + " | ".join(cells) + " |")
    return lines


def render_markdown() -> str:
    """The whole contract document as Markdown (what `docs/contract.md` holds).

    >>> render_markdown().splitlines()[2].startswith("# Source contract v")
    True
    """
    spell = lambda xs: ", ".join(f"`{x}`" for x in xs)  # noqa: E731
    out = [
        f"<!-- Generated from warehouse/contract.py; do not edit. Regenerate: {COMMAND} -->",
        "",
        f"# Source contract v{CONTRACT_VERSION}: the cleaned (DC-layer) tables the cockpit reads",
        "",
        f"{len(DIMENSIONS)} dimensions and {len(FACTS)} facts. This is the product's external data "
        "interface: names, types and meanings are kept exactly; optional columns are added only "
        "behind a version bump.",
        "",
        "## Deliveries",
        _DELIVERIES.format(order=", ".join(f"`{n}`" for n in LOAD_ORDER)),
        "",
        "## Conventions",
        _CONVENTIONS.format(true=spell(TRUE_SPELLINGS), false=spell(FALSE_SPELLINGS), part=PART_DATE),
        "",
        "## Dimensions",
        "",
    ]
    for t in DIMENSIONS:
        out += _table_section(t)
    out += ["## Facts", ""]
    for t in FACTS:
        out += _table_section(t)
    out += ["## Organisation levels each fact carries",
            "Columns of each fact that name a campus, department, team or doctor. Campus always "
            "follows from the department (`dim_department.campus_id`); a fact without a team "
            "reaches it through its doctor (`dim_doctor.team_id`).", ""]
    out += _org_levels()
    out += ["", "## What the loader guarantees", _GUARANTEES, ""]
    return "\n".join(out)


def main() -> None:
    """Print the document: `python -m warehouse.contract_doc > docs/contract.md`."""
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8", newline="\n")
    sys.stdout.write(render_markdown())


if __name__ == "__main__":
    main()
