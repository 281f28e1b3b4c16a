"""python -m gosync race: the classic lost-update experiment, on this machine.

N threads each add one to a shared counter K times, in four ways: a plain
C int incremented with the GIL released, each thread pinned to one of the
usable CPUs in turn (so the threads really run in parallel), gosync.atomic.Int64.add, a Python int guarded by
a gosync.Mutex, and an unguarded Python ``x += 1`` under a one-microsecond
switch interval. It prints how many increments each way expected and how
many it observed.

The two unsynchronised ways may lose nothing, and the report says so when
they do: on one CPU the C threads take turns, and CPython 3.10 and newer
switch threads only at calls and backward jumps, never inside ``x += 1``.
The exit status is 1 if a synchronised way lost an update or a thread did
not finish before the deadline, 2 for a usage error, and 0 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import sys
import textwrap
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from . import _gosync
from ._cli import cpu_counts, positive_int
from ._native import ffi, lib
from ._timeout import deadline_ns
from .atomic import Int64
from .mutex import Mutex
from .waitgroup import WaitGroup

# The defaults: the seeds' 1000 threads, each incrementing 1000 times. With
# one increment each, the C int lost nothing in most runs on 2 CPUs; with
# 1000 and the threads spread over the CPUs (_c_int), it lost updates in
# 20 runs of 20 there, in 3 to 10 s a run.
DEFAULT_THREADS = 1000
DEFAULT_ITERATIONS = 1000
# A WaitGroup counts at most 65535 waiters, and each thread is a real OS
# thread with its own stack.
MAX_THREADS = 10_000
# The C counter is an int: the total must not overflow it.
MAX_TOTAL = 2**31 - 1
# The time a variant gets, from its first thread's start to its last join:
# a minute, plus ten microseconds an increment. 1000 threads that want the
# GIL hand it over at almost every increment: 2 to 6 us each on the
# project's 2-core VM, pinned to one CPU or not, under load.
DEADLINE_S = 60.0
DEADLINE_S_PER_INCREMENT = 10e-6

# Work run by each thread, given the start gate and the absolute deadline
# (gosync_now_ns clock); and the counter's final value.
Work = Callable[[WaitGroup, int], None]
Read = Callable[[], int]


@dataclass
class Result:
    """Result is what one variant counted, in a form json can write."""

    name: str
    synchronised: bool
    threads: int
    iterations: int
    observed: int
    seconds: float  # from the gate's opening to the last thread's end
    unfinished: int = 0  # threads that raised or missed the deadline
    error: str = ""  # the first exception a thread raised

    @property
    def expected(self) -> int:
        return self.threads * self.iterations

    @property
    def lost(self) -> int:
        return self.expected - self.observed

    def problem(self) -> Optional[str]:
        """problem describes what makes this result a failure of the run, or
        returns None: a thread that did not finish, or a synchronised
        variant that miscounted. An unsynchronised variant may lose updates."""
        if self.unfinished:
            limit = deadline_s(self.threads, self.iterations)
            why = f": {self.error}" if self.error else f" within {limit:g} s"
            return f"{self.name}: {self.unfinished} of {self.threads} threads did not finish{why}"
        if self.synchronised and self.observed != self.expected:
            return f"{self.name} counted {self.observed}, not {self.expected}"
        return None

    def as_json(self) -> Dict[str, Any]:
        return {**asdict(self), "expected": self.expected, "lost": self.lost}


def deadline_s(threads: int, iterations: int) -> float:
    """deadline_s is the time a variant gets to start and finish its threads."""
    return DEADLINE_S + DEADLINE_S_PER_INCREMENT * threads * iterations


def _gate_timeout() -> TimeoutError:
    return TimeoutError("the start gate did not open before the deadline")


def _pass(gate: WaitGroup, deadline: int) -> None:
    if not gate._wait_until(deadline):
        raise _gate_timeout()


def _c_int(iterations: int) -> Tuple[Work, Read]:
    counter = ffi.new("int *")
    # Each thread is pinned to one of the usable CPUs in turn. Left to
    # itself, Linux wakes the threads released by the gate on the CPU of the
    # thread that opened it, and they run there one after another for
    # milliseconds before some move: most runs of 1000 short threads on 2
    # CPUs then lost nothing. Spread, they increment in parallel from the
    # start, as goroutines do.
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_setaffinity") else []
    turn = itertools.count()

    def work(gate: WaitGroup, deadline: int) -> None:
        if len(cpus) > 1:
            os.sched_setaffinity(0, {cpus[next(turn) % len(cpus)]})  # 0: this thread
        # The gate is waited for in C, so no thread needs the GIL between
        # the gate's opening and its last increment.
        address = int(ffi.cast("uintptr_t", counter))
        rc = _gosync._race_add_unsafe(address, iterations, gate, deadline)
        if rc == lib.GOSYNC_TIMEDOUT:
            raise _gate_timeout()
        if rc != lib.GOSYNC_OK:
            raise RuntimeError(f"_race_add_unsafe: status {rc}")

    return work, lambda: int(counter[0])


def _atomic(iterations: int) -> Tuple[Work, Read]:
    counter = Int64()

    def work(gate: WaitGroup, deadline: int) -> None:
        _pass(gate, deadline)
        for _ in range(iterations):
            counter.add(1)

    return work, counter.load


def _mutex(iterations: int) -> Tuple[Work, Read]:
    mu = Mutex()
    total = 0

    def work(gate: WaitGroup, deadline: int) -> None:
        nonlocal total
        _pass(gate, deadline)
        for _ in range(iterations):
            with mu:
                total += 1

    return work, lambda: total


def _python(iterations: int) -> Tuple[Work, Read]:
    total = 0

    def work(gate: WaitGroup, deadline: int) -> None:
        nonlocal total
        _pass(gate, deadline)
        for _ in range(iterations):
            total += 1

    return work, lambda: total


def _c_int_luck(usable_cpus: int) -> str:
    if usable_cpus == 1:
        return (
            "with one CPU the threads ran one at a time, and none happened to be"
            " preempted between its load and its store"
        )
    return "no two threads happened to increment at the same moment; more --iterations make it likely"


def _python_luck(usable_cpus: int) -> str:
    if sys.version_info >= (3, 10) and getattr(sys, "_is_gil_enabled", lambda: True)():
        return (
            f"CPython {sys.version_info[0]}.{sys.version_info[1]} switches threads only at calls"
            " and backward jumps, never inside x += 1; older versions and free-threaded builds do"
        )
    return "no thread switch happened to fall inside an x += 1"


@dataclass(frozen=True)
class Variant:
    """A Variant is one way to increment: prepare(iterations) makes a fresh
    counter and the work of one thread. An unsynchronised variant has luck:
    why, given the usable CPUs, it may lose nothing in a run."""

    name: str
    prepare: Callable[[int], Tuple[Work, Read]]
    luck: Optional[Callable[[int], str]] = None
    switch_interval: Optional[float] = None

    @property
    def synchronised(self) -> bool:
        return self.luck is None


VARIANTS = (
    Variant("C int, no GIL", _c_int, luck=_c_int_luck),
    Variant("atomic.Int64.add", _atomic),
    Variant("Mutex, Python int", _mutex),
    Variant("Python x += 1", _python, luck=_python_luck, switch_interval=1e-6),
)


def run_variant(variant: Variant, threads: int, iterations: int) -> Result:
    """run_variant runs one variant in `threads` threads and returns what it
    counted.

    The threads wait at a start gate, with the GIL released, until all of
    them are there, so that thread start-up does not run them one after
    another. A thread that raises, or does not finish within deadline_s, is
    counted in Result.unfinished; nothing waits longer than that, and such a
    thread may still be running when it returns. The switch interval is
    restored before it returns.
    """
    work, read = variant.prepare(iterations)
    gate = WaitGroup()
    gate.add(1)
    deadline = deadline_ns(deadline_s(threads, iterations))
    finished: List[None] = []
    errors: List[BaseException] = []

    def body() -> None:
        try:
            work(gate, deadline)
            finished.append(None)
        except BaseException as e:  # reported in the result, not on stderr
            errors.append(e)

    old_interval = sys.getswitchinterval()
    if variant.switch_interval is not None:
        sys.setswitchinterval(variant.switch_interval)
    started: List[threading.Thread] = []
    try:
        try:
            for _ in range(threads):
                t = threading.Thread(target=body, daemon=True)
                t.start()
                started.append(t)
            while gate._debug_state().waiters < threads and not errors:
                if lib.gosync_now_ns() >= deadline:
                    break
                time.sleep(0.001)
        except RuntimeError as e:  # can't start new thread
            errors.append(e)
        finally:
            # Timed from before the opening: the threads it wakes may keep
            # this one from the GIL until most of their work is done.
            t0 = time.perf_counter()
            gate.done()  # opened even on failure, so that no thread waits for ever
        for t in started:
            t.join(max(0.0, (deadline - lib.gosync_now_ns()) / 1e9))
        seconds = time.perf_counter() - t0
    finally:
        sys.setswitchinterval(old_interval)
    return Result(
        name=variant.name,
        synchronised=variant.synchronised,
        threads=threads,
        iterations=iterations,
        observed=read(),
        seconds=round(seconds, 6),
        unfinished=threads - len(finished),
        error=repr(errors[0]) if errors else "",
    )


def run(threads: int, iterations: int) -> List[Result]:
    """run runs the variants one after another and returns their results.
    It stops after a variant whose threads did not all finish: those still
    running would compete with the next variant's and spoil its count."""
    results: List[Result] = []
    for variant in VARIANTS:
        results.append(run_variant(variant, threads, iterations))
        if results[-1].unfinished:
            break
    return results


