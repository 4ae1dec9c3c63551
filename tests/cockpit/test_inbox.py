"""The server's inbox (cockpit.inbox): drain loads each waiting file, archives it, moves an
unreadable one to inbox/failed with an .error note; hand_over writes atomically."""
from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from cockpit import inbox as inbox_mod
from cockpit.inbox import archive_dir, drain, hand_over, inbox_dir, pending
from tests.cockpit.conftest import copy_tiny
from warehouse.contract import TABLES
from warehouse.settings import hospital_now


@pytest.fixture(scope="module")
def wh(tiny_golden, tmp_path_factory):
    from warehouse.engine import open_warehouse

    folder = tmp_path_factory.mktemp("inbox-wh")
    w = open_warehouse(str(copy_tiny(tiny_golden, folder)))
    yield w
    w.close()


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("COCKPIT_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def export(wh, table: str, path: Path, select: str) -> Path:
    """Write `select` (over the warehouse) as a contract CSV for `table`."""
    cols = ", ".join(TABLES[table].column_names)
    path.parent.mkdir(parents=True, exist_ok=True)
    wh.execute(f"COPY (SELECT {cols} FROM ({select})) TO '{path}' (HEADER)")
    return path


def new_visits(wh, path: Path, prefix: str, n: int = 3, dept: str | None = None) -> Path:
    dept_sql = f"'{dept}' AS dept_id, NULL AS doctor_id" if dept else "dept_id, doctor_id"
    return export(wh, "fact_visit", path, f"""
        SELECT '{prefix}' || row_number() OVER () AS visit_id, {dept_sql},
               * EXCLUDE (visit_id, dept_id, doctor_id)
        FROM (SELECT * FROM fact_visit WHERE visit_ts >= TIMESTAMP '2026-11-25 00:00'
              ORDER BY visit_id LIMIT {n})""")


def count(wh, sql, params=None):
    return wh.scalar(sql, params)


def test_drain_loads_archives_and_reports(wh, home):
    inbox_dir().mkdir(parents=True)
    new_visits(wh, inbox_dir() / "fact_visit.csv", "VINBOXA", 3)
    out = drain(wh)
    assert out == [{"file": "fact_visit.csv", "status": "loaded", "read": 3, "changed": 3,
                    "quarantined": 0}]
    assert count(wh, "SELECT count(*) FROM fact_visit WHERE visit_id LIKE 'VINBOXA%'") == 3
    assert pending() == []
    archived = archive_dir() / hospital_now().date().isoformat() / "fact_visit.csv"
    assert archived.exists() and not (inbox_dir() / "fact_visit.csv").exists()
    # the same name again is archived beside the first, not over it
    new_visits(wh, inbox_dir() / "fact_visit.csv", "VINBOXB", 2)
    assert drain(wh)[0]["changed"] == 2
    assert len(list(archived.parent.glob("fact_visit*.csv"))) == 2
    assert drain(wh) == []


def test_drain_reports_quarantined_rows(wh, home):
    inbox_dir().mkdir(parents=True)
    good = new_visits(wh, home / "good.csv", "VQGOOD", 1)
    bad = new_visits(wh, home / "bad.csv", "VQBAD", 2, dept="D_NO_SUCH")
    lines = bad.read_text(encoding="utf-8").splitlines(keepends=True)[1:]
    (inbox_dir() / "fact_visit.csv").write_text(good.read_text(encoding="utf-8") + "".join(lines),
                                                encoding="utf-8")
    (rec,) = drain(wh)
    assert rec["status"] == "loaded" and rec["quarantined"] == 2 and rec["changed"] == 1
    assert count(wh, "SELECT count(*) FROM fact_visit WHERE visit_id LIKE 'VQ%'") == 1


def test_a_file_with_every_row_quarantined_is_failed(wh, home):
    inbox_dir().mkdir(parents=True)
    new_visits(wh, inbox_dir() / "fact_visit.csv", "VQALL", 2, dept="D_NO_SUCH")
    (rec,) = drain(wh)
    assert rec["status"] == "failed" and "quarantined" in rec["error"]
    assert (inbox_dir() / "failed" / "fact_visit.csv.error").exists()


@pytest.mark.parametrize("name, content", [
    ("fact_visit.csv", b""),
    ("fact_charge.csv", b"charge_id\nC1\n"),
    ("fact_surgery.parquet", b"PAR1 this is not parquet"),
    ("dim_team.csv", b"\x00\x01\xff\xfe garbage\n"),
    ("notes.csv", b"a,b\n1,2\n"),
])
def test_unreadable_file_moves_to_failed_with_a_note(wh, home, name, content):
    inbox_dir().mkdir(parents=True)
    (inbox_dir() / name).write_bytes(content)
    (rec,) = drain(wh)
    assert rec["file"] == name and rec["status"] == "failed" and rec["error"]
    failed = inbox_dir() / "failed"
    assert (failed / name).read_bytes() == content
    note = (failed / (name + ".error")).read_text(encoding="utf-8")
    assert note == rec["error"]
    assert not (inbox_dir() / name).exists()
    assert drain(wh) == []  # not tried again every minute


def test_a_bad_file_does_not_stop_the_good_ones(wh, home):
    inbox_dir().mkdir(parents=True)
    (inbox_dir() / "fact_charge.csv").write_text("nonsense\n1\n", encoding="utf-8")
    new_visits(wh, inbox_dir() / "fact_visit.csv", "VMIXED", 2)
    out = {r["file"]: r["status"] for r in drain(wh)}
    assert out == {"fact_charge.csv": "failed", "fact_visit.csv": "loaded"}
    assert count(wh, "SELECT count(*) FROM fact_visit WHERE visit_id LIKE 'VMIXED%'") == 2


def test_files_being_written_wait(wh, home):
    inbox_dir().mkdir(parents=True)
    new_visits(wh, inbox_dir() / "fact_visit.csv.part", "VPART", 1)
    assert pending() == []
    assert drain(wh) == []
    assert (inbox_dir() / "fact_visit.csv.part").exists()


def _new_department(wh, folder: Path, name: str) -> Path:
    return export(wh, "dim_department", folder / name,
                  "SELECT 'D9901' AS dept_id, '新科室' AS dept_name, * EXCLUDE (dept_id, dept_name) "
                  "FROM dim_department WHERE dept_id = 'D0105'")


def test_dimensions_load_before_facts(wh, home):
    """A new department and its first visits arrive together: the department loads first."""
    inbox_dir().mkdir(parents=True)
    new_visits(wh, inbox_dir() / "fact_visit.csv", "VNEWDEPT", 2, dept="D9901")
    _new_department(wh, inbox_dir(), "dim_department.csv")
    out = drain(wh)
    assert [r["file"] for r in out] == ["dim_department.csv", "fact_visit.csv"]
    assert out[1]["quarantined"] == 0
    assert count(wh, "SELECT count(*) FROM fact_visit WHERE dept_id = 'D9901'") == 2


def test_dimensions_load_before_facts_whatever_the_file_suffix(wh, home):
    """table_for_file accepts `<table>_<anything>.csv` for inbox files, but drain orders by
    `name.split('.')[0]`, so `dim_department_0102.csv` sorts after every fact (key 99): the
    visits of the new department are quarantined for an unknown dept_id. Order by
    warehouse.readers.table_for_file(path) instead."""
    inbox_dir().mkdir(parents=True)
    new_visits(wh, inbox_dir() / "fact_visit_0102.csv", "VSUFFIX", 2, dept="D9902")
    export(wh, "dim_department", inbox_dir() / "dim_department_0102.csv",
           "SELECT 'D9902' AS dept_id, '又一科室' AS dept_name, * EXCLUDE (dept_id, dept_name) "
           "FROM dim_department WHERE dept_id = 'D0105'")
    out = drain(wh)
    assert count(wh, "SELECT count(*) FROM fact_visit WHERE dept_id = 'D9902'") == 2
    assert [r["file"] for r in out] == ["dim_department_0102.csv", "fact_visit_0102.csv"]


# -- hand_over -------------------------------------------------------------------------------
def test_hand_over_copies_atomically(home, tmp_path, monkeypatch):
    src = tmp_path / "delivery"
    src.mkdir()
    files = []
    for name in ("dim_team.csv", "fact_visit.parquet"):
        (src / name).write_bytes(os.urandom(4096))
        files.append(src / name)
    seen_while_copying = []
    real_copy = shutil.copyfile

    def spy(a, b, *args, **kw):
        out = real_copy(a, b, *args, **kw)
        seen_while_copying.append((Path(b).name, [p.name for p in pending()]))
        return out

    monkeypatch.setattr(inbox_mod.shutil, "copyfile", spy)
    queued = hand_over(files)
    assert [p.name for p in queued] == ["dim_team.csv", "fact_visit.parquet"]
    # while a file is being written it is a .part the server does not see
    assert seen_while_copying[0] == ("dim_team.csv.part", [])
    assert seen_while_copying[1] == ("fact_visit.parquet.part", ["dim_team.csv"])
    for f, q in zip(files, queued):
        assert q.parent == inbox_dir() and q.read_bytes() == f.read_bytes()
        assert f.exists()  # the caller's file is copied, not moved
    assert not list(inbox_dir().glob("*.part"))


def test_hand_over_never_overwrites_a_waiting_file(home, tmp_path):
    src = tmp_path / "fact_visit.csv"
    src.write_text("one", encoding="utf-8")
    (first,) = hand_over([src])
    src.write_text("two", encoding="utf-8")
    (second,) = hand_over([src])
    assert first != second and first.read_text() == "one" and second.read_text() == "two"
    from warehouse.readers import table_for_file

    assert table_for_file(second) == "fact_visit"
    assert sorted(p.name for p in pending()) == sorted([first.name, second.name])
    assert not list(inbox_dir().glob("*.part"))
