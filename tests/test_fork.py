"""os.fork() while threads use a Mutex: what the child gets, as documented in
the README ("Threads, asyncio and fork()") and in Mutex's docstring.

Each case runs in a fresh interpreter (so that the pytest process never
forks with threads), which forks; the child exits with os._exit, and the
parent reaps it with a deadline, killing it if it hangs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import HOLD_IN_THREAD

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

PRELUDE = textwrap.dedent(
    """
    import os, signal, sys, threading, time, traceback, warnings
    # 3.12+ warns that fork() with threads may deadlock the child: here that
    # is what is being tested.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import gosync
    from gosync.mutex import MutexState

    IDLE = MutexState(False, False, False, 0, 0, 0)

    def fork_and_check(child, deadline=30.0):
        # Runs child() in a forked child. Prints "CHILD EXIT <code>": 0 if
        # child() returned, 1 if it raised, "CHILD HUNG" if it did not end
        # before the deadline (it is then killed).
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                child()
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        end = time.monotonic() + deadline
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                print("CHILD EXIT", os.waitstatus_to_exitcode(status))
                return
            if time.monotonic() > end:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                print("CHILD HUNG")
                return
            time.sleep(0.005)

    # Every thread started here is a daemon: a stuck one (the failure being
    # looked for) must not keep the interpreter from exiting.
    def join_all(threads, timeout=20.0):
        end = time.monotonic() + timeout
        for t in threads:
            t.join(max(0.0, end - time.monotonic()))
            assert not t.is_alive(), "a thread is stuck in lock(): lost wakeup"

    def contend(m):
        # New threads of this process fight for m: plain lock(), lock with a
        # long timeout (must succeed), and lock with a tiny one (may give
        # up, which exercises the waiter count). A non-atomic increment with
        # a 1 us switch interval makes the count exact only under mutual
        # exclusion; a lost wakeup leaves a thread stuck, which join_all
        # reports.
        sys.setswitchinterval(1e-6)
        box = {"n": 0}
        counts = [0] * 6
        errors = []

        def work(i):
            try:
                body(i)
            except BaseException as e:
                errors.append(e)

        def body(i):
            for k in range(300):
                if i % 3 == 0:
                    m.lock()
                elif i % 3 == 1:
                    assert m.lock(timeout=10), "lock(timeout=10) timed out"
                elif not m.lock(timeout=0.0001):
                    continue
                v = box["n"]
                if k % 16 == 0:
                    time.sleep(0)
                box["n"] = v + 1
                counts[i] += 1
                m.unlock()

        threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(6)]
        for t in threads:
            t.start()
        join_all(threads)
        sys.setswitchinterval(0.005)
        assert not errors, errors
        assert box["n"] == sum(counts), (box["n"], counts)
        assert not m.locked()
        # Still a mutex afterwards.
        assert m.try_lock() and not m.try_lock()
        m.unlock()
        assert m.lock(timeout=1)
        assert m.lock(timeout=0.05) is False
        m.unlock()
    """
)


def run(code: str, tmp_path: Path) -> None:
    """Runs PRELUDE and code in a fresh interpreter, which must print that
    the child exited with 0 and then that the parent's checks passed."""
    # cwd=tmp_path: `python -c` puts the working directory first on sys.path,
    # and the child must import the installed gosync, not the source tree.
    proc = subprocess.run(
        [sys.executable, "-c", PRELUDE + HOLD_IN_THREAD + textwrap.dedent(code)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=90,
    )
    # The child's traceback, if any, is on stderr.
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines() == ["CHILD EXIT 0", "PARENT OK"], proc.stdout + proc.stderr


def test_mutex_held_by_the_forking_thread_can_be_unlocked_in_the_child(tmp_path: Path) -> None:
    run(
        """
        m = gosync.Mutex()
        busy = gosync.Mutex()  # another thread is alive and busy at fork time, on another mutex
        stop = threading.Event()

        def other():
            while not stop.is_set():
                with busy:
                    pass
                time.sleep(0.0001)

        t = threading.Thread(target=other, daemon=True)
        t.start()
        m.lock()

        def child():
            assert m._debug_state() == MutexState(True, False, False, 0, 0, 0)
            assert not m.try_lock() and m.lock(timeout=0.05) is False
            m.unlock()
            assert m._debug_state() == IDLE
            for _ in range(3):
                assert m.lock(timeout=1)
                m.unlock()
            contend(m)
            assert m._debug_state() == IDLE

        fork_and_check(child)
        m.unlock()  # the parent's mutex is its own
        stop.set()
        t.join()
        assert m._debug_state() == IDLE
        print("PARENT OK")
        """,
        tmp_path,
    )


def test_unheld_mutex_works_in_the_child(tmp_path: Path) -> None:
    run(
        """
        m = gosync.Mutex()
        m.lock()
        m.unlock()  # used before, idle at fork time
        parked = threading.Event()
        t = threading.Thread(target=parked.wait, daemon=True)  # a thread alive at fork time
        t.start()

        def child():
            assert m._debug_state() == IDLE
            contend(m)
            assert m._debug_state() == IDLE

        fork_and_check(child)
        parked.set()
        t.join()
        print("PARENT OK")
        """,
        tmp_path,
    )


def test_mutex_held_by_another_thread_stays_locked_in_the_child(tmp_path: Path) -> None:
    # The holder does not exist in the child, so nobody there will unlock
    # the mutex: try_lock and lock with a timeout fail, and a timed-out lock
    # leaves the state as it found it.
    run(
        """
        m = gosync.Mutex()
        h, release = hold_in_thread(m)
        before = m._debug_state()

        def child():
            assert before == MutexState(True, False, False, 0, 0, 0), before
            assert m._debug_state() == before
            assert m.locked()
            assert not m.try_lock()
            t0 = time.monotonic()
            assert m.lock(timeout=0.2) is False
            assert time.monotonic() - t0 >= 0.19
            assert m.acquire(timeout=0.05) is False
            # A thread of the child waits in vain too, and gives up cleanly.
            got = []
            t = threading.Thread(target=lambda: got.append(m.lock(timeout=0.2)), daemon=True)
            t.start()
            join_all([t])
            assert got == [False]
            assert m._debug_state() == before

        fork_and_check(child)
        release()
        h.join()
        assert m._debug_state() == IDLE
        print("PARENT OK")
        """,
        tmp_path,
    )


@pytest.mark.parametrize(
    "waiters, starving", [(1, False), (3, False), (1, True)], ids=["one", "three", "starving"]
)
def test_threads_asleep_in_lock_at_fork_leave_a_working_mutex(
    waiters: int, starving: bool, tmp_path: Path
) -> None:
    # The forking thread holds the mutex; other threads are asleep in lock()
    # on it. They do not exist in the child, but the state word and the
    # semaphore still count them. The child's unlock "wakes" one of them:
    # it leaves WOKEN set and a token in the semaphore, which the next
    # thread to queue takes. The mutex must then work for lock, unlock and
    # try_lock, and under contention by new threads, without a hang.
    # In the starving case the waiter has waited over 1 ms and found the
    # mutex taken again, so the unlock in the child is a handoff to nobody,
    # which the child's first lock() takes over.
    run(
        f"""
        WAITERS, STARVING = {waiters}, {starving}
        m = gosync.Mutex()
        m.lock()
        stop = False

        def waiter():
            while not stop:
                m.lock()
                m.unlock()

        ws = [threading.Thread(target=waiter, daemon=True) for _ in range(WAITERS)]
        for t in ws:
            t.start()

        def wait_until_asleep():
            # Every waiter counted in the state word and registered in the
            # semaphore; then a moment more, so that each has parked.
            deadline = time.monotonic() + 20
            while True:
                s = m._debug_state()
                if s.waiters == WAITERS and s.sema_waiters == WAITERS:
                    break
                assert time.monotonic() < deadline, s
                time.sleep(0.001)
            time.sleep(0.01)

        wait_until_asleep()
        if STARVING:
            # The waiter has waited over 1 ms; this thread unlocks and locks
            # again at once, usually before the woken waiter runs. It then
            # finds the mutex taken, sets STARVING and sleeps again. In the
            # rare case it wins, it unlocks, queues again, and this repeats.
            for _ in range(100):
                time.sleep(0.003)
                m.unlock()
                m.lock()
                wait_until_asleep()
                if m._debug_state().starving:
                    break
        before = m._debug_state()
        # The promise covers waiters that are asleep: no WOKEN bit at fork.
        assert before.locked and not before.woken and before.starving == STARVING, before

        def child():
            assert m._debug_state() == before
            m.unlock()
            if STARVING:
                # A starvation-mode unlock hands the mutex to the front
                # waiter, which is not in the child: the handoff stays
                # pending (locked() is True, try_lock fails) until a lock()
                # of the child queues, finds the token and takes it over.
                assert m.locked() and not m.try_lock()
                assert m.lock(timeout=1)
                m.unlock()
            assert not m.locked()
            for _ in range(3):
                assert m.lock(timeout=1)
                m.unlock()
            assert m.try_lock() and not m.try_lock()
            m.unlock()
            contend(m)

        fork_and_check(child)
        stop = True
        m.unlock()
        join_all(ws)
        assert m._debug_state() == IDLE, m._debug_state()
        print("PARENT OK")
        """,
        tmp_path,
    )


# The other rows of the README's fork() table: each primitive in the child,
# after another thread used it, or nobody did.


def test_a_forked_childs_copy_is_private(tmp_path: Path) -> None:
    run(
        """
        from gosync.atomic import Int64
        n, mp = Int64(5), gosync.Map()
        mp.store("k", 1)

        def child():
            assert n.add(10) == 15
            mp.store("k", 2)
            mp.store("j", 3)
            assert mp.load("k") == (2, True) and mp.load("j") == (3, True)

        fork_and_check(child)
        assert n.load() == 5
        assert mp.load("k") == (1, True) and mp.load("j") == (None, False)
        print("PARENT OK")
        """,
        tmp_path,
    )


def test_every_primitive_nobody_was_using_works_in_the_child(tmp_path: Path) -> None:
    run(
        """
        from gosync.atomic import Bool, Value
        rw, wg, cond = gosync.RWMutex(), gosync.WaitGroup(), gosync.Cond(gosync.Mutex())
        once, pool, mp, v, flag = gosync.Once(), gosync.Pool(new=list), gosync.Map(), Value(), Bool()
        ov = gosync.once_value(lambda: object())
        first = ov()  # finished before the fork
        parked = threading.Event()
        t = threading.Thread(target=parked.wait, daemon=True)  # a thread alive at fork time
        t.start()

        def child():
            assert rw.rlock(timeout=1) and rw.rlock(timeout=1)
            rw.runlock()
            rw.runlock()
            assert rw.lock(timeout=1)
            rw.unlock()
            wg.add(1)
            w = threading.Thread(target=wg.done)
            w.start()
            assert wg.wait(timeout=5)
            w.join()
            with cond.L:
                s = threading.Timer(0.05, cond.signal)
                s.start()
                assert cond.wait(timeout=5)
            s.join()
            ran = []
            once.do(lambda: ran.append(1))
            once.do(lambda: ran.append(2))
            assert ran == [1]
            assert ov() is first
            pool.put(pool.get())
            mp.store("k", 1)
            assert mp.load("k") == (1, True)
            v.store(1)
            assert v.swap(2) == 1
            assert flag.compare_and_swap(False, True) and flag.load()

        fork_and_check(child)
        parked.set()
        t.join()
        print("PARENT OK")
        """,
        tmp_path,
    )


def test_rwmutex_locked_by_another_thread_in_the_child(tmp_path: Path) -> None:
    # Read-locked: more readers get in, a writer never does. Write-locked:
    # nobody gets in.
    run(
        """
        reading, writing = gosync.RWMutex(), gosync.RWMutex()
        hold = threading.Event()
        ready = threading.Barrier(3)

        def reader():
            reading.rlock()
            ready.wait()
            hold.wait()
            reading.runlock()

        def writer():
            writing.lock()
            ready.wait()
            hold.wait()
            writing.unlock()

        ts = [threading.Thread(target=f, daemon=True) for f in (reader, writer)]
        for t in ts:
            t.start()
        ready.wait()

        def child():
            assert reading.rlock(timeout=1) and reading.try_rlock()
            reading.runlock()
            reading.runlock()
            assert reading.lock(timeout=0.2) is False
            assert not reading.try_lock()
            assert reading.rlock(timeout=1)  # the writer that gave up holds nobody back
            reading.runlock()
            assert writing.rlock(timeout=0.2) is False
            assert not writing.try_rlock() and not writing.try_lock()
            assert writing.lock(timeout=0.2) is False

        fork_and_check(child)
        hold.set()
        for t in ts:
            t.join()
        print("PARENT OK")
        """,
        tmp_path,
    )


def test_waitgroup_counting_another_threads_work_in_the_child(tmp_path: Path) -> None:
    run(
        """
        wg = gosync.WaitGroup()
        wg.add(1)
        finish = threading.Event()

        def work():
            finish.wait()
            wg.done()

        t = threading.Thread(target=work, daemon=True)
        t.start()

        def child():
            assert wg.wait(timeout=0.2) is False  # the worker is not in the child
            wg.done()  # the child does it in the worker's place
            assert wg.wait(timeout=1)

        fork_and_check(child)
        finish.set()
        t.join()
        assert wg.wait(timeout=5)
        print("PARENT OK")
        """,
        tmp_path,
    )


def test_cond_signal_can_go_to_a_waiter_that_is_gone(tmp_path: Path) -> None:
    # Two threads wait, one signal wakes one of them: the other is left in
    # the older group (G1), owed no notification, when the process forks. In
    # the child, a new waiter joins the newer group, so the next signal is
    # counted for the gone waiter; broadcast wakes the child's waiter.
    run(
        """
        mu = gosync.Mutex()
        c = gosync.Cond(mu)
        arrived, woke = [0], []

        def waiter():
            with mu:
                arrived[0] += 1
                woke.append(c.wait(30))

        ws = [threading.Thread(target=waiter, daemon=True) for _ in range(2)]
        for t in ws:
            t.start()
        deadline = time.monotonic() + 20
        while True:
            with mu:
                if arrived[0] == 2:
                    break
            assert time.monotonic() < deadline
            time.sleep(0.001)
        c.signal()
        while not woke:
            assert time.monotonic() < deadline
            time.sleep(0.001)

        def child():
            entered, got = [], []

            def child_waiter():
                with mu:
                    entered.append(1)
                    got.append(c.wait(timeout=10))

            w = threading.Thread(target=child_waiter, daemon=True)
            w.start()
            while True:  # it entered, and released mu, which it does only inside wait
                time.sleep(0.01)
                with mu:
                    if entered:
                        break
            c.signal()
            w.join(0.5)
            assert w.is_alive() and got == [], got  # the signal went to the gone waiter
            c.broadcast()
            w.join(5)
            assert got == [True], got

        fork_and_check(child)
        c.broadcast()
        join_all(ws)
        assert woke == [True, True], woke
        print("PARENT OK")
        """,
        tmp_path,
    )


def test_once_whose_first_call_runs_in_another_thread_never_returns_in_the_child(tmp_path: Path) -> None:
    run(
        """
        once = gosync.Once()
        inside, finish = threading.Event(), threading.Event()

        def slow():
            inside.set()
            finish.wait()
            return 42

        ov = gosync.once_value(slow)
        t = threading.Thread(target=ov, daemon=True)
        t.start()
        inside.wait()
        inside.clear()
        t2 = threading.Thread(target=once.do, args=(slow,), daemon=True)
        t2.start()
        inside.wait()

        def child():
            # Each call waits for a first call that is not in the child.
            stuck = [threading.Thread(target=ov, daemon=True),
                     threading.Thread(target=once.do, args=(lambda: None,), daemon=True)]
            for s in stuck:
                s.start()
            for s in stuck:
                s.join(0.5)
            assert all(s.is_alive() for s in stuck)

        fork_and_check(child)
        finish.set()
        join_all([t, t2])
        assert ov() == 42
        print("PARENT OK")
        """,
        tmp_path,
    )
