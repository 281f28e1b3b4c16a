"""Mutex: Go's sync.Mutex, with Python's lock protocol on top."""

from __future__ import annotations

from typing import NamedTuple

from ._core import NO_DEADLINE, OK, NoCopy, SyncError, deadline_ns, ffi, finish_wait, lib

__all__ = ["Mutex", "MutexState"]

_LOCKED = lib.GOSYNC_MUTEX_LOCKED
_WOKEN = lib.GOSYNC_MUTEX_WOKEN
_STARVING = lib.GOSYNC_MUTEX_STARVING
_WAITER_SHIFT = lib.GOSYNC_MUTEX_WAITER_SHIFT

# Bound once: a module global is cheaper to reach than an attribute of lib.
_lock = lib.gosync_py_mutex_lock
_try_lock = lib.gosync_mutex_try_lock
_unlock = lib.gosync_mutex_unlock
_state = lib.gosync_mutex_state


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


class Mutex(NoCopy):
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
    """

    __slots__ = ("_m", "__weakref__")

    def __init__(self) -> None:
        self._m = ffi.new("gosync_mutex *")

    def lock(self, timeout: float | None = None) -> bool:
        """Lock locks the mutex, waiting until it is available.

        With a timeout in seconds, Lock gives up after that long and returns
        False; the mutex is then as if this call had never been made. It
        returns True when the mutex is held. A bad timeout raises (TypeError,
        ValueError or OverflowError) before anything changes. Ctrl-C
        interrupts the wait with KeyboardInterrupt.
        """
        deadline = NO_DEADLINE if timeout is None else deadline_ns(timeout)
        rc = _lock(self._m, deadline)
        return rc == OK or finish_wait(rc, _lock, self._m, deadline)

    def unlock(self) -> None:
        """Unlock unlocks the mutex.

        Unlocking a mutex that is not locked raises
        SyncError("sync: unlock of unlocked mutex") and changes nothing.
        """
        if _unlock(self._m):
            raise SyncError("sync: unlock of unlocked mutex")

    def try_lock(self) -> bool:
        """TryLock tries to lock the mutex without waiting, and reports
        whether it succeeded.

        It fails in starvation mode even when the mutex is momentarily
        unlocked, because ownership is then being handed to a waiter.
        """
        return _try_lock(self._m)

    def locked(self) -> bool:
        """Locked reports whether the mutex is held, or being handed to a
        waiter (so that try_lock would fail)."""
        return bool(_state(self._m) & (_LOCKED | _STARVING))

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Acquire is threading.Lock.acquire: lock with an optional timeout.

        With blocking False it is try_lock, and a timeout other than -1 is a
        ValueError. Otherwise a timeout of -1 waits forever, and any other
        timeout behaves as in lock.
        """
        if not blocking:
            if timeout != -1:
                raise ValueError("can't specify a timeout for a non-blocking call")
            return _try_lock(self._m)
        return self.lock(None if timeout == -1 else timeout)

    def release(self) -> None:
        """Release is unlock, under threading.Lock's name."""
        if _unlock(self._m):
            raise SyncError("sync: unlock of unlocked mutex")

    __enter__ = lock

    def __exit__(self, *exc_info: object) -> None:
        if _unlock(self._m):
            raise SyncError("sync: unlock of unlocked mutex")

    def _debug_state(self) -> MutexState:
        """A snapshot of the state word and the semaphore, for tests."""
        word = _state(self._m)
        sema = lib.gosync_py_mutex_sema(self._m)
        return MutexState(
            locked=bool(word & _LOCKED),
            woken=bool(word & _WOKEN),
            starving=bool(word & _STARVING),
            waiters=word >> _WAITER_SHIFT,
            sema_tokens=lib.gosync_sema_tokens(sema),
            sema_waiters=lib.gosync_sema_waiters(sema),
        )

    def __repr__(self) -> str:
        s = self._debug_state()
        mode = " starving" if s.starving else ""
        held = "locked" if s.locked else "unlocked"
        return f"<gosync.Mutex {held}{mode} waiters={s.waiters}>"
