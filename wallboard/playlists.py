"""Wallboard playlists: which pages a screen shows, how long each, for which campus.

    # wallboard/playlists/default.yaml  (shown at /wallboard; others at /wallboard/<name>)
    title: 医院运营大屏
    campus: null            # null = the hospital (main + branch campuses), or a campus id
    pages:
      - {page: overview, seconds: 40}
      - {page: network, seconds: 20}
      - {page: departments, seconds: 25, campus: C02}   # a page may name its own campus

Playlists are read from `wallboard/playlists/*.yaml` and then `<COCKPIT_HOME>/playlists/*.yaml`
(same name: the home's wins). Every problem is reported as `file:line: message`.

>>> pl = load_text("pages:\\n  - {page: overview, seconds: 30}\\n", "x.yaml")
>>> pl.pages[0].page, pl.cycle_seconds
('overview', 30)
>>> load_text("pages:\\n  - {page: nope, seconds: 30}\\n", "x.yaml")
Traceback (most recent call last):
...
warehouse.errors.ConfigError: x.yaml:2: page 'nope' is not one of overview, network, departments, trends
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from metrics.yaml_lines import LineDict, LineList, YamlSyntaxError
from metrics.yaml_lines import load_text as _yaml
from metrics.yaml_lines import where
from warehouse import settings as wsettings
from warehouse.errors import ConfigError

HERE = Path(__file__).resolve().parent / "playlists"

#: the pages a playlist can show (wallboard.layouts builds them), with their Chinese titles
PAGES = {"overview": "运营总览", "network": "院区与医联体", "departments": "科室排名",
         "trends": "运行趋势"}
MIN_SECONDS, MAX_SECONDS = 5, 3600
NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_TOP_KEYS = {"title", "campus", "pages"}
_PAGE_KEYS = {"page", "seconds", "campus"}


@dataclass(frozen=True)
class PageSpec:
    page: str
    seconds: int
    campus: str | None = None

    @property
    def title(self) -> str:
        return PAGES[self.page]


@dataclass(frozen=True)
class Playlist:
    name: str
    title: str
    campus: str | None
    pages: tuple[PageSpec, ...]
    source: str = ""

    @property
    def cycle_seconds(self) -> int:
        return sum(p.seconds for p in self.pages)

    def for_campus(self, campus: str | None) -> "Playlist":
        """The playlist pinned to one campus (a campus-limited kiosk token)."""
        if not campus:
            return self
        return Playlist(self.name, self.title, campus,
                        tuple(PageSpec(p.page, p.seconds, campus) for p in self.pages),
                        self.source)

    def to_json(self) -> dict:
        return {"name": self.name, "title": self.title, "campus": self.campus,
                "pages": [{"page": p.page, "seconds": p.seconds, "campus": p.campus or
                           self.campus, "title": p.title} for p in self.pages]}


def _campus(v, node, key) -> str | None:
    if v is None or v == "":
        return None
    if not isinstance(v, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", v):
        raise ConfigError(f"{where(node, key)}: campus must be a campus id such as C01 "
                          f"(or null for the hospital), got {v!r}")
    return v


def parse(doc, file: str, name: str) -> Playlist:
    """A loaded YAML document → a validated Playlist (ConfigError with file:line)."""
    if not isinstance(doc, LineDict):
        raise ConfigError(f"{file}:1: a playlist is a mapping with `pages:` (and optionally "
                          "`title:` and `campus:`)")
    for k in doc:
        if k not in _TOP_KEYS:
            raise ConfigError(f"{where(doc, k)}: unknown key {k!r} (expected one of "
                              f"{', '.join(sorted(_TOP_KEYS))})")
    title = doc.get("title", "医院运营大屏")
    if not isinstance(title, str) or not title.strip():
        raise ConfigError(f"{where(doc, 'title')}: title must be text")
    campus = _campus(doc.get("campus"), doc, "campus")
    pages = doc.get("pages")
    if not isinstance(pages, LineList) or not pages:
        raise ConfigError(f"{where(doc, 'pages') if 'pages' in doc else file + ':1'}: "
                          "`pages:` must be a non-empty list of {page, seconds}")
    out = []
    for i, item in enumerate(pages):
        at = where(pages, i)
        if isinstance(item, str):  # shorthand: "- overview" (30 s)
            item = LineDict(page=item, seconds=30)
            item.file, item.line, item.key_lines = file, pages.item_lines[i], {}
        if not isinstance(item, LineDict):
            raise ConfigError(f"{at}: a page is a mapping {{page: …, seconds: …}}")
        for k in item:
            if k not in _PAGE_KEYS:
                raise ConfigError(f"{where(item, k)}: unknown key {k!r} (expected one of "
                                  f"{', '.join(sorted(_PAGE_KEYS))})")
        page = item.get("page")
        if page not in PAGES:
            raise ConfigError(f"{where(item, 'page') if 'page' in item else at}: page {page!r} "
                              f"is not one of {', '.join(PAGES)}")
        seconds = item.get("seconds", 30)
        if isinstance(seconds, bool) or not isinstance(seconds, int) or not (
                MIN_SECONDS <= seconds <= MAX_SECONDS):
            raise ConfigError(f"{where(item, 'seconds') if 'seconds' in item else at}: seconds "
                              f"must be a whole number from {MIN_SECONDS} to {MAX_SECONDS}, "
                              f"got {seconds!r}")
        out.append(PageSpec(page, seconds, _campus(item.get("campus"), item, "campus")))
    return Playlist(name, title.strip(), campus, tuple(out), file)


def load_text(text: str, file: str, name: str | None = None) -> Playlist:
    try:
        doc = _yaml(text, file)
    except YamlSyntaxError as e:
        raise ConfigError(str(e)) from None
    return parse(doc, file, name or Path(file).stem)


def load_file(path: Path) -> Playlist:
    name = path.stem
    if not NAME_RE.match(name):
        raise ConfigError(f"{path}:1: a playlist's file name is its URL (/wallboard/<name>): "
                          "letters, digits, - and _ only")
    return load_text(path.read_text(encoding="utf-8"), str(path), name)


def folders() -> list[Path]:
    return [HERE, wsettings.home() / "playlists"]


def load_all() -> dict[str, Playlist]:
    """Every playlist by name (the home's override the packaged ones)."""
    out: dict[str, Playlist] = {}
    for folder in folders():
        if folder.is_dir():
            for path in sorted(folder.glob("*.yaml")):
                pl = load_file(path)
                out[pl.name] = pl
    return out


def get(name: str | None) -> Playlist:
    """The playlist `name` (None → default); ConfigError when there is none such."""
    name = name or "default"
    if not NAME_RE.match(name):
        raise ConfigError(f"no playlist {name!r}")
    for folder in reversed(folders()):
        path = folder / f"{name}.yaml"
        if path.is_file():
            return load_file(path)
    raise ConfigError(f"no playlist {name!r} (looked in {', '.join(map(str, folders()))})")
