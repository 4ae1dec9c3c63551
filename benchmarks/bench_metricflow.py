"""One query, our semantic layer vs dbt MetricFlow, same DuckDB file, measured in one run
(issue #3): monthly `opd_ed_visits` by department plus its YTD cumulative, Jan 1 to the end
of last month.

MetricFlow lives in its own venv (it needs `dbt-core<1.12`; it is not a product dependency):

    python -m venv /tmp/mf/venv
    /tmp/mf/venv/bin/pip install "dbt-core<1.12" dbt-duckdb "dbt-metricflow[duckdb]"
    cp /tmp/bench/small.duckdb /tmp/mf/small.duckdb      # a copy: nothing here writes to it
    python benchmarks/bench_metricflow.py --db /tmp/mf/small.duckdb \
        --mf-python /tmp/mf/venv/bin/python [--rounds 10] [--calls 5] [--work /tmp/mf/work]

The venv's duckdb must read the project's file format: check `duckdb.__version__` in both
(the report records them). What the script does:

1. Writes a dbt project under --work: profiles.yml (dbt-duckdb, an in-memory database with
   --db ATTACHed READ_ONLY as `wh`), models that name the warehouse's own `fact_visit` and
   `dim_calendar` tables (never built: a `dbt run` would fail on the read-only attach), the
   semantic model and the two metrics; `dim_calendar` is the time spine. `dbt parse` (timed,
   one-off) writes target/semantic_manifest.json.
2. Alternates, --rounds times (the order flips every round; round 0 is a warm-up, not kept):
   in-process, --calls times each: `metrics.service.query(...)` (materializations allowed, as
   the product runs; and base tables only, which is what MetricFlow reads), MetricFlow's
   `MetricFlowEngine.query` and `.explain` in a worker process of the venv; end to end, once
   each: `cockpit query ... --format json`, `mf query ... --csv`, and the imports alone.
3. Checks that every output (ours in-process, base tables and CLI; MetricFlow's engine and
   CLI) has the same count and YTD in every (month, department) cell as ours, and lists any
   difference.
4. Writes --out (tables above the notes marker; notes below it are kept) and --json.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_query import pct, write_report  # noqa: E402  (same folder)

METRICS = ["opd_ed_visits", "opd_ed_visits:ytd"]
MF_NAME = {"opd_ed_visits": "opd_ed_visits", "opd_ed_visits:ytd": "opd_ed_visits_ytd"}
MF_GROUP_BY = ["metric_time__month", "department"]

DBT_PROJECT = """\
name: mf_bench
version: "1.0"
config-version: 2
profile: mf_bench
model-paths: ["models"]
flags:
  send_anonymous_usage_stats: false
"""

PROFILES = """\
mf_bench:
  target: bench
  outputs:
    bench:
      type: duckdb
      path: ":memory:"
      threads: 1
      attach:
        - path: "{db}"
          alias: wh
          read_only: true
"""

# A model per warehouse table: its relation is wh.main.<table>, the table itself.
TABLE_MODEL = """\
-- the warehouse's own table; never built (the warehouse is attached read-only)
{{{{ config(database='wh', alias='{table}') }}}}
select * from wh.main.{table}
"""

# themes/visits.yaml: fact `visit` = fact_visit, time visit_ts (bucketed by its date),
# department = f.dept_id (the row's own department, no join), opd_ed_visit_count = count(*)
# with no filter; `opd_ed_visits:ytd` = the monthly counts summed from Jan 1 of each year.
SEMANTIC = """\
models:
  - name: dim_calendar
    time_spine:
      standard_granularity_column: date
    columns:
      - name: date
        granularity: day

semantic_models:
  - name: visit
    model: ref('fact_visit')
    defaults:
      agg_time_dimension: visit_day
    entities:
      - name: visit
        type: primary
        expr: visit_id
      - name: department
        type: foreign
        expr: dept_id
    dimensions:
      - name: visit_day
        type: time
        expr: cast(visit_ts as date)
        type_params:
          time_granularity: day
    measures:
      - name: opd_ed_visit_count
        agg: count
        expr: "1"

