"""Once: Go's sync.Once, and OnceFunc, OnceValue and OnceValues (Go 1.21)."""

from __future__ import annotations

import traceback
from typing import Any, Callable, TypeVar

from ._nocopy import NoCopy
from .atomic import Uint32
from .mutex import Mutex

__all__ = ["Once", "once_func", "once_value", "once_values"]

T = TypeVar("T")


class Once(NoCopy):
    """Once is an object that will perform exactly one action.

    do(fn) calls fn if and only if do is being called for the first time for
    this Once. Every call of do returns only after fn has returned (or
    raised). If fn raises, do considers it returned: the exception reaches
    the first caller only, and later calls do nothing.

    Because no call to do returns until the one call to fn returns, if fn
    causes do to be called on the same Once, it deadlocks, as in Go.

    do(fn, timeout=seconds) bounds the wait behind another thread's call of
    fn: if fn is still running after that long, do returns False without
    calling fn, and the Once is as before. Otherwise do returns True: fn has
    been called, by this call or an earlier one. The timeout does not bound
    fn itself, which runs to its end once this call has started it.

    After fn has run, do is as cheap as reading an attribute: it does not
    look at fn or timeout at all, so do(anything) is then a no-op. Until
    then, a non-callable fn raises TypeError, and a bad timeout TypeError or
    ValueError (as for Mutex.lock), leaving the Once untouched.
    It must not be copied or pickled.
    """

    __slots__ = ("_done", "_flag", "_m", "__weakref__")

    def __init__(self) -> None:
        # The flag, an atomic word in C memory, is the source of truth,
        # stored (sequentially consistent) under _m after fn returns; _done
        # caches it for the fast path. An attribute store is atomic for the
        # interpreter (with or without the GIL), and it is made only after
        # the flag's store, so a thread that sees it True also sees
        # everything fn did. (Go's Once is the same: a done word and a
        # Mutex. gosync had a C layer of its own for the word, once.c,
        # which added nothing to an atomic Uint32.)
        self._done = False
        self._flag = Uint32()
        self._m = Mutex()

    def do(self, fn: Callable[[], object], *, timeout: float | None = None) -> bool:
        """Do calls fn if and only if this is the first call of do, and
        returns True once fn has been called. With a timeout in seconds, it
        returns False if another thread's call of fn has not ended by then.
        See the class documentation."""
        if self._done:
            return True
        return self._do_slow(fn, timeout)

    def _do_slow(self, fn: Callable[[], object], timeout: float | None) -> bool:
        if not callable(fn):
            raise TypeError(f"Once.do() needs a callable, not {type(fn).__name__}")
        m = self._m
        # The Mutex is held for as long as fn runs, so waiting for it is
        # waiting for fn; lock(timeout) validates the timeout first.
        if timeout is None:
            m.lock()
        elif not m.lock(timeout):
            return False
        try:
            if self._flag.load():
                self._done = True
                return True
            try:
                fn()
            finally:
                self._flag.store(1)
                self._done = True
            return True
        finally:
            m.unlock()


def _check(fn: object, name: str) -> None:
    if not callable(fn):
        raise TypeError(f"{name}() needs a callable, not {type(fn).__name__}")


def once_values(fn: Callable[[], Any]) -> Callable[[], tuple[Any, ...]]:
    """once_values returns a function that calls fn only once and returns
    the values it returned, as a tuple. The returned function may be called
    concurrently.

    If fn raises, or returns something that is not iterable (TypeError), the
    returned function raises the same exception object on every call. fn is
    dropped after its call, so it can be freed.
    """
    _check(fn, "once_values")
    return _once(fn, _values)


def _values(result: Any) -> tuple[Any, ...]:
    try:
        values = iter(result)
    except TypeError:
        raise TypeError(f"once_values: fn returned {type(result).__name__}, not an iterable of values") from None
    return tuple(values)


def once_value(fn: Callable[[], T]) -> Callable[[], T]:
    """once_value returns a function that calls fn only once and returns the
    value it returned. The returned function may be called concurrently.

    If fn raises, the returned function raises the same exception object on
    every call. fn is dropped after its call, so it can be freed, whether it
    returned or raised: the exception's traceback stops at the call of fn,
    and from Python 3.11 a note on it lists the frames of fn it dropped.
    """
    _check(fn, "once_value")
    return _once(fn, None)


def once_func(fn: Callable[[], object]) -> Callable[[], None]:
    """once_func returns a function that calls fn only once. The returned
    function may be called concurrently.

    If fn raises, the returned function raises the same exception object on
    every call. fn is dropped after its call, so it can be freed.
    """
    _check(fn, "once_func")
    call = _once(fn, None)

    def func() -> None:
        call()

    return func


def _drop_fn_frames(e: BaseException) -> None:
    """_drop_fn_frames cuts e's traceback after the frame that called fn (the
    first entry: e was just caught there), so that storing e does not keep
    fn alive. From CPython 3.11 a frame holds its function, and the frames
    of fn and of what it called would hold fn until the next call replaced
    the traceback. The entries dropped are kept as text: a note on the
    exception (3.11+), which tracebacks print, so the first caller still
    learns where fn raised. Before 3.11 frames do not hold their function;
    the entries stay, with their frames' locals cleared."""
    tb = e.__traceback__
    if tb is None or tb.tb_next is None:
        return
    dropped = tb.tb_next
    add_note = getattr(e, "add_note", None)
    if add_note is None:
        traceback.clear_frames(dropped)
        return
    tb.tb_next = None
    add_note(
        "gosync: the once function's frames, dropped so that it can be freed:\n"
        + "".join(traceback.format_tb(dropped)).rstrip("\n")
    )


def _once(fn: Callable[[], Any], convert: Callable[[Any], Any] | None) -> Callable[[], Any]:
    """The shared body of once_func, once_value and once_values: Go's
    OnceValue, with fn released after its call."""
    once = Once()
    box: list[Any] = [fn]  # [fn] before the call; [value] or [exception] after
    ok: list[bool] = []

    def run() -> None:
        f = box.pop()
        try:
            value = f()
            if convert is not None:
                value = convert(value)
        except BaseException as e:
            _drop_fn_frames(e)
            box.append(e)
            raise
        finally:
            del f
        box.append(value)
        ok.append(True)

    def call() -> Any:
        once.do(run)
        if ok:
            return box[0]
        # The same exception object, with a fresh traceback: the first one
        # holds fn's frame, and through it fn.
        raise box[0].with_traceback(None)

    return call
