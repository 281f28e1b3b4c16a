"""Cond: Go's sync.Cond, a condition variable."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Optional

from ._native import CondBase
from ._nocopy import NoCopy
from ._public import public
from ._timeout import NO_DEADLINE, deadline_ns
from .mutex import Mutex
from .rwmutex import RLocker, RWMutex

__all__ = ["Cond", "CondState"]


class CondState(NamedTuple):
    """A snapshot of a Cond's notify list, for tests."""

    waiters: int
    pending: int


@public
class Cond(CondBase, NoCopy):
    """Cond implements a condition variable, a rendezvous point for threads
    waiting for or announcing the occurrence of an event.

    Each Cond has an associated lock L, which must be held when calling
    wait. L is a gosync Locker (lock/unlock, such as Mutex or
    RWMutex.rlocker()) or anything with acquire/release (threading.Lock).

    wait unlocks L, suspends the calling thread, and locks L again before
    returning: also on timeout and on KeyboardInterrupt. For gosync's own
    locks (Mutex, RWMutex, and rlocker()), that holds even when a signal
    handler raises while wait locks L again: the handler runs once L is held,
    and its exception is chained to any that ended the wait. For other
    locks (threading.Lock, a subclass of a gosync lock), wait calls L's own
    acquire/lock, and if that raises, wait raises with L not held, as
    threading.Condition does. Unlike in other
    systems, wait cannot return unless awoken by signal or broadcast (or its
    timeout), so callers loop on their condition:

        with c.L:
            while not condition():
                c.wait()

    signal wakes the thread that has waited longest; broadcast wakes all
    threads waiting now. Neither requires holding L. A thread that starts
    waiting after a signal or broadcast is not woken by it.
    L cannot be reassigned (AttributeError), and a Cond must not be copied
    or pickled.
    """

    # _L, _native, _unlock and _lock are members of the C type.
    __slots__ = ()

    _L: Any
    _native: Any
    _unlock: Callable[[], object]
    _lock: Callable[[], object]

    def __init__(self, L: Any, *, name: Optional[str] = None) -> None:
        # name= is the profiles' label, which the C type's __new__ took.
        if callable(getattr(L, "lock", None)) and callable(getattr(L, "unlock", None)):
            self._lock, self._unlock = L.lock, L.unlock
        elif callable(getattr(L, "acquire", None)) and callable(getattr(L, "release", None)):
            self._lock, self._unlock = L.acquire, L.release
        else:
            raise TypeError(
                f"Cond needs a Locker (lock/unlock) or acquire/release, not {type(L).__name__}"
            )
        self._L = L
        # gosync's own lock types (not subclasses, which may override lock
        # or unlock) are unlocked and relocked in C.
        self._native = L if type(L) in (Mutex, RWMutex, RLocker) else None

    @property
    def L(self) -> Any:
        """The lock given to the constructor, held around wait."""
        return self._L

    @L.setter
    def L(self, L: object) -> None:
        # wait calls the methods found on L at construction; a new L would be
        # ignored, so that a waiter unlocks one lock and the caller holds
        # another. Refuse it instead.
        raise AttributeError("Cond.L is fixed when the Cond is made: make a new Cond for another lock")

    def wait(self, timeout: float | None = None) -> bool:
        """Wait unlocks L, waits for signal or broadcast, and locks L again.
        It returns True when woken.

        With a timeout in seconds it returns False after that long if not
        woken; L is locked again either way. A bad timeout raises before L
        is touched. If L is not held, the error of unlocking it propagates
        and the Cond is unchanged.
        """
        deadline = NO_DEADLINE if timeout is None else deadline_ns(timeout)
        return self._wait(self._native, self._unlock, self._lock, deadline)

    def _debug_state(self) -> CondState:
        """A snapshot of the notify list, for tests."""
        # Decoded in C (_debug_fields); only the names are given here.
        return CondState(*self._debug_fields())

    def __repr__(self) -> str:
        s = self._debug_state()
        return f"<gosync.Cond waiters={s.waiters}>"
