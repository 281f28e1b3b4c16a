"""Pieces shared by gosync.etcd and gosync.redis: LeaseLost, the done()
channel, deadlines, and the lock API that both engines' types
present (the local types' API plus fencing_token).

This module imports no client library, so that `import gosync` stays free of
them; gosync.etcd and gosync.redis import what they need.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, Callable, Optional, TypeVar

from ._errors import SyncError
from ._native import lib
from ._timeout import NO_DEADLINE, TimedLock, deadline_ns
from .chan import Chan

__all__ = ["LeaseLost", "Done", "Claim", "DistLock", "DistRWMutex", "DistRLocker", "DistSemaphore"]


class LeaseLost(SyncError):
    """LeaseLost reports that a session's lease ended while a lock was held
    or being taken: the server may already have given the lock to another.

    The call that raises it changes nothing on the server, so a lock that a
    new holder took is left untouched. Open a new session to go on.
    """


LeaseLost.__module__ = "gosync"  # as SyncError's: where users import it from


class Done(Chan):
    """Done is the channel session.done() returns: a gosync.Chan that is
    closed when the session's lease is lost.

    Nothing is ever sent on it, so a receive blocks until it is closed and
    then returns None at once (recv_ok: ok False), as a receive from a
    closed Go channel returns the zero value; it works in gosync.select and
    in a for loop, which ends when the lease is lost. closed reports whether
    it is closed already, without waiting.
    """

    __slots__ = ()

    def _close(self) -> None:
        # The lease can be found lost by the keep-alive thread and by a
        # caller at once: the first close wins, the second changes nothing.
        try:
            self.close()
        except SyncError:
            pass

    @property
    def closed(self) -> bool:
        """Closed reports whether the lease is lost."""
        return bool(self._debug_fields()[2])

    def __repr__(self) -> str:
        return f"<gosync Done {'closed' if self.closed else 'open'}>"


def deadline(timeout: float | None) -> Optional[float]:
    """deadline validates a timeout in seconds (as the local types do) and
    returns the time.monotonic() at which it ends, or None for forever."""
    if timeout is None:
        return None
    if deadline_ns(timeout) == NO_DEADLINE:
        return None
    return time.monotonic() + float(timeout)


def _from_ns(d: int) -> Optional[float]:
    """The monotonic deadline for a deadline from deadline_ns."""
    if d == NO_DEADLINE:
        return None
    return time.monotonic() + float(d - lib.gosync_now_ns()) / 1e9


def remaining(end: Optional[float]) -> Optional[float]:
    """The seconds left until end (never negative), None for forever."""
    return None if end is None else max(0.0, end - time.monotonic())


class Claim:
    """A Claim is one acquisition held on the server: what the engine needs
    to release it, and its fencing token."""

    __slots__ = ("key", "token", "fence", "kind")

    def __init__(self, key: str, token: str, fence: int, kind: str) -> None:
        self.key = key
        self.token = token
        self.fence = fence
        self.kind = kind


class _Held:
    """The claims one lock object holds, under a local lock."""

    def __init__(self) -> None:
        self.mu = threading.Lock()
        self.claims: list[Claim] = []

    def push(self, c: Claim) -> None:
        with self.mu:
            self.claims.append(c)

    def pop(self) -> Optional[Claim]:
        with self.mu:
            return self.claims.pop() if self.claims else None

    def put_back(self, c: Claim) -> None:
        with self.mu:
            self.claims.append(c)

    def fence(self, what: str) -> int:
        with self.mu:
            if not self.claims:
                raise SyncError(f"gosync: fencing_token of {what} that is not held")
            return self.claims[-1].fence


class _Engine:
    """What an engine's Session gives the lock types (typing only)."""

    def take(self, kind: str, name: str, n: int, end: Optional[float]) -> Optional[Claim]:
        raise NotImplementedError

    def give(self, c: Claim) -> None:
        raise NotImplementedError


