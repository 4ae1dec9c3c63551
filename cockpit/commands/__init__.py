"""One module per command group. Each module defines `register(app: typer.Typer)` and imports
its heavy libraries (pandas, duckdb, sqlglot, dash) inside the command bodies, so that
`cockpit --help` and `cockpit check` start fast."""
