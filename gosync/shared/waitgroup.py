"""WaitGroup: Go's sync.WaitGroup in shared memory."""

from __future__ import annotations

from .. import waitgroup as _inprocess
from ._default import place
from ._named import check_name, profile_name
from ._placed import PlacedBase, placed

__all__ = ["WaitGroup"]


@placed
class WaitGroup(_inprocess.WaitGroup, PlacedBase):
    """A WaitGroup waits for a collection of tasks, in any processes that
    map its arena, to finish: gosync.WaitGroup's API and messages, with its
    futex shared between processes.

    A task whose process dies before done() never calls it: a wait without
    a timeout then waits for ever, as in Go when a goroutine never returns.
    A wait with a timeout always returns.
    """

    __slots__ = ("_arena", "_slot")
    _kind = 3

    def __new__(cls, *, name: str | None = None) -> WaitGroup:
        check_name(cls, name)
        return profile_name(place(cls._make), name)

    def __repr__(self) -> str:
        closed = self._closed_repr()
        if closed:
            return closed
        s = self._debug_state()
        return f"<gosync.shared.WaitGroup counter={s.counter} waiters={s.waiters}>"
