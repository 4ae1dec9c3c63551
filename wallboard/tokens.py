"""Kiosk tokens: one per screen, in the wallboard's URL (`/wallboard?token=…`), giving read-only
access to the wallboard without a login, optionally limited to one campus.

Tokens are kept in the warehouse table `_kiosk_tokens` as a SHA-256 hash (the token itself is
shown once, when created): `cockpit wallboard tokens create|list|revoke`.

The server checks them in its `before_request` (`kiosk_check`): a valid token on a /wallboard
path (or in the Referer of the callback requests that page makes) starts a kiosk session; every
later request re-checks the token against the store, read at most every `CACHE_SECONDS`, so a
revoked token stops working within a minute. A kiosk may run only the wallboard's callbacks.

>>> h = token_hash("wb_abc"); len(h), h == token_hash("wb_abc")
(64, True)
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

from cockpit.auth import User
from warehouse import settings as wsettings
from warehouse.errors import ConfigError

TABLE = "_kiosk_tokens"
_DDL = (f"CREATE TABLE IF NOT EXISTS {TABLE} (token_hash VARCHAR PRIMARY KEY, name VARCHAR, "
        "campus VARCHAR, created TIMESTAMP, revoked TIMESTAMP)")
#: how long a token's record is trusted before it is read again (a revoked token stops
#: working within this; the issue asks for a minute)
CACHE_SECONDS = 30.0
#: outputs a kiosk may ask for: the wallboard's own callbacks, Dash's page router and the
#: shell's URL / chrome callbacks (labels only); never exports or other pages' panels
KIOSK_OUTPUT_PREFIXES = ("wallboard", "_pages_", "shell-", "url")


@dataclass(frozen=True)
class Token:
    token_hash: str
    name: str
    campus: str | None
    created: dt.datetime
    revoked: dt.datetime | None

    @property
    def id(self) -> str:
        """A short public id (the hash's first 8 hex digits), for lists and revoking."""
        return self.token_hash[:8]

    @property
    def active(self) -> bool:
        return self.revoked is None


@dataclass(frozen=True)
class KioskUser(User):
    """A screen, not a person: read-only, sees the wallboard only; with a campus its department
    scope is that campus's departments (enforced by `metrics.query` like a dept_head's)."""

    campus: str | None = None
    token_id: str = ""

    @property
    def scope(self) -> frozenset[str] | None:
        return frozenset(self.departments) if self.campus else None

    @property
    def can_edit_targets(self) -> bool:
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()


def ensure_table(wh) -> None:
    """Create the table once per warehouse handle (a DDL on every request could collide with
    a load's transaction)."""
    if getattr(wh, "_kiosk_table_ok", False):
        return
    wh.execute(_DDL)
    wh._kiosk_table_ok = True


def _row(r) -> Token:
    return Token(r[0], r[1], r[2] or None, r[3], r[4])


def create(wh, name: str, campus: str | None = None) -> tuple[str, Token]:
    """A new token for screen `name` (unique among active tokens) → (the token, its record)."""
    name = (name or "").strip()
    if not name:
        raise ConfigError("a kiosk token needs a name (the screen, e.g. 指挥中心-1)")
    ensure_table(wh)
    if campus:
        if wh.table_exists("dim_campus") and not wh.scalar(
                "SELECT count(*) FROM dim_campus WHERE campus_id = ?", [campus]):
            raise ConfigError(f"unknown campus {campus!r}")
    if any(t.name == name and t.active for t in list_tokens(wh)):
        raise ConfigError(f"an active token named {name!r} exists: revoke it first")
    token = "wb_" + secrets.token_urlsafe(24)
    rec = Token(token_hash(token), name, campus or None, wsettings.hospital_now(),
                None)
    wh.execute(f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?, ?)",
               [rec.token_hash, rec.name, rec.campus, rec.created, None])
    forget()
    return token, rec


