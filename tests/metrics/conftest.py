"""Fixtures of the metrics tests: the small test model (tests/metrics/models/good) and
warehouses loaded from hand-made deliveries."""
from __future__ import annotations

import pytest

from metrics.registry import load_model
from warehouse.engine import open_warehouse
from warehouse.loader import load_delivery

from . import hospital


@pytest.fixture(scope="session")
def model():
    return load_model(hospital.MODEL_DIR)


def loaded_warehouse(folder, facts, db=None):
    wh = open_warehouse(str(db) if db else ":memory:")
    load_delivery(wh, hospital.write_delivery(folder, facts), progress=False)
    return wh


@pytest.fixture(scope="module")
def tiny_wh(tmp_path_factory):
    wh = loaded_warehouse(tmp_path_factory.mktemp("tiny"), hospital.tiny())
    yield wh
    wh.close()
