"""gosync.shared.Arena: names, modes, keys, closing, and the checks that turn
bad handles and corrupt segments into clear exceptions."""

from __future__ import annotations

import os
import pickle
import signal
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import pytest

import gosync.shared as shared
from gosync.shared import _default, _layout
from conftest import CHILD_CWD, pypy_cannot


@pytest.fixture
def name() -> Iterator[str]:
    n = f"test-{os.getpid()}-{time.monotonic_ns()}"
    try:
        yield n
    finally:
        try:
            os.unlink(f"/dev/shm/gosync.{n}")
        except FileNotFoundError:
            pass


def test_named_arena_create_open_and_errors(name: str) -> None:
    with pytest.raises(FileNotFoundError):
        shared.Arena(name, create=False)
    a = shared.Arena(name)
    with pytest.raises(FileExistsError):
        shared.Arena(name)
    a.get("counter", shared.atomic.Int64).add(5)
    with shared.Arena(name, create=False) as b:
        assert b.name == name
        assert b.get("counter", shared.atomic.Int64).load() == 5
    assert b.closed and not a.closed  # with closes, and does not unlink
    assert os.path.exists(f"/dev/shm/gosync.{name}")
    a.unlink()
    with pytest.raises(FileNotFoundError):
        shared.Arena(name, create=False)
    a.close()


def test_segment_mode_is_0600_whatever_the_umask(name: str) -> None:
    old = os.umask(0)
    try:
        a = shared.Arena(name)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(f"/dev/shm/gosync.{name}").st_mode) == 0o600
    a.unlink()
    a.close()


@pytest.mark.parametrize("bad", ["", "a/b", "x" * 201, "sp ace", "..\0"])
def test_bad_names(bad: str) -> None:
    with pytest.raises(ValueError, match="arena name"):
        shared.Arena(bad)


def test_get_kind_and_key_checks() -> None:
    with shared.Arena() as a:
        m = a.get("m", shared.Mutex)
        assert a.get("m", shared.Mutex)._slot == m._slot
        with pytest.raises(TypeError, match="holds a Mutex, not a WaitGroup"):
            a.get("m", shared.WaitGroup)
        with pytest.raises(TypeError):
            a.get("x", int)  # type: ignore[type-var]
        with pytest.raises(TypeError):
            a.get(b"x", shared.Mutex)  # type: ignore[arg-type]
        assert a.get("k" * 64, shared.Once) is not None
        with pytest.raises(ValueError, match="64 UTF-8 bytes"):
            a.get("k" * 65, shared.Mutex)
        with pytest.raises(ValueError, match="64 UTF-8 bytes"):
            a.get("é" * 33, shared.Mutex)  # 66 bytes
        with pytest.raises(ValueError):
            a.get("", shared.Mutex)


def test_closed_arena_raises_value_error() -> None:
    a = shared.Arena()
    prims = [a.Mutex(), a.RWMutex(), a.WaitGroup(), a.Cond(), a.Int32(), a.Uint32(), a.Int64(), a.Uint64(), a.Bool()]
    o, done = a.Once(), a.Once()
    done.do(lambda: None)  # done: its fast path must look at the arena too
    a.close()
    a.close()  # twice is fine
    calls = [
        lambda: prims[0].lock(), lambda: prims[0].try_lock(), lambda: prims[0].unlock(),
        lambda: prims[1].rlock(), lambda: prims[1].lock(), lambda: prims[2].add(1), lambda: prims[2].wait(),
        lambda: prims[3].signal(), lambda: prims[3].wait(0), lambda: prims[4].load(), lambda: prims[5].add(1),
        lambda: prims[6].store(1), lambda: prims[7].swap(1), lambda: prims[8].load(), lambda: o.do(print), lambda: done.do(print),
        lambda: a.Mutex(), lambda: a.get("x", shared.Mutex), lambda: pickle.dumps(prims[4]),
    ]  # fmt: skip
    for call in calls:
        with pytest.raises(ValueError, match="^operation on a closed arena$"):
            call()
    assert "closed" in repr(prims[0]) and "closed" in repr(a)