def list_tokens(wh) -> list[Token]:
    ensure_table(wh)
    rows = wh.query_rows(f"SELECT token_hash, name, campus, created, revoked FROM {TABLE} "
                         "ORDER BY created, name")
    return [_row(r) for r in rows]


def revoke(wh, which: str) -> list[Token]:
    """Revoke the active tokens whose name or id (hash prefix, ≥ 6 hex digits) is `which`."""
    which = (which or "").strip()
    hits = [t for t in list_tokens(wh) if t.active and (
        t.name == which or (len(which) >= 6 and t.token_hash.startswith(which.lower())))]
    if not hits:
        raise ConfigError(f"no active kiosk token named or with id {which!r} "
                          "(see `cockpit wallboard tokens list`)")
    now = wsettings.hospital_now()
    for t in hits:
        wh.execute(f"UPDATE {TABLE} SET revoked = ? WHERE token_hash = ?", [now, t.token_hash])
    forget()
    return [Token(t.token_hash, t.name, t.campus, t.created, now) for t in hits]


# -- the server side: validation with a short cache ----------------------------------------
_cache: dict[str, tuple[float, Token | None, tuple[str, ...]]] = {}
_lock = threading.Lock()


def forget() -> None:
    """Drop cached records (after a revoke in this process: effective at once)."""
    with _lock:
        _cache.clear()


def lookup(wh, hashed: str, now: float | None = None) -> tuple[Token | None, tuple[str, ...]]:
    """(the active token with this hash or None, its campus's departments), cached for at most
    CACHE_SECONDS."""
    now = time.monotonic() if now is None else now
    with _lock:
        hit = _cache.get(hashed)
        if hit is not None and now - hit[0] < CACHE_SECONDS:
            return hit[1], hit[2]
    ensure_table(wh)
    rows = wh.query_rows(f"SELECT token_hash, name, campus, created, revoked FROM {TABLE} "
                         "WHERE token_hash = ?", [hashed])
    tok = _row(rows[0]) if rows else None
    if tok is not None and not tok.active:
        tok = None
    depts: tuple[str, ...] = ()
    if tok is not None and tok.campus:
        depts = tuple(sorted(r[0] for r in wh.query_rows(
            "SELECT dept_id FROM dim_department WHERE campus_id = ?", [tok.campus])))
    with _lock:
        if len(_cache) > 1000:  # never grows without bound (guessed tokens)
            _cache.clear()
        _cache[hashed] = (now, tok, depts)
    return tok, depts


def user_for(tok: Token, depts: tuple[str, ...]) -> KioskUser:
    return KioskUser(f"kiosk:{tok.name}", "viewer", tok.name, depts if tok.campus else (),
                     campus=tok.campus, token_id=tok.id)


def _outputs_allowed(body) -> bool:
    """Whether every output of a Dash callback request is one a kiosk may ask for (a
    pattern-matching id counts by its `type`)."""
    if not isinstance(body, dict):
        return False
    ids: list[str] = []

    def collect(o) -> bool:
        if isinstance(o, list):
            return all(collect(x) for x in o)
        if not isinstance(o, dict):
            return False
        i = o.get("id")
        ids.append(str(i.get("type", "")) if isinstance(i, dict) else str(i))
        return True

    if not (collect(body.get("outputs")) and bool(ids)
            and all(i.startswith(KIOSK_OUTPUT_PREFIXES) for i in ids)):
        return False
    # the page router renders whatever path it is given: for a kiosk only a wallboard's
    return not any(i.startswith("_pages_") for i in ids) or _path_of(body).startswith(
        "/wallboard")


def _path_of(body: dict) -> str:
    """The `pathname` a Dash callback request carries as an input ('' when none)."""
    for item in body.get("inputs") or []:
        for x in item if isinstance(item, list) else [item]:
            if isinstance(x, dict) and x.get("property") == "pathname":
                return str(x.get("value") or "")
    return ""


