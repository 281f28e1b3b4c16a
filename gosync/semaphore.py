"""semaphore: golang.org/x/sync/semaphore's weighted semaphore."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Callable, Optional

from ._errors import SyncError
from ._nocopy import NoCopy
from ._timeout import NO_DEADLINE, deadline_ns
from .mutex import Mutex

if TYPE_CHECKING:
    from .context import Context

__all__ = ["Weighted"]

_QUEUED = 1 << 62


class _Waiter:
    """One queued acquire. wake is a Mutex created locked: the waiter sleeps
    in wake.lock() and whoever sets signalled first unlocks it once. ready
    says the tokens were granted. Both flags change under Weighted._mu."""

    __slots__ = ("n", "wake", "ready", "signalled")

    def __init__(self, n: int) -> None:
        self.n = n
        self.wake = Mutex()
        self.wake.lock()
        self.ready = False
        self.signalled = False


def _check_weight(n: object, what: str) -> int:
    if type(n) is not int:
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"{what} must be an int, not {type(n).__name__}")
        n = int(n)
    if n < 0:
        raise ValueError(f"{what} must not be negative")
    return n


class Weighted(NoCopy):
    """Weighted provides a way to bound concurrent access to a resource.
    The callers can request access with a given weight.

    Weighted(n) has a total weight of n for concurrent access. Waiters are
    served in FIFO order: a request that cannot be satisfied yet blocks
    every request queued after it, so a large request is never overtaken by
    a stream of small ones. A request larger than the size waits until its
    context is done or its timeout passes, without blocking anyone else.

    The uncontended acquire and release take one lock and no allocation.
    It must not be copied or pickled.
    """

    # _free is size minus the weight held, less _QUEUED while any waiter is
    # queued. One comparison then answers each fast path under _mu: an
    # acquire of n fits iff _free >= n (never while queued), and a release of
    # n is plain iff 0 <= _free + n <= size (not queued, and no more than is
    # held). Everything else takes the slow path, under the same _mu.
    __slots__ = ("_size", "_free", "_mu", "_waiters", "__weakref__")

    def __init__(self, n: int) -> None:
        size = _check_weight(n, "semaphore size")
        if size >= _QUEUED:
            raise OverflowError(f"semaphore size must be below 2**62, not {size}")
        self._size = size
        self._free = size
        self._mu = Mutex()
        self._waiters: deque[_Waiter] = deque()

    def acquire(self, n: int = 1, ctx: Optional[Context] = None, timeout: Optional[float] = None) -> bool:
        """acquire acquires the semaphore with a weight of n, blocking until
        resources are available, ctx is done or the timeout passes. It
        returns True on success. On failure it returns False and leaves the
        semaphore unchanged.

        If ctx is already done, acquire fails, as in Go, even when the
        tokens are free. If the tokens are granted while ctx becomes done,
        they are given back to the next waiters and acquire returns False. A timeout follows
        gosync's rules (seconds; None waits for ever; a bad one raises and
        changes nothing). Ctrl-C interrupts the wait, leaving nothing held.
        """
        if type(n) is int and n >= 0 and ctx is None and timeout is None:
            mu = self._mu
            mu.__enter__()
            free = self._free
            if free >= n:
                self._free = free - n
                mu.unlock()
                return True
            mu.unlock()
        else:
            n = _check_weight(n, "n")
        deadline = NO_DEADLINE if timeout is None else deadline_ns(timeout)
        if ctx is not None:
            ctx = _check_ctx(ctx)
            if ctx.err() is not None:
                return False
        return self._acquire_slow(n, ctx, deadline)

    def _acquire_slow(self, n: int, ctx: Optional[Context], deadline: int) -> bool:
        mu = self._mu
        w = _Waiter(n)
        mu.lock()
        if ctx is not None and ctx.err() is not None:
            mu.unlock()
            return False
        if self._free >= n:
            self._free -= n
            mu.unlock()
            return True
        queued = n <= self._size  # a larger request waits outside the queue
        if queued:
            if not self._waiters:
                self._free -= _QUEUED
            self._waiters.append(w)
        mu.unlock()
        stop: Optional[Callable[[], bool]] = None
        try:
            if ctx is not None:
                from .context import _after

                stop = _after(ctx, lambda: self._signal(w), inline=True)
            w.wake._lock_until(deadline)
        finally:
            # Also on KeyboardInterrupt: the request is withdrawn, and tokens
            # granted meanwhile are given back.
            if stop is not None:
                stop()
            mu.lock()
            try:
                granted = self._settle(w, ctx, queued)
            finally:
                mu.unlock()
        return granted

    def _settle(self, w: _Waiter, ctx: Optional[Context], queued: bool) -> bool:
        """_settle ends w's wait, with _mu held: it keeps the tokens granted
        to w, or gives them back if ctx is done (Go's fix: the next waiters
        are notified), or withdraws w from the queue."""
        if w.ready:
            if ctx is None or ctx.err() is None:
                return True
            self._free += w.n
            self._notify_waiters()
            return False
        if queued:
            front = self._waiters[0] is w
            self._waiters.remove(w)
            if not self._waiters:
                self._free += _QUEUED
            elif front:
                # w may have held back smaller requests queued behind it.
                self._notify_waiters()
        return False

    def _signal(self, w: _Waiter) -> None:
        """_signal wakes w (its context is done); it runs in the cancelling
        thread."""
        with self._mu:
            if not w.signalled:
                w.signalled = True
                w.wake.unlock()

    def _notify_waiters(self) -> None:
        """_notify_waiters grants tokens to the waiters at the front of the
        queue while they fit, with _mu held. It stops at the first that does
        not fit, so it is not overtaken."""
        waiters = self._waiters
        if not waiters:
            return
        while waiters:
            w = waiters[0]
            if self._free + _QUEUED < w.n:
                break
            self._free -= w.n
            waiters.popleft()
            w.ready = True
            if not w.signalled:
                w.signalled = True
                w.wake.unlock()
        if not waiters:
            self._free += _QUEUED

    def try_acquire(self, n: int = 1) -> bool:
        """try_acquire acquires the semaphore with a weight of n without
        blocking. It returns True on success; on failure it returns False
        and changes nothing. It fails while any acquire is queued, even if
        n would fit."""
        if type(n) is not int or n < 0:
            n = _check_weight(n, "n")
        mu = self._mu
        mu.__enter__()
        free = self._free
        ok = free >= n
        if ok:
            self._free = free - n
        mu.unlock()
        return ok

    def release(self, n: int = 1) -> None:
        """release releases the semaphore with a weight of n, and grants the
        tokens to the waiters at the front of the queue that fit.

        Releasing more than is held raises
        SyncError("semaphore: released more than held") and changes nothing.
        """
        if type(n) is not int or n < 0:
            n = _check_weight(n, "n")
        mu = self._mu
        mu.__enter__()
        free = self._free + n
        if 0 <= free <= self._size:
            self._free = free
            mu.unlock()
            return
        try:
            if not self._waiters or free > self._size - _QUEUED:
                raise SyncError("semaphore: released more than held")
            self._free = free
            self._notify_waiters()
        finally:
            mu.unlock()

    def _debug_state(self) -> tuple[int, int, int]:
        """(size, held, queued waiters), for tests and repr."""
        with self._mu:
            queued = len(self._waiters)
            return self._size, self._size - self._free - (_QUEUED if queued else 0), queued

    def __repr__(self) -> str:
        size, held, queued = self._debug_state()
        return f"<gosync.semaphore.Weighted size={size} held={held} waiters={queued}>"


def _check_ctx(ctx: object) -> Context:
    from .context import Context

    if not isinstance(ctx, Context):
        raise TypeError(f"ctx must be a gosync.context.Context or None, not {type(ctx).__name__}")
    return ctx
