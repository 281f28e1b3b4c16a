"""Map: Go's sync.Map, with its read/dirty design (sync/map.go, Go 1.20-1.23).

The map keeps two dicts of entries:

  - `read`, published as the tuple (dict, amended) in one attribute, is never
    modified once published. Loads of the keys in it take no lock: one
    attribute read for the tuple, one dict lookup, one attribute read for
    the entry's value.
  - `dirty`, under the Mutex `mu`, holds every key of `read` that is not
    expunged, plus the keys stored since `read` was published (`amended`
    says there are some). When enough loads have missed `read` and needed
    the lock (misses >= len(dirty)), `dirty` is published as the new `read`.

An entry holds its key's value in `p`, or one of two markers: _NIL (the key
was deleted, but its entry is still in `read`, and in `dirty` if there is
one) and _EXPUNGED (deleted, and the entry is not in `dirty`; `dirty` was
made without it, so the key must be added to `dirty` before its entry can
hold a value again). Every change of `p` is a compare-and-swap on the
object identity of what it held, made under the small Mutex `emu` that
guards nothing else; a read of `p` takes no lock. Lock order: mu, then emu.

Values are compared with == only outside every lock (compare_and_swap and
compare_and_delete compare first, then compare-and-swap on identity, and
compare again if `p` changed meanwhile), so user code never runs while the
map holds a lock, except the keys' __hash__ and __eq__ inside dict
operations on `dirty`. Objects replaced under a lock are kept alive until
it is released (in locals, `_dropped` where nothing else names them), so
their finalisers run outside it.
"""

from __future__ import annotations

from typing import Any, Callable, Generic, Hashable, Iterator, TypeVar, overload

from ._nocopy import WEAKREF_SLOT, no_copy
from .mutex import Mutex

