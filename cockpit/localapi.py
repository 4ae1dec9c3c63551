"""The client side of the server's local API (DESIGN.md decision 4).

While `cockpit serve` owns the DuckDB file no other process can open it, even read-only, so
the commands that need the warehouse (`query`, `targets`, `wallboard tokens`) ask the running
server instead. The server answers only on 127.0.0.1 and only with the token from its address
file (`cockpit/runfile.py`). Importing this module costs no Flask, Dash or pandas.
"""
from __future__ import annotations

import json
from pathlib import Path


def server_for(db: str | None) -> dict | None:
    """The running local server that owns this warehouse (same file), if any."""
    from cockpit.runfile import running_server
    from warehouse.engine import parse_target

    info = running_server()
    if info is None:
        return None
    _, location = parse_target(db)
    same = Path(location).resolve() == Path(info.get("db", "")).resolve()
    return info if same else None


def call(info: dict, path: str, body: dict, error=None, timeout: float = 120) -> dict:
    """POST `body` as JSON to the server's `path`; its `{"error": …}` answer is raised as
    `error` (a CockpitError subclass, QueryError by default) with the server's message."""
    import urllib.error
    import urllib.request

    from warehouse.errors import QueryError

    error = error or QueryError
    req = urllib.request.Request(
        f"http://127.0.0.1:{info['port']}{path}",
        data=json.dumps(body, ensure_ascii=False, default=str).encode("utf-8"), method="POST",
        headers={"Content-Type": "application/json", "X-Cockpit-Token": info["token"]})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as e:
        detail = e.read().decode("utf-8", "replace")
        try:
            detail = json.loads(detail).get("error", detail)
        except ValueError:
            pass
        raise error(detail or str(e)) from None
