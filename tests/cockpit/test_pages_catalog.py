"""指标目录 page: every metric listed, search and theme filter, a metric's definition, lineage,
table freshness and its value this month (equal to `metrics.service.query`)."""
from __future__ import annotations

import datetime as dt
import sys

import pytest

from cockpit.auth import User, set_current
from cockpit.formatting import fmt_number
from metrics.service import query

AS_OF = dt.datetime(2026, 11, 25, 10, 0)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from cockpit import data
    from cockpit.commands.demo import build_demo
    from cockpit.server import build

    db = str(tmp_path_factory.mktemp("catalog") / "ct.duckdb")
    build_demo(db, "tiny", 42, as_of=AS_OF)
    build(db, start_jobs=False)
    mp = pytest.MonkeyPatch()
    mp.setattr(data, "now", lambda: AS_OF)
    set_current(User("engineer", "engineer"))
    yield sys.modules["pages.catalog"]
    set_current(None)
    mp.undo()


def find(node, id_):
    if getattr(node, "id", None) == id_:
        return node
    kids = getattr(node, "children", None)
    for k in kids if isinstance(kids, (list, tuple)) else [kids]:
        if k is not None and not isinstance(k, (str, int, float)):
            hit = find(k, id_)
            if hit is not None:
                return hit
    return None


def test_table_lists_every_metric(page):
    from cockpit import data

    rows = page.render_table("")[1]
    assert {r["id"] for r in rows} == set(data.model().metrics)


def test_search_and_theme_filter(page):
    rows = page.render_table("?find=死亡率")[1]
    assert rows and all("死亡率" in r["zh"] for r in rows)
    rows = page.render_table("?mtheme=drg&lang=en")[1]
    assert "cmi" in {r["id"] for r in rows} and "alos" not in {r["id"] for r in rows}


def test_detail_definition_lineage_freshness_value(page):
    from cockpit import data

    got = page.render_detail("?metric=cmi")
    text = str(find(got, "catalog-definition"))
    assert "Σ RW ÷ grouped cases" in text and "DRG评价" in text
    assert "fact_drg_settlement" in str(find(got, "catalog-lineage"))
    assert "fact_drg_settlement" in str(find(got, "catalog-freshness-table"))
    ref = query(["cmi"], start=dt.date(2026, 11, 1), end=AS_OF.date(),
                where={"campus": ["C01", "C02"]}, wh=data.warehouse(), model=data.model())
    assert find(got, "catalog-current-value").children == fmt_number(ref["cmi"][0], "decimal2")
    assert "freshness" in str(got)


def test_selection_and_filters_go_to_the_url(page):
    assert page.on_cell({"row_id": "alos", "row": 0, "column": 1}, "?find=住院") == \
        "?find=%E4%BD%8F%E9%99%A2&metric=alos"
    assert page.on_filters("", "drg", "?metric=cmi") == "?metric=cmi&mtheme=drg"


def test_export_csv_is_the_filtered_table(page):
    out = page.export_table("csv", "?find=床位")
    lines = out["content"].strip().splitlines()
    assert lines[0].startswith("主题,编号") and len(lines) - 1 == len(
        page.render_table("?find=床位")[1])
