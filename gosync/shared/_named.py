"""Names for the contention profiles of the primitives of gosync.shared.

The binding names the primitives it constructs (gosync.profile); those of
gosync.shared are placed in shared memory instead, so their makers name
them here.
"""

from __future__ import annotations

from typing import Any, Optional, Protocol, Tuple, TypeVar

from .._profile._hooks import check_name, label

__all__ = ["check_name", "profile_name"]


class _Parts(Protocol):
    def _profile_parts(self) -> Tuple[Any, ...]: ...


T = TypeVar("T", bound=_Parts)


def profile_name(obj: T, name: Optional[str]) -> T:
    """profile_name names obj (its _profile_parts, Placed's) in the
    contention profiles by name, or by where it is being created while a
    profile is on, and returns it. A name that is not a str raises
    TypeError."""
    text = label(type(obj), name)
    if text is not None:
        for part in obj._profile_parts():
            part._profile_label = text
    return obj
