"""RWMutex: Go's sync.RWMutex, a reader/writer mutual exclusion lock."""

from __future__ import annotations

from typing import NamedTuple

from ._native import RLockerBase, RWMutexBase
from ._nocopy import NoCopy
from ._public import public
from ._timeout import NO_DEADLINE, TimedLock, deadline_ns

__all__ = ["RWMutex", "RLocker", "RWMutexState"]


class RWMutexState(NamedTuple):
    """A snapshot of an RWMutex's state, for tests and debugging."""

    readers: int
    writer: bool
    reader_wait: int
    w_locked: bool


@public
class RLocker(RLockerBase, TimedLock, NoCopy):
    """RLocker is the read lock of an RWMutex as a Locker: lock and unlock
    are the RWMutex's rlock and runlock.

    lock(timeout=None) is rlock, with the same timeout. It also speaks
    threading.Lock's protocol (acquire, release, and the with statement);
    as with rlock, a thread holding it may still block on it when a writer
    is waiting (no recursive read locking, as in Go).
    """

    __slots__ = ()


@public
class RWMutex(RWMutexBase, TimedLock, NoCopy):
    """An RWMutex is a reader/writer mutual exclusion lock, with Go's
    semantics.

    The lock can be held by any number of readers or by a single writer. If
    a thread calls lock while readers hold the lock, new calls to rlock block
    until the writer has acquired and released it: a pending writer blocks
    new readers, so writers are not starved. The readers blocked by a writer
    all get the lock when it unlocks, before the next writer.

    A thread must not rlock an RWMutex it already holds for reading and
    expect it to succeed: a waiting writer blocks it (this deadlocks in Go
    too). Locks are not tied to threads. `with rw:` holds the write lock;
    `with rw.rlocker():` the read lock. It must not be copied or pickled.

    lock and acquire, which take the write lock, take a timeout: a writer that gives up leaves the RWMutex as
    if it had never asked, and the readers it blocked meanwhile get their
    lock. unlock, try_lock, runlock and try_rlock are implemented in C; see
    their docstrings.
    """

    __slots__ = ()

    def rlock(self, timeout: float | None = None) -> bool:
        """RLock locks the RWMutex for reading. It waits while a writer holds
        the lock or waits for it.

        With a timeout in seconds it gives up after that long and returns
        False, with nothing changed. A bad timeout raises before anything
        changes.
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
        """A snapshot of the state word and the writers' mutex, for tests."""
        # Decoded in C (_debug_fields); only the names are given here.
        return RWMutexState(*self._debug_fields())

    def __repr__(self) -> str:
        s = self._debug_state()
        return f"<gosync.RWMutex readers={s.readers} writer={s.writer}>"

