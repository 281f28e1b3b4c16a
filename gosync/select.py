"""select: Go's select statement over channel operations."""

from __future__ import annotations

from typing import Any

from ._native import chan_select

__all__ = ["select"]


def select(*cases: Any, block: bool = True, timeout: float | None = None) -> tuple[int, Any, bool]:
    """Select performs one of the channel operations given as cases and
    returns (index, value, ok).

    A case is ch.recv (receive from ch), (ch.send, v) (send v on ch), or None
    (a nil channel: never ready). If several cases are ready, one is chosen
    uniformly at random. A receive returns (index, value, True), or
    (index, None, False) when its channel is closed and drained; a send
    returns (index, None, True), and raises SyncError("send on closed
    channel") when chosen on a closed channel.

    With block=False (Go's default case), or when the timeout in seconds
    passes, it returns (-1, None, False) having done nothing. With no case
    and no timeout it waits for ever, as Go's select {} does; Ctrl-C
    interrupts it. Anything else as a case raises TypeError before anything
    is done.
    """
    return chan_select(*cases, block=block, timeout=timeout)
