"""The query path renders a fact's rows once per dialect and splices the text in
(`metrics.prebuilt`): the SQL it sends must be exactly the SQL of the whole tree."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlglot import exp

from metrics import prebuilt
from metrics.dialects import render
from metrics.dimensions import fact_dimensions
from metrics.fetch import unit_sql
from metrics.plan import measures_of, route, units_for
from metrics.registry import load_model
from metrics.service import make_spec
from warehouse.errors import UnsupportedError

TODAY = dt.date(2026, 3, 18)


@pytest.fixture(scope="module")
def model():
    return load_model()  # the product's themes: every metric the cockpit can ask


def _specs(model, mid):
    facts = [model.measures[m][0] for m in measures_of(model, mid)]
    carried = set.intersection(*(set(fact_dimensions(f)) for f in facts))
    by = ("department",) if "department" in carried else ("campus",)
    yield make_spec([mid], by=by, grain="month", start=dt.date(2026, 1, 1), end=TODAY,
                    where={"department": ["D01", "D02"]} if by == ("department",) else None,
                    as_of=dt.datetime(2026, 3, 18, 10, 30))
    yield make_spec([mid], grain="day", start=TODAY - dt.timedelta(days=40), end=TODAY)
    yield make_spec([mid], grain=None, start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))


def _text(tree, dialect, pretty):
    try:
        return render(tree, dialect, pretty=pretty)
    except UnsupportedError as e:
        return f"unsupported: {e}"


def test_spliced_sql_is_the_whole_trees_sql_for_every_metric(model):
    compared = 0
    for mid in sorted(model.metrics):
        for spec in _specs(model, mid):
            units = units_for(model, measures_of(model, mid))
            for unit in units:
                route(unit, spec, {})  # base tables: the rows SQL is in every query
                fast = unit_sql(model, unit, spec, spec.start, spec.end, prebuilt=True)
                full = unit_sql(model, unit, spec, spec.start, spec.end)
                for dialect in ("duckdb", "starrocks"):
                    for pretty in (False, True):
                        assert _text(fast, dialect, pretty) == _text(full, dialect, pretty), (
                            mid, spec, dialect, pretty)
                        compared += 1
    assert compared > 4 * 3 * len(model.metrics)  # every metric, both dialects, both forms


def test_the_query_tree_holds_placeholders_not_copies(model):
    fact = model.facts["discharge"]  # has window columns: rows and the window pre-filter
    spec = make_spec(["discharges"], by=("department",), grain="day", start=TODAY, end=TODAY)
    (unit,) = units_for(model, measures_of(model, "discharges"))
    route(unit, spec, {})
    tree = unit_sql(model, unit, spec, TODAY, TODAY, prebuilt=True)
    names = {t.name for t in tree.find_all(exp.Table)}
    assert fact.table not in names
    assert sum(n.startswith("__prebuilt_") for n in names) == 2  # the rows and the keys
    text = render(tree, "duckdb")
    assert "__prebuilt_" not in text and fact.table in text


def test_only_a_plain_select_can_be_prebuilt():
    with pytest.raises(ValueError, match="without clauses"):
        prebuilt.register(exp.select("a").from_("t").where("a > 1"))
    with pytest.raises(ValueError):
        prebuilt.register(exp.select("a").from_("t").group_by("a"))
    name = prebuilt.register(exp.select("a").from_("t"))
    q = prebuilt.placeholder(name).where("a > 1")
    assert render(q, "duckdb") == "SELECT a FROM t WHERE a > 1"
    assert render(q, "starrocks", pretty=True) == "SELECT\n  a\nFROM t\nWHERE\n  a > 1"


def test_a_filter_value_quoting_a_placeholder_stays_a_value(model):
    """A user's value is a literal: text that looks like a placeholder inside it is never
    spliced (the text is checked against the tree, and rendered whole when they differ)."""
    name = prebuilt.register(exp.select("a").from_("t"))
    values = [f"SELECT * FROM {name}", "SELECT * FROM __prebuilt_999999__"]
    spec = make_spec(["discharges"], by=("department",), grain="day", start=TODAY, end=TODAY,
                     where={"department": values})
    (unit,) = units_for(model, measures_of(model, "discharges"))
    route(unit, spec, {})
    fast = unit_sql(model, unit, spec, TODAY, TODAY, prebuilt=True)
    full = unit_sql(model, unit, spec, TODAY, TODAY)
    for dialect in ("duckdb", "starrocks"):
        text = render(fast, dialect)
        assert text == render(full, dialect)
        assert f"'SELECT * FROM {name}'" in text and "SELECT a FROM t" not in text


def test_a_placeholder_is_only_ever_select_star_from_it():
    name = prebuilt.register(exp.select("a").from_("t"))
    joined = prebuilt.placeholder(name).join("u", on="u.a = a")
    with pytest.raises(ValueError, match="other than as SELECT"):
        render(joined, "duckdb")
    with pytest.raises(ValueError, match="other than as SELECT"):
        render(exp.select("a").from_(exp.alias_(exp.to_table(name), "x", table=True)), "duckdb")


def test_pretty_starrocks_checks_the_spliced_rows_too():
    """`--explain` expands the placeholders before the dialect's checks run."""
    name = prebuilt.register(exp.select(exp.alias_(sqlglot_parse("count(*) FILTER (WHERE a)"),
                                                   "n")).from_("t"))
    with pytest.raises(UnsupportedError, match="FILTER"):
        render(prebuilt.placeholder(name), "starrocks", pretty=True)
    with pytest.raises(UnsupportedError, match="FILTER"):
        render(prebuilt.placeholder(name), "starrocks")


def sqlglot_parse(text):
    import sqlglot

    return sqlglot.parse_one(text, read="duckdb")