def test_full_arena_raises_memory_error() -> None:
    with shared.Arena(size=1 << 16) as a:
        with pytest.raises(MemoryError, match="is full"):
            for _ in range(10_000):
                a.Int32()
        with pytest.raises(MemoryError):
            a.RWMutex()


def test_a_refused_allocation_leaves_the_space_to_smaller_ones() -> None:
    with shared.Arena(size=1 << 16) as a:
        with pytest.raises(MemoryError, match="is full"):
            a.Chan(1, itemsize=1 << 16)
        with pytest.raises(MemoryError, match="is full"):
            a.Chan(1, itemsize=(1 << 16) - 256)  # passes Chan's own size check
        ch = a.Chan(4, itemsize=8)
        assert ch.send(b"x", timeout=1) and ch.recv(timeout=1) == b"x"


def test_default_arena_grows_when_full() -> None:
    first = _default.default_arena()
    made = [shared.atomic.Int64() for _ in range((first.size - _layout.HEADER_SIZE) // 128 + 2)]
    assert made[-1].arena is not first
    made[0].add(1)
    made[-1].add(2)
    assert (made[0].load(), made[-1].load()) == (1, 2)


def test_cond_lock_must_be_shared_and_in_the_same_arena() -> None:
    import gosync

    with pytest.raises(TypeError):
        shared.Cond(gosync.Mutex())  # type: ignore[arg-type]
    with shared.Arena() as a, shared.Arena() as b:
        with pytest.raises(ValueError, match="arena"):
            a.Cond(b.Mutex())
        c = a.Cond(a.RWMutex())
        assert isinstance(c.L, shared.RWMutex)


# The checks run in a subprocess: a crash there is a negative exit code.
BAD_INPUT_CHILD = textwrap.dedent(
    r"""
    import os, pickle, struct, sys
    import gosync.shared as shared
    from gosync.shared import _handle

    name = sys.argv[1]
    path = "/dev/shm/gosync." + name
    a = shared.Arena(name, size=1 << 16)
    m, wg = a.Mutex(), a.WaitGroup()
    loc, aid = a._locator(), a._id
    failures = []

    def expect(exc, match, fn, *args):
        try:
            fn(*args)
        except exc as e:
            if match not in str(e):
                failures.append(f"{fn.__name__}{args!r}: {type(e).__name__}({e}) lacks {match!r}")
        except BaseException as e:
            failures.append(f"{fn.__name__}{args!r}: {type(e).__name__}({e}), not {exc.__name__}")
        else:
            failures.append(f"{fn.__name__}{args!r}: no exception")

    att = _handle.attach
    expect(ValueError, "holds a Mutex, not a WaitGroup", att, loc, aid, m._slot, 3)
    expect(ValueError, "holds no gosync object", att, loc, aid, 12, 1)
    expect(ValueError, "holds no gosync object", att, loc, aid, 1 << 40, 1)
    expect(ValueError, "holds no gosync object", att, loc, aid, -64, 1)
    expect(ValueError, "holds no gosync object", att, loc, aid, m._slot + 64, 1)
    expect(ValueError, "holds no gosync object", att, loc, aid, (1 << 16) - 64, 1)
    expect(ValueError, "kind", att, loc, aid, m._slot, 99)
    expect(ValueError, "arena id", att, loc, b"short", m._slot, 1)
    expect(ValueError, "locator", att, ("nope",), aid, m._slot, 1)
    expect(ValueError, "locator", att, ("memfd", -1, 3), aid, m._slot, 1)
    expect(ValueError, "arena name", att, ("name", "../etc"), aid, m._slot, 1)
    expect(FileNotFoundError, "", att, ("name", "no-such-arena-" + name), os.urandom(16), m._slot, 1)
    expect(FileNotFoundError, "has exited", att, ("memfd", 4194000, 3), os.urandom(16), 32768, 1)
    # A handle whose arena was replaced by another of the same name.
    h = pickle.dumps(m)
    a.unlink(); a.close()
    b = shared.Arena(name, size=1 << 16)
    expect(ValueError, "arena was replaced", pickle.loads, h)
    b.close()
    # Corrupt segments, each a fresh file under the name.
    def corrupt(offset, data, match, size=1 << 16):
        os.unlink(path)
        c = shared.Arena(name, size=size)
        c.close()
        fd = os.open(path, os.O_RDWR)
        os.pwrite(fd, data, offset)
        os.close(fd)
        expect(ValueError, match, shared.Arena, name, 1 << 16, False)
    corrupt(0, b"GARBAGE!", "is not a gosync arena")
    corrupt(8, struct.pack("<I", 7), "layout version 7, this gosync reads 1")
    corrupt(12, struct.pack("<I", 4096), "header size")
    corrupt(16, struct.pack("<Q", 1 << 40), "size field")
    os.truncate(path, 100)
    expect(ValueError, "is not a gosync arena", shared.Arena, name, 1 << 16, False)
    # A slot whose magic or kind was overwritten.
    os.unlink(path)
    d = shared.Arena(name, size=1 << 16)
    m = d.Mutex()
    h = pickle.dumps(m)
    d._mapping.write(m._slot, b"XXXX")
    del m
    d.close()
    expect(ValueError, "holds no gosync object", pickle.loads, h)
    os.unlink(path)
    e = shared.Arena(name, size=1 << 16)
    m = e.Mutex()
    h = pickle.dumps(m)
    e._mapping.write(m._slot + 4, struct.pack("<I", 3))
    expect(ValueError, "holds a WaitGroup, not a Mutex", pickle.loads, h)
    e._mapping.write(m._slot + 4, struct.pack("<I", 200))
    expect(ValueError, "holds no gosync object", pickle.loads, h)
    os.unlink(path)
    print("\n".join(failures) or "ok")
    sys.exit(1 if failures else 0)
    """
)


@pytest.mark.timeout(60)
def test_bad_handles_and_corrupt_segments_in_a_subprocess(name: str) -> None:
    r = subprocess.run([sys.executable, "-c", BAD_INPUT_CHILD, name], cwd=CHILD_CWD, capture_output=True, text=True, timeout=60)
    assert r.returncode >= 0, f"crashed with signal {-r.returncode}: {r.stderr}"
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip() == "ok"


LEAK_CHILD = textwrap.dedent(
    """
    import os, signal, sys, time
    import gosync.shared as shared
    a = shared.Arena()
    m, n = a.Mutex(), shared.atomic.Int64()
    print(os.readlink(f"/proc/self/fd/{a._fd}"), flush=True)
    pid = os.fork()
    if pid == 0:
        m.lock()
        n.add(1)
        time.sleep(60)
        os._exit(0)
    while n.load() == 0:
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    try:
        m.lock(5)
    except shared.OwnerDied:
        print("ownerdied", flush=True)
    """
)


@pytest.mark.timeout(60)
def test_anonymous_arenas_leave_nothing_in_dev_shm() -> None:
    before = {e for e in os.listdir("/dev/shm") if e.startswith("gosync")}
    r = subprocess.run([sys.executable, "-c", LEAK_CHILD], cwd=CHILD_CWD, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    target, result = r.stdout.splitlines()
    assert target.startswith("/memfd:gosync-arena")  # never a file in /dev/shm
    assert result == "ownerdied"
    # A creator SIGKILLed itself, its arena in use by a child it forked.
    code = (
        "import os, signal, time, gosync.shared as s; a = s.Arena(); m = a.Mutex(); m.lock()\n"
        "if os.fork() == 0:\n    time.sleep(0.2); os._exit(0)\n"
        "os.kill(os.getpid(), signal.SIGKILL)"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=CHILD_CWD, timeout=30, check=False)
    assert r.returncode == -signal.SIGKILL
    time.sleep(0.5)  # the orphan has exited
    after = {e for e in os.listdir("/dev/shm") if e.startswith("gosync")}
    assert after - before == set()


def test_copy_is_the_same_primitive() -> None:
    import copy

    v = shared.atomic.Int32(1)
    assert copy.copy(v) is v and copy.deepcopy(v) is v


@pytest.mark.timeout(30)
def test_sigkilled_creator_of_a_named_arena_leaves_the_file(name: str) -> None:
    # Documented: a named arena lasts until unlink(), even if its creator is
    # killed; another process can open it, use it and unlink it.
    code = (
        f"import gosync.shared as s, os, signal; a = s.Arena({name!r}); "
        "a.get('v', s.atomic.Int32).store(9); os.kill(os.getpid(), signal.SIGKILL)"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=CHILD_CWD, timeout=30, check=False)
    assert r.returncode == -signal.SIGKILL
    with shared.Arena(name, create=False) as a:
        assert a.get("v", shared.atomic.Int32).load() == 9
        a.unlink()


@pypy_cannot("no reference counts to compare (sys.getrefcount)")
def test_placed_objects_release_their_type_and_mapping() -> None:
    # Each object placed in an arena holds a reference to its type and to
    # the arena's mapping; its dealloc must give both back (a leak shows as
    # one reference per object, a double release as a crash).
    with shared.Arena() as a:
        m, rw, wg, i64 = a.Mutex(), a.RWMutex(), a.WaitGroup(), a.Int64()
        classes = [shared.Mutex, shared.RWMutex, shared.WaitGroup, shared.Cond, shared.atomic.Int64, shared.atomic.Bool]
        before = [sys.getrefcount(c) for c in classes] + [sys.getrefcount(a._mapping)]
        for _ in range(2000):
            for x in (m, rw, wg, i64):
                again = pickle.loads(pickle.dumps(x))
                assert again is not x
                del again
        conds = [a.Cond(m) for _ in range(100)]
        bools = [a.Bool() for _ in range(100)]
        del conds, bools
        after = [sys.getrefcount(c) for c in classes] + [sys.getrefcount(a._mapping)]
        assert after == before


def test_an_arena_pickles_to_its_handle() -> None:
    with shared.Arena() as a:
        assert pickle.loads(pickle.dumps(a)) is a
        v = a.Int32(5)
        code = (
            "import pickle, sys, gosync.shared as s\n"
            "a = pickle.loads(bytes.fromhex(sys.argv[1]))\n"
            "print(a.get('v', s.atomic.Int32).load())"
        )
        a.get("v", shared.atomic.Int32).store(v.load())
        r = subprocess.run(
            [sys.executable, "-c", code, pickle.dumps(a).hex()], cwd=CHILD_CWD, capture_output=True, text=True, timeout=60
        )
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == "5"
    with pytest.raises(ValueError, match="closed arena"):
        pickle.dumps(a)


@pytest.mark.timeout(30)
def test_opening_a_named_arena_while_it_is_created_never_sees_it_half_made(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two unrelated programs meet by name: "create, else open" must give
    # either a FileExistsError (then the arena is whole) or the arena,
    # never a ValueError for a file whose header is not written yet. The
    # creator is held just before it sizes the file.
    import threading

    sizing, go = threading.Event(), threading.Event()
    real_ftruncate = os.ftruncate

    def slow_ftruncate(fd: int, size: int) -> None:
        if threading.current_thread() is creator:
            sizing.set()
            go.wait(10)
        real_ftruncate(fd, size)

    monkeypatch.setattr(os, "ftruncate", slow_ftruncate)
    made: list[object] = []

    def create() -> None:
        try:
            made.append(shared.Arena(name))
        except FileExistsError as e:
            made.append(e)

    creator = threading.Thread(target=create)
    creator.start()
    try:
        assert sizing.wait(10)
        try:
            other = shared.Arena(name)
        except FileExistsError:
            other = shared.Arena(name, create=False)
    finally:
        go.set()
        creator.join(10)
    other.get("v", shared.atomic.Int32).store(1)
    assert len(made) == 1
    first = made[0]
    if isinstance(first, shared.Arena):
        assert first.get("v", shared.atomic.Int32).load() == 1
        first.close()
    else:
        assert isinstance(first, FileExistsError)
    other.close()


def test_an_arena_nothing_refers_to_gives_its_descriptor_back(name: str) -> None:
    # Opening a named arena again replaces the cached one; the replaced
    # Arena, once its primitives are gone, must close its descriptor (a
    # file object does): else each open leaks an fd until the process ends.
    import gc

    def shm_fds() -> int:
        # Only descriptors of files in /dev/shm: other threads of the test
        # process (servers' clients, timers) open and close their own.
        n = 0
        for fd in os.listdir("/proc/self/fd"):
            try:
                n += os.readlink(f"/proc/self/fd/{fd}").startswith("/dev/shm/")
            except OSError:
                pass  # closed meanwhile
        return n

    creator = shared.Arena(name)
    before = shm_fds()
    for _ in range(20):
        a = shared.Arena(name, create=False)
        a.get("v", shared.atomic.Int32).add(1)
    del a
    gc.collect()
    # The last one stays in the per-process cache, with its descriptor.
    assert shm_fds() - before <= 1
    assert creator.get("v", shared.atomic.Int32).load() == 20
    creator.unlink()
    creator.close()


@pytest.mark.parametrize("kind", ["WaitGroup", "Cond"])
def test_a_wait_object_with_corrupt_park_flags_is_refused(kind: str) -> None:
    # park_flags (the word after the 8-byte state) is GOSYNC_PARK_SHARED in
    # every WaitGroup and Cond an arena made. A corrupt one would wait on
    # the private futex, which a wake from another process never reaches:
    # an untimed wait would hang. Attaching must say so instead.
    import struct

    with shared.Arena() as a:
        obj = getattr(a, kind)()
        flags_at = obj._slot + _layout.SLOT_HEADER + 8
        assert a._mapping.read(flags_at, 4) == struct.pack("<I", 1)
        a._mapping.write(flags_at, struct.pack("<I", 0))
        with pytest.raises(ValueError, match="corrupt"):
            a._attach(obj._slot, type(obj))
        with pytest.raises(ValueError, match="corrupt"):
            pickle.loads(pickle.dumps(obj))


def test_a_corrupt_bump_word_is_refused_without_writing_over_the_header(name: str) -> None:
    import struct

    a = shared.Arena(name)
    head = a._mapping.read(0, _layout.HEADER_SIZE)
    a._mapping.write(_layout.BUMP, struct.pack("<Q", 0))
    with pytest.raises(ValueError, match="corrupt"):
        a.Mutex()
    assert a._mapping.read(0, _layout.HEADER_SIZE)[: _layout.BUMP] == head[: _layout.BUMP]
    with shared.Arena(name, create=False) as b:  # still an arena
        assert b.size == a.size
    a.unlink()
    a.close()


@pytest.mark.timeout(30)
def test_a_handle_naming_a_terminal_does_not_become_the_controlling_terminal() -> None:
    # A bad handle ("memfd", pid, fd) may name any descriptor of that
    # process, a terminal too. Opening a tty without O_NOCTTY makes it the
    # controlling terminal of a session leader that has none (a daemon):
    # unpickling a bad handle must only raise ValueError.
    master, slave = os.openpty()
    code = textwrap.dedent(f"""
        import os, sys
        from gosync.shared import _handle
        try:
            _handle.attach(("memfd", {os.getpid()}, {slave}), bytes(16), 32768, 1)
        except ValueError:
            pass
        try:
            os.close(os.open("/dev/tty", os.O_RDWR))
        except OSError:
            sys.exit(0)  # still no controlling terminal
        sys.exit(3)
    """)
    try:
        r = subprocess.run(
            [sys.executable, "-c", code],
            cwd=CHILD_CWD,
            start_new_session=True,
            timeout=30,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    finally:
        os.close(master)
        os.close(slave)
    assert r.returncode == 0


def test_internal_locks_have_a_repr_and_refuse_pickling() -> None:
    # The arena's directory lock and a Chan's or Once's mutex are
    # gosync.shared.Mutex instances made without a handle.
    with shared.Arena(size=1 << 16) as a:
        ch, once = a.Chan(1), a.Once()
        for m in (a._dirlock, ch._m, once._m):
            assert repr(m) == "<gosync.shared.Mutex unlocked>"
            with pytest.raises(TypeError, match="cannot pickle an internal gosync.shared.Mutex"):
                pickle.dumps(m)
