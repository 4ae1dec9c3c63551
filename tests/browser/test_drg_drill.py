"""The DRG drill in the browser: hospital → MDC (a click on the drill chart's bar) → DRG group
→ department (clicks on the level table's rows) → the case list; at every level the KPI tiles
equal `metrics.query` for the selection, and the case list holds exactly the selection's
settled cases. Then the case export downloads those cases."""
from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from .conftest import assert_local, login, month_range, screenshot, settle

pytestmark = pytest.mark.browser


def _params(page) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}


def _wait_param(page, name: str) -> str:
    page.wait_for_function(f"() => new URLSearchParams(location.search).has('{name}')")
    settle(page)
    return _params(page)[name]


def _tile(page, metric: str) -> str:
    page.wait_for_selector(f"#drg-kpi-{metric} .kpi-value", state="attached")
    return page.eval_on_selector(f"#drg-kpi-{metric} .kpi-value",
                                 "e => e.firstChild.textContent.trim()")


def _check_level(page, expected, where: dict) -> None:
    start, end = month_range()
    for m in ("drg_grouped_cases", "drg_balance", "cmi"):
        f = expected.query([m], grain="month", start=start, end=end, where=where)
        want = expected.text(f[m].iloc[-1] if len(f) else None, m)
        assert _tile(page, m) == want, (m, where, _tile(page, m), want)


def _click_biggest_bar(page, graph: str) -> None:
    """A real mouse click on the longest bar of a Plotly bar chart."""
    page.wait_for_selector(f"#{graph} .trace.bars .point path")
    boxes = [p.bounding_box() for p in page.locator(f"#{graph} .trace.bars .point path").all()]
    box = max((b for b in boxes if b), key=lambda b: b["width"] * b["height"])
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def _click_first_row(page) -> None:
    """The level table's first row whose code is a real id (not the 未入组 row)."""
    page.wait_for_selector("#drg-level-table td[data-dash-column='name']")
    rows = page.locator("#drg-level-table tr:has(td[data-dash-column='name'])")
    for i in range(rows.count()):
        code = rows.nth(i).locator("td").first.inner_text().strip()
        if code not in ("—", ""):
            rows.nth(i).locator("td[data-dash-column='name']").click()
            return
    raise AssertionError("no drillable row in the level table")


def test_drg_drill_hospital_to_case_list(browser, server, new_context, expected):
    ctx = new_context(server)
    page = ctx.new_page()
    login(page, "finance")
    page.goto("/drg")
    page.wait_for_selector("#drg-drill-graph .trace.bars .point path")
    settle(page)
    _check_level(page, expected, {})
    assert "下钻到科室后显示病例明细" in page.inner_text("#drg-cases")

    _click_biggest_bar(page, "drg-drill-graph")           # hospital → MDC
    mdc = _wait_param(page, "mdc")
    assert re.fullmatch(r"[A-Z]", mdc), mdc
    _check_level(page, expected, {"mdc": [mdc]})
    assert mdc in page.inner_text("#drg-crumbs")

    _click_first_row(page)                                # MDC → DRG group
    drg = _wait_param(page, "drg")
    assert drg.startswith(mdc), (mdc, drg)
    _check_level(page, expected, {"mdc": [mdc], "drg": [drg]})

    _click_first_row(page)                                # group → department
    dept = _wait_param(page, "dept")
    where = {"mdc": [mdc], "drg": [drg], "department": [dept]}
    _check_level(page, expected, where)

    page.wait_for_selector("#drg-cases-table td[data-dash-column='admission_id']")
    settle(page)
    screenshot(page, "drg-cases-zh-light")
    shown = page.locator("#drg-cases-table td[data-dash-column='admission_id']")
    start, end = month_range()
    n = expected.query(["drg_grouped_cases"], start=start, end=end, where=where)
    cases = int(n["drg_grouped_cases"].iloc[0])
    assert cases > 0
    hint = page.inner_text("#drg-cases .table-tools")
    assert f"{cases} 例" in hint, (hint, cases)
    assert shown.count() == min(cases, 20)
    crumbs = page.inner_text("#drg-crumbs")
    assert drg in crumbs and "全院" in crumbs, crumbs

    # the export holds every case of the selection (raw numbers), nobody else's
    with page.expect_download() as dl:
        page.click("#drg-cases-csv")
    frame = pd.read_csv(io.StringIO(open(dl.value.path(), encoding="utf-8").read()))
    assert len(frame) == cases
    assert set(frame["DRG"]) == {drg}
    assert set(frame["科室"]) == {dept}
    page_ids = set(shown.all_inner_texts())
    assert page_ids <= set(frame["住院号"].astype(str))

    # a crumb goes back up to the hospital
    page.click("#drg-crumbs a.crumb >> nth=0")
    page.wait_for_function("() => !new URLSearchParams(location.search).has('mdc')")
    settle(page)
    _check_level(page, expected, {})
    assert_local(ctx)
