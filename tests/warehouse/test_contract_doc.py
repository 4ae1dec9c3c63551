"""docs/contract.md is current, and contract.py agrees with the specification
shared/contract/source_tables.md (tables, columns, types, null ok, enums, PKs, FKs, ranges)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from warehouse.contract import DIMENSIONS, FACTS, TABLES
from warehouse.contract_doc import COMMAND, parse_type_cell, render_markdown

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "contract.md"
SPEC = Path(__file__).resolve().parents[3] / "shared" / "contract" / "source_tables.md"

#: where the specification and contract.py knowingly differ; each entry is one line that
#: `_differences` produces. Fix one side, then delete the entry (the test insists on both).
KNOWN_DIFFERENCES = {
    # contract.py: dim_doctor.team_id references dim_team.team_id; the spec marks no FK
    "dim_doctor.team_id: FK spec=None contract='dim_team.team_id'",
    # contract.py: fact_ward_census PK (census_date, dept_id); the spec marks no PK column
    "fact_ward_census: primary key spec=() contract=('census_date', 'dept_id')",
}

#: FK columns whose name does not say the table they reference (the spec writes a bare `FK`)
_FK_ALIASES = {"surgeon_id": "dim_doctor", "attending_doctor_id": "dim_doctor"}


def parse_contract_markdown(text: str) -> dict[str, dict]:
    """{table: {"pk": (...), "columns": {name: parsed type cell}}} from `### <table> (…)`
    headings followed by a `| column | type | meaning |` table."""
    tables: dict[str, dict] = {}
    current = None
    for line in text.splitlines():
        if m := re.match(r"^###\s+((?:dim|fact)_\w+)", line):
            current = tables.setdefault(m.group(1), {"pk": (), "columns": {}})
            continue
        if current is None or not line.startswith("|"):
            if line.startswith("## "):
                current = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] in ("column", "") or set(cells[0]) <= {"-"}:
            continue
        parsed = parse_type_cell(cells[1])
        current["columns"][cells[0]] = parsed
        if parsed["pk"]:
            current["pk"] += (cells[0],)
    return tables


def _fk_target(column: str, named: str) -> str:
    """The table a spec FK names, or for a bare `FK` the table the column's name implies."""
    if named:
        return named.split(".")[0]
    if column in _FK_ALIASES:
        return _FK_ALIASES[column]
    for t in TABLES.values():
        pk = t.primary_key
        if len(pk) == 1 and (column == pk[0] or column.endswith("_" + pk[0])):
            return t.name
    raise AssertionError(f"cannot tell which table a bare FK on {column!r} references")


def _differences(spec: dict[str, dict]) -> set[str]:
    out: set[str] = set()
    if set(spec) != set(TABLES):
        out.add(f"tables: only in spec {sorted(set(spec) - set(TABLES))}, "
                f"only in contract {sorted(set(TABLES) - set(spec))}")
    for name in sorted(set(spec) & set(TABLES)):
        s, t = spec[name], TABLES[name]
        if list(s["columns"]) != list(t.column_names):
            out.add(f"{name}: columns spec={list(s['columns'])} contract={list(t.column_names)}")
        if s["pk"] != t.primary_key:
            out.add(f"{name}: primary key spec={s['pk']} contract={t.primary_key}")
        for col, sc in s["columns"].items():
            if col not in t.column_names:
                continue
            c, where = t.column(col), f"{name}.{col}"
            if sc["type"] != c.type:
                out.add(f"{where}: type spec={sc['type']!r} contract={c.type!r}")
            if sc["nullable"] != c.nullable:
                out.add(f"{where}: null ok spec={sc['nullable']} contract={c.nullable}")
            if sc["enum"] != c.enum:
                out.add(f"{where}: enum spec={sc['enum']} contract={c.enum}")
            if sc["fk"] is None:
                if c.references:
                    out.add(f"{where}: FK spec=None contract={c.references!r}")
            elif not c.references:
                out.add(f"{where}: FK spec={sc['fk'] or 'FK'!r} contract=None")
            elif "." in sc["fk"] and sc["fk"] != c.references:
                out.add(f"{where}: FK spec={sc['fk']!r} contract={c.references!r}")
            elif _fk_target(col, sc["fk"]) != c.ref_table:
                out.add(f"{where}: FK spec={_fk_target(col, sc['fk'])!r} contract={c.references!r}")
            elif c.references and c.ref_column not in TABLES[c.ref_table].primary_key:
                out.add(f"{where}: FK {c.references} is not the primary key of {c.ref_table}")
            for bound in ("min", "max"):  # the spec states some ranges (grade 1..4)
                if sc[bound] is not None and sc[bound] != getattr(c, bound):
                    out.add(f"{where}: {bound} spec={sc[bound]} contract={getattr(c, bound)}")
    return out


# -- the generated document -------------------------------------------------------------------

def test_docs_contract_md_is_current():
    assert DOC.exists(), f"docs/contract.md is missing; run: {COMMAND}"
    assert DOC.read_text(encoding="utf-8") == render_markdown(), (
        f"docs/contract.md is stale (contract.py changed); regenerate it: {COMMAND}")


def test_document_covers_every_table_and_column():
    doc = parse_contract_markdown(render_markdown())
    assert list(doc) == [t.name for t in DIMENSIONS + FACTS] and len(doc) == 15
    assert _differences(doc) == set()  # the document says exactly what contract.py says
    text = render_markdown()
    for t in TABLES.values():
        assert f"### {t.name} ({t.zh})" in text and t.doc in text
    for must in ("## Deliveries", "## Conventions", "`_deleted`", "`_manifest.csv`", "null ok",
                 "_part_date", "Partition date", "## What the loader guarantees"):
        assert must in text


def test_parse_type_cell():
    assert parse_type_cell("str PK") == {"type": "str", "pk": True, "fk": None, "nullable": False,
                                         "enum": None, "min": None, "max": None}
    assert parse_type_cell("str FK null ok")["fk"] == ""
    assert parse_type_cell("str FK dim_drg null ok")["fk"] == "dim_drg"
    assert parse_type_cell("int 1..4")["min"] == 1.0
    assert parse_type_cell("enum A, B, C null ok")["enum"] == ("A", "B", "C")
    with pytest.raises(ValueError):
        parse_type_cell("str nonsense")


# -- contract.py against the specification ----------------------------------------------------

@pytest.fixture(scope="module")
def spec() -> dict[str, dict]:
    if not SPEC.exists():
        pytest.fail(f"the specification is not beside the repository ({SPEC}): CI and the "
                    "development machines keep shared/ there")
    return parse_contract_markdown(SPEC.read_text(encoding="utf-8"))


def test_spec_parses_all_fifteen_tables(spec):
    assert len(spec) == 15
    assert sum(len(t["columns"]) for t in spec.values()) == sum(len(t.columns) for t in TABLES.values())


def test_contract_py_agrees_with_the_specification(spec):
    found = _differences(spec)
    unexpected = found - KNOWN_DIFFERENCES
    fixed = KNOWN_DIFFERENCES - found
    assert not unexpected, "contract.py and source_tables.md differ:\n" + "\n".join(sorted(unexpected))
    assert not fixed, ("these known differences are gone; delete them from KNOWN_DIFFERENCES:\n"
                       + "\n".join(sorted(fixed)))
