"""Kiosk tokens: the store (hashed, listed, revoked), the cache that makes a revocation bite
within a minute, the server's kiosk check (read-only, wallboard only, campus scope) and the
`cockpit wallboard tokens` commands."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from wallboard import tokens
from warehouse.errors import ConfigError

from .conftest import copy_db


@pytest.fixture(scope="module")
def db(wb_golden, tmp_path_factory):
    return copy_db(wb_golden, tmp_path_factory.mktemp("wb-tokens"))


@pytest.fixture()
def wh(db):
    from warehouse.engine import open_warehouse

    wh = open_warehouse(str(db))
    wh.execute(f"DELETE FROM {tokens.TABLE}") if wh.table_exists(tokens.TABLE) else None
    tokens.forget()
    yield wh
    wh.close()


def test_create_list_revoke(wh):
    tok, rec = tokens.create(wh, "指挥中心-1")
    assert tok.startswith("wb_") and len(tok) > 30
    stored = wh.query_rows(f"SELECT token_hash FROM {tokens.TABLE}")
    assert stored == [(tokens.token_hash(tok),)] and tok not in str(stored)  # hash only
    _, rec2 = tokens.create(wh, "天府大厅", "C02")
    assert sorted(t.name for t in tokens.list_tokens(wh)) == sorted(["指挥中心-1", "天府大厅"])
    with pytest.raises(ConfigError):
        tokens.create(wh, "指挥中心-1")          # one active token per screen name
    with pytest.raises(ConfigError):
        tokens.create(wh, "x", "C99")            # unknown campus
    assert tokens.lookup(wh, rec.token_hash)[0].name == "指挥中心-1"
    assert tokens.lookup(wh, rec2.token_hash)[1]  # the campus's departments
    out = tokens.revoke(wh, rec2.id)             # by id
    assert out[0].revoked is not None
    assert tokens.lookup(wh, rec2.token_hash)[0] is None   # revoke forgets the cache
    tokens.revoke(wh, "指挥中心-1")               # by name
    assert all(not t.active for t in tokens.list_tokens(wh))
    with pytest.raises(ConfigError):
        tokens.revoke(wh, "指挥中心-1")


def test_revocation_elsewhere_bites_within_the_cache_window(wh):
    """Revoked by another process (the cache not told): refused once the cache expires, and
    the window is under a minute."""
    _, rec = tokens.create(wh, "screen")
    assert tokens.lookup(wh, rec.token_hash, now=1000.0)[0] is not None
    wh.execute(f"UPDATE {tokens.TABLE} SET revoked = now() WHERE token_hash = ?",
               [rec.token_hash])
    assert tokens.lookup(wh, rec.token_hash, now=1000.0 + 1)[0] is not None  # cached
    later = 1000.0 + tokens.CACHE_SECONDS + 0.1
    assert tokens.lookup(wh, rec.token_hash, now=later)[0] is None
    assert tokens.CACHE_SECONDS <= 60


def test_outputs_a_kiosk_may_ask_for():
    ok = {"outputs": [{"id": "wallboard-live", "property": "children"},
                      [{"id": {"type": "wallboard-body", "index": 0}, "property": "children"}]]}
    assert tokens._outputs_allowed(ok)
    pages = {"outputs": {"id": "_pages_content", "property": "children"},
             "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/wallboard"},
                        {"id": "_pages_location", "property": "search", "value": "?token=x"}]}
    assert tokens._outputs_allowed(pages)
    # the page router for any other page (the overview's layout carries live figures)
    pages["inputs"][0]["value"] = "/"
    assert not tokens._outputs_allowed(pages)
    assert not tokens._outputs_allowed({"outputs": {"id": "_pages_content", "property": "children"}})
    assert not tokens._outputs_allowed({"outputs": {"id": "export-download", "property": "data"}})
    assert not tokens._outputs_allowed({"outputs": [{"id": "overview-live", "property": "x"}]})
    assert not tokens._outputs_allowed({"outputs": []})
    assert not tokens._outputs_allowed(None)


@pytest.fixture(scope="module")
def srv(db):
    """The server's Flask app in-process (no jobs), with two tokens."""
    from cockpit.server import build
    from warehouse.engine import open_warehouse

    wh = open_warehouse(str(db))
    wh.execute(f"DELETE FROM {tokens.TABLE}") if wh.table_exists(tokens.TABLE) else None
    all_tok, _ = tokens.create(wh, "all")
    c02_tok, _ = tokens.create(wh, "c02", "C02")
    wh.close()
    tokens.forget()
    app, _jobs, api_token = build(str(db), start_jobs=False)
    app.server.config["TESTING"] = True
    return {"app": app, "all": all_tok, "c02": c02_tok, "api": api_token}


