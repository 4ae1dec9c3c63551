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
import sys
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


#: seconds a stopping server gives requests in flight (and a running job) before it closes
#: every connection and exits: a screen's keep-alive connection must not hold a restart
STOP_GRACE = 5.0


def ready(app) -> None:
    """Do before the first connection what Dash defers to its first request.

    Dash's `before_request` hooks (`_setup_server`, the pages router) mark themselves done
    first and then move the `dash.callback` callbacks into the app's callback map and add the
    router's: requests that arrive together after a (re)start (a wallboard reconnecting) would
    find the map half-filled and answer 500 "Callback function not found". Running the hooks
    once here, through Flask's own request preprocessing (the same code a real first request
    runs: Dash's hooks, then the cockpit's `who` on a public path), leaves nothing to race."""
    server = app.server
    with server.test_request_context("/_dash-dependencies"):
        refused = server.preprocess_request()
    if refused is not None:  # a hook answered instead of passing through: not set up
        raise RuntimeError(f"warming the Dash app was refused: {refused!r}")


def _socket_map(srv) -> dict:
    """The waitress server's socket map (one listener: `_map`; several: `map`)."""
    m = getattr(srv, "map", None)
    return m if isinstance(m, dict) else getattr(srv, "_map", {})


def _close_idle(sock_map: dict) -> int:
    """(In the serving loop's thread.) Mark every connection with no request in progress to
    close once what it was sent is flushed; how many connections are still open."""
    from waitress.channel import HTTPChannel

    channels = [c for c in list(sock_map.values()) if isinstance(c, HTTPChannel)]
    for c in channels:
        if not c.requests:  # idle keep-alive, or a request not fully received: no more reads
            c.close_when_flushed = True
    return len(channels)


def _accept_waiting(listener, most: int = 1000) -> None:
    """(In the serving loop's thread.) Accept every connection waiting on `listener`."""
    import select

    for _ in range(most):
        if not select.select([listener.socket], [], [], 0)[0]:
            return
        listener.handle_accept()


def _stop_serving(srv, grace: float) -> None:
    """Stop waitress gracefully, from another thread than its loop: stop accepting, let the
    requests that had arrived finish for up to `grace` seconds, close every connection (keep-alive
    ones too, which would otherwise keep `run()` looping until they time out) and empty the
    socket map, so that `srv.run()` returns. The work on the loop's objects runs in the loop's
    own thread (waitress's trigger thunks)."""
    from waitress import wasyncore
    from waitress.server import BaseWSGIServer

    sock_map = _socket_map(srv)
    listeners = [d for d in list(sock_map.values()) if isinstance(d, BaseWSGIServer)]
    if not listeners:
        return
    wake = listeners[0].trigger.pull_trigger  # (thunks run in the loop thread)

    def in_loop(fn, timeout: float = 2.0):
        done, box = threading.Event(), []

        def thunk():
            try:
                box.append(fn())
            finally:
                done.set()

        wake(thunk)
        done.wait(timeout)
        return box[0] if box else None

    deadline = time.monotonic() + grace
    try:
        # stop accepting: take the connections already waiting in the backlog (clients that
        # connected before the stop; closing the socket would reset them), then close the
        # listening sockets only (their triggers stay in the map)
        in_loop(lambda: [_accept_waiting(d) or wasyncore.dispatcher.close(d)
                         for d in listeners])
        # two more turns of the loop: what clients sent before the stop has been read, so a
        # request that had arrived is served (within the grace), not dropped as "idle"
        in_loop(lambda: None)
        in_loop(lambda: None)
        while True:
            left = in_loop(lambda: _close_idle(sock_map))
            if left == 0 or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        if left:
            log.warning("closing %d connection(s) with a request still running", left)
        srv.task_dispatcher.shutdown(cancel_pending=True, timeout=1)
    except Exception:  # noqa: BLE001 - whatever happened, the loop must end
        log.exception("graceful stop failed; closing every connection")
    finally:
        def close_all():
            try:
                wasyncore.close_all(sock_map, ignore_all=True)
            finally:
                sock_map.clear()  # an empty map ends waitress's loop: `run()` returns

        wake(close_all)


def _wait_for_jobs(jobs, deadline: float) -> bool:
    """Stop the scheduler and wait (until `deadline`) for a job that is running; the jobs'
    locks stay held, so nothing the executor still had queued starts. False if a job still
    runs (its thread would keep the process alive)."""
    try:
        jobs.shutdown()
    except Exception as e:  # noqa: BLE001 - already stopped (by the signal)
        log.debug("scheduler shutdown: %s", e)
    idle = True
    for name, lock in jobs.locks.items():
        if not lock.acquire(timeout=max(0.1, deadline - time.monotonic())):
            log.warning("job %s is still running; exiting without waiting for it", name)
            idle = False
    return idle


def serve(db: str | None = None, host: str = "127.0.0.1", port: int = 8050,
          demo: bool = False, debug: bool = False) -> None:
    """Run the cockpit until SIGTERM or SIGINT; then stop within about `STOP_GRACE` seconds:
    stop accepting, let requests in flight finish, close every connection, stop the jobs,
    close the warehouse (the DuckDB file is free for the next process) and return."""
    from waitress import create_server

    from .gcpolicy import settled

    app, jobs, token = build(db, demo=demo)
    ready(app)  # before the jobs (the ingest's warm-up reads the callback map) and clients
    settled()  # what start-up built lives as long as the server
    jobs.start()
    info = {"pid": os.getpid(), "host": host, "port": port, "token": token,
            "db": str(data.warehouse().location)}
    server_file().unlink(missing_ok=True)
    fd = os.open(server_file(), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(info, out)
    stop_by = [time.monotonic() + 3600 * 24 * 365]
    jobs_idle = True
    try:
        if debug:
            app.run(host=host, port=port, debug=True, use_reloader=False)
            return
        srv = create_server(app.server, host=host, port=port, threads=8)
        stopping = threading.Event()

        def stop(signum):
            log.info("%s: stopping (grace %.0fs)", signal.Signals(signum).name, STOP_GRACE)
            try:
                jobs.shutdown()  # no job starts during the grace
            except Exception as e:  # noqa: BLE001
                log.debug("scheduler shutdown: %s", e)
            _stop_serving(srv, STOP_GRACE)

        def on_signal(signum, _frame):
            # (a signal handler: only start the stop; it runs in its own thread)
            if stopping.is_set():
                return
            stopping.set()
            stop_by[0] = time.monotonic() + STOP_GRACE
            threading.Thread(target=stop, args=(signum,), name="cockpit-stop",
                             daemon=True).start()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        srv.run()  # returns once a signal's stop has closed every connection
    except KeyboardInterrupt:
        pass
    finally:
        stop_by[0] = min(stop_by[0], time.monotonic() + STOP_GRACE)
        jobs_idle = _wait_for_jobs(jobs, stop_by[0])
        if jobs_idle:
            try:
                data.warehouse().close()  # checkpoints, and frees the file for the next one
            except Exception as e:  # noqa: BLE001
                log.warning("closing the warehouse failed: %s", e)
        if server_file().exists():
            server_file().unlink()
    if not jobs_idle:  # a job's (non-daemon) thread would hold the exit until it finishes
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os._exit(0)
