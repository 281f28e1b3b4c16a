"""gosync.profile: Go's rates, what the primitives' hooks record (which
primitive, which stack, how long), how primitives are named, and
python -m gosync profile, run as a user runs it.

The outputs' formats are tested in test_profile_output.py; the hot and
cold lock of examples/contention.py in test_profile_validation.py.
"""

from __future__ import annotations

import gzip
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Callable, Iterator, List

import pytest

import gosync
import gosync.profile as profile
import gosync.shared as shared
from gosync._profile import BLOCK, MUTEX, Stack, store
from gosync._profile._hooks import MAX_STACK, creation_label, dropped, on_event, short_path
from gosync._profile._store import StackRow
from gosync.semaphore import Weighted

pytestmark = pytest.mark.timeout(120)

HERE = short_path(__file__)


@pytest.fixture(autouse=True)
def profiles_off() -> Iterator[None]:
    """Every test starts and ends with both profiles off and empty."""
    profile.set_mutex_profile_fraction(0)
    profile.set_block_profile_rate(0)
    profile.reset()
    yield
    profile.set_mutex_profile_fraction(0)
    profile.set_block_profile_rate(0)
    profile.reset()


def functions(stack: Stack) -> List[str]:
    return [f.function.rpartition(".")[2] for f in stack]


def collapsed_frames(line: str) -> List[str]:
    """A line of collapsed stacks as its frames, root first, each as
    "function file" (lines left out: where a with statement's exit is
    reported varies with the Python version), and the primitive last."""
    frames = line.rsplit(" ", 1)[0].split(";")
    return [f.rsplit(":", 1)[0].replace(" (", " ") for f in frames[:-1]] + [frames[-1]]


def rows(kind: str, site: str) -> List[StackRow]:
    return [r for r in store.snapshot(kind).stacks if r.site == site]


# ---- the rates ------------------------------------------------------------------------


def test_rates_are_set_and_read_as_go_does() -> None:
    assert profile.set_mutex_profile_fraction(5) == 0
    assert profile.set_mutex_profile_fraction(-1) == 5  # a negative rate only reads
    assert profile.mutex_profile_fraction() == 5
    profile.set_block_profile_rate(1000)
    assert (profile.block_profile_rate(), profile.mutex_profile_fraction()) == (1000, 5)
    profile.set_block_profile_rate(-3)  # <= 0: off
    assert (profile.block_profile_rate(), profile.mutex_profile_fraction()) == (0, 5)
    assert profile.set_mutex_profile_fraction(0) == 5
    assert profile.mutex_profile_fraction() == 0
    profile.set_mutex_profile_fraction(2**70)  # clamped to int64, as a Go int holds it
    assert profile.mutex_profile_fraction() == 2**63 - 1


