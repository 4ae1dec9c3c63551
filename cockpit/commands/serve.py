"""`cockpit serve` and `cockpit users add`."""
from __future__ import annotations

from typing import List, Optional

import typer


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve_cmd(
        db: Optional[str] = typer.Option(None, "--db", help="DuckDB file or engine URL"),
        host: str = typer.Option("127.0.0.1", "--host"),
        port: int = typer.Option(8050, "--port"),
        debug: bool = typer.Option(False, "--debug", help="Flask's dev server (never in production)"),
    ) -> None:
        """Serve the cockpit, load whatever arrives in the inbox, refresh every minute."""
        from . import console

        from cockpit.server import serve

        console().print(f"cockpit on [bold]http://{host}:{port}/[/]  (inbox: ./inbox)")
        serve(db=db, host=host, port=port, debug=debug)

    users = typer.Typer(help="Cockpit users and roles (users.yaml, hashed passwords).")
    app.add_typer(users, name="users")

    @users.command("add")
    def users_add(
        username: str = typer.Argument(...),
        role: str = typer.Option(..., "--role", help="leader|dept_head|finance|engineer|viewer"),
        dept: List[str] = typer.Option([], "--dept", help="department id (dept_head; repeat)"),
        name: str = typer.Option("", "--name", help="display name"),
        password: Optional[str] = typer.Option(None, "--password",
                                               help="omit to be prompted"),
    ) -> None:
        """Add or replace a user."""
        from cockpit.auth import save_user, users_path

        if password is None:
            password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
        save_user(username, password, role, name, dept)
        typer.echo(f"saved {username} ({role}) to {users_path()}")
