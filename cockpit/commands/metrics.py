"""`cockpit check`, `cockpit compile`: the semantic model for data engineers."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    register_catalog(app)

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


def register_catalog(app: typer.Typer) -> None:
    @app.command("catalog")
    def catalog_cmd(
        fmt: str = typer.Option("md", "--format", help="md|json"),
        theme: Optional[str] = typer.Option(None, "--theme", help="theme id or Chinese name"),
    ) -> None:
        """Every metric with its definition, formula, standard and lineage."""
        import json

        from metrics.catalog import entries, render_markdown
        from metrics.registry import load_model

        model = load_model()
        if fmt == "json":
            typer.echo(json.dumps(entries(model, theme), ensure_ascii=False, indent=1))
        else:
            typer.echo(render_markdown(model, theme), nl=False)

    @app.command("lineage")
    def lineage_cmd(metric: str = typer.Argument(..., help="metric id"),
                    fmt: str = typer.Option("text", "--format", help="text|json")) -> None:
        """Metric → measures → fact → source columns, and the materializations serving it."""
        import json

        from metrics.lineage import lineage, render_text
        from metrics.registry import load_model
        from metrics.rules import did_you_mean
        from warehouse.errors import QueryError

        model = load_model()
        if metric not in model.metrics:
            raise QueryError(f"unknown metric {metric!r}{did_you_mean(metric, model.metrics)}")
        tree = lineage(model, metric)
        typer.echo(json.dumps(tree, ensure_ascii=False, indent=1) if fmt == "json"
                   else render_text(tree))
