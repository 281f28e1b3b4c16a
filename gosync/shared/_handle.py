"""Handles: how a primitive of gosync.shared names itself to another
process (locator, arena id, slot, kind), and how unpickling finds it."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, cast

from . import _arena
from ._arena import Arena, path
from ._layout import CLASSES, NAME

if TYPE_CHECKING:
    from ._placed import Placed

__all__ = ["arena_for", "attach"]


def arena_for(locator: Any, arena_id: Any) -> Arena:
    """The arena a handle names: this process's mapping of it if there is
    one, else a new one, checked against the handle's id."""
    if type(arena_id) is not bytes or len(arena_id) != 16:
        raise ValueError(f"bad gosync.shared handle: arena id {arena_id!r}")
    if type(locator) is tuple and len(locator) == 2 and locator[0] == "name" and type(locator[1]) is str:
        if not NAME.fullmatch(locator[1]):
            raise ValueError(f"bad gosync.shared handle: arena name {locator[1]!r}")
    elif not (
        type(locator) is tuple
        and len(locator) == 3
        and locator[0] == "memfd"
        and type(locator[1]) is int
        and type(locator[2]) is int
        and locator[1] > 0
        and locator[2] >= 0
    ):
        raise ValueError(f"bad gosync.shared handle: locator {locator!r}")
    with _arena.cache_lock:
        arena = _arena.cache.get(arena_id)
    if arena is not None and not arena.closed:
        return arena
    # A bad handle may name any file: O_NOCTTY so that a terminal never
    # becomes this process's controlling one, O_NONBLOCK so that opening a
    # device never waits (neither changes anything for an arena's file).
    flags = os.O_RDWR | os.O_CLOEXEC | os.O_NOCTTY | os.O_NONBLOCK
    if locator[0] == "name":
        name = cast(str, locator[1])
        return Arena._from_fd(os.open(path(name), flags), name, arena_id)
    _, pid, fd = locator
    try:
        mine = os.open(f"/proc/{pid}/fd/{fd}", flags)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"gosync.shared: the anonymous arena's process (pid {pid}) has exited or closed it"
        ) from None
    return Arena._from_fd(mine, None, arena_id)


def attach(locator: Any, arena_id: Any, slot: Any, kind: Any) -> Placed:
    """attach returns the primitive a handle names (what unpickling calls).
    A handle that names no such primitive raises ValueError (or
    FileNotFoundError for an arena that is gone)."""
    cls = CLASSES.get(kind) if type(kind) is int else None
    if cls is None:
        raise ValueError(f"bad gosync.shared handle: kind {kind!r}")
    return arena_for(locator, arena_id)._attach(slot, cls)
