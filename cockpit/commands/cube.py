"""`cockpit export-cube --out DIR`: the semantic model as a Cube data model (YAML)."""
from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("export-cube")
    def export_cube_cmd(
        out: Path = typer.Option(..., "--out", help="folder to write the Cube model into "
                                 "(files go under DIR/model/)"),
    ) -> None:
        """Write a Cube data model (cubes, measures, dimensions, joins, segments and
        pre_aggregations mirroring the materializations) from themes/*.yaml."""
        from metrics.cube import export_cube
        from metrics.registry import load_model

        files = export_cube(load_model())
        for name, text in files.items():
            path = out / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {len(files)} files to {out}")
