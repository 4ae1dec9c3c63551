"""Time the demo generator and the delivery writer per scale preset.

    python benchmarks/bench_generate.py                 # tiny and small
    python benchmarks/bench_generate.py large --csv     # stream a preset, write CSV too

For each preset: generation time (tiny/small in memory via `generate`, the others streamed
through `generate_chunks` straight into `write_delivery`), write time, rows per table, the
headline figures a reviewer checks against the catalogue (discharges, visits, ALOS, CMI,
occupancy, surgical share) and the peak resident memory of the process.
"""
from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path

import pandas as pd

from warehouse.demo import generate, generate_chunks, write_delivery

AS_OF = datetime(2026, 11, 25, 10, 0)


def headline(t: dict[str, pd.DataFrame]) -> dict[str, float]:
    """Catalogue figures (§14.1) recomputed from the generated tables."""
    ip, c, st = t["fact_inpatient"], t["fact_ward_census"], t["fact_drg_settlement"]
    d = ip[ip.discharge_ts.notna()]
    los = (d.discharge_ts.dt.normalize() - d.admit_ts.dt.normalize()).dt.days.clip(lower=1)
    su = t["fact_surgery"]
    done = su[(su.surgery_status == "done") & su.admission_id.notna()]
    v = t["fact_visit"]
    return {
        "discharges": len(d), "visits": len(v),
        "visits_per_discharge": round(len(v) / max(len(d), 1), 1),
        "alos": round(los.mean(), 2),
        "cmi": round(st.merge(t["dim_drg"], on="drg_code").weight.mean(), 3),
        "occupancy": round((c.occupied_beds + c.same_day_stays).sum() / c.open_beds.sum(), 3),
        "open_beds_last_day": int(c[c.census_date == c.census_date.max()].open_beds.sum()),
        "surgical_share": round(len(done) / max(len(d), 1), 3),
        "charge_rows": len(t["fact_charge"]),
    }


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(scale: str, fmt: str, out_root: Path, in_memory: bool) -> None:
    out = out_root / f"{scale}-{fmt}"
    t0 = time.perf_counter()
    if in_memory:
        tables = generate(scale, seed=42, as_of=AS_OF)
        t1 = time.perf_counter()
        write_delivery(tables, out, fmt=fmt)
        t2 = time.perf_counter()
        print(f"{scale:>10} {fmt:>7}  generate {t1 - t0:6.1f}s  write {t2 - t1:6.1f}s  "
              f"total {t2 - t0:6.1f}s  peak {peak_rss_mb():6.0f} MB")
        print(" " * 12, {k: len(v) for k, v in tables.items() if k.startswith("fact_")})
        print(" " * 12, headline(tables))
    else:
        write_delivery(generate_chunks(scale, seed=42, as_of=AS_OF), out, fmt=fmt)
        t2 = time.perf_counter()
        m = pd.read_csv(out / "_manifest.csv")
        rows = m.groupby("table")["rows"].sum().to_dict()
        print(f"{scale:>10} {fmt:>7}  generate+write (streamed) {t2 - t0:7.1f}s  "
              f"peak {peak_rss_mb():6.0f} MB")
        print(" " * 12, {k: v for k, v in rows.items() if k.startswith("fact_")})
    shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scales", nargs="*", default=["tiny", "small"])
    ap.add_argument("--csv", action="store_true", help="also write CSV (parquet always)")
    ap.add_argument("--out", default=None, help="scratch folder (default: a temp dir)")
    args = ap.parse_args()
    root = Path(args.out or tempfile.mkdtemp(prefix="bench-demo-"))
    for scale in args.scales:
        for fmt in ["parquet"] + (["csv"] if args.csv else []):
            run(scale, fmt, root, in_memory=scale in ("tiny", "small"))


if __name__ == "__main__":
    main()
