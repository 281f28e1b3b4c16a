"""The no-copy rule: Python's form of Go's copylocks check."""

from __future__ import annotations

import sys
from typing import NoReturn, TypeVar

from ._mixin import copy_named_after

__all__ = ["NoCopy", "no_copy", "WEAKREF_SLOT", "public_name"]

C = TypeVar("C", bound=type)

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


_REFUSED = ("__copy__", "__deepcopy__", "__reduce_ex__", "__reduce__", "__getstate__")


def no_copy(cls: C) -> C:
    """no_copy gives cls, a class written in Python, NoCopy's refusals as
    methods of its own, named after it, where cls defines none.

    For a public class: help() shows a class's bases and what it inherits
    from each, and a NoCopy base would show as gosync._nocopy.NoCopy.
    """
    refuse = copy_named_after(NoCopy.__dict__["_refuse_copy"], cls)
    for name in _REFUSED:
        if name not in vars(cls):
            setattr(cls, name, refuse)
    return cls


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
