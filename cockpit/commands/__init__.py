"""One module per command group. Each module defines `register(app: typer.Typer)` and imports
its heavy libraries (pandas, duckdb, sqlglot, dash) inside the command bodies, so that
`cockpit --help` and `cockpit check` start fast."""


def console(stderr: bool = False):
    """The one rich console of the CLI. Not on a terminal (a log file, cron, CI) rich would
    assume 80 columns and cut the load report's table to `fact…` and `29,6…`: there it is
    160 wide (or `COLUMNS`)."""
    import os

    from rich.console import Console

    c = Console(stderr=stderr)
    if not c.is_terminal and "COLUMNS" not in os.environ:
        c.width = 160
    return c
