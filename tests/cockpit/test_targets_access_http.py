"""Issue 6, "a department head cannot edit or see other departments' targets (… direct
request)": crafted POSTs to `/_dash-update-component` against the real server
(`cockpit.server.build`, Flask test client, signed in through `/login`), with the callbacks'
exact output / inputs / state ids read from `/_dash-dependencies`, as Dash's renderer sends
them. Every refusal is checked against a leader sending the same request (the control), so
each test can fail.

The head runs D0111 (two teams with `discharges` targets in the tiny demo); the other
department is D0116 (also two teams with targets).

The page refuses a head's save or cascade before `targets.store` is reached, so the refusal is
audited in the cockpit's `_audit` (action `denied`, detail `targets set` / `targets cascade`),
not in `_target_audit` (which the store writes when it refuses a call itself; see
tests/targets/test_cockpit.py)."""
from __future__ import annotations

import base64
import io
from collections import Counter

import pandas as pd
import pytest

from tests.cockpit.conftest import TINY_AS_OF, server_home

OWN, OTHER = "D0111", "D0116"
METRIC, YEAR = "discharges", 2026
SEARCH = f"?metric={METRIC}&year={YEAR}"


@pytest.fixture(scope="module")
def srv(tiny_golden, tmp_path_factory):
    from cockpit import data
    from cockpit.server import build

    db, mp = server_home(tiny_golden, tmp_path_factory.mktemp("targets-http-home"), [OWN])
    app, _, _ = build(str(db), start_jobs=False)
    mp.setattr(data, "now", lambda: TINY_AS_OF)  # the demo's year, whatever today is
    yield app
    mp.undo()
    data.warehouse().close()


def _client(app, user, password):
    c = app.server.test_client()
    r = c.post("/login", data={"username": user, "password": password})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    return c


@pytest.fixture(scope="module")
def head(srv):
    return _client(srv, "head", "head-pw")


@pytest.fixture(scope="module")
def boss(srv):
    return _client(srv, "boss", "boss-pw")


# -- requests as the renderer sends them ---------------------------------------------------------

def _outputs(dep) -> list[tuple[str, str]]:
    """(id, property with any @hash) of a dependency's outputs."""
    s = dep["output"]
    parts = s[2:-2].split("...") if s.startswith("..") else [s]
    return [tuple(p.rsplit(".", 1)) for p in parts]


def _dependency(client, outputs: list[str], trigger: str):
    """The registered callback with exactly these outputs (`id.prop`, no @hash) and `trigger`
    among its inputs (listed once per app built in the process: identical copies)."""
    deps = client.get("/_dash-dependencies").get_json()
    hits = [d for d in deps
            if [f"{i}.{p.split('@')[0]}" for i, p in _outputs(d)] == outputs
            and trigger in {f"{i['id']}.{i['property']}" for i in d["inputs"]}]
    # (one callback; listed once per app built in this process — the same definition)
    assert hits and all(h["inputs"] == hits[0]["inputs"] and h["state"] == hits[0]["state"]
                        for h in hits), (outputs, trigger, len(hits))
    return hits[0]


def call(client, outputs: list[str], values: dict, changed: list[str]):
    """POST /_dash-update-component for the callback with `outputs`, taking each input's and
    state's value from `values` (`id.prop` → value, missing = None), in the callback's own
    order. Returns (status, response dict or None)."""
    dep = _dependency(client, outputs, changed[0])
    outs = [{"id": i, "property": p.split("@")[0]} for i, p in _outputs(dep)]

    def items(kind):
        return [{"id": x["id"], "property": x["property"],
                 "value": values.get(f"{x['id']}.{x['property']}")} for x in dep[kind]]

    body = {"output": dep["output"], "outputs": outs if len(outs) > 1 else outs[0],
            "inputs": items("inputs"), "state": items("state"), "changedPropIds": changed}
    r = client.post("/_dash-update-component", json=body, headers={"Referer": "/targets"})
    assert r.status_code in (200, 204), (r.status_code, r.get_data(as_text=True)[:500])
    return r.status_code, (r.get_json()["response"] if r.status_code == 200 else None), \
        r.get_data(as_text=True)


def save(client, node, value):
    return call(client, ["targets-message.children", "targets-version.data"],
                {"targets-save.n_clicks": 1, "url.search": SEARCH, "targets-node.value": node,
                 "targets-value.value": value, "targets-lock.value": [],
                 "targets-version.data": 0}, ["targets-save.n_clicks"])


def cascade(client, parent, level):
    return call(client, ["targets-message.children", "targets-version.data"],
                {"targets-run-cascade.n_clicks": 1, "url.search": SEARCH,
                 "targets-parent.value": parent, "targets-level.value": level,
                 "targets-method.value": "equal", "targets-reserve.value": None,
                 "targets-holds.value": [], "targets-version.data": 0},
                ["targets-run-cascade.n_clicks"])


def export(client, fmt, search=SEARCH) -> pd.DataFrame:
    btn = f"targets-export-{fmt}"
    _, resp, text = call(client, ["targets-download.data"],
                         {f"{btn}.n_clicks": 1, "url.search": search}, [f"{btn}.n_clicks"])
    assert resp, text[:300]
    d = resp["targets-download"]["data"]
    if fmt == "csv":
        return pd.read_csv(io.StringIO(d["content"]))
    raw = base64.b64decode(d["content"]) if d.get("base64") else d["content"].encode()
    return pd.read_excel(io.BytesIO(raw))


def tree(client, search):
    return call(client, ["targets-tree.children", "targets-offtrack.children"],
                {"url.search": search, "targets-version.data": 0}, ["url.search"])


def dept_panel(client, dept):
    return call(client, ["department-targets.children"], {"url.search": f"?dept={dept}"},
                ["url.search"])


