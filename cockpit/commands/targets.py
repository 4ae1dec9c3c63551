"""`cockpit targets`: annual targets from the command line.

    cockpit targets set METRIC --year Y --node NODE (--value V | --lo L --hi H) [--reserve R]
                        [--component value|numerator|denominator] [--lock] [--seasonal] [--note]
    cockpit targets cascade METRIC --year Y [--from NODE] [--to LEVEL]
                        [--method proportional|equal|capacity|manual] [--years N]
                        [--history-weights 0.5,0.3,0.2] [--growth NODE=F …] [--capacity beds|sessions]
                        [--reference-metric ID] [--value NODE=V …] [--hold NODE=V …]
                        [--reserve R] [--remainder-to NODE] [--decimals N] [--component C]
    cockpit targets show METRIC --year Y [--version N] [--level L] [--history] [--rollup]
                        [--to-date YYYY-MM-DD]   # expected to date as that version phased it
    cockpit targets import FILE                  # .yaml / .csv / .xlsx: one new version per metric-year
    cockpit targets export FILE [--metric ID …] [--year Y …] [--version N]
    cockpit targets compare-versions METRIC --year Y A B
    cockpit targets progress METRIC --year Y [--as-of "YYYY-MM-DD HH:MM"] [--level L]
                        [--parent NODE] [--off-track]

Every write is a new version (history kept) recorded with its author (`--author`, default the
login name). `--format table|csv|json` on the read commands. The operator at the command line
is trusted (they hold the warehouse file); user roles apply in the cockpit.

While `cockpit serve` owns the warehouse, every one of these commands runs inside the server
through its local API (`POST /api/targets`, 127.0.0.1 and the server's token only), so targets
can be set and read without stopping the cockpit; otherwise the command opens the file itself.
Both paths run the same `handle()`.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import List, Optional

import typer

targets_app = typer.Typer(help="Annual targets: set, cascade, show, import, export, compare, "
                               "progress.", no_args_is_help=True)

SHOW_COLUMNS = ["component", "node_level", "node_id", "value", "lo", "hi", "reserve", "locked",
                "method", "version", "author", "created_at", "note"]


def _pairs(items: list[str], what: str) -> dict[str, float]:
    from warehouse.errors import QueryError

    out = {}
    for item in items or []:
        k, sep, v = item.partition("=")
        try:
            out[k.strip()] = float(v)
        except ValueError:
            sep = ""
        if not sep or not k.strip():
            raise QueryError(f"{what} {item!r}: expected NODE=NUMBER")
    return out


def _author(author: str | None) -> str:
    import getpass

    if author:
        return author
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no login name in some containers
        return "cli"


# -- the actions: one function, run here or inside the server ---------------------------------
def _table(frame, title: str) -> dict:
    from cockpit.commands.query import rows_as_json

    return {"title": title, "columns": [str(c) for c in frame.columns],
            "rows": rows_as_json(frame)}


def handle(wh, body: dict) -> dict:
    """Run one targets action against `wh`: {"tables": [{title, columns, rows}], "lines": […]}.
    Used by the CLI directly and by the server's `/api/targets` (local, trusted operator)."""
    import datetime as dt

    from targets import store
    from warehouse.errors import QueryError

    a, p = body.get("action"), body.get("params", {})
    out: dict = {"tables": [], "lines": []}
    if a == "set":
        v = store.set_target(wh, p["metric"], p["year"], p["node"], p["value"], p["lo"], p["hi"],
                             p["component"], p["reserve"], p["lock"], p["seasonal"], p["note"],
                             author=p["author"])
        out["lines"].append(f"{p['metric']} {p['year']} {p['node']}: version {v}")
    elif a == "cascade":
        from targets.cascade import cascade

        hw = p["history_weights"]
        res = cascade(wh, p["metric"], p["year"], p["parent"], p["level"], p["method"],
                      p["component"], len(hw) if hw else p["years"], hw, p["growth"],
                      p["capacity"], p["reference_metric"], p["values"], p["hold"], p["reserve"],
                      p["remainder_to"], p["decimals"], author=p["author"], note=p["note"])
        out["tables"].append(_table(res.allocation, f"{p['metric']} {p['year']}: version "
                                    f"{res.version} (reserve {res.params['reserve']:,.6g})"))
        if res.params.get("equal_fallback"):
            out["lines"].append("every child's reference is zero: split equally instead")
    elif a == "show":
        title = f"{p['metric']} {p['year']}"
        if p["history"]:
            out["tables"].append(_table(store.history(wh, p["metric"], p["year"]),
                                        title + ": versions"))
            return out
        frame = store.current(wh, p["metric"], p["year"], version=p["version"])
        if p["level"]:
            frame = frame[frame["node_level"] == p["level"]]
        cols = list(SHOW_COLUMNS)
        if p.get("to_date"):
            day = dt.date.fromisoformat(p["to_date"])
            frame = frame.merge(store.to_date(wh, p["metric"], p["year"], day, p["version"])
                                .drop(columns="version"),
                                on=["component", "node_level", "node_id"], how="left")
            cols.insert(cols.index("value") + 1, "to_date")
            title += f", expected to {day}"
        out["tables"].append(_table(frame[cols], title))
        if p["rollup"]:
            from targets.rollup import ratio_check, rollup

            out["tables"].append(_table(rollup(wh, p["metric"], p["year"]),
                                        "roll-up (top-down vs Σ children + reserve)"))
            checks = ratio_check(wh, p["metric"], p["year"])
            if len(checks):
                out["tables"].append(_table(checks, "implied ratios (Σ numerators ÷ Σ "
                                                    "denominators)"))
    elif a == "import":
        from targets.io import import_targets

        for mid, year, v in import_targets(wh, p["path"], author=p["author"]):
            out["lines"].append(f"{mid} {year}: version {v}")
    elif a == "export":
        from targets.io import export_targets

        n = export_targets(wh, p["path"], p["metric"] or None, p["year"] or None, p["version"])
        out["lines"].append(f"{n} records → {p['path']}")
    elif a == "compare":
        frame = store.compare_versions(wh, p["metric"], p["year"], p["a"], p["b"])
        if p["changed"]:
            frame = frame[frame["change"] != "same"]
        out["tables"].append(_table(frame, f"{p['metric']} {p['year']}: v{p['a']} → v{p['b']}"))
    elif a == "progress":
        from targets.progress import off_track, progress
        from warehouse.settings import hospital_now

        moment = (dt.datetime.fromisoformat(p["as_of"]) if p["as_of"]
                  else hospital_now().replace(tzinfo=None))
        frame = progress(wh, p["metric"], p["year"], moment, p["level"], p["parent"])
        if p["off_track"]:
            frame = off_track(frame)
        out["tables"].append(_table(frame, f"{p['metric']} {p['year']} as of "
                                           f"{moment:%Y-%m-%d %H:%M}"))
    else:
        raise QueryError(f"unknown targets action {a!r}")
    return out


