"""gosync.semaphore.Weighted: ports of golang.org/x/sync/semaphore's tests,
FIFO without barging, cancellation and timeouts that change nothing, and
bad input."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from gosync import SyncError, context
from gosync.semaphore import Weighted

pytestmark = pytest.mark.timeout(60)


def eventually(cond: Callable[[], bool], what: str = "condition") -> None:
    deadline = time.monotonic() + 10
    while not cond():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.001)


def queued(s: Weighted) -> int:
    return s._debug_state()[2]


def held(s: Weighted) -> int:
    return s._debug_state()[1]


def start(fn: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []
    t = threading.Thread(target=lambda: out.append(fn()), daemon=True)
    t.start()
    return t, out


# ---- semaphore_test.go -----------------------------------------------------------------


@pytest.mark.parametrize("workers", [8])
def test_weighted_hammer_never_exceeds_size(workers: int) -> None:
    # TestWeighted: workers acquire random weights up to n; the held total,
    # counted by the workers themselves, never exceeds n.
    n = 5
    s = Weighted(n)
    inside = 0
    peak = 0
    guard = threading.Lock()
    errors: list[str] = []

    def worker(seed: int) -> None:
        nonlocal inside, peak
        rnd = random.Random(seed)
        for _ in range(300):
            w = rnd.randint(1, n)
            assert s.acquire(w)
            with guard:
                inside += w
                peak = max(peak, inside)
                if inside > n:
                    errors.append(f"{inside} > {n}")
            with guard:
                inside -= w
            s.release(w)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert peak <= n
    assert s._debug_state() == (n, 0, 0)


def test_release_more_than_held_raises_and_changes_nothing() -> None:
    # TestWeightedPanic
    s = Weighted(1)
    with pytest.raises(SyncError, match="^semaphore: released more than held$"):
        s.release(1)
    assert s._debug_state() == (1, 0, 0)
    assert s.acquire(1)
    with pytest.raises(SyncError, match="released more than held"):
        s.release(2)
    assert s._debug_state() == (1, 1, 0)
    s.release(1)
    assert s.try_acquire(1)


def test_try_acquire_sequence() -> None:
    # TestWeightedTryAcquire
    s = Weighted(2)
    tries: list[bool] = []
    assert s.acquire(1)
    tries.append(s.try_acquire(1))
    tries.append(s.try_acquire(1))
    s.release(2)
    tries.append(s.try_acquire(1))
    assert s.acquire(1)
    tries.append(s.try_acquire(1))
    assert tries == [True, False, True, False]


def test_acquire_with_context_sequence() -> None:
    # TestWeightedAcquire: a done context fails even when tokens are free.
    s = Weighted(2)
    ctx, cancel = context.with_cancel(context.background())
    tries = [s.acquire(1, ctx)]
    tries.append(s.acquire(1, ctx))
    tries.append(s.acquire(1, context.with_timeout(context.background(), 0.01)[0]))
    s.release(2)
    cancel()
    tries.append(s.acquire(1, ctx))
    assert tries == [True, True, False, False]
    assert s._debug_state() == (2, 0, 0)


def test_too_big_request_does_not_block_others() -> None:
    # TestWeightedDoesntBlockIfTooBig
    s = Weighted(2)
    ctx, cancel = context.with_cancel(context.background())
    big, out = start(lambda: s.acquire(3, ctx))
    time.sleep(0.05)
    assert queued(s) == 0  # it waits outside the queue
    assert s.acquire(2, timeout=5)
    s.release(2)
    assert s.try_acquire(1)
    s.release(1)
    cancel()
    big.join(10)
    assert out == [False]
    assert s._debug_state() == (2, 0, 0)


def test_too_big_request_times_out() -> None:
    s = Weighted(1)
    t0 = time.monotonic()
    assert s.acquire(2, timeout=0.05) is False
    assert time.monotonic() - t0 >= 0.04
    assert s._debug_state() == (1, 0, 0)


def test_large_acquire_does_not_starve() -> None:
    # TestLargeAcquireDoesntStarve: small acquirers keep the semaphore busy;
    # a request for all of it still gets it, because once queued nobody
    # barges past it.
    n = 4
    s = Weighted(n)
    stop = threading.Event()

    def small() -> None:
        while not stop.is_set():
            s.acquire(1)
            s.release(1)

    threads = [threading.Thread(target=small, daemon=True) for _ in range(n)]
    for t in threads:
        t.start()
    try:
        assert s.acquire(n, timeout=20), "the large request starved"
        s.release(n)
    finally:
        stop.set()
        for t in threads:
            t.join(10)


def test_alloc_cancel_does_not_starve() -> None:
    # TestAllocCancelDoesntStarve: cancelling the request at the head lets
    # the small request behind it through.
    s = Weighted(10)
    assert s.acquire(1)
    ctx, cancel = context.with_cancel(context.background())
    big, out = start(lambda: s.acquire(10, ctx))
    eventually(lambda: queued(s) == 1, "the large request to queue")
    threading.Thread(target=cancel).start()
    assert s.acquire(1, timeout=10)
    s.release(1)
    big.join(10)
    assert out == [False]
    s.release(1)
    assert s._debug_state() == (10, 0, 0)


def test_acquire_canceled_before_tokens_returns_them() -> None:
    # TestWeightedAcquireCanceled (go.dev/issue/63615): the context is
    # cancelled before the token that would satisfy the request is released;
    # the request fails and every token is free again afterwards.
    for _ in range(50):
        s = Weighted(2)
        ctx, cancel = context.with_cancel(context.background())
        assert s.acquire(1)

        def helper(s: Weighted = s, cancel: Callable[[], None] = cancel) -> None:
            eventually(lambda: queued(s) == 1, "the request to queue")
            cancel()
            s.release(1)

        h = threading.Thread(target=helper)
        h.start()
        assert s.acquire(2, ctx) is False
        h.join(10)
        assert s.try_acquire(2), s
        s.release(2)


def test_granted_while_cancelled_is_given_back_to_next_waiter() -> None:
    # The Go fix: tokens granted to a waiter whose context is done by then
    # go back, and the waiters queued behind it are notified.
    for _ in range(50):
        granted_while_cancelled_round()


def granted_while_cancelled_round() -> None:
    s = Weighted(1)
    assert s.acquire(1)
    ctx, cancel = context.with_cancel(context.background())
    first, out1 = start(lambda: s.acquire(1, ctx))
    eventually(lambda: queued(s) == 1)
    second, out2 = start(lambda: s.acquire(1, timeout=10))
    eventually(lambda: queued(s) == 2)
    # Cancel, then release at once: the first waiter is granted the token
    # while it is still on its way out, unless it left the queue first.
    cancel()
    s.release(1)
    first.join(10)
    second.join(10)
    # The second waiter always gets the token: from the release directly,
    # or given back by the first, whose context was done by then.
    assert out2 == [True], (out1, out2)
    assert out1 == [False], (out1, out2)
    s.release(1)
    assert s._debug_state() == (1, 0, 0)


# ---- FIFO, timeouts and misuse -------------------------------------------------------


def test_large_request_at_head_is_not_overtaken() -> None:
    s = Weighted(3)
    assert s.acquire(3)
    big, out_big = start(lambda: s.acquire(3))
    eventually(lambda: queued(s) == 1)
    small, out_small = start(lambda: s.acquire(1))
    eventually(lambda: queued(s) == 2)
    assert s.try_acquire(1) is False  # a waiter is queued
    s.release(1)  # 1 free: fits the small request, but the big one is first
    time.sleep(0.05)
    assert out_small == [] and out_big == []
    s.release(2)
    big.join(10)
    assert out_big == [True] and out_small == []
    s.release(3)
    small.join(10)
    assert out_small == [True]
    s.release(1)
    assert s._debug_state() == (3, 0, 0)


def test_release_wakes_waiters_in_order() -> None:
    s = Weighted(1)
    assert s.acquire(1)
    order: list[int] = []
    threads = []
    for i in range(5):
        t = threading.Thread(target=lambda i=i: (s.acquire(1), order.append(i), s.release(1)))
        t.start()
        threads.append(t)
        eventually(lambda i=i: queued(s) == i + 1)
    s.release(1)
    for t in threads:
        t.join(10)
    assert order == [0, 1, 2, 3, 4]


def test_timeout_changes_nothing() -> None:
    s = Weighted(2)
    assert s.acquire(2)
    assert s.acquire(1, timeout=0.02) is False
    assert s.acquire(1, timeout=0) is False
    assert s._debug_state() == (2, 2, 0)
    s.release(2)
    assert s.acquire(2, timeout=0)


def test_timed_out_head_lets_smaller_waiters_through() -> None:
    s = Weighted(2)
    assert s.acquire(1)
    small, out = start(lambda: (time.sleep(0.05), s.acquire(1, timeout=10))[1])
    assert s.acquire(2, timeout=0.3) is False  # the head gives up ...
    small.join(10)
    assert out == [True]  # ... and the request behind it gets the free token
    s.release(2)
    assert s._debug_state() == (2, 0, 0)


def test_cancel_release_race_leaves_exact_count() -> None:
    s = Weighted(3)
    stop = time.monotonic() + 1.0
    failures: list[str] = []

    def worker(seed: int) -> None:
        rnd = random.Random(seed)
        while time.monotonic() < stop:
            w = rnd.randint(1, 3)
            ctx, cancel = context.with_timeout(context.background(), rnd.random() / 500)
            if s.acquire(w, ctx):
                s.release(w)
            cancel()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert failures == []
    assert s._debug_state() == (3, 0, 0)
    assert s.try_acquire(3)


def test_zero_weight() -> None:
    s = Weighted(0)
    assert s.acquire(0) and s.try_acquire(0)
    s.release(0)
    assert s.try_acquire(1) is False


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_during_acquire_leaves_nothing_held(tmp_path: Path) -> None:
    child = textwrap.dedent(
        """
        import os, signal, threading
        from gosync.semaphore import Weighted
        s = Weighted(2)
        s.acquire(2)
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
        try:
            s.acquire(1)
            print("ACQUIRED")
        except KeyboardInterrupt:
            print("INTERRUPTED")
        print("STATE", *s._debug_state())
        s.release(2)
        print("AGAIN", s.acquire(2, timeout=1), *s._debug_state())
        """
    )
    proc = subprocess.run([sys.executable, "-c", child], cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:3] == ["INTERRUPTED", "STATE 2 2 0", "AGAIN True 2 2 0"], proc.stdout


# ---- bad input -------------------------------------------------------------------------


BAD: list[tuple[str, Callable[[Weighted], object], type[BaseException], str]] = [
    ("size not int", lambda s: Weighted("2"), TypeError, "semaphore size must be an int"),  # type: ignore[arg-type]
    ("size float", lambda s: Weighted(2.0), TypeError, "semaphore size must be an int"),  # type: ignore[arg-type]
    ("size negative", lambda s: Weighted(-1), ValueError, "must not be negative"),
    ("acquire n str", lambda s: s.acquire("1"), TypeError, "n must be an int"),  # type: ignore[arg-type]
    ("acquire n bool", lambda s: s.acquire(True), TypeError, "n must be an int"),
    ("acquire n negative", lambda s: s.acquire(-1), ValueError, "n must not be negative"),
    ("acquire ctx", lambda s: s.acquire(1, ctx=5), TypeError, "ctx must be"),  # type: ignore[arg-type]
    ("acquire timeout str", lambda s: s.acquire(1, timeout="1"), TypeError, "timeout"),  # type: ignore[arg-type]
    ("acquire timeout negative", lambda s: s.acquire(1, timeout=-1), ValueError, "timeout"),
    ("acquire timeout nan", lambda s: s.acquire(1, timeout=float("nan")), ValueError, "NaN"),
    ("try_acquire float", lambda s: s.try_acquire(1.0), TypeError, "n must be an int"),  # type: ignore[arg-type]
    ("try_acquire negative", lambda s: s.try_acquire(-2), ValueError, "n must not be negative"),
    ("release str", lambda s: s.release("1"), TypeError, "n must be an int"),  # type: ignore[arg-type]
    ("release negative", lambda s: s.release(-1), ValueError, "n must not be negative"),
    ("release more than held", lambda s: s.release(2), SyncError, "semaphore: released more than held"),
]


@pytest.mark.parametrize("call,error,fragment", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_raises_and_changes_nothing(
    call: Callable[[Weighted], object], error: type[BaseException], fragment: str
) -> None:
    s = Weighted(3)
    assert s.acquire(1)
    before = s._debug_state()
    with pytest.raises(error) as info:
        call(s)
    assert type(info.value) is error and fragment in str(info.value)
    assert s._debug_state() == before
    s.release(1)
    assert s.acquire(3, timeout=0) and s.try_acquire(1) is False
    s.release(3)


def test_not_copyable() -> None:
    import copy
    import pickle

    s = Weighted(1)
    for attempt in (copy.copy, copy.deepcopy, pickle.dumps):
        with pytest.raises(TypeError, match="must not be copied"):
            attempt(s)


class CountingQueue(Weighted):
    """Counts the calls that may set QUEUED."""

    __slots__ = ("queue_calls",)

    def __init__(self, n: int) -> None:
        super().__init__(n)
        self.queue_calls = 0

    def _take_or_queue(self, n: int, /) -> bool:
        self.queue_calls += 1
        return super()._take_or_queue(n)


def test_timeout_zero_never_queues() -> None:
    s = CountingQueue(2)
    assert s.acquire(1, timeout=0)
    ctx, cancel = context.with_cancel(context.background())
    assert s.acquire(1, ctx, timeout=0)
    assert s.acquire(1, timeout=0) is False
    assert s.acquire(1, ctx, timeout=0) is False
    assert s.queue_calls == 0  # QUEUED was never set, even for a moment
    assert s.acquire(1, timeout=0.01) is False
    assert s.queue_calls == 1  # a real wait does queue
    assert s._debug_state() == (2, 2, 0)
    s.release(2)
    cancel()


def test_interrupted_after_grant_gives_the_weight_back(monkeypatch: pytest.MonkeyPatch) -> None:
    # Ctrl-C can end the waiter's sleep just as a release grants it the
    # weight (the grant sets ready between the park's EINTR and the signal
    # handler raising). acquire then raises, so its caller holds nothing and
    # will release nothing: the granted weight must go back.
    import gosync.semaphore as semaphore_mod

    class InterruptedWake:
        def __init__(self, w: Any) -> None:
            self.w = w
            self.unlocked = threading.Event()

        def lock(self) -> None:
            pass

        def unlock(self) -> None:
            self.unlocked.set()

        def _lock_until(self, deadline: int) -> bool:
            assert self.unlocked.wait(10), "never granted"
            assert self.w.ready
            raise KeyboardInterrupt

    class Waiter(semaphore_mod._Waiter):
        def __init__(self, n: int, serving: str) -> None:
            super().__init__(n, serving)
            self.wake = InterruptedWake(self)  # type: ignore[assignment]

    monkeypatch.setattr(semaphore_mod, "_Waiter", Waiter)
    s = Weighted(2)
    assert s.acquire(2)
    def release_when_queued() -> None:
        eventually(lambda: queued(s) == 1, "the waiter to queue")
        s.release(2)

    releaser = threading.Thread(target=release_when_queued, daemon=True)
    releaser.start()
    with pytest.raises(KeyboardInterrupt):
        s.acquire(1)
    releaser.join(10)
    assert s._debug_state() == (2, 0, 0)
    assert s.acquire(2, timeout=1)
