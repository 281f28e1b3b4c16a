"""Producers and consumers on a gosync.Chan, shut down by a context.

    python examples/producer_consumer_chan.py [--producers N] [--consumers M]
        [--items K] [--capacity C] [--stop-after SECONDS]

N producers each send K numbered items into one buffered channel; M
consumers receive them. Each producer sends with select, beside its
context's done() channel: when the context is cancelled (after
--stop-after seconds, or never), it stops producing. Each consumer
receives with select beside the same done() channel: once shut down, it
drains what is still buffered. When every producer has returned, the
channel is closed, and the consumers end once it is drained.

At the end the program checks what Go's channel promises: every item that
was sent was received exactly once, and nothing else was. It exits 1 if
not.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import gosync
from gosync import context

Item = Tuple[int, int]  # (producer, sequence number)


@dataclass
class Outcome:
    """What one run produced: the items each producer sent, and the items
    each consumer received, in order."""

    sent: List[List[Item]] = field(default_factory=list)
    received: List[List[Item]] = field(default_factory=list)
    cancelled: bool = False

    def exact(self) -> bool:
        """Every sent item received exactly once, and nothing else."""
        sent = Counter(item for items in self.sent for item in items)
        received = Counter(item for items in self.received for item in items)
        return sent == received and all(n == 1 for n in received.values())

    def in_order_per_producer(self) -> bool:
        """Each consumer sees each producer's items in the order sent (a
        channel is FIFO)."""
        for items in self.received:
            last: dict[int, int] = {}
            for p, i in items:
                if i <= last.get(p, -1):
                    return False
                last[p] = i
        return True


def run(
    producers: int = 4,
    consumers: int = 3,
    items: int = 1000,
    capacity: int = 16,
    stop_after: Optional[float] = None,
    consume_delay: float = 0.0,
) -> Outcome:
    """run starts the producers and consumers, waits for all of them, and
    returns what they sent and received."""
    if stop_after is None:
        ctx, cancel = context.with_cancel(context.background())
    else:
        ctx, cancel = context.with_timeout(context.background(), stop_after)
    done = ctx.done()
    assert done is not None
    ch: gosync.Chan = gosync.Chan(capacity)
    out = Outcome(sent=[[] for _ in range(producers)], received=[[] for _ in range(consumers)])

    def producer(p: int) -> None:
        sent = out.sent[p]
        for i in range(items):
            index, _, _ = gosync.select((ch.send, (p, i)), done.recv)
            if index == 1:
                return  # shut down: produce no more
            sent.append((p, i))

    def consumer(c: int) -> None:
        received = out.received[c]
        while True:
            index, value, ok = gosync.select(ch.recv, done.recv)
            if index == 1:
                break  # shut down: drain below
            if not ok:
                return  # closed and drained
            received.append(value)
            if consume_delay:
                time.sleep(consume_delay)
        for value in ch:  # what the producers sent before they stopped
            received.append(value)

    producing = gosync.WaitGroup()
    consuming = gosync.WaitGroup()
    for c in range(consumers):
        consuming.go(consumer, c)
    for p in range(producers):
        producing.go(producer, p)
    producing.wait()
    ch.close()  # every producer has returned: nothing more will be sent
    consuming.wait()
    out.cancelled = ctx.err() is not None
    cancel()
    return out


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--producers", type=int, default=4)
    ap.add_argument("--consumers", type=int, default=3)
    ap.add_argument("--items", type=int, default=2000, help="items per producer")
    ap.add_argument("--capacity", type=int, default=16)
    ap.add_argument("--stop-after", type=float, default=None, help="cancel the context after this many seconds")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    out = run(args.producers, args.consumers, args.items, args.capacity, args.stop_after)
    elapsed = time.perf_counter() - t0
    sent = sum(map(len, out.sent))
    received = sum(map(len, out.received))
    print(f"{args.producers} producers, {args.consumers} consumers, capacity {args.capacity}: ", end="")
    print(f"sent {sent} of {args.producers * args.items}, received {received}, in {elapsed:.3f} s")
    print("per consumer:", [len(r) for r in out.received])
    if out.cancelled:
        print("the context was cancelled: the producers stopped early, the consumers drained the channel")
    exact = out.exact() and out.in_order_per_producer()
    print("exact: every item sent was received exactly once" if exact else "NOT EXACT")
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
