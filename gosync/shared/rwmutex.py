"""RWMutex: Go's sync.RWMutex in shared memory, surviving killed holders."""

from __future__ import annotations

from typing import NamedTuple

from .._native import SharedRWMutexBase
from .._nocopy import NoCopy
from .._public import public
from .._timeout import NO_DEADLINE, TimedLock, deadline_ns
from ._default import place
from ._named import check_name, profile_name
from ._placed import Placed, placed

__all__ = ["RWMutex", "RLocker", "RWMutexState"]


class RWMutexState(NamedTuple):
    """A snapshot of a shared RWMutex, for tests and debugging."""

    readers: int
    writer: bool
    inconsistent: bool


@placed
@public
class RWMutex(SharedRWMutexBase, Placed, TimedLock, NoCopy):  # type: ignore[misc]  # Placed pickles what NoCopy refuses
    """An RWMutex is a reader/writer mutual exclusion lock shared by
    processes, with gosync.RWMutex's API: lock(timeout), unlock, try_lock,
    rlock(timeout), runlock, try_rlock, rlocker(), and the with statement
    for the write lock. RWMutex() allocates from this process's default
    arena; arena.RWMutex() from a given one. It pickles to a handle.

    A reader that dies holding read locks has them released: writers get
    in. A writer that dies holding the lock is taken over as a Mutex's
    owner is: the next lock() or try_lock() gets the write lock and
    OwnerDied; so do rlock() and try_rlock(), which then hold the WRITE
    lock (repair, mark_consistent(), then unlock(), not runlock()).

    Read locks are counted per process (at most 64 processes at a time, and
    1023 read holds in one). Unlike Go's, a stream of writers can keep
    readers waiting: there is no handoff to the readers a writer blocked.
    """

    # _arena and _slot are members of the C type.
    __slots__ = ()
    _kind = 2

    def __new__(cls, *, name: str | None = None) -> RWMutex:
        check_name(cls, name)
        return profile_name(place(cls._make), name)

    def rlock(self, timeout: float | None = None) -> bool:
        """RLock locks the RWMutex for reading. It waits while a writer holds
        the lock or waits for it.

        With a timeout in seconds it gives up after that long and returns
        False, with nothing changed. A bad timeout raises before anything
        changes. OwnerDied means a writer died holding the lock: the caller
        holds the write lock now.
        """
        return self._rlock_until(NO_DEADLINE if timeout is None else deadline_ns(timeout))

    def rlocker(self) -> RLocker:
        """RLocker returns a Locker whose lock and unlock are rlock and
        runlock; it also works in a with statement."""
        return RLocker(self)

    def release(self) -> None:
        """Release is unlock, under threading.Lock's name."""
        self.unlock()

    def _debug_state(self) -> RWMutexState:
        """A snapshot of the readers and the writer, for tests."""
        return RWMutexState(*self._debug_fields())

    def __repr__(self) -> str:
        closed = self._closed_repr()
        if closed:
            return closed
        s = self._debug_state()
        return f"<gosync.shared.RWMutex readers={s.readers} writer={s.writer}>"


class RLocker(TimedLock):
    """RLocker is the read lock of a shared RWMutex as a Locker: lock and
    unlock are its rlock and runlock, acquire and release too, and the with
    statement holds a read lock."""

    __slots__ = ("_rw",)

    def __init__(self, rw: RWMutex) -> None:
        self._rw = rw

    @property
    def rwmutex(self) -> RWMutex:
        """The RWMutex whose read lock this is."""
        return self._rw

    def __enter__(self) -> bool:
        return self._rw._rlock_until(NO_DEADLINE)

    def __exit__(self, *exc_info: object) -> None:
        self._rw.runlock()

    def _lock_until(self, deadline: int, /) -> bool:
        return self._rw._rlock_until(deadline)

    def try_lock(self) -> bool:
        """TryLock is the RWMutex's try_rlock."""
        return self._rw.try_rlock()

    def unlock(self) -> None:
        """Unlock is the RWMutex's runlock."""
        self._rw.runlock()

    def release(self) -> None:
        """Release is unlock, under threading.Lock's name."""
        self._rw.runlock()
