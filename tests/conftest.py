"""Shared fixtures: a tiny switch interval for race tests, and the stress size."""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from functools import partial
from operator import itemgetter, methodcaller
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest


def _unshadow_the_installed_gosync() -> None:
    """`python -m pytest` puts the current directory first on sys.path. Run
    from the checkout's root after a normal (non-editable) install, that
    makes the tests import the source tree's gosync/, whose compiled module
    is not built, instead of the installed package. When the tree is
    unbuilt and a built gosync sits elsewhere on sys.path, the root leaves
    sys.path, so the tests run against what was installed, as they do under
    the `pytest` script. A tree built in place (`pip install -e .`) stays."""
    from importlib.machinery import EXTENSION_SUFFIXES

    root = Path(__file__).resolve().parent.parent

    def built(folder: Path) -> bool:
        return any((folder / ("_gosync" + suffix)).is_file() for suffix in EXTENSION_SUFFIXES)

    def where(entry: str) -> Path:
        return Path(entry or os.curdir).resolve()

    if built(root / "gosync") or root not in map(where, sys.path):
        return
    others = [entry for entry in sys.path if where(entry) != root]
    if any(built(where(entry) / "gosync") for entry in others):
        sys.path[:] = others


_unshadow_the_installed_gosync()

# GOSYNC_STRESS multiplies the size of race tests: 1 in a plain `pytest` run,
# larger in .ci/run.
PYPY = sys.implementation.name == "pypy"

# The working directory for the `python -c` children that tests start: not
# the checkout, which `-c` puts first on sys.path, where the unbuilt sources
# would shadow the installed gosync (GOSYNC_TEST_INSTALLED=1, as CI runs).
CHILD_CWD = tempfile.gettempdir()


def pypy_cannot(reason: str) -> pytest.MarkDecorator:
    """Skips a test on PyPy, for what PyPy cannot do, with the reason."""
    return pytest.mark.skipif(PYPY, reason=f"PyPy: {reason}")


# What the GIL tests measure is CPython's: the binding keeps the GIL on its
# fast paths. PyPy's cpyext lets other threads run around every C call.
PYPY_GIL = "cpyext lets other threads run around every call into C, so no fast path can keep the GIL"
# Finalisers and weak references die at PyPy's next major collection, not
# at the last reference's release or at a chosen gc.collect().
PYPY_GC = "objects die at the collector's choice, not at their last reference"


STRESS = max(1, int(os.environ.get("GOSYNC_STRESS", "1")))


@pytest.fixture
def fast_switching() -> Iterator[None]:
    """Makes the interpreter switch threads every microsecond, so that
    unsynchronised read-modify-writes in Python really interleave."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


class Guarded:
    """A deliberately non-atomic counter that also notices company: bump()
    is a read-modify-write with a few bytecodes in between, during which the
    interpreter does switch threads under fast_switching. Only mutual
    exclusion around bump() keeps n exact and overlaps at 0."""

    def __init__(self) -> None:
        self.n = 0
        self.inside = False
        self.overlaps = 0

    def bump(self) -> None:
        if self.inside:
            self.overlaps += 1
        self.inside = True
        v = self.n
        for _ in range(3):
            pass
        self.n = v + 1
        self.inside = False


def run_threads(n: int, target: Callable[[int], None], timeout: float = 60.0) -> None:
    """Runs target(i) in n threads, re-raises the first failure, and fails
    instead of hanging if a thread does not finish in time."""
    errors: list[BaseException] = []
    start = threading.Barrier(n)

    def body(i: int) -> None:
        try:
            start.wait()
            target(i)
        except BaseException as e:  # reported below, in the test's thread
            errors.append(e)

    threads = [threading.Thread(target=body, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        assert not t.is_alive(), "a thread did not finish: deadlock or lost wakeup"
    if errors:
        raise errors[0]


# Python source for tests that run a script in a subprocess (which has
# threading imported): hold_in_thread(m) has a new daemon thread lock m and
# keep it until release() is called, and returns (thread, release).
HOLD_IN_THREAD = """
def hold_in_thread(m):
    held, release = threading.Event(), threading.Event()

    def holder():
        m.lock()
        held.set()
        release.wait()
        m.unlock()

    t = threading.Thread(target=holder, daemon=True)
    t.start()
    held.wait()
    return t, release.set
"""


def switches_during(calls: list[Callable[[], object]]) -> int:
    """Runs calls one after another from C (one map(), so the interpreter
    has no point in between where it could switch threads) while a spinning
    thread asks for the GIL every microsecond (the fast_switching fixture).
    Any release of the GIL inside a call hands it over, since CPython forces
    the switch once asked, and the spinner's counter moves. Returns how far
    it moved."""
    stop = threading.Event()
    ticks = [0]

    def spinner() -> None:
        while not stop.is_set():
            ticks[0] += 1

    read_ticks = partial(itemgetter(0), ticks)
    t = threading.Thread(target=spinner, daemon=True)
    t.start()
    try:
        while ticks[0] == 0:
            time.sleep(0.001)
        results = list(map(methodcaller("__call__"), [read_ticks, *calls, read_ticks]))
    finally:
        stop.set()
        t.join(5)
    return results[-1] - results[0]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, Any]]:
    """A test module's etcd and Redis servers (dist_servers.Server), by
    engine name: the tests start each on first use and put it here; all are
    stopped, by pid, when the module ends, also on failure."""
    started: dict[str, Any] = {}
    try:
        yield started
    finally:
        for s in started.values():
            s.stop()
