"""Shared pieces of the Python layer: the compiled module and its lock types,
timeouts, the misuse error, and the no-copy rule."""

from __future__ import annotations

import numbers
import sys
import threading
from typing import Callable, NoReturn

from . import _gosync
from ._gosync import ffi, lib

__all__ = [
    "ffi",
    "lib",
    "SyncError",
    "NoCopy",
    "deadline_ns",
    "acquire",
    "NO_DEADLINE",
    "MutexBase",
    "RWMutexBase",
    "RLockerBase",
    "WaitGroupBase",
    "CondBase",
]

# The lock types live in the binding (see _binding.c for why).
if lib.gosync_py_add_types() != 0:
    raise ImportError("gosync: could not create the lock types")
MutexBase = _gosync.MutexBase
RWMutexBase = _gosync.RWMutexBase
RLockerBase = _gosync.RLockerBase
WaitGroupBase = _gosync.WaitGroupBase
CondBase = _gosync.CondBase

NO_DEADLINE: int = lib.GOSYNC_NO_DEADLINE

# Deadlines are int64 nanoseconds on the monotonic clock. A timeout past this
# many nanoseconds (about 146 years) is waited for as if it were None.
_FOREVER_NS = 1 << 62


class SyncError(RuntimeError):
    """SyncError reports misuse of a primitive, with Go's message.

    Go treats these as fatal errors. In gosync the failed call changes no
    state, so the primitive stays usable and the error can be caught.
    """


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


def acquire(
    lock: Callable[[], bool],
    lock_until: Callable[[int], bool],
    try_lock: Callable[[], bool],
    blocking: bool,
    timeout: float,
) -> bool:
    """acquire applies threading.Lock.acquire's arguments to a lock given as
    its three C calls: lock (wait forever), lock_until (wait until a
    deadline) and try_lock.

    A timeout of -1 (the default) means none. Any other timeout must be a
    number, as for threading.Lock: None or a non-number is a TypeError,
    whether blocking or not. With blocking False it is try_lock, and a
    timeout is a ValueError; otherwise the timeout is validated as by
    deadline_ns.
    """
    if timeout == -1:
        return lock() if blocking else try_lock()
    if timeout is None or not isinstance(timeout, numbers.Real):
        # Checked here, not left to deadline_ns, whose message offers None:
        # acquire, like threading.Lock.acquire, takes -1 for "no timeout".
        raise TypeError(f"timeout must be a number (-1 for none), not {type(timeout).__name__}")
    if not blocking:
        raise ValueError("can't specify a timeout for a non-blocking call")
    return lock_until(deadline_ns(timeout))


class NoCopy:
    """NoCopy makes a class refuse copy.copy, copy.deepcopy and pickle.

    It is the Python form of Go's copylocks check: a copy of a primitive
    would not share its state with the original, so it is refused with
    TypeError.
    """

    __slots__ = ()

    def _refuse_copy(self, *args: object) -> NoReturn:
        raise TypeError(f"{_public_name(type(self))} must not be copied or pickled: a copy would not share its state")

    __copy__ = __deepcopy__ = __reduce_ex__ = __reduce__ = __getstate__ = _refuse_copy


def _public_name(cls: type) -> str:
    """The name under which a user reaches cls: gosync.Mutex,
    gosync.atomic.Int64; for a class exported by neither (a user's subclass,
    gosync.rwmutex.RLocker), its module and qualified name."""
    for module in ("gosync", "gosync.atomic"):
        if getattr(sys.modules.get(module), cls.__name__, None) is cls:
            return f"{module}.{cls.__name__}"
    return f"{cls.__module__}.{cls.__qualname__}"
