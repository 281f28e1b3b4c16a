"""The packed counts' limits: past each one a call fails with a clear
OverflowError and changes nothing, and the primitive stays usable.

The states at the limit are set white-box, through the test-only probes of
gosync._testing (tens of thousands of real waiters would take as many
threads)."""

from __future__ import annotations

import pytest

import gosync
from gosync._testing import ffi, state_word


def test_rwmutex_readers_limit() -> None:
    rw = gosync.RWMutex()
    for _ in range(65535):
        assert rw.try_rlock()
    assert not rw.try_rlock()
    with pytest.raises(OverflowError, match=r"too many readers \(65535\)"):
        rw.rlock(timeout=1)
    assert rw._debug_state().readers == 65535
    for _ in range(65535):
        rw.runlock()
    assert rw.lock(timeout=1)
    rw.unlock()


def test_cond_waiters_limit() -> None:
    m = gosync.Mutex()
    c = gosync.Cond(m)
    w = state_word(c)
    w[0] = 16383 << 14  # g2_size = 16383 waiters
    with m:
        with pytest.raises(OverflowError, match=r"too many waiters \(16383\)"):
            c.wait(timeout=0)
        assert w[0] == 16383 << 14  # not counted
        assert m.locked()  # L is still held: wait never unlocked it
    w[0] = 0
    with m:
        assert c.wait(timeout=0) is False
    assert c._debug_state() == gosync.cond.CondState(0, 0)


def test_mutex_waiters_limit() -> None:
    # The semaphore counts 65535 first-time waiters: the next one cannot
    # queue. Its lock() fails, and the mutex counts it out again.
    m = gosync.Mutex()
    assert m.try_lock()
    sema = state_word(m, ffi.offsetof("gosync_mutex", "sema"))
    sema[0] = 0xFFFF << 32
    with pytest.raises(OverflowError, match=r"too many waiters \(65535\)"):
        m.lock(timeout=5)
    assert sema[0] == 0xFFFF << 32
    s = m._debug_state()
    assert (s.locked, s.waiters) == (True, 0)
    sema[0] = 0
    m.unlock()
    assert m.lock(timeout=1)
    m.unlock()
    assert m._debug_state() == gosync.mutex.MutexState(False, False, False, 0, 0, 0)
