"""One timer thread for every context deadline.

A deadline is an entry in a heap served by a single daemon thread, started
at the first deadline and again in a child process after os.fork() (the
thread does not survive a fork; its heap does). A context therefore costs
no thread of its own however many deadlines are pending.
"""

from __future__ import annotations

import heapq
import itertools
import os
import sys
import threading
import time
from typing import Callable, Optional

__all__ = ["Timer", "at"]


class Timer:
    """A Timer calls fn on the timer thread once the monotonic clock reaches
    when, unless stop() came first."""

    __slots__ = ("when", "seq", "fn", "state")

    _PENDING, _STOPPED, _FIRED = 0, 1, 2

    def __init__(self, when: float, seq: int, fn: Callable[[], object]) -> None:
        self.when = when
        self.seq = seq
        self.fn: Optional[Callable[[], object]] = fn
        self.state = Timer._PENDING

    def __lt__(self, other: Timer) -> bool:
        return (self.when, self.seq) < (other.when, other.seq)

    def stop(self) -> bool:
        """stop prevents the call and returns True, or returns False if the
        call has already started or stop was already called."""
        with _cond:
            if self.state != Timer._PENDING:
                return False
            self.state = Timer._STOPPED
            self.fn = None  # let go of what the callback holds (the context) now
            return True


_cond = threading.Condition(threading.Lock())
_heap: list[Timer] = []
_seq = itertools.count()
_thread: Optional[threading.Thread] = None


def at(when: float, fn: Callable[[], object]) -> Timer:
    """at schedules fn to run on the timer thread at the monotonic time
    when, and returns its Timer. fn must be quick: every timer waits for it.
    An exception from fn goes to sys.excepthook's threading counterpart."""
    global _thread
    t = Timer(when, next(_seq), fn)
    with _cond:
        heapq.heappush(_heap, t)
        if _thread is None:
            _thread = threading.Thread(target=_serve, name="gosync-timers", daemon=True)
            _thread.start()
        elif _heap[0] is t:
            _cond.notify()
    return t


def _serve() -> None:
    with _cond:
        while True:
            while _heap and _heap[0].state == Timer._STOPPED:
                heapq.heappop(_heap)
            if not _heap:
                _cond.wait()
                continue
            delay = _heap[0].when - time.monotonic()
            if delay > 0:
                _cond.wait(min(delay, threading.TIMEOUT_MAX))
                continue
            t = heapq.heappop(_heap)
            fn, t.fn, t.state = t.fn, None, Timer._FIRED
            _cond.release()
            try:
                if fn is not None:
                    fn()
            except BaseException:
                threading.excepthook(threading.ExceptHookArgs((*sys.exc_info(), threading.current_thread())))
            finally:
                _cond.acquire()


def _after_fork_in_child() -> None:
    # The serving thread is gone and _cond may have been held by it: start
    # afresh, keeping the pending timers, which the new thread serves.
    global _cond, _thread
    _cond = threading.Condition(threading.Lock())
    _thread = None
    if _heap:
        _thread = threading.Thread(target=_serve, name="gosync-timers", daemon=True)
        _thread.start()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
