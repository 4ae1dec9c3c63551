"""The materialized path equals the base-table path, for every metric of the test model,
and a materialization really served it (so the comparison is not vacuous); then a property
test over random queries."""
from __future__ import annotations

import datetime as dt
import os

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics.dimensions import fact_dimensions
from metrics.explain import sources
from metrics.materialize import refresh
from metrics.plan import measures_of
from metrics.service import make_spec, run
from warehouse.errors import QueryError

from . import hospital
from .conftest import loaded_warehouse


@pytest.fixture(scope="module")
def gen_wh(tmp_path_factory, model):
    wh = loaded_warehouse(tmp_path_factory.mktemp("gen"), hospital.generated(seed=11))
    report = refresh(wh, model)
    assert not report.failed, report.failed
    yield wh
    wh.close()


def supported_dims(model, metric_id: str) -> list[str]:
    base = model.metrics[metric_id]
    mid = base.of if base.kind in ("cumulative", "transform") else metric_id
    sets = [fact_dimensions(model.measures[n][0]) for n in measures_of(model, mid)]
    return sorted(set.intersection(*sets))


def both(wh, model, spec):
    """(materialized result, base result), or the two errors' messages."""
    try:
        base = run(spec, wh=wh, model=model, use_mvs=False)
    except QueryError as e:
        with pytest.raises(QueryError) as e2:
            run(spec, wh=wh, model=model, use_mvs=True)
        assert str(e2.value) == str(e)
        return None, None
    return run(spec, wh=wh, model=model, use_mvs=True), base


def assert_same(mv, base):
    pd.testing.assert_frame_equal(mv.frame, base.frame, check_dtype=False, rtol=1e-9)


RANGES = {"day": ("2025-01-01", "2025-03-31"), "month": ("2024-01-01", "2025-06-30")}


def _cases():
    from metrics.registry import load_model

    model = load_model(hospital.MODEL_DIR)
    for mid in sorted(model.metrics):
        for grain in ("day", "month"):
            for dim in [None] + supported_dims(model, mid):
                yield pytest.param(mid, grain, dim, id=f"{mid}-{grain}-{dim or 'all'}")


@pytest.mark.parametrize("metric,grain,dim", list(_cases()))
def test_every_metric_materialized_equals_base(gen_wh, model, metric, grain, dim):
    start, end = RANGES[grain]
    spec = make_spec([metric], by=[dim] if dim else [], grain=grain, start=start, end=end)
    mv, base = both(gen_wh, model, spec)
    assert mv is not None, "the query must be answerable"
    assert len(base.frame) > 0 and base.frame[metric].notna().any()
    assert_same(mv, base)
    served = sources(mv)
    assert served and all(src != "base" for _, _, src in served), served
    assert all(src == "base" for _, _, src in sources(base))


def test_month_materialization_is_chosen_when_smaller(gen_wh, model):
    spec = make_spec(["discharges"], by=["department"], grain="month", start="2024-01-01",
                     end="2024-12-31")
    assert [s for _, _, s in sources(run(spec, wh=gen_wh, model=model))] == [
        "mv_discharge__monthly_dept"]


def test_router_reasons_when_not_served(gen_wh, model):
    # a cut month cannot come from the monthly table; a distinct count at another grain or
    # dimension set cannot be re-aggregated
    spec = make_spec(["clinic_doctors"], grain="month", start="2025-01-05", end="2025-03-31")
    res = run(spec, wh=gen_wh, model=model)
    assert [s for _, _, s in sources(res)] == ["base"]
    reasons = res.fetches[0][1].units[0].reasons
    assert "cuts a month bucket" in reasons["mv_clinic_session__monthly_doctors_all"]
    assert "distinct count" in reasons["mv_clinic_session__daily_doctors_all"]


# -- property: random queries ---------------------------------------------------------------
DIM_VALUES = {
    "department": ["D01", "D02", "D03"], "campus": ["C01", "C02"],
    "discipline": ["心血管内科", "普通外科"], "team": ["T01", "T02"],
    "doctor": ["DR1", "DR2", "DR3", "DR4"], "visit_type": ["outpatient", "emergency"],
    "discharge_disposition": ["home", "transfer_primary", "death"],
}
TRANSFORMS = [None, None, None, "mtd", "qtd", "ytd", "yoy", "yoy_growth", "pop", "pop_diff",
              "share"]


@st.composite
def queries(draw, model):
    mid = draw(st.sampled_from(sorted(model.metrics)))
    kind = model.metrics[mid].kind
    transform = None if kind in ("cumulative", "transform") else draw(st.sampled_from(TRANSFORMS))
    token = mid + (f":{transform}" if transform else "")
    dims = supported_dims(model, mid)
    by = draw(st.lists(st.sampled_from(dims), max_size=2, unique=True))
    where = {}
    if draw(st.booleans()):
        d = draw(st.sampled_from(dims))
        where[d] = draw(st.lists(st.sampled_from(DIM_VALUES[d]), min_size=1, max_size=2,
                                 unique=True))
    grain = draw(st.sampled_from(["day", "week", "month", "quarter", "year"]))
    month_aligned = draw(st.booleans())
    if month_aligned:
        m0 = draw(st.integers(0, 16))
        m1 = draw(st.integers(m0, min(m0 + 5, 17)))
        start = dt.date(2024 + m0 // 12, m0 % 12 + 1, 1)
        nxt = dt.date(2024 + (m1 + 1) // 12, (m1 + 1) % 12 + 1, 1)
        end = nxt - dt.timedelta(days=1)
    else:
        start = dt.date(2024, 1, 1) + dt.timedelta(days=draw(st.integers(0, 540)))
        end = min(start + dt.timedelta(days=draw(st.integers(0, 120))), dt.date(2025, 6, 30))
    as_of = dt.datetime.combine(end + dt.timedelta(days=draw(st.integers(1, 400))),
                                dt.time(draw(st.integers(0, 23)), 0))
    return make_spec([token], by=by, grain=grain, start=start, end=end, where=where,
                     as_of=as_of)


@settings(max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", 25)), deadline=None,
          database=None, derandomize=not os.environ.get("HYPOTHESIS_RANDOM"),
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_random_queries_materialized_equals_base(gen_wh, model, data):
    spec = data.draw(queries(model))
    mv, base = both(gen_wh, model, spec)
    if mv is not None:
        assert_same(mv, base)