def _run(db: str | None, action: str, params: dict, fmt: str = "table",
         read_only: bool = False) -> None:
    """Through the running server's local API when it owns this warehouse, else directly;
    then print what came back."""
    from cockpit.localapi import call, server_for

    if fmt not in ("table", "csv", "json"):
        raise typer.BadParameter("--format must be table, csv or json")
    body = {"action": action, "params": params}
    info = server_for(db)
    if info is not None:
        out = call(info, "/api/targets", body, timeout=600)
    else:
        from warehouse.engine import open_warehouse

        wh = open_warehouse(db, read_only=read_only)
        try:
            out = handle(wh, body)
        finally:
            wh.close()
    for line in out["lines"]:
        typer.echo(line)
    for t in out["tables"]:
        _print(t, fmt)


def _print(table: dict, fmt: str) -> None:
    rows, columns = table["rows"], table["columns"]
    if fmt == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, default=str))
        return
    if fmt == "csv":
        import csv
        import io

        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        typer.echo(buf.getvalue().rstrip("\n"))
        return
    from . import console
    from rich.table import Table

    columns = [c for c in columns if c != "params"]  # a version's JSON parameters: too wide
    t = Table(title=table["title"] or None)
    for c in columns:
        t.add_column(c)
    for row in rows:
        t.add_row(*["" if row[c] is None else (f"{row[c]:,.6g}" if isinstance(row[c], float)
                                                else str(row[c])) for c in columns])
    console().print(t)


DB = typer.Option(None, "--db", help="DuckDB file (default ./cockpit.duckdb)")
FMT = typer.Option("table", "--format", help="table|csv|json")


@targets_app.command("set")
def set_cmd(metric: str, year: int = typer.Option(..., "--year"),
            node: str = typer.Option("hospital", "--node", help="hospital, campus, department "
                                     "or team id"),
            value: Optional[float] = typer.Option(None, "--value"),
            lo: Optional[float] = typer.Option(None, "--lo"),
            hi: Optional[float] = typer.Option(None, "--hi"),
            reserve: float = typer.Option(0.0, "--reserve", help="院级预留 kept back from "
                                          "the children"),
            component: str = typer.Option("value", "--component"),
            lock: bool = typer.Option(False, "--lock", help="hold it in later cascades"),
            seasonal: bool = typer.Option(False, "--seasonal", help="phase a ratio's parts "
                                          "by their own profiles"),
            note: str = typer.Option("", "--note"),
            author: Optional[str] = typer.Option(None, "--author"), db: Optional[str] = DB):
    """Set one node's target (a new version)."""
    _run(db, "set", dict(metric=metric, year=year, node=node, value=value, lo=lo, hi=hi,
                         component=component, reserve=reserve, lock=lock, seasonal=seasonal,
                         note=note, author=_author(author)))


