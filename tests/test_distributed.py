"""gosync.etcd and gosync.redis: one conformance suite, parametrised by
engine, and fault tests on real servers (paused or killed holders, a paused
server, a Redis restart, many processes).

Each test module run starts one etcd and one Redis on 127.0.0.1 (free ports,
throw-away data directories) and stops them by pid at the end. Without the
server binaries (Debian packages etcd-server and redis-server) the tests
skip, unless GOSYNC_REQUIRE_SERVERS=1 (as in .ci/run), which makes that a
failure.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from conftest import run_threads
from dist_servers import FencedStore, Server, start_etcd, start_redis, which

import gosync

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX servers and signals")

TESTS = Path(__file__).resolve().parent
REQUIRE = os.environ.get("GOSYNC_REQUIRE_SERVERS") == "1"
BINARY = {"etcd": "etcd", "redis": "redis-server"}
PACKAGE = {"etcd": "etcd-server", "redis": "redis-server"}
# The shortest lease each engine grants (etcd rounds shorter ones up to its
# minimum, 2 s with the default election timeout).
SHORT_TTL = {"etcd": 2, "redis": 2}


def _require(kind: str) -> None:
    reason = ""
    if which(BINARY[kind]) is None:
        reason = f"{BINARY[kind]} not found: install the Debian package {PACKAGE[kind]}"
    elif kind == "redis":
        try:
            import redis  # noqa: F401
        except ImportError:
            reason = "redis-py is not installed: pip install '.[redis]'"
    if reason:
        if REQUIRE:
            pytest.fail(reason + " (GOSYNC_REQUIRE_SERVERS=1 forbids skipping)")
        pytest.skip(reason)


def _start(kind: str) -> Server:
    return start_etcd() if kind == "etcd" else start_redis()


class Engine:
    """One engine under test: its server, and sessions closed at teardown."""

    def __init__(self, kind: str, server: Server) -> None:
        self.kind = kind
        self.server = server
        self.sessions: list[Any] = []

    def session_expr(self, ttl: float = 10) -> str:
        """Python source that opens a session (for child processes)."""
        if self.kind == "etcd":
            return f"gosync.etcd.Session(endpoints=[{self.server.address!r}], ttl={int(ttl)})"
        return f"gosync.redis.Session(url={self.server.url!r}, ttl={ttl})"

    def session(self, ttl: float = 10) -> Any:
        import importlib

        importlib.import_module("gosync." + self.kind)  # gosync.redis needs redis-py
        s = eval(self.session_expr(ttl), {"gosync": gosync})
        self.sessions.append(s)
        return s

    def close(self) -> None:
        for s in self.sessions:
            s.close()


@pytest.fixture(params=["etcd", "redis"])
def engine(request: pytest.FixtureRequest, servers: dict[str, Server]) -> Iterator[Engine]:
    kind = request.param
    _require(kind)
    proc = servers[kind].proc if kind in servers else None
    if proc is None or proc.poll() is not None:
        servers[kind] = _start(kind)
    e = Engine(kind, servers[kind])
    try:
        yield e
    finally:
        e.server.resume()  # in case a test stopped it and failed
        e.close()


def name() -> str:
    return "t-" + uuid.uuid4().hex[:12]


def elapsed(f: Callable[[], object]) -> tuple[object, float]:
    t0 = time.monotonic()
    r = f()
    return r, time.monotonic() - t0


def run_child(code: str, timeout: float = 60, **kw: Any) -> subprocess.Popen[str]:
    """Starts `python -c code` with the tests folder on its path (for
    dist_servers), from an empty cwd, in its own process group."""
    env = dict(os.environ, PYTHONPATH=str(TESTS) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen(
        [sys.executable, "-c", code], env=env, text=True, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, cwd="/", **kw
    )


def reap(p: subprocess.Popen[str]) -> None:
    """Kills a child by pid if it is still running (SIGCONT first)."""
    if p.poll() is None:
        try:
            os.kill(p.pid, signal.SIGCONT)
            p.kill()
        except ProcessLookupError:
            pass
    p.wait(10)


# --- conformance -------------------------------------------------------------


def test_mutual_exclusion_and_fencing_across_sessions(engine: Engine) -> None:
    n = name()
    tokens: list[int] = []
    inside = [0]
    overlaps = [0]
    iters = 15 if engine.kind == "etcd" else 40

    def worker(i: int) -> None:
        m = engine.session().Mutex(n)
        for _ in range(iters):
            with m:
                inside[0] += 1
                if inside[0] != 1:
                    overlaps[0] += 1
                tokens.append(m.fencing_token)
                time.sleep(0.0005)
                inside[0] -= 1

    run_threads(4, worker)  # re-raises a worker's failure
    assert overlaps[0] == 0
    assert len(tokens) == 4 * iters
    assert all(a < b for a, b in zip(tokens, tokens[1:])), tokens  # strictly increasing, in lock order


def test_timeout_try_lock_and_no_claim_left(engine: Engine) -> None:
    n = name()
    a, b, c = (engine.session().Mutex(n) for _ in range(3))
    assert a.try_lock() is True
    assert b.try_lock() is False
    r, dt = elapsed(lambda: b.lock(timeout=0.3))
    assert r is False
    assert 0.29 <= dt < 0.9, dt
    r, dt = elapsed(lambda: b.lock(timeout=0))
    assert r is False and dt < 0.5
    a.unlock()
    # b's attempts left nothing behind: c gets the lock at once.
    assert c.try_lock() is True
    c.unlock()
    assert b.acquire(timeout=1) is True
    b.release()
    assert b.acquire(blocking=False) is True
    with pytest.raises(ValueError):
        b.acquire(blocking=False, timeout=1)
    b.release()


def test_lock_waits_for_unlock(engine: Engine) -> None:
    n = name()
    a, b = engine.session().Mutex(n), engine.session().Mutex(n)
    assert a.lock()
    got: list[float] = []
    t = threading.Thread(target=lambda: got.append(time.monotonic()) if b.lock(timeout=20) else None)
    t.start()
    time.sleep(0.3)
    assert got == []
    released = time.monotonic()
    a.unlock()
    t.join(20)
    assert len(got) == 1 and got[0] - released < 2.0
    assert b.fencing_token > 0
    b.unlock()


def test_misuse_messages(engine: Engine) -> None:
    s = engine.session()
    n = name()
    m, rw, sem = s.Mutex(n), s.RWMutex(n), s.Semaphore(n, 2)
    cases = [
        (m.unlock, "sync: unlock of unlocked mutex"),
        (rw.runlock, "sync: RUnlock of unlocked RWMutex"),
        (rw.unlock, "sync: Unlock of unlocked RWMutex"),
        (rw.rlocker().unlock, "sync: RUnlock of unlocked RWMutex"),
        (sem.release, "semaphore: released more than held"),
    ]
    for f, msg in cases:
        with pytest.raises(gosync.SyncError) as e:
            f()
        assert str(e.value) == msg
    with pytest.raises(gosync.SyncError):
        print(m.fencing_token)
    # still usable
    assert m.try_lock() and rw.try_lock() and sem.acquire(timeout=1)
    m.unlock(), rw.unlock(), sem.release()
    with pytest.raises(gosync.SyncError):
        m.unlock()


@pytest.mark.parametrize(
    "bad, exc",
    [("1", TypeError), (1j, TypeError), (-1, ValueError), (float("nan"), ValueError), (float("inf"), OverflowError)],
)
def test_bad_timeout_changes_nothing(engine: Engine, bad: Any, exc: type) -> None:
    s = engine.session()
    n = name()
    m, rw, sem = s.Mutex(n), s.RWMutex(n), s.Semaphore(n, 1)
    # acquire takes threading's -1 for "no timeout"
    for f in (m.lock, rw.lock, rw.rlock, sem.lock, s.done().recv) + ((sem.acquire,) if bad != -1 else ()):
        with pytest.raises(exc):
            f(timeout=bad)
    other = engine.session()
    assert other.Mutex(n).try_lock() and other.RWMutex(n).try_lock() and other.Semaphore(n, 1).try_lock()


def test_fencing_tokens_increase_per_name(engine: Engine) -> None:
    n = name()
    s1, s2 = engine.session(), engine.session()
    seen = []
    for s in (s1, s2, s1, s2):
        m = s.Mutex(n)
        assert m.lock(timeout=5)
        seen.append(m.fencing_token)
        assert m.fencing_token == seen[-1]  # stable while held
        m.unlock()
    rw = s1.RWMutex(n)
    assert rw.lock(timeout=5)
    w = rw.fencing_token
    rw.unlock()
    assert rw.rlock(timeout=5)
    r = rw.read_fencing_token
    rw.runlock()
    assert all(isinstance(t, int) for t in seen)
    assert seen == sorted(seen) and len(set(seen)) == 4
    assert w < r


def test_rwmutex_readers_overlap_writers_exclude(engine: Engine) -> None:
    n = name()
    r1, r2, w, r3 = (engine.session().RWMutex(n) for _ in range(4))
    assert r1.rlock(timeout=2) and r2.rlock(timeout=2)  # two readers at once
    assert w.try_lock() is False
    assert w.lock(timeout=0.3) is False
    # The timed-out writer left nothing that holds back readers.
    assert r3.try_rlock() is True
    r3.runlock()
    # A waiting writer holds back new readers (Go's RWMutex) ...
    got: list[bool] = []
    t = threading.Thread(target=lambda: got.append(w.lock(timeout=20)))
    t.start()
    time.sleep(0.5)
    assert r3.rlock(timeout=0.3) is False
    r1.runlock()
    r2.runlock()
    t.join(20)
    assert got == [True]
    # ... and holds everyone out while it writes.
    assert r3.try_rlock() is False and r1.try_lock() is False
    w.unlock()
    with r3.rlocker():
        assert r1.rlocker().acquire(timeout=2)
        r1.rlocker().release()
    with w:
        assert r1.try_rlock() is False


def test_semaphore_admits_n(engine: Engine) -> None:
    n = name()
    sems = [engine.session().Semaphore(n, 3) for _ in range(4)]
    for s in sems[:3]:
        assert s.acquire(timeout=2) is True
    assert sems[3].acquire(timeout=0.3) is False
    assert sems[3].acquire(blocking=False) is False
    got: list[bool] = []
    t = threading.Thread(target=lambda: got.append(sems[3].acquire(timeout=20)))
    t.start()
    time.sleep(0.2)
    sems[0].release()
    t.join(20)
    assert got == [True]
    assert sems[0].acquire(timeout=0.2) is False
    sems[1].release()
    assert sems[0].acquire(timeout=None) is True  # None: wait as long as it takes
    sems[0].release()
    for s in sems[2:]:
        s.release()
    with sems[0]:
        assert sems[0].fencing_token > 0
    with pytest.raises(ValueError):
        engine.session().Semaphore(n, 0)
    with pytest.raises(TypeError):
        engine.session().Semaphore(n, 1.5)


def test_done_channel_and_close(engine: Engine) -> None:
    s = engine.session()
    d = s.done()
    assert isinstance(d, gosync.Chan)  # the real channel, usable in select
    assert d.closed is False
    with pytest.raises(TimeoutError):
        d.recv(timeout=0.05)
    assert gosync.select(d.recv, block=False) == (-1, None, False)
    m = s.Mutex(name())
    assert m.lock(timeout=2)
    other = engine.session().Mutex(m.name)
    s.close()  # frees what it holds
    assert d.closed is True
    d.recv(timeout=0)  # returns at once (TimeoutError if not)
    assert d.recv_ok() == (None, False)
    assert gosync.select(d.recv, timeout=0) == (0, None, False)
    assert list(d) == []
    assert other.lock(timeout=2) is True
    with pytest.raises(gosync.LeaseLost):
        m.lock(timeout=1)


def test_lease_lost_unlock_changes_nothing(engine: Engine) -> None:
    """The lease ends under a holder (as when it expires): another takes
    the lock; the old holder's unlock raises LeaseLost and leaves the new
    holder's claim in place."""
    n = name()
    s1, s2, s3 = engine.session(), engine.session(), engine.session()
    m1 = s1.Mutex(n)
    assert m1.lock(timeout=2)
    old = m1.fencing_token
    if engine.kind == "etcd":
        s1._post(None, "/v3/lease/revoke", {"ID": str(s1.lease)})
    else:
        import redis

        r = redis.Redis.from_url(engine.server.url)
        r.delete(s1._lease, "gosync:{" + n + "}:m")
        r.close()
    m2 = s2.Mutex(n)
    assert m2.lock(timeout=5)
    assert m2.fencing_token > old
    with pytest.raises(gosync.LeaseLost):
        m1.unlock()
    s1.done().recv(timeout=10)  # closed (TimeoutError if not)
    assert s3.Mutex(n).try_lock() is False  # m2 still holds
    m2.unlock()
    assert s3.Mutex(n).try_lock() is True
    with pytest.raises(gosync.LeaseLost):
        s1.Mutex(n).lock(timeout=1)


