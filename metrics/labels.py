"""Names for dimension ids (`--labels`): `department` D0103 → `department_name` 心血管内科."""
from __future__ import annotations

from sqlglot import exp

from .dialects import render
from .dimensions import ORG_LOOKUPS


def add_labels(wh, frame, dims):
    """Add `<dim>_name` after each organisation / DRG dimension column."""
    for d in dims:
        if d not in ORG_LOOKUPS:
            continue
        table, key, label, _ = ORG_LOOKUPS[d]
        names = wh.query_df(render(exp.select(exp.alias_(exp.column(key), "k"),
                                              exp.alias_(exp.column(label), "v")).from_(table),
                                   wh.dialect))
        mapping = dict(zip(names["k"], names["v"]))
        frame.insert(frame.columns.get_loc(d) + 1, f"{d}_name", frame[d].map(mapping))
    return frame
