"""A department head sees only their departments: in the UI, and when they replay a real
callback request to `/_dash-update-component` with another department put in (the scope is
enforced on the server, whatever the client sends)."""
from __future__ import annotations

import copy
import json
from urllib.parse import urlsplit

import pytest
import requests

from .conftest import assert_local, login, month_range, open_page, screenshot, settle

pytestmark = pytest.mark.browser

KPIS = ["discharges", "opd_ed_visits", "medical_revenue", "alos", "cmi"]


@pytest.fixture(scope="module")
def head(browser, server):
    """The department head, signed in, with every callback request the page sends."""
    from .conftest import _new_context

    ctx = _new_context(browser, server)
    page = ctx.new_page()
    page.callbacks = []

    def keep(req):
        if urlsplit(req.url).path == "/_dash-update-component" and req.method == "POST":
            page.callbacks.append((req.url, json.loads(req.post_data)))

    page.on("request", keep)
    login(page, "head")
    yield page
    ctx.close()


def _expected_tiles(expected, dept: str, scope) -> dict:
    start, end = month_range()
    f = expected.query(KPIS, start=start, end=end, where={"department": [dept]}, scope=scope)
    return {m: expected.text(f[m].iloc[0] if len(f) else None, m) for m in KPIS}


def _tiles(page) -> dict:
    return {m: page.eval_on_selector(f"#department-kpi-{m} .kpi-value",
                                     "e => e.firstChild.textContent.trim()") for m in KPIS}


def test_head_sees_own_department_only_in_the_ui(head, demo, expected):
    own, other = demo["head_dept"], demo["other_dept"]
    open_page(head, "/department", ["#department-kpis-panel", "#department-rank .panel"])
    screenshot(head, "department-head-zh-light")
    assert _tiles(head) == _expected_tiles(expected, own, frozenset({own}))
    head.click("#department-select")
    options = head.locator("#department-select [role='option'], .dash-dropdown-option, "
                           ".Select-option").all_inner_texts()
    head.keyboard.press("Escape")
    names = expected.wh.query_rows("SELECT dept_id, dept_name, campus_id FROM dim_department")
    own_name = next(n for d, n, _ in names if d == own)
    assert options and all(own_name in o for o in options), options
    assert head.locator("#department-rank-denied").count() == 1

    # a link to another department shows theirs instead, and says so
    open_page(head, f"/department?dept={other}", ["#department-kpis-panel"])
    assert "无权查看该科室" in head.inner_text("#department-note")
    assert _tiles(head) == _expected_tiles(expected, own, frozenset({own}))


def test_head_overview_and_drg_are_scoped(head, demo, expected):
    own, other = demo["head_dept"], demo["other_dept"]
    open_page(head, "/", ["#overview-panel-inpatient-body", "#overview-movers .panel"])
    start, end = month_range()
    f = expected.query(["discharges"], start=start, end=end,
                       where={"campus": expected.hospital_campuses()}, scope=frozenset({own}))
    shown = head.eval_on_selector("#overview-kpi-discharges .kpi-value",
                                  "e => e.firstChild.textContent.trim()")
    assert shown == expected.text(f["discharges"].iloc[0], "discharges")
    # the DRG case list of another department: nothing
    open_page(head, f"/drg?dept={other}", ["#drg-cases .panel"])
    rows = head.locator("#drg-cases-table td[data-dash-column='admission_id']").count()
    assert rows == 0
    assert_local(head.context)


def _captured(page, output_part: str) -> dict:
    """The last real request the page sent for a callback (its body, and its URL)."""
    for url, body in reversed(page.callbacks):
        if output_part in body.get("output", ""):
            body = copy.deepcopy(body)
            body["__url"] = url
            return body
    raise AssertionError(f"no callback for {output_part} was captured: "
                         f"{[b.get('output') for _, b in page.callbacks][:20]}")


def _set_search(body: dict, search: str) -> dict:
    for group in ("inputs", "state"):
        for item in body.get(group, []) or []:
            if isinstance(item, dict) and item.get("id") == "url" and \
                    item.get("property") == "search":
                item["value"] = search
    return body


def _post(page, server: str, body: dict) -> str:
    """POST a callback body with the head's session cookie (outside the browser)."""
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    url = body.pop("__url", None) or server + "/_dash-update-component"
    r = requests.post(url, json=body, cookies=cookies, timeout=60)
    assert r.status_code in (200, 204), (r.status_code, r.text[:300])
    return r.text


def test_crafted_callback_gets_nothing_of_another_department(head, server, demo, expected):
    own, other = demo["head_dept"], demo["other_dept"]
    open_page(head, "/department", ["#department-kpis-panel"])
    settle(head)
    body = _set_search(_captured(head, "department-kpis.children"), f"?dept={other}")
    text = _post(head, server, body)
    theirs = _expected_tiles(expected, other, None)
    mine = _expected_tiles(expected, own, frozenset({own}))
    # the answer is the head's own department's cards, never the other department's numbers
    for m in KPIS:
        if theirs[m] != mine[m] and theirs[m] != "—":
            assert json.dumps(theirs[m], ensure_ascii=False) not in text, (m, theirs[m])
    assert json.dumps(mine["discharges"], ensure_ascii=False) in text or mine["discharges"] \
        in text

    # the teams of the other department
    body = _set_search(_captured(head, "department-teams.children"), f"?dept={other}")
    text = _post(head, server, body)
    assert f"{other}T" not in text, "another department's team ids in the answer"


def test_crafted_drg_case_list_and_export_of_another_department(head, server, demo,
                                                               expected):
    other = demo["other_dept"]
    open_page(head, "/drg", ["#drg-cases .panel"])
    settle(head)
    body = _set_search(_captured(head, "drg-cases.children"), f"?dept={other}")
    text = _post(head, server, body)
    ids = [r[0] for r in expected.wh.query_rows(
        "SELECT s.admission_id FROM fact_drg_settlement s JOIN fact_inpatient i "
        f"USING (admission_id) WHERE i.discharge_dept_id = '{other}'")]
    assert ids, f"premise: {other} has settled cases"
    for a in ids:
        assert a not in text, f"case {a} of {other} in the head's answer"
    assert "drg-cases-table" not in text or '"data": []' in text or '"data":[]' in text

    # the generic table export re-runs a query the client sends: ask for the other department
    open_page(head, "/theme/visits", ["#theme-table .panel"])
    settle(head)
    store_id = {"type": "export-query", "table": "theme-table-visits"}
    start, end = month_range()
    spec = {"query": {"metrics": ["opd_ed_visits"], "by": ["department"],
                      "start": start.isoformat(), "end": end.isoformat(),
                      "where": {"department": [other]}},
            "columns": [["department", "科室"], ["opd_ed_visits", "门急诊人次"]]}
    body = {"output": "export-download.data",
            "outputs": {"id": "export-download", "property": "data"},
            "inputs": [[{"id": {"fmt": "csv", "table": "theme-table-visits", "type": "export"},
                         "property": "n_clicks", "value": 1}]],
            "changedPropIds": [json.dumps({"fmt": "csv", "table": "theme-table-visits",
                                           "type": "export"}, separators=(",", ":"),
                                          sort_keys=True) + ".n_clicks"],
            "state": [[{"id": store_id, "property": "data", "value": json.dumps(spec)}]]}
    text = _post(head, server, body)
    assert other not in text, f"the export answered with {other}'s rows: {text[:300]}"


def test_unauthenticated_callback_is_refused(server):
    r = requests.post(server + "/_dash-update-component", json={"output": "x.children"},
                      timeout=10)
    assert r.status_code == 401