def test_unreachable_server_raises_connection_error(engine: Engine) -> None:
    from dist_servers import free_port

    import gosync.etcd

    port = free_port()  # nobody listens there
    t0 = time.monotonic()
    with pytest.raises(ConnectionError):
        if engine.kind == "etcd":
            gosync.etcd.Session(endpoints=[f"127.0.0.1:{port}"], ttl=5, connect_timeout=1)
        else:
            import gosync.redis

            gosync.redis.Session(url=f"redis://127.0.0.1:{port}/0", ttl=5, connect_timeout=1)
    assert time.monotonic() - t0 < 1.5


CTRL_C = textwrap.dedent(
    """
    import os, signal, threading, time
    import gosync, gosync.{kind}
    holder, waiter, third = {s}, {s}, {s}
    a, b, c = holder.{make}, waiter.{make}, third.{make}
    assert a.{hold}
    threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
    t0 = time.monotonic()
    try:
        b.{wait}
        print("ACQUIRED", flush=True)
    except KeyboardInterrupt:
        print("INTERRUPTED %.3f" % (time.monotonic() - t0), flush=True)
    {after}
    print("FREE", c.{probe}, flush=True)
    for s in (holder, waiter, third):
        s.close()
    """
)

# kind: (factory, hold, wait, what to do after, probe that shows no claim is left)
CTRL_C_CASES = {
    "mutex": ("Mutex(N)", "lock(timeout=5)", "lock({t})", "a.unlock()", "try_lock()"),
    # An interrupted writer leaves no pending mark: a new reader gets in
    # while the first reader still holds the lock.
    "rw-writer": ("RWMutex(N)", "rlock(timeout=5)", "lock({t})", "pass", "try_rlock()"),
    "rw-reader": ("RWMutex(N)", "lock(timeout=5)", "rlock({t})", "a.unlock()", "try_lock()"),
    "semaphore": ("Semaphore(N, 1)", "acquire(timeout=5)", "acquire({t})", "a.release()", "try_lock()"),
}


