"""singleflight: golang.org/x/sync/singleflight's duplicate call
suppression."""

from __future__ import annotations

from typing import Any, Callable, Generic, Hashable, NamedTuple, Optional, Tuple, TypeVar

from ._nocopy import WEAKREF_SLOT, no_copy
from .chan import Chan
from .goroutine import go
from .mutex import Mutex
from .waitgroup import WaitGroup

__all__ = ["Group", "Result"]

T = TypeVar("T")


class Result(NamedTuple):
    """What do_chan delivers: the value, or err, the exception fn raised;
    shared is whether it was given to more than one caller."""

    value: Any
    err: Optional[BaseException]
    shared: bool


class _Call:
    """One run of fn, in flight or done; val and err are set before wg is
    done. dups counts the callers that joined, under Group._mu."""

    __slots__ = ("wg", "val", "err", "dups", "chans")

    def __init__(self) -> None:
        self.wg = WaitGroup()
        self.wg.add(1)
        self.val: Any = None
        self.err: Optional[BaseException] = None
        self.dups = 0
        self.chans: list[Any] = []


@no_copy
class Group(Generic[T]):
    """A Group runs each function once per key while calls for that key are
    in flight: callers that come while it runs wait for it and share its
    result, the same object, or its exception, the same object, raised in
    each of them. It must not be copied or pickled.
    """

    __slots__ = ("_mu", "_calls") + WEAKREF_SLOT

    def __init__(self) -> None:
        self._mu = Mutex()
        self._calls: dict[Hashable, _Call] = {}

    def do(self, key: Hashable, fn: Callable[[], T]) -> Tuple[T, bool]:
        """do calls fn and returns (its result, shared), making sure that
        only one call for key is in flight at a time. A duplicate caller
        waits for the original and gets the same result; shared says
        whether it went to more than one caller. If fn raises, each caller
        raises that same exception.

        key must be hashable (TypeError); fn must be callable (TypeError).
        """
        c, leader = self._join(key, fn)
        if leader:
            self._do_call(c, key, fn)
        else:
            c.wg.wait()
        if c.err is not None:
            raise c.err
        return c.val, (not leader) or c.dups > 0

    def _join(self, key: Hashable, fn: object) -> Tuple[_Call, bool]:
        hash(key)  # an unhashable key raises TypeError here, with nothing changed
        if not callable(fn):
            raise TypeError(f"singleflight.Group needs a callable, not {type(fn).__name__}")
        with self._mu:
            c = self._calls.get(key)
            if c is not None:
                c.dups += 1
                return c, False
            c = _Call()
            self._calls[key] = c
            return c, True

    def _do_call(self, c: _Call, key: Hashable, fn: Callable[[], T]) -> None:
        try:
            c.val = fn()
        except BaseException as e:  # noqa: B036 - handed to every caller, then raised
            c.err = e
        finally:
            with self._mu:
                c.wg.done()
                if self._calls.get(key) is c:
                    del self._calls[key]
                chans, shared = c.chans, c.dups > 0
            for ch in chans:
                ch.send(Result(c.val, c.err, shared))

    def do_chan(self, key: Hashable, fn: Callable[[], T]) -> Chan:
        """do_chan is do, but returns at once a gosync.Chan of capacity 1
        that receives one Result when fn has returned. The original call
        runs fn in a new thread (gosync.go)."""
        ch: Chan = Chan(1)
        hash(key)
        if not callable(fn):
            raise TypeError(f"singleflight.Group needs a callable, not {type(fn).__name__}")
        with self._mu:
            c = self._calls.get(key)
            if c is not None:
                c.dups += 1
                c.chans.append(ch)
                return ch
            c = _Call()
            c.chans.append(ch)
            self._calls[key] = c
        go(self._do_call, c, key, fn)
        return ch

    def forget(self, key: Hashable) -> None:
        """forget tells the group to forget key: the next call of do for
        key runs fn instead of waiting for the call in flight."""
        hash(key)
        with self._mu:
            self._calls.pop(key, None)

    def __repr__(self) -> str:
        with self._mu:
            return f"<gosync.singleflight.Group in_flight={len(self._calls)}>"
