"""Ctrl-C: a thread blocked in lock() gets KeyboardInterrupt promptly, and the
mutex stays consistent. Each case runs in a subprocess."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

CHILD = textwrap.dedent(
    """
    import os, signal, threading, time
    import gosync

    m = gosync.Mutex()
    held = threading.Event()
    release = threading.Event()

    def holder():
        m.lock()
        held.set()
        release.wait()
        m.unlock()

    h = threading.Thread(target=holder)
    h.start()
    held.wait()
    threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
    t0 = time.monotonic()
    try:
        m.lock({timeout})
        print("ACQUIRED")
    except KeyboardInterrupt:
        print("INTERRUPTED %.3f" % (time.monotonic() - t0))
    s = m._debug_state()
    print("STATE", s.locked, s.waiters, s.sema_tokens, s.sema_waiters)
    release.set()
    h.join()
    print("RELOCK", m.lock(timeout=5))
    m.unlock()
    s = m._debug_state()
    print("FINAL", s.locked, s.waiters, s.sema_tokens, s.sema_waiters)
    """
)


@pytest.mark.parametrize("timeout", ["", "timeout=30"])
def test_ctrl_c_interrupts_blocked_lock(timeout: str, tmp_path: Path) -> None:
    # cwd=tmp_path: `python -c` puts the working directory first on sys.path,
    # and the child must import the installed gosync, not the source tree.
    proc = subprocess.run(
        [sys.executable, "-c", CHILD.format(timeout=timeout)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    lines = proc.stdout.split("\n")
    assert proc.returncode == 0, proc.stderr
    assert lines[0].startswith("INTERRUPTED"), proc.stdout + proc.stderr
    waited = float(lines[0].split()[1])
    assert 0.2 < waited < 1.3, waited  # the signal comes at 0.3 s; under 1 s after it
    assert lines[1] == "STATE True 0 0 0"  # the holder still holds; nobody queued
    assert lines[2] == "RELOCK True"
    assert lines[3] == "FINAL False 0 0 0"


# Every other blocking call: the main thread blocks, SIGINT arrives at 0.3 s,
# KeyboardInterrupt must come promptly, and the primitive must be as before.
BLOCKING = {
    "rwmutex.lock": (
        "p = gosync.RWMutex(); p.rlock()",
        "p.lock()",
        "p._debug_state() == gosync.rwmutex.RWMutexState(1, False, 0, False)",
        "p.runlock(); assert p.lock(timeout=5); p.unlock()",
    ),
    "rwmutex.rlock": (
        "p = gosync.RWMutex(); p.lock()",
        "p.rlock()",
        "p._debug_state() == gosync.rwmutex.RWMutexState(0, True, 0, True)",
        "p.unlock(); assert p.rlock(timeout=5); p.runlock()",
    ),
    "waitgroup.wait": (
        "p = gosync.WaitGroup(); p.add(1)",
        "p.wait()",
        "p._debug_state() == gosync.waitgroup.WaitGroupState(1, 0)",
        "p.done(); assert p.wait(timeout=5)",
    ),
    "cond.wait": (
        "m = gosync.Mutex(); p = gosync.Cond(m); m.lock()",
        "p.wait()",
        # L is locked again, and the notify list is empty.
        "m.locked() and p._debug_state() == gosync.cond.CondState(0, 0)",
        "m.unlock(); p.signal()",
    ),
}

CHILD_OTHER = textwrap.dedent(
    """
    import os, signal, threading, time
    import gosync
    {setup}
    threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
    t0 = time.monotonic()
    try:
        {call}
        print("RETURNED")
    except KeyboardInterrupt:
        print("INTERRUPTED %.3f" % (time.monotonic() - t0))
    print("CONSISTENT", {check})
    {after}
    print("USABLE")
    """
)


@pytest.mark.parametrize("name", sorted(BLOCKING))
def test_ctrl_c_interrupts_every_blocking_call(name: str, tmp_path: Path) -> None:
    setup, call, check, after = BLOCKING[name]
    code = CHILD_OTHER.format(setup=setup, call=call, check=check, after=after)
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=30
    )
    lines = proc.stdout.split("\n")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert lines[0].startswith("INTERRUPTED"), proc.stdout + proc.stderr
    assert 0.2 < float(lines[0].split()[1]) < 1.3
    assert lines[1] == "CONSISTENT True"
    assert lines[2] == "USABLE"