@pytest.mark.parametrize("t", ["", "timeout=30"])
@pytest.mark.parametrize("case", sorted(CTRL_C_CASES))
def test_ctrl_c_interrupts_wait_and_leaves_no_claim(engine: Engine, case: str, t: str) -> None:
    make, hold, wait, after, probe = CTRL_C_CASES[case]
    code = CTRL_C.format(
        kind=engine.kind, s=engine.session_expr(10), make=make.replace("N", repr(name())), hold=hold,
        wait=wait.format(t=t), after=after, probe=probe,
    )
    p = run_child(code)
    try:
        out, err = p.communicate(timeout=60)
    finally:
        reap(p)
    lines = out.split("\n")
    assert p.returncode == 0, out + err
    assert lines[0].startswith("INTERRUPTED"), out + err
    assert 0.25 < float(lines[0].split()[1]) < 1.3
    assert lines[1] == "FREE True", out + err


# --- faults on real servers ----------------------------------------------------

HOLDER = textwrap.dedent(
    """
    import sys, time
    import gosync, gosync.{kind}
    from dist_servers import FencedStore
    s = {s}
    m = s.Mutex({n!r})
    assert m.lock(timeout=10)
    print("HELD", m.fencing_token, flush=True)
    sys.stdin.readline()  # stopped here; the test writes a line after SIGCONT
    ok = FencedStore({store!r}).write(m.fencing_token, "stale")
    print("WRITE", ok, flush=True)
    try:
        s.done().recv(timeout=10)
        print("DONE closed", flush=True)
    except TimeoutError:
        print("DONE open", flush=True)
    try:
        m.unlock()
        print("UNLOCK ok", flush=True)
    except gosync.LeaseLost:
        print("UNLOCK LeaseLost", flush=True)
    """
)


