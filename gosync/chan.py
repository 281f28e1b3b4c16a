"""Chan: Go's channels, a typed pipe between threads with a ring buffer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from ._native import ChanBase
from ._nocopy import NoCopy
from ._public import public

__all__ = ["Chan", "ChanState"]


class ChanState(NamedTuple):
    """A snapshot of a Chan, for tests."""

    len: int
    cap: int
    closed: bool
    receivers: int  # receivers queued (nodes of selects that already chose included)
    senders: int  # senders queued (idem)
    nodes_in_use: int  # waiter nodes in use in the whole process


@public
class Chan(ChanBase, NoCopy):
    """A Chan is Go's channel: a FIFO of values between threads.

    Chan(capacity=0) makes a channel with a buffer of capacity values. On an
    unbuffered channel (capacity 0) send returns only once a receiver holds
    the value; on a buffered one it waits only while the buffer is full, and
    recv only while it is empty. Values come out in the order they went in.
    A negative capacity raises ValueError; a non-int, TypeError.

    send(v, timeout=None) -> bool, recv(timeout=None) -> value and
    recv_ok(timeout=None) -> (value, ok) wait for ever, or until a timeout in
    seconds: send then returns False, recv and recv_ok raise TimeoutError,
    and nothing was sent or received. Ctrl-C interrupts them the same way:
    no value is lost or delivered twice.

    close() closes the channel, as in Go: receivers get the buffered values,
    then None (recv_ok: ok False) at once; blocked and later senders raise
    SyncError("send on closed channel"); a second close raises
    SyncError("close of closed channel"). Only the sender should close.

    len(ch) is the number of values buffered, ch.cap the capacity.
    Iterating over a channel receives until it is closed and drained.
    A Chan works in gosync.select, and must not be copied or pickled.
    """

    __slots__ = ()

    if TYPE_CHECKING:
        # For type checkers; the C type's is what runs (and its tp_doc gives
        # inspect.signature the parameters).
        def __new__(cls, capacity: int = 0) -> Chan: ...

    def _debug_state(self) -> ChanState:
        """A snapshot of the channel, for tests."""
        return ChanState(*self._debug_fields())

    def __repr__(self) -> str:
        closed = " closed" if self._debug_fields()[2] else ""
        return f"<gosync.Chan len={len(self)} cap={self.cap}{closed}>"

    def __class_getitem__(cls, item: Any) -> Any:
        # Chan[int] in annotations, as for queue.Queue.
        return cls
