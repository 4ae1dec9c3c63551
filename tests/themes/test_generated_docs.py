"""Files generated from the model are committed and must not go stale."""
from pathlib import Path

from metrics import glossary, schema

ROOT = Path(__file__).resolve().parents[2]


def test_json_schema_is_current():
    committed = (ROOT / "docs" / "theme.schema.json").read_text(encoding="utf-8")
    assert committed == schema.render(), (
        "docs/theme.schema.json is stale: run `python -m metrics.schema > docs/theme.schema.json`")


def test_schema_forbids_unknown_keys():
    s = schema.json_schema()
    theme = s["oneOf"][0]
    assert theme["additionalProperties"] is False
    assert theme["$defs"]["Metric"]["additionalProperties"] is False


def test_glossary_is_current():
    committed = (ROOT / "GLOSSARY.md").read_text(encoding="utf-8")
    assert committed == glossary.render(), (
        "GLOSSARY.md is stale: run `python -m metrics.glossary > GLOSSARY.md`")


def test_glossary_lists_every_metric_and_dimension():
    text = (ROOT / "GLOSSARY.md").read_text(encoding="utf-8")
    from metrics.registry import load_model

    model = load_model()
    for mid in model.metrics:
        assert f"`{mid}`" in text
    for dim in ("campus", "department", "team", "doctor", "discipline", "mdc", "adrg", "drg"):
        assert f"`{dim}`" in text
