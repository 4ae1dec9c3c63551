"""Import and export of target records as YAML, CSV or XLSX (by the file's suffix).

One row per record: metric_id, year, component, node_level, node_id, value, lo, hi, reserve,
seasonal, locked, method, note; exports add version, author and created_at, which an import
ignores. An import writes, for every (metric, year) in the file, a new version holding exactly
the file's records (a new version never overwrites an old one), then phases them. Exporting
the result gives back the same records (round trip).

YAML layout:

    targets:
      - {metric_id: medical_revenue, year: 2026, node_id: hospital, value: 1200000000, ...}

>>> # export_targets(wh, "targets-2026.xlsx", year=2026); import_targets(wh, "targets-2026.xlsx")
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from .store import Target, TargetError, audit, current

FIELDS = ("metric_id", "year", "component", "node_level", "node_id", "value", "lo", "hi",
          "reserve", "seasonal", "locked", "method", "note")
EXTRA = ("version", "author", "created_at")
FORMATS = (".yaml", ".yml", ".csv", ".xlsx")


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise TargetError(f"{path}: unknown format {suffix or '(none)'}: use .yaml, .csv or .xlsx")
    return "yaml" if suffix in (".yaml", ".yml") else suffix[1:]


def export_frame(wh, metric_ids=None, years=None, version=None, user=None) -> pd.DataFrame:
    """The records to export: the current version (or `version`) of each metric-year,
    limited to what the user may see."""
    from metrics.targets_read import current_versions

    cur = current_versions(wh)
    if metric_ids:
        cur = cur[cur["metric_id"].isin(list(metric_ids))]
    if years:
        cur = cur[cur["year"].isin([int(y) for y in years])]
    frames = [current(wh, m, int(y), user, version)
              for m, y in cur[["metric_id", "year"]].itertuples(index=False)]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=list(FIELDS + EXTRA))
    out = pd.concat(frames, ignore_index=True)
    return out[list(FIELDS + EXTRA)].sort_values(["metric_id", "year", "component", "node_id"]) \
        .reset_index(drop=True)


def export_targets(wh, path, metric_ids=None, years=None, version=None, user=None) -> int:
    """Write the records to `path` (.yaml, .csv or .xlsx); returns the number of records.
    Audited, as every export."""
    path = Path(path)
    fmt = _format(path)
    frame = export_frame(wh, metric_ids, years, version, user)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        frame.to_csv(path, index=False, encoding="utf-8")
    elif fmt == "xlsx":
        frame.assign(created_at=frame["created_at"].astype("string")).to_excel(
            path, index=False, sheet_name="targets")
    else:
        import yaml

        rows = [{k: _plain(v) for k, v in r.items() if _plain(v) is not None}
                for r in frame.to_dict("records")]
        path.write_text(yaml.safe_dump({"targets": rows}, allow_unicode=True, sort_keys=False),
                        encoding="utf-8")
    audit(wh, "target_export", f"{path.name} {len(frame)} records", user)
    return len(frame)


def _plain(v):
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if hasattr(v, "item"):
        return v.item()
    if v is pd.NA or v is pd.NaT:
        return None
    return v


def read_file(path) -> pd.DataFrame:
    """The records of a target file as a frame with the FIELDS columns."""
    path = Path(path)
    fmt = _format(path)
    if not path.exists():
        raise TargetError(f"{path}: no such file")
    if fmt == "csv":
        frame = pd.read_csv(path, dtype={"node_id": str, "metric_id": str, "note": str},
                            keep_default_na=True)
    elif fmt == "xlsx":
        frame = pd.read_excel(path, dtype={"node_id": str, "metric_id": str, "note": str})
    else:
        import yaml

        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(doc, dict) or not isinstance(doc.get("targets"), list):
            raise TargetError(f"{path}: expected a mapping with a 'targets' list")
        frame = pd.DataFrame(doc["targets"])
    missing = [c for c in ("metric_id", "year", "node_id") if c not in frame.columns]
    if missing:
        raise TargetError(f"{path}: missing column(s) {', '.join(missing)}")
    for c in FIELDS:
        if c not in frame.columns:
            frame[c] = None
    return frame[list(FIELDS)]


def _num(v):
    return None if v is None or (isinstance(v, float) and math.isnan(v)) or v == "" else float(v)


def _bool(v) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("true", "1", "yes", "y")
    return bool(v) if v is not None and v == v else False


def _str(v, default="") -> str:
    return default if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def import_targets(wh, path, user=None, author: str | None = None, model=None,
                   phase: bool = True) -> list[tuple[str, int, int]]:
    """Import a file: one new version per (metric, year) in it. Returns
    [(metric_id, year, version)]."""
    from .store import write_version

    frame = read_file(path)
    out = []
    for (mid, year), g in frame.groupby(["metric_id", "year"], sort=True):
        recs = [Target(str(mid), str(r["node_id"]), int(year), _num(r["value"]), _num(r["lo"]),
                       _num(r["hi"]), _str(r["component"], "value"),
                       _str(r["node_level"]) or None, _num(r["reserve"]) or 0.0,
                       _bool(r["seasonal"]), _bool(r["locked"]), _str(r["method"], "import"),
                       _str(r["note"]))
                for r in g.to_dict("records")]
        v = write_version(wh, str(mid), int(year), recs, "import", user, author,
                          f"import {Path(path).name}", {"file": str(path)}, model=model,
                          replace_all=True)
        if phase:
            from .phasing import phase_records

            phase_records(wh, str(mid), int(year), [(t.component, t.node_id) for t in recs],
                          model=model)
        out.append((str(mid), int(year), v))
    return out
