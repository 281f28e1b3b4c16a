"""Timeouts: seconds turned into deadlines, and the timed lock and acquire
that Mutex, RWMutex and RLocker share."""

from __future__ import annotations

import numbers
import threading
from typing import Any, Protocol

from ._mixin import name_after
from ._native import lib

__all__ = ["NO_DEADLINE", "deadline_ns", "TimedLock"]

NO_DEADLINE: int = lib.GOSYNC_NO_DEADLINE

# Deadlines are int64 nanoseconds on the monotonic clock. A timeout past this
# many nanoseconds (about 146 years) is waited for as if it were None.
_FOREVER_NS = 1 << 62


def deadline_ns(timeout: float) -> int:
    """deadline_ns returns the absolute deadline for a timeout in seconds.

    A non-number raises TypeError; a negative or NaN timeout raises
    ValueError; one above threading.TIMEOUT_MAX raises OverflowError, as
    threading.Lock.acquire does. Nothing is changed when it raises.
    """
    if type(timeout) is not float and type(timeout) is not int:
        if not isinstance(timeout, numbers.Real):
            raise TypeError(f"timeout must be a number or None, not {type(timeout).__name__}")
        timeout = float(timeout)
    if timeout != timeout:
        raise ValueError("timeout must not be NaN")
    if timeout < 0:
        raise ValueError("timeout must be a non-negative number")
    if timeout > threading.TIMEOUT_MAX:
        raise OverflowError("timeout value is too large")
    ns = int(timeout * 1e9)
    return NO_DEADLINE if ns >= _FOREVER_NS else lib.gosync_now_ns() + ns


class _CLock(Protocol):
    """What TimedLock needs of the C lock type it is mixed into."""

    def __enter__(self) -> bool: ...

    def _lock_until(self, deadline_ns: int, /) -> bool: ...

    def try_lock(self) -> bool: ...


class TimedLock:
    """TimedLock gives a lock type written in C its lock(timeout) and
    threading.Lock's acquire(blocking, timeout).

    It comes after the C type among a class's bases (PyPy lays out an
    instance wrongly when a Python class precedes the C base), which provides
    __enter__ (lock, waiting for ever), _lock_until(deadline_ns) and
    try_lock, and no lock or acquire of its own. For Mutex the lock is the mutex; for RWMutex, the write lock;
    for RLocker, the read lock.

    Each subclass gets its own copies of lock and acquire, named after it
    (see gosync._mixin.name_after), so that their errors name the public
    class and not this mixin.
    """

    __slots__ = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name_after(cls, TimedLock, ("lock", "acquire"))

    def lock(self: _CLock, timeout: float | None = None) -> bool:
        """Lock locks, waiting until the lock is available, and returns True.

        With a timeout in seconds, Lock gives up after that long and returns
        False; the lock is then as if this call had never been made. A bad
        timeout raises (TypeError, ValueError or OverflowError) before
        anything changes. Ctrl-C interrupts the wait with KeyboardInterrupt.
        """
        if timeout is None:
            return self.__enter__()
        return self._lock_until(deadline_ns(timeout))

    def acquire(self: _CLock, blocking: bool = True, timeout: float = -1) -> bool:
        """Acquire is threading.Lock.acquire: lock with an optional timeout.

        A timeout of -1 (the default) means none. Any other timeout must be a
        number, as for threading.Lock: None or a non-number is a TypeError,
        whether blocking or not. With blocking False it is try_lock, and a
        timeout is a ValueError. Otherwise the timeout behaves as in lock.
        """
        if timeout == -1:
            return self.__enter__() if blocking else self.try_lock()
        if timeout is None or not isinstance(timeout, numbers.Real):
            # Checked here, not left to deadline_ns, whose message offers None:
            # acquire, like threading.Lock.acquire, takes -1 for "no timeout".
            raise TypeError(f"timeout must be a number (-1 for none), not {type(timeout).__name__}")
        if not blocking:
            raise ValueError("can't specify a timeout for a non-blocking call")
        return self._lock_until(deadline_ns(timeout))