@targets_app.command("cascade")
def cascade_cmd(metric: str, year: int = typer.Option(..., "--year"),
                parent: str = typer.Option("hospital", "--from"),
                level: str = typer.Option("department", "--to"),
                method: str = typer.Option("proportional", "--method"),
                years: int = typer.Option(1, "--years", help="history years of the reference"),
                history_weights: Optional[str] = typer.Option(None, "--history-weights",
                                                              help="most recent first: 0.5,0.3,0.2"),
                growth: List[str] = typer.Option([], "--growth", help="NODE=FACTOR (repeat)"),
                capacity: str = typer.Option("beds", "--capacity", help="beds|sessions"),
                reference_metric: Optional[str] = typer.Option(None, "--reference-metric"),
                values: List[str] = typer.Option([], "--value", help="NODE=V for --method manual"),
                hold: List[str] = typer.Option([], "--hold", help="NODE=V held (repeat)"),
                reserve: Optional[float] = typer.Option(None, "--reserve"),
                remainder_to: Optional[str] = typer.Option(None, "--remainder-to"),
                decimals: int = typer.Option(0, "--decimals"),
                component: str = typer.Option("value", "--component"),
                note: str = typer.Option("", "--note"),
                author: Optional[str] = typer.Option(None, "--author"),
                fmt: str = FMT, db: Optional[str] = DB):
    """Cascade a parent's target to its children (a new version)."""
    hw = [float(x) for x in history_weights.split(",")] if history_weights else None
    _run(db, "cascade", dict(metric=metric, year=year, parent=parent, level=level, method=method,
                             component=component, years=years, history_weights=hw,
                             growth=_pairs(growth, "--growth"), capacity=capacity,
                             reference_metric=reference_metric,
                             values=_pairs(values, "--value"), hold=_pairs(hold, "--hold"),
                             reserve=reserve, remainder_to=remainder_to, decimals=decimals,
                             author=_author(author), note=note), fmt)


@targets_app.command("show")
def show_cmd(metric: str, year: int = typer.Option(..., "--year"),
             version: Optional[int] = typer.Option(None, "--version"),
             level: Optional[str] = typer.Option(None, "--level"),
             show_history: bool = typer.Option(False, "--history", help="list the versions"),
             rollup: bool = typer.Option(False, "--rollup", help="Σ children vs parent, "
                                         "conflicts, implied ratios"),
             to_date: Optional[str] = typer.Option(
                 None, "--to-date", help="YYYY-MM-DD: add each record's expected-to-date "
                 "(1 January to that day, inclusive) as that version phased it"),
             fmt: str = FMT, db: Optional[str] = DB):
    """The records of a metric-year (current version unless --version)."""
    _run(db, "show", dict(metric=metric, year=year, version=version, level=level,
                          history=show_history, rollup=rollup, to_date=to_date), fmt,
         read_only=True)


@targets_app.command("import")
def import_cmd(path: str, author: Optional[str] = typer.Option(None, "--author"),
               db: Optional[str] = DB):
    """Import a YAML / CSV / XLSX file: one new version per metric-year in it."""
    _run(db, "import", dict(path=str(Path(path).resolve()), author=_author(author)))


@targets_app.command("export")
def export_cmd(path: str, metric: List[str] = typer.Option([], "--metric"),
               year: List[int] = typer.Option([], "--year"),
               version: Optional[int] = typer.Option(None, "--version"),
               db: Optional[str] = DB):
    """Export the current records (or --version) to a .yaml, .csv or .xlsx file."""
    _run(db, "export", dict(path=str(Path(path).resolve()), metric=list(metric),
                            year=list(year), version=version))  # audited: a write


@targets_app.command("compare-versions")
def compare_cmd(metric: str, a: int, b: int, year: int = typer.Option(..., "--year"),
                changed_only: bool = typer.Option(False, "--changed", help="hide unchanged"),
                fmt: str = FMT, db: Optional[str] = DB):
    """Record-by-record differences between two versions."""
    _run(db, "compare", dict(metric=metric, year=year, a=a, b=b, changed=changed_only), fmt,
         read_only=True)


@targets_app.command("progress")
def progress_cmd(metric: str, year: int = typer.Option(..., "--year"),
                 as_of: Optional[str] = typer.Option(None, "--as-of", help='"YYYY-MM-DD HH:MM"'),
                 level: str = typer.Option("department", "--level"),
                 parent: Optional[str] = typer.Option(None, "--parent"),
                 off: bool = typer.Option(False, "--off-track", help="only the nodes behind, "
                                          "furthest first"),
                 fmt: str = FMT, db: Optional[str] = DB):
    """Target, expected to date, actual, completion, gap and landing per node."""
    _run(db, "progress", dict(metric=metric, year=year, as_of=as_of, level=level, parent=parent,
                              off_track=off), fmt, read_only=True)


def register(app: typer.Typer) -> None:
    app.add_typer(targets_app, name="targets")
