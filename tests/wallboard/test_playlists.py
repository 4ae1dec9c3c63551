"""Playlists: the shipped default, validation errors that name file:line, the home's
playlists, a campus-limited screen."""
from __future__ import annotations

import pytest

from wallboard import playlists
from warehouse.errors import ConfigError


def test_default_playlist_ships_and_is_valid():
    pl = playlists.get(None)
    assert pl.name == "default" and pl.pages
    assert {p.page for p in pl.pages} == set(playlists.PAGES)
    assert all(p.seconds >= playlists.MIN_SECONDS for p in pl.pages)
    js = pl.to_json()
    assert js["pages"][0]["title"] == playlists.PAGES[pl.pages[0].page]


@pytest.mark.parametrize("text, where, words", [
    ("pages:\n  - {page: overview, seconds: 30}\n  - {page: nope, seconds: 30}\n", "x.yaml:3",
     "nope"),
    ("pages:\n  - page: overview\n    seconds: 2\n", "x.yaml:3", "seconds"),
    ("pages:\n  - page: overview\n    second: 20\n", "x.yaml:3", "unknown key"),
    ("title: x\ncolour: red\npages: [overview]\n", "x.yaml:2", "unknown key"),
    ("pages: []\n", "x.yaml:1", "non-empty"),
    ("pages:\n  - {page: overview, seconds: 30\n", "x.yaml:", ""),
    ("campus: 'C 01'\npages: [overview]\n", "x.yaml:1", "campus"),
])
def test_errors_name_file_and_line(text, where, words):
    with pytest.raises(ConfigError) as e:
        playlists.load_text(text, "x.yaml")
    assert str(e.value).startswith(where)
    assert words in str(e.value)


def test_home_playlists_and_override(tmp_path, monkeypatch):
    monkeypatch.setenv("COCKPIT_HOME", str(tmp_path))
    (tmp_path / "playlists").mkdir()
    (tmp_path / "playlists" / "lobby.yaml").write_text(
        "title: 门诊大厅\ncampus: C02\npages:\n  - {page: departments, seconds: 15}\n"
        "  - overview\n", encoding="utf-8")
    pl = playlists.get("lobby")
    assert (pl.title, pl.campus, pl.cycle_seconds) == ("门诊大厅", "C02", 45)
    assert "lobby" in playlists.load_all() and "default" in playlists.load_all()
    with pytest.raises(ConfigError):
        playlists.get("../etc/passwd")
    with pytest.raises(ConfigError):
        playlists.get("no-such")


def test_campus_limited_screen_pins_every_page():
    pl = playlists.load_text("pages:\n  - {page: overview, seconds: 10, campus: C01}\n"
                             "  - {page: trends, seconds: 10}\n", "x.yaml")
    pinned = pl.for_campus("C02")
    assert pinned.campus == "C02" and {p.campus for p in pinned.pages} == {"C02"}
    assert pl.for_campus(None) is pl
