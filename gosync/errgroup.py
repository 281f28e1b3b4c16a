"""errgroup: golang.org/x/sync/errgroup, for threads.

A Group runs functions in threads (gosync.go) and waits for them all;
wait() raises the first exception any of them raised.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Optional, Tuple

from ._errors import SyncError
from ._nocopy import WEAKREF_SLOT, no_copy
from .goroutine import go
from .mutex import Mutex
from .semaphore import Weighted
from .waitgroup import WaitGroup

if TYPE_CHECKING:
    from .context import CancelCauseFunc, Context

__all__ = ["Group", "with_context"]


@no_copy
class Group:
    """A Group is a collection of threads working on subtasks of a common
    task. Group() has no limit and does not cancel anything on error.

    The first exception raised by a function started with go or try_go is
    kept; the others are dropped, as Go keeps only the first error. It must
    not be copied or pickled.
    """

    __slots__ = ("_wg", "_mu", "_err", "_cancel", "_sem") + WEAKREF_SLOT

    def __init__(self) -> None:
        self._wg = WaitGroup()
        self._mu = Mutex()
        self._err: Optional[BaseException] = None
        self._cancel: Optional[CancelCauseFunc] = None
        self._sem: Optional[Weighted] = None  # the limit; None for none

    def go(self, fn: Callable[..., object], *args: Any, **kwargs: Any) -> None:
        """go calls fn(*args, **kwargs) in a new thread.

        At the limit (set_limit), go blocks until a running function returns.
        The first exception raised by a function is kept for wait(), and
        cancels the group's context if it has one (with_context). A
        non-callable fn raises TypeError and starts nothing.
        """
        _check_fn(fn, "go")
        sem = self._sem
        if sem is not None:
            sem.acquire()
        self._start(sem, fn, args, kwargs)

    def try_go(self, fn: Callable[..., object], *args: Any, **kwargs: Any) -> bool:
        """try_go calls fn(*args, **kwargs) in a new thread only if the
        number of running functions is below the limit, and says whether it
        did."""
        _check_fn(fn, "try_go")
        sem = self._sem
        if sem is not None and not sem.try_acquire():
            return False
        self._start(sem, fn, args, kwargs)
        return True

    def _start(self, sem: Optional[Weighted], fn: Callable[..., object], args: Any, kwargs: Any) -> None:
        def task() -> None:
            try:
                fn(*args, **kwargs)
            except BaseException as e:  # noqa: B036 - kept for wait(), as Go's errgroup keeps panics
                self._fail(e)
            finally:
                if sem is not None:
                    sem.release()
                self._wg.done()

        self._wg.add(1)
        try:
            go(task)
        except BaseException:
            if sem is not None:
                sem.release()
            self._wg.done()
            raise

    def _fail(self, e: BaseException) -> None:
        with self._mu:
            if self._err is not None:
                return
            self._err = e
        if self._cancel is not None:
            self._cancel(e)

    def wait(self) -> None:
        """wait blocks until every function started with go or try_go has
        returned, then raises the first exception any of them raised, or
        returns None. It cancels the group's context (with_context) in
        either case."""
        self._wg.wait()
        if self._cancel is not None:
            self._cancel(self._err)
        if self._err is not None:
            raise self._err

    def set_limit(self, n: int) -> None:
        """set_limit limits the number of functions running at once to n;
        a negative n removes the limit. With a limit of 0, go blocks for
        ever and try_go fails.

        Changing the limit while functions started under the old limit are
        running raises SyncError, as Go panics.
        """
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"limit must be an int, not {type(n).__name__}")
        sem = self._sem
        if sem is not None:
            held = sem._debug_state()[1]
            if held != 0:
                raise SyncError(f"errgroup: modify limit while {held} goroutines in the group are still active")
        self._sem = None if n < 0 else Weighted(n)

    def __repr__(self) -> str:
        limit = "none" if self._sem is None else self._sem._debug_state()[0]
        return f"<gosync.errgroup.Group limit={limit} failed={self._err is not None}>"


def _check_fn(fn: object, what: str) -> None:
    if not callable(fn):
        raise TypeError(f"Group.{what}() needs a callable, not {type(fn).__name__}")


def with_context(ctx: Context) -> Tuple[Group, Context]:
    """with_context returns a new Group and a context derived from ctx.

    The derived context is cancelled the first time a function started in
    the group raises, or the first time wait returns, whichever comes
    first; its cause (gosync.context.cause) is that exception.
    """
    from .context import with_cancel_cause

    derived, cancel = with_cancel_cause(ctx)
    g = Group()
    g._cancel = cancel
    return g, derived
