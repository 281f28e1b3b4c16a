"""Find the hot lock: one lock that makes threads wait, one that hardly does.

    python examples/contention.py [--seconds 2] [--workers 4] [--mutex-fraction 100] [--out DIR]

Each worker moves money between accounts under one lock, `accounts`,
sleeping a little inside it (as a program does I/O under a lock), and
every 20th transfer also appends to an audit log under a second lock,
`audit_log`. The accounts lock is the hot one: workers queue on it.

The program turns gosync's mutex profile on, sampling 1 unlock in
--mutex-fraction (100: 1%), and the block profile (one event per 10µs
blocked), runs the workers for --seconds, and prints both profiles' tables.
The mutex profile charges the waiting to the function that held the lock
and unlocked it, transfer; the block profile to the functions that waited.
With --out DIR it also writes DIR/mutex.pb.gz and DIR/block.pb.gz (for
go tool pprof) and DIR/mutex.collapsed and DIR/block.collapsed (for flame
graphs).
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from typing import List

import gosync
import gosync.profile

# Every 20th transfer also writes the audit log.
AUDIT_EVERY = 20


class Bank:
    def __init__(self) -> None:
        self.accounts_lock = gosync.Mutex(name="accounts")
        self.audit_lock = gosync.Mutex(name="audit_log")
        self.balances = [100] * 10
        self.audit: List[int] = []

    def transfer(self, i: int) -> None:
        with self.accounts_lock:
            self.balances[i % 10] -= 1
            self.balances[(i + 1) % 10] += 1
            time.sleep(0.0001)  # a write to the database, under the lock

    def append_audit(self, i: int) -> None:
        with self.audit_lock:
            self.audit.append(i)
            time.sleep(0.0001)


def work(bank: Bank, stop: threading.Event) -> None:
    i = 0
    while not stop.is_set():
        bank.transfer(i)
        if i % AUDIT_EVERY == 0:
            bank.append_audit(i)
        i += 1


def run(seconds: float, workers: int) -> Bank:
    """run runs the workers for seconds and returns the bank they used."""
    bank = Bank()
    stop = threading.Event()
    threads = [threading.Thread(target=work, args=(bank, stop)) for _ in range(workers)]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    assert sum(bank.balances) == 1000, "a transfer was lost"
    return bank


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--mutex-fraction", type=int, default=100)
    p.add_argument("--out", help="write the pprof files and collapsed stacks here")
    args = p.parse_args()
    with gosync.profile.profiling(mutex_fraction=args.mutex_fraction, block_rate=10_000):
        run(args.seconds, args.workers)
    print(gosync.profile.table("mutex"))
    print(gosync.profile.table("block"))
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        for kind in ("mutex", "block"):
            gosync.profile.write_pprof(os.path.join(args.out, f"{kind}.pb.gz"), kind)
            gosync.profile.write_collapsed(os.path.join(args.out, f"{kind}.collapsed"), kind)


if __name__ == "__main__":
    main()
