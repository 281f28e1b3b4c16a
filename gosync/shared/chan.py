"""Chan: Go's channel in shared memory, between processes.

The slot's state (at slot + 64; docs/DESIGN.md, "gosync.shared.Chan"):

    0     a robust mutex, guarding everything below
    64    a Cond on it, broadcast on every change
    128   word (u64, atomic): the ring, changed by one store per operation
    136   receivers (u32): receivers blocked now (for select's send cases)
    192   the ring: max(capacity, 1) slots of 4 + itemsize bytes: a u32
          (payload length, bit 31 set when pickled), then the payload

The slot header's extra word holds capacity | itemsize << 32, written
before the kind is published.

word, bit by bit:

    bit 0        closed
    bits 1-31    count: values in the ring (at most capacity, or 1 when
                 unbuffered)
    bits 32-63   recvx: receives so far, mod the largest multiple of
                 max(capacity, 1) below 2**32 (so that the slot runs on
                 across the wrap); the next receive reads slot
                 recvx % max(capacity, 1)

Transitions, each one store under the mutex, after the payload is written
and after the Cond's broadcast:
send count += 1; receive recvx += 1, count -= 1; an unbuffered sender's
retraction count -= 1 (recvx unchanged); close sets bit 0. A process
killed anywhere leaves the word before or after its one store: the ring is
consistent, so OwnerDied is absorbed (mark_consistent) and work goes on.

Unbuffered handoff: a sender waits for the one slot to be free, writes, and
notes mine = recvx. Its value is taken when recvx != mine; until then
nobody else can be received (the slot is its), so recvx stays mine. recvx
wraps after 2**32 receives (unbuffered: one slot): a sender that sleeps through exactly 2**32
later handoffs (each needing it to have been taken first: impossible, since
the slot stays its until taken) cannot exist, so the test is exact.
"""

from __future__ import annotations

import pickle
import random
import time
from typing import Any, Callable, Iterator, TypeVar

from .._errors import OwnerDied, SyncError
from .._native import CondBase, Mapping, SharedMutexBase, Uint32Base, Uint64Base, lib
from .._nocopy import WEAKREF_SLOT
from .._timeout import NO_DEADLINE, deadline_ns
from ._arena import Arena
from ._default import place
from ._layout import SLOT_HEADER
from ._named import check_name, profile_name
from ._placed import PlacedBase, placed

__all__ = ["Chan", "UnpicklingError", "select"]

C = TypeVar("C", bound="Chan")

_COND = 64
_WORD = 128
_RECEIVERS = 136
_RING = 192
_PICKLED = 1 << 31
_MAX_CAPACITY = (1 << 31) - 1
_SLICE_NS = 10_000_000  # select's longest sleep before it retries every case


def _check_size(name: str, n: object, least: int) -> int:
    """Checks a capacity (least 0) or itemsize (least 1) as gosync.Chan does."""
    if type(n) is not int:
        raise TypeError(f"Chan {name} must be an int, not {type(n).__name__}")
    if not least <= n <= _MAX_CAPACITY:
        raise ValueError("makechan: size out of range" if name == "capacity" else f"Chan itemsize out of range: {n}")
    return n


class UnpicklingError(pickle.UnpicklingError):
    """A value received from a gosync.shared.Chan did not unpickle in the
    receiving process. The value has left the channel; data holds its
    pickle, and __cause__ the unpickler's exception."""

    def __init__(self, message: str, data: bytes) -> None:
        super().__init__(message)
        self.data = data


def _decode(raw: tuple[int, bytes] | None) -> object:
    """The value of a payload read from a slot (None: no value)."""
    if raw is None:
        return None
    head, data = raw
    if not head & _PICKLED:
        return data
    try:
        return pickle.loads(data)
    except Exception as e:
        raise UnpicklingError(
            f"gosync: a value received from a shared Chan did not unpickle here: {e!r}", data
        ) from e