class _Half(TimedLock):
    """The lock API over one kind of claim: lock, unlock, try_lock, the
    threading.Lock protocol and fencing_token. The engine's take(kind, name,
    n, end) waits for a claim until end (None: forever; a past end: one
    attempt, no wait) and returns None on timeout; give(claim) releases it,
    raising LeaseLost if the server no longer has it."""

    _kind = "mutex"
    _n = 1
    _misuse = "sync: unlock of unlocked mutex"
    _what = "a mutex"

    def __init__(self, engine: Any, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError("name must be a non-empty str")
        self._engine = engine
        self._name = name
        self._held = _Held()

    @property
    def name(self) -> str:
        """The lock's name, shared by every client that uses it."""
        return self._name

    def _take(self, end: Optional[float]) -> bool:
        c = self._engine.take(self._kind, self._name, self._n, end)
        if c is None:
            return False
        self._held.push(c)
        return True

    def lock(self, timeout: float | None = None) -> bool:
        """Lock waits until the lock is free and takes it.

        With a timeout in seconds it gives up after that long and returns
        False, leaving no claim on the server; it returns True when the lock
        is held. A bad timeout raises TypeError, ValueError or OverflowError
        before anything is sent. Ctrl-C interrupts the wait, and the claim
        is withdrawn. An unreachable server raises a ConnectionError within
        the timeout; a lost lease raises LeaseLost.
        """
        return self._take(deadline(timeout))

    def try_lock(self) -> bool:
        """TryLock takes the lock if it is free now, without waiting."""
        return self._take(time.monotonic())

    def unlock(self) -> None:
        """Unlock releases the lock; any client may then take it.

        Unlocking a lock this object does not hold raises SyncError with
        Go's message. If the lease was lost meanwhile, it raises LeaseLost
        and changes nothing on the server (another client may hold the lock
        now). If the server cannot be reached it raises a ConnectionError
        and the lock stays held, so the call can be repeated.
        """
        c = self._held.pop()
        if c is None:
            raise SyncError(self._misuse)
        try:
            self._engine.give(c)
        except ConnectionError:
            self._held.put_back(c)
            raise

    def _lock_until(self, deadline_ns: int) -> bool:
        # For TimedLock's acquire (threading.Lock.acquire's arguments).
        return self._take(_from_ns(deadline_ns))

    def release(self) -> None:
        """Release is unlock, under threading.Lock's name."""
        self.unlock()

    def __enter__(self) -> bool:
        return self._take(None)

    def __exit__(self, *exc: object) -> None:
        self.unlock()

    @property
    def fencing_token(self) -> int:
        """FencingToken is the token of this object's current acquisition:
        an int that is strictly greater than that of every earlier
        acquisition of the same name. Hand it to a store that rejects
        writes with a token lower than one it has seen. Reading it while
        nothing is held raises SyncError."""
        return self._held.fence(self._what)

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__name__} {self._name!r} held={len(self._held.claims)}>"


class DistLock(_Half):
    """The Mutex of an engine (see the engine's Session.Mutex)."""


class DistRLocker(_Half):
    """The read lock of an RWMutex as a Locker: lock and unlock are its
    rlock and runlock."""

    _kind = "read"
    _misuse = "sync: RUnlock of unlocked RWMutex"
    _what = "a read lock"

    def __init__(self, engine: Any, name: str, held: _Held) -> None:
        super().__init__(engine, name)
        self._held = held


class DistRWMutex(_Half):
    """The RWMutex of an engine: lock/unlock/try_lock are the write lock,
    rlock/runlock/try_rlock the read lock."""

    _kind = "write"
    _misuse = "sync: Unlock of unlocked RWMutex"
    _what = "a write lock"

    def __init__(self, engine: Any, name: str) -> None:
        super().__init__(engine, name)
        self._readers = DistRLocker(engine, name, _Held())

    def rlock(self, timeout: float | None = None) -> bool:
        """RLock takes the lock for reading: it waits while a writer holds
        it or waits for it (a waiting writer holds back new readers).

        Timeouts, Ctrl-C and errors are as for lock.
        """
        return self._readers.lock(timeout)

    def try_rlock(self) -> bool:
        """TryRLock takes the read lock if it can without waiting."""
        return self._readers.try_lock()

    def runlock(self) -> None:
        """RUnlock releases one read lock held through this object.

        With none held it raises SyncError("sync: RUnlock of unlocked
        RWMutex"); after a lost lease, LeaseLost.
        """
        self._readers.unlock()

    def rlocker(self) -> DistRLocker:
        """RLocker returns a Locker whose lock and unlock are rlock and
        runlock; it also has acquire/release, `with` and fencing_token."""
        return self._readers

    @property
    def read_fencing_token(self) -> int:
        """The fencing token of the latest read lock held through this
        object (fencing_token is the write lock's)."""
        return self._readers.fencing_token


