"""Once: Go's sync.Once, and OnceFunc, OnceValue and OnceValues (Go 1.21)."""

from __future__ import annotations

import traceback
from functools import partial
from types import MethodType
from typing import Any, Callable, Iterable, Protocol, TypeVar, overload

from ._nocopy import WEAKREF_SLOT, no_copy
from .atomic import Uint32
from .mutex import Mutex

__all__ = ["Once", "once_func", "once_value", "once_values"]

T = TypeVar("T")
S = TypeVar("S")
S_contra = TypeVar("S_contra", contravariant=True)
T_co = TypeVar("T_co", covariant=True)
Tup = TypeVar("Tup", bound="tuple[Any, ...]")


@no_copy
class Once:
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

    Once(name=...) names it in the contention profiles (gosync.profile):
    the waits for fn to finish are the waits on its lock.
    """

    __slots__ = ("_done", "_flag", "_m") + WEAKREF_SLOT

    def __init__(self, *, name: str | None = None) -> None:
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
        self._m = Mutex(name=name)

    # timeout is not keyword-only: CPython (3.11) specialises calls that fill
    # positional defaults, not keyword-only ones, and the fast path must stay
    # about an attribute read. It is positional in Mutex.lock(timeout) too.
    def do(self, fn: Callable[[], object], timeout: float | None = None) -> bool:
        """Do calls fn if and only if this is the first call of do, and
        returns True once fn has been called. With a timeout in seconds, it
        returns False if another thread's call of fn has not ended by then.
        See the class documentation."""
        if self._done:
            return True
        return self._do_slow(fn, timeout)

    def _lock_for_do(self, timeout: float | None) -> bool:
        # The Mutex is held for as long as fn runs, so waiting for it is
        # waiting for fn; lock(timeout) validates the timeout first.
        return self._m.lock() if timeout is None else self._m.lock(timeout)

    def _do_slow(self, fn: Callable[[], object], timeout: float | None) -> bool:
        if not callable(fn):
            raise TypeError(f"Once.do() needs a callable, not {type(fn).__name__}")
        if not self._lock_for_do(timeout):
            return False
        m = self._m
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


class _OnceMethod(Protocol[S_contra, T_co]):
    """The type of once_func, once_value or once_values applied to a method:
    each instance gets its own once-function, taking no argument."""

    @overload
    def __get__(self, instance: None, owner: type[Any] | None = None) -> _OnceMethod[S_contra, T_co]: ...

    @overload
    def __get__(self, instance: S_contra, owner: type[Any] | None = None) -> Callable[[], T_co]: ...


@overload
def once_values(fn: Callable[[], Tup]) -> Callable[[], Tup]: ...


@overload
def once_values(fn: Callable[[], Iterable[T]]) -> Callable[[], tuple[T, ...]]: ...


@overload
def once_values(fn: Callable[[S], Tup]) -> _OnceMethod[S, Tup]: ...


@overload
def once_values(fn: Callable[[S], Iterable[T]]) -> _OnceMethod[S, tuple[T, ...]]: ...


def once_values(fn: Callable[..., Any]) -> Any:
    """once_values returns a function that calls fn only once and returns
    the values it returned, as a tuple (a tuple fn returns, a NamedTuple
    included, is returned as it is). The returned function may be called
    concurrently.

    If fn raises, or returns something that is not iterable (TypeError), the
    returned function raises the same exception object on every call. fn is
    dropped after its call, so it can be freed.

    On a method (as a decorator in a class body), each instance gets its
    own once-function of the method: see once_value.
    """
    _check(fn, "once_values")
    return _OnceFunction(fn, _values, "once_values")


def _values(result: Any) -> tuple[Any, ...]:
    if isinstance(result, tuple):
        return result
    try:
        values = iter(result)
    except TypeError:
        raise TypeError(f"once_values: fn returned {type(result).__name__}, not an iterable of values") from None
    return tuple(values)


@overload
def once_value(fn: Callable[[], T]) -> Callable[[], T]: ...


@overload
def once_value(fn: Callable[[S], T]) -> _OnceMethod[S, T]: ...


def once_value(fn: Callable[..., Any]) -> Any:
    """once_value returns a function that calls fn only once and returns the
    value it returned. The returned function may be called concurrently.

    If fn raises, the returned function raises the same exception object on
    every call. fn is dropped after its call, so it can be freed, whether it
    returned or raised: the exception's traceback stops at the call of fn,
    and from Python 3.11 a note on it lists the frames of fn it dropped.

    Used as a decorator on a method in a class body, it gives each instance
    its own once-function of the method, as functools.cached_property
    does: obj.method() calls the method once per instance. That function
    is kept in the instance's __dict__ under the method's name, so a class
    whose instances have no __dict__ (__slots__ only) gets a TypeError
    saying so. The method itself stays with the class.
    """
    _check(fn, "once_value")
    return _OnceFunction(fn, None, "once_value")


@overload
def once_func(fn: Callable[[], object]) -> Callable[[], None]: ...


@overload
def once_func(fn: Callable[[S], object]) -> _OnceMethod[S, None]: ...


def once_func(fn: Callable[..., object]) -> Any:
    """once_func returns a function that calls fn only once. The returned
    function may be called concurrently.

    If fn raises, the returned function raises the same exception object on
    every call. fn is dropped after its call, so it can be freed. On a
    method, each instance gets its own once-function: see once_value.
    """
    _check(fn, "once_func")
    return _OnceFunction(fn, _nothing, "once_func")


def _nothing(result: object) -> None:
    return None


class _OnceFunction(partial):  # type: ignore[type-arg]
    """What once_func, once_value and once_values return: a callable taking
    no argument, which is also a descriptor, so that on a method each
    instance gets its own once-function (see once_value).

    It is a functools.partial of the closure that does the work, so that a
    call runs no Python frame of its own: partial's call is C.
    """

    __name__: str
    __qualname__: str
    _box: list[Any]
    _started: list[bool]
    _convert: Callable[[Any], Any] | None
    _kind: str
    _method: Callable[..., Any] | None
    _name: str
    _mu: Mutex

    def __new__(cls, fn: Callable[..., Any], convert: Callable[[Any], Any] | None, kind: str) -> _OnceFunction:
        call, box, started = _once(fn, convert)
        self = super().__new__(cls, call)
        # box and started are the closure's own: box holds fn until the
        # call, which drops it, so nothing here keeps a plain once-function's
        # fn alive. Only a method's is kept (see __set_name__).
        self._box, self._started = box, started
        self._convert = convert
        self._kind = kind
        self._method = None
        self._name = ""
        self._mu = Mutex()
        for attr in ("__module__", "__name__", "__qualname__", "__doc__"):
            try:
                setattr(self, attr, getattr(fn, attr))
            except AttributeError:
                pass
        return self

    def __set_name__(self, owner: type, name: str) -> None:
        # Called for an attribute assigned in a class body, normally before
        # any call; after one, fn is gone, and __get__ says so.
        if not self._started:
            self._method = self._box[0]
        self._name = name

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        if instance is None:
            return self
        method = self._method
        if method is None:
            raise TypeError(
                f"{self._kind}() on a method must be applied in the class body, before any call,"
                " so that each instance gets its own once-function"
            )
        try:
            d = instance.__dict__
        except AttributeError:
            raise TypeError(
                f"{self._kind}() on {type(instance).__qualname__}.{self._name} needs instances with a __dict__"
                " (the class has __slots__ only) to keep each instance's once-function in"
            ) from None
        with self._mu:
            f = d.get(self._name)
            if f is None:
                # Found in the instance's __dict__ from now on, before this
                # descriptor (it defines no __set__).
                f = d[self._name] = partial(_once(MethodType(method, instance), self._convert)[0])
        return f

    def __repr__(self) -> str:
        return f"<gosync.{self._kind} of {self.__qualname__}>"


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


def _once(
    fn: Callable[[], Any], convert: Callable[[Any], Any] | None
) -> tuple[Callable[[], Any], list[Any], list[bool]]:
    """The shared body of once_func, once_value and once_values: Go's
    OnceValue, with fn released after its call. Returns the function, its
    box ([fn] before the call, [value] or [exception] after) and a list that
    is non-empty once the call has started."""
    once = Once()
    box: list[Any] = [fn]  # [fn] before the call; [value] or [exception] after
    ok: list[bool] = []
    started: list[bool] = []

    def run() -> None:
        started.append(True)
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

    return call, box, started
