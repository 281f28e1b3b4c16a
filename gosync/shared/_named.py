"""Names for the contention profiles of the primitives of gosync.shared.

The binding names a primitive by where it is made, while a profile is on,
when it constructs or places it; a name= given to a maker of gosync.shared
is set here, on the primitive and on those it is made of.
"""

from __future__ import annotations

from typing import Any, Optional, Protocol, Tuple, TypeVar

from .._profile._hooks import check_name

__all__ = ["check_name", "profile_name"]


class _Parts(Protocol):
    def _profile_parts(self) -> Tuple[Any, ...]: ...


T = TypeVar("T", bound=_Parts)


def profile_name(obj: T, name: Optional[str]) -> T:
    """profile_name names obj (its _profile_parts, Placed's) name in the
    contention profiles, and returns it. With name None it leaves obj as
    the binding placed it: named where it was made, while a profile was on
    (the primitives that a Chan, Once or Cond is made of are named after
    it, see gosync._profile._hooks.creation_label). A name that is not a
    str raises TypeError."""
    check_name(type(obj), name)
    if name is not None:
        for part in obj._profile_parts():
            part._profile_label = name
    return obj
