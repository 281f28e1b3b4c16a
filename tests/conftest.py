"""Shared fixtures: a tiny switch interval for race tests, and the stress size."""

from __future__ import annotations

import os
import sys
import threading
from typing import Callable, Iterator

import pytest

# GOSYNC_STRESS multiplies the size of race tests: 1 in a plain `pytest` run,
# larger in .ci/run.
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
