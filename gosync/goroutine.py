"""go and num_goroutine: Go's go statement and runtime.NumGoroutine."""

from __future__ import annotations

import threading
from typing import Any, Callable

__all__ = ["go", "num_goroutine"]


def go(fn: Callable[..., object], *args: Any, **kwargs: Any) -> threading.Thread:
    """go calls fn(*args, **kwargs) in a new daemon thread and returns the
    started thread.

    As with a goroutine, nothing waits for it: the program may end while it
    runs. Join the thread, or use a WaitGroup or an errgroup.Group, to wait.
    An exception from fn goes to threading.excepthook, as for any thread. A
    non-callable fn raises TypeError and starts nothing.
    """
    if not callable(fn):
        raise TypeError(f"go() needs a callable, not {type(fn).__name__}")
    t = threading.Thread(target=fn, args=args, kwargs=kwargs, name=f"gosync-{getattr(fn, '__name__', 'go')}")
    t.daemon = True
    t.start()
    return t


def num_goroutine() -> int:
    """num_goroutine returns the number of live threads, the main thread
    included: threading.active_count(), Python's runtime.NumGoroutine."""
    return threading.active_count()
