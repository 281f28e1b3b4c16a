"""semaphore: golang.org/x/sync/semaphore's weighted semaphore."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Callable, Optional

from ._errors import SyncError
from ._native import WeightedBase, lib
from ._nocopy import NoCopy
from ._public import public
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

    def __init__(self, n: int, serving: str) -> None:
        self.n = n
        # Named after the Weighted, so that the profiles charge its waits there.
        self.wake = Mutex(name=serving)
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


@public
class Weighted(WeightedBase, NoCopy):
    """Weighted provides a way to bound concurrent access to a resource.
    The callers can request access with a given weight.

    Weighted(n) has a total weight of n for concurrent access. Waiters are
    served in FIFO order: a request that cannot be satisfied yet blocks
    every request queued after it, so a large request is never overtaken by
    a stream of small ones. A request larger than the size waits until its
    context is done or its timeout passes, without blocking anyone else.

    acquire, try_acquire and release are C methods (see their docstrings):
    uncontended, each is one atomic operation. The waiter queue is Go's, in
    Python, under a gosync.Mutex. It must not be copied or pickled.
    """

    # _mu and _waiters are members of the C type.
    __slots__ = ()
    _mu: Mutex
    _waiters: deque[_Waiter]

    def __init__(self, n: int, *, name: Optional[str] = None) -> None:
        # name= is the profiles' label, which the C type's __new__ took.
        size = _check_weight(n, "semaphore size")
        if size >= _QUEUED:
            raise OverflowError(f"semaphore size must be below 2**62, not {size}")
        self._set_size(size)
        self._mu = Mutex(name=self._label())
        self._waiters = deque()

    def _label(self) -> str:
        """The label of this Weighted in the contention profiles, which
        its own Mutexes carry (gosync.profile names an unnamed primitive
        the same way)."""
        label = self._profile_label
        return label if label is not None else f"Weighted at {id(self):#x}"

    # acquire(n=1, ctx=None, timeout=None) -> bool is WeightedBase's: its
    # fast path takes acquire() and acquire(n); everything else comes here.
    def _acquire_slow(self, n: int = 1, ctx: Optional[Context] = None, timeout: Optional[float] = None) -> bool:
        """_acquire_slow is acquire (see its docstring, in the C type) for
        every call its one-CAS fast path did not take: a context, a
        timeout, an argument to check, no room, or a waiter queued.

        Go's order: a done context fails first; then the weight is taken if
        it fits and nobody is queued; a request larger than the size waits
        outside the queue; any other joins the queue and sleeps on its own
        wake lock until granted, cancelled, timed out or interrupted.
        """
        n = _check_weight(n, "n")
        deadline = NO_DEADLINE if timeout is None else deadline_ns(timeout)
        if ctx is not None:
            ctx = _check_ctx(ctx)
            if ctx.err() is not None:
                return False
        elif n < _QUEUED and WeightedBase.try_acquire(self, n):
            return True
        if deadline != NO_DEADLINE and deadline <= lib.gosync_now_ns():
            # Already expired (a timeout of 0): try, but never queue, so as
            # not to hold back the fast paths of others for nothing.
            return n < _QUEUED and WeightedBase.try_acquire(self, n)
        mu = self._mu
        w = _Waiter(n, self._label())
        mu.lock()
        if ctx is not None and ctx.err() is not None:
            mu.unlock()
            return False
        queued = n <= self._size()  # a larger request waits outside the queue
        if queued:
            if self._take_or_queue(n):
                mu.unlock()
                return True
            self._waiters.append(w)
        mu.unlock()
        stop: Optional[Callable[[], bool]] = None
        interrupted = True
        try:
            if ctx is not None:
                from .context import _after

                stop = _after(ctx, lambda: self._signal(w), inline=True)
            w.wake._lock_until(deadline)
            interrupted = False
        finally:
            # Also on KeyboardInterrupt: the request is withdrawn, and tokens
            # granted meanwhile are given back, since the caller, who gets
            # the exception, will never release them.
            if stop is not None:
                stop()
            mu.lock()
            try:
                granted = self._settle(w, ctx, queued, interrupted)
            finally:
                mu.unlock()
        return granted

    def _size(self) -> int:
        return self._debug_fields()[0]

    def _settle(self, w: _Waiter, ctx: Optional[Context], queued: bool, interrupted: bool) -> bool:
        """_settle ends w's wait, with _mu held: it keeps the tokens granted
        to w, or gives them back if ctx is done (Go's fix: the next waiters
        are notified) or the wait was interrupted by an exception, or
        withdraws w from the queue."""
        if w.ready:
            if not interrupted and (ctx is None or ctx.err() is None):
                return True
            self._give_back(w.n)
            return False
        if queued:
            front = self._waiters[0] is w
            self._waiters.remove(w)
            if not self._waiters:
                self._add(-_QUEUED)
            elif front:
                # w may have held back smaller requests queued behind it.
                self._notify_waiters()
        return False

    def _give_back(self, n: int) -> None:
        """_give_back releases n with _mu held."""
        if self._waiters:
            self._add(-n)
            self._notify_waiters()
        else:
            WeightedBase.release(self, n)  # not queued: the plain release

    def _signal(self, w: _Waiter) -> None:
        """_signal wakes w (its context is done); it runs in the cancelling
        thread."""
        with self._mu:
            if not w.signalled:
                w.signalled = True
                w.wake.unlock()

    def _notify_waiters(self) -> None:
        """_notify_waiters grants tokens to the waiters at the front of the
        queue while they fit, with _mu held and waiters queued. It stops at
        the first that does not fit, so it is not overtaken. Once the queue
        is empty the fast paths may run again."""
        waiters = self._waiters
        size = self._size()
        held = self._word() - _QUEUED
        while waiters:
            w = waiters[0]
            if size - held < w.n:
                return
            held = self._add(w.n) - _QUEUED
            waiters.popleft()
            w.ready = True
            if not w.signalled:
                w.signalled = True
                w.wake.unlock()
        self._add(-_QUEUED)

    def _try_acquire_checked(self, n: int = 1) -> bool:
        # try_acquire's path for an argument its C fast path did not take.
        n = _check_weight(n, "n")
        return n < _QUEUED and WeightedBase.try_acquire(self, n)

    def _release_slow(self, n: int = 1) -> None:
        # release's path when waiters are queued, or for an argument its C
        # fast path did not take.
        n = _check_weight(n, "n")
        if n >= _QUEUED:
            raise SyncError("semaphore: released more than held")
        with self._mu:
            if not self._waiters:
                WeightedBase.release(self, n)  # queue emptied meanwhile; may raise SyncError
                return
            if n > self._word() - _QUEUED:
                raise SyncError("semaphore: released more than held")
            self._add(-n)
            self._notify_waiters()

    def _debug_state(self) -> tuple[int, int, int]:
        """(size, held, queued waiters), for tests and repr."""
        with self._mu:
            size, held, _ = self._debug_fields()
            return size, held, len(self._waiters)

    def __repr__(self) -> str:
        size, held, queued = self._debug_state()
        return f"<gosync.semaphore.Weighted size={size} held={held} waiters={queued}>"


def _check_ctx(ctx: object) -> Context:
    from .context import Context

    if not isinstance(ctx, Context):
        raise TypeError(f"ctx must be a gosync.context.Context or None, not {type(ctx).__name__}")
    return ctx
