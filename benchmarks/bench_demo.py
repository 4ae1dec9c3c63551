"""The demo end to end per preset: generate (a Parquet delivery, as `cockpit demo` writes it),
load, refresh; seconds and peak RSS of each step, then rows and bytes of every table.

    python benchmarks/bench_demo.py [tiny small large] [--baseline DIR] [--out benchmarks/REPORT_demo.md]

Every step runs in its own Python process (so its peak RSS is its own). With `--baseline DIR`
(a checkout of the code before a change, e.g. `git archive HEAD | tar -x -C DIR`) the same
delivery is also loaded by that tree's loader, alternately with this tree's, so the before/after
ratio comes from one run on the same (shared, noisy) machine.

Bytes per table: each table is copied alone into a fresh DuckDB file (`CREATE TABLE AS`,
checkpointed) and the file's growth over an empty file is its compressed size on disk.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-11-25T10:00:00"


# -- workers (one process each) ----------------------------------------------------------------
def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_generate(scale: str, folder: str) -> dict:
    from warehouse.demo import generate_chunks, write_delivery

    t = time.perf_counter()
    write_delivery(generate_chunks(scale, seed=42, as_of=datetime.fromisoformat(AS_OF)),
                   Path(folder), fmt="parquet")
    return {"seconds": time.perf_counter() - t, "peak_mb": _peak_mb()}


def worker_load(folder: str, db: str, refresh: bool) -> dict:
    from warehouse.engine import open_warehouse
    from warehouse.loader import load_delivery

    wh = open_warehouse(db)
    t = time.perf_counter()
    rep = load_delivery(wh, Path(folder), progress=False)
    out = {"seconds": time.perf_counter() - t, "peak_mb": _peak_mb(),
           "tables": {k: v.seconds for k, v in rep.tables.items()},
           "quarantined": rep.quarantined}
    if refresh:
        from metrics.materialize import refresh as do_refresh
        from metrics.registry import load_model

        t = time.perf_counter()
        r = do_refresh(wh, load_model())
        out["refresh_seconds"] = time.perf_counter() - t
        out["refresh_failed"] = len(r.failed)
        out["peak_mb_after_refresh"] = _peak_mb()
    wh.close()
    return out


def worker_sizes(db: str) -> dict:
    """rows and compressed bytes of every table of the warehouse file `db`."""
    import duckdb

    con = duckdb.connect(db)
    names = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "ORDER BY 1").fetchall()]
    tmp = Path(tempfile.mkdtemp(prefix="bench-size-"))
    empty = tmp / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    base = empty.stat().st_size
    out = {}
    for n in names:
        rows = con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0]
        f = tmp / f"{n}.duckdb"
        con.execute(f"ATTACH '{f}' AS sz")
        con.execute(f'CREATE TABLE sz."{n}" AS SELECT * FROM "{n}"')
        con.execute("DETACH sz")
        out[n] = {"rows": rows, "bytes": max(f.stat().st_size - base, 0)}
        f.unlink()
    out["_file_bytes"] = {"rows": 0, "bytes": Path(db).stat().st_size}
    # the charge table against the volumes it follows
    if "fact_charge" in names and "fact_inpatient" in names:
        out["_charge"] = dict(zip(
            ["charges", "inpatient_charges", "outpatient_charges", "visits", "admissions",
             "stay_days", "amount_rows_per_encounter_day"],
            con.execute(
                "SELECT (SELECT count(*) FROM fact_charge), "
                "(SELECT count(*) FROM fact_charge WHERE encounter_type = 'inpatient'), "
                "(SELECT count(*) FROM fact_charge WHERE encounter_type <> 'inpatient'), "
                "(SELECT count(*) FROM fact_visit), (SELECT count(*) FROM fact_inpatient), "
                "(SELECT sum(greatest(date_diff('day', CAST(admit_ts AS DATE), "
                "CAST(coalesce(discharge_ts, TIMESTAMP '" + AS_OF.replace("T", " ") + "') AS DATE)), 1)) "
                "FROM fact_inpatient), "
                "(SELECT count(*) / count(DISTINCT (encounter_id, charge_date)) FROM fact_charge)"
            ).fetchone()))
        out["_charge_columns"] = [list(r) for r in con.execute(
            "SELECT column_name, compression, count(*) AS segments, sum(count) AS values "
            "FROM pragma_storage_info('fact_charge') WHERE segment_type <> 'VALIDITY' "
            "GROUP BY ALL ORDER BY column_name").fetchall()]
    con.close()
    shutil.rmtree(tmp, ignore_errors=True)
    return out


def _run_worker(root: Path, *args: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(root))
    p = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", *args],
                       cwd=str(root), env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"worker {args} failed:\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


# -- the benchmark ------------------------------------------------------------------------------
def run(scales: list[str], baseline: Path | None, out: Path | None, work: Path,
        keep: bool = False) -> dict:
    results = {}
    for scale in scales:
        folder = work / f"{scale}-delivery"
        shutil.rmtree(folder, ignore_errors=True)
        gen = _run_worker(ROOT, "generate", scale, str(folder))
        print(scale, "generate", gen, flush=True)
        rec = {"generate": gen, "delivery_bytes": sum(f.stat().st_size for f in folder.iterdir())}
        # with a baseline: before, after, before, after (the last one also refreshes), so
        # each tree gets a cold and a warm turn; the faster of its two loads is reported
        plan = ([("before", baseline), ("after", ROOT)] * 2) if baseline else [("after", ROOT)]
        for i, (label, tree) in enumerate(plan):
            db = work / f"{scale}-{label}.duckdb"
            for f in (db, Path(str(db) + ".wal")):
                f.unlink(missing_ok=True)
            last = i == len(plan) - 1
            r = _run_worker(tree, "load", str(folder), str(db), "refresh" if last else "")
            print(scale, label, {k: v for k, v in r.items() if k != "tables"}, flush=True)
            rec.setdefault(label + "_runs", []).append(r["seconds"])
            prev = rec.get(label)
            if prev is None or r["seconds"] < prev["seconds"]:
                rec[label] = {**r, **{k: prev[k] for k in prev if "refresh" in k}} if prev else r
            elif last:
                rec[label].update({k: v for k, v in r.items() if "refresh" in k})
        order = [("after", ROOT)] + ([("before", baseline)] if baseline else [])
        rec["sizes"] = _run_worker(ROOT, "sizes", str(work / f"{scale}-after.duckdb"))
        rec["load_avg"] = os.getloadavg()[0]
        results[scale] = rec
        if not keep:  # --keep leaves the warehouse for the query and server benchmarks
            for label, _ in order:
                (work / f"{scale}-{label}.duckdb").unlink(missing_ok=True)
        shutil.rmtree(folder, ignore_errors=True)
        if out:
            write_report(results, out, baseline is not None)
    return results


def write_report(results: dict, out: Path, with_baseline: bool) -> None:
    L = ["# Demo benchmark: generate, load, refresh per preset", "",
         f"`python benchmarks/bench_demo.py {' '.join(results)}"
         + (" --baseline <HEAD checkout>`" if with_baseline else "`"), "",
         f"- machine: {platform.machine()}, {os.cpu_count()} CPU(s), Python "
         f"{platform.python_version()}, DuckDB {__import__('duckdb').__version__}; shared with "
         "other engineers' test runs (load average per preset below), so seconds vary 2–3×",
         "- generate = `generate_chunks` streamed into a Parquet delivery (what `cockpit demo` "
         "does); load = `load_delivery` of that folder into a fresh DuckDB file; refresh = "
         "every materialization built (full); each step in its own process (peak RSS = that "
         "process's). With a baseline, each tree loads the same delivery twice, alternately "
         "(before, after, before, after); the faster load of each is in the table and both are "
         "listed after it", ""]
    L += ["| preset | load avg | generate s | load s | refresh s | total s | peak RSS generate / load / refresh MB |"
          + (" load s before (HEAD loader) | load speed-up |" if with_baseline else ""),
          "|---|---:|---:|---:|---:|---:|---|" + ("---:|---:|" if with_baseline else "")]
    for scale, r in results.items():
        a = r["after"]
        tot = r["generate"]["seconds"] + a["seconds"] + a.get("refresh_seconds", 0)
        row = (f"| {scale} | {r['load_avg']:.1f} | {r['generate']['seconds']:.1f} | {a['seconds']:.1f} | "
               f"{a.get('refresh_seconds', 0):.1f} | {tot:.1f} | {r['generate']['peak_mb']:.0f} / "
               f"{a['peak_mb']:.0f} / {a.get('peak_mb_after_refresh', 0):.0f} |")
        if with_baseline and "before" in r:
            b = r["before"]
            row += f" {b['seconds']:.1f} | {b['seconds'] / a['seconds']:.2f}× |"
        row += "  " + " ".join(f"{k[:-5]} runs: {', '.join(f'{x:.1f}' for x in r[k])};"
                                for k in ("after_runs", "before_runs") if k in r)
        L.append(row)
    for scale, r in results.items():
        s = r["sizes"]
        L += ["", f"## {scale}: tables", "",
              f"Delivery (Parquet) {r['delivery_bytes'] / 1e6:.1f} MB; warehouse file "
              f"{s['_file_bytes']['bytes'] / 1e6:.1f} MB after load + refresh.", "",
              "| table | rows | MB | bytes/row | load s" + (" | load s before |" if "before" in r else " |"),
              "|---|---:|---:|---:|---:|" + ("---:|" if "before" in r else "")]
        tabs = sorted(((k, v) for k, v in s.items() if not k.startswith("_") or
                       k.startswith(("_changes", "_quarantine", "_mv", "_load"))),
                      key=lambda kv: -kv[1]["bytes"])
        for k, v in tabs:
            if not isinstance(v, dict) or "rows" not in v:
                continue
            tiny = v["bytes"] <= 2 * 262144  # the smallest growth a file shows: two blocks
            bpr = f"{v['bytes'] / v['rows']:.1f}" if v["rows"] and not tiny else ""
            ls = r["after"]["tables"].get(k)
            lb = r.get("before", {}).get("tables", {}).get(k)
            mb = "≤ 0.52" if tiny else f"{v['bytes'] / 1e6:.2f}"
            line = (f"| {k} | {v['rows']:,} | {mb} | {bpr} | "
                    f"{'' if ls is None else f'{ls:.1f}'} |")
            if "before" in r:
                line += f" {'' if lb is None else f'{lb:.1f}'} |"
            L.append(line)
        c = s.get("_charge")
        if c:
            fc = s["fact_charge"]
            L += ["", f"fact_charge: {c['charges']:,} rows = {c['charges'] / max(c['visits'], 1):.2f} "
                  f"per visit overall; inpatient {c['inpatient_charges']:,} rows over {c['admissions']:,} "
                  f"admissions and {c['stay_days']:,} stay-days = "
                  f"{c['inpatient_charges'] / max(c['stay_days'], 1):.2f} rows per stay-day; "
                  f"outpatient/emergency {c['outpatient_charges']:,} rows = "
                  f"{c['outpatient_charges'] / max(c['visits'], 1):.2f} per visit; "
                  f"{fc['bytes'] / max(fc['rows'], 1):.1f} bytes per row on disk.", "",
                  "Storage of fact_charge per column (compression, segments, values): " +
                  "; ".join(f"{n} {comp} ({seg})" for n, comp, seg, _ in s["_charge_columns"]) + "."]
    notes = NOTES
    if out.exists() and MARK in out.read_text(encoding="utf-8"):  # keep hand-written notes
        notes = out.read_text(encoding="utf-8").split(MARK, 1)[1]
    out.write_text("\n".join(L) + "\n\n" + MARK + notes, encoding="utf-8")


MARK = "<!-- notes: written by hand, kept when the script rewrites the tables above -->"
NOTES = "\n"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        kind, *a = sys.argv[2:]
        if kind == "generate":
            r = worker_generate(*a)
        elif kind == "load":
            r = worker_load(a[0], a[1], len(a) > 2 and a[2] == "refresh")
        else:
            r = worker_sizes(a[0])
        print(json.dumps(r, default=str))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scales", nargs="*", default=["tiny", "small"])
    ap.add_argument("--baseline", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "REPORT_demo.md")
    ap.add_argument("--work", type=Path, default=None, help="scratch folder")
    ap.add_argument("--keep", action="store_true",
                    help="keep <work>/<preset>-after.duckdb for bench_query/bench_server")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-demo-"))
    work.mkdir(parents=True, exist_ok=True)
    run(args.scales, args.baseline, args.out, work, keep=args.keep)


if __name__ == "__main__":
    main()
