"""Mutex: Go's sync.Mutex, with Python's lock protocol on top."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from ._native import MutexBase
from ._nocopy import NoCopy
from ._public import public
from ._timeout import TimedLock

__all__ = ["Mutex", "MutexState"]

class MutexState(NamedTuple):
    """A snapshot of a Mutex's state word and semaphore, for tests and
    debugging. The fields can disagree with each other if other threads are
    using the mutex while it is taken."""

    locked: bool
    woken: bool
    starving: bool
    waiters: int
    sema_tokens: int
    sema_waiters: int


if TYPE_CHECKING:
    # For type checkers only: typeshed's threading.Condition accepts just
    # the standard library's lock types, which it declares final. Mutex
    # speaks their protocol (acquire, release, locked, the with statement),
    # which is all Condition uses, so it is declared one of them, so that
    # threading.Condition(gosync.Mutex()) type-checks as it runs.
    from _thread import LockType as _StdlibLock
else:
    _StdlibLock = object


@public
class Mutex(MutexBase, TimedLock, NoCopy, _StdlibLock):  # type: ignore[misc]
    """A Mutex is a mutual exclusion lock, with Go's semantics.

    A Mutex is created unlocked. It is not tied to a thread: one thread may
    lock it and another unlock it. It is not reentrant: a thread that locks
    a Mutex it already holds waits forever (or until its timeout).

    Lock uses Go's two modes. In normal mode a woken waiter competes with
    newly arriving threads, which keeps throughput high. A waiter that fails
    to get the lock for more than 1 ms switches the mutex to starvation mode,
    in which Unlock hands the mutex directly to the waiter at the front of
    the queue, so no waiter starves.

    A Mutex also speaks threading.Lock's protocol (acquire, release, locked,
    and the with statement), so it can serve as the lock of a
    threading.Condition. It must not be copied or pickled.

    After os.fork(), the child's copy is as it was at the fork. If it was
    unlocked and idle, or held by the forking thread (even with other
    threads asleep in lock() on it), the child can use it, unlocking it
    first in the second case. If another thread held it, it stays locked
    in the child. If another thread was in the middle of locking or
    unlocking it, nothing is promised. See the README's "Threads, asyncio
    and fork()".

    lock and acquire take a timeout; unlock, release, try_lock, locked and
    the with statement are implemented in C. See their docstrings.
    """

    __slots__ = ()

    def _debug_state(self) -> MutexState:
        """A snapshot of the state word and the semaphore, for tests."""
        # Decoded in C (_debug_fields); only the names are given here.
        return MutexState(*self._debug_fields())

    def __repr__(self) -> str:
        s = self._debug_state()
        mode = " starving" if s.starving else ""
        held = "locked" if s.locked else "unlocked"
        return f"<gosync.Mutex {held}{mode} waiters={s.waiters}>"
