"""The cockpit's one door to numbers: `metrics.query` with the signed-in user's department
scope and a result cache keyed by the normalised query and the data version.

Pages and callbacks call `q(...)`; they never open the warehouse or apply scopes themselves.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time

import pandas as pd

from warehouse import settings as wsettings

log = logging.getLogger("cockpit.data")
_state: dict = {}
_version_lock = threading.Lock()


def configure(wh, model, cache=None) -> None:
    """Called once by the server: the warehouse handle, the model, and a flask-caching Cache."""
    _state.update(wh=wh, model=model, cache=cache, version=None, version_at=0.0,
                  tables_seen=set())


def warehouse():
    return _state["wh"]


def model():
    if "model" not in _state:
        from metrics.registry import load_model

        _state["model"] = load_model()
    return _state["model"]


def data_version() -> str:
    """Changes only when data changed: the last load and the last refresh that built
    something. Re-read at most once a second."""
    with _version_lock:
        if time.monotonic() - _state.get("version_at", 0.0) > 1.0 or not _state.get("version"):
            from metrics.materialize import data_version as refresh_version

            wh = warehouse()
            changed = (wh.scalar("SELECT coalesce(max(load_id), 0) FROM _loads WHERE "
                                 "rows_changed > 0") if wh.table_exists("_loads") else 0)
            targets = (wh.scalar("SELECT count(*) FROM _target_versions")
                       if wh.table_exists("_target_versions") else 0)
            _state["version"] = f"{_identity()}/{changed}/{refresh_version(wh)}/t{targets}"
            _state["version_at"] = time.monotonic()
        return _state["version"]


def _identity() -> str:
    """Which warehouse (two cockpits may share one Redis)."""
    import hashlib

    loc = str(getattr(warehouse(), "location", ""))
    return hashlib.sha256(loc.encode()).hexdigest()[:8]


def invalidate_version() -> None:
    with _version_lock:
        _state["version_at"] = 0.0


def now() -> dt.datetime:
    """The hospital's now, to the minute (so live queries share cache entries)."""
    return wsettings.hospital_now().replace(second=0)


def q(metrics, by=(), grain=None, start=None, end=None, where=None, as_of=None,
      scope="user") -> pd.DataFrame:
    """A semantic query for the current user. `scope="user"` applies the signed-in user's
    departments (the default; a page cannot widen it), `None` only for server jobs."""
    from metrics.service import make_spec, run

    from .auth import current_scope

    if scope == "user":
        scope = current_scope()
    if as_of is None:
        as_of = now()
        if end is not None and str(end)[:10] < as_of.date().isoformat():
            # a range that ended before today: "now" changes nothing in it, so the cache key
            # (and the materialization routing) must not change every minute
            last = dt.date.fromisoformat(str(end)[:10])
            as_of = dt.datetime.combine(last + dt.timedelta(days=1), dt.time())
    spec = make_spec(metrics, by, grain, start, end, where, as_of, scope)
    return cached("q", spec, lambda: run(spec, wh=warehouse(), model=model()).frame)


def cached(kind: str, key, compute) -> pd.DataFrame:
    """`compute()`'s frame through the result cache, keyed by `kind`, `repr(key)` and the data
    version (a caller's key must hold everything the frame depends on besides the data: the
    query, the as-of minute, the user's scope). A copy is returned; a cache outage computes."""
    cache = _state.get("cache")
    full = f"{kind}:{data_version()}:{key!r}"
    if cache is not None:
        try:
            hit = cache.get(full)
        except Exception as e:  # noqa: BLE001 - a cache outage must not stop the cockpit
            log.warning("result cache unavailable (%s); computing from the warehouse", e)
            hit = None
        if hit is not None:
            return hit.copy()
    frame = compute()
    if cache is not None:
        try:
            cache.set(full, frame)
        except Exception as e:  # noqa: BLE001
            log.warning("result cache unavailable (%s)", e)
    return frame


def labels(dim: str) -> dict[str, str]:
    """id → name for an organisation / DRG dimension (cached per data version)."""
    from sqlglot import exp

    from metrics.dialects import render
    from metrics.dimensions import ORG_LOOKUPS

    cache_key = ("labels", dim, data_version())
    memo = _state.setdefault("labels", {})
    if cache_key not in memo:
        if dim in ORG_LOOKUPS:
            table, key, label, _ = ORG_LOOKUPS[dim]
            df = warehouse().query_df(render(exp.select(exp.alias_(exp.column(key), "k"),
                                                        exp.alias_(exp.column(label), "v"))
                                             .from_(table), warehouse().dialect))
            memo[cache_key] = dict(zip(df["k"], df["v"]))
        elif dim in model().enums:
            memo[cache_key] = dict(model().enums[dim].values)
        else:
            memo[cache_key] = {}
    return memo[cache_key]


def campus_types() -> dict[str, str]:
    """campus id → campus_type (main / branch / alliance), per data version."""
    from sqlglot import exp

    from metrics.dialects import render

    memo = _state.setdefault("campus_types", {})
    key = data_version()
    if key not in memo:
        wh = warehouse()
        sql = render(exp.select("campus_id", "campus_type").from_("dim_campus"), wh.dialect)
        memo.clear()
        memo[key] = {r[0]: r[1] for r in wh.query_rows(sql)}
    return memo[key]


def department_campus() -> dict[str, str]:
    """department id → its campus id, per data version."""
    from sqlglot import exp

    from metrics.dialects import render

    memo = _state.setdefault("department_campus", {})
    key = data_version()
    if key not in memo:
        wh = warehouse()
        sql = render(exp.select("dept_id", "campus_id").from_("dim_department"), wh.dialect)
        memo.clear()
        memo[key] = {r[0]: r[1] for r in wh.query_rows(sql)}
    return memo[key]


def campus_tags() -> dict[str, str | None]:
    """department id → its campus id where another campus has a department of the same name
    (alliance members run the same specialties), else None: what a department's label must
    add to tell it apart."""
    names, campus = labels("department"), department_campus()
    seen: dict[str, int] = {}
    for name in names.values():
        seen[name] = seen.get(name, 0) + 1
    return {d: campus.get(d) if seen[n] > 1 else None for d, n in names.items()}


def campus_where(view) -> dict:
    """The hospital view's campus filter, the same on every page: the chosen campus, else
    the main and branch campuses (the catalogue's pinned default; alliance members apart)."""
    if view.campus:
        return {"campus": [view.campus]}
    types = campus_types()
    return {"campus": sorted(c for c, k in types.items() if k in ("main", "branch"))
            or sorted(types)}
