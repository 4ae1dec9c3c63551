"""`cockpit check`, `cockpit compile`: the semantic model for data engineers."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    @app.command("check")
    def check_cmd(themes: Optional[Path] = typer.Argument(None, help="themes folder")) -> None:
        """Validate the YAML; exit 1 with file:line: message for every problem."""
        from metrics.registry import check_model

        model, issues = check_model(themes)
        errors = [i for i in issues if i.level == "error"]
        for i in issues:
            typer.echo(f"{i.message}" if i.level == "error" else f"warning: {i.message}",
                       err=True)
        if errors:
            typer.echo(f"{len(errors)} error(s)", err=True)
            raise typer.Exit(1)
        typer.echo(f"ok: {len(model.metrics)} metrics, {len(model.measures)} measures, "
                   f"{len(model.facts)} facts, "
                   f"{sum(len(f.materializations) for f in model.facts.values())} "
                   "materializations")

    @app.command("compile")
    def compile_cmd(
        dialect: str = typer.Option(..., "--dialect", help="starrocks|duckdb"),
        out: Optional[Path] = typer.Option(None, "--out", help="folder to write into"),
    ) -> None:
        """Write the warehouse DDL, materialization DDL and every metric's query SQL."""
        from metrics.compile import compile_all

        files = compile_all(dialect)
        if out is None:
            for name, text in files.items():
                typer.echo(f"-- {name}\n{text}\n")
            return
        out.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            path = out / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {len(files)} files to {out}")
