"""The serving process over HTTP (Flask test client on `cockpit.server.build`): sign-in,
redirects, the 401 for unsigned callbacks, audit, cookie flags, the trusted proxy header,
/health, and the local API (/api/query, /api/inbox) that the CLI uses while a server runs."""
from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from cockpit.auth import save_user
from tests.cockpit.conftest import server_home

PAGE = "/department?period=month&date=2026-10-15&campus=C01"


@pytest.fixture(scope="module")
def env(tiny_golden, tmp_path_factory):
    home = tmp_path_factory.mktemp("server-home")
    db, mp = server_home(tiny_golden, home, ["D0105"])
    yield {"home": home, "db": str(db), "mp": mp}
    mp.undo()


def _with_whoami(app):
    """A test-only route that tells who the request was taken to be."""
    from cockpit.auth import current_user

    @app.server.route("/_test_whoami")
    def whoami():
        u = current_user()
        return {"user": u.username if u else None, "role": u.role if u else None}

    return app


@pytest.fixture(scope="module")
def srv(env):
    from cockpit.server import build

    app, jobs, token = build(env["db"], start_jobs=False)
    _with_whoami(app)
    return {"app": app, "client": app.server.test_client, "token": token, **env}


def audit_rows(action=None):
    from cockpit import data

    wh = data.warehouse()
    if not wh.table_exists("_audit"):
        return []
    df = wh.query_df("SELECT username, action, detail, ip FROM _audit ORDER BY ts")
    rows = df.to_dict("records")
    return [r for r in rows if action is None or r["action"] == action]


def login(client, user="boss", password="boss-pw", next_=None):
    url = "/login" + (f"?next={next_}" if next_ else "")
    return client.post(url, data={"username": user, "password": password})


# -- sign-in --------------------------------------------------------------------------------
def test_login_page_is_plain_html_without_outside_assets(srv):
    r = srv["client"]().get("/login")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert 'id="login-form"' in html and 'name="password"' in html
    assert "http://" not in html and "https://" not in html
    assert "Sign in" in srv["client"]().get("/login?lang=en").get_data(as_text=True)


def test_pages_redirect_to_login(srv):
    c = srv["client"]()
    r = c.get("/")
    assert r.status_code == 302
    assert urlsplit(r.headers["Location"]).path == "/login"
    r = c.get("/department")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login?next=%2Fdepartment")


def test_login_success_sets_session_and_is_audited(srv):
    c = srv["client"]()
    r = login(c)
    assert r.status_code == 302 and r.headers["Location"] == "/"
    assert c.get("/").status_code == 200
    assert c.get("/_test_whoami").get_json() == {"user": "boss", "role": "leader"}
    rows = audit_rows("login")
    assert rows and rows[-1]["username"] == "boss" and rows[-1]["ip"] == "127.0.0.1"


def test_login_failure_is_refused_and_audited(srv):
    c = srv["client"]()
    r = login(c, "boss", "not-the-password")
    assert r.status_code == 200
    assert "login-error" in r.get_data(as_text=True)
    assert not [h for h in r.headers.getlist("Set-Cookie") if h.startswith("cockpit_session=")]
    assert c.get("/").status_code == 302
    failed = audit_rows("login_failed")
    assert failed and failed[-1]["detail"] == "boss" and failed[-1]["ip"] == "127.0.0.1"
    login(c, "ghost", "x")
    assert audit_rows("login_failed")[-1]["detail"] == "ghost"


def test_logout_clears_the_session_and_is_audited(srv):
    c = srv["client"]()
    login(c, "head", "head-pw")
    assert c.get("/").status_code == 200
    r = c.get("/logout")
    assert r.status_code == 302 and r.headers["Location"] == "/login"
    assert c.get("/").status_code == 302
    assert audit_rows("logout")[-1]["username"] == "head"