def test_paused_holder_loses_lock_and_its_stale_write_is_fenced(engine: Engine, tmp_path: Path) -> None:
    ttl = SHORT_TTL[engine.kind]
    n = name()
    store = FencedStore(str(tmp_path / "store.json"))
    code = HOLDER.format(kind=engine.kind, s=engine.session_expr(ttl), n=n, store=store.path)
    p = run_child(code, stdin=subprocess.PIPE)
    try:
        assert p.stdout is not None and p.stdin is not None
        line = p.stdout.readline()
        assert line.startswith("HELD"), line + (p.stderr.read() if p.stderr else "")
        old = int(line.split()[1])
        os.kill(p.pid, signal.SIGSTOP)
        t0 = time.monotonic()
        m = engine.session().Mutex(n)
        assert m.lock(timeout=ttl + 5) is True  # once the stopped holder's lease expired
        waited = time.monotonic() - t0
        assert waited < ttl + 3, waited
        new = m.fencing_token
        assert new > old
        assert store.write(new, "fresh") is True
        os.kill(p.pid, signal.SIGCONT)
        p.stdin.write("go\n")
        p.stdin.flush()
        out, err = p.communicate(timeout=30)
        assert out.split("\n")[:3] == ["WRITE False", "DONE closed", "UNLOCK LeaseLost"], out + err
        assert store.values() == [[new, "fresh"]]
        # The stale holder's unlock changed nothing: m still holds.
        assert engine.session().Mutex(n).try_lock() is False
        m.unlock()
    finally:
        reap(p)


