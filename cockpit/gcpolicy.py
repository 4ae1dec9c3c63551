"""When the cockpit's processes let Python's cyclic garbage collector run.

Start-up builds objects that live as long as the process: modules, the metric model, Dash's
layout and callback maps (~170 k tracked objects in a server process). CPython walks all of
them in every full collection (~85 ms measured here), which then lands at a random moment
inside a request or a query's compile: the p95 of a page callback and the slowest compiles
were such pauses. So:

- `starting()` (`cockpit query`, before its imports): collect rarely while importing, since
  a collection during start-up finds next to nothing to free;
- `settled()` (start-up done: `cockpit serve` / `demo` once the server is built, a CLI query
  about to run): collect once, move what survives into the permanent generation
  (`gc.freeze`), where later collections do not walk it, and go back to the default
  thresholds. Other commands (load, refresh, …) keep CPython's defaults throughout.

Nothing here turns the collector off: garbage cycles made after start-up are collected as
usual, only faster.
"""
from __future__ import annotations

import gc

#: CPython's defaults (gen0 allocations, gen1 and gen2 collection ratios)
DEFAULT_THRESHOLD = (700, 10, 10)
#: while importing: a young collection every 100 k allocations instead of every 700
STARTUP_THRESHOLD = (100_000, 50, 50)


def starting() -> None:
    """Start-up begins: collect rarely until `settled()`."""
    gc.set_threshold(*STARTUP_THRESHOLD)


def settled(collect: bool = True) -> None:
    """Start-up is over: what is alive now lives as long as the process. `collect=False`
    skips the one full collection first (a one-shot CLI command: the little garbage start-up
    left is then kept until exit, which is sooner than the ~60 ms the collection costs)."""
    if collect:
        gc.collect()
    gc.freeze()
    gc.set_threshold(*DEFAULT_THRESHOLD)