def test_unsigned_callback_gets_401_and_is_audited(srv):
    before = len(audit_rows("denied"))
    r = srv["client"]().post("/_dash-update-component", json={
        "output": "x.children", "outputs": {"id": "x", "property": "children"},
        "inputs": [], "changedPropIds": []})
    assert r.status_code == 401
    assert r.is_json and "error" in r.get_json()
    denied = audit_rows("denied")
    assert len(denied) == before + 1
    assert "_dash-update-component" in denied[-1]["detail"]
    assert denied[-1]["ip"] == "127.0.0.1"


def test_signed_in_callback_is_not_refused(srv):
    c = srv["client"]()
    login(c)
    r = c.post("/_dash-update-component", json={})
    assert r.status_code != 401


def test_session_of_a_removed_user_is_refused(srv, env):
    save_user("temp", "temp-pw", "viewer")
    from cockpit.server import build

    app, _, _ = build(env["db"], start_jobs=False)  # the new server reads the users file
    c = app.server.test_client()
    login(c, "temp", "temp-pw")
    assert c.get("/").status_code == 200
    doc = (env["home"] / "users.yaml").read_text(encoding="utf-8")
    import yaml

    users = [u for u in yaml.safe_load(doc)["users"] if u["username"] != "temp"]
    (env["home"] / "users.yaml").write_text(yaml.safe_dump({"users": users}), encoding="utf-8")
    app2, _, _ = build(env["db"], start_jobs=False)
    c2 = app2.server.test_client()
    c2.set_cookie("cockpit_session", c.get_cookie("cockpit_session").value)
    assert c2.get("/").status_code == 302


# -- cookies ---------------------------------------------------------------------------------
def _session_cookie(response) -> str:
    cookies = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("cockpit_session=")]
    assert cookies, response.headers
    return cookies[-1]


def test_session_cookie_flags(srv):
    cookie = _session_cookie(login(srv["client"]()))
    parts = {p.strip().split("=")[0].lower() for p in cookie.split(";")}
    assert "httponly" in parts
    assert "samesite=lax" in cookie.lower()
    assert "secure" not in parts


def test_session_cookie_secure_when_configured(env):
    from cockpit.server import build

    env["mp"].setenv("COCKPIT_SECURE_COOKIES", "1")
    try:
        app, _, _ = build(env["db"], start_jobs=False)
    finally:
        env["mp"].delenv("COCKPIT_SECURE_COOKIES")
    cookie = _session_cookie(login(app.server.test_client()))
    parts = {p.strip().split("=")[0].lower() for p in cookie.split(";")}
    assert {"secure", "httponly"} <= parts


def test_secret_file_created_with_mode_600(srv):
    import os
    import stat

    f = srv["home"] / ".cockpit-secret"
    assert f.exists()
    assert stat.S_IMODE(os.stat(f).st_mode) == 0o600
    assert srv["app"].server.secret_key == f.read_text().strip()


def test_configured_secret_signs_sessions(env):
    from cockpit.server import build

    env["mp"].setenv("COCKPIT_SECRET", "s" * 40)
    try:
        a1, _, _ = build(env["db"], start_jobs=False)
        a2, _, _ = build(env["db"], start_jobs=False)
    finally:
        env["mp"].delenv("COCKPIT_SECRET")
    assert a1.server.secret_key == "s" * 40
    c1 = a1.server.test_client()
    login(c1)
    c2 = a2.server.test_client()
    c2.set_cookie("cockpit_session", c1.get_cookie("cockpit_session").value)
    assert c2.get("/").status_code == 200  # two servers sharing the secret share sessions


# -- trusted reverse-proxy header ------------------------------------------------------------
@pytest.fixture(scope="module")
def proxied(env):
    from cockpit.server import build

    env["mp"].setenv("COCKPIT_TRUSTED_HEADER", "X-Remote-User")
    env["mp"].setenv("COCKPIT_TRUSTED_PROXIES", "10.0.0.2, 10.0.0.3")
    try:
        app, _, _ = build(env["db"], start_jobs=False)
    finally:
        env["mp"].delenv("COCKPIT_TRUSTED_HEADER")
        env["mp"].delenv("COCKPIT_TRUSTED_PROXIES")
    return _with_whoami(app)