def test_killed_holder_frees_lock_within_ttl(engine: Engine) -> None:
    ttl = SHORT_TTL[engine.kind]
    n = name()
    code = HOLDER.format(kind=engine.kind, s=engine.session_expr(ttl), n=n, store="/dev/null")
    p = run_child(code, stdin=subprocess.PIPE)
    try:
        assert p.stdout is not None
        line = p.stdout.readline()
        assert line.startswith("HELD"), line
        os.kill(p.pid, signal.SIGKILL)
        p.wait(10)
        t0 = time.monotonic()
        m = engine.session().Mutex(n)
        assert m.lock(timeout=ttl + 5) is True
        assert time.monotonic() - t0 < ttl + 1.5
        assert m.fencing_token > int(line.split()[1])
        m.unlock()
    finally:
        reap(p)


def test_paused_server_times_out_then_recovers(engine: Engine) -> None:
    # A lease long enough to outlive the pause: the point is the client's
    # recovery (a pause past ttl is the paused-holder test's case).
    s = engine.session(ttl=30)
    n = name()
    m = s.Mutex(n)
    engine.server.pause()
    try:
        t0 = time.monotonic()
        try:
            r = m.lock(timeout=1)
            assert r is False
        except ConnectionError:
            pass
        waited = time.monotonic() - t0
        assert waited < 1.5, waited
        t0 = time.monotonic()
        try:
            assert s.Mutex(n + "x").try_lock() is False
        except ConnectionError:
            pass
        assert time.monotonic() - t0 < 7.0  # no caller timeout: the 5 s request limit, and withdrawals
    finally:
        engine.server.resume()
    assert m.lock(timeout=10) is True  # the same session recovers
    assert s.done().closed is False
    other = engine.session().Mutex(n)
    assert other.try_lock() is False
    m.unlock()
    assert other.lock(timeout=5) is True  # and the attempts made while paused left no claim
    other.unlock()


