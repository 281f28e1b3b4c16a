"""Pool: Go's sync.Pool, a cache of allocated but unused objects.

Layout, as in Go (sync/pool.go), with threads in place of Ps:

  - Each thread has a PoolLocal (a C type in the binding) with two slots:
    `private`, which only that thread puts into and gets from, and `victim`.
    A slot changes only by atomic exchange, or by compare-and-swap from
    empty, and whoever takes an object out of it takes its reference: no
    object is handed out twice, with or without the GIL.
  - `shared` and `victim` lists hold what does not fit in the private slots,
    under the pool's Mutex.

Garbage collection drives the victim cache. At the start of every
collection (gc.callbacks), each pool moves its private slots and shared list
to the victim slots and list, and drops what was there before. An object put
in the pool therefore survives one collection, from which get can still
recover it, and is gone after the second.

The collection can begin in any thread, at any allocation, including one made
while that thread holds the pool's Mutex, so the callback never waits for it:
the PoolLocal slots need no lock, and the shared list is rotated by
try_lock. When try_lock fails, the rotation is left pending in an atomic
counter, and the thread that holds the Mutex carries it out as soon as it has
released it. Objects are dropped only after the Mutex is released, so a
finaliser that uses the pool cannot deadlock.
"""

from __future__ import annotations

import gc
import threading
import weakref
from typing import Any, Callable, Generic, TypeVar, overload

from ._native import PoolLocal
from ._nocopy import WEAKREF_SLOT, no_copy
from .atomic import Int64
from .mutex import Mutex

__all__ = ["Pool"]

T = TypeVar("T")


class _Local(PoolLocal):
    """One thread's slots; weakly referenced by the pool so that a thread's
    slots (and what they hold) die with the thread."""

    __slots__ = WEAKREF_SLOT