metrics:
  - name: opd_ed_visits
    label: Outpatient + emergency visits
    type: simple
    type_params:
      measure: opd_ed_visit_count
  - name: opd_ed_visits_ytd
    label: Outpatient + emergency visits, year to date
    type: cumulative
    type_params:
      measure: opd_ed_visit_count
      cumulative_type_params:
        grain_to_date: year
        period_agg: last   # a month's value is the YTD at its last day (the default is first)
"""

# Runs in the MetricFlow venv, cwd = the dbt project. Prints its start-up costs, then answers
# one JSON line per stdin line: "query" (rows + ms) or "explain" (SQL generation only, ms).
MF_WORKER = """\
import datetime as dt, json, sys, time
t0 = time.perf_counter()
from dbt_metricflow.cli.cli_configuration import CLIConfiguration
from metricflow.engine.metricflow_engine import MetricFlowQueryRequest
t1 = time.perf_counter()
cfg = CLIConfiguration()
cfg.setup(configure_file_logging=False)   # what `mf` does first: `dbt debug`, profile, project
t2 = time.perf_counter()
engine = cfg.mf                           # semantic_manifest.json -> lookup -> engine
t3 = time.perf_counter()
a = json.loads(sys.argv[1])
def request():
    return MetricFlowQueryRequest.create(
        metric_names=a["metrics"], group_by_names=a["group_by"],
        time_constraint_start=dt.datetime.fromisoformat(a["start"]),
        time_constraint_end=dt.datetime.fromisoformat(a["end"]))
print(json.dumps(dict(import_s=t1 - t0, setup_s=t2 - t1, manifest_s=t3 - t2)), flush=True)
for line in sys.stdin:
    t = time.perf_counter()
    if line.strip() == "explain":
        engine.explain(mf_request=request())
        out = {}
    else:
        df = engine.query(mf_request=request()).result_df
        out = dict(columns=list(df.column_names), rows=[list(r) for r in df.rows])
    out["ms"] = (time.perf_counter() - t) * 1000
    print(json.dumps(out, default=str), flush=True)
"""


def load() -> float:
    return os.getloadavg()[0]


def query_window(now: dt.datetime) -> tuple[dt.date, dt.date, dt.datetime]:
    """Jan 1 of this year to the end of last month, as of now (to the minute). In January
    the window would be empty: take last year."""
    end = now.date().replace(day=1) - dt.timedelta(days=1)
    return end.replace(month=1, day=1), end, now.replace(second=0, microsecond=0)


# -- the dbt project ------------------------------------------------------------------------
def write_dbt_project(work: Path, db: Path) -> None:
    (work / "models").mkdir(parents=True, exist_ok=True)
    (work / "tmp").mkdir(exist_ok=True)
    (work / "dbt_project.yml").write_text(DBT_PROJECT)
    (work / "profiles.yml").write_text(PROFILES.format(db=db.resolve()))
    for table in ("fact_visit", "dim_calendar"):
        (work / "models" / f"{table}.sql").write_text(TABLE_MODEL.format(table=table))
    (work / "models" / "semantic.yml").write_text(SEMANTIC)
    (work / "mf_worker.py").write_text(MF_WORKER)


def mf_env(work: Path) -> dict:
    """dbt reads profiles.yml from the project; the update checker's cache (an hour) and
    dbt's logs stay in the work folder; no usage statistics are sent."""
    return dict(os.environ, DBT_PROFILES_DIR=str(work), TMPDIR=str(work / "tmp"),
                DO_NOT_TRACK="1", DBT_SEND_ANONYMOUS_USAGE_STATS="false")


def venv_bin(mf_python: str, name: str) -> str:
    return str(Path(mf_python).parent / name)