LIVE_OUT = "..wallboard-live.children...wallboard-asof.children...wallboard-fresh.children.."
LIVE_OUTS = tuple({"id": i, "property": "children"}
                  for i in ("wallboard-live", "wallboard-asof", "wallboard-fresh"))


def _callback(client, token, output=LIVE_OUT, outputs=LIVE_OUTS):
    body = {"output": output, "outputs": list(outputs), "inputs": [
        {"id": "wallboard-tick", "property": "n_intervals", "value": 1}], "state": [
        {"id": "wallboard-config", "property": "data",
         "value": {"pages": [{"page": "overview", "seconds": 30}], "campus": None}}],
        "changedPropIds": ["wallboard-tick.n_intervals"]}
    ref = f"http://localhost/wallboard?token={token}" if token else "http://localhost/"
    return client.post("/_dash-update-component", json=body, headers={"Referer": ref})


def test_kiosk_page_and_callbacks(srv):
    c = srv["app"].server.test_client()
    assert c.get("/wallboard?token=wb_nope").status_code == 403
    r = c.get(f"/wallboard?token={srv['all']}")
    assert r.status_code == 200
    # the session rides on: a callback without the Referer's token still works
    r = _callback(c, None)
    assert r.status_code == 200, r.data[:300]
    assert "wb-tile" in r.get_data(as_text=True)
    # read-only and wallboard-only: no other page, no export, no other page's callbacks
    assert c.get("/").status_code == 302
    assert _callback(c, srv["all"], "export-download.data",
                     [{"id": "export-download", "property": "data"}]).status_code == 403


def test_campus_token_sees_its_campus_only(srv):
    from flask import session

    from cockpit.auth import current_scope, current_user

    app = srv["app"].server
    with app.test_request_context(f"/wallboard?token={srv['c02']}"):
        app.preprocess_request()
        u = current_user()
        assert isinstance(u, tokens.KioskUser) and u.campus == "C02"
        assert current_scope() and all(d.startswith("D02") for d in current_scope())
        assert not u.can_edit_targets
        assert session["kiosk"]["campus"] == "C02"


def test_revoked_token_is_refused(srv):
    c = srv["app"].server.test_client()
    r = c.post("/api/kiosk-tokens", json={"action": "create", "name": "tmp"},
               headers={"X-Cockpit-Token": srv["api"]}, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    tok = r.get_json()["token"]
    assert c.get(f"/wallboard?token={tok}").status_code == 200
    assert _callback(c, tok).status_code == 200
    r = c.post("/api/kiosk-tokens", json={"action": "revoke", "which": "tmp"},
               headers={"X-Cockpit-Token": srv["api"]}, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert r.get_json()["revoked"][0]["name"] == "tmp"
    assert _callback(c, tok).status_code == 401          # the open screen's next refresh
    assert _callback(c, None).status_code == 401          # and its session
    assert c.get(f"/wallboard?token={tok}").status_code == 403
    # the local API wants the server's token
    assert c.post("/api/kiosk-tokens", json={"action": "list"}).status_code == 403


def test_cli_without_server(db, wh, tmp_path, monkeypatch):
    import typer

    from cockpit.commands import wallboard as cmd

    monkeypatch.setenv("COCKPIT_HOME", str(tmp_path))      # no server runs for this home
    wh.close()
    app = typer.Typer()
    cmd.register(app)
    run = CliRunner().invoke
    r = run(app, ["wallboard", "tokens", "create", "大屏-1", "--campus", "C01", "--db", str(db)])
    assert r.exit_code == 0, r.output
    assert "?token=wb_" in r.output
    r = run(app, ["wallboard", "tokens", "list", "--format", "json", "--db", str(db)])
    rows = json.loads(r.output)
    assert [(x["name"], x["campus"], x["revoked"]) for x in rows] == [("大屏-1", "C01", None)]
    r = run(app, ["wallboard", "tokens", "revoke", rows[0]["id"], "--db", str(db)])
    assert r.exit_code == 0 and "revoked" in r.output
    r = run(app, ["wallboard", "playlists"])
    assert r.exit_code == 0 and "default" in r.output
