"""Where one `with m: counter += 1` of the shared_lock_2proc scenario spends
its CPU, in one process: gosync.shared.Mutex against multiprocessing.Lock.

    python benchmarks/shared_lock_cost.py [--rounds N] [--ops N]

Prints the CPU time (time.thread_time, so that other jobs on the machine
cost it little) per operation, median and range over interleaved rounds, of:

  bare       `board.counter += 1` alone: the critical section on a ctypes
             field in shared memory, as in gosync/_bench/shared.py;
  with       the same inside `with lock:`;
  calls      `enter(); exit(None, None, None)` with the bound methods taken
             once: the lock's own calls, without the `with` statement.

With two processes on a machine whose CPUs other jobs keep busy, the two
processes mostly take turns, and the throughput ratio of the contended
benchmark comes close to the ratio of the `with` rows here: a lock that
cost nothing would still pay `bare` and the `with` statement's own cost.
"""

from __future__ import annotations

import argparse
import ctypes
import mmap
import multiprocessing
import statistics
import time
from itertools import repeat
from typing import Any, Callable, Dict, List, Tuple


class _Board(ctypes.Structure):
    _fields_ = [("counter", ctypes.c_int64)]


def _bare(board: Any, lock: Any, n: int) -> float:
    t0 = time.thread_time()
    for _ in repeat(None, n):
        board.counter += 1
    return time.thread_time() - t0


def _with(board: Any, lock: Any, n: int) -> float:
    t0 = time.thread_time()
    for _ in repeat(None, n):
        with lock:
            board.counter += 1
    return time.thread_time() - t0


def _calls(board: Any, lock: Any, n: int) -> float:
    enter, exit_ = lock.__enter__, lock.__exit__
    t0 = time.thread_time()
    for _ in repeat(None, n):
        enter()
        exit_(None, None, None)
    return time.thread_time() - t0


def main() -> None:
    import gosync.shared as shared

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--ops", type=int, default=400_000)
    args = parser.parse_args()

    board = _Board.from_buffer(mmap.mmap(-1, ctypes.sizeof(_Board)))
    locks: Dict[str, Any] = {
        "gosync.shared.Mutex": shared.Mutex(),
        "multiprocessing.Lock": multiprocessing.get_context("fork").Lock(),
    }
    cases: Dict[str, Tuple[Callable[[Any, Any, int], float], Any]] = {"bare": (_bare, None)}
    for name, lock in locks.items():
        cases[f"with   {name}"] = (_with, lock)
        cases[f"calls  {name}"] = (_calls, lock)
    ns: Dict[str, List[float]] = {case: [] for case in cases}
    for _ in range(args.rounds):
        for case, (run, lock) in cases.items():
            ns[case].append(run(board, lock, args.ops) / args.ops * 1e9)

    print(f"CPU ns per operation, median (range) of {args.rounds} interleaved rounds of {args.ops}:")
    for case, values in ns.items():
        print(f"  {case:<29} {statistics.median(values):6.0f}  ({min(values):.0f}-{max(values):.0f})")
    shared_with = statistics.median(ns["with   gosync.shared.Mutex"])
    mp_with = statistics.median(ns["with   multiprocessing.Lock"])
    print(f"with: multiprocessing.Lock / gosync.shared.Mutex = {mp_with / shared_with:.2f}x")


if __name__ == "__main__":
    main()