class DistSemaphore(_Half):
    """The Semaphore of an engine: at most n holders at once."""

    _kind = "sem"
    _misuse = "semaphore: released more than held"
    _what = "a semaphore"

    def __init__(self, engine: Any, name: str, n: int) -> None:
        if type(n) is not int:
            raise TypeError(f"n must be an int, not {type(n).__name__}")
        if n < 1:
            raise ValueError("n must be at least 1")
        super().__init__(engine, name)
        self._n = n

    @property
    def n(self) -> int:
        """The number of holders the semaphore admits at once."""
        return self._n

    def acquire(self, blocking: bool = True, timeout: float | None = -1) -> bool:
        """Acquire takes one of the n places, waiting until one is free.

        acquire(timeout=None) waits forever; with a timeout in seconds it
        gives up after that long and returns False, leaving no claim. The
        threading.Semaphore forms acquire(blocking=False) and timeout=-1
        also work. Timeouts, Ctrl-C and errors are as for lock.
        """
        if timeout is None:
            if not blocking:
                raise ValueError("can't specify a timeout for a non-blocking call")
            return self._take(None)
        return super().acquire(blocking, timeout)

    def release(self) -> None:
        """Release gives back one place taken through this object.

        With none held it raises SyncError("semaphore: released more than
        held"); after a lost lease, LeaseLost, with nothing changed.
        """
        self.unlock()


def keepalive_loop(stop: threading.Event, period: float, beat: Callable[[], None]) -> None:
    """Runs beat() every period seconds until stop is set (a daemon
    thread's body). beat handles the errors it expects; any other is
    reported by threading.excepthook and the beats go on, since a thread
    that died would let the lease expire unnoticed."""
    while not stop.wait(period):
        try:
            beat()
        except Exception:
            threading.excepthook(threading.ExceptHookArgs((*sys.exc_info(), threading.current_thread())))


_S = TypeVar("_S", bound="Session")


class Session(_Engine):
    """What gosync.etcd.Session and gosync.redis.Session share: the
    factory of the lock types, done(), and the with statement. Each engine
    gives take, give, close and its lease's _done."""

    _done: Done
    _ttl: float
    _closed: bool

    def _beat(self) -> None:
        raise NotImplementedError

    def _start_keepalive(self, name: str) -> None:
        """Starts the daemon thread that renews the lease every ttl/3 s."""
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=keepalive_loop, args=(self._stop, self._ttl / 3, self._beat), name=name, daemon=True
        )
        self._thread.start()

    def _stop_keepalive(self) -> bool:
        """Stops the keep-alive thread, once: False if the session was
        already closed."""
        if self._closed:
            return False
        self._closed = True
        self._stop.set()
        self._thread.join(self._ttl)
        return True

    def Mutex(self, name: str) -> DistLock:  # noqa: N802 (Go's names)
        """Mutex returns the mutex called name."""
        return DistLock(self, name)

    def RWMutex(self, name: str) -> DistRWMutex:  # noqa: N802
        """RWMutex returns the reader/writer lock called name."""
        return DistRWMutex(self, name)

    def Semaphore(self, name: str, n: int) -> DistSemaphore:  # noqa: N802
        """Semaphore returns the semaphore called name, which admits n
        holders at once. Every client must use the same n."""
        return DistSemaphore(self, name, n)

    def done(self) -> Done:
        """Done returns a channel that is closed when the lease is lost (or
        the session closed)."""
        return self._done

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
