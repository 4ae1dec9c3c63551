"""Snapshot files for rendered SQL: `tests/snapshots/sql/<dialect>/<case>.sql`.

A mismatch fails with a unified diff; `UPDATE_SNAPSHOTS=1 pytest …` rewrites the files on
purpose (review the diff before committing them).
"""
from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots" / "sql"


def updating() -> bool:
    return os.environ.get("UPDATE_SNAPSHOTS", "") not in ("", "0", "false")


def assert_snapshot(text: str, dialect: str, case: str) -> None:
    path = SNAPSHOTS / dialect / f"{case}.sql"
    text = text.rstrip("\n") + "\n"
    if updating():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"no snapshot {path}; run with UPDATE_SNAPSHOTS=1 to create it")
    expected = path.read_text(encoding="utf-8")
    if expected != text:
        diff = "".join(difflib.unified_diff(
            expected.splitlines(keepends=True), text.splitlines(keepends=True),
            fromfile=f"{path} (snapshot)", tofile=f"{dialect}/{case} (rendered now)"))
        pytest.fail(f"rendered SQL differs from the snapshot "
                    f"(UPDATE_SNAPSHOTS=1 rewrites it):\n{diff}", pytrace=False)
