"""Worker functions for tests/test_shared_chan.py, in a module of their own
so that processes started with spawn import them by name."""

from __future__ import annotations

import os
import time
from typing import Any

import gosync.shared as shared


def send_range(ch: shared.Chan, start: int, n: int) -> None:
    """Sends start, ..., start + n - 1 as ints."""
    for i in range(start, start + n):
        assert ch.send(i, timeout=60)


def send_bytes(ch: shared.Chan, n: int) -> None:
    """Sends n bytes values, then closes ch."""
    for i in range(n):
        assert ch.send(b"v%d" % i, timeout=60)
    ch.close()


def echo(ch: shared.Chan, out: shared.Chan) -> None:
    """Receives until ch is closed and drained, sending each value to out,
    then closes out."""
    for v in ch:
        assert out.send(v, timeout=60)
    out.close()


def consume_to_file(ch: shared.Chan, path: str, delay: float) -> None:
    """Receives until closed and drained, appending each value to path as a
    line written before the next receive."""
    with open(path, "a") as f:
        while True:
            v, ok = ch.recv_ok(timeout=60)
            if not ok:
                return
            f.write(f"{v}\n")
            f.flush()
            if delay:
                time.sleep(delay)


def recv_into(ch: shared.Chan, got: shared.atomic.Int64) -> None:
    """Receives one value and stores it in got."""
    v: Any = ch.recv(timeout=60)
    got.store(v)


def die_holding_lock(ch: shared.Chan) -> None:
    """Takes the channel's lock and dies with it held."""
    ch._m.__enter__()
    os._exit(0)


class _DieAfterStore:
    """Stands in for a Chan's word: its first store is made, then the
    process dies (still holding the channel's lock)."""

    def __init__(self, word: Any) -> None:
        self.word = word

    def load(self) -> int:
        return int(self.word.load())

    def store(self, v: int) -> None:
        self.word.store(v)
        os._exit(0)


def send_and_die_after_store(ch: shared.Chan, v: object) -> None:
    """Sends v and dies right after the send's one store to the word."""
    ch._word = _DieAfterStore(ch._word)  # type: ignore[assignment]
    ch.send(v, timeout=10)
    os._exit(1)  # not reached: the store ends the process
