"""The validated model is cached on disk by a hash of what it depends on: a second process
skips parsing, an edited YAML file or a changed COCKPIT_* setting is parsed again, and a
model with errors is never cached."""
from __future__ import annotations

import shutil

import pytest

from metrics import registry
from warehouse.errors import ModelError


@pytest.fixture()
def themes(tmp_path, monkeypatch):
    folder = tmp_path / "themes"
    shutil.copytree(registry.PACKAGED_THEMES, folder)
    monkeypatch.setenv("COCKPIT_MODEL_CACHE", str(tmp_path / "cache"))
    registry._cached.cache_clear()
    yield folder
    registry._cached.cache_clear()


def fresh(folder):
    """load_model as a new process would do it (no in-memory cache)."""
    registry._cached.cache_clear()
    return registry.load_model(folder)


def test_a_second_load_comes_from_the_disk(themes, tmp_path, monkeypatch):
    first = fresh(themes)
    assert len(list((tmp_path / "cache").glob("model-*.pickle"))) == 1
    calls = []
    monkeypatch.setattr(registry, "check_model", lambda *a: calls.append(a) or 1 / 0)
    second = fresh(themes)
    assert calls == [] and second is not first
    assert sorted(second.metrics) == sorted(first.metrics)
    assert second.metrics["cmi"] == first.metrics["cmi"]


def test_an_edit_or_a_setting_is_parsed_again(themes, tmp_path, monkeypatch):
    fresh(themes)
    f = themes / "records.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace(
        "id: discharges\n    zh: 出院人次\n", "id: discharges\n    zh: 出院人次（改）\n", 1),
                 encoding="utf-8")
    assert fresh(themes).metrics["discharges"].zh == "出院人次（改）"
    monkeypatch.setenv("COCKPIT_READMIT_WINDOW_DAYS", "15")
    assert fresh(themes).settings["readmit_window_days"] == 15
    assert len(list((tmp_path / "cache").glob("model-*.pickle"))) == 3


def test_a_broken_model_is_reported_and_not_cached(themes, tmp_path):
    f = themes / "records.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("kind: simple", "kind: simpel", 1),
                 encoding="utf-8")
    with pytest.raises(ModelError) as e:
        fresh(themes)
    assert "records.yaml:" in str(e.value)
    assert not list((tmp_path / "cache").glob("model-*.pickle"))


def test_off_when_empty(themes, tmp_path, monkeypatch):
    monkeypatch.setenv("COCKPIT_MODEL_CACHE", "")
    fresh(themes)
    assert not (tmp_path / "cache").exists()
