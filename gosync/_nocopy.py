"""The no-copy rule: Python's form of Go's copylocks check."""

from __future__ import annotations

import sys
from typing import NoReturn

__all__ = ["NoCopy", "WEAKREF_SLOT", "public_name"]

# The slot that lets a class with __slots__ be weakly referenced, for the
# classes users keep in weak containers (a WeakValueDictionary of locks).
# PyPy gives every object a weakref slot already and refuses a second one.
WEAKREF_SLOT: tuple[str, ...] = () if sys.implementation.name == "pypy" else ("__weakref__",)


class NoCopy:
    """NoCopy makes a class refuse copy.copy, copy.deepcopy and pickle.

    A copy of a primitive would not share its state with the original, so it
    is refused with TypeError, naming the class as the user reaches it (see
    public_name).
    """

    __slots__ = ()

    def _refuse_copy(self, *args: object) -> NoReturn:
        raise TypeError(f"{public_name(type(self))} must not be copied or pickled: a copy would not share its state")

    __copy__ = __deepcopy__ = __reduce_ex__ = __reduce__ = __getstate__ = _refuse_copy


def public_name(cls: type) -> str:
    """public_name returns the name under which a user reaches cls:
    gosync.Mutex, gosync.atomic.Int64.

    For a class exported by neither gosync nor gosync.atomic (a user's
    subclass), it is the module and qualified name.
    """
    for module in ("gosync", "gosync.atomic"):
        if getattr(sys.modules.get(module), cls.__name__, None) is cls:
            return f"{module}.{cls.__name__}"
    return f"{cls.__module__}.{cls.__qualname__}"
