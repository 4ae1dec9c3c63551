"""`cockpit load` and `cockpit quarantine …`: loading deliveries and handling rejected rows.

    cockpit load SOURCE [--db PATH] [--encoding utf-8|gb18030] [--check] [--json]
    cockpit quarantine list [--table T] [--all] [--db PATH]
    cockpit quarantine export --out DIR [--table T] [--db PATH]
    cockpit quarantine replay [FILE] [--revalidate] [--table T] [--db PATH]

Exit codes: 0 when loading happened (even with quarantined rows); 1 when a file is unreadable,
nothing could be loaded, or `--check` found a difference (message on stderr).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from . import console as make_console

_DB = typer.Option(None, "--db", help="DuckDB file or engine URL (default: $COCKPIT_DB or ./cockpit.duckdb)")


def print_report(report, console=None) -> None:
    """Print a LoadReport as a rich table (per table: read / loaded / updated / unchanged /
    deleted / quarantined) and its reconciliation."""
    from rich.table import Table

    console = console or make_console()
    t = Table(title=f"load {report.load_id} · {report.source}", title_justify="left")
    for h in ("table", "read", "loaded", "updated", "unchanged", "deleted", "delete unknown",
              "duplicates", "quarantined", "s"):
        t.add_column(h, justify="left" if h == "table" else "right")
    for name, r in report.tables.items():
        q = f"[red]{r.quarantined}[/red]" if r.quarantined else "0"
        t.add_row(name, f"{r.read:,}", f"{r.inserted:,}", f"{r.updated:,}", f"{r.unchanged:,}",
                  f"{r.deleted:,}", f"{r.delete_unknown:,}", f"{r.duplicates:,}", q, f"{r.seconds:.2f}")
    console.print(t)
    for f in report.files:
        if f.get("ignored_columns"):
            console.print(f"[yellow]{Path(f['path']).name}: ignored column(s) "
                          f"{', '.join(f['ignored_columns'])}[/yellow]")
    if report.ignored_files:
        console.print(f"[yellow]ignored file(s): {', '.join(report.ignored_files)}[/yellow]")
    if report.quarantined:
        console.print(f"[red]{report.quarantined} row(s) quarantined[/red]: "
                      "`cockpit quarantine list` shows why")
    print_differences(report.reconciliation, console)


def print_differences(diffs, console=None) -> None:
    console = console or make_console()
    if not diffs:
        console.print("[green]reconciliation (对账): no difference[/green]")
        return
    console.print(f"[red]reconciliation (对账): {len(diffs)} difference(s)[/red]")
    for d in diffs:
        console.print(f"  {d.message}")


def _hand_to_server(source: Path, db: Optional[str]) -> bool:
    """While the cockpit server owns the warehouse, give the files to its inbox (it loads
    them within a minute, each file in one transaction) instead of opening the file."""
    from cockpit.inbox import hand_over
    from cockpit.localapi import server_for
    from warehouse.readers import table_for_file

    if server_for(db) is None:
        return False
    files = ([source] if source.is_file() else
             sorted(p for p in source.iterdir() if p.suffix in (".csv", ".parquet")
                    and table_for_file(p)))
    queued = hand_over(files)
    make_console().print(f"the cockpit server owns the warehouse: handed {len(queued)} file(s) to "
                     "its inbox; it loads them within a minute (see /health)")
    return True


def register(app: typer.Typer) -> None:
    @app.command("load")
    def load(
        source: Path = typer.Argument(..., help="delivery folder, or one <table>.csv|.parquet file"),
        db: Optional[str] = _DB,
        encoding: Optional[str] = typer.Option(None, "--encoding",
                                               help="CSV encoding (default: detect utf-8 / gb18030)"),
        check: bool = typer.Option(False, "--check",
                                   help="reconcile SOURCE with the warehouse without loading"),
        as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
    ) -> None:
        """Load a delivery (contract v1.1): validate, quarantine bad rows, upsert, reconcile."""
        from warehouse.engine import open_warehouse
        from warehouse.loader import NothingLoaded, load_delivery
        from warehouse.reconcile import reconcile

        if not check and _hand_to_server(source, db):
            return
        wh = open_warehouse(db)
        try:
            if check:
                diffs = reconcile(wh, source, encoding=encoding)
                if as_json:
                    typer.echo(json.dumps([d.to_dict() for d in diffs], ensure_ascii=False, indent=1))
                else:
                    print_differences(diffs)
                if diffs:
                    raise typer.Exit(1)
                return
            try:
                report = load_delivery(wh, source, encoding=encoding, progress=not as_json)
            except NothingLoaded as e:
                if e.report is not None and e.report.tables:
                    print_report(e.report, make_console(stderr=True))
                raise
            if as_json:
                typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=1, default=str))
            else:
                print_report(report)
        finally:
            wh.close()

    qapp = typer.Typer(help="Rows the loader rejected: list, export for fixing, replay.",
                       no_args_is_help=True)

    @qapp.command("list")
    def q_list(
        table: Optional[str] = typer.Option(None, "--table"),
        all_: bool = typer.Option(False, "--all", help="resolved and superseded entries too"),
        limit: int = typer.Option(200, "--limit"),
        db: Optional[str] = _DB,
    ) -> None:
        """List quarantined rows with file, line, column, value and reason."""
        from rich.table import Table

        from warehouse.engine import open_warehouse
        from warehouse.quarantine import list_quarantine

        wh = open_warehouse(db)
        try:
            df = list_quarantine(wh, table=table, status=None if all_ else "open", limit=limit)
        finally:
            wh.close()
        if df.empty:
            make_console().print("no quarantined rows")
            return
        t = Table()
        for h in ("load", "table", "status", "reason"):
            t.add_column(h)
        for r in df.itertuples():
            t.add_row(str(r.load_id), r.table_name, r.status, r.reason)
        make_console().print(t)

    @qapp.command("export")
    def q_export(
        out: Path = typer.Option(..., "--out", help="folder for <table>.quarantine.csv files"),
        table: Optional[str] = typer.Option(None, "--table"),
        db: Optional[str] = _DB,
    ) -> None:
        """Write open quarantined rows to CSV files to fix and replay."""
        from warehouse.engine import open_warehouse
        from warehouse.quarantine import export_quarantine

        wh = open_warehouse(db)
        try:
            paths = export_quarantine(wh, out, table=table)
        finally:
            wh.close()
        for p in paths:
            typer.echo(str(p))
        if not paths:
            typer.echo("no open quarantined rows")

    @qapp.command("replay")
    def q_replay(
        file: Optional[Path] = typer.Argument(None, help="a fixed <table>.quarantine.csv"),
        revalidate_: bool = typer.Option(False, "--revalidate",
                                         help="validate open quarantined rows again as they are"),
        table: Optional[str] = typer.Option(None, "--table"),
        db: Optional[str] = _DB,
    ) -> None:
        """Replay a fixed export, or re-validate quarantined rows (after missing keys arrived)."""
        from warehouse.engine import open_warehouse
        from warehouse.errors import ContractError
        from warehouse.quarantine import replay_file, revalidate

        if (file is None) == (not revalidate_):
            raise ContractError("give a fixed file to replay, or --revalidate (not both)")
        wh = open_warehouse(db)
        try:
            report = replay_file(wh, file) if file is not None else revalidate(wh, table=table)
        finally:
            wh.close()
        print_report(report)

    app.add_typer(qapp, name="quarantine")
