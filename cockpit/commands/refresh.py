"""`cockpit refresh [--db PATH] [--full]`: bring the materializations up to date."""
from __future__ import annotations

from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    @app.command("refresh")
    def refresh_cmd(
        db: Optional[str] = typer.Option(None, "--db", help="DuckDB file or engine URL"),
        full: bool = typer.Option(False, "--full", help="rebuild everything"),
    ) -> None:
        """Full build the first time, then only the month partitions the loads changed."""
        from . import console
        from rich.table import Table

        from metrics.materialize import refresh
        from metrics.registry import load_model
        from warehouse.engine import open_warehouse

        report = refresh(open_warehouse(db), load_model(), full=full)
        t = Table(title=f"refresh · data version {report.data_version}")
        for c in ("materialization", "mode", "partitions", "rows", "seconds", "error"):
            t.add_column(c)
        for r in report.results:
            t.add_row(r.name, r.mode, "all" if r.partitions < 0 else str(r.partitions),
                      f"{r.rows:,}", f"{r.seconds:.2f}", r.error or "")
        console().print(t)
        if report.failed:
            raise typer.Exit(1)
