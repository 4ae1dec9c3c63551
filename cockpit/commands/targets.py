"""`cockpit targets`: annual targets from the command line.

    cockpit targets set METRIC --year Y --node NODE (--value V | --lo L --hi H) [--reserve R]
                        [--component value|numerator|denominator] [--lock] [--seasonal] [--note]
    cockpit targets cascade METRIC --year Y [--from NODE] [--to LEVEL]
                        [--method proportional|equal|capacity|manual] [--years N]
                        [--history-weights 0.5,0.3,0.2] [--growth NODE=F …] [--capacity beds|sessions]
                        [--reference-metric ID] [--value NODE=V …] [--hold NODE=V …]
                        [--reserve R] [--remainder-to NODE] [--decimals N] [--component C]
    cockpit targets show METRIC --year Y [--version N] [--level L] [--history] [--rollup]
    cockpit targets import FILE                  # .yaml / .csv / .xlsx: one new version per metric-year
    cockpit targets export FILE [--metric ID …] [--year Y …] [--version N]
    cockpit targets compare-versions METRIC --year Y A B
    cockpit targets progress METRIC --year Y [--as-of "YYYY-MM-DD HH:MM"] [--level L]
                        [--parent NODE] [--off-track]

Every write is a new version (history kept) recorded with its author (`--author`, default the
login name). `--format table|csv|json` on the read commands. The operator at the command line
is trusted (they hold the warehouse file); user roles apply in the cockpit.
"""
from __future__ import annotations

import json
from typing import List, Optional

import typer

targets_app = typer.Typer(help="Annual targets: set, cascade, show, import, export, compare, "
                               "progress.", no_args_is_help=True)


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


def _print(frame, fmt: str, title: str = "") -> None:
    from cockpit.commands.query import rows_as_json

    rows = rows_as_json(frame)
    if fmt == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, default=str))
        return
    if fmt == "csv":
        typer.echo(frame.to_csv(index=False).rstrip("\n"))
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title or None)
    for c in frame.columns:
        t.add_column(str(c))
    for row in rows:
        t.add_row(*["" if v is None else (f"{v:,.6g}" if isinstance(v, float) else str(v))
                    for v in row.values()])
    Console().print(t)


def _wh(db, read_only=False):
    from warehouse.engine import open_warehouse

    return open_warehouse(db, read_only=read_only)


def _check_fmt(fmt: str) -> None:
    if fmt not in ("table", "csv", "json"):
        raise typer.BadParameter("--format must be table, csv or json")


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
    from targets.store import set_target

    wh = _wh(db)
    v = set_target(wh, metric, year, node, value, lo, hi, component, reserve, lock, seasonal,
                   note, author=_author(author))
    typer.echo(f"{metric} {year} {node}: version {v}")


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
    from targets.cascade import cascade

    _check_fmt(fmt)
    hw = [float(x) for x in history_weights.split(",")] if history_weights else None
    wh = _wh(db)
    res = cascade(wh, metric, year, parent, level, method, component, len(hw) if hw else years,
                  hw, _pairs(growth, "--growth"), capacity, reference_metric,
                  _pairs(values, "--value"), _pairs(hold, "--hold"), reserve, remainder_to,
                  decimals, author=_author(author), note=note)
    _print(res.allocation, fmt, f"{metric} {year}: version {res.version} "
                                f"(reserve {res.params['reserve']:,.6g})")


@targets_app.command("show")
def show_cmd(metric: str, year: int = typer.Option(..., "--year"),
             version: Optional[int] = typer.Option(None, "--version"),
             level: Optional[str] = typer.Option(None, "--level"),
             show_history: bool = typer.Option(False, "--history", help="list the versions"),
             rollup: bool = typer.Option(False, "--rollup", help="Σ children vs parent, "
                                         "conflicts, implied ratios"),
             fmt: str = FMT, db: Optional[str] = DB):
    """The records of a metric-year (current version unless --version)."""
    from targets import store

    _check_fmt(fmt)
    wh = _wh(db, read_only=True)
    if show_history:
        h = store.history(wh, metric, year)
        _print(h.drop(columns=["params"]) if fmt == "table" else h, fmt,
               f"{metric} {year}: versions")
        return
    frame = store.current(wh, metric, year, version=version)
    if level:
        frame = frame[frame["node_level"] == level]
    cols = ["component", "node_level", "node_id", "value", "lo", "hi", "reserve", "locked",
            "method", "version", "author", "created_at", "note"]
    _print(frame[cols], fmt, f"{metric} {year}")
    if rollup:
        from targets.rollup import ratio_check, rollup as roll

        _print(roll(wh, metric, year), fmt, "roll-up (top-down vs Σ children + reserve)")
        checks = ratio_check(wh, metric, year)
        if len(checks):
            _print(checks, fmt, "implied ratios (Σ numerators ÷ Σ denominators)")


@targets_app.command("import")
def import_cmd(path: str, author: Optional[str] = typer.Option(None, "--author"),
               db: Optional[str] = DB):
    """Import a YAML / CSV / XLSX file: one new version per metric-year in it."""
    from targets.io import import_targets

    wh = _wh(db)
    for mid, year, v in import_targets(wh, path, author=_author(author)):
        typer.echo(f"{mid} {year}: version {v}")


@targets_app.command("export")
def export_cmd(path: str, metric: List[str] = typer.Option([], "--metric"),
               year: List[int] = typer.Option([], "--year"),
               version: Optional[int] = typer.Option(None, "--version"),
               db: Optional[str] = DB):
    """Export the current records (or --version) to a .yaml, .csv or .xlsx file."""
    from targets.io import export_targets

    wh = _wh(db)
    n = export_targets(wh, path, metric or None, year or None, version)
    typer.echo(f"{n} records → {path}")


@targets_app.command("compare-versions")
def compare_cmd(metric: str, a: int, b: int, year: int = typer.Option(..., "--year"),
                changed_only: bool = typer.Option(False, "--changed", help="hide unchanged"),
                fmt: str = FMT, db: Optional[str] = DB):
    """Record-by-record differences between two versions."""
    from targets.store import compare_versions

    _check_fmt(fmt)
    frame = compare_versions(_wh(db, read_only=True), metric, year, a, b)
    if changed_only:
        frame = frame[frame["change"] != "same"]
    _print(frame, fmt, f"{metric} {year}: v{a} → v{b}")


@targets_app.command("progress")
def progress_cmd(metric: str, year: int = typer.Option(..., "--year"),
                 as_of: Optional[str] = typer.Option(None, "--as-of", help='"YYYY-MM-DD HH:MM"'),
                 level: str = typer.Option("department", "--level"),
                 parent: Optional[str] = typer.Option(None, "--parent"),
                 off: bool = typer.Option(False, "--off-track", help="only the nodes behind, "
                                          "furthest first"),
                 fmt: str = FMT, db: Optional[str] = DB):
    """Target, expected to date, actual, completion, gap and landing per node."""
    import datetime as dt

    from targets.progress import off_track, progress
    from warehouse.settings import hospital_now

    _check_fmt(fmt)
    moment = dt.datetime.fromisoformat(as_of) if as_of else hospital_now().replace(tzinfo=None)
    frame = progress(_wh(db, read_only=True), metric, year, moment, level, parent)
    if off:
        frame = off_track(frame)
    _print(frame, fmt, f"{metric} {year} as of {moment:%Y-%m-%d %H:%M}")


def register(app: typer.Typer) -> None:
    app.add_typer(targets_app, name="targets")
