"""Phasing is kept per target version: a later version that re-phases a node adds its own
day weights, so a past version's expected-to-date is rebuilt as it was (`store.to_date`,
`cockpit targets show --version N --to-date D`); a warehouse made before phasing was
versioned still reads (its rows are version 0)."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from metrics.targets_read import PHASING, phasing
from targets.store import replace_phasing, set_target, to_date


def flat_then_front(year: int, front: float) -> pd.DataFrame:
    """D01's day weights: `front` of the year on 1 January, the rest spread evenly."""
    days = pd.date_range(f"{year}-01-01", f"{year}-12-31").date
    rest = (1 - front) / (len(days) - 1)
    return pd.DataFrame({"component": "value", "node_level": "department", "node_id": "D01",
                         "day": days, "weight": [front] + [rest] * (len(days) - 1),
                         "source": "test"})


def test_a_past_version_keeps_its_phasing(wh, model):
    v1 = set_target(wh, "medical_revenue", 2026, "D01", 1000, model=model, phase=False)
    replace_phasing(wh, "medical_revenue", 2026, flat_then_front(2026, 1 / 365))  # flat
    v2 = set_target(wh, "medical_revenue", 2026, "D01", 2000, model=model, phase=False)
    replace_phasing(wh, "medical_revenue", 2026, flat_then_front(2026, 0.5))
    assert (v1, v2) == (1, 2)
    # v1: 1000 × 1 day / 365 on 1 January
    first = to_date(wh, "medical_revenue", 2026, dt.date(2026, 1, 1), version=1, model=model)
    assert first["to_date"].iloc[0] == pytest.approx(1000 / 365)
    # v2: 2000 × (0.5 + 0.5 / 364 × 9) by 10 January
    now = to_date(wh, "medical_revenue", 2026, dt.date(2026, 1, 10), model=model)
    assert now["to_date"].iloc[0] == pytest.approx(2000 * (0.5 + 0.5 / 364 * 9))
    # reading v1 gives v1's weights, the current reading v2's
    w1 = phasing(wh, "medical_revenue", [2026], version=1)
    w2 = phasing(wh, "medical_revenue", [2026])
    assert len(w1) == len(w2) == 365
    assert w1["weight"].max() == pytest.approx(1 / 365) and w2["weight"].max() == 0.5
    # re-phasing the current version replaces its own rows only
    replace_phasing(wh, "medical_revenue", 2026, flat_then_front(2026, 0.25))
    assert phasing(wh, "medical_revenue", [2026])["weight"].max() == 0.25
    assert phasing(wh, "medical_revenue", [2026], version=1)["weight"].max() == \
        pytest.approx(1 / 365)
    assert wh.scalar(f"SELECT count(*) FROM {PHASING}") == 2 * 365


def test_a_node_not_rephased_keeps_its_earlier_phasing(wh, model):
    set_target(wh, "medical_revenue", 2026, "D01", 1000, model=model, phase=False)
    replace_phasing(wh, "medical_revenue", 2026, flat_then_front(2026, 0.5))
    set_target(wh, "medical_revenue", 2026, "D02", 500, model=model, phase=False)  # v2
    # D01 was phased at v1 only: v2 reads it, 1000 × 0.5 on 1 January
    got = to_date(wh, "medical_revenue", 2026, dt.date(2026, 1, 1), model=model) \
        .set_index("node_id")
    assert got.loc["D01", "to_date"] == pytest.approx(500)
    assert got.loc["D02", "to_date"] == pytest.approx(500 / 365)  # no phasing: by calendar days


def test_a_warehouse_without_versioned_phasing_still_reads(wh, model):
    set_target(wh, "medical_revenue", 2026, "D01", 1000, model=model, phase=False)
    wh.execute(f"DROP TABLE IF EXISTS {PHASING}")
    wh.execute(f"CREATE TABLE {PHASING} (metric_id VARCHAR, component VARCHAR, "
               "node_level VARCHAR, node_id VARCHAR, year INTEGER, day DATE, weight DOUBLE, "
               "source VARCHAR)")
    frame = flat_then_front(2026, 0.5).assign(metric_id="medical_revenue", year=2026)
    with wh.transaction() as tx:
        tx.register("old_rows", frame)
        tx.execute(f"INSERT INTO {PHASING} SELECT metric_id, component, node_level, node_id, "
                   "year, day, weight, source FROM old_rows")
    assert phasing(wh, "medical_revenue", [2026])["weight"].max() == 0.5
    # the next write adds the column; the old rows stay, as version 0
    set_target(wh, "medical_revenue", 2026, "D01", 1200, model=model, phase=False)
    replace_phasing(wh, "medical_revenue", 2026, flat_then_front(2026, 0.25))
    assert phasing(wh, "medical_revenue", [2026], version=1)["weight"].max() == 0.5
    assert phasing(wh, "medical_revenue", [2026])["weight"].max() == 0.25


def test_show_a_past_version_to_date_from_the_cli(wh, model):
    import json

    from typer.testing import CliRunner

    from cockpit.cli import _register_all, app

    set_target(wh, "medical_revenue", 2026, "D01", 1000, model=model, phase=False)
    replace_phasing(wh, "medical_revenue", 2026, flat_then_front(2026, 0.5))
    set_target(wh, "medical_revenue", 2026, "D01", 3000, model=model, phase=False)
    wh.close()  # the command opens the file itself (read-only)
    _register_all()

    def shown(*extra):
        r = CliRunner().invoke(app, ["targets", "show", "medical_revenue", "--year", "2026",
                                     "--to-date", "2026-01-01", "--format", "json",
                                     "--db", wh.location, *extra])
        assert r.exit_code == 0, r.output
        return {row["node_id"]: row for row in json.loads(r.output)}

    # v1: 1000 × 0.5 (its own phasing); v2 has no phasing of its own for D01 yet: it reads
    # v1's weights, 3000 × 0.5
    assert shown("--version", "1")["D01"]["to_date"] == pytest.approx(500)
    assert shown()["D01"]["to_date"] == pytest.approx(1500)
