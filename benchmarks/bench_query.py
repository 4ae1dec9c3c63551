"""Query-side benchmarks (issues #3 and #5): compile time, CLI start-to-answer, query latency.

    COCKPIT_HOME=/tmp/bench python benchmarks/bench_query.py --db /tmp/bench/small.duckdb \
        [--runs 50] [--skip-cli] [--out benchmarks/REPORT_query.md]

1. compile (no execution): QuerySpec -> validate -> measures -> units -> route ->
   `metrics.fetch.unit_sql` -> `metrics.dialects.render` (duckdb and starrocks), for a fixed
   sample of 30 metrics × grains × dimension sets (seeded). Target < 20 ms per query.
2. CLI: `cockpit query ... --format json` and `cockpit --help`, wall time via hyperfine when
   installed, else a loop of subprocess runs. Target < 2 s.
3. latency with caches off: `metrics.service.run(make_spec(...), wh=wh, model=model)`, warm
   p50/p95 over --runs runs (the service has no result cache; the cockpit's is not used).

The machine is shared: the 1-minute load average is recorded next to every number. Writes
the tables above the notes marker in --out; hand-written notes below the marker are kept.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MARKER = "<!-- notes: written by hand, kept when the script rewrites the tables above -->"


def load() -> float:
    return os.getloadavg()[0]


def pct(xs, p) -> float:
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


# -- 1. compile ------------------------------------------------------------------------------
def compile_specs(model, today, n_metrics=30, seed=3):
    """30 metrics (seeded sample) × grains × dimension sets they can carry."""
    from metrics.dimensions import fact_dimensions
    from metrics.plan import measures_of
    from metrics.service import make_spec

    rng = random.Random(seed)
    ids = sorted(model.metrics)
    picked = rng.sample(ids, min(n_metrics, len(ids)))
    specs = []
    for mid in picked:
        facts = [model.measures[m][0] for m in measures_of(model, mid)]
        carried = set.intersection(*(set(fact_dimensions(f)) for f in facts))
        hourly = not any(f.time_is_date for f in facts)
        grains = ["day", "week", "month", "quarter", "year", None] + (["hour"] if hourly else [])
        dimsets = [()] + [(d,) for d in ("department", "campus") if d in carried]
        extra = sorted(carried - {"department", "campus"})
        if extra:
            dimsets.append(tuple(sorted({"campus"} & carried)) + (rng.choice(extra),))
        for g in grains:
            for by in dimsets:
                start = today.replace(day=1, month=1) if g != "hour" else today
                specs.append(make_spec([mid], by=by, grain=g, start=start, end=today))
    return specs


def compile_one(model, spec, built, dialects=("duckdb", "starrocks")):
    """Everything `run` does before executing SQL, for the plain form of each metric."""
    from metrics.fetch import unit_sql
    from metrics.plan import measures_of, route, units_for, validate_spec
    from metrics.dialects import render
    from warehouse.errors import UnsupportedError

    validate_spec(model, spec)
    names = set()
    for mid in spec.metrics:
        names |= measures_of(model, mid.split(":")[0])
    out = []
    for unit in units_for(model, names):
        route(unit, spec, built)
        tree = unit_sql(model, unit, spec, spec.start, spec.end, prebuilt=True)
        for d in dialects:
            try:
                out.append(render(tree, d))
            except UnsupportedError:
                out.append(None)
    return out


def bench_compile(wh, model, today):
    from metrics.fetch import mv_state

    built = mv_state(wh)
    specs = compile_specs(model, today)
    for s in specs[:20]:  # warm imports / sqlglot caches
        compile_one(model, s, built)
    # as the server process is once it has started (cockpit.server.build): every fact's row
    # SQL built, start-up objects frozen out of the collector's walks
    from cockpit.gcpolicy import settled
    from metrics.sqlbuild import prepare

    prepare(model, "duckdb")  # the server prepares its warehouse's dialect; this bench
    prepare(model, "starrocks")  # renders both
    settled()
    cold_built = {}
    times, times_base, times_one, cpu, n_sql = [], [], [], [], 0
    l0 = load()
    for s in specs:
        t, c = time.perf_counter(), time.thread_time()
        n_sql += len(compile_one(model, s, built))
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((time.thread_time() - c) * 1000)
        t = time.perf_counter()
        compile_one(model, s, cold_built)
        times_base.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()  # what a query compiles: its warehouse's dialect only
        compile_one(model, s, cold_built, dialects=("duckdb",))
        times_one.append((time.perf_counter() - t) * 1000)
    worst = sorted(zip(times_base, specs), key=lambda x: -x[0])[:3]
    return dict(n=len(specs), n_metrics=len({s.metrics for s in specs}), n_sql=n_sql,
                p50=pct(times, 50), p95=pct(times, 95), max=max(times),
                base_p50=pct(times_base, 50), base_p95=pct(times_base, 95),
                base_max=max(times_base), load=(l0 + load()) / 2,
                one_p50=pct(times_one, 50), one_p95=pct(times_one, 95), one_max=max(times_one),
                cpu_p50=pct(cpu, 50), cpu_p95=pct(cpu, 95), cpu_max=max(cpu),
                worst=[(round(t, 1), s.metrics[0], s.grain, s.by) for t, s in worst])


# -- 2. CLI ----------------------------------------------------------------------------------
def bench_cli(db, start, end, runs=10):
    cmds = {
        "cockpit --help": ["cockpit", "--help"],
        "cockpit query (month, json)": ["cockpit", "query", "--metric", "opd_ed_visits", "--grain",
                                        "month", "--from", str(start), "--to", str(end),
                                        "--format", "json", "--db", db],
    }
    out = {}
    hf = shutil.which("hyperfine")
    for name, cmd in cmds.items():
        l0 = load()
        if hf:
            exp = Path("/tmp/bench_cli_hf.json")
            subprocess.run([hf, "-N", "--warmup", "2", "--runs", str(runs), "--export-json",
                            str(exp), "--", subprocess.list2cmdline(cmd)],
                           check=True, capture_output=True)
            res = json.loads(exp.read_text())["results"][0]
            times = res["times"]
            tool = "hyperfine"
        else:
            times = []
            for i in range(runs + 2):
                t = time.perf_counter()
                subprocess.run(cmd, check=True, capture_output=True)
                if i >= 2:
                    times.append(time.perf_counter() - t)
            tool = "subprocess loop"
        out[name] = dict(tool=tool, runs=len(times), mean=statistics.mean(times),
                         p50=pct(times, 50), min=min(times), max=max(times),
                         load=(l0 + load()) / 2)
    # where does the time go: imports alone
    l0 = load()
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import cockpit.cli, metrics.service, warehouse.engine"],
                   check=True)
    out["_imports"] = dict(seconds=time.perf_counter() - t, load=load())
    return out


# -- 3. latency ------------------------------------------------------------------------------
def bench_latency(wh, model, today, runs):
    from metrics.service import make_spec, run
    from metrics.explain import sources

    as_of = None  # hospital now
    m_start = today.replace(month=1, day=1)
    m_end = today.replace(day=1) - __import__("datetime").timedelta(days=1)  # last full month
    cases = [
        ("simple, month × department (mv)", make_spec(["opd_ed_visits"], by=["department"],
                                                      grain="month", start=m_start, end=m_end),
         True),
        ("ratio, month × department (mv)", make_spec(["appointment_rate"], by=["department"],
                                                     grain="month", start=m_start, end=m_end),
         True),
        ("ratio, month × department (mv) — ALOS", make_spec(["alos"], by=["department"],
                                                            grain="month", start=m_start,
                                                            end=m_end), True),
        ("YTD cumulative by month (to today)", make_spec(["opd_ed_visits:ytd"], grain="month",
                                                         start=m_start, end=today), True),
        ("hour grain, today", make_spec(["opd_ed_visits"], grain="hour", start=today, end=today),
         True),
        ("ratio, month × department, use_mvs=False", make_spec(["appointment_rate"],
                                                               by=["department"], grain="month",
                                                               start=m_start, end=m_end), False),
        ("ratio ALOS, month × department, use_mvs=False", make_spec(["alos"], by=["department"],
                                                                    grain="month", start=m_start,
                                                                    end=m_end), False),
    ]
    out = []
    for name, spec, mvs in cases:
        r = run(spec, wh=wh, model=model, use_mvs=mvs)  # warm-up
        r = run(spec, wh=wh, model=model, use_mvs=mvs)
        srcs = sorted({s for _, _, s in sources(r)})
        l0 = load()
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            run(spec, wh=wh, model=model, use_mvs=mvs)
            times.append((time.perf_counter() - t) * 1000)
        out.append(dict(name=name, rows=len(r.frame), sources=srcs, runs=runs,
                        p50=pct(times, 50), p95=pct(times, 95), max=max(times),
                        load=(l0 + load()) / 2))
    return out


def write_report(path: Path, header: str, body: str) -> None:
    notes = ""
    if path.exists() and MARKER in path.read_text(encoding="utf-8"):
        notes = path.read_text(encoding="utf-8").split(MARKER, 1)[1]
    path.write_text(header + body + "\n" + MARKER + notes, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--skip-cli", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "REPORT_query.md"))
    ap.add_argument("--json", default="/tmp/bench/query.json")
    a = ap.parse_args()

    import duckdb

    from metrics.registry import load_model
    from warehouse import settings as wsettings
    from warehouse.engine import open_warehouse

    wh = open_warehouse(a.db, read_only=True)
    model = load_model()
    today = wsettings.hospital_now().date()

    comp = bench_compile(wh, model, today)
    print("compile", comp, flush=True)
    lat = bench_latency(wh, model, today, a.runs)
    for r in lat:
        print("latency", r, flush=True)
    wh.close() if hasattr(wh, "close") else None
    cli = {} if a.skip_cli else bench_cli(a.db, today.replace(month=1, day=1), today)
    print("cli", cli, flush=True)
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    Path(a.json).write_text(json.dumps(dict(compile=comp, latency=lat, cli=cli), default=str,
                                       indent=1))

    L = []
    L.append(f"- machine: {platform.machine()}, {os.cpu_count()} CPU(s), Python "
             f"{platform.python_version()}, DuckDB {duckdb.__version__}; shared with other "
             "engineers' test runs (load average = 1-min loadavg, mean of start and end of "
             "each measurement)")
    L.append(f"- warehouse: `{a.db}`; hospital today = {today}")
    L.append("")
    L.append("## 1. Compile (QuerySpec → SQL text, no execution) — target < 20 ms")
    L.append("")
    L.append(f"{comp['n']} queries = {comp['n_metrics']} metrics × grains (hour…year, none) × "
             f"dimension sets; {comp['n_sql']} SQL texts (duckdb + starrocks per unit). One "
             "compile = validate_spec + measures_of + units_for + route + unit_sql + render "
             "for both dialects, in a process prepared as the server is at start "
             "(`sqlbuild.prepare`, `gcpolicy.settled`).")
    L.append("")
    L.append("| routing state | p50 ms | p95 ms | max ms | load avg | target |")
    L.append("|---|---:|---:|---:|---:|---|")
    ok = "met" if comp["max"] < 20 else "MISSED"
    L.append(f"| materializations built (mv_state) | {comp['p50']:.2f} | {comp['p95']:.2f} | "
             f"{comp['max']:.2f} | {comp['load']:.1f} | {ok} |")
    ok = "met" if comp["cpu_max"] < 20 else "MISSED"
    L.append(f"| same, CPU time of the thread (excludes waiting for a core) | {comp['cpu_p50']:.2f} | "
             f"{comp['cpu_p95']:.2f} | {comp['cpu_max']:.2f} | {comp['load']:.1f} | {ok} |")
    ok = "met" if comp["base_max"] < 20 else "MISSED"
    L.append(f"| none built (base-table SQL) | {comp['base_p50']:.2f} | {comp['base_p95']:.2f} | "
             f"{comp['base_max']:.2f} | {comp['load']:.1f} | {ok} |")
    ok = "met" if comp["one_max"] < 20 else "MISSED"
    L.append(f"| none built, DuckDB only (what a query compiles) | {comp['one_p50']:.2f} | "
             f"{comp['one_p95']:.2f} | {comp['one_max']:.2f} | {comp['load']:.1f} | {ok} |")
    L.append("")
    L.append("slowest three (base-table SQL, both dialects): " + "; ".join(f"{m} grain={g} by={list(b)} {t} ms"
                                           for t, m, g, b in comp["worst"]))
    L.append("")
    L.append("## 2. CLI start to answer — target < 2 s")
    L.append("")
    if cli:
        L.append("| command | tool | runs | mean s | p50 s | min s | max s | load avg | target |")
        L.append("|---|---|---:|---:|---:|---:|---:|---:|---|")
        for name, c in cli.items():
            if name.startswith("_"):
                continue
            ok = "met" if c["p50"] < 2 else "MISSED"
            L.append(f"| `{name}` | {c['tool']} | {c['runs']} | {c['mean']:.2f} | {c['p50']:.2f} | "
                     f"{c['min']:.2f} | {c['max']:.2f} | {c['load']:.1f} | {ok} |")
        L.append("")
        L.append(f"`python -c 'import cockpit.cli, metrics.service, warehouse.engine'` alone: "
                 f"{cli['_imports']['seconds']:.2f} s (load {cli['_imports']['load']:.1f})")
    else:
        L.append("(skipped)")
    L.append("")
    L.append(f"## 3. Query latency, caches off — `metrics.service.run`, warm, {a.runs} runs each")
    L.append("")
    L.append("Range: Jan 1 to the end of last month (month grain) unless noted; served-by from "
             "`metrics.explain.sources`.")
    L.append("")
    L.append("| query | served by | rows | p50 ms | p95 ms | max ms | load avg |")
    L.append("|---|---|---:|---:|---:|---:|---:|")
    for r in lat:
        L.append(f"| {r['name']} | {', '.join(r['sources'])} | {r['rows']} | {r['p50']:.1f} | "
                 f"{r['p95']:.1f} | {r['max']:.1f} | {r['load']:.1f} |")
    L.append("")
    header = ("# Query benchmarks: compile, CLI, latency (issues #3, #5)\n\n"
              f"`COCKPIT_HOME=/tmp/bench python benchmarks/bench_query.py --db {a.db}`\n\n")
    write_report(Path(a.out), header, "\n".join(L) + "\n")
    print("wrote", a.out)


if __name__ == "__main__":
    main()
