"""Loader speed: a fact_visit CSV of N rows (default 2 M), generated with numpy, loaded into a
fresh DuckDB warehouse; then reloaded (all unchanged) and a 10 % update delivery.

    python benchmarks/bench_load.py [--rows 2000000] [--threads N] [--out benchmarks/REPORT_load.md]

Reports rows/s and rows/s per core (DuckDB threads) for each run, and writes REPORT_load.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from warehouse.contract import TABLES  # noqa: E402


def write_dims(folder: Path, n_depts: int = 60, n_doctors: int = 1200) -> None:
    """Small dimension files the visits refer to."""
    import csv

    def w(table, rows):
        cols = TABLES[table].column_names
        with open(folder / f"{table}.csv", "w", encoding="utf-8", newline="") as f:
            wr = csv.DictWriter(f, fieldnames=cols)
            wr.writeheader()
            for r in rows:
                wr.writerow({c: r.get(c, "") for c in cols})

    w("dim_campus", [dict(campus_id=f"C0{i}", campus_name=f"院区{i}", campus_type="main" if i == 1 else "branch",
                          province="四川", city="成都") for i in (1, 2, 3)])
    w("dim_department", [dict(dept_id=f"D{i:03d}", dept_name=f"科室{i}", campus_id=f"C0{1 + i % 3}",
                              discipline=f"学科{i % 20}", dept_type="clinical", is_surgical="false",
                              has_ward="true") for i in range(n_depts)])
    w("dim_doctor", [dict(doctor_id=f"DR{i:05d}", doctor_name=f"医生{i}", dept_id=f"D{i % n_depts:03d}",
                          title="attending") for i in range(n_doctors)])


def write_visits(path: Path, n: int, seed: int = 7, start_id: int = 0, n_depts: int = 60,
                 n_doctors: int = 1200, days: int = 365) -> None:
    """n fact_visit rows as CSV, vectorised: numpy arrays -> pyarrow table -> DuckDB COPY."""
    import duckdb
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    ids = np.arange(start_id, start_id + n)
    base = np.datetime64("2024-01-01T00:00:00")
    secs = np.sort(rng.integers(0, days * 86400, n))
    ts = base + secs.astype("timedelta64[s]")
    doc = rng.integers(0, n_doctors, n)
    appt = rng.random(n) < 0.6
    chans = np.array(["window", "app", "wechat", "phone", "kiosk", "clinic", "alliance"])
    tbl = pa.table({
        "visit_id": pa.array(np.char.add("V", ids.astype(str))),
        "patient_id": pa.array(np.char.add("P", rng.integers(0, n // 3 + 1, n).astype(str))),
        "visit_ts": pa.array(ts),
        "campus_id": pa.array(np.char.add("C0", ((doc % n_depts) % 3 + 1).astype(str))),
        "dept_id": pa.array(np.char.add("D", np.char.zfill((doc % n_depts).astype(str), 3))),
        "doctor_id": pa.array(np.char.add("DR", np.char.zfill(doc.astype(str), 5))),
        "visit_type": pa.array(np.where(rng.random(n) < 0.9, "outpatient", "emergency")),
        "is_first_visit": pa.array(rng.random(n) < 0.3),
        "registration_class": pa.array(np.array(["general", "specialist", "expert", "special_needs"])[
            rng.integers(0, 4, n)]),
        "is_appointment": pa.array(appt),
        "booking_channel": pa.array(np.where(appt, chans[rng.integers(0, 7, n)], None)),
        "slot_start_ts": pa.array(np.where(appt, ts + np.timedelta64(600, "s"), np.datetime64("NaT"))),
        "checkin_ts": pa.array(ts + np.timedelta64(300, "s")),
        "seen_ts": pa.array(ts + rng.integers(600, 7200, n).astype("timedelta64[s]")),
        "referred_down": pa.array(rng.random(n) < 0.02),
    })
    con = duckdb.connect()
    con.register("v", tbl)
    con.execute(f"COPY (SELECT * REPLACE (strftime(visit_ts, '%Y-%m-%d %H:%M:%S') AS visit_ts, "
                f"strftime(slot_start_ts, '%Y-%m-%d %H:%M:%S') AS slot_start_ts, "
                f"strftime(checkin_ts, '%Y-%m-%d %H:%M:%S') AS checkin_ts, "
                f"strftime(seen_ts, '%Y-%m-%d %H:%M:%S') AS seen_ts) FROM v) TO '{path}' "
                "(HEADER, DELIMITER ',')")
    con.close()


NOTES = """
## Reading these numbers

- The target in the issue is ≥ 1 M rows/s per core for CSV. It is **not met** on this box. On
  the same 2-vCPU machine, in a measurement during development, DuckDB's own `read_csv` of this file
  (`SELECT count(*) FROM read_csv(..., all_varchar=true)`) runs at about 1 M rows/s for *both*
  cores together (~150 MB/s), i.e. ~0.5 M rows/s per core before any validation or write: the
  ceiling here is the CSV parser and the CPU, not the loader's design.
