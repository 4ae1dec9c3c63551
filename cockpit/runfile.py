"""The running server's address file (`<home>/.cockpit-server.json`), readable without
importing Flask or Dash: `cockpit query` and `cockpit load` check it on every start."""
from __future__ import annotations

import json
import os
from pathlib import Path

from warehouse import settings as wsettings


def server_file() -> Path:
    return wsettings.home() / ".cockpit-server.json"


def running_server() -> dict | None:
    """The local server's address and token if one runs for this home, else None."""
    f = server_file()
    if not f.exists():
        return None
    try:
        info = json.loads(f.read_text(encoding="utf-8"))
        os.kill(int(info["pid"]), 0)
        return info
    except (OSError, ValueError, KeyError):
        return None
