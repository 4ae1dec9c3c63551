"""`cockpit query`: the semantic query service from the command line (stable interface).

    cockpit query --metric ID[:TRANSFORM] [--metric …] [--by DIM …] [--grain G]
                  [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--where DIM=V1,V2 …]
                  [--as-of "YYYY-MM-DD HH:MM"] [--explain] [--format table|csv|json] [--db PATH]
"""
from __future__ import annotations

import json
import math
from typing import List, Optional

import typer


def rows_as_json(frame) -> list[dict]:
    """The JSON shape of DESIGN.md: period as ISO date, dimension ids, numbers or null."""
    import datetime as dt

    out = []
    for rec in frame.to_dict("records"):
        row = {}
        for k, v in rec.items():
            if k == "period":
                v = v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else str(v)
            elif isinstance(v, float):
                v = None if math.isnan(v) else (int(v) if v.is_integer() and abs(v) < 2**53
                                                 else v)
            elif v is not None and hasattr(v, "item"):
                v = v.item()
            elif v is not None and not isinstance(v, (str, int, bool)):
                v = None if str(v) in ("<NA>", "nan", "NaT") else str(v)
            row[k] = v
        out.append(row)
    return out


def parse_where(items: list[str]) -> dict[str, list[str]]:
    from warehouse.errors import QueryError

    where: dict[str, list[str]] = {}
    for item in items:
        dim, sep, value = item.partition("=")
        if not sep or not dim or not value:
            raise QueryError(f"--where {item!r}: expected DIM=VALUE or DIM=V1,V2")
        where.setdefault(dim.strip(), []).extend(v.strip() for v in value.split(","))
    return where


def register(app: typer.Typer) -> None:
    @app.command("query")
    def query_cmd(
        metric: List[str] = typer.Option(..., "--metric", help="metric id, optionally :transform"),
        by: List[str] = typer.Option([], "--by", help="dimension to group by (repeat)"),
        grain: Optional[str] = typer.Option(None, "--grain",
                                            help="hour|day|week|month|quarter|year"),
        start: Optional[str] = typer.Option(None, "--from", help="first day, YYYY-MM-DD"),
        end: Optional[str] = typer.Option(None, "--to", help="last day (inclusive)"),
        where: List[str] = typer.Option([], "--where", help="DIM=VALUE or DIM=V1,V2 (repeat)"),
        as_of: Optional[str] = typer.Option(None, "--as-of", help='"YYYY-MM-DD HH:MM"'),
        explain: bool = typer.Option(False, "--explain", help="print SQL and sources"),
        fmt: str = typer.Option("table", "--format", help="table|csv|json"),
        labels: bool = typer.Option(False, "--labels", help="add dimension names"),
        db: Optional[str] = typer.Option(None, "--db", help="DuckDB file or engine URL"),
    ) -> None:
        """Answer a metrics query (ratios are fractions in data)."""
        if fmt not in ("table", "csv", "json"):
            raise typer.BadParameter("--format must be table, csv or json")
        from cockpit.gcpolicy import settled, starting

        starting()  # the imports below are start-up: collecting during them frees nothing
        from metrics.service import make_spec, run
        from warehouse.engine import open_warehouse

        from metrics.plan import validate_spec
        from metrics.registry import load_model

        spec = make_spec(metric, by, grain, start, end, parse_where(where), as_of)
        validate_spec(load_model(), spec)  # bad input is reported before touching the data
        from cockpit.localapi import server_for

        server = server_for(db)
        if server is not None:
            settled(collect=False)
            rows, text = ask_server(server, metric, by, grain, start, end, parse_where(where),
                                    as_of, explain, labels)
            if explain:
                typer.echo(text, err=fmt != "table")
            _print_rows(rows, fmt, spec)
            return
        wh = open_warehouse(db, read_only=True)
        settled(collect=False)
        result = run(spec, wh=wh)
        frame = result.frame
        if labels:
            from metrics.labels import add_labels

            frame = add_labels(wh, frame, spec.by)
        if explain:
            typer.echo(result.explain(wh.dialect), err=fmt != "table")
        _print_rows(rows_as_json(frame), fmt, spec)


def _print_rows(rows: list[dict], fmt: str, spec) -> None:
    if fmt == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    if fmt == "csv":
        import csv
        import io

        buf = io.StringIO()
        if rows:
            w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
        typer.echo(buf.getvalue().rstrip("\n"))
        return
    from . import console
    from rich.table import Table

    t = Table(show_lines=False)
    for c in (rows[0] if rows else {}):
        t.add_column(str(c), justify="right" if c in spec.metrics else "left")
    for row in rows:
        t.add_row(*["" if v is None else (f"{v:,.4g}" if isinstance(v, float) else str(v))
                    for v in row.values()])
    console().print(t)


def ask_server(info: dict, metrics, by, grain, start, end, where, as_of, explain,
               labels=False):
    """POST the query to the server's local API; same JSON rows as the CLI."""
    from cockpit.localapi import call

    out = call(info, "/api/query",
               {"metrics": list(metrics), "by": list(by), "grain": grain, "from": start,
                "to": end, "where": where, "as_of": as_of, "explain": explain,
                "labels": labels})
    return out["rows"], out.get("explain", "")
