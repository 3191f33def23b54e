"""A value computed once per live object, for objects that cannot be dictionary keys
(pandas frames) or are costly to hash (a format's frozen tables)."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

Value = TypeVar("Value")


class IdentityCache(Generic[Value]):
    """`make(obj)`, remembered while `obj` lives. Keyed by identity: an object that
    has gone away cannot lend its value to a newcomer at the same address, and the
    entries of dead objects are dropped whenever a new one is added."""

    def __init__(self, make: Callable[[object], Value]) -> None:
        self._make = make
        self._entries: dict[int, tuple[weakref.ref, Value]] = {}

    def __call__(self, obj: object) -> Value:
        entry = self._entries.get(id(obj))
        if entry is None or entry[0]() is not obj:
            value = self._make(obj)
            for key in [k for k, (ref, _) in self._entries.items() if ref() is None]:
                del self._entries[key]
            entry = self._entries[id(obj)] = (weakref.ref(obj), value)
        return entry[1]
