"""`cockpit wallboard`: the big screen's kiosk tokens and playlists.

    cockpit wallboard tokens create NAME [--campus C01] [--db PATH]   # prints the URL once
    cockpit wallboard tokens list [--format table|json] [--db PATH]
    cockpit wallboard tokens revoke NAME_OR_ID [--db PATH]            # refused within a minute
    cockpit wallboard playlists [--check FILE]                        # validate (file:line)

While a server runs for this home the token commands go through its local API (it holds the
warehouse file), else they open the warehouse directly.
"""
from __future__ import annotations

import json
from typing import Optional

import typer

wallboard_app = typer.Typer(help="The wallboard (运营大屏): kiosk tokens and playlists.",
                            no_args_is_help=True)
tokens_app = typer.Typer(help="Per-screen kiosk tokens: read-only wallboard access without a "
                              "login, optionally limited to one campus.", no_args_is_help=True)
wallboard_app.add_typer(tokens_app, name="tokens")


def _call(db: str | None, body: dict) -> dict:
    """Run one token action: through the running server's local API, else directly."""
    from cockpit.localapi import call, server_for
    from warehouse.errors import ConfigError

    info = server_for(db)
    if info is not None:
        return call(info, "/api/kiosk-tokens", body, error=ConfigError, timeout=30)
    from warehouse.engine import open_warehouse
    from wallboard.tokens import handle

    wh = open_warehouse(db)
    try:
        return handle(wh, body)
    finally:
        wh.close()


def register(app: typer.Typer) -> None:
    app.add_typer(wallboard_app, name="wallboard")


@tokens_app.command("create")
def tokens_create(
    name: str = typer.Argument(..., help="the screen, e.g. 指挥中心-1"),
    campus: Optional[str] = typer.Option(None, "--campus", help="limit the screen to one campus"),
    playlist: str = typer.Option("default", "--playlist", help="for the printed URL"),
    base_url: str = typer.Option("http://127.0.0.1:8050", "--base-url",
                                 help="for the printed URL"),
    db: Optional[str] = typer.Option(None, "--db", help="DuckDB file or engine URL"),
) -> None:
    """Create a token (shown once: only its hash is stored) and print the screen's URL."""
    out = _call(db, {"action": "create", "name": name, "campus": campus})
    path = "/wallboard" if playlist == "default" else f"/wallboard/{playlist}"
    typer.echo(f"token {out['id']} for {out['name']}"
               + (f" (campus {out['campus']})" if out.get("campus") else "") + ":")
    typer.echo(out["token"])
    typer.echo(f"URL: {base_url.rstrip('/')}{path}?token={out['token']}")


@tokens_app.command("list")
def tokens_list(
    fmt: str = typer.Option("table", "--format", help="table|json"),
    db: Optional[str] = typer.Option(None, "--db", help="DuckDB file or engine URL"),
) -> None:
    """Every token: id, screen, campus, created, revoked."""
    rows = _call(db, {"action": "list"})["tokens"]
    if fmt == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    from . import console
    from rich.table import Table

    t = Table(title="kiosk tokens")
    for c in ("id", "name", "campus", "created", "revoked"):
        t.add_column(c)
    for r in rows:
        t.add_row(r["id"], r["name"], r["campus"] or "全部", r["created"] or "",
                  r["revoked"] or "")
    console().print(t)


@tokens_app.command("revoke")
def tokens_revoke(
    which: str = typer.Argument(..., help="the screen's name or the token id"),
    db: Optional[str] = typer.Option(None, "--db", help="DuckDB file or engine URL"),
) -> None:
    """Revoke a token: the screen is refused within a minute."""
    for r in _call(db, {"action": "revoke", "which": which})["revoked"]:
        typer.echo(f"revoked {r['id']} ({r['name']}) at {r['revoked']}")


@wallboard_app.command("playlists")
def playlists_cmd(
    check: Optional[str] = typer.Option(None, "--check", help="validate one YAML file"),
) -> None:
    """List the playlists (or validate one file); errors name the file and line."""
    from pathlib import Path

    from wallboard.playlists import load_all, load_file

    if check:
        pl = load_file(Path(check))
        typer.echo(f"ok: {pl.name}: {len(pl.pages)} page(s), {pl.cycle_seconds} s per cycle")
        return
    for pl in load_all().values():
        pages = ", ".join(f"{p.page}({p.seconds}s)" for p in pl.pages)
        typer.echo(f"{pl.name}: {pl.title} · campus {pl.campus or '全院'} · {pages}")
