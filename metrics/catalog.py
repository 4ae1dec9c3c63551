"""The metric catalogue for people: definition, formula, standard, lineage, per theme.
`cockpit catalog [--format md|json] [--theme …]`; the cockpit's catalogue page reads it too."""
from __future__ import annotations

from .lineage import lineage

_DIRECTION = {"up": "↑", "down": "↓", "band": "◇"}


def entries(model, theme: str | None = None) -> list[dict]:
    out = []
    for mid, m in model.metrics.items():
        th = model.metric_theme[mid]
        if theme and theme not in (th, model.themes[th].zh):
            continue
        lin = lineage(model, mid)
        out.append({"id": mid, "theme": th, "theme_zh": model.themes[th].zh, "zh": m.zh,
                    "en": m.en, "kind": m.kind, "unit": m.unit, "format": m.format,
                    "direction": m.direction, "target_direction": m.scoring_direction,
                    "band": m.band, "standard": m.standard,
                    "panel": m.panel, "description": m.description, "formula": m.formula,
                    "data": m.data, "label_scope": m.label_scope, "owner": m.owner,
                    "tables": sorted({f["table"] for f in lin["facts"]}),
                    "lineage": lin})
    return out


def render_markdown(model, theme: str | None = None) -> str:
    lines = ["# Metric catalogue · 指标目录", ""]
    current = None
    for e in entries(model, theme):
        if e["theme"] != current:
            current = e["theme"]
            lines += [f"## {e['theme_zh']} · {model.themes[current].en}", "",
                      "| id | 中文 | English | formula | unit | dir | band | standard | tables |",
                      "|---|---|---|---|---|---|---|---|---|"]
        band = f"{e['band'][0]:g}–{e['band'][1]:g}" if e["band"] else ""
        lines.append(f"| `{e['id']}` | {e['zh']} | {e['en']} | {e['formula'] or e['description']}"
                     f" | {e['unit']} | {_DIRECTION[e['direction']]} | {band} | {e['standard']}"
                     f"{' (' + e['label_scope'] + ')' if e['label_scope'] else ''}"
                     f" | {', '.join(e['tables'])} |")
    return "\n".join(lines) + "\n"
