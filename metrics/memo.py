"""A memo keyed on the identity of long-lived objects (a model, a fact, its settings).

The semantic layer rebuilds the same SQL trees and texts for every query and every minute's
refresh; building and rendering them with sqlglot costs more than DuckDB answering them.
Models are pydantic objects (not hashable), so entries are keyed by their ids, and each entry
holds its owners: while it lives no other object can take those ids, and a reloaded model
never reads another's entries.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable


class IdentityMemo:
    """`get(owners, key, build)`: `build()` once per (owners by identity, key); the least
    recently used entries go past `size`. Thread-safe (the server's callbacks share it)."""

    def __init__(self, size: int):
        self._entries: OrderedDict[tuple, tuple[tuple, Any]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, owners: tuple, key: tuple, build: Callable[[], Any]) -> Any:
        k = tuple(id(o) for o in owners) + key
        with self._lock:
            hit = self._entries.get(k)
            if hit is not None and all(a is b for a, b in zip(hit[0], owners)):
                self._entries.move_to_end(k)
                return hit[1]
        value = build()  # outside the lock: a slow build does not hold up other threads
        with self._lock:
            self._entries[k] = (owners, value)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