def dbt_parse(mf_python: str, work: Path) -> float:
    """Full parse (no partial-parse state) -> target/semantic_manifest.json; seconds."""
    t = time.perf_counter()
    subprocess.run([venv_bin(mf_python, "dbt"), "parse", "--no-partial-parse", "--quiet"],
                   cwd=work, env=mf_env(work), check=True)
    return time.perf_counter() - t


def versions(mf_python: str) -> dict:
    import duckdb

    code = ("import json, importlib.metadata as m; print(json.dumps({p: m.version(p) for p in "
            "('duckdb', 'dbt-core', 'dbt-duckdb', 'dbt-metricflow', 'metricflow', "
            "'dbt-semantic-interfaces')}))")
    mf = json.loads(subprocess.run([mf_python, "-c", code], check=True, capture_output=True,
                                   text=True).stdout)
    return dict(ours_duckdb=duckdb.__version__, python=platform.python_version(),
                **{f"mf_{k}": v for k, v in mf.items()})


# -- the commands ---------------------------------------------------------------------------
def ours_cli(db: Path, start, end, as_of) -> list[str]:
    cmd = ["cockpit", "query"]
    for m in METRICS:
        cmd += ["--metric", m]
    return cmd + ["--by", "department", "--grain", "month", "--from", str(start), "--to",
                  str(end), "--as-of", as_of.strftime("%Y-%m-%d %H:%M"), "--format", "json",
                  "--db", str(db)]


def mf_cli(mf_python: str, start, end, csv_out: Path) -> list[str]:
    return [venv_bin(mf_python, "mf"), "query", "--metrics",
            ",".join(MF_NAME[m] for m in METRICS), "--group-by", ",".join(MF_GROUP_BY),
            "--start-time", str(start), "--end-time", str(end), "--csv", str(csv_out),
            "--quiet"]


def run_timed(cmd: list[str], cwd: Path, env: dict) -> tuple[float, str]:
    t = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True, text=True)
    return time.perf_counter() - t, out.stdout