def test_trusted_header_from_an_allowed_proxy(proxied):
    c = proxied.server.test_client()
    r = c.get("/_test_whoami", headers={"X-Remote-User": "head"},
              environ_base={"REMOTE_ADDR": "10.0.0.3"})
    assert r.status_code == 200
    assert r.get_json() == {"user": "head", "role": "dept_head"}
    # a name the users file does not know is a viewer
    r = c.get("/_test_whoami", headers={"X-Remote-User": "zhang.san"},
              environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert r.get_json() == {"user": "zhang.san", "role": "viewer"}


def test_trusted_header_ignored_from_other_addresses(proxied):
    c = proxied.server.test_client()
    for addr in ("10.0.0.9", "127.0.0.1"):
        r = c.get("/_test_whoami", headers={"X-Remote-User": "boss"},
                  environ_base={"REMOTE_ADDR": addr})
        assert r.status_code == 302, addr
    r = c.post("/_dash-update-component", json={}, headers={"X-Remote-User": "boss"},
               environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert r.status_code == 401


def test_trusted_header_off_by_default(srv):
    r = srv["client"]().get("/_test_whoami", headers={"X-Remote-User": "boss"})
    assert r.status_code == 302


# -- /health ---------------------------------------------------------------------------------
def _strict_json(response):
    def no_constants(name):
        raise ValueError(f"not JSON: {name}")

    return json.loads(response.get_data(as_text=True), parse_constant=no_constants)


def test_health_is_public_json_with_its_fields(srv):
    r = srv["client"]().get("/health")
    assert r.status_code == 200 and r.is_json
    h = _strict_json(r)
    assert {"status", "data_version", "refreshes", "materializations", "jobs", "loads"} <= set(h)
    assert h["status"] == "ok" and "failing" not in h
    assert h["data_version"].split("/")[1] == "1"  # <warehouse>/<last changing load>/<refresh>
    assert h["loads"][0]["load_id"] == 1
    assert len(h["materializations"]) > 10
    m = h["materializations"][0]
    assert {"name", "mode", "status", "rows", "duration_ms", "built_at"} <= set(m)
    assert h["refreshes"][0]["failed"] == 0


def test_health_degraded_while_a_jobs_last_run_failed(srv):
    from cockpit import data
    from cockpit.scheduler import Jobs

    jobs = Jobs(data.warehouse())
    jobs.locks["probe"] = __import__("threading").Lock()

    def boom():
        raise RuntimeError("disk full")

    jobs._run("probe", boom, True)
    h = _strict_json(srv["client"]().get("/health"))
    assert h["status"] == "degraded"
    assert "job probe" in h["failing"]
    last = next(j for j in h["jobs"] if j["job"] == "probe")
    assert last["status"] == "failed" and "disk full" in last["error"]
    jobs._run("probe", lambda: "fine", True)
    h = _strict_json(srv["client"]().get("/health"))
    assert h["status"] == "ok", h.get("failing")
    jobs.scheduler.remove_all_jobs()


# -- the local API ---------------------------------------------------------------------------
BODY = {"metrics": ["opd_visits", "discharges"], "by": ["campus"], "grain": "week",
        "from": "2026-10-01", "to": "2026-10-31", "where": {"campus": ["C01", "C02"]},
        "as_of": "2026-11-25 10:00"}


def _api(srv, path, body, token=True, addr="127.0.0.1"):
    headers = {"X-Cockpit-Token": srv["token"] if token is True else token} if token else {}
    return srv["client"]().post(path, json=body, headers=headers,
                                environ_base={"REMOTE_ADDR": addr})


def test_api_query_requires_the_token_and_a_local_address(srv):
    assert _api(srv, "/api/query", BODY, token=None).status_code == 403
    assert _api(srv, "/api/query", BODY, token="0" * 32).status_code == 403
    assert _api(srv, "/api/query", BODY, addr="10.0.0.7").status_code == 403


def test_api_query_answers_the_cli_json(srv):
    from cockpit.commands.query import parse_where, rows_as_json
    from metrics.service import make_spec, run
    from cockpit import data

    r = _api(srv, "/api/query", BODY)
    assert r.status_code == 200, r.get_data(as_text=True)
    rows = _strict_json(r)["rows"]
    spec = make_spec(BODY["metrics"], BODY["by"], "week", "2026-10-01", "2026-10-31",
                     parse_where(["campus=C01,C02"]), "2026-11-25 10:00")
    expected = json.loads(json.dumps(rows_as_json(run(spec, wh=data.warehouse()).frame),
                                     ensure_ascii=False))
    assert rows == expected
    assert rows and set(rows[0]) == {"period", "campus", "opd_visits", "discharges"}
    assert {r["campus"] for r in rows} == {"C01", "C02"}
    assert all(isinstance(r["opd_visits"], int) for r in rows)


def test_api_query_explain_and_errors(srv):
    r = _api(srv, "/api/query", {**BODY, "explain": True})
    assert r.status_code == 200 and "SELECT" in _strict_json(r)["explain"].upper()
    bad = _api(srv, "/api/query", {**BODY, "metrics": ["no_such_metric"]})
    assert bad.status_code == 400 and "no_such_metric" in bad.get_json()["error"]


def test_api_query_is_not_scoped_by_a_session(srv):
    """The local API is the CLI's: the whole hospital, whatever cookie comes along."""
    c = srv["client"]()
    login(c, "head", "head-pw")
    r = c.post("/api/query", json={**BODY, "by": ["department"], "where": {}},
               headers={"X-Cockpit-Token": srv["token"]})
    assert len({row["department"] for row in r.get_json()["rows"]}) > 1


def test_api_query_denied_is_audited(srv):
    """DESIGN 7: 'every denied access is audited'. A request to the local API without the
    token is refused (403) but leaves no trace in _audit."""
    before = len(audit_rows("denied"))
    assert _api(srv, "/api/query", BODY, token="f" * 32, addr="10.0.0.7").status_code == 403
    assert len(audit_rows("denied")) == before + 1


def test_api_inbox_hands_files_over(srv, tmp_path):
    src = tmp_path / "fact_visit.csv"
    src.write_text("visit_id\nX\n", encoding="utf-8")
    assert _api(srv, "/api/inbox", {"files": [str(src)]}, token=None).status_code == 403
    r = _api(srv, "/api/inbox", {"files": [str(src)]})
    assert r.status_code == 200
    queued = r.get_json()["queued"]
    inbox = srv["home"] / "inbox"
    assert [p for p in queued] == [str(inbox / "fact_visit.csv")]
    assert (inbox / "fact_visit.csv").read_text(encoding="utf-8") == "visit_id\nX\n"
    assert src.exists()
    assert not list(inbox.glob("*.part"))
    again = _api(srv, "/api/inbox", {"files": [str(src)]}).get_json()["queued"]
    assert again[0] != queued[0] and again[0].endswith(".csv")
    for p in inbox.glob("fact_visit*.csv"):
        p.unlink()


# -- bugs ------------------------------------------------------------------------------------
def test_login_keeps_the_whole_deep_link(srv):
    """The view lives in the URL (period, date, campus…): after signing in, the user must land
    on the link they opened. The redirect puts `next` unencoded into the query string, so
    everything after the page's first `&` is lost (lands on /department?period=month)."""
    c = srv["client"]()
    r = c.get(PAGE)
    assert r.status_code == 302
    r = c.post(r.headers["Location"], data={"username": "boss", "password": "boss-pw"})
    assert r.status_code == 302
    assert r.headers["Location"] == PAGE


def test_login_next_cannot_leave_the_site(srv):
    """`next=//evil.example/x` starts with '/' and is followed: an open redirect to another
    host right after a successful sign-in (phishing). Only same-site paths may be followed."""
    for target in ("//evil.example/x", "///evil.example/x"):
        r = login(srv["client"](), next_=target)
        loc = urlsplit(r.headers["Location"])
        assert loc.netloc in ("", "localhost"), (target, r.headers["Location"])
        assert not r.headers["Location"].startswith("//")

