"""Every core metric of the catalogue is defined, and at day and month grain, by every
organisation level its facts carry (and DRG group levels for DRG indicators), it is answered
from a materialization, as `--explain` shows."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from metrics.dimensions import fact_dimensions
from metrics.explain import sources
from metrics.materialize import refresh
from metrics.plan import measures_of
from metrics.registry import load_model
from metrics.service import make_spec, run
from warehouse.engine import open_warehouse
from warehouse.loader import load_delivery

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT.parent / "shared" / "reference" / "metric_catalog.md"
FIXTURE = ROOT / "tests" / "fixtures" / "tiny_hospital"
ORG = ("campus", "department", "discipline", "team", "doctor")
NOT_YET: set[str] = set()  # every core metric is defined (revenue_target_attainment: #6)


def core_ids() -> list[str]:
    """The ids of the catalogue's 'Suggested core set' table."""
    text = CATALOGUE.read_text(encoding="utf-8")
    block = text.split("**Suggested core set", 1)[1].split("\n---\n", 1)[0]
    return sorted(set(re.findall(r"`([a-z0-9_]+)`", block)))


CORE = core_ids()


def test_catalogue_core_set_is_read():
    assert len(CORE) == 77 and "cmi" in CORE and "alos" in CORE


def test_every_core_metric_is_defined():
    model = load_model()
    missing = [i for i in CORE if i not in model.metrics and i not in NOT_YET]
    assert not missing, f"core metrics not defined in themes/: {missing}"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    wh = open_warehouse(str(tmp_path_factory.mktemp("cov") / "cov.duckdb"))
    load_delivery(wh, FIXTURE, progress=False)
    model = load_model()
    refresh(wh, model)
    return wh, model


def _levels(model, metric_id: str) -> list[str]:
    dims = None
    for name in measures_of(model, metric_id):
        carried = fact_dimensions(model.measures[name][0])
        dims = carried if dims is None else dims & carried
    wanted = ORG + (("mdc", "adrg", "drg") if model.metric_theme[metric_id] == "drg" else ())
    return [d for d in wanted if d in (dims or set())]


@pytest.mark.parametrize("metric_id", [i for i in CORE if i not in NOT_YET])
def test_core_metric_served_by_materializations(warehouse, metric_id):
    wh, model = warehouse
    levels = _levels(model, metric_id)
    assert "department" in levels or metric_id == "or_utilization"
    for grain in ("day", "month"):
        for by in [[]] + [[d] for d in levels]:
            spec = make_spec([metric_id], by, grain, "2026-03-01", "2026-03-31",
                             as_of="2026-11-25 10:00")
            result = run(spec, wh=wh, model=model)
            served = sources(result)
            assert served, f"{metric_id}: nothing was computed"
            base = [s for s in served if s[2] == "base"]
            assert not base, (f"{metric_id} {grain} by {by}: served from base tables:\n"
                              + result.explain("duckdb")[:3000])
