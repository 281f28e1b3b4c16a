"""The contention hooks in the primitives' slow paths (issue 17).

These tests talk to the binding's side of the interface directly
(gosync._gosync._profile_set and _profile_hooks, docs/DESIGN.md "Profiling
contention"): which events each primitive reports, to which stack, with
which delay and weight, and what it reports when nothing waits. The public
gosync.profile on top of them is tested in its own file.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any, Callable, Iterator, List, NamedTuple, Optional

import pytest
from conftest import CHILD_CWD

import gosync
import gosync._gosync as _g
import gosync.shared as shared
from gosync.semaphore import Weighted

pytestmark = pytest.mark.timeout(60)

BLOCK, MUTEX = 0, 1


class Event(NamedTuple):
    kind: int
    owner: Any
    label: Optional[str]
    delay_ns: int
    weight: float
    function: str  # the innermost frame outside gosync: whose stack it is
    thread: str


def _outside_gosync() -> str:
    f = sys._getframe(2)
    here = os.path.dirname(gosync.__file__)
    while f is not None and f.f_code.co_filename.startswith(here):
        f = f.f_back  # type: ignore[assignment]
    return f.f_code.co_name if f is not None else "?"


class Recorder:
    def __init__(self) -> None:
        self.events: List[Event] = []
        self.lock = threading.Lock()

    def on_event(self, kind: int, owner: Any, delay_ns: int, weight: float) -> None:
        e = Event(kind, owner, getattr(owner, "_profile_label", None), delay_ns, weight, _outside_gosync(),
                  threading.current_thread().name)
        with self.lock:
            self.events.append(e)

    def label(self, t: type) -> str:
        return f"{t.__name__} made in {_outside_gosync()}"

    def of(self, kind: int, owner: Any = None) -> List[Event]:
        with self.lock:
            return [e for e in self.events if e.kind == kind and (owner is None or e.owner is owner)]


@pytest.fixture
def rec() -> Iterator[Recorder]:
    r = Recorder()
    previous = _g._profile_hooks(r.on_event, r.label)
    rates = _g._profile_rates()
    _g._profile_set(1, 1)
    try:
        yield r
    finally:
        _g._profile_set(*rates)
        if previous[0] is not None:
            _g._profile_hooks(*previous)


def eventually(cond: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not cond():
        assert time.monotonic() < deadline, what
        time.sleep(0.001)


HOLD = 0.15


def hold_while(lock_: Callable[[], object], unlock: Callable[[], object], parked: Callable[[], bool],
               wait: Callable[[], object], waiters: int = 1) -> List[float]:
    """The main thread takes the lock, `waiters` threads block in wait(),
    and the main thread lets go in unlocker() once all are parked and HOLD
    has passed; returns each waiter's measured wait."""
    waits: List[float] = []
    lock_()

    def waiter() -> None:
        t0 = time.monotonic()
        wait()
        waits.append(time.monotonic() - t0)

    threads = [threading.Thread(target=waiter, name=f"waiter{i}") for i in range(waiters)]
    for t in threads:
        t.start()
    eventually(parked, "the waiters to park")
    time.sleep(HOLD)
    unlocker(unlock)
    for t in threads:
        t.join(30)
        assert not t.is_alive()
    return waits


def unlocker(unlock: Callable[[], object]) -> None:
    unlock()


def mutex_waiters(m: gosync.Mutex) -> int:
    return int(m._debug_state().waiters)


@pytest.mark.parametrize("waiters", [1, 2])
def test_a_mutex_charges_its_waiters_to_the_unlocker_and_each_wait_to_its_waiter(rec: Recorder, waiters: int) -> None:
    m = gosync.Mutex(name="db")

    def wait() -> None:
        with m:
            pass

    waits = hold_while(m.lock, m.unlock, lambda: mutex_waiters(m) == waiters, wait, waiters)
    mutex = rec.of(MUTEX, m)
    block = rec.of(BLOCK, m)
    # The unlock that ended the hold is charged, with the unlocker's stack.
    assert mutex and mutex[0].function == "unlocker" and mutex[0].label == "db", mutex
    assert all(e.weight == 1.0 for e in mutex + block)
    # Each waiter's wait is charged once: to the unlocker for the hold, to
    # the first waiter's unlock for the second one's rest. Go 1.22's sum is
    # exact for two waiters, so the charges add up to the waits.
    charged = sum(e.delay_ns for e in mutex) / 1e9
    assert 0.9 * sum(waits) - 0.02 <= charged <= sum(waits) + 0.02, (charged, waits)
    # The block profile: one event per waiter, on its own stack.
    assert sorted(e.function for e in block) == ["wait"] * waiters, block
    by_delay = sorted(block, key=lambda e: e.delay_ns)
    assert all(HOLD * 0.9 <= e.delay_ns / 1e9 <= w + 0.02 for e, w in zip(by_delay, sorted(waits)))


