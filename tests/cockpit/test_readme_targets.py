"""The README's annual-targets examples run as written, in order, on the tiny demo hospital
(so the documented commands, options, node ids and methods stay true)."""
from __future__ import annotations

import shlex
from pathlib import Path

from typer.testing import CliRunner

from tests.cockpit.conftest import copy_tiny

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def readme_commands() -> list[list[str]]:
    section = README.split("## Annual targets", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash", 1)[1].split("```", 1)[0]
    joined = block.replace("\\\n", " ")
    out = []
    for line in joined.splitlines():
        line = line.split("  #", 1)[0].strip()
        if line:
            out.append(shlex.split(line))
    return out


def test_the_readme_targets_examples_run(tiny_golden, tmp_path):
    from cockpit.cli import _register_all, app

    _register_all()
    db = copy_tiny(tiny_golden, tmp_path)
    commands = readme_commands()
    assert len(commands) >= 8 and all(c[0] == "cockpit" for c in commands)
    assert {c[1] for c in commands} == {"targets", "query"}
    for argv in commands:
        args = argv[1:] + ["--db", str(db)]
        if "export" in args:  # write the export beside the copy
            args[args.index("export") + 1] = str(tmp_path / args[args.index("export") + 1])
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 0, (argv, res.output, repr(res.exception))
    assert (tmp_path / "targets-2027.xlsx").exists()
