"""Mutex: Go's sync.Mutex in shared memory, surviving a killed owner."""

from __future__ import annotations

from typing import NamedTuple

from .._native import SharedMutexBase
from .._nocopy import NoCopy
from .._public import public
from .._timeout import TimedLock
from ._default import place
from ._named import check_name, profile_name
from ._placed import Placed, placed

__all__ = ["Mutex", "MutexState"]


class MutexState(NamedTuple):
    """A snapshot of a shared Mutex's word, for tests and debugging."""

    owner: int
    waiters: bool
    starving: bool
    handoff: bool
    inconsistent: bool
    not_recoverable: bool


@placed
@public
class Mutex(SharedMutexBase, Placed, TimedLock, NoCopy):  # type: ignore[misc]  # Placed pickles what NoCopy refuses
    """A Mutex is a mutual exclusion lock shared by processes, with Go's
    semantics and gosync.Mutex's API: lock(timeout), unlock, try_lock,
    locked, acquire/release and the with statement. Any process may unlock
    it, as in Go. Mutex() allocates from this process's default arena;
    arena.Mutex() from a given one. It pickles to a handle.

    If a process dies holding it (SIGKILL included), the next acquirer gets
    the lock and OwnerDied, raised while it holds the lock, from lock(),
    acquire(), the with statement and try_lock() alike (a with statement's
    body does not run then: catch OwnerDied around it). It repairs the data,
    calls mark_consistent(), then unlocks. Unlocking without
    mark_consistent() makes the mutex unrecoverable: every later acquire
    raises SyncError("sync: mutex not recoverable"). A waiter blocked behind
    a dead owner gets the lock within 200 ms of the death.
    """

    # _arena and _slot are members of the C type.
    __slots__ = ()
    _kind = 1

    def __new__(cls, *, name: str | None = None) -> Mutex:
        check_name(cls, name)
        return profile_name(place(cls._make), name)

    def _debug_state(self) -> MutexState:
        """A snapshot of the lock word, for tests."""
        return MutexState(*self._debug_fields())

    def __repr__(self) -> str:
        closed = self._closed_repr()
        if closed:
            return closed
        s = self._debug_state()
        held = f"locked by pid {s.owner}" if s.owner else "unlocked"
        extra = " inconsistent" if s.inconsistent else " not recoverable" if s.not_recoverable else ""
        return f"<gosync.shared.Mutex {held}{extra}>"