def exit_status(results: Sequence[Result]) -> int:
    """exit_status is 1 if any result has a problem (a synchronised variant
    miscounted, or a thread did not finish), and 0 otherwise."""
    return 1 if any(r.problem() for r in results) else 0


def _fill(sentence: str) -> str:
    return textwrap.fill(sentence, width=79, break_on_hyphens=False)


def report(results: Sequence[Result], usable_cpus: int, cpu_count: Optional[int]) -> str:
    """report renders the results as the table, the CPU line, one sentence
    per unsynchronised variant that lost nothing, and the verdict."""
    first = results[0]
    lines = [
        f"{first.threads} threads x {first.iterations} increment{'s' if first.iterations > 1 else ''} each,"
        f" CPython {sys.version.split()[0]}",
        "",
    ]
    rows = [("variant", "expected", "observed", "lost")]
    # While threads still run, what the count lacks is not lost yet.
    rows += [
        (r.name, str(r.expected), str(r.observed), "-" if r.unfinished else str(r.lost)) for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        lines.append("  ".join(cells))
    lines += [
        "",
        f"CPUs: {usable_cpus} usable (os.sched_getaffinity), {cpu_count} installed (os.cpu_count)",
    ]
    for r, v in zip(results, VARIANTS):
        if v.luck is not None and r.lost == 0 and not r.unfinished:
            why = v.luck(usable_cpus)
            lines.append(_fill(f"{r.name} lost nothing this run, which does not make it safe: {why}."))
    problems = [p for p in (r.problem() for r in results) if p]
    if len(results) < len(VARIANTS):
        problems.append("not run: " + ", ".join(v.name for v in VARIANTS[len(results):]))
    if problems:
        lines.append(_fill("verdict: FAILED: " + "; ".join(problems)))
    else:
        lines.append("verdict: OK: the synchronised variants lost no update")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m gosync race",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Lost updates with and without synchronisation. N threads each increment a\n"
        "shared counter K times: as a plain C int with the GIL released, with\n"
        "gosync.atomic.Int64.add, under a gosync.Mutex, and as an unguarded x += 1.",
        epilog="Exit status: 0; 1 if a synchronised variant lost an update or a thread did\n"
        "not finish; 2 for a usage error.",
    )
    p.add_argument(
        "--threads", type=positive_int, default=DEFAULT_THREADS, metavar="N",
        help=f"threads per variant (default {DEFAULT_THREADS}, at most {MAX_THREADS})",
    )
    p.add_argument(
        "--iterations", type=positive_int, default=DEFAULT_ITERATIONS, metavar="K",
        help=f"increments per thread (default {DEFAULT_ITERATIONS})",
    )
    p.add_argument(
        "--json", metavar="FILE",
        help="write all raw results as JSON to FILE ('-': to stdout, and the table to stderr)",
    )
    return p


def main(argv: List[str]) -> int:
    """main runs `python -m gosync race` with the arguments argv and returns
    the exit status; a usage error exits with 2 through argparse."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.threads > MAX_THREADS:
        parser.error(f"argument --threads: at most {MAX_THREADS}")
    if args.threads * args.iterations > MAX_TOTAL:
        parser.error(f"--threads times --iterations must not exceed {MAX_TOTAL} (the C counter is an int)")
    with contextlib.ExitStack() as stack:
        out = sys.stdout
        if args.json not in (None, "-"):
            try:  # before the run, so that a bad path costs no time
                out = stack.enter_context(open(args.json, "w"))
            except OSError as e:
                parser.error(f"argument --json: {e}")
        results = run(args.threads, args.iterations)
        usable, installed = cpu_counts()
        status = exit_status(results)
        text = report(results, usable, installed)
        print(text, file=sys.stderr if args.json == "-" else sys.stdout)
        if args.json is not None:
            raw = {
                "python": sys.version,
                "threads": args.threads,
                "iterations": args.iterations,
                "cpus_usable": usable,
                "cpu_count": installed,
                "results": [r.as_json() for r in results],
                "exit_status": status,
            }
            out.write(json.dumps(raw, indent=2) + "\n")
    return status
