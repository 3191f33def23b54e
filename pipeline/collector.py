"""The cyclic garbage collector in a command's own process, in one place.

A build loads dagster, pandas and pyarrow: ~250,000 long-lived objects. While they load,
the collector walks the growing heap again and again, and when the process ends Python's
last collections walk it once more. The console script runs its command inside
`paused_while_loading()`: the collector is paused until the command says its modules are
in (`loaded()`), then those objects are frozen out of its walks (gc.freeze, as the
CPython docs advise for a process's start-up objects) and it collects as usual; at exit
everything is frozen, so nothing is walked again. Outside the context (the tests calling
`main`, the portal) `loaded()` does nothing. The resident rebuild worker, loaded once and
living long, freezes what it loaded with `freeze_loaded()`.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_paused = False


@contextmanager
def paused_while_loading() -> Iterator[None]:
    global _paused
    gc.disable()
    _paused = True
    try:
        yield
    finally:
        loaded()  # a command that did not say so itself
        gc.freeze()  # the process ends: no object needs collecting now


def loaded() -> None:
    """The command's modules are loaded: its start-up objects leave the collector's care."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def freeze_loaded() -> None:
    """A long-lived process has loaded what it needs: collect once, then freeze the rest."""
    gc.collect()
    gc.freeze()