def _token_in(url: str | None) -> str | None:
    if not url:
        return None
    u = urlparse(url)
    if not u.path.startswith("/wallboard"):
        return None
    return (parse_qs(u.query).get("token") or [None])[0]


def kiosk_check(wh, request, session):
    """For `before_request` when no user is signed in: (KioskUser | None, response | None).

    - a /wallboard page with `?token=`: valid → kiosk session; invalid or revoked → 403 page;
    - a Dash callback from the wallboard (Referer /wallboard…?token= or a kiosk session):
      re-checks the token (cached ≤ CACHE_SECONDS); revoked → 401 JSON; outputs other than
      the wallboard's → 403 JSON;
    - anything else → (None, None): the normal sign-in applies.
    """
    from flask import Response

    path = request.path
    is_page = path == "/wallboard" or path.startswith("/wallboard/")
    is_callback = path.startswith("/_dash-update-component")
    if not (is_page or is_callback):
        return None, None
    raw = request.args.get("token") if is_page else _token_in(request.referrer)
    hashed = token_hash(raw) if raw else (session.get("kiosk") or {}).get("hash")
    if not hashed:
        return None, None
    tok, depts = lookup(wh, hashed)
    if tok is None:
        session.pop("kiosk", None)
        if is_callback:
            return None, Response(json.dumps({"error": "kiosk token revoked or unknown"}), 401,
                                  mimetype="application/json")
        return None, Response(_REFUSED, 403, mimetype="text/html")
    if is_callback and not _outputs_allowed(request.get_json(silent=True)):
        return None, Response(json.dumps({"error": "not a wallboard callback"}), 403,
                              mimetype="application/json")
    if (session.get("kiosk") or {}).get("hash") != hashed:
        session["kiosk"] = {"hash": hashed, "name": tok.name, "campus": tok.campus}
    return user_for(tok, depts), None


_REFUSED = """<!doctype html><html lang="zh"><head><meta charset="utf-8">
<title>大屏访问令牌无效</title></head>
<body style="background:#05070d;color:#f2f5fa;font-family:'Noto Sans CJK SC',sans-serif;
display:flex;align-items:center;justify-content:center;height:100vh;margin:0">
<div style="text-align:center"><div style="font-size:48px;font-weight:700">大屏访问令牌无效或已撤销</div>
<div style="font-size:24px;color:#9aa7bd;margin-top:16px">Kiosk token invalid or revoked ·
请联系信息中心重新下发</div></div></body></html>"""


# -- the local API the CLI uses while a server holds the warehouse --------------------------
def install(server, wh, local_only) -> None:
    """`POST /api/kiosk-tokens` {"action": "create"|"list"|"revoke", …}: local and with the
    server's token only (like /api/query), for `cockpit wallboard tokens` while it runs."""
    from flask import Response, jsonify, request

    @server.route("/api/kiosk-tokens", methods=["POST"])
    def api_kiosk_tokens():
        if not local_only():
            return Response("local API: token required", 403)
        body = request.get_json(force=True) or {}
        try:
            return jsonify(handle(wh, body))
        except ConfigError as e:
            return jsonify({"error": str(e)}), 400


def as_json(t: Token) -> dict:
    return {"id": t.id, "name": t.name, "campus": t.campus,
            "created": t.created.isoformat(sep=" ") if t.created else None,
            "revoked": t.revoked.isoformat(sep=" ") if t.revoked else None}


def handle(wh, body: dict) -> dict:
    """One CLI action against the store (used directly, or through the server's API)."""
    action = body.get("action")
    if action == "create":
        token, rec = create(wh, body.get("name", ""), body.get("campus"))
        return {"token": token, **as_json(rec)}
    if action == "list":
        return {"tokens": [as_json(t) for t in list_tokens(wh)]}
    if action == "revoke":
        return {"revoked": [as_json(t) for t in revoke(wh, body.get("which", ""))]}
    raise ConfigError(f"unknown action {action!r}")
