"""The JSON Schema of the theme YAML files, committed as `docs/theme.schema.json` so editors
autocomplete (yaml-language-server); `python -m metrics.schema > docs/theme.schema.json`."""
from __future__ import annotations

import json

from .model import DimensionsFile, Theme


def json_schema() -> dict:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Hospital Operations Cockpit theme file",
            "oneOf": [Theme.model_json_schema(), DimensionsFile.model_json_schema()]}


def render() -> str:
    return json.dumps(json_schema(), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
