"""The README stays true: every setting is documented, and the quick start names the
commands that exist."""
from pathlib import Path

from metrics.registry import load_model
from warehouse.settings import SETTINGS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented():
    names = [s.env for s in SETTINGS] + [f"COCKPIT_{k.upper()}" for k in load_model().settings]
    missing = [n for n in names if f"`{n}`" not in README]
    assert not missing, f"README's settings table lacks {missing}"


def test_quick_start_is_two_commands():
    block = README.split("## Quick start", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line for line in block.strip().splitlines() if line.strip()]
    assert len(commands) == 2
    assert "cockpit demo" in commands[0] and "pytest" in commands[1]