@no_copy
class Pool(Generic[T]):
    """A Pool is a set of temporary objects that may be individually saved and
    retrieved.

    Any item stored in the Pool may be removed automatically at any time
    without notification: an item put in the pool survives one garbage
    collection and is dropped at the second. A Pool is safe for use by
    multiple threads simultaneously, and must not be copied or pickled.

    Pool(new=None): new, if not None, makes a value when get would otherwise
    return None. For type checkers, Pool(new=f) is a Pool of what f returns,
    whose get() never returns None; a Pool without new is declared as
    Pool[X | None]. It is the attribute `new`, and may be changed at any time;
    anything but None or a callable raises TypeError, there and in the
    constructor, and is not kept.

    A Pool's purpose is to cache allocated but unused items for later reuse,
    relieving pressure on the allocator: for instance buffers, each taken
    with get, used by one thread, and given back with put.
    """

    __slots__ = ("_new", "_tls", "_locals", "_locals_mu", "_mu", "_shared", "_victim", "_pending") + WEAKREF_SLOT

    # Typed so that get() has new's return type: Pool(new=f) is a Pool[R]
    # for f returning R, and a Pool without new a Pool[X | None], since its
    # get returns None when empty.
    @overload
    def __init__(self: Pool[T], new: Callable[[], T]) -> None: ...

    @overload
    def __init__(self: Pool[T | None], new: None = None) -> None: ...

    def __init__(self, new: Callable[[], T] | None = None) -> None:
        self.new = new
        self._tls = threading.local()
        # Weak references to every thread's _Local, copied on write under
        # _locals_mu, so that the collector's callback reads it with no lock.
        self._locals: tuple[weakref.ref[_Local], ...] = ()
        self._locals_mu = Mutex()
        self._mu = Mutex()  # guards _shared and _victim
        self._shared: list[T] = []
        self._victim: list[T] = []
        self._pending = Int64()  # collections whose rotation is still to do
        _register(self)

    @property
    def new(self) -> Callable[[], T] | None:
        """The function that makes a value when the pool is empty, or None."""
        return self._new

    @new.setter
    def new(self, new: Callable[[], T] | None) -> None:
        # Checked when set, not when get first calls it, which can be much
        # later and in another thread.
        if new is not None and not callable(new):
            raise TypeError(f"Pool.new must be a callable or None, not {type(new).__name__}")
        self._new = new

    def put(self, x: T | None) -> None:
        """Put adds x to the pool. Putting None does nothing."""
        if x is None:
            return
        try:
            local = self._tls.local
        except AttributeError:
            local = self._new_local()
        if not local.put(x):
            with self._mu:
                self._shared.append(x)
            if self._pending.load():
                self._rotate()

    def get(self) -> T:
        """Get selects an arbitrary item from the pool, removes it from the
        pool, and returns it to the caller.

        If the pool is empty, get returns the result of calling new, or None
        if new is None. Callers should not assume any relation between
        values passed to put and the values returned by get.
        """
        try:
            local = self._tls.local
        except AttributeError:
            local = self._new_local()
        x: T | None = local.take()
        if x is None:
            return self._get_slow(local)
        return x

    def _get_slow(self, local: _Local) -> T:
        with self._mu:
            if self._shared:
                x = self._shared.pop()
            elif self._victim:
                x = self._victim.pop()
            else:
                x = None
        if self._pending.load():
            self._rotate()
        if x is None:
            x = local.take_victim()
        if x is None:
            new = self._new
            if new is not None:
                x = new()
        # None only for a pool without new, whose T includes None.
        return x

    def _new_local(self) -> _Local:
        local = _Local()
        self._tls.local = local
        with self._locals_mu:
            live = tuple(r for r in self._locals if r() is not None)
            self._locals = (*live, weakref.ref(local))
        return local

    def _on_gc(self) -> None:
        # Called at the start of every collection, in whichever thread runs it.
        for ref in self._locals:
            local = ref()
            if local is not None:
                local.rotate()
        self._pending.add(1)
        self._rotate()

    def _rotate(self) -> None:
        """Carry out pending rotations of the shared list, unless another
        thread holds the Mutex (it will do them after releasing it)."""
        mu = self._mu
        while self._pending.load() and mu.try_lock():
            dropped: Any = None
            try:
                n = self._pending.swap(0)
                if n == 1:
                    dropped = self._victim
                    self._victim = self._shared
                    self._shared = []
                elif n > 1:
                    # Two collections at once: the shared items are gone too.
                    dropped = (self._victim, self._shared)
                    self._victim = []
                    self._shared = []
            finally:
                mu.unlock()
            del dropped  # frees the dropped items, with no lock held

    def __repr__(self) -> str:
        return f"<gosync.Pool new={self.new!r}>"


# Every live pool, by weak reference, for the collector's callback. Copied on
# write under _pools_mu; the callback reads it without any lock. The
# callback is registered once, for the module, and holds no pool alive.
_pools: tuple[weakref.ref[Pool[Any]], ...] = ()
_pools_mu = Mutex()


def _register(pool: Pool[Any]) -> None:
    global _pools
    with _pools_mu:
        _pools = (*(r for r in _pools if r() is not None), weakref.ref(pool))


def _on_gc(phase: str, info: dict[str, int]) -> None:
    global _pools
    if phase != "start":
        return
    for ref in _pools:
        pool = ref()
        if pool is not None:
            pool._on_gc()
    # Forget dead pools, unless this thread is the one registering a pool.
    if _pools_mu.try_lock():
        try:
            _pools = tuple(r for r in _pools if r() is not None)
        finally:
            _pools_mu.unlock()


def _install_gc_hook() -> None:
    if hasattr(gc, "callbacks"):
        gc.callbacks.append(_on_gc)
        return
    # PyPy has no gc.callbacks; its gc.hooks has one slot per event. The
    # pools empty at each major collection, as Go's do at each GC (PyPy's
    # minor collections run far too often for that). A hook already there
    # is kept and called first.
    hooks: Any = getattr(gc, "hooks")  # noqa: B009  (PyPy only: not in typeshed)
    previous = hooks.on_gc_collect

    def on_gc_collect(stats: object) -> None:
        if previous is not None:
            previous(stats)
        _on_gc("start", {})

    hooks.on_gc_collect = on_gc_collect


_install_gc_hook()
