"""The Locker interface, as Go's sync.Locker."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["Locker"]


@runtime_checkable
class Locker(Protocol):
    """A Locker represents an object that can be locked and unlocked.

    gosync.Mutex, gosync.RWMutex and the value of RWMutex.rlocker() are
    Lockers. Cond accepts one as its L.
    """

    def lock(self) -> object: ...

    def unlock(self) -> None: ...
