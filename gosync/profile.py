"""Package profile finds contention: Go's mutex and block profiles for every
gosync primitive that can block.

Go finds a hot lock with runtime.SetMutexProfileFraction and go tool
pprof; this module records the same two profiles, in the slow paths of
gosync's primitives, with the same meaning:

  - the mutex profile charges the time that waiters spent waiting for a
    Mutex or RWMutex (and their gosync.shared forms) to the stack of the
    thread that unlocked it: the critical section that held them up;
  - the block profile charges the time a thread spent blocked on any
    gosync primitive (Mutex, RWMutex, Cond, WaitGroup.wait, Chan send,
    receive and select, semaphore.Weighted, and the gosync.shared forms)
    to that thread's own stack.

Both are off until set_mutex_profile_fraction or set_block_profile_rate
turns them on. Nothing is timed, sampled or recorded unless a thread
parks, so a profile costs nothing on the uncontended paths.

A primitive is named by the name= its constructor was given, else by
where it was created ("Mutex app.py:12", the file relative to the current
directory when inside it), if a profile was on then; else by its type and
address. A profile is read with table, write_pprof (for go tool pprof) and
write_collapsed (for flame graphs), and emptied with reset.

python -m gosync profile -- script.py args... runs a script with both
profiles on and writes all three outputs when it exits.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import IO, Iterator, Union

# _native first: it explains a missing compiled module.
from . import _gosync, _native  # noqa: F401
from ._profile import _store, collapsed, pprof, store
from ._profile import table as _table
from ._profile._hooks import creation_label, on_event

__all__ = [
    "BLOCK",
    "MUTEX",
    "set_mutex_profile_fraction",
    "set_block_profile_rate",
    "mutex_profile_fraction",
    "block_profile_rate",
    "profiling",
    "table",
    "write_pprof",
    "write_collapsed",
    "reset",
]

#: MUTEX ("mutex") names the mutex profile: waiting charged to the unlocker.
MUTEX = _store.MUTEX
#: BLOCK ("block") names the block profile: waiting charged to the waiter.
BLOCK = _store.BLOCK

# The binding's entry points (gosync/_binding_profile.c); the hooks are
# the functions its slow paths call while a profile is on.
_c_set = _gosync._profile_set
_c_rates = _gosync._profile_rates
_gosync._profile_hooks(on_event, creation_label)

_INT64_MAX = (1 << 63) - 1

# The binding sets both rates at once; each setter changes one, so a
# read-modify-write of the pair must not interleave with another's.
_rates_lock = threading.Lock()

File = Union[str, "os.PathLike[str]", IO[bytes]]


def _rate(rate: int, what: str) -> int:
    # bool is an int to Python, but True is no rate.
    if not isinstance(rate, int) or isinstance(rate, bool):
        raise TypeError(f"gosync: {what} must be an int, not {type(rate).__name__}")
    return max(-_INT64_MAX, min(int(rate), _INT64_MAX))


def set_mutex_profile_fraction(rate: int) -> int:
    """set_mutex_profile_fraction controls the fraction of mutex contention
    events that are reported in the mutex profile. On average 1/rate events
    are reported. The previous rate is returned.

    To turn off profiling entirely, pass rate 0. To just read the current
    rate, pass rate < 0. (For n > 1 the details of sampling may change.)

    An event is an unlock of a Mutex or RWMutex (either side) that had
    waiters; it is charged to the unlocking thread's stack with the time the
    waiters spent, scaled by rate so that totals estimate all events. A
    rate that is not an int raises TypeError; one beyond 64 bits is
    clamped.
    """
    rate = _rate(rate, "mutex profile fraction")
    with _rates_lock:
        block, previous = _c_rates()
        if rate >= 0:
            _c_set(block, rate)
    return previous


def set_block_profile_rate(rate: int) -> None:
    """set_block_profile_rate controls the fraction of blocking events that
    are reported in the blocking profile. The profiler aims to sample an
    average of one blocking event per rate nanoseconds spent blocked.

    To include every blocking event in the profile, pass rate = 1. To turn
    off profiling entirely, pass rate <= 0.

    A blocking event is a thread's wait on a gosync primitive that parked
    it, charged to the waiter's stack, from when it parked until it was
    woken; a wait that never parked, or that was interrupted, is none. A
    rate that is not an int raises TypeError; one beyond 64 bits is
    clamped.
    """
    rate = _rate(rate, "block profile rate")
    with _rates_lock:
        _, fraction = _c_rates()
        _c_set(max(rate, 0), fraction)


def mutex_profile_fraction() -> int:
    """mutex_profile_fraction returns the current mutex profile fraction:
    0 when the mutex profile is off."""
    return _c_rates()[1]


def block_profile_rate() -> int:
    """block_profile_rate returns the current block profile rate: 0 when
    the block profile is off."""
    return _c_rates()[0]


@contextlib.contextmanager
def profiling(mutex_fraction: int = 1, block_rate: int = 1) -> Iterator[None]:
    """profiling turns both profiles on for the body of a with statement,
    and restores the previous rates when it ends.

    The defaults record every event, as go test -mutexprofile and
    -blockprofile do; a long or busy program may sample with
    mutex_fraction=100 and block_rate=10000 (one event per 10µs blocked).
    What was recorded stays in the profiles after the body.
    """
    # Validated before anything is changed.
    mutex_fraction = _rate(mutex_fraction, "mutex profile fraction")
    block_rate = _rate(block_rate, "block profile rate")
    with _rates_lock:
        block, fraction = _c_rates()
        _c_set(max(block_rate, 0), max(mutex_fraction, 0))
    try:
        yield
    finally:
        with _rates_lock:
            _c_set(block, fraction)


def _kind(kind: str) -> str:
    if kind not in (MUTEX, BLOCK):
        raise ValueError(f"gosync: unknown profile {kind!r}: want {MUTEX!r} or {BLOCK!r}")
    return kind


def table(kind: str = MUTEX, limit: int = 20) -> str:
    """table returns the top limit primitives of the profile kind ("mutex"
    or "block") by total wait, as text: for each, its name, the number of
    waits (as sampling estimates it), their total, mean and 99th
    percentile.

    A profile with no events has a header and no rows. An unknown kind or
    a limit below 1 raises ValueError.
    """
    return _table(store.snapshot(_kind(kind)), limit)


def _write(file: File, data: bytes) -> None:
    if isinstance(file, (str, os.PathLike)):
        with open(file, "wb") as f:
            f.write(data)
    else:
        file.write(data)


def write_pprof(file: File, kind: str = MUTEX) -> None:
    """write_pprof writes the profile kind ("mutex" or "block") to file (a
    path or a binary file) as a gzipped profile.proto, as Go's runtime/pprof
    writes it, for go tool pprof:

        go tool pprof -top mutex.pb.gz
        go tool pprof -http=: mutex.pb.gz

    Its sample types are contentions (count) and delay (nanoseconds). The
    leaf of each stack is the primitive, as "[name]". An unknown kind
    raises ValueError.
    """
    _write(file, pprof(store.snapshot(_kind(kind))))


def write_collapsed(file: File, kind: str = MUTEX) -> None:
    """write_collapsed writes the profile kind ("mutex" or "block") to file
    (a path or a binary file) as collapsed stacks, the input of
    flamegraph.pl and speedscope: one line per stack, its frames from the
    outermost call in and then the primitive as "[name]", separated by
    ";", then the total wait in nanoseconds.

    An unknown kind raises ValueError.
    """
    _write(file, collapsed(store.snapshot(_kind(kind))).encode("utf-8"))


def reset() -> None:
    """reset empties both profiles, and restarts the time they cover. It
    leaves the rates as they are."""
    store.reset()
