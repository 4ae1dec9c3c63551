"""YAML that remembers where each mapping and item came from, so every problem is reported
as `themes/drg.yaml:42: message`.

>>> doc = load_text("a:\\n  b: 1\\n", "x.yaml")
>>> where(doc["a"])
'x.yaml:2'
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class LineDict(dict):
    """A mapping from YAML with its file and line, and the line of each key."""

    file: str = "?"
    line: int = 0
    key_lines: dict


class LineList(list):
    file: str = "?"
    line: int = 0
    item_lines: list


def _loader_for(file: str):
    class Loader(yaml.SafeLoader):
        pass

    def construct_mapping(loader, node, deep=False):
        loader.flatten_mapping(node)
        d = LineDict()
        d.file, d.line, d.key_lines = file, node.start_mark.line + 1, {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key in d:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark)
            d[key] = loader.construct_object(value_node, deep=True)
            d.key_lines[key] = key_node.start_mark.line + 1
        return d

    def construct_sequence(loader, node, deep=False):
        lst = LineList(loader.construct_object(n, deep=True) for n in node.value)
        lst.file, lst.line = file, node.start_mark.line + 1
        lst.item_lines = [n.start_mark.line + 1 for n in node.value]
        return lst

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, construct_sequence)
    # dates stay strings (the model decides what a value means), and only true/false are
    # booleans: YAML 1.1 would read a join's `on:` key as True
    Loader.yaml_implicit_resolvers = {
        k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"
            and not (tag == "tag:yaml.org,2002:bool" and k not in "tTfF")]
        for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
    return Loader


class YamlSyntaxError(Exception):
    def __init__(self, file: str, line: int, message: str):
        self.file, self.line = file, line
        super().__init__(f"{file}:{line}: {message}")


def load_text(text: str, file: str) -> Any:
    try:
        return yaml.load(text, Loader=_loader_for(file))  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 0
        raise YamlSyntaxError(file, line, f"{e.problem or e}") from e


def load_file(path: Path, display: str | None = None) -> Any:
    return load_text(path.read_text(encoding="utf-8"), display or str(path))


def where(node: Any, key: Any = None) -> str:
    """`file:line` of a node (or of one of its keys / items)."""
    file = getattr(node, "file", "?")
    line = getattr(node, "line", 0)
    if key is not None:
        if isinstance(node, LineDict):
            line = node.key_lines.get(key, line)
        elif isinstance(node, LineList) and isinstance(key, int) and key < len(node.item_lines):
            line = node.item_lines[key]
    return f"{file}:{line}"


def locate(root: Any, path: tuple) -> str:
    """The deepest `file:line` along a pydantic error location inside a loaded document."""
    node, best = root, where(root)
    for part in path:
        if isinstance(node, (LineDict, LineList)):
            best = where(node, part)
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, (LineDict, LineList)):
            best = where(node)
    return best
