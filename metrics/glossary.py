"""GLOSSARY.md (中文 ↔ English ↔ id) generated from the model, so it cannot drift:
`python -m metrics.glossary > GLOSSARY.md`."""
from __future__ import annotations

from .registry import load_model

BUILT_IN = [("院区", "Campus / member institution", "campus"),
            ("科室", "Department", "department"), ("诊疗组", "Treatment team", "team"),
            ("医生", "Doctor", "doctor"), ("学科", "Discipline", "discipline"),
            ("主要诊断大类", "Major diagnostic category", "mdc"),
            ("核心疾病诊断相关组", "Adjacent DRG (ADRG)", "adrg"),
            ("疾病诊断相关分组", "DRG group", "drg")]


def render(model=None) -> str:
    model = model or load_model()
    lines = ["# Glossary · 术语表", "",
             "Generated from `themes/` by `python -m metrics.glossary > GLOSSARY.md`.", "",
             "## Dimensions · 维度", "", "| 中文 | English | id |", "|---|---|---|"]
    lines += [f"| {zh} | {en} | `{i}` |" for zh, en, i in BUILT_IN]
    lines += [f"| {e.zh} | {e.en} | `{e.name}` |" for e in model.enums.values()]
    for theme in model.themes.values():
        lines += ["", f"## {theme.zh} · {theme.en}", "", "| 中文 | English | id | standard |",
                  "|---|---|---|---|"]
        lines += [f"| {m.zh} | {m.en} | `{m.id}` | {m.standard} |" for m in theme.metrics]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
