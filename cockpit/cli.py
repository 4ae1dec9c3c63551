"""The `cockpit` command line (typer). Stable interface: see DESIGN.md and the README.

Exit codes: 0 success, 1 bad input or failed check (message on stderr), 2 usage error.
"""
from __future__ import annotations

import importlib
import sys

import typer

app = typer.Typer(
    name="cockpit",
    help="Hospital Operations Cockpit: metrics semantic layer, warehouse and dashboards.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: command modules under cockpit/commands, each with register(app)
COMMAND_MODULES = ("load", "demo", "metrics", "refresh", "query", "serve", "cube", "targets",
                   "wallboard")


def _register_all() -> None:
    for name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(f"cockpit.commands.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"cockpit.commands.{name}":
                continue  # not built yet
            raise
        mod.register(app)


def main() -> None:
    from warehouse.errors import CockpitError

    _register_all()
    try:
        rc = app(standalone_mode=False)  # returns the exit code of typer.Exit(n)
        if isinstance(rc, int) and rc:
            sys.exit(rc)
    except CockpitError as e:
        typer.echo(f"error: {e}", err=True)
        sys.exit(e.exit_code)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except (typer.BadParameter, typer.Abort) as e:  # pragma: no cover - typer prints these
        typer.echo(str(e), err=True)
        sys.exit(2)
    except Exception as e:  # click usage errors
        import click

        if isinstance(e, click.exceptions.ClickException):
            e.show()
            sys.exit(2)
        raise


if __name__ == "__main__":
    main()
