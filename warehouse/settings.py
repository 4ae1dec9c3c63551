"""Every setting of the product, in one place, with a default that works on a laptop.

Each can be set from the environment (`COCKPIT_<NAME>`). The README's settings table is
generated from `SETTINGS` (`cockpit settings`), so the two cannot drift.

>>> get("tz")
'Asia/Shanghai'
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    doc: str

    @property
    def env(self) -> str:
        return "COCKPIT_" + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("db", "./cockpit.duckdb",
            "Warehouse: a DuckDB file path, `duckdb:///path`, or `starrocks://user:pass@host:9030/db`."),
    Setting("duckdb_memory", "8GB",
            "DuckDB's memory limit (its buffer pool; DuckDB's own default is 80 % of RAM, which "
            "a `large` load fills). Beyond it DuckDB spills to a temporary folder beside the "
            "file."),
    Setting("duckdb_checkpoint", "256MB",
            "Write-ahead log size at which DuckDB checkpoints inside a commit (its own default "
            "is 16MB). The server checkpoints after each load-and-refresh instead, once the new "
            "numbers are visible, so this is only the ceiling."),
    Setting("query_threads", "auto",
            "How many statements of one query run at once (its facts, each a statement); the "
            "caller's thread counts as one. auto = the machine's cores, at most 4; 1 = one "
            "after another."),
    Setting("tz", "Asia/Shanghai", "The hospital's time zone; 'today' and 'now' are the hospital's."),
    Setting("home", ".",
            "Folder holding `inbox/`, `archive/` and the server's runtime files."),
    Setting("themes", "", "Folder of the YAML semantic model; empty = the packaged `themes/`."),
    Setting("model_cache", "~/.cache/cockpit",
            "Folder caching the validated semantic model (keyed by a hash of the YAML, the code "
            "and the model settings; the newest 8 kept), so a CLI command skips parsing; "
            "empty = off."),
    Setting("holidays_file", "",
            "Optional CSV (date,kind,name) adding statutory holidays / make-up working days for "
            "years the `holidays` package does not know yet."),
    Setting("quarantine_replay_limit", "100000", "Most quarantined rows replayed in one call."),
    Setting("users", "./users.yaml",
            "Users and roles of the cockpit (YAML, hashed passwords; `cockpit users add`)."),
    Setting("secret", "", "Session signing secret; empty = a random one kept in "
            "`<home>/.cockpit-secret` (set it when several servers share sessions)."),
    Setting("secure_cookies", "0", "1 = session cookie only over HTTPS (behind a TLS proxy)."),
    Setting("trusted_header", "", "Header carrying the user name from a trusted reverse proxy "
            "(e.g. X-Remote-User); empty = off."),
    Setting("trusted_proxies", "127.0.0.1", "Comma-separated proxy addresses allowed to send "
            "the trusted header."),
    Setting("redis_url", "", "Result cache in Redis (redis://host:6379/0); empty = in-process."),
    Setting("refresh_seconds", "60", "How often the server loads the inbox and refreshes."),
    Setting("warm_paths", "/",
            "Pages the server computes after each ingest, as the whole hospital, so that the "
            "first visitor finds their numbers ready (comma-separated paths; empty = none). "
            "Live numbers are cached per minute: with refresh_seconds 60 the ingest and this "
            "warm-up run as each minute begins; a longer interval warms fewer minutes."),
    Setting("freshness", "fact_visit=2h,fact_inpatient=6h,fact_surgery=6h,"
            "fact_online_consult=6h,fact_charge=2d,fact_ward_census=2d,"
            "fact_clinic_session=2d,fact_admission_booking=2d,fact_drg_settlement=45d",
            "Per table: beyond this age of its newest row a panel is marked stale (m, h, d)."),
)
_BY_NAME = {s.name: s for s in SETTINGS}


def get(name: str) -> str:
    """The value of a setting: the environment if set, else its default."""
    s = _BY_NAME[name]
    return os.environ.get(s.env, s.default)


def query_threads() -> int:
    """`query_threads` as a number (auto: the cores, at most 4)."""
    value = get("query_threads").strip().lower()
    if value == "auto":
        return min(4, os.cpu_count() or 1)
    try:
        return max(1, int(value))
    except ValueError:
        raise ValueError(f"COCKPIT_QUERY_THREADS={value!r}: expected a whole number or auto"
                         ) from None


def hospital_tz() -> ZoneInfo:
    return ZoneInfo(get("tz"))


def hospital_now() -> datetime:
    """Now, as a naive timestamp in the hospital's local time (the contract's convention)."""
    return datetime.now(hospital_tz()).replace(tzinfo=None, microsecond=0)


def home() -> Path:
    return Path(get("home"))
