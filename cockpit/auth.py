"""Users, roles, sign-in and the audit log.

Users live in a YAML file (`COCKPIT_USERS`, default `./users.yaml`) with hashed passwords
(`cockpit users add`); or a trusted reverse proxy sends the user name in a header
(`COCKPIT_TRUSTED_HEADER`), accepted only from `COCKPIT_TRUSTED_PROXIES`.

Roles: leader, finance, engineer, viewer see the whole hospital; dept_head sees only their
departments. The scope is enforced in `metrics.query` (via `cockpit.data.q`), so a crafted
request to a callback endpoint gets nothing outside it.
"""
from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from werkzeug.security import check_password_hash, generate_password_hash

from warehouse import settings as wsettings
from warehouse.errors import ConfigError

ROLES = ("leader", "dept_head", "finance", "engineer", "viewer")
#: roles that may see patient ids in case lists (still pseudonymised)
CASE_ROLES = ("finance", "engineer")


@dataclass(frozen=True)
class User:
    username: str
    role: str
    name: str = ""
    departments: tuple[str, ...] = ()
    password_hash: str = field(default="", repr=False)

    @property
    def scope(self) -> frozenset[str] | None:
        """Departments this user may see; None = all."""
        return frozenset(self.departments) if self.role == "dept_head" else None

    @property
    def can_edit_targets(self) -> bool:
        return self.role in ("leader", "engineer")


def users_path() -> Path:
    return Path(wsettings.get("users"))


def load_users(path: Path | None = None) -> dict[str, User]:
    path = path or users_path()
    if not path.exists():
        return {}
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = {}
    for i, u in enumerate(doc.get("users", [])):
        role = u.get("role")
        if role not in ROLES:
            raise ConfigError(f"{path}: user #{i + 1} ({u.get('username')}): role {role!r} is "
                              f"not one of {', '.join(ROLES)}")
        out[u["username"]] = User(u["username"], role, u.get("name", ""),
                                  tuple(u.get("departments", []) or []), u.get("password", ""))
    return out


def save_user(username: str, password: str, role: str, name: str = "",
              departments: list[str] | None = None, path: Path | None = None) -> User:
    """Add or replace a user (the password is stored hashed)."""
    if role not in ROLES:
        raise ConfigError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if role == "dept_head" and not departments:
        raise ConfigError("a dept_head needs at least one --dept")
    path = path or users_path()
    doc = (yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None) or {}
    users = [u for u in doc.get("users", []) if u.get("username") != username]
    entry = {"username": username, "name": name, "role": role,
             "password": generate_password_hash(password)}
    if departments:
        entry["departments"] = list(departments)
    users.append(entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"users": users}, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return User(username, role, name, tuple(departments or ()), entry["password"])


def verify(username: str, password: str, users: dict[str, User]) -> User | None:
    u = users.get(username)
    if u and u.password_hash and check_password_hash(u.password_hash, password):
        return u
    return None


# -- the current request's user ------------------------------------------------------------
_local = threading.local()


def set_current(user: User | None) -> None:
    """Set by the server for each request (and by jobs, which run as nobody: scope None)."""
    _local.user = user


def current_user() -> User | None:
    return getattr(_local, "user", None)


def current_scope() -> frozenset[str] | None:
    """The signed-in user's departments (None = whole hospital). Without a user (a request
    that slipped past sign-in) the scope is empty: nothing is shown."""
    u = current_user()
    if u is None:
        return frozenset()
    return u.scope


# -- audit ---------------------------------------------------------------------------------
_AUDIT_DDL = ("CREATE TABLE IF NOT EXISTS _audit (ts TIMESTAMP, username VARCHAR, "
              "action VARCHAR, detail VARCHAR, ip VARCHAR)")


def audit(wh, action: str, detail: str = "", username: str | None = None,
          ip: str | None = None) -> None:
    """Record a login, logout, export or denied request."""
    u = username or (current_user().username if current_user() else None)
    wh.execute(_AUDIT_DDL)
    wh.execute("INSERT INTO _audit VALUES (?, ?, ?, ?, ?)",
               [dt.datetime.now(), u, action, detail[:2000], ip])


def mask_patient(pid: str | None, user: User | None) -> str | None:
    """Case lists show pseudonymised ids; roles without a need see them masked further."""
    if pid is None:
        return None
    if user is not None and user.role in CASE_ROLES:
        return pid
    return pid[:2] + "***" + pid[-2:] if len(pid) > 4 else "***"
