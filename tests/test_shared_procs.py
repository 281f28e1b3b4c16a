"""gosync.shared across processes: mutual exclusion, atomics, RWMutex,
WaitGroup, Cond, Once, and the ways of handing primitives to processes."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import pickle
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import shared_workers as w

import gosync.shared as shared
from conftest import CHILD_CWD, pypy_cannot

METHODS = ["fork", "spawn", "forkserver"]


@pytest.fixture
def procs(request: pytest.FixtureRequest) -> Iterator[w.Procs]:
    method = getattr(request, "param", "fork")
    p = w.Procs(method)
    try:
        yield p
    finally:
        p.cleanup()


@pytest.mark.timeout(180)
@pytest.mark.parametrize("procs", METHODS, indirect=True)
@pytest.mark.parametrize("arena", ["default", "named"])
def test_mutual_exclusion_four_processes(procs: w.Procs, arena: str, tmp_path: object) -> None:
    n = 2000
    if arena == "default":
        mu, counter = shared.Mutex(), shared.atomic.Int64()
        inside, overlaps = shared.atomic.Int32(), shared.atomic.Int32()
        a = None
    else:
        a = shared.Arena(f"test-mx-{procs.ctx.get_start_method()}-{time.monotonic_ns()}")
        mu, counter, inside, overlaps = a.Mutex(), a.Int64(), a.Int32(), a.Int32()
    try:
        for _ in range(4):
            procs.start(w.count_under_lock, mu, counter, inside, overlaps, n)
        assert procs.join_all() == [0, 0, 0, 0]
        assert overlaps.load() == 0
        assert counter.load() == 4 * n
        assert not mu.locked()
    finally:
        if a is not None:
            a.unlink()
            a.close()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("procs", METHODS, indirect=True)
def test_atomics_exact_sums(procs: w.Procs) -> None:
    n = 20000
    i64, u32, b = shared.atomic.Int64(), shared.atomic.Uint32(), shared.atomic.Bool()
    for _ in range(4):
        procs.start(w.add_atomics, i64, u32, b, n)
    assert procs.join_all() == [0, 0, 0, 0]
    assert i64.load() == 4 * n * 3
    assert u32.load() == (-4 * n) % 2**32
    assert b.load() is True


@pytest.mark.timeout(120)
def test_rwmutex_readers_overlap_writers_exclude(procs: w.Procs) -> None:
    rw = shared.RWMutex()
    readers_in, peak, writing, bad = (shared.atomic.Int32() for _ in range(4))
    stop = shared.atomic.Bool()
    for _ in range(3):
        procs.start(w.reader, rw, readers_in, peak, writing, bad, stop)
    writers = [procs.start(w.writer, rw, readers_in, writing, bad, 200) for _ in range(2)]
    for p in writers:
        p.join(w.DEADLINE)
        assert p.exitcode == 0
    w.wait_until(lambda: peak.load() >= 2)  # readers were inside together
    stop.store(True)
    assert procs.join_all() == [0] * 5
    assert bad.load() == 0
    assert rw._debug_state() == (0, False, False)


@pytest.mark.timeout(60)
def test_rwmutex_reader_overlap_is_real(procs: w.Procs) -> None:
    # Two processes hold read locks at once: each waits, holding it, until
    # the other is in.
    rw = shared.RWMutex()
    rw.rlock()  # this process too
    readers_in, peak, writing, bad = (shared.atomic.Int32() for _ in range(4))
    stop = shared.atomic.Bool()
    procs.start(w.reader, rw, readers_in, peak, writing, bad, stop)
    w.wait_until(lambda: readers_in.load() >= 1 or peak.load() >= 1)
    assert rw._debug_state().readers >= 1
    assert not rw.try_lock()
    stop.store(True)
    rw.runlock()
    assert procs.join_all() == [0]
    assert rw.lock(5)
    rw.unlock()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("procs", ["fork", "spawn"], indirect=True)
def test_waitgroup_across_processes(procs: w.Procs) -> None:
    wg, done = shared.WaitGroup(), shared.atomic.Int32()
    wg.add(4)
    for i in range(4):
        procs.start(w.wg_member, wg, done, 0.05 * i)
    assert wg.wait(w.DEADLINE) is True
    assert done.load() == 4
    assert procs.join_all() == [0] * 4
    assert wg._debug_state() == (0, 0)


@pytest.mark.timeout(60)
def test_waitgroup_wait_with_timeout_returns() -> None:
    wg = shared.WaitGroup()
    wg.add(1)
    t0 = time.monotonic()
    assert wg.wait(0.05) is False
    assert time.monotonic() - t0 < 5
    wg.done()
    assert wg.wait(1) is True


@pytest.mark.timeout(60)
@pytest.mark.parametrize("procs", ["fork", "spawn"], indirect=True)
def test_cond_broadcast_and_signal_across_processes(procs: w.Procs) -> None:
    c = shared.Cond()
    go, woke, waiting = shared.atomic.Bool(), shared.atomic.Int32(), shared.atomic.Int32()
    for _ in range(3):
        procs.start(w.cond_waiter, c, go, woke, waiting)
    w.wait_until(lambda: waiting.load() == 3 and c._debug_state().waiters == 3)
    assert woke.load() == 0
    with c.L:
        go.store(True)
        c.signal()
    w.wait_until(lambda: woke.load() == 1)
    time.sleep(0.05)
    assert woke.load() == 1  # signal wakes exactly one
    c.broadcast()
    assert procs.join_all() == [0] * 3
    assert woke.load() == 3


@pytest.mark.timeout(60)
def test_cond_wait_timeout_relocks() -> None:
    c = shared.Cond(shared.RWMutex())
    with c.L:
        assert c.wait(0.02) is False
        assert c.L._debug_state().writer
    assert not c.L._debug_state().writer


@pytest.mark.timeout(60)
@pytest.mark.parametrize("procs", ["fork", "spawn"], indirect=True)
def test_once_runs_in_exactly_one_process(procs: w.Procs) -> None:
    o, runs, gate = shared.Once(), shared.atomic.Int32(), shared.WaitGroup()
    gate.add(1)
    for _ in range(4):
        procs.start(w.once_caller, o, runs, gate)
    gate.done()
    assert procs.join_all() == [0] * 4
    assert runs.load() == 1
    o.do(lambda: runs.add(1))
    assert runs.load() == 1


@pytest.mark.timeout(60)
def test_once_reruns_after_its_runner_died(procs: w.Procs) -> None:
    o, started, runs = shared.Once(), shared.atomic.Bool(), shared.atomic.Int32()
    p = procs.start(w.once_dier, o, started)
    w.wait_until(started.load)
    p.kill()
    p.join(10)
    o.do(lambda: runs.add(1))  # absorbs the dead runner's OwnerDied
    assert runs.load() == 1
    o.do(lambda: runs.add(1))
    assert runs.load() == 1


@pytest.mark.timeout(120)
@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_pool_initializer_args(method: str) -> None:
    counter = shared.atomic.Int64()
    ctx = multiprocessing.get_context(method)
    pool = ctx.Pool(2, initializer=w.init_counter, initargs=(counter,))
    try:
        pool.map(w.add_to_counter, range(100), chunksize=5)
    finally:
        pool.terminate()
        pool.join()
    assert counter.load() == sum(range(100))


@pytest.mark.timeout(120)
@pypy_cannot("its ProcessPoolExecutor fails with a spawn context (no _adjust_process_count, PyPy 7.3.11)")
def test_process_pool_executor_initializer_args() -> None:
    counter = shared.atomic.Int64()
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(
        2, mp_context=ctx, initializer=w.init_counter, initargs=(counter,)
    ) as ex:
        list(ex.map(w.add_to_counter, range(50)))
    assert counter.load() == sum(range(50))


@pytest.mark.timeout(60)
def test_plain_pickle_to_a_subprocess() -> None:
    a = shared.Arena()
    v, mu = a.Int64(40), a.Mutex()
    payload = pickle.dumps((v, mu)).hex()
    code = (
        "import pickle, sys\n"
        "v, mu = pickle.loads(bytes.fromhex(sys.argv[1]))\n"
        "with mu:\n"
        "    v.add(2)\n"
        "print(v.load())\n"
    )
    r = subprocess.run([sys.executable, "-c", code, payload], cwd=CHILD_CWD, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "42"
    assert v.load() == 42
    a.close()


def test_unpickling_in_process_maps_the_arena_once() -> None:
    a = shared.Arena()
    v = a.Int32(3)
    again = pickle.loads(pickle.dumps(v))
    assert again.arena is a
    again.add(1)
    assert v.load() == 4
    a.close()


def test_in_process_primitives_still_refuse_pickle() -> None:
    import gosync

    with pytest.raises(TypeError, match="must not be copied or pickled"):
        pickle.dumps(gosync.Mutex())
