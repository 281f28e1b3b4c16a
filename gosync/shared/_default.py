"""The default arena: where the module-level constructors of gosync.shared
(Mutex(), atomic.Int64(), ...) allocate."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Callable, TypeVar

from ._arena import Arena

if TYPE_CHECKING:
    from ._placed import Placed

__all__ = ["default_arena", "place"]

P = TypeVar("P", bound="Placed")

_default: Arena | None = None
_default_lock = threading.Lock()


def default_arena() -> Arena:
    """default_arena returns this process's default arena, an anonymous
    one made on first use, from which the module-level constructors
    (gosync.shared.Mutex(), ...) allocate."""
    global _default
    with _default_lock:
        if _default is None or _default.closed:
            _default = Arena()
        return _default


def place(make: Callable[[Arena], P]) -> P:
    """place returns make(arena) for the default arena; when that arena is
    full, for a new default arena."""
    global _default
    arena = default_arena()
    try:
        return make(arena)
    except MemoryError:
        with _default_lock:
            if _default is arena:
                _default = Arena()
        return make(default_arena())


def _after_fork_in_child() -> None:
    global _default_lock
    # A thread of the parent may have held it at the fork. The child keeps
    # using the parent's default arena: it is the same memory.
    _default_lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)
