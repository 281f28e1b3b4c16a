"""The warehouse: producers and consumers around a bounded store.

    python examples/producer_consumer.py [--producers 2] [--consumers 2]
        [--items 2000] [--capacity 8] [--start fork|spawn|forkserver]

The seeds' third job. The store holds at most `capacity` items. A producer
waits on the `not_full` Cond while the store is full, a consumer on the
`not_empty` Cond while it is empty; both Conds share the one Mutex that
guards the store. Each producer makes `items` numbered items; the consumers
take them until all have been taken, and tick each one off in a tally.

It runs twice with the same code: as threads with gosync's in-process
primitives, and as processes with gosync.shared's (the store and the tally
are then in shared memory too). Each run checks that every item was
consumed exactly once and prints its wall time.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import threading
import time
from multiprocessing.sharedctypes import RawArray
from typing import Any, Callable

import gosync
import gosync.shared

HEAD, COUNT, TAKEN = 0, 1, 2  # the store's bookkeeping words


def producer(first: int, items: int, slots: Any, book: Any, mu: Any, not_full: Any, not_empty: Any) -> None:
    """Puts items first, first + 1, ..., waiting while the store is full."""
    capacity = len(slots)
    for item in range(first, first + items):
        with mu:
            while book[COUNT] == capacity:
                not_full.wait()
            slots[(book[HEAD] + book[COUNT]) % capacity] = item
            book[COUNT] += 1
            not_empty.signal()


def consumer(total: int, slots: Any, book: Any, tally: Any, mu: Any, not_full: Any, not_empty: Any) -> None:
    """Takes items until all `total` have been taken, ticking each off."""
    capacity = len(slots)
    while True:
        with mu:
            while book[COUNT] == 0 and book[TAKEN] < total:
                not_empty.wait()
            if book[COUNT] == 0:
                return  # all taken, by us or by the other consumers
            item = slots[book[HEAD]]
            book[HEAD] = (book[HEAD] + 1) % capacity
            book[COUNT] -= 1
            book[TAKEN] += 1
            tally[item] += 1
            not_full.signal()
            if book[TAKEN] == total:
                not_empty.broadcast()  # the idle consumers can go home


def run(
    variant: str, producers: int, consumers: int, items: int, capacity: int, start_method: str
) -> tuple[Any, float]:
    """Runs the warehouse as "threads" or "processes"; returns the tally
    (how often each item was consumed) and the wall time."""
    t0 = time.perf_counter()
    total = producers * items
    slots, book, tally = RawArray("q", capacity), RawArray("q", 3), RawArray("i", total)
    launch: Callable[..., Any]
    if variant == "threads":
        mu = gosync.Mutex()
        not_full, not_empty = gosync.Cond(mu), gosync.Cond(mu)
        launch = threading.Thread
    else:
        mu = gosync.shared.Mutex()
        not_full, not_empty = gosync.shared.Cond(mu), gosync.shared.Cond(mu)
        launch = multiprocessing.get_context(start_method).Process
    workers = [
        launch(target=producer, args=(p * items, items, slots, book, mu, not_full, not_empty)) for p in range(producers)
    ] + [launch(target=consumer, args=(total, slots, book, tally, mu, not_full, not_empty)) for _ in range(consumers)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(600)
        if w.is_alive():
            raise SystemExit(f"{variant}: a worker did not finish within 600 s")
    return tally, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Producers and consumers around a bounded store.")
    ap.add_argument("--producers", type=int, default=2, help="default 2")
    ap.add_argument("--consumers", type=int, default=2, help="default 2")
    ap.add_argument("--items", type=int, default=2000, help="items per producer (default 2000)")
    ap.add_argument("--capacity", type=int, default=8, help="the store's capacity (default 8)")
    ap.add_argument(
        "--start", default=multiprocessing.get_start_method(), choices=multiprocessing.get_all_start_methods(),
        help="the multiprocessing start method (default: the platform's)",
    )
    args = ap.parse_args(argv)
    if min(args.producers, args.consumers, args.capacity) < 1 or args.items < 0:
        ap.error("--producers, --consumers and --capacity must be >= 1, --items >= 0")
    total = args.producers * args.items
    ok = True
    for variant in ("threads", "processes"):
        tally, seconds = run(variant, args.producers, args.consumers, args.items, args.capacity, args.start)
        once = sum(1 for n in tally if n == 1)
        missing = sum(1 for n in tally if n == 0)
        twice = total - once - missing
        print(
            f"{variant:<9}: {args.producers} producers, {args.consumers} consumers, capacity {args.capacity}: "
            f"{once} of {total} items consumed exactly once, {missing} never, {twice} more than once, "
            f"in {seconds:.3f} s"
        )
        ok = ok and once == total
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
