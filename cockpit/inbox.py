"""The server's inbox: files dropped into `<home>/inbox/` are loaded (one transaction each),
then moved to `<home>/archive/YYYY-MM-DD/`; files with quarantined rows are reported; an
unreadable file moves to `<home>/inbox/failed/` with a `.error` note beside it."""
from __future__ import annotations

import datetime as dt
import logging
import shutil
from pathlib import Path

from warehouse import settings as wsettings

log = logging.getLogger("cockpit.inbox")
PATTERNS = ("*.csv", "*.parquet")


def inbox_dir() -> Path:
    return wsettings.home() / "inbox"


def archive_dir() -> Path:
    return wsettings.home() / "archive"


def pending(inbox: Path | None = None) -> list[Path]:
    """Files waiting, oldest first (a file still being written ends in .part and waits)."""
    inbox = inbox or inbox_dir()
    files = [p for pat in PATTERNS for p in inbox.glob(pat)]
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))


def drain(wh, inbox: Path | None = None) -> list[dict]:
    """Load every waiting file; return one summary per file."""
    from warehouse.contract import LOAD_ORDER
    from warehouse.errors import CockpitError
    from warehouse.loader import load_file

    inbox = inbox or inbox_dir()
    inbox.mkdir(parents=True, exist_ok=True)
    order = {name: i for i, name in enumerate(LOAD_ORDER)}
    from warehouse.readers import table_for_file

    files = sorted(pending(inbox), key=lambda p: order.get(table_for_file(p) or "", 99))
    out = []
    for path in files:
        try:
            report = load_file(wh, path)
        except CockpitError as e:
            failed = inbox / "failed"
            failed.mkdir(exist_ok=True)
            shutil.move(str(path), failed / path.name)
            (failed / (path.name + ".error")).write_text(str(e), encoding="utf-8")
            log.error("inbox: %s failed: %s", path.name, e)
            out.append({"file": path.name, "status": "failed", "error": str(e)})
            continue
        day = archive_dir() / wsettings.hospital_now().date().isoformat()
        day.mkdir(parents=True, exist_ok=True)
        target = day / path.name
        if target.exists():
            target = day / f"{path.stem}.{dt.datetime.now():%H%M%S%f}{path.suffix}"
        shutil.move(str(path), target)
        summary = {"file": path.name, "status": "loaded", **report.to_dict().get("totals", {})}
        if report.quarantined:
            log.warning("inbox: %s: %d rows quarantined", path.name, report.quarantined)
        out.append(summary)
    return out


def hand_over(files: list[Path], inbox: Path | None = None) -> list[Path]:
    """`cockpit load` while the server runs: copy files into its inbox atomically
    (written as .part, then renamed, so the server never reads half a file)."""
    inbox = inbox or inbox_dir()
    inbox.mkdir(parents=True, exist_ok=True)
    out = []
    for f in files:
        tmp = inbox / (f.name + ".part")
        shutil.copyfile(f, tmp)
        target = inbox / f.name
        if target.exists():
            target = inbox / f"{f.stem}.{dt.datetime.now():%Y%m%d%H%M%S%f}{f.suffix}"
        tmp.rename(target)
        out.append(target)
    return out
