"""What was installed: the package, its type marker, and its compiled core."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import gosync


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


def test_instances_release_their_type() -> None:
    # Each instance of a heap type holds a reference to its type; the lock
    # types' dealloc must give it back, or every instance leaks one.
    import sys

    for cls in (gosync.Mutex, gosync.RWMutex, gosync.WaitGroup, gosync.Once):
        before = sys.getrefcount(cls)
        for _ in range(1000):
            cls()
        assert sys.getrefcount(cls) - before < 10, cls
    before = sys.getrefcount(gosync.Cond)
    for _ in range(1000):
        gosync.Cond(gosync.Mutex())
    assert sys.getrefcount(gosync.Cond) - before < 10
