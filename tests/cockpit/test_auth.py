"""Users, roles and scope (cockpit.auth, `cockpit users add`, the department scope that
cockpit.data.q applies), the session secret, and patient-id masking."""
from __future__ import annotations

import datetime as dt
import os
import stat

import pytest
import typer
import yaml
from typer.testing import CliRunner

from cockpit import auth
from cockpit.auth import User, load_users, mask_patient, save_user, set_current, verify
from tests.cockpit.conftest import TINY_AS_OF, copy_tiny
from warehouse.errors import CockpitError, ConfigError

OCT = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
HEAD_DEPTS = ("D0105", "D0110")


@pytest.fixture(scope="module")
def served(tiny_golden, tmp_path_factory):
    """The server built (no jobs) on a private copy of the tiny warehouse."""
    from cockpit.server import build

    home = tmp_path_factory.mktemp("auth-home")
    db = copy_tiny(tiny_golden, home)
    mp = pytest.MonkeyPatch()
    for k in ("COCKPIT_REDIS_URL", "COCKPIT_SECRET", "COCKPIT_TRUSTED_HEADER"):
        mp.delenv(k, raising=False)
    mp.setenv("COCKPIT_HOME", str(home))
    mp.setenv("COCKPIT_USERS", str(home / "users.yaml"))
    app, jobs, token = build(str(db), start_jobs=False)
    yield app
    set_current(None)
    mp.undo()


@pytest.fixture()
def users_file(tmp_path, monkeypatch):
    path = tmp_path / "conf" / "users.yaml"
    monkeypatch.setenv("COCKPIT_USERS", str(path))
    return path


def _users_cli():
    from cockpit.commands import serve as serve_cmd

    app = typer.Typer()
    serve_cmd.register(app)
    return app


# -- users file and `cockpit users add` ----------------------------------------------------------
def test_users_add_stores_a_hash_not_the_password(users_file):
    res = CliRunner().invoke(_users_cli(), ["users", "add", "alice", "--role", "finance",
                                            "--name", "王会计", "--password", "S3cret-pw"])
    assert res.exit_code == 0, res.output
    text = users_file.read_text(encoding="utf-8")
    assert "S3cret-pw" not in text
    doc = yaml.safe_load(text)
    entry = doc["users"][0]
    assert entry["username"] == "alice" and entry["role"] == "finance"
    assert entry["password"].startswith(("scrypt:", "pbkdf2:"))
    u = load_users()["alice"]
    assert u.name == "王会计"
    assert verify("alice", "S3cret-pw", load_users()) == u
    assert verify("alice", "wrong", load_users()) is None
    assert verify("nobody", "S3cret-pw", load_users()) is None


def test_users_add_dept_head_needs_a_department(users_file):
    res = CliRunner().invoke(_users_cli(), ["users", "add", "bob", "--role", "dept_head",
                                            "--password", "x"])
    assert isinstance(res.exception, ConfigError)
    assert res.exception.exit_code == 1
    assert "--dept" in str(res.exception)
    assert not users_file.exists() or "bob" not in users_file.read_text(encoding="utf-8")
    ok = CliRunner().invoke(_users_cli(), ["users", "add", "bob", "--role", "dept_head",
                                           "--dept", "D0105", "--dept", "D0110", "--password", "x"])
    assert ok.exit_code == 0, ok.output
    assert load_users()["bob"].departments == ("D0105", "D0110")
    assert load_users()["bob"].scope == frozenset({"D0105", "D0110"})


def test_users_add_rejects_unknown_role(users_file):
    res = CliRunner().invoke(_users_cli(), ["users", "add", "carol", "--role", "admin",
                                            "--password", "x"])
    assert isinstance(res.exception, CockpitError)
    assert not users_file.exists()


def test_users_add_replaces_a_user_and_keeps_others(users_file):
    save_user("a", "pw-a", "viewer")
    save_user("b", "pw-b", "leader")
    save_user("a", "pw-a2", "engineer")
    users = load_users()
    assert sorted(users) == ["a", "b"]
    assert users["a"].role == "engineer"
    assert verify("a", "pw-a2", users) and not verify("a", "pw-a", users)


def test_unknown_role_in_the_file_is_a_config_error(users_file):
    users_file.parent.mkdir(parents=True)
    users_file.write_text("users:\n  - {username: x, role: admin, password: h}\n")
    with pytest.raises(ConfigError, match="admin"):
        load_users()


def test_user_without_password_hash_cannot_sign_in(users_file):
    users_file.parent.mkdir(parents=True)
    users_file.write_text("users:\n  - {username: x, role: viewer}\n")
    assert verify("x", "", load_users()) is None


def test_roles_and_scopes():
    assert User("d", "leader").scope is None
    assert User("f", "finance").scope is None
    assert User("h", "dept_head", departments=("D1",)).scope == frozenset({"D1"})
    assert User("l", "leader").can_edit_targets and User("e", "engineer").can_edit_targets
    assert not User("v", "viewer").can_edit_targets


def test_no_user_means_empty_scope():
    set_current(None)
    assert auth.current_scope() == frozenset()
    set_current(User("h", "dept_head", departments=("D1",)))
    try:
        assert auth.current_scope() == frozenset({"D1"})
    finally:
        set_current(None)


