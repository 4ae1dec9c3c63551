"""`cockpit demo`: generate the demo hospital, load it, refresh, and serve.

    cockpit demo [--scale tiny|small|large|west-china] [--db PATH] [--seed N] [--no-serve]
                 [--port 8050] [--as-of "YYYY-MM-DD HH:MM"] [--dirty]
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer


def build_demo(db: str | None, scale: str, seed: int, as_of=None, dirty: bool = False,
               console=None, targets: bool = True) -> dict:
    """Generate → write a delivery → load → refresh → this year's targets (`targets/demo.py`).
    Returns timings in seconds."""
    import tempfile

    from metrics.materialize import refresh
    from metrics.registry import load_model
    from warehouse.demo import generate_chunks, write_delivery
    from warehouse.engine import open_warehouse
    from warehouse.loader import load_delivery

    say = console.print if console else (lambda *a, **k: None)
    timings = {}
    wh = open_warehouse(db)
    with tempfile.TemporaryDirectory(prefix="cockpit-demo-") as tmp:
        t0 = time.perf_counter()
        # streamed month by month, so memory stays bounded at every preset
        folder = write_delivery(generate_chunks(scale, seed=seed, as_of=as_of, dirty=dirty),
                                Path(tmp), fmt="parquet")
        timings["generate"] = time.perf_counter() - t0
        say(f"[green]generated[/] the {scale} hospital in {timings['generate']:.1f}s")
        t0 = time.perf_counter()
        report = load_delivery(wh, Path(folder), progress=console is not None)
        timings["load"] = time.perf_counter() - t0
    say(f"[green]loaded[/] in {timings['load']:.1f}s")
    if console is not None:
        from cockpit.commands.load import print_report

        print_report(report, console)
    t0 = time.perf_counter()
    rep = refresh(wh, load_model())
    timings["refresh"] = time.perf_counter() - t0
    say(f"[green]refreshed[/] {len(rep.results)} materializations in {timings['refresh']:.1f}s "
        f"(data version {rep.data_version})")
    if targets:
        from targets.demo import seed as seed_targets
        from warehouse.settings import hospital_now

        t0 = time.perf_counter()
        now = as_of or hospital_now().replace(tzinfo=None)
        written = seed_targets(wh, now)
        timings["targets"] = time.perf_counter() - t0
        say(f"[green]set[/] {now.year} targets for {len({m for m, _ in written})} metrics "
            f"(hospital → department → team) in {timings['targets']:.1f}s")
    wh.close()
    return timings


DEMO_PASSWORD = "demo"


def ensure_demo_users(db) -> list[tuple[str, str]]:
    """Demo logins (password `demo`), written to the users file only if it does not exist."""
    from cockpit.auth import load_users, save_user, users_path
    from warehouse.engine import open_warehouse

    wanted = [("director", "leader", "院长", None), ("finance", "finance", "医保办", None),
              ("engineer", "engineer", "信息中心", None), ("viewer", "viewer", "访客", None)]
    if not users_path().exists():
        wh = open_warehouse(db)
        row = wh.query_rows("SELECT dept_id FROM dim_department d JOIN dim_campus c USING "
                            "(campus_id) WHERE dept_type = 'clinical' AND has_ward AND "
                            "campus_type = 'main' ORDER BY dept_id LIMIT 1")
        wh.close()
        for user, role, name, _ in wanted:
            save_user(user, DEMO_PASSWORD, role, name)
        if row:
            save_user("head", DEMO_PASSWORD, "dept_head", "科主任", [row[0][0]])
    return [(u.username, u.role + (f" {','.join(u.departments)}" if u.departments else ""))
            for u in load_users().values()]


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo_cmd(
        scale: str = typer.Option("small", "--scale", help="tiny|small|large|west-china"),
        db: Optional[str] = typer.Option(None, "--db", help="DuckDB file (default ./cockpit.duckdb)"),
        seed: int = typer.Option(42, "--seed"),
        no_serve: bool = typer.Option(False, "--no-serve", help="build the data and stop"),
        port: int = typer.Option(8050, "--port"),
        as_of: Optional[str] = typer.Option(None, "--as-of", help='pin "now": "YYYY-MM-DD HH:MM"'),
        dirty: bool = typer.Option(False, "--dirty", help="inject realistic faults"),
    ) -> None:
        """Generate the demo hospital if there is no database, load, refresh, serve."""
        import datetime as dt

        from . import console as make_console

        from warehouse.engine import parse_target

        console = make_console()
        _, location = parse_target(db)
        exists = location != ":memory:" and Path(location).exists()
        if exists:
            console.print(f"using the existing warehouse {location} "
                          "(delete it to generate a new demo hospital)")
        else:
            pinned = dt.datetime.fromisoformat(as_of) if as_of else None
            build_demo(db, scale, seed, pinned, dirty, console)
        if no_serve:
            return
        from cockpit.server import serve

        logins = ensure_demo_users(db)
        console.print(f"\n[bold green]cockpit:[/] http://127.0.0.1:{port}/")
        for user, role in logins:
            console.print(f"  login [bold]{user}[/] / password [bold]{DEMO_PASSWORD}[/] ({role})")
        console.print("  a simulated feed drops new visits, admissions, operations and charges "
                      "into ./inbox every minute; Ctrl+C stops")
        serve(db=db, port=port, demo=True)
