"""The serving process: owns the DuckDB file, runs the scheduler, serves the cockpit with a
production WSGI server (waitress, threaded), and answers the local API that `cockpit query`
and `cockpit load` use while it runs (DESIGN.md decision 4).

Routes besides the Dash app: `/login`, `/logout`, `/health` (JSON), `/api/query` (POST, local,
same JSON as the CLI), `/api/targets` (POST, local: `cockpit targets …` while the server runs),
`/api/kiosk-tokens` (POST, local: `cockpit wallboard tokens …`), `/api/inbox` (POST, local:
hand files to the inbox).
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from flask import Response, g, jsonify, redirect, request, session

from warehouse import settings as wsettings

from . import auth, data
from .runfile import running_server, server_file  # noqa: F401  (re-exported)

log = logging.getLogger("cockpit.server")
PUBLIC = ("/login", "/logout", "/health", "/_dash-component-suites", "/assets", "/_favicon",
          "/favicon.ico", "/_dash-dependencies", "/_dash-layout", "/api/")


def _secret() -> str:
    s = wsettings.get("secret")
    if s:
        return s
    f = wsettings.home() / ".cockpit-secret"
    if not f.exists():
        f.parent.mkdir(parents=True, exist_ok=True)
        try:  # created readable by the owner only, from the first byte
            fd = os.open(f, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(secrets.token_hex(32))
    return f.read_text(encoding="utf-8").strip()


def _safe_next(nxt: str | None) -> str:
    """Where to go after signing in: a path on this site only (no open redirect)."""
    if not nxt or not nxt.startswith("/") or nxt.startswith("//") or nxt.startswith("/\\"):
        return "/"
    parts = urlsplit(nxt)
    return nxt if not parts.netloc and not parts.scheme else "/"


def build(db: str | None = None, demo: bool = False, start_jobs: bool = True):
    """Create everything the server runs: (dash app, jobs). Also used by browser tests."""
    from flask_caching import Cache

    from metrics.registry import load_model
    from warehouse.engine import open_warehouse

    from .app import create_app
    from .scheduler import Jobs

    wh = open_warehouse(db)
    model = load_model()
    app = create_app()
    server = app.server
    server.secret_key = _secret()
    server.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                         SESSION_COOKIE_SECURE=wsettings.get("secure_cookies") == "1",
                         SESSION_COOKIE_NAME="cockpit_session")
    redis_url = wsettings.get("redis_url")
    cache = Cache(server, config={"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": redis_url,
                                  "CACHE_DEFAULT_TIMEOUT": 3600} if redis_url else
                  {"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 5000,
                   "CACHE_DEFAULT_TIMEOUT": 3600})
    data.configure(wh, model, cache)
    token = secrets.token_hex(16)
    _routes(server, wh, token)
    jobs = Jobs(wh)
    if start_jobs:
        _add_jobs(jobs, wh, model, demo, app)
    from metrics.sqlbuild import prepare

    prepare(model, wh.dialect)
    return app, jobs, token


def _add_jobs(jobs, wh, model, demo: bool, app) -> None:
    from metrics.materialize import refresh

    from .inbox import drain
    from .warmup import warm

    seconds = int(wsettings.get("refresh_seconds"))
    warm_paths = [p.strip() for p in wsettings.get("warm_paths").split(",") if p.strip()]

    def ingest() -> str:
        loaded = drain(wh)
        if loaded:  # the refresh reads compressed, checkpointed rows (~2× faster at large)
            wh.checkpoint()
        rep = refresh(wh, model)
        data.invalidate_version()
        # the new numbers are visible; now write the refresh's log into the file (DuckDB
        # would otherwise checkpoint inside its commits, see duckdb_checkpoint)
        t = time.perf_counter()
        done = wh.checkpoint()
        failed = [r.name for r in rep.failed]
        if failed:
            raise RuntimeError(f"refresh failed for {', '.join(failed)}")
        changed = sum(r.mode in ("full", "incremental") for r in rep.results)
        detail = (f"{len(loaded)} file(s) loaded, {changed} materialization(s) refreshed, "
                  + (f"checkpoint {time.perf_counter() - t:.1f}s" if done else
                     "checkpoint deferred"))
        if not warm_paths:
            return detail
        try:  # the data is in and refreshed: a failed warm-up must not fail (and retry) that
            return detail + ", " + warm(app, warm_paths)
        except Exception as e:  # noqa: BLE001
            log.warning("warm-up failed: %s", e)
            return detail + f", warm-up failed: {e}"

    jobs.add("ingest", ingest, seconds, align=True)
    if demo:
        try:
            from warehouse.demo.feed import tick
        except ImportError:
            log.warning("demo feed not available")
        else:
            from .inbox import inbox_dir

            jobs.add("demo_feed", lambda: tick(wh, inbox_dir()), 60, run_now=False)


def _routes(server, wh, token: str) -> None:
    from wallboard.tokens import install as install_kiosk_api
    from wallboard.tokens import kiosk_check

    users = {"all": auth.load_users()}
    trusted = wsettings.get("trusted_header")
    proxies = {p.strip() for p in wsettings.get("trusted_proxies").split(",") if p.strip()}

    @server.before_request
    def who():
        auth.set_current(None)
        user = None
        if trusted and request.remote_addr in proxies and request.headers.get(trusted):
            name = request.headers[trusted]
            user = users["all"].get(name) or auth.User(name, "viewer", name)
        elif session.get("user"):
            user = users["all"].get(session["user"])
        if user is None:  # a wallboard screen's kiosk token (wallboard.tokens)
            user, refused = kiosk_check(wh, request, session)
            if refused is not None:
                return refused
        g.user = user
        auth.set_current(user)
        path = request.path
        if user is not None or any(path.startswith(p) for p in PUBLIC):
            return None
        if path.startswith("/_dash-update-component"):
            auth.audit(wh, "denied", f"unauthenticated callback {path}", ip=request.remote_addr)
            return Response(json.dumps({"error": "sign in first"}), 401,
                            mimetype="application/json")
        return redirect("/login?" + urlencode({"next": request.full_path.rstrip("?")}))

    @server.teardown_request
    def forget(_exc):
        auth.set_current(None)

    @server.route("/login", methods=["GET", "POST"])
    def login():
        from .login import login_page

        error = ""
        if request.method == "POST":
            users["all"] = auth.load_users()
            u = auth.verify(request.form.get("username", ""), request.form.get("password", ""),
                            users["all"])
            if u is not None:
                session.clear()
                session["user"] = u.username
                auth.audit(wh, "login", "", u.username, request.remote_addr)
                return redirect(_safe_next(request.args.get("next")))
            auth.audit(wh, "login_failed", request.form.get("username", ""), None,
                       request.remote_addr)
            error = "用户名或密码不正确 / Wrong user name or password"
        return login_page(error, request.args.get("lang", "zh"))

    @server.route("/logout")
    def logout():
        if session.get("user"):
            auth.audit(wh, "logout", "", session["user"], request.remote_addr)
        session.clear()
        return redirect("/login")

    @server.route("/health")
    def health():
        from .health import health_json

        return jsonify(health_json())

    def local_only():
        ok = (request.remote_addr in ("127.0.0.1", "::1")
              and request.headers.get("X-Cockpit-Token") == token)
        if not ok:
            auth.audit(wh, "denied", f"local API {request.path} without a valid token",
                       ip=request.remote_addr)
        return ok

    install_kiosk_api(server, wh, local_only)

    @server.route("/api/query", methods=["POST"])
    def api_query():
        from cockpit.commands.query import rows_as_json
        from metrics.service import make_spec, run
        from warehouse.errors import CockpitError

        if not local_only():
            return Response("local API: token required", 403)
        body = request.get_json(force=True, silent=True) or {}
        if not body.get("metrics"):
            return jsonify({"error": "give at least one metric"}), 400
        try:
            spec = make_spec(body["metrics"], body.get("by", []), body.get("grain"),
                             body.get("from"), body.get("to"), body.get("where"),
                             body.get("as_of"))
            result = run(spec, wh=wh, model=data.model())
        except CockpitError as e:
            return jsonify({"error": str(e)}), 400
        frame = result.frame
        if body.get("labels"):
            from metrics.labels import add_labels

            frame = add_labels(wh, frame, spec.by)
        out = {"rows": rows_as_json(frame)}
        if body.get("explain"):
            out["explain"] = result.explain(wh.dialect)
        return jsonify(out)

    @server.route("/api/targets", methods=["POST"])
    def api_targets():
        from cockpit.commands.targets import handle
        from warehouse.errors import CockpitError

        if not local_only():
            return Response("local API: token required", 403)
        try:
            out = handle(wh, request.get_json(force=True) or {})
        except CockpitError as e:
            return jsonify({"error": str(e)}), 400
        except (KeyError, TypeError) as e:
            return jsonify({"error": f"bad targets request: {e!r}"}), 400
        data.invalidate_version()  # the target count is part of the data version
        return jsonify(out)

    @server.route("/api/inbox", methods=["POST"])
    def api_inbox():
        from .inbox import hand_over

        if not local_only():
            return Response("local API: token required", 403)
        files = [Path(p) for p in request.get_json(force=True)["files"]]
        return jsonify({"queued": [str(p) for p in hand_over(files)]})


def serve(db: str | None = None, host: str = "127.0.0.1", port: int = 8050,
          demo: bool = False, debug: bool = False) -> None:
    """Run the cockpit until interrupted."""
    from waitress import create_server

    from .gcpolicy import settled

    app, jobs, token = build(db, demo=demo)
    settled()  # what start-up built lives as long as the server
    jobs.start()
    info = {"pid": os.getpid(), "host": host, "port": port, "token": token,
            "db": str(data.warehouse().location)}
    server_file().unlink(missing_ok=True)
    fd = os.open(server_file(), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(info, out)
    try:
        if debug:
            app.run(host=host, port=port, debug=True, use_reloader=False)
            return
        srv = create_server(app.server, host=host, port=port, threads=8)
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.close).start())
        srv.run()
    except KeyboardInterrupt:
        pass
    finally:
        jobs.shutdown()
        if server_file().exists():
            server_file().unlink()