@pytest.mark.parametrize("bad", ["1", 1.0, None, True])
def test_a_rate_that_is_not_an_int_is_refused_and_changes_nothing(bad: object) -> None:
    profile.set_mutex_profile_fraction(7)
    profile.set_block_profile_rate(70)
    with pytest.raises(TypeError, match="must be an int"):
        profile.set_mutex_profile_fraction(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be an int"):
        profile.set_block_profile_rate(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be an int"):
        with profile.profiling(mutex_fraction=bad):  # type: ignore[arg-type]
            pass
    assert (profile.block_profile_rate(), profile.mutex_profile_fraction()) == (70, 7)


def test_profiling_restores_the_rates() -> None:
    profile.set_block_profile_rate(3)
    with profile.profiling(mutex_fraction=100, block_rate=10_000):
        assert (profile.block_profile_rate(), profile.mutex_profile_fraction()) == (10_000, 100)
    assert (profile.block_profile_rate(), profile.mutex_profile_fraction()) == (3, 0)


def test_the_readers_refuse_an_unknown_profile(tmp_path: Path) -> None:
    for call in (
        lambda: profile.table("lock"),
        lambda: profile.write_pprof(tmp_path / "x", "lock"),
        lambda: profile.write_collapsed(tmp_path / "x", "lock"),
    ):
        with pytest.raises(ValueError, match="unknown profile 'lock'"):
            call()
    assert not (tmp_path / "x").exists()


# ---- what a wait records ----------------------------------------------------------------


def holder(m: gosync.Mutex, ready: threading.Event, hold_s: float) -> None:
    with m:
        ready.set()
        time.sleep(hold_s)


def waiter(m: gosync.Mutex) -> None:
    with m:
        pass


def wait_behind_holder(m: gosync.Mutex, hold_s: float) -> None:
    """Locks m while another thread holds it for hold_s."""
    ready = threading.Event()
    t = threading.Thread(target=holder, args=(m, ready, hold_s))
    t.start()
    assert ready.wait(10)
    waiter(m)
    t.join()


def test_a_wait_on_a_mutex_is_charged_to_the_waiter_and_to_the_unlocker() -> None:
    profile.set_mutex_profile_fraction(1)
    profile.set_block_profile_rate(1)
    m = gosync.Mutex(name="gate")
    ready = threading.Event()
    t = threading.Thread(target=holder, args=(m, ready, 0.2))
    t.start()
    assert ready.wait(10)
    time0 = time.monotonic_ns()
    waiter(m)
    waited = time.monotonic_ns() - time0
    t.join()
    # Block profile: one wait, charged to the waiter's stack.
    (b,) = rows(BLOCK, "gate")
    assert b.contentions == 1
    assert 0.05e9 < b.total_ns <= waited
    assert functions(b.stack)[:2] == ["waiter", "test_a_wait_on_a_mutex_is_charged_to_the_waiter_and_to_the_unlocker"]
    assert b.stack[0].filename == HERE
    # Mutex profile: one unlock that had a waiter, charged to the holder.
    (u,) = rows(MUTEX, "gate")
    assert u.contentions == 1
    assert 0.05e9 < u.total_ns <= waited
    assert functions(u.stack)[0] == "holder"
    # No gosync frame in either stack.
    for r in (b, u):
        assert not [f for f in r.stack if "gosync" + os.sep in f.filename], r.stack


def test_nothing_is_recorded_while_the_profiles_are_off() -> None:
    m = gosync.Mutex(name="off")
    wait_behind_holder(m, 0.05)
    assert store.snapshot(BLOCK).sites == [] and store.snapshot(MUTEX).sites == []


def test_only_the_profile_that_is_on_records() -> None:
    profile.set_block_profile_rate(1)
    m = gosync.Mutex(name="block only")
    wait_behind_holder(m, 0.05)
    assert len(rows(BLOCK, "block only")) == 1 and rows(MUTEX, "block only") == []


# ---- every primitive that can block --------------------------------------------------------

# name -> a function that makes the primitive, named "p", and returns
# (wait, release, after): wait blocks until release is called from another
# thread; after undoes what is left (a lock held). A lock's release is an
# unlock with a waiter, which the mutex profile charges to it.
Case = Callable[[], "tuple[Callable[[], object], Callable[[], object], Callable[[], object]]"]


def _cond_case(c: "gosync.Cond") -> "tuple[Callable[[], object], Callable[[], object], Callable[[], object]]":
    def wait() -> None:
        with c.L:
            c.wait()

    def release() -> None:
        with c.L:
            c.signal()

    return wait, release, lambda: None


def _held(lock: object, take: str, wait: str, release: str, after: str) -> Case:
    def make() -> "tuple[Callable[[], object], Callable[[], object], Callable[[], object]]":
        getattr(lock, take)()
        return getattr(lock, wait), getattr(lock, release), getattr(lock, after)

    return make


def _chan_case(ch: gosync.Chan, how: str) -> Case:
    other = gosync.Chan(1)
    cases = {
        "recv": (ch.recv, lambda: ch.send(1)),
        "send": (lambda: ch.send(1), ch.recv),
        "select": (lambda: gosync.select(ch.recv, other.recv), lambda: ch.send(1)),
    }
    wait, release = cases[how]
    return lambda: (wait, release, lambda: None)


def _wait_group(wg: gosync.WaitGroup) -> Case:
    def make() -> "tuple[Callable[[], object], Callable[[], object], Callable[[], object]]":
        wg.add(1)
        return wg.wait, wg.done, lambda: None

    return make


R, NO = "released_here", None
BLOCKING: "dict[str, tuple[Callable[[], Case], str | None]]" = {
    # name: (a maker of the case, the function in whose stack the mutex
    # profile has the unlock, or None for a primitive it does not cover)
    "Mutex": (lambda: _held(gosync.Mutex(name="p"), "lock", "lock", "unlock", "unlock"), R),
    "RWMutex.lock": (lambda: _held(gosync.RWMutex(name="p"), "rlock", "lock", "runlock", "unlock"), R),
    "RWMutex.rlock": (lambda: _held(gosync.RWMutex(name="p"), "lock", "rlock", "unlock", "runlock"), R),
    "Cond.wait": (lambda: lambda: _cond_case(gosync.Cond(gosync.Mutex(), name="p")), NO),
    "WaitGroup.wait": (lambda: _wait_group(gosync.WaitGroup(name="p")), NO),
    "Chan.recv": (lambda: _chan_case(gosync.Chan(name="p"), "recv"), NO),
    "Chan.send": (lambda: _chan_case(gosync.Chan(name="p"), "send"), NO),
    "Weighted.acquire": (lambda: _held(Weighted(1, name="p"), "acquire", "acquire", "release", "release"), R),
    # The Once's lock is held by the thread that runs fn, which unlocks it.
    "Once.do": (lambda: _once_case(gosync.Once(name="p")), "run"),
    "shared.Mutex": (lambda: _held(shared.Mutex(name="p"), "lock", "lock", "unlock", "unlock"), R),
    "shared.RWMutex.lock": (lambda: _held(shared.RWMutex(name="p"), "rlock", "lock", "runlock", "unlock"), R),
    "shared.RWMutex.rlock": (lambda: _held(shared.RWMutex(name="p"), "lock", "rlock", "unlock", "runlock"), R),
    "shared.Cond.wait": (lambda: lambda: _cond_case(shared.Cond(name="p")), NO),
    "shared.WaitGroup.wait": (lambda: _wait_group(shared.WaitGroup(name="p")), NO),
    "shared.Chan.recv": (lambda: _shared_chan_case(shared.Chan(name="p"), "recv"), NO),
    "shared.Chan.send": (lambda: _shared_chan_case(shared.Chan(name="p"), "send"), NO),
}


def _once_case(once: gosync.Once) -> Case:
    # One thread runs fn, which waits for release; do() in another waits
    # for fn on the Once's lock.
    gate = threading.Event()
    started = threading.Event()

    def fn() -> None:
        started.set()
        gate.wait(30)

    def make() -> "tuple[Callable[[], object], Callable[[], object], Callable[[], object]]":
        t = threading.Thread(target=once.do, args=(fn,))
        t.start()
        started.wait(30)
        return lambda: once.do(fn), gate.set, t.join

    return make


def _shared_chan_case(ch: shared.Chan, how: str) -> Case:
    if how == "recv":
        return lambda: (ch.recv, lambda: ch.send(1), lambda: None)
    return lambda: (lambda: ch.send(1), ch.recv, lambda: None)


def blocked_here(wait: Callable[[], object]) -> None:
    wait()


def released_here(release: Callable[[], object]) -> None:
    release()


@pytest.mark.parametrize("name", list(BLOCKING))
def test_every_primitive_that_can_block_records_its_waits(name: str) -> None:
    make_case, unlocker = BLOCKING[name]
    profile.set_mutex_profile_fraction(1)
    profile.set_block_profile_rate(1)
    # The releaser waits 0.2 s before releasing: long enough for the waiter
    # to park on a loaded machine, which a retry covers if not.
    for _attempt in range(3):
        profile.reset()
        wait, release, after = make_case()()
        t = threading.Thread(target=lambda r: (time.sleep(0.2), released_here(r)), args=(release,))
        t.start()
        blocked_here(wait)
        t.join()
        after()
        if rows(BLOCK, "p"):
            break
    waits = [r for r in rows(BLOCK, "p") if "blocked_here" in functions(r.stack)]
    assert waits, store.snapshot(BLOCK)
    assert sum(r.total_ns for r in waits) > 0.05e9
    unlocks = [r for r in rows(MUTEX, "p") if unlocker in functions(r.stack)]
    if unlocker is not None:
        assert unlocks and sum(r.total_ns for r in unlocks) > 0.05e9, store.snapshot(MUTEX)
    else:
        assert rows(MUTEX, "p") == []


def test_a_select_of_several_channels_is_named_select() -> None:
    profile.set_block_profile_rate(1)
    a, b = gosync.Chan(name="a"), gosync.Chan(name="b")
    t = threading.Thread(target=lambda: (time.sleep(0.2), b.send(1)))
    t.start()
    blocked_here(lambda: gosync.select(a.recv, b.recv))
    t.join()
    assert [r.site for r in store.snapshot(BLOCK).sites] == ["select"]


# ---- naming ------------------------------------------------------------------------------


def test_a_primitive_is_named_by_name_or_where_it_was_created() -> None:
    assert gosync.Mutex(name="db")._profile_label == "db"  # type: ignore[attr-defined]
    assert gosync.Mutex()._profile_label is None  # type: ignore[attr-defined]  # profiles off
    profile.set_block_profile_rate(1)
    line = sys._getframe().f_lineno + 1
    m, rw, wg = gosync.Mutex(), gosync.RWMutex(), gosync.WaitGroup()
    assert m._profile_label == f"Mutex {HERE}:{line}"  # type: ignore[attr-defined]
    assert rw._profile_label == f"RWMutex {HERE}:{line}"  # type: ignore[attr-defined]
    assert wg._profile_label == f"WaitGroup {HERE}:{line}"  # type: ignore[attr-defined]
    assert gosync.Mutex(name="db")._profile_label == "db"  # type: ignore[attr-defined]


def test_a_primitive_made_inside_gosync_is_named_after_the_users() -> None:
    profile.set_block_profile_rate(1)
    line = sys._getframe().f_lineno + 1
    once = gosync.Once()
    assert once._m._profile_label == f"Once {HERE}:{line}"  # type: ignore[attr-defined]


def test_shared_primitives_are_named_as_the_others() -> None:
    assert shared.Mutex(name="db")._profile_label == "db"
    assert shared.Mutex()._profile_label is None  # profiles off
    for make in (shared.Mutex, shared.Chan, shared.Once, shared.WaitGroup):
        with pytest.raises(TypeError, match=f"{make.__name__} name must be a str, not int"):
            make(name=1)  # type: ignore[call-overload]
    ch = shared.Chan(name="jobs")
    assert ch._m._profile_label == ch._cond._profile_label == "jobs"
    profile.set_block_profile_rate(1)
    line = sys._getframe().f_lineno + 1
    m, ch, c, once = shared.Mutex(), shared.Chan(), shared.Cond(), shared.Once()
    assert m._profile_label == f"Mutex {HERE}:{line}"
    # The primitives made for one are named after it.
    assert ch._m._profile_label == ch._cond._profile_label == f"Chan {HERE}:{line}"
    assert c._profile_label == c.L._profile_label == f"Cond {HERE}:{line}"  # type: ignore[attr-defined]
    assert once._m._profile_label == f"Once {HERE}:{line}"  # type: ignore[attr-defined]
    arena = m.arena
    line = sys._getframe().f_lineno + 1
    assert arena.WaitGroup()._profile_label == f"WaitGroup {HERE}:{line}"
    key = f"profiled {os.getpid()} {time.monotonic_ns()}"
    line = sys._getframe().f_lineno + 1
    assert arena.get(key, shared.Mutex)._profile_label == f"Mutex {HERE}:{line}"
    assert arena.Chan(name="c")._cond._profile_label == "c"


def test_an_unnamed_primitive_made_while_the_profiles_were_off_is_named_by_type_and_address() -> None:
    m = gosync.Mutex()
    profile.set_block_profile_rate(1)
    wait_behind_holder(m, 0.1)
    assert [r.site for r in store.snapshot(BLOCK).sites] == [f"Mutex at {id(m):#x}"]


# ---- the hooks, called as the C calls them ---------------------------------------------------


class Owner:
    _profile_label = "owner"


def recurse(depth: int, at_bottom: Callable[[], None]) -> None:
    if depth == 0:
        at_bottom()
    else:
        recurse(depth - 1, at_bottom)


def test_a_stack_is_cut_at_max_stack_frames_leaf_first() -> None:
    recurse(MAX_STACK + 10, lambda: on_event(1, Owner(), 100, 1.0))
    (r,) = rows(MUTEX, "owner")
    assert len(r.stack) == MAX_STACK
    assert functions(r.stack) == ["<lambda>"] + ["recurse"] * (MAX_STACK - 1)


def test_gosync_frames_are_left_out_of_a_stack() -> None:
    def fn() -> None:
        on_event(0, Owner(), 100, 1.0)

    gosync.Once().do(fn)  # fn runs inside Once.do, in gosync/once.py
    (r,) = rows(BLOCK, "owner")
    assert functions(r.stack)[:3] == ["fn", "test_gosync_frames_are_left_out_of_a_stack", "pytest_pyfunc_call"]


def test_on_event_names_the_owner() -> None:
    class Unnamed:
        _profile_label = None

    u = Unnamed()
    on_event(0, u, 5, 1.0)
    on_event(0, None, 7, 2.0)
    assert {(r.site, r.contentions, r.total_ns) for r in store.snapshot(BLOCK).sites} == {
        (f"Unnamed at {id(u):#x}", 1, 5),
        ("select", 2, 14),
    }


def test_on_event_never_raises_and_counts_what_it_drops() -> None:
    class Raising:
        @property
        def _profile_label(self) -> str:
            raise RuntimeError("boom")

    before = dropped()
    on_event(2, Owner(), 1, 1.0)  # no such profile
    on_event(0, Owner(), -1, 1.0)  # a negative delay
    on_event(0, Owner(), 1, 0.0)  # a weight that is not positive
    on_event(0, Raising(), 1, 1.0)
    assert dropped() - before == 4
    assert store.snapshot(BLOCK).sites == [] and store.snapshot(MUTEX).sites == []


def test_creation_label_names_the_first_frame_outside_gosync() -> None:
    line = sys._getframe().f_lineno + 1
    assert creation_label(gosync.Mutex) == f"Mutex {HERE}:{line}"


# ---- python -m gosync profile --------------------------------------------------------------


def run_cli(tmp_path: Path, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "app.py").write_text(textwrap.dedent(script))
    return subprocess.run(
        [sys.executable, "-m", "gosync", "profile", *args, "-o", "prof", "--", "app.py", "one", "--two"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=100,
    )


CONTENDED_SCRIPT = """\
    import sys, threading, time
    import gosync

    assert sys.argv == ["app.py", "one", "--two"], sys.argv
    m = gosync.Mutex()

    def hold():
        with m:
            ready.set()
            time.sleep(0.1)

    def wait_for_it():
        with m:
            pass

    ready = threading.Event()
    t = threading.Thread(target=hold)
    t.start()
    ready.wait()
    wait_for_it()
    t.join()
"""


def test_profile_command_runs_the_script_and_writes_all_outputs(tmp_path: Path) -> None:
    proc = run_cli(tmp_path, CONTENDED_SCRIPT + "    sys.exit(3)\n")
    assert proc.returncode == 3, proc.stderr
    out = tmp_path / "prof"
    assert sorted(p.name for p in out.iterdir()) == [
        "block.collapsed",
        "block.pb.gz",
        "mutex.collapsed",
        "mutex.pb.gz",
        "table.txt",
    ]
    # m was made while the profiles were on: named by its line in app.py.
    site = "Mutex app.py:5"
    table = (out / "table.txt").read_text()
    assert table in proc.stderr
    mutex_table, block_table = table.split("\n\n")
    assert mutex_table.splitlines()[2].split()[:3] == ["Mutex", "app.py:5", "1"], table
    assert block_table.splitlines()[2].split()[:3] == ["Mutex", "app.py:5", "1"], table
    # The stacks start at the script: no runpy, no gosync frame.
    (mutex_line,) = (out / "mutex.collapsed").read_text().splitlines()
    assert collapsed_frames(mutex_line)[-2:] == ["hold app.py", f"[{site}]"], mutex_line
    assert "threading" in mutex_line and "runpy" not in mutex_line and "gosync" not in mutex_line
    (block_line,) = (out / "block.collapsed").read_text().splitlines()
    assert collapsed_frames(block_line) == ["<module> app.py", "wait_for_it app.py", f"[{site}]"], block_line
    for kind in ("mutex", "block"):
        assert gzip.decompress((out / f"{kind}.pb.gz").read_bytes())
    if shutil.which("go") is not None:
        top = subprocess.run(
            ["go", "tool", "pprof", "-top", str(out / "block.pb.gz")], capture_output=True, text=True, timeout=100
        )
        assert top.returncode == 0 and f"[{site}]" in top.stdout and "wait_for_it" in top.stdout, top.stderr


def test_profile_command_writes_the_profiles_when_the_script_raises(tmp_path: Path) -> None:
    proc = run_cli(tmp_path, CONTENDED_SCRIPT + "    raise ValueError('late')\n")
    assert proc.returncode == 1
    # The traceback starts at the script, as `python app.py` prints it.
    assert proc.stderr.startswith('Traceback (most recent call last):\n  File "app.py", line 22'), proc.stderr
    assert "ValueError: late" in proc.stderr
    assert "Mutex app.py:5" in (tmp_path / "prof" / "table.txt").read_text()


def test_profile_command_waits_for_the_scripts_threads(tmp_path: Path) -> None:
    # The main module ends while a thread still waits: what it waits for
    # is in the profile, as it is in the run.
    script = """\
        import threading, time
        import gosync

        wg = gosync.WaitGroup(name="late")
        wg.add(1)

        def late_waiter():
            wg.wait()

        def late_done():
            time.sleep(0.2)
            wg.done()

        threading.Thread(target=late_waiter).start()
        threading.Thread(target=late_done).start()
    """
    proc = run_cli(tmp_path, script, "--mutex-fraction", "0")
    assert proc.returncode == 0, proc.stderr
    (line,) = (tmp_path / "prof" / "block.collapsed").read_text().splitlines()
    assert line.rsplit(" ", 1)[0].endswith("late_waiter (app.py:8);[late]"), line
    assert (tmp_path / "prof" / "mutex.collapsed").read_text() == ""


@pytest.mark.parametrize(
    "args, message",
    [
        (["--mutex-fraction", "-1", "--", "app.py"], "is negative"),
        (["--block-rate", "x", "--", "app.py"], "is not an integer"),
        (["--", "no_such.py"], "no such script"),
        ([], "the following arguments are required: script"),
    ],
)
def test_profile_command_usage_errors(tmp_path: Path, args: List[str], message: str) -> None:
    (tmp_path / "app.py").write_text("")
    proc = subprocess.run(
        [sys.executable, "-m", "gosync", "profile", *args], cwd=tmp_path, capture_output=True, text=True, timeout=100
    )
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert not (tmp_path / "gosync-profile").exists()


@pytest.mark.parametrize("before", [["--"], ["-o", "prof", "--"], ["--out=prof"], ["--lim", "3"]])
def test_profile_command_passes_the_scripts_arguments_verbatim(tmp_path: Path, before: List[str]) -> None:
    # Everything after the script is the script's, "--" and options of this
    # command's names too, as `python app.py args...` passes them.
    (tmp_path / "app.py").write_text("import sys\nprint(sys.argv)\n")
    script_args = ["--", "-o", "x", "--limit", "--"]
    proc = subprocess.run(
        [sys.executable, "-m", "gosync", "profile", *before, "app.py", *script_args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == repr(["app.py", *script_args]) + "\n"


def test_profile_command_writes_the_profiles_when_the_script_calls_os_exit(tmp_path: Path) -> None:
    # os._exit skips finally and atexit; the profile is written anyway, from
    # the thread that called it, and the status is the one it was given.
    proc = run_cli(tmp_path, CONTENDED_SCRIPT + "    import os\n    os._exit(4)\n")
    assert proc.returncode == 4, proc.stderr
    assert "Mutex app.py:5" in (tmp_path / "prof" / "table.txt").read_text()


@pytest.mark.timeout(60)
def test_profile_command_writes_the_profiles_on_ctrl_c_while_waiting_for_threads(tmp_path: Path) -> None:
    # A server's worker threads never end; its user stops it with Ctrl-C.
    # The interrupt lands while the command waits for those threads: the
    # profile is written all the same.
    (tmp_path / "app.py").write_text(
        textwrap.dedent(
            """\
            import threading, time

            def serve():
                while True:
                    time.sleep(0.05)

            threading.Thread(target=serve).start()
            print("ready", flush=True)
            """
        )
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "gosync", "profile", "-o", "prof", "--", "app.py"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        table = tmp_path / "prof" / "table.txt"
        for _ in range(2):  # a second Ctrl-C, if the first came before the script ended
            time.sleep(0.5)
            proc.send_signal(signal.SIGINT)
            deadline = time.monotonic() + 10
            while not table.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            if table.exists():
                break
        assert table.exists(), "no profile written after Ctrl-C"
    finally:
        proc.kill()
        proc.wait(10)