def test_current_user_is_per_thread():
    import threading

    set_current(User("main", "leader"))
    seen = []
    t = threading.Thread(target=lambda: seen.append(auth.current_user()))
    t.start()
    t.join()
    assert seen == [None]
    set_current(None)


# -- masking ---------------------------------------------------------------------------------
def test_mask_patient():
    pid = "P000028021"
    assert mask_patient(pid, User("f", "finance")) == pid
    assert mask_patient(pid, User("e", "engineer")) == pid
    for role in ("leader", "dept_head", "viewer"):
        masked = mask_patient(pid, User("x", role, departments=("D1",)))
        assert masked == "P0***21"
        assert pid not in masked
    assert mask_patient(pid, None) == "P0***21"
    assert mask_patient("P12", None) == "***"
    assert mask_patient(None, User("f", "finance")) is None


# -- the department scope, applied by the query service --------------------------------------
def _q(**kw):
    from cockpit import data

    return data.q(["opd_visits"], start=OCT[0], end=OCT[1], as_of=TINY_AS_OF, **kw)


def test_dept_head_sees_only_their_departments(served):
    set_current(User("head", "dept_head", departments=HEAD_DEPTS))
    try:
        mine = _q(by=["department"])
    finally:
        set_current(None)
    assert set(mine["department"]) == set(HEAD_DEPTS)
    set_current(User("boss", "leader"))
    try:
        everyone = _q(by=["department"])
        total = _q()
    finally:
        set_current(None)
    assert len(set(everyone["department"])) > len(HEAD_DEPTS)
    ref = everyone.set_index("department")["opd_visits"]
    got = mine.set_index("department")["opd_visits"]
    for d in HEAD_DEPTS:
        assert got[d] == ref[d]
    set_current(User("head", "dept_head", departments=HEAD_DEPTS))
    try:
        scoped_total = _q()
    finally:
        set_current(None)
    assert scoped_total["opd_visits"].iloc[0] == sum(ref[d] for d in HEAD_DEPTS)
    assert scoped_total["opd_visits"].iloc[0] < total["opd_visits"].iloc[0]


def _nothing(frame, metric="opd_visits") -> bool:
    return frame.empty or all(v is None or v != v or v == 0 for v in frame[metric])


def test_crafted_filter_outside_the_scope_returns_nothing(served):
    set_current(User("head", "dept_head", departments=HEAD_DEPTS))
    try:
        other = _q(where={"department": ["D0101"]})
        other_by = _q(by=["department"], where={"department": ["D0101", "D0105"]})
    finally:
        set_current(None)
    assert _nothing(other)
    assert set(other_by["department"]) <= {"D0105"}


def test_unsigned_request_gets_nothing(served):
    set_current(None)
    assert _nothing(_q())
    assert _nothing(_q(by=["department"]))


def test_scope_applies_to_every_fact(served):
    """Not only visits: inpatient, charge and surgery metrics are scoped as well."""
    from cockpit import data

    set_current(User("head", "dept_head", departments=HEAD_DEPTS))
    try:
        for mid in ("discharges", "opd_revenue", "surgeries_all"):
            f = data.q([mid], by=["department"], start=OCT[0], end=OCT[1], as_of=TINY_AS_OF)
            assert set(f["department"]) <= set(HEAD_DEPTS), mid
    finally:
        set_current(None)


# -- the session secret ----------------------------------------------------------------------
def test_secret_file_is_created_private_and_reused(tmp_path, monkeypatch):
    from cockpit.server import _secret

    monkeypatch.delenv("COCKPIT_SECRET", raising=False)
    monkeypatch.setenv("COCKPIT_HOME", str(tmp_path / "home"))
    first = _secret()
    f = tmp_path / "home" / ".cockpit-secret"
    assert f.exists() and len(first) >= 32
    assert stat.S_IMODE(os.stat(f).st_mode) == 0o600
    assert _secret() == first


def test_configured_secret_wins_and_writes_no_file(tmp_path, monkeypatch):
    from cockpit.server import _secret

    monkeypatch.setenv("COCKPIT_SECRET", "configured-secret-value")
    monkeypatch.setenv("COCKPIT_HOME", str(tmp_path))
    assert _secret() == "configured-secret-value"
    assert not (tmp_path / ".cockpit-secret").exists()


def test_secret_file_is_never_readable_by_others(tmp_path, monkeypatch):
    """The secret is written first and chmod-ed after: under the usual umask (022) it exists
    world-readable for a moment. It must be created with mode 600 (os.open(..., 0o600))."""
    from pathlib import Path

    from cockpit import server

    monkeypatch.delenv("COCKPIT_SECRET", raising=False)
    monkeypatch.setenv("COCKPIT_HOME", str(tmp_path))
    modes = []
    orig = Path.chmod
    old = os.umask(0o022)
    try:

        def spy(self, mode, *a, **k):
            modes.append(stat.S_IMODE(os.stat(self).st_mode))
            return orig(self, mode, *a, **k)

        monkeypatch.setattr(Path, "chmod", spy)
        server._secret()
    finally:
        os.umask(old)
    f = tmp_path / ".cockpit-secret"
    before = modes[0] if modes else stat.S_IMODE(os.stat(f).st_mode)
    assert before & 0o077 == 0, f"secret file existed with mode {oct(before)}"
