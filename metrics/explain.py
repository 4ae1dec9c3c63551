"""`--explain`: the SQL of every part of a query, the materialization that served it, and
for each one that did not, why (the question Cube users ask most about pre-aggregations)."""
from __future__ import annotations

from .dialects import render


def explain_text(result, dialect: str) -> str:
    lines = []
    for label, fetched in result.fetches:
        for unit in fetched.units:
            measures = ", ".join(m.name for m in unit.measures)
            served = ("base tables" if unit.source == "base"
                      else f"materialization {unit.source}")
            lines.append(f"-- {label}: fact {unit.fact.name} [{measures}] served by {served}")
            for table, why in sorted(unit.reasons.items()):
                if table != unit.source:
                    lines.append(f"--   {table}: not used: {why}")
            if not unit.reasons:
                lines.append("--   (no materialization declared for this fact)")
            lines.append(render(unit.sql, dialect, pretty=True) + ";")
            if unit.tail_sql is not None:
                lines.append(f"-- plus {unit.reasons.get('live', 'today live')}, added bucket "
                             "by bucket:")
                lines.append(render(unit.tail_sql, dialect, pretty=True) + ";")
            lines.append("")
    return "\n".join(lines)


def sources(result) -> list[tuple[str, str, str]]:
    """(label, fact, source) of every part: tests assert what served a query."""
    return [(label, u.fact.name, u.source) for label, f in result.fetches for u in f.units]