def test_uncontended_calls_report_nothing(rec: Recorder) -> None:
    m, rw, wg, ch = gosync.Mutex(), gosync.RWMutex(), gosync.WaitGroup(), gosync.Chan(1)
    for _ in range(1000):
        with m:
            pass
        with rw:
            pass
        with rw.rlocker():
            pass
        assert m.lock(timeout=1)
        m.unlock()
        wg.add(1)
        wg.done()
        wg.wait()
        ch.send(1)
        ch.recv()
    assert rec.events == []
    assert m._debug_state().waiters == 0


def test_with_both_profiles_off_nothing_is_reported_or_named(rec: Recorder) -> None:
    _g._profile_set(0, 0)
    m = gosync.Mutex()
    assert m._profile_label is None
    hold_while(m.lock, m.unlock, lambda: mutex_waiters(m) == 1, lambda: m.lock() and m.unlock())
    assert rec.events == []


def test_a_primitive_is_named_by_name_else_by_where_it_was_made_while_profiling(rec: Recorder) -> None:
    assert gosync.Mutex(name="jobs")._profile_label == "jobs"
    here = sys._getframe().f_code.co_name
    assert gosync.Mutex()._profile_label == f"Mutex made in {here}"
    assert gosync.Chan(3, name="q")._profile_label == "q"
    assert gosync.Cond(gosync.Mutex(), name="c")._profile_label == "c"
    assert Weighted(2, name="w")._profile_label == "w"
    assert gosync.WaitGroup(name=None)._profile_label.startswith("WaitGroup made in")  # type: ignore[union-attr]
    _g._profile_set(0, 0)
    assert gosync.RWMutex()._profile_label is None


@pytest.mark.parametrize(
    "make",
    [
        lambda: gosync.Mutex(name=3),
        lambda: gosync.Chan(name=b"x"),
        lambda: gosync.WaitGroup(1),
        lambda: gosync.Mutex(nam="x"),
    ],
    ids=["int name", "bytes name", "positional", "misspelt"],
)
def test_bad_names_are_type_errors(make: Callable[[], object]) -> None:
    with pytest.raises(TypeError):
        make()


def test_atomics_take_no_name() -> None:
    with pytest.raises(TypeError):
        gosync.atomic.Int64(name="x")  # type: ignore[call-arg]


def test_rwmutex_both_sides_and_rlocker(rec: Recorder) -> None:
    rw = gosync.RWMutex(name="rw")
    # A reader waits behind the writer.
    r = rw.rlocker()

    def reader() -> None:
        with r:
            pass

    rw.lock()
    t = threading.Thread(target=reader)
    t.start()
    time.sleep(HOLD)  # the reader parks: the writer holds the lock
    unlocker(rw.unlock)
    t.join(30)
    # A writer waits behind a reader: the runlock charges it.
    rw.rlock()
    t = threading.Thread(target=lambda: rw.lock() and rw.unlock())
    t.start()
    time.sleep(HOLD)
    unlocker(rw.runlock)
    t.join(30)
    mutex = rec.of(MUTEX, rw)
    block = rec.of(BLOCK, rw)
    assert [e.function for e in mutex] == ["unlocker", "unlocker"], mutex
    assert all(e.delay_ns >= HOLD * 0.5e9 for e in mutex + block), mutex + block
    assert len(block) == 2 and block[0].function == "reader", block