class MfWorker:
    """A MetricFlow engine kept alive in the venv's python, asked over a pipe."""

    def __init__(self, mf_python: str, work: Path, start, end):
        args = json.dumps(dict(metrics=[MF_NAME[m] for m in METRICS], group_by=MF_GROUP_BY,
                               start=str(start), end=str(end)))
        t = time.perf_counter()
        self.proc = subprocess.Popen([mf_python, "mf_worker.py", args], cwd=work,
                                     env=mf_env(work), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.startup = json.loads(self.proc.stdout.readline())
        self.startup["wall_s"] = time.perf_counter() - t

    def ask(self, what: str) -> dict:
        self.proc.stdin.write(what + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


# -- results as {(month, department): (count, ytd)} ----------------------------------------
def cells_from_records(records, period_key: str, names: list[str]) -> dict:
    """Null counts are 0 (MetricFlow leaves a month without visits null next to its YTD)."""
    return {(str(r[period_key])[:10], str(r["department"])):
            tuple(float(r[n]) if r[n] not in (None, "") else 0.0 for n in names)
            for r in records}


def ours_cells(frame) -> dict:
    return cells_from_records(frame.to_dict("records"), "period", METRICS)


def mf_cells(columns: list[str], rows: list[list]) -> dict:
    return cells_from_records([dict(zip(columns, r)) for r in rows], "metric_time__month",
                              [MF_NAME[m] for m in METRICS])


def compare(ref: dict, other: dict) -> dict:
    """Every cell of either side; a cell one side lacks counts as (0, 0) there."""
    keys = sorted(set(ref) | set(other))
    diffs = [(k, ref.get(k), other.get(k)) for k in keys
             if ref.get(k, (0.0, 0.0)) != other.get(k, (0.0, 0.0))]
    return dict(cells=len(keys), rows=len(other), only_ref=len(set(ref) - set(other)),
                only_other=len(set(other) - set(ref)), diffs=len(diffs),
                first_diffs=[[list(k), a, b] for k, a, b in diffs[:10]],
                total=[sum(v[0] for v in other.values()),
                       sum(v[1] for k, v in other.items() if k[0] == max(k2[0] for k2 in other))]
                if other else [0, 0])


# -- the run --------------------------------------------------------------------------------
def one_offs(mf_python: str, work: Path) -> dict:
    """Costs paid once per project change, not per query: dbt parse vs our YAML parse+check."""
    from metrics.registry import check_model

    t = time.perf_counter()
    check_model()
    ours = time.perf_counter() - t
    return dict(dbt_parse_s=dbt_parse(mf_python, work), ours_model_check_s=ours)


def bench(a, start, end, as_of) -> dict:
    from metrics.registry import load_model
    from metrics.service import query
    from warehouse.engine import open_warehouse

    work, db = Path(a.work), Path(a.db)
    wh = open_warehouse(str(db), read_only=True)
    model = load_model()
    worker = MfWorker(a.mf_python, work, start, end)
    env_mf, env_ours = mf_env(work), dict(os.environ)
    cmds = {
        "ours CLI (`cockpit query`)": (ours_cli(db, start, end, as_of), work, env_ours),
        "MetricFlow CLI (`mf query`)": (mf_cli(a.mf_python, start, end, work / "mf_out.csv"),
                                        work, env_mf),
        "ours imports": ([sys.executable, "-c", "import cockpit.cli, metrics.service"], ROOT,
                         env_ours),
        "MetricFlow imports": ([a.mf_python, "-c", "import dbt_metricflow.cli.main"], work,
                               env_mf),
    }

    def ours_call(use_mvs):
        def call():
            t = time.perf_counter()
            frame = query(METRICS, by=["department"], grain="month", start=start, end=end,
                          as_of=as_of, wh=wh, model=model, use_mvs=use_mvs)
            return (time.perf_counter() - t) * 1000, ours_cells(frame)
        return call

    def mf_call(what):
        def call():
            out = worker.ask(what)
            return out["ms"], (mf_cells(out["columns"], out["rows"]) if "rows" in out else None)
        return call

    inproc = {"ours in-process (materializations)": ours_call(True),
              "ours in-process (base tables only)": ours_call(False),
              "MetricFlow in-process (`engine.query`)": mf_call("query"),
              "MetricFlow SQL generation only (`engine.explain`)": mf_call("explain")}
    times = {name: [] for name in list(inproc) + list(cmds)}
    outputs, loads = {}, []
    for rnd in range(a.rounds + 1):  # round 0: warm-up
        order = list(inproc) + list(cmds)
        for name in (order if rnd % 2 == 0 else order[::-1]):
            if name in inproc:
                for _ in range(a.calls):
                    ms, cells = inproc[name]()
                    times[name].append(ms / 1000) if rnd else None
                    outputs.setdefault(name, cells)
            else:
                cmd, cwd, env = cmds[name]
                secs, stdout = run_timed(cmd, cwd, env)
                times[name].append(secs) if rnd else None
                if name.startswith("ours CLI"):
                    outputs.setdefault(name, cells_from_records(json.loads(stdout), "period",
                                                                METRICS))
        loads.append(load())
        print(f"round {rnd}: load {loads[-1]:.2f}", flush=True)
    outputs["MetricFlow CLI (`mf query`)"] = read_mf_csv(work / "mf_out.csv")
    worker.close()
    wh.close() if hasattr(wh, "close") else None
    return dict(times=times, outputs=outputs, loads=loads, mf_startup=worker.startup)


def read_mf_csv(path: Path) -> dict:
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    return mf_cells(rows[0], rows[1:])


def summarize(times: dict) -> dict:
    return {name: dict(n=len(xs), p50=pct(xs, 50), p95=pct(xs, 95), min=min(xs), max=max(xs))
            for name, xs in times.items()}


def check_equal(outputs: dict) -> dict:
    ref_name = "ours in-process (materializations)"
    ref = outputs[ref_name]
    return {name: compare(ref, cells) for name, cells in outputs.items()
            if name != ref_name and cells is not None}


# -- the report -----------------------------------------------------------------------------
def report(a, res: dict, start, end, as_of) -> str:
    s, checks, v = res["summary"], res["checks"], res["versions"]
    ours_q, mf_q = "ours in-process (materializations)", "MetricFlow in-process (`engine.query`)"
    ours_c, mf_c = "ours CLI (`cockpit query`)", "MetricFlow CLI (`mf query`)"
    ours_b = "ours in-process (base tables only)"
    ref = res["ref"]
    L = [f"- machine: {platform.machine()}, {os.cpu_count()} CPU(s), shared with other "
         f"engineers' runs; 1-min load average {res['load_start']:.2f} at start, "
         f"{res['load_end']:.2f} at end (mean over rounds {res['load_mean']:.2f})",
         f"- ours: Python {v['python']}, duckdb {v['ours_duckdb']}; MetricFlow venv "
         f"(`{a.mf_python}`): metricflow {v['mf_metricflow']}, dbt-metricflow "
         f"{v['mf_dbt-metricflow']}, dbt-core {v['mf_dbt-core']}, dbt-duckdb "
         f"{v['mf_dbt-duckdb']}, dbt-semantic-interfaces {v['mf_dbt-semantic-interfaces']}, "
         f"duckdb {v['mf_duckdb']}",
         f"- data: `{a.db}` (a copy of the small demo warehouse), read by both: ours opens it "
         "read-only, MetricFlow ATTACHes the same file READ_ONLY (dbt-duckdb); the semantic "
         "model points at its `fact_visit` table and uses its `dim_calendar` as time spine",
         f"- {a.rounds} rounds (+1 warm-up not kept), tools alternated inside each round, "
         f"order reversed every other round; in-process: {a.calls} calls per round each",
         "", "## The query", "",
         f"Monthly outpatient + emergency visits by department and their YTD, "
         f"{start} to {end}, as of {as_of:%Y-%m-%d %H:%M}:", "",
         "```",
         "# ours",
         f"query({METRICS}, by=['department'], grain='month', start='{start}', "
         f"end='{end}', as_of='{as_of:%Y-%m-%d %H:%M}', wh=open_warehouse(db, read_only=True))",
         " ".join(ours_cli(Path(a.db), start, end, as_of)),
         "# MetricFlow (cwd = the generated dbt project)",
         " ".join(mf_cli("mf", start, end, Path("out.csv"))).replace("\n", " "),
         "```", "",
         "## Same numbers?", "",
         f"Reference: ours in-process, {ref['cells']} (month, department) cells, "
         f"Σ visits {ref['total'][0]:,.0f}, Σ YTD at {end:%Y-%m} {ref['total'][1]:,.0f}. "
         "Each output compared cell by cell (count and YTD); a cell missing on one side "
         "counts as 0 there.", "",
         "| output | rows | cells compared | only in ours | only in it | cells differing | "
         "Σ visits | Σ YTD last month |",
         "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, c in checks.items():
        L.append(f"| {name} | {c['rows']} | {c['cells']} | {c['only_ref']} | {c['only_other']}"
                 f" | {c['diffs']} | {c['total'][0]:,.0f} | {c['total'][1]:,.0f} |")
    equal = all(c["diffs"] == 0 for c in checks.values())
    L += ["", "**All equal.**" if equal else "**NOT equal** — first differences: " + "; ".join(
        f"{n}: {c['first_diffs']}" for n, c in checks.items() if c["diffs"]), ""]
    L += ["## Timings", "",
          "| mode | runs | p50 | p95 | min | max |", "|---|---:|---:|---:|---:|---:|"]
    for name, t in s.items():
        unit, k = ("ms", 1000) if "in-process" in name or "SQL" in name else ("s", 1)
        L.append(f"| {name} | {t['n']} | {t['p50'] * k:.2f} {unit} | {t['p95'] * k:.2f} {unit}"
                 f" | {t['min'] * k:.2f} {unit} | {t['max'] * k:.2f} {unit} |")
    r = res["ratios"]
    L += ["", "**Ratio MetricFlow ÷ ours (p50, same run):** "
          f"in-process {r['inproc']:.1f}× (vs ours on base tables only: "
          f"{r['inproc_base']:.1f}×); CLI end to end {r['cli']:.1f}×.", "",
          "One-off costs (not per query), measured in the same run:", "",
          "| cost | ours | MetricFlow |", "|---|---:|---:|",
          f"| model compile: ours YAML parse + checks (`check_model`) / `dbt parse "
          f"--no-partial-parse` | {res['one_offs']['ours_model_check_s']:.2f} s | "
          f"{res['one_offs']['dbt_parse_s']:.2f} s |",
          f"| long-lived process start-up: `load_model()` + `open_warehouse` / worker: imports "
          f"{res['mf_startup']['import_s']:.2f} s + `CLIConfiguration.setup` (`dbt debug`) "
          f"{res['mf_startup']['setup_s']:.2f} s + manifest → engine "
          f"{res['mf_startup']['manifest_s']:.2f} s | {res['ours_startup_s']:.2f} s | "
          f"{res['mf_startup']['wall_s']:.2f} s |", ""]
    return "\n".join(L) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, help="a copy of a demo warehouse (opened read-only)")
    ap.add_argument("--mf-python", required=True, help="python of the MetricFlow venv")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--calls", type=int, default=5, help="in-process calls per round")
    ap.add_argument("--work", default="/tmp/mf/work", help="dbt project and outputs")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "REPORT_metricflow.md"))
    ap.add_argument("--json", default="/tmp/mf/metricflow.json")
    a = ap.parse_args()

    work = Path(a.work)
    os.environ.setdefault("COCKPIT_HOME", str(work / "cockpit-home"))
    os.environ.setdefault("COCKPIT_MODEL_CACHE", str(work / "cockpit-model-cache"))
    from warehouse import settings as wsettings

    load_start = load()
    start, end, as_of = query_window(wsettings.hospital_now())
    write_dbt_project(work, Path(a.db))
    res = dict(versions=versions(a.mf_python), one_offs=one_offs(a.mf_python, work))
    print("one-offs", res["one_offs"], flush=True)
    t = time.perf_counter()
    from metrics.registry import load_model
    from warehouse.engine import open_warehouse

    load_model(), open_warehouse(a.db, read_only=True)
    res["ours_startup_s"] = time.perf_counter() - t
    res.update(bench(a, start, end, as_of))
    res["load_start"], res["load_end"] = load_start, load()
    res["load_mean"] = sum(res["loads"]) / len(res["loads"])
    res["summary"] = summarize(res.pop("times"))
    outputs = res.pop("outputs")
    res["ref"] = compare({}, outputs["ours in-process (materializations)"])
    res["checks"] = check_equal(outputs)
    s = res["summary"]
    p50 = {k: v["p50"] for k, v in s.items()}
    res["ratios"] = dict(
        inproc=p50["MetricFlow in-process (`engine.query`)"] /
        p50["ours in-process (materializations)"],
        inproc_base=p50["MetricFlow in-process (`engine.query`)"] /
        p50["ours in-process (base tables only)"],
        cli=p50["MetricFlow CLI (`mf query`)"] / p50["ours CLI (`cockpit query`)"])
    Path(a.json).write_text(json.dumps(res, default=str, indent=1))
    header = ("# Our semantic layer vs dbt MetricFlow: one query, one run (issue #3)\n\n"
              f"`python benchmarks/bench_metricflow.py --db {a.db} --mf-python {a.mf_python} "
              f"--rounds {a.rounds} --calls {a.calls}`\n\n")
    write_report(Path(a.out), header, report(a, res, start, end, as_of))
    print(json.dumps(dict(summary=s, ratios=res["ratios"], checks={
        k: v["diffs"] for k, v in res["checks"].items()}), indent=1, default=str))
    print("wrote", a.out)


if __name__ == "__main__":
    main()
