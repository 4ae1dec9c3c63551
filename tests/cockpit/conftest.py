"""Shared, opt-in fixtures for the serving-process tests (nothing here is autouse).

`tiny_golden` builds the tiny demo hospital once per test session (about 15 s); a module that
writes to its warehouse takes its own copy with `copy_tiny(tmp_path_factory, "name")`, so the
modules stay independent and the build is paid once.
"""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

TINY_AS_OF = dt.datetime(2026, 11, 25, 10, 0)


@pytest.fixture(scope="session")
def tiny_golden(tmp_path_factory) -> Path:
    """A tiny demo warehouse (seed 42, as of 2026-11-25 10:00), built once; copy, don't write."""
    from cockpit.commands.demo import build_demo

    path = tmp_path_factory.mktemp("tiny-golden") / "t.duckdb"
    build_demo(str(path), "tiny", 42, as_of=TINY_AS_OF)
    return path


def copy_tiny(golden: Path, folder: Path, name: str = "t.duckdb") -> Path:
    """A private copy of the golden warehouse in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    shutil.copyfile(golden, target)
    wal = golden.with_name(golden.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + ".wal"))
    return target


#: settings a developer's shell may carry that would change how a test server signs people in
AMBIENT = ("COCKPIT_REDIS_URL", "COCKPIT_SECRET", "COCKPIT_TRUSTED_HEADER",
           "COCKPIT_TRUSTED_PROXIES", "COCKPIT_SECURE_COOKIES")


def server_home(golden: Path, home: Path, head_departments) -> tuple[Path, pytest.MonkeyPatch]:
    """A private copy of the tiny warehouse in `home`, the environment pointed at it (no
    ambient sign-in settings), and two users: boss/boss-pw (leader) and head/head-pw
    (dept_head of `head_departments`). Returns (db, monkeypatch); undo it when done."""
    from cockpit.auth import save_user

    db = copy_tiny(golden, home)
    mp = pytest.MonkeyPatch()
    for k in AMBIENT:
        mp.delenv(k, raising=False)
    mp.setenv("COCKPIT_HOME", str(home))
    mp.setenv("COCKPIT_USERS", str(home / "users.yaml"))
    save_user("boss", "boss-pw", "leader", "院长")
    save_user("head", "head-pw", "dept_head", "科主任", list(head_departments))
    return db, mp
