"""Incremental refresh after one more day of data (issue #5).

    COCKPIT_HOME=/tmp/bench python benchmarks/bench_refresh.py --db /tmp/bench/small.duckdb \
        [--work /tmp/bench/refresh.duckdb] [--hours 24] [--days 2] [--no-full] [--json FILE] \
        [--keep-before FILE] [--profile FILE]

Copies --db to --work (the source is never written), brings the copy's materializations up
to date, then produces one more day with the demo feed: `warehouse.demo.feed.tick(wh, inbox,
now=…)` in 6-hour steps (the feed catches up at most 6 h per tick), each step's files loaded
with `warehouse.loader.load_delivery` before the next tick. Then times one
`metrics.materialize.refresh` and reports seconds and partitions (months) rebuilt per
materialization. Checkpoints happen where the server's ingest job does them (after draining
the inbox, and after the refresh once its numbers are visible; `duckdb_checkpoint` keeps
commits from checkpointing) and are timed on their own; for the ratio, a full rebuild
(`refresh(full=True)`) in the same run.
Numbers and the 1-min load average are printed and written as JSON; REPORT_query.md quotes them.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def load() -> float:
    return os.getloadavg()[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--work", default="/tmp/bench/refresh.duckdb")
    ap.add_argument("--hours", type=int, default=24)
    ap.add_argument("--days", type=int, default=2,
                    help="days fed and refreshed one after the other (the first refresh "
                         "renders its SQL, later ones reuse it as the server does)")
    ap.add_argument("--no-full", action="store_true")
    ap.add_argument("--json", default="/tmp/bench/refresh.json")
    ap.add_argument("--profile", default=None,
                    help="write a pyinstrument profile of the incremental refresh here")
    ap.add_argument("--keep-before", default=None,
                    help="also copy the warehouse, day loaded but not refreshed, to this path "
                         "(to profile the refresh again and again)")
    a = ap.parse_args()

    from metrics.materialize import refresh
    from metrics.registry import load_model
    from warehouse.engine import open_warehouse

    work = Path(a.work)
    for p in (work, Path(str(work) + ".wal")):
        p.unlink(missing_ok=True)
    shutil.copyfile(a.db, work)
    wh = open_warehouse(str(work))
    model = load_model()
    t = time.perf_counter()
    pre = refresh(wh, model)
    print(f"catch-up refresh before the day: {time.perf_counter() - t:.1f}s, "
          f"{sum(r.mode != 'unchanged' for r in pre.results)} rebuilt", flush=True)

    days = []
    for k in range(a.days):
        days.append(one_day(wh, model, a, k))
    full_s = l_full = None
    if not a.no_full:
        l0 = load()
        t = time.perf_counter()
        refresh(wh, model, full=True)
        full_s = time.perf_counter() - t
        l_full = (l0 + load()) / 2
        print(f"full refresh: {full_s:.2f}s (load {l_full:.1f})", flush=True)

    out = dict(**days[0], full_seconds=full_s, load_avg_full=l_full,
               later_days=days[1:])
    Path(a.json).write_text(json.dumps(out, indent=1, default=str))
    print("wrote", a.json)


def one_day(wh, model, a, k: int) -> dict:
    """Feed, load (and checkpoint) one more day, then time one refresh and the checkpoint
    after it. The first day's refresh is the process's first: its SQL is rendered then
    (cold); later days reuse it, as the server does every minute (warm)."""
    from metrics.materialize import refresh
    from warehouse.demo.feed import CATCH_UP_HOURS, last_event_ts, tick
    from warehouse.loader import load_delivery

    last = last_event_ts(wh)
    inbox_root = Path(a.work).parent / "refresh_inbox" / f"day{k + 1}"
    shutil.rmtree(inbox_root, ignore_errors=True)
    loads, rows_loaded, changed, t_feed, t_load = [], 0, 0, 0.0, 0.0
    step = min(CATCH_UP_HOURS, 6)
    l0 = load()
    for i in range(1, a.hours // step + 1):
        now = last + timedelta(hours=step * i)
        folder = inbox_root / f"tick{i:02d}"
        t = time.perf_counter()
        note = tick(wh, folder, now=now)
        t_feed += time.perf_counter() - t
        if not folder.exists() or not any(folder.iterdir()):
            print("tick", i, note, "(no files)")
            continue
        t = time.perf_counter()
        rep = load_delivery(wh, folder, progress=False)
        t_load += time.perf_counter() - t
        rows_loaded += rep.read
        changed += rep.changed
        loads.append(note)
        print(f"day {k + 1} tick {i}: {note[:150]}", flush=True)
    t = time.perf_counter()
    wh.checkpoint()  # as the server's ingest job does after draining the inbox
    load_ckpt_s = time.perf_counter() - t
    print(f"checkpoint after the loads: {load_ckpt_s:.2f}s", flush=True)
    l_load = (l0 + load()) / 2
    if a.keep_before and k == 0:
        shutil.copyfile(a.work, a.keep_before)

    l0 = load()
    if a.profile and k == 0:
        from pyinstrument import Profiler

        profiler = Profiler()
        profiler.start()
    t = time.perf_counter()
    rep = refresh(wh, model)
    inc_s = time.perf_counter() - t
    if a.profile and k == 0:
        profiler.stop()
        Path(a.profile).write_text(profiler.output_text(unicode=True), encoding="utf-8")
    l_inc = (l0 + load()) / 2
    per = [dict(name=r.name, mode=r.mode, partitions=r.partitions, rows=r.rows,
                seconds=round(r.seconds, 3), error=r.error) for r in rep.results]
    parts = sum(max(r.partitions, 0) for r in rep.results)
    print(f"day {k + 1} incremental refresh ({'cold' if k == 0 else 'warm'}): {inc_s:.2f}s, "
          f"partitions {parts}, modes "
          f"{ {m: sum(r['mode'] == m for r in per) for m in {r['mode'] for r in per}} } "
          f"(load {l_inc:.1f})", flush=True)
    t = time.perf_counter()
    wh.checkpoint()  # as the server's ingest job does once the refresh is visible
    ckpt_s = time.perf_counter() - t
    print(f"checkpoint after it: {ckpt_s:.2f}s", flush=True)
    return dict(day_from=str(last), day_to=str(last + timedelta(hours=a.hours)),
                ticks=len(loads), feed_seconds=t_feed, load_seconds=t_load,
                load_checkpoint_seconds=load_ckpt_s, rows_loaded=rows_loaded,
                rows_changed=changed, load_avg_load=l_load, incremental_seconds=inc_s,
                sql_rendered="cold" if k == 0 else "warm", checkpoint_seconds=ckpt_s,
                partitions=parts, load_avg_incremental=l_inc, per_mv=per, tick_notes=loads)


if __name__ == "__main__":
    main()