- Measured earlier during development (1 M rows, machine load not recorded): parse + row checks 2.6 s, fact
  insert 3.9 s, change table 2.8 s, duplicate-key check 0.3 s, total ≈ 10 s. Writing wide rows
  with many distinct strings into a persistent DuckDB table is the largest cost (DuckDB
  analyses and compresses every string column on write: ~1 s per million distinct strings per
  column here).
- The machine is shared with other jobs while the benchmark runs (load average above), so
  absolute times vary by 2–3×.
- Where the time went before optimisation (32 s per 1 M rows): a VARCHAR staging copy, a
  7-insert long-format change log (7 rows per key), a hash over every column of every row for
  duplicate detection. Now: one read into a typed temp table (line numbers from
  `row_number() OVER ()`), duplicates checked by key first, the change log kept as typed wide
  `_changes_<table>` tables with `_change_log` a view in the long form.
"""


def run(rows: int, threads: int | None, out: Path | None) -> list[dict]:
    from warehouse.engine import open_warehouse
    from warehouse.loader import load_delivery

    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    dims, d1, d2 = work / "dims", work / "d1", work / "d2"
    for d in (dims, d1, d2):
        d.mkdir()
    t = time.perf_counter()
    write_dims(dims)
    write_visits(d1 / "fact_visit.csv", rows)
    # second delivery: 10 % of the keys again, half of them with a changed timestamp
    write_visits(d2 / "fact_visit.csv", rows // 10, seed=8, start_id=rows - rows // 10)
    gen_s = time.perf_counter() - t
    size_mb = (d1 / "fact_visit.csv").stat().st_size / 1e6

    wh = open_warehouse(str(work / "wh.duckdb"))
    cores = threads or os.cpu_count() or 1
    if threads:
        wh.execute(f"SET threads = {int(threads)}")
    load_delivery(wh, dims, progress=False)
    # phase 1 alone: read + type/enum/required checks of the CSV (validate.stage_file)
    from warehouse.validate import stage_file

    t = time.perf_counter()
    st = stage_file(wh.cursor(), d1 / "fact_visit.csv")
    parse_s = time.perf_counter() - t
    st.cleanup(wh.cursor())
    print({"run": "parse + row checks only", "seconds": round(parse_s, 2),
           "rows_per_s": int(rows / parse_s)}, flush=True)
    results = []
    for label, folder, n in (("first load (all inserts)", d1, rows),
                             ("reload (all unchanged)", d1, rows),
                             ("10 % re-delivery (updates)", d2, rows // 10)):
        t = time.perf_counter()
        rep = load_delivery(wh, folder, progress=False)
        s = time.perf_counter() - t
        tr = rep.tables["fact_visit"]
        results.append(dict(run=label, rows=n, seconds=round(s, 2), rows_per_s=int(n / s),
                            rows_per_s_per_core=int(n / s / cores), inserted=tr.inserted,
                            updated=tr.updated, unchanged=tr.unchanged, quarantined=tr.quarantined))
        print(results[-1], flush=True)
    change_rows = wh.scalar("select count(*) from _change_log")
    wh.close()
    if out:
        lines = [
            "# Loader benchmark: fact_visit CSV", "",
            f"`python benchmarks/bench_load.py --rows {rows}`"
            + (f" --threads {threads}" if threads else "") + "", "",
            f"- machine: {platform.machine()}, {os.cpu_count()} CPU(s), Python {platform.python_version()}, "
            f"DuckDB {__import__('duckdb').__version__}; DuckDB threads used: {cores}",
            f"- load average while running (shared machine): {os.getloadavg()[0]:.1f}",
            f"- file: {rows:,} rows, {size_mb:.0f} MB UTF-8 CSV (generated in {gen_s:.1f} s)",
            "- a run = read (read_csv all_varchar, once) + validate (types, enums, ranges, FKs, "
            "duplicate keys) + upsert ordered by _part_date + change tables + quarantine + load log "
            "+ per-day reconciliation, in one transaction",
            f"- change log rows after the three runs: {change_rows:,}", "",
            "| run | rows | seconds | rows/s | rows/s per core | inserted | updated | unchanged |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        lines.insert(-2, f"- parse + row-local checks alone (read_csv → typed TEMP table, no "
                         f"warehouse writes): {parse_s:.2f} s = {int(rows / parse_s):,} rows/s = "
                         f"{int(rows / parse_s / cores):,} rows/s per core\n")
        for r in results:
            lines.append(f"| {r['run']} | {r['rows']:,} | {r['seconds']} | {r['rows_per_s']:,} | "
                         f"{r['rows_per_s_per_core']:,} | {r['inserted']:,} | {r['updated']:,} | "
                         f"{r['unchanged']:,} |")
        out.write_text("\n".join(lines) + "\n" + NOTES, encoding="utf-8")
    return results


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "REPORT_load.md")
    a = ap.parse_args()
    run(a.rows, a.threads, a.out)