def test_cond_waitgroup_chan_select_and_weighted_report_block_events(rec: Recorder) -> None:
    def later(fn: Callable[[], object]) -> None:
        threading.Timer(HOLD, fn).start()

    c = gosync.Cond(gosync.Mutex(), name="cond")
    with c.L:
        later(lambda: (c.L.lock(), c.signal(), c.L.unlock()))
        c.wait()
    wg = gosync.WaitGroup(name="wg")
    wg.add(1)
    later(wg.done)
    wg.wait()
    ch = gosync.Chan(name="ch")
    later(lambda: ch.send(1))
    assert ch.recv() == 1
    other = gosync.Chan()
    later(lambda: ch.send(2))
    assert gosync.select(other.recv, ch.recv)[1] == 2
    s = Weighted(1, name="sem")
    s.acquire()
    later(s.release)
    assert s.acquire()
    block = rec.of(BLOCK)
    by_label = {e.label: e for e in block if e.owner is not None}
    for name in ("cond", "wg", "ch", "sem"):
        assert name in by_label, (name, block)
        assert by_label[name].delay_ns >= HOLD * 0.5e9
        assert by_label[name].function == "test_cond_waitgroup_chan_select_and_weighted_report_block_events"
    selects = [e for e in block if e.owner is None]
    assert len(selects) == 1 and selects[0].delay_ns >= HOLD * 0.5e9, block


def test_a_timed_out_wait_is_an_event_and_a_wait_that_never_parks_is_not(rec: Recorder) -> None:
    m = gosync.Mutex()
    m.lock()
    assert not m.lock(timeout=0.05)
    assert not m.lock(timeout=0)  # gives up without parking
    m.unlock()
    block = rec.of(BLOCK, m)
    assert len(block) == 1 and block[0].delay_ns >= 0.03e9, block
    # Nothing waits any more: the record is empty, so the unlock charged nothing.
    assert rec.of(MUTEX, m) == []


def test_sampling_keeps_about_one_in_fraction_with_that_weight(rec: Recorder) -> None:
    _g._profile_set(0, 4)
    m = gosync.Mutex()
    n = 400
    kept = 0
    for _ in range(n):
        before = len(rec.events)
        hold_while_quick(m)
        kept += len(rec.events) - before
    assert all(e.weight == 4.0 for e in rec.events)
    # Binomial(400, 1/4): mean 100, sd 8.7.
    assert 55 <= kept <= 145, kept


def hold_while_quick(m: gosync.Mutex) -> None:
    m.lock()
    t = threading.Thread(target=lambda: m.lock() and m.unlock())
    t.start()
    eventually(lambda: mutex_waiters(m) == 1, "the waiter to park")
    m.unlock()
    t.join(30)


def test_a_long_block_rate_keeps_short_waits_rarely_with_a_weight_that_adds_the_rate(rec: Recorder) -> None:
    rate = 10**12  # one sampled event per 1000 s blocked
    _g._profile_set(rate, 0)
    m = gosync.Mutex()
    for _ in range(50):
        hold_while_quick(m)
    # Each wait of about a millisecond is kept with probability ~1e-9.
    assert rec.events == [] or all(e.delay_ns * e.weight == pytest.approx(rate, rel=1e-6) for e in rec.events)
    _g._profile_set(1, 0)
    hold_while_quick(m)
    assert [e.weight for e in rec.events if e.owner is m] == [1.0]


def test_an_exception_in_the_hook_never_reaches_the_lock_call(rec: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("hook broke")

    seen: List[BaseException] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(u.exc_value))
    _g._profile_hooks(broken, rec.label)
    m = gosync.Mutex()
    hold_while_quick(m)
    assert not m.locked() and m.try_lock()
    m.unlock()
    assert seen and all(isinstance(e, RuntimeError) for e in seen), seen


def test_a_shared_mutex_charges_a_waiter_in_another_process_to_this_unlock(rec: Recorder, tmp_path: Any) -> None:
    arena = shared.Arena(size=1 << 16)
    m = arena.Mutex()
    m.lock()
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent("""
            import pickle, sys, time
            import gosync._gosync
            gosync._gosync._profile_set(0, 1)  # a waiter registers only while its profile is on
            m = pickle.loads(sys.stdin.buffer.read())
            t0 = time.monotonic()
            m.lock()
            print(time.monotonic() - t0, flush=True)
            m.unlock()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=CHILD_CWD,
    )
    try:
        import pickle

        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(pickle.dumps(m))
        child.stdin.close()
        eventually(lambda: m._debug_state().waiters, "the child to wait")
        time.sleep(HOLD)
        unlocker(m.unlock)
        waited = float(child.stdout.readline())
        assert child.wait(30) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    mutex = rec.of(MUTEX, m)
    assert len(mutex) == 1 and mutex[0].function == "unlocker", mutex
    assert HOLD * 0.9 <= mutex[0].delay_ns / 1e9 <= waited + 0.05, (mutex, waited)