@placed
class Chan(PlacedBase):
    """A Chan is Go's channel between processes: a FIFO of values in shared
    memory, with gosync.Chan's API.

    Chan(capacity=0, itemsize=256) makes one in this process's default
    arena; arena.Chan(capacity, itemsize) in a given one. It pickles to a
    handle. bytes travel as they are; any other value is pickled. A value
    whose encoding is longer than itemsize raises ValueError, and nothing
    is sent. A negative capacity or an itemsize below 1 raises ValueError;
    a non-int, TypeError.

    send(v, timeout=None) -> bool, recv(timeout=None) -> value and
    recv_ok(timeout=None) -> (value, ok) wait for ever or until the timeout:
    send then returns False and recv raises TimeoutError, with nothing
    sent or received; Ctrl-C during a wait the same (KeyboardInterrupt).
    An unbuffered send returns only once a receiver holds the value.
    close() is Go's close: receivers drain what is buffered, then get None
    (ok False); blocked and later senders raise SyncError("send on closed
    channel"); a second close raises SyncError("close of closed channel").
    len(ch), ch.cap and iteration until closed and drained work as for
    gosync.Chan; gosync.shared.select selects among shared channels.

    A process killed in an operation leaves the ring as before or after
    it: a value is lost only if it was being handed to the killed process.

    A value is unpickled by the receiver, after it has left the channel: a
    value that does not unpickle there (its class unknown to the receiving
    program, say) raises UnpicklingError from that receive, carrying the
    pickle, and the next receive gets the next value. Unpickling runs code
    that the pickle names, so a process that can write the channel's
    memory (a process of the same user: segments are created 0600) can run
    code in its receivers, as with multiprocessing's queues. Send bytes to
    keep pickle out of it.
    """

    __slots__ = ("_arena", "_slot", "_m", "_cond", "_word", "_receivers", "_cap", "_slots", "_itemsize") + WEAKREF_SLOT
    _kind = 11

    _m: SharedMutexBase
    _cond: CondBase
    _word: Uint64Base
    _receivers: Uint32Base
    _cap: int
    _slots: int
    _itemsize: int

    def __new__(cls, capacity: int = 0, itemsize: int = 256, *, name: str | None = None) -> Chan:
        _check_size("capacity", capacity, 0)
        _check_size("itemsize", itemsize, 1)
        check_name(cls, name)
        return profile_name(place(lambda arena: cls._make(arena, capacity, itemsize)), name)

    def __init__(self, capacity: int = 0, itemsize: int = 256, *, name: str | None = None) -> None:
        # Set up by _place, which every way of making one goes through.
        pass

    @classmethod
    def _state_size(cls) -> int:
        return _RING  # the least: the ring's size is in the slot's extra word

    @classmethod
    def _make(cls: type[C], arena: Arena, capacity: int = 0, itemsize: int = 256) -> C:
        _check_size("capacity", capacity, 0)
        _check_size("itemsize", itemsize, 1)
        ring = max(capacity, 1) * (4 + itemsize)
        if _RING + ring > arena.size:
            # Refused before the bump word moves: the arena stays usable.
            raise MemoryError(f"gosync.shared: arena {arena._describe()} is full ({arena.size} bytes)")
        return arena._new(cls, capacity | itemsize << 32, _RING + ring)

    @classmethod
    def _place(cls: type[C], arena: Arena, slot: int, fresh: bool) -> C:
        extra = arena._extra(slot)
        capacity, itemsize = extra & 0xFFFFFFFF, extra >> 32
        if capacity > _MAX_CAPACITY or not 1 <= itemsize <= _MAX_CAPACITY:
            raise ValueError(f"offset {slot} holds a Chan of bad size")
        slots = max(capacity, 1)
        if slot + SLOT_HEADER + _RING + slots * (4 + itemsize) > arena.size:
            raise ValueError(f"offset {slot} holds a Chan larger than its arena")
        obj = object.__new__(cls)
        state = slot + SLOT_HEADER
        mapping: Mapping = arena._mapping
        obj._m = mapping.at(SharedMutexBase, state, fresh)
        obj._cond = mapping.at(CondBase, state + _COND, fresh)
        obj._word = mapping.at(Uint64Base, state + _WORD, fresh)
        obj._receivers = mapping.at(Uint32Base, state + _RECEIVERS, fresh)
        obj._cap, obj._slots, obj._itemsize = capacity, slots, itemsize
        obj._arena = arena
        obj._slot = slot
        return obj

    def _profile_parts(self) -> tuple[Any, ...]:
        # Its waits are on its mutex and its Cond: named after the Chan.
        return (self._m, self._cond)

    # ---- The lock and the wait -------------------------------------------

    def _lock(self) -> None:
        """Locks the mutex, whatever comes: a dead owner's OwnerDied is
        absorbed (the word is always consistent) and a KeyboardInterrupt
        during the wait is raised once the lock is held."""
        self._arena._check_open()
        pending: BaseException | None = None
        while True:
            try:
                self._m.__enter__()
                break
            except OwnerDied:
                self._m.mark_consistent()
                break
            except KeyboardInterrupt as e:
                pending = e
        if pending is not None:
            self._m.unlock()
            raise pending

    def _relock(self) -> BaseException | None:
        """Locks the mutex, returning (not raising) any KeyboardInterrupt
        that came meanwhile."""
        pending: BaseException | None = None
        while True:
            try:
                self._m.__enter__()
                return pending
            except OwnerDied:
                self._m.mark_consistent()
                return pending
            except KeyboardInterrupt as e:
                pending = e

    def _wait(self, deadline: int) -> bool:
        """Unlocks, sleeps until a broadcast or the deadline, and locks
        again; False on timeout. It returns or raises with the lock held."""
        exc: BaseException | None = None
        woken = False
        unlocked = False

        def unlock() -> None:
            # Noted first: a signal at this function's entry raises before
            # it, and the unlock itself is one C call.
            nonlocal unlocked
            unlocked = True
            self._m.unlock()

        try:
            # int: the Cond's "relock" is a no-op; _relock does it, so that
            # the lock is held afterwards however the sleep ended.
            woken = bool(self._cond._wait(None, unlock, int, deadline))
        except BaseException as e:
            if not unlocked:
                # The Cond refused before unlocking (16383 waiters, or a
                # corrupt Cond word): the lock is still held, and locking
                # it again would wait on this very thread for ever.
                raise
            exc = e
        late = self._relock()
        if exc is not None:
            raise exc
        if late is not None:
            raise late
        return woken

    def _state(self) -> tuple[int, int, bool]:
        w = self._word.load()
        count = (w >> 1) & _MAX_CAPACITY
        if count > self._slots:
            # Only a corrupt or hostile segment: senders would wait for room
            # that never comes, receivers would read slots nobody wrote.
            raise SyncError(f"sync: corrupt shared Chan: count {count} exceeds its {self._slots} slots")
        return w >> 32, count, bool(w & 1)

    def _store(self, recvx: int, count: int, closed: bool) -> None:
        # recvx wraps at the largest multiple of the slots that fits in 32
        # bits, not at 2**32: the slot recvx % slots then runs on across
        # the wrap (2**32 % 3 != 0 would send the next receive to slot 0).
        wrap = self._slots * ((1 << 32) // self._slots)
        # Broadcast first: a waiter looks at the word only once it holds
        # the lock, so it sees the store; and a process killed between the
        # two has woken everyone for a change that never came (they wait
        # again), not changed the word with nobody woken (a waiter without
        # a timeout would sleep on with a value in the ring:
        # model/shared_ring.pml, -DOLD_ORDER).
        self._cond.broadcast()
        self._word.store((recvx % wrap) << 32 | count << 1 | int(closed))

    # ---- Values ----------------------------------------------------------

    def _encode(self, v: object) -> tuple[int, bytes]:
        if type(v) is bytes:
            head, data = len(v), v
        else:
            data = pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL)
            head = len(data) | _PICKLED
        if len(data) > self._itemsize:
            raise ValueError(f"value of {len(data)} bytes encoded exceeds the channel's itemsize {self._itemsize}")
        return head, data

    def _at(self, i: int) -> int:
        return self._slot + SLOT_HEADER + _RING + i % self._slots * (4 + self._itemsize)

    def _put(self, i: int, item: tuple[int, bytes]) -> None:
        head, data = item
        self._arena._mapping.write(self._at(i), head.to_bytes(4, "little") + data)

    def _get(self, i: int) -> tuple[int, bytes]:
        """The payload in slot i, as written: it is decoded by _decode once
        the lock is released, so that unpickling (which runs code) neither
        holds everyone up nor leaves a bad value at the head."""
        at = self._at(i)
        head = int.from_bytes(self._arena._mapping.read(at, 4), "little")
        n = head & ~_PICKLED
        if n > self._itemsize:
            raise SyncError(f"sync: corrupt shared Chan: a value of {n} bytes in a slot of {self._itemsize}")
        return head, self._arena._mapping.read(at + 4, n)

    # ---- Operations, called with the lock held ---------------------------

    def _try_take(self) -> tuple[bool, tuple[int, bytes] | None, bool]:
        """(ready, payload, ok): a value's payload, or closed, or not
        ready."""
        recvx, count, closed = self._state()
        if closed and (count == 0 or self._cap == 0):
            # An unbuffered value still in the slot belongs to a sender
            # that will see the close and take it back.
            return True, None, False
        if count == 0:
            return False, None, False
        v = self._get(recvx)
        self._store(recvx + 1, count - 1, closed)
        return True, v, True

    def _offer(self, item: tuple[int, bytes], deadline: int, give_up: Callable[[], bool]) -> bool:
        """Puts item in the ring, waiting for room until deadline; for an
        unbuffered channel, then until a receiver takes it, taking it back
        on timeout, close or Ctrl-C. give_up() is asked before each wait
        for room (select's non-blocking attempt)."""
        while True:
            recvx, count, closed = self._state()
            if closed:
                raise SyncError("send on closed channel")
            if count < self._slots:
                break
            if give_up() or not self._wait(deadline):
                return False
        self._put(recvx + count, item)
        self._store(recvx, count + 1, closed)
        if self._cap:
            return True
        mine = recvx
        try:
            while True:
                recvx, count, closed = self._state()
                if recvx != mine:
                    return True  # taken
                if closed:
                    self._store(recvx, count - 1, closed)
                    raise SyncError("send on closed channel")
                if not self._wait(deadline):
                    recvx, count, closed = self._state()
                    if recvx != mine:
                        return True  # taken just as the time ran out
                    self._store(recvx, count - 1, closed)
                    return False
        except BaseException:
            # Ctrl-C, or anything else out of the wait (OverflowError from a
            # full Cond, a signal handler's exception): _wait raises with the
            # lock held, and the send has failed, so the value comes back.
            # count 0 with recvx still mine: taken back already (the close
            # or timeout path, then a signal before it left); the lock was
            # held since, so no other sender's value is in the slot.
            recvx, count, closed = self._state()
            if recvx == mine and count:
                self._store(recvx, count - 1, closed)
            raise

    # ---- The API ---------------------------------------------------------

    def send(self, v: object, timeout: float | None = None) -> bool:
        """Send sends v, waiting while the buffer is full (unbuffered: until
        a receiver takes v). With a timeout it returns False when the time
        passes, with nothing sent. On a closed channel it raises
        SyncError("send on closed channel"); a value too large for itemsize
        raises ValueError before anything changes."""
        deadline = NO_DEADLINE if timeout is None else deadline_ns(timeout)
        item = self._encode(v)
        self._lock()
        try:
            return self._offer(item, deadline, lambda: False)
        finally:
            self._m.unlock()

    def recv_ok(self, timeout: float | None = None) -> tuple[Any, bool]:
        """Recv_ok receives a value: (value, True), or (None, False) once
        the channel is closed and drained. With a timeout it raises
        TimeoutError when the time passes, with nothing received."""
        deadline = NO_DEADLINE if timeout is None else deadline_ns(timeout)
        self._lock()
        try:
            ready, raw, ok = self._try_take()
            if not ready:
                self._receivers.add(1)
                try:
                    while not ready:
                        if not self._wait(deadline):
                            raise TimeoutError("gosync: Chan receive timed out")
                        ready, raw, ok = self._try_take()
                finally:
                    self._receivers.add(-1)
        finally:
            self._m.unlock()
        return _decode(raw), ok

    def recv(self, timeout: float | None = None) -> Any:
        """Recv receives a value, or None once the channel is closed and
        drained; TimeoutError when a timeout passes."""
        return self.recv_ok(timeout)[0]

    def close(self) -> None:
        """Close closes the channel; closing it twice raises
        SyncError("close of closed channel")."""
        self._lock()
        try:
            recvx, count, closed = self._state()
            if closed:
                raise SyncError("close of closed channel")
            self._store(recvx, count, True)
        finally:
            self._m.unlock()

    def __len__(self) -> int:
        self._arena._check_open()
        _, count, _ = self._state()
        return 0 if self._cap == 0 else count

    @property
    def cap(self) -> int:
        """The channel's capacity."""
        return self._cap

    @property
    def itemsize(self) -> int:
        """The largest encoded value, in bytes."""
        return self._itemsize

    def __iter__(self) -> Iterator[Any]:
        while True:
            v, ok = self.recv_ok()
            if not ok:
                return
            yield v

    def __repr__(self) -> str:
        closed = self._closed_repr()
        if closed:
            return closed
        c = " closed" if self._state()[2] else ""
        return f"<gosync.shared.Chan len={len(self)} cap={self._cap} itemsize={self._itemsize}{c}>"

    def __class_getitem__(cls, item: Any) -> Any:
        return cls


