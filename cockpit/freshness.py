"""How fresh a panel's data is: the newest row of each table it reads, the last successful
load, and whether a refresh failed. Beyond a table's limit (`COCKPIT_FRESHNESS`) the panel
is marked stale, never presented as current."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlglot import exp

from warehouse import settings as wsettings
from warehouse.contract import TABLES

from . import data

_UNITS = {"m": 60, "h": 3600, "d": 86400}


def limits() -> dict[str, dt.timedelta]:
    """Per-table freshness limits from the setting, e.g. `fact_visit=2h,fact_charge=2d`."""
    out = {}
    for part in wsettings.get("freshness").split(","):
        m = re.fullmatch(r"\s*(\w+)\s*=\s*(\d+(?:\.\d+)?)\s*([mhd])\s*", part)
        if m:
            out[m.group(1)] = dt.timedelta(seconds=float(m.group(2)) * _UNITS[m.group(3)])
    return out


@dataclass(frozen=True)
class Freshness:
    newest: dt.datetime | None   # newest row over the tables read
    last_load: dt.datetime | None
    stale: bool
    reasons: tuple[str, ...]


def newest_rows() -> dict[str, dt.datetime | None]:
    """Newest row time per fact table (the first of its partition columns), per version."""
    return _row_bounds("newest", exp.Max)


def oldest_rows() -> dict[str, dt.datetime | None]:
    """Oldest row time per fact table: where its history starts (before it, a value of a
    past period is unknown, not zero)."""
    return _row_bounds("oldest", exp.Min)


def _row_bounds(name: str, agg) -> dict[str, dt.datetime | None]:
    memo = data._state.setdefault(name, {})
    version = data.data_version()
    if version not in memo:
        from metrics.dialects import render

        wh = data.warehouse()
        out = {}
        for t in TABLES.values():
            if t.kind != "fact" or not _exists(t.name):
                continue
            col = t.partition_by[0]
            v = wh.scalar(render(exp.select(agg(this=exp.column(col))).from_(t.name),
                                 wh.dialect))
            out[t.name] = (dt.datetime.combine(v, dt.time(23, 59)) if isinstance(v, dt.date)
                           and not isinstance(v, dt.datetime) else v)
        memo.clear()
        memo[version] = out
    return memo[version]


def tables_of(metric_ids) -> set[str]:
    """The fact tables behind some metrics."""
    from metrics.plan import measures_of

    model = data.model()
    tables = set()
    for mid in metric_ids:
        for m in measures_of(model, mid.split(":")[0]):
            fact = model.measures[m][0]
            tables |= {fact.table} | {j.table for j in fact.joins}
    return {t for t in tables if t in TABLES and TABLES[t].kind == "fact"}


def _exists(table: str) -> bool:
    """Whether the warehouse has `table`; remembered once true (these tables are never
    dropped), so a page's panels do not each ask the catalogue."""
    seen = data._state.setdefault("tables_seen", set())
    if table not in seen and data.warehouse().table_exists(table):
        seen.add(table)
    return table in seen


def last_load() -> dt.datetime | None:
    if not _exists("_loads"):
        return None
    return data.warehouse().scalar("SELECT max(finished_at) FROM _loads")


def failed_facts() -> set[str]:
    if not _exists("_mv_state"):
        return set()
    return {r[0] for r in data.warehouse().query_rows(
        "SELECT fact FROM _mv_state WHERE status = 'failed'")}


def for_metrics(metric_ids, now: dt.datetime | None = None) -> Freshness:
    """Freshness of the tables behind some metrics."""
    from metrics.plan import measures_of

    model = data.model()
    facts = {model.measures[name][0].name for mid in metric_ids
             for name in measures_of(model, mid.split(":")[0])}
    tables = tables_of(metric_ids)
    now = now or data.now()
    newest_by = newest_rows()
    lim = limits()
    reasons = []
    newest = None
    for t in sorted(tables):
        ts = newest_by.get(t)
        if ts is None:
            reasons.append(f"{t}: no data")
            continue
        newest = ts if newest is None else min(newest, ts)
        if t in lim and now - ts > lim[t]:
            reasons.append(f"{t}: newest row {ts:%Y-%m-%d %H:%M} is older than {lim[t]}")
    for f in sorted(facts & failed_facts()):
        reasons.append(f"{f}: the last refresh failed")
    return Freshness(newest, last_load(), bool(reasons), tuple(reasons))