def test_redis_restart_without_persistence(servers: dict[str, Server]) -> None:
    """Documented behaviour: a Redis restart without persistence loses the
    locks and the leases (a second client can take a lock its holder still
    believes it has, until the holder's done() closes); the fencing counter
    is lost too but reseeded from the server clock, so tokens still grow."""
    _require("redis")
    import gosync.redis

    srv = start_redis()
    try:
        s1 = gosync.redis.Session(url=srv.url, ttl=3)
        m1 = s1.Mutex("restart")
        assert m1.lock(timeout=2)
        old = m1.fencing_token
        srv.restart()
        s2 = gosync.redis.Session(url=srv.url, ttl=3)
        m2 = s2.Mutex("restart")
        assert m2.try_lock() is True  # the lock was lost with the data
        assert m2.fencing_token > old  # the reseeded counter stays ahead
        s1.done().recv(timeout=5)  # the old session notices (TimeoutError if not)
        with pytest.raises(gosync.LeaseLost):
            m1.unlock()
        assert gosync.redis.Session(url=srv.url, ttl=3).Mutex("restart").try_lock() is False  # m2 holds
        m2.unlock()
        s2.close()
        s1.close()
    finally:
        srv.stop()


JOURNAL = textwrap.dedent(
    """
    import os, time
    import gosync, gosync.{kind}
    s = {s}
    m = s.Mutex({n!r})
    marker = {marker!r}
    with open({journal!r}, "a") as j:
        for i in range({m}):
            assert m.lock(timeout=60)
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)  # fails if another is inside
            j.write("%d %d\\n" % (os.getpid(), m.fencing_token)); j.flush()
            os.close(fd); os.unlink(marker)
            m.unlock()
    s.close()
    print("OK")
    """
)


def test_processes_fenced_journal(engine: Engine, tmp_path: Path) -> None:
    procs, each = 4, (10 if engine.kind == "etcd" else 25)
    journal = str(tmp_path / "journal")
    code = JOURNAL.format(kind=engine.kind, s=engine.session_expr(10), n=name(), m=each,
                          marker=str(tmp_path / "inside"), journal=journal)
    ps = [run_child(code) for _ in range(procs)]
    try:
        outs = [p.communicate(timeout=120) for p in ps]
    finally:
        for p in ps:
            reap(p)
    for p, (out, err) in zip(ps, outs):
        assert p.returncode == 0 and out.strip() == "OK", out + err
    tokens = [int(line.split()[1]) for line in Path(journal).read_text().splitlines()]
    assert len(tokens) == procs * each
    assert all(a < b for a, b in zip(tokens, tokens[1:]))  # journal order is token order


READERS = textwrap.dedent(
    """
    import time
    import gosync, gosync.{kind}
    s = {s}
    rw = s.RWMutex({n!r})
    spans = []
    for i in range(3):
        assert rw.rlock(timeout=30)
        t0 = time.time(); time.sleep(0.2); spans.append((t0, time.time()))
        rw.runlock()
    assert rw.lock(timeout=30)
    t0 = time.time(); time.sleep(0.05); w = (t0, time.time())
    rw.unlock()
    s.close()
    print(repr((spans, w)))
    """
)


def test_processes_read_locks_overlap(engine: Engine) -> None:
    """4 processes take read locks (measured overlap) and one write lock
    each (which must overlap nothing)."""
    code = READERS.format(kind=engine.kind, s=engine.session_expr(10), n=name())
    ps = [run_child(code) for _ in range(4)]
    try:
        outs = [p.communicate(timeout=120) for p in ps]
    finally:
        for p in ps:
            reap(p)
    reads, writes = [], []
    for p, (out, err) in zip(ps, outs):
        assert p.returncode == 0, out + err
        spans, w = eval(out)
        reads += spans
        writes.append(w)
    # The most readers inside at once: at least 2 shows that they overlap.
    events = sorted([(a, 1) for a, _ in reads] + [(b, -1) for _, b in reads])
    most = inside = 0
    for _, d in events:
        inside += d
        most = max(most, inside)
    print(f"{engine.kind}: up to {most} readers at once")
    assert most >= 2
    for a, b in writes:
        for c, d in reads + [x for x in writes if x != (a, b)]:
            assert b <= c or d <= a, ((a, b), (c, d))