# -- helpers on the warehouse and the rendered components ---------------------------------------

def version():
    from cockpit import data
    from targets.store import current_version, history

    wh = data.warehouse()
    return current_version(wh, METRIC, YEAR), len(history(wh))


def value_of(node):
    from cockpit import data
    from targets.store import current

    cur = current(data.warehouse(), METRIC, YEAR)
    cur = cur[(cur["node_id"] == node) & (cur["component"] == "value")]
    return float(cur["value"].iloc[0])


def ids(node, out=None) -> set[str]:
    """Every string id in a rendered component tree (the JSON Dash sends)."""
    out = set() if out is None else out
    if isinstance(node, dict) and isinstance(node.get("props"), dict):
        if isinstance(node["props"].get("id"), str):
            out.add(node["props"]["id"])
        ids(node["props"].get("children"), out)
    elif isinstance(node, dict):  # the response: {id: {prop: value}}
        for v in node.values():
            ids(v, out)
    elif isinstance(node, list):
        for k in node:
            ids(k, out)
    return out


def denials(username) -> Counter:
    """The user's refused requests in the cockpit's `_audit`, by detail."""
    from cockpit import data

    wh = data.warehouse()
    if not wh.table_exists("_audit"):
        return Counter()
    df = wh.query_df("SELECT username, action, detail FROM _audit")
    return Counter(df[(df["username"] == username) & (df["action"] == "denied")]["detail"])


def denied_message(resp) -> str:
    return str(resp["targets-message"]["children"])


# -- 1, 2, 6: writing ---------------------------------------------------------------------------

def test_head_cannot_save_another_departments_target_but_a_leader_can(head, boss):
    before, before_value = version(), value_of(OTHER)
    before_audit = denials("head")
    status, resp, text = save(head, OTHER, before_value + 1)
    assert status == 200 and "无权" in denied_message(resp), text[:300]
    assert "targets-version" not in resp  # no_update: nothing was written
    assert version() == before and value_of(OTHER) == before_value
    # not their own department either: a head reads targets, never writes them
    status, resp, _ = save(head, OWN, value_of(OWN) + 1)
    assert "无权" in denied_message(resp) and "targets-version" not in resp
    assert version() == before
    # audited: who, and what was refused
    assert denials("head") - before_audit == {"targets set": 2}

    # control: the very same request from a leader writes a new version
    status, resp, text = save(boss, OTHER, before_value + 1)
    assert resp["targets-version"]["data"] == 1, text[:300]
    assert "已保存" in str(resp["targets-message"]["children"])
    assert version()[0] == before[0] + 1 and value_of(OTHER) == before_value + 1


def test_head_cannot_cascade_from_another_department_but_a_leader_can(head, boss):
    before = version()
    before_audit = denials("head")
    for parent, level in ((OTHER, "team"), ("hospital", "department"), (OWN, "team")):
        status, resp, text = cascade(head, parent, level)
        assert status == 200 and "无权" in denied_message(resp), (parent, text[:300])
        assert "targets-version" not in resp
    assert version() == before
    assert denials("head") - before_audit == {"targets cascade": 3}

    status, resp, text = cascade(boss, OTHER, "team")
    assert resp["targets-version"]["data"] == 1, text[:300]
    assert version()[0] == before[0] + 1


# -- 3: export -----------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_head_exports_only_their_department_and_teams(head, boss, fmt):
    mine = export(head, fmt, SEARCH + f"&dept={OTHER}")
    assert len(mine) and set(mine["node_id"].str[:5]) == {OWN}, sorted(set(mine["node_id"]))
    assert {OWN, f"{OWN}T01", f"{OWN}T02"} <= set(mine["node_id"])
    everyone = export(boss, fmt)
    assert {"hospital", OTHER, f"{OTHER}T01"} <= set(everyone["node_id"])


# -- 4: the tree (and the editor) ----------------------------------------------------------------

def test_head_tree_shows_only_their_department_whatever_the_url(head, boss):
    for search in (SEARCH, SEARCH + f"&dept={OTHER}", SEARCH + f"&dept={OTHER}&campus=C01"):
        status, resp, text = tree(head, search)
        rows = {i for i in ids(resp) if i.startswith("targets-row-")}
        assert rows == {f"targets-row-{n}" for n in (OWN, f"{OWN}T01", f"{OWN}T02")}, \
            (search, rows)
        assert OTHER not in text and "targets-row-hospital" not in text
    _, resp, _ = tree(boss, SEARCH + f"&dept={OTHER}")
    rows = {i for i in ids(resp) if i.startswith("targets-row-")}
    assert {"targets-row-hospital", f"targets-row-{OTHER}", f"targets-row-{OTHER}T01"} <= rows


def test_head_gets_no_editor(head, boss):
    values = {"url.search": SEARCH + f"&dept={OTHER}", "targets-version.data": 0}
    _, resp, text = call(head, ["targets-editor.children"], values, ["url.search"])
    assert resp["targets-editor"]["children"] is None, text[:300]
    _, resp, _ = call(boss, ["targets-editor.children"], values, ["url.search"])
    assert "targets-save" in ids(resp)


# -- 5: the department page's targets panel ----------------------------------------------------

def test_head_department_targets_panel_for_another_department_shows_their_own(head, boss):
    _, other, text = dept_panel(head, OTHER)
    _, own, _ = dept_panel(head, OWN)
    assert OTHER not in text
    rows = {i for i in ids(other) if i.startswith("department-target-")}
    assert f"department-target-{METRIC}-{OWN}T01" in rows
    assert other == own  # the head's own panel, not the one asked for
    _, theirs, _ = dept_panel(boss, OTHER)
    assert f"department-target-{METRIC}-{OTHER}T01" in ids(theirs)
    assert theirs != own
