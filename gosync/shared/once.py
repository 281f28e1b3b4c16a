"""Once: Go's sync.Once in shared memory."""

from __future__ import annotations

from typing import Callable, TypeVar, cast

from .. import once as _inprocess
from .._errors import OwnerDied
from .._native import SharedMutexBase, Uint32Base
from .._timeout import deadline_ns
from ._arena import Arena
from ._default import place
from ._layout import SLOT_HEADER
from ._named import check_name, profile_name
from ._placed import PlacedBase, placed

__all__ = ["Once"]

OnceT = TypeVar("OnceT", bound="Once")


@placed
class Once(_inprocess.Once, PlacedBase):
    """Once is an object that performs exactly one action among all the
    processes that share it: gosync.Once's do(fn), across processes.

    State: a robust mutex and a done flag. If the process running fn dies
    before fn returns, fn did not complete: the next do() in any process
    takes the mutex over (OwnerDied, absorbed here) and runs fn itself.
    """

    __slots__ = ("_arena", "_slot")
    _kind = 5

    def __new__(cls, *, name: str | None = None) -> Once:
        check_name(cls, name)
        return profile_name(place(cls._make), name)

    def __init__(self, *, name: str | None = None) -> None:
        # Set up by _place, which every way of making one goes through.
        pass

    @classmethod
    def _state_size(cls) -> int:
        return 16  # the robust mutex (8 bytes), then the flag

    @classmethod
    def _place(cls: type[OnceT], arena: Arena, slot: int, fresh: bool) -> OnceT:
        obj = object.__new__(cls)
        state = slot + SLOT_HEADER
        # The in-process Once's slots, holding the shared types of the same API.
        obj._m = arena._mapping.at(SharedMutexBase, state, fresh)  # type: ignore[assignment]
        obj._flag = arena._mapping.at(Uint32Base, state + 8, fresh)  # type: ignore[assignment]
        obj._done = False
        obj._arena = arena
        obj._slot = slot
        return obj

    def _profile_parts(self) -> tuple[SharedMutexBase, ...]:
        # Its waits are on its robust mutex: named after the Once.
        return (cast(SharedMutexBase, self._m),)

    def do(self, fn: Callable[[], object], timeout: float | None = None) -> bool:
        """Do is gosync.Once.do across processes; on a closed arena it
        raises ValueError, also once fn has run."""
        self._arena._check_open()
        return super().do(fn, timeout)

    def _lock_for_do(self, timeout: float | None) -> bool:
        m = cast(SharedMutexBase, self._m)
        try:
            return bool(m.__enter__() if timeout is None else m._lock_until(deadline_ns(timeout)))
        except OwnerDied:
            # The process running fn died in it: fn did not complete, and
            # nothing else is guarded, so the state is consistent again.
            m.mark_consistent()
            return True

    def __repr__(self) -> str:
        closed = self._closed_repr()
        if closed:
            return closed
        return f"<gosync.shared.Once done={bool(self._flag.load())}>"
