"""What was installed: the package, its type marker, and its compiled core."""

from __future__ import annotations

import os
import sys
from importlib import resources
from pathlib import Path
from typing import Callable

import gosync
import gosync.semaphore
from conftest import pypy_cannot


def test_py_typed_ships() -> None:
    assert (resources.files("gosync") / "py.typed").is_file()


def test_tests_run_against_the_installed_package() -> None:
    # .ci/run sets GOSYNC_TEST_INSTALLED=1 after a non-editable install: the
    # tests must then import gosync from site-packages, not from the tree.
    if os.environ.get("GOSYNC_TEST_INSTALLED") != "1":
        return
    where = Path(gosync.__file__).resolve()
    repo = Path(__file__).resolve().parent.parent
    assert repo not in where.parents, f"imported from the source tree: {where}"
    assert "site-packages" in where.parts


def test_public_api() -> None:
    assert set(gosync.__all__) >= {"Mutex", "SyncError", "Locker"}
    assert issubclass(gosync.SyncError, RuntimeError)


def _every_binding_type() -> list[tuple[type, Callable[[], object]]]:
    """(type, make) for each type of the binding, each Python class over it,
    and a user's subclass of each lock: every kind of heap type whose
    instances hold a reference to their type."""
    from gosync import _gosync, pool
    from gosync.atomic import Bool, Int32, Int64, Uint32, Uint64

    class UserMutex(gosync.Mutex):
        pass

    class UserCond(gosync.Cond):
        pass

    rw = gosync.RWMutex()
    m = gosync.Mutex()
    plain: list[type] = [
        _gosync.MutexBase, _gosync.RWMutexBase, _gosync.WaitGroupBase, gosync.Chan,
        _gosync.Int32Base, _gosync.Uint32Base, _gosync.Int64Base, _gosync.Uint64Base,
        _gosync.BoolBase, _gosync.PoolLocal,
        gosync.Mutex, gosync.RWMutex, gosync.WaitGroup, gosync.Once, UserMutex,
        Int32, Uint32, Int64, Uint64, Bool, pool._Local,
    ]  # fmt: skip
    made: list[tuple[type, Callable[[], object]]] = [(cls, cls) for cls in plain]
    made += [
        (_gosync.RLockerBase, lambda: _gosync.RLockerBase(rw)),
        (gosync.rwmutex.RLocker, rw.rlocker),
        (gosync.Cond, lambda: gosync.Cond(m)),
        (UserCond, lambda: UserCond(m)),
        (gosync.semaphore.Weighted, lambda: gosync.semaphore.Weighted(1)),
    ]
    return made


@pypy_cannot("no reference counts to compare (sys.getrefcount)")
def test_instances_release_their_type() -> None:
    # Each instance of a heap type holds a reference to its type, which its
    # deallocation must give back (the binding's deallocs do, and CPython's
    # subtype_dealloc for the types that define none); a leak would show as one
    # reference per instance, a double release as a crash or a fall.
    for cls, make in _every_binding_type():
        before = sys.getrefcount(cls)
        for _ in range(10_000):
            make()
        assert sys.getrefcount(cls) - before == 0, cls


def test_errors_name_the_public_class() -> None:
    # lock and acquire are written once in a mixin, and the atomics' __init__
    # in a base class; a wrong number of arguments must still name the class
    # the user called (CPython names the function in the message from 3.10).
    import sys

    import pytest

    from gosync.atomic import Bool, Int32, Int64, Uint32, Uint64
    from gosync.rwmutex import RLocker

    calls = [
        ("Mutex.lock", lambda: gosync.Mutex().lock(1, 2)),
        ("Mutex.acquire", lambda: gosync.Mutex().acquire(True, 1, 2)),
        ("RWMutex.lock", lambda: gosync.RWMutex().lock(1, 2)),
        ("RWMutex.acquire", lambda: gosync.RWMutex().acquire(True, 1, 2)),
        ("RLocker.lock", lambda: gosync.RWMutex().rlocker().lock(1, 2)),
        ("RLocker.acquire", lambda: gosync.RWMutex().rlocker().acquire(True, 1, 2)),
    ]
    calls += [(f"{cls.__name__}.__init__", lambda cls=cls: cls(1, 2)) for cls in (Int32, Uint32, Int64, Uint64)]
    calls.append(("Bool.__init__", lambda: Bool(True, False)))
    for name, call in calls:
        with pytest.raises(TypeError, match="positional argument") as info:
            call()
        message = str(info.value)
        assert "TimedLock" not in message and "_Atomic" not in message, message
        if sys.version_info >= (3, 10):
            assert message.startswith(f"{name}()"), message
    assert RLocker.lock.__qualname__ == "RLocker.lock"


def test_version_is_the_distribution_s(tmp_path: Path) -> None:
    import subprocess
    import sys
    from importlib import metadata

    assert metadata.version("go-sync") == gosync.__version__
    proc = subprocess.run(
        [sys.executable, "-m", "gosync", "--version"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"gosync {gosync.__version__} (distribution go-sync), Python 3."), proc.stdout