__all__ = ["Map"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
D = TypeVar("D")


class _Marker:
    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


_NIL: Any = _Marker("<deleted>")
_EXPUNGED: Any = _Marker("<expunged>")
# The default of _swap_live's old: any live value matches.
_ANY: Any = _Marker("<any>")


class _Entry:
    """The slot of one key. `p` is read without a lock; see the module
    docstring for the meaning of the markers and for how `p` changes."""

    __slots__ = ("p",)

    def __init__(self, p: Any) -> None:
        self.p = p


_EMPTY_READ: tuple[dict[Any, _Entry], bool] = ({}, False)


@no_copy
class Map(Generic[K, V]):
    """A Map is like a dict but is safe for concurrent use by multiple threads
    without additional locking or coordination. Loads, stores, and deletes
    run in amortised constant time.

    Map is specialised, like Go's sync.Map. It is optimised for two common
    cases: (1) when the entry for a given key is only ever written once but
    read many times, as in caches that only grow, or (2) when multiple
    threads read, write, and overwrite entries for disjoint sets of keys. In
    these two cases, use of a Map may significantly reduce lock contention
    compared to a dict paired with a lock: loads of such keys take no lock.

    Keys must be hashable (an unhashable key raises TypeError and changes
    nothing). Their __hash__ and __eq__ must not call the same Map. Values
    are compared with ==. A Map must not be copied or pickled.

    Python's container protocols are written on Go's methods: `key in m`
    (load), `m[key]` (load; KeyError if absent), `m[key] = value` (store),
    `del m[key]` (load_and_delete; KeyError if absent), `m.get(key,
    default)`, and iteration over the keys, or m.items(), with range's
    rules. len(m) and bool(m) visit the entries as range does. There is no
    keys() or setdefault(): a Map is not a MutableMapping, whose mixin
    methods would be several calls, not one atomic operation; use
    load_or_store, and dict(m.items()) for a copy.
    """

    __slots__ = ("_read", "_mu", "_emu", "_dirty", "_misses") + WEAKREF_SLOT

    def __init__(self) -> None:
        self._read: tuple[dict[Any, _Entry], bool] = _EMPTY_READ
        self._mu = Mutex()  # guards _dirty and _misses, and publishing _read
        self._emu = Mutex()  # serialises the compare-and-swaps of entries
        self._dirty: dict[Any, _Entry] | None = None
        self._misses = 0

    # ---- reads ---------------------------------------------------------------

    def load(self, key: K) -> tuple[V | None, bool]:
        """Load returns the value stored in the map for a key, or None if no
        value is present. The ok result indicates whether value was found in
        the map."""
        m, amended = self._read
        e = m.get(key)
        if e is None:
            if not amended:
                return None, False
            e = self._load_slow(key)
            if e is None:
                return None, False
        p = e.p
        if p is _NIL or p is _EXPUNGED:
            return None, False
        return p, True

    def range(self, f: Callable[[K, V], object]) -> None:
        """Range calls f sequentially for each key and value present in the
        map. If f returns False, range stops the iteration (any other result,
        None included, continues).

        Range does not necessarily correspond to any consistent snapshot of
        the map's contents: no key will be visited more than once, but if the
        value for any key is stored or deleted concurrently (including by f),
        range may reflect any mapping for that key from any point during the
        range call. Range does not block other methods, and f may call any
        method of the map.

        Range may be O(N) with the number of elements in the map even if f
        returns False after a constant number of calls. A non-callable f
        raises TypeError before anything is done, even on an empty map.
        """
        if not callable(f):
            raise TypeError(f"Map.range() needs a callable, not {type(f).__name__}")
        for k, e in self._published().items():
            p = e.p
            if p is _NIL or p is _EXPUNGED:
                continue
            if f(k, p) is False:
                break

    # ---- Python's container protocols, on the methods above -------------------

    def __contains__(self, key: object) -> bool:
        """`key in m` reports whether the map holds a value for key (load's ok)."""
        return self.load(key)[1]  # type: ignore[arg-type]

    def __getitem__(self, key: K) -> V:
        """`m[key]` is the value for key; KeyError if there is none."""
        value, ok = self.load(key)
        if not ok:
            raise KeyError(key)
        return value  # type: ignore[return-value]

    def __setitem__(self, key: K, value: V) -> None:
        """`m[key] = value` is store."""
        self.swap(key, value)

    def __delitem__(self, key: K) -> None:
        """`del m[key]` deletes the value for key, as one load_and_delete, and
        raises KeyError if there was none (delete is silent, as Go's)."""
        if not self.load_and_delete(key)[1]:
            raise KeyError(key)

    @overload
    def get(self, key: K) -> V | None: ...

    @overload
    def get(self, key: K, default: D) -> V | D: ...

    def get(self, key: K, default: object = None) -> object:
        """Get returns the value for key, or default if there is none."""
        value, ok = self.load(key)
        return value if ok else default

    def __iter__(self) -> Iterator[K]:
        """Iterating a map yields its keys with range's rules: no key twice,
        no lock held between keys, a key stored or deleted meanwhile may or
        may not be seen, and the loop body may call any method of the map."""
        for k, e in self._published().items():
            p = e.p
            if p is not _NIL and p is not _EXPUNGED:
                yield k

    def items(self) -> Iterator[tuple[K, V]]:
        """Items yields (key, value) pairs with range's rules (see __iter__);
        each value is the one present when its key is reached.
        dict(m.items()) copies the map."""
        for k, e in self._published().items():
            p = e.p
            if p is not _NIL and p is not _EXPUNGED:
                yield k, p

    def __len__(self) -> int:
        """len(m) counts the keys that iteration would yield: it takes time
        proportional to the map's size (Go's sync.Map has no Len for that
        reason), and while other threads store or delete, it is a count over
        the moments it passed through, as range is, not of one instant."""
        n = 0
        for e in self._published().values():
            p = e.p
            if p is not _NIL and p is not _EXPUNGED:
                n += 1
        return n

    def __bool__(self) -> bool:
        """A map is true if it holds any value; it stops at the first."""
        for e in self._published().values():
            p = e.p
            if p is not _NIL and p is not _EXPUNGED:
                return True
        return False

    # ---- writes ----------------------------------------------------------------

    def store(self, key: K, value: V) -> None:
        """Store sets the value for a key."""
        self.swap(key, value)

    def swap(self, key: K, value: V) -> tuple[V | None, bool]:
        """Swap swaps the value for a key and returns the previous value if
        any (None otherwise). The loaded result reports whether the key was
        present."""
        m, _ = self._read
        e = m.get(key)
        if e is not None:
            # A key of read: swap in place, unless it is expunged.
            with self._emu:
                p = e.p
                if p is not _EXPUNGED:
                    e.p = value
            if p is not _EXPUNGED:
                return (None, False) if p is _NIL else (p, True)
        with self._mu:
            m, amended = self._read
            e = m.get(key)
            p = _NIL
            if e is not None:
                if self._unexpunge_locked(e):
                    # The entry was expunged, so dirty exists and lacks it.
                    self._dirty[key] = e  # type: ignore[index]
                with self._emu:
                    p = e.p
                    e.p = value
            else:
                dirty = self._dirty
                e = dirty.get(key) if dirty is not None else None
                if e is not None:
                    with self._emu:
                        p = e.p
                        e.p = value
                else:
                    if not amended:
                        # The first new key since read was published: make
                        # dirty and mark read incomplete.
                        self._dirty_locked()
                        self._read = (m, True)
                    self._dirty[key] = _Entry(value)  # type: ignore[index]
        return (None, False) if p is _NIL or p is _EXPUNGED else (p, True)

    def load_or_store(self, key: K, value: V) -> tuple[V, bool]:
        """LoadOrStore returns the existing value for the key if present.
        Otherwise, it stores and returns the given value. The loaded result
        is True if the value was loaded, False if stored."""
        m, _ = self._read
        e = m.get(key)
        if e is not None:
            actual, loaded, ok = self._try_load_or_store(e, value)
            if ok:
                return actual, loaded
        with self._mu:
            m, amended = self._read
            e = m.get(key)
            if e is not None:
                if self._unexpunge_locked(e):
                    self._dirty[key] = e  # type: ignore[index]
                actual, loaded, _ = self._try_load_or_store(e, value)
            else:
                dirty = self._dirty
                e = dirty.get(key) if dirty is not None else None
                if e is not None:
                    actual, loaded, _ = self._try_load_or_store(e, value)
                    _dropped = self._miss_locked()
                else:
                    if not amended:
                        self._dirty_locked()
                        self._read = (m, True)
                    self._dirty[key] = _Entry(value)  # type: ignore[index]
                    actual, loaded = value, False
        return actual, loaded

    def load_and_delete(self, key: K) -> tuple[V | None, bool]:
        """LoadAndDelete deletes the value for a key, returning the previous
        value if any (None otherwise). The loaded result reports whether the
        key was present."""
        m, amended = self._read
        e = m.get(key)
        if e is None and amended:
            with self._mu:
                m, amended = self._read
                e = m.get(key)
                if e is None and amended:
                    e = self._dirty.pop(key, None)  # type: ignore[union-attr]
                    # Whether or not the key was there, count a miss: this key
                    # takes the slow path until dirty is published.
                    _dropped = self._miss_locked()
        if e is None:
            return None, False
        return self._swap_live(e, _NIL)

    def delete(self, key: K) -> None:
        """Delete deletes the value for a key."""
        self.load_and_delete(key)

    def compare_and_swap(self, key: K, old: V, new: V) -> bool:
        """CompareAndSwap swaps the old and new values for key if the value
        stored in the map is equal to old (by ==). It returns whether it did;
        a missing key returns False."""
        m, amended = self._read
        e = m.get(key)
        if e is None:
            if not amended:
                return False
            with self._mu:
                m, amended = self._read
                e = m.get(key)
                if e is None and self._dirty is not None:
                    e = self._dirty.get(key)
                    if e is not None:
                        # The lock was needed to find the key, and the set of
                        # keys did not change: count a miss, so that dirty is
                        # published and later calls take the fast path.
                        _dropped = self._miss_locked()
            if e is None:
                return False
        return self._swap_live(e, new, old)[1]

    def compare_and_delete(self, key: K, old: V) -> bool:
        """CompareAndDelete deletes the entry for key if its value is equal to
        old (by ==). It returns whether it did; a missing key returns False.

        If there is no current value for key in the map, it returns False,
        even if old is None."""
        m, amended = self._read
        e = m.get(key)
        if e is None and amended:
            # The key stays in dirty: the compare is still to do. If it
            # deletes, the entry is expunged when dirty is published.
            e = self._load_slow(key)
        if e is None:
            return False
        return self._swap_live(e, _NIL, old)[1]

    def clear(self) -> None:
        """Clear deletes all the entries, resulting in an empty Map."""
        m, amended = self._read
        if not m and not amended:
            return  # already empty
        with self._mu:
            _dropped = (self._read, self._dirty)
            self._read = _EMPTY_READ
            if self._dirty is not None:
                self._dirty = {}
            # Don't publish the newly cleared dirty dict at the next miss.
            self._misses = 0
        del _dropped  # the entries die here, with no lock held

    def __repr__(self) -> str:
        return f"<gosync.Map at {id(self):#x}>"

    # ---- helpers ----------------------------------------------------------------------

    def _published(self) -> dict[Any, _Entry]:
        """Returns the read dict, after publishing dirty as the new read if
        keys were stored since the last time, so that it holds every key.
        A published dict is never modified again, so it can be iterated
        with no lock while other threads use the map."""
        m, amended = self._read
        if amended:
            with self._mu:
                m, amended = self._read
                _dropped = None
                if amended:
                    _dropped = self._read
                    m = self._dirty  # type: ignore[assignment]
                    self._read = (m, False)
                    self._dirty = None
                    self._misses = 0
            del _dropped
        return m

    def _load_slow(self, key: K) -> _Entry | None:
        """Looks key up under mu, once read has missed it: in read again,
        then in dirty. Whether or not the key is there, the lookup needed
        the lock, so it counts a miss, that dirty be published in time."""
        with self._mu:
            m, amended = self._read
            e = m.get(key)
            if e is None and amended:
                e = self._dirty.get(key)  # type: ignore[union-attr]
                _dropped = self._miss_locked()  # freed after mu is released
        return e

    def _swap_live(self, e: _Entry, new: Any, old: Any = _ANY) -> tuple[Any, bool]:
        """Replaces the live value of e with new (_NIL deletes it), provided
        it is == old; with old left out, any live value is replaced. Returns
        (the value replaced, True), or (None, False) if e held no live value
        or one not == old.

        The comparison runs old's and the value's __eq__, so the caller holds
        no lock; the swap itself is a compare-and-swap on the identity of the
        value compared, under emu, and if e changed in between, the new value
        is compared again.
        """
        emu = self._emu
        while True:
            p = e.p
            if p is _NIL or p is _EXPUNGED or (old is not _ANY and not (p == old)):
                return None, False
            with emu:
                if e.p is p:
                    e.p = new
                    return p, True

    # ---- helpers: the caller holds mu ----------------------------------------------

    def _miss_locked(self) -> object:
        """Counts a miss, and publishes dirty as read once the misses have
        cost as much as copying it. Returns the replaced read tuple, for the
        caller to keep until it has released mu."""
        self._misses += 1
        dirty = self._dirty
        if dirty is None or self._misses < len(dirty):
            return None
        old_read = self._read
        self._read = (dirty, False)
        self._dirty = None
        self._misses = 0
        return old_read

    def _dirty_locked(self) -> None:
        """Makes dirty, if there is none, from read's live entries; the
        deleted ones are expunged instead of copied."""
        if self._dirty is not None:
            return
        m, _ = self._read
        self._dirty = {k: e for k, e in m.items() if not self._try_expunge_locked(e)}

    def _try_expunge_locked(self, e: _Entry) -> bool:
        """Marks a deleted entry expunged; reports whether it is expunged."""
        p = e.p
        while p is _NIL:
            with self._emu:
                if e.p is _NIL:
                    e.p = _EXPUNGED
                    return True
            p = e.p
        return p is _EXPUNGED

    def _unexpunge_locked(self, e: _Entry) -> bool:
        """Turns an expunged entry into a deleted one (so that it can be added
        to dirty); reports whether it was expunged."""
        if e.p is not _EXPUNGED:
            return False
        with self._emu:
            if e.p is _EXPUNGED:
                e.p = _NIL
                return True
        return False

    def _try_load_or_store(self, e: _Entry, value: V) -> tuple[Any, bool, bool]:
        """Loads the entry's value, or stores value if it is deleted but not
        expunged. Returns (actual, loaded, ok); ok is False, and nothing was
        done, if the entry is expunged."""
        while True:
            p = e.p
            if p is _EXPUNGED:
                return None, False, False
            if p is not _NIL:
                return p, True, True
            with self._emu:
                if e.p is _NIL:
                    e.p = value
                    return value, False, True
