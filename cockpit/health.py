"""Health of the serving process: last refreshes (durations, failures), jobs, loads and the
data version. `/health` returns it as JSON; the health page shows it."""
from __future__ import annotations

from . import data


def _records(wh, sql: str) -> list[dict]:
    df = wh.query_df(sql)
    out = []
    for rec in df.to_dict("records"):
        out.append({k: (v.isoformat(sep=" ") if hasattr(v, "isoformat") else
                        (None if v != v else v)) for k, v in rec.items()})
    return out


def health_json() -> dict:
    wh = data.warehouse()
    out = {"status": "ok", "data_version": data.data_version(), "refreshes": [],
           "materializations": [], "jobs": [], "loads": []}
    if wh.table_exists("_refresh_log"):
        out["refreshes"] = _records(wh, "SELECT * FROM _refresh_log ORDER BY finished_at DESC "
                                        "LIMIT 20")
    if wh.table_exists("_mv_state"):
        out["materializations"] = _records(wh, "SELECT name, mode, status, rows, duration_ms, "
                                               "partitions_rebuilt, built_at, error FROM "
                                               "_mv_state ORDER BY name")
    if wh.table_exists("_job_log"):
        out["jobs"] = _records(wh, "SELECT * FROM _job_log ORDER BY started_at DESC LIMIT 20")
    if wh.table_exists("_loads"):
        out["loads"] = _records(wh, "SELECT * FROM _loads ORDER BY load_id DESC LIMIT 20")
    failing = [m["name"] for m in out["materializations"] if m["status"] != "ok"]
    last_jobs: dict[str, dict] = {}
    for j in out["jobs"]:
        last_jobs.setdefault(j["job"], j)
    failing += [f"job {k}" for k, j in last_jobs.items() if j["status"] != "ok"]
    if failing:
        out["status"] = "degraded"
        out["failing"] = failing
    return out