def _case(case: object) -> tuple[Chan, tuple[int, bytes] | None] | None:
    """A select case: None, (channel, None) to receive, (channel, item) to send."""
    if case is None:
        return None
    if isinstance(case, tuple) and len(case) == 2:
        fn, v = case
        ch = getattr(fn, "__self__", None)
        if isinstance(ch, Chan) and getattr(fn, "__func__", None) is Chan.send:
            return ch, ch._encode(v)
    else:
        ch = getattr(case, "__self__", None)
        if isinstance(ch, Chan) and getattr(case, "__func__", None) is Chan.recv:
            return ch, None
    raise TypeError(f"select case must be a shared Chan's recv, (its send, value) or None, not {case!r}")


def select(*cases: object, block: bool = True, timeout: float | None = None) -> tuple[int, Any, bool]:
    """Select is gosync.select over gosync.shared channels: cases are
    ch.recv, (ch.send, v) or None (never ready); it returns (index, value,
    ok), (index, None, True) for a send, and (-1, None, False) when nothing
    was ready (block=False) or the timeout passed.

    It tries the ready cases in random order; when none is, it sleeps on
    the first channel's Cond at most 10 ms before trying all again, so a
    case made ready on another channel is seen within about 10 ms. A send
    case on an unbuffered channel is ready when a receiver (recv, or a
    select with a receive case on it) is waiting there; the value is offered
    for up to 10 ms and taken back if nobody takes it.
    """
    deadline = NO_DEADLINE if timeout is None else deadline_ns(timeout)
    parsed = [_case(c) for c in cases]
    live = [(i, c) for i, c in enumerate(parsed) if c is not None]
    listening = [c[0] for _, c in live if c[1] is None and c[0]._cap == 0]
    for ch in listening:
        _add_receiver(ch, 1)
    try:
        while True:
            random.shuffle(live)
            for i, (ch, item) in live:
                ready, raw, ok = _try(ch, item, deadline)
                if ready:
                    return i, _decode(raw), ok
            now = lib.gosync_now_ns()
            if not block or (deadline != NO_DEADLINE and now >= deadline):
                return -1, None, False
            until = now + _SLICE_NS if deadline == NO_DEADLINE else min(deadline, now + _SLICE_NS)
            if not live:
                time.sleep((until - now) / 1e9)
                continue
            first = min(live)[1][0]
            first._lock()
            try:
                first._wait(until)
            finally:
                first._m.unlock()
    finally:
        for ch in listening:
            _add_receiver(ch, -1)


def _add_receiver(ch: Chan, delta: int) -> None:
    ch._lock()
    try:
        ch._receivers.add(delta)
        if delta > 0:
            ch._cond.broadcast()
    finally:
        ch._m.unlock()


def _try(ch: Chan, item: tuple[int, bytes] | None, deadline: int) -> tuple[bool, tuple[int, bytes] | None, bool]:
    """One case without blocking (an unbuffered send: at most 10 ms, and
    never past select's deadline): (ready, a received payload, ok)."""
    ch._lock()
    try:
        if item is None:
            return ch._try_take()
        _, count, closed = ch._state()
        if closed:
            raise SyncError("send on closed channel")
        if ch._cap == 0 and (count or ch._receivers.load() == 0):
            return False, None, False
        # Bounded by select's deadline too: a stale receivers count (a killed
        # receiver) would otherwise make each try overrun it by a slice.
        until = lib.gosync_now_ns() + _SLICE_NS
        if deadline != NO_DEADLINE:  # NO_DEADLINE is -1: min() would pick it
            until = min(deadline, until)
        sent = ch._offer(item, until, lambda: True)
        return sent, None, sent
    finally:
        ch._m.unlock()
