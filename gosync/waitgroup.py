"""WaitGroup: Go's sync.WaitGroup."""

from __future__ import annotations

import threading
from typing import Any, Callable, NamedTuple

from ._native import WaitGroupBase
from ._nocopy import NoCopy
from ._public import public
from ._timeout import NO_DEADLINE, deadline_ns

__all__ = ["WaitGroup", "WaitGroupState"]


class WaitGroupState(NamedTuple):
    """A snapshot of a WaitGroup's counter and waiters, for tests."""

    counter: int
    waiters: int


@public
class WaitGroup(WaitGroupBase, NoCopy):
    """A WaitGroup waits for a collection of tasks to finish.

    The main thread calls add to set the number of tasks to wait for. Then
    each task runs and calls done when finished. At the same time, wait can
    be used to block until all tasks have finished. go(fn) does all three
    steps for a task run in a new thread.

    Go's misuse rules hold, and break with Go's messages as SyncError, with
    nothing changed: the counter must not go negative; calls of add with a
    positive delta that start from zero must happen before a wait; and a
    WaitGroup may be reused only after every previous wait has returned.
    It must not be copied or pickled.

    add and done are implemented in C; see their docstrings.
    """

    __slots__ = ()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait blocks until the WaitGroup counter is zero, and returns True.

        With a timeout in seconds it gives up after that long and returns
        False, leaving the WaitGroup as if it had never waited. A bad timeout
        raises before anything changes. Ctrl-C interrupts it.
        """
        return self._wait_until(NO_DEADLINE if timeout is None else deadline_ns(timeout))

    def go(self, fn: Callable[..., object], *args: Any, **kwargs: Any) -> threading.Thread:
        """Go calls fn(*args, **kwargs) in a new thread, adding it to the
        WaitGroup: add(1) before the thread starts, done() when fn returns or
        raises. It returns the started thread.

        An exception from fn goes to threading.excepthook, as for any thread.
        A non-callable fn raises TypeError before anything changes.
        """
        if not callable(fn):
            raise TypeError(f"WaitGroup.go() needs a callable, not {type(fn).__name__}")

        def task() -> None:
            try:
                fn(*args, **kwargs)
            finally:
                self.done()

        self.add(1)
        try:
            t = threading.Thread(target=task, name=f"gosync-{getattr(fn, '__name__', 'task')}")
            t.start()
        except BaseException:
            self.done()  # the thread never ran: undo its add
            raise
        return t

    def _debug_state(self) -> WaitGroupState:
        """A snapshot of the counter and the waiters, for tests."""
        # Decoded in C (_debug_fields); only the names are given here.
        return WaitGroupState(*self._debug_fields())

    def __repr__(self) -> str:
        s = self._debug_state()
        return f"<gosync.WaitGroup counter={s.counter} waiters={s.waiters}>"
