"""Public classes that are their C types, so that help() shows no private base."""

from __future__ import annotations

import types
from typing import Any, TypeVar

from ._mixin import copy_named_after

__all__ = ["public"]

T = TypeVar("T", bound=type)

# What a class statement puts in its namespace that is not the class's own
# behaviour. A mixin's __init_subclass__ has run on the class as written;
# on the C type it would run again for users' subclasses, with a super()
# bound to the mixin, which the C type does not derive from.
_MACHINERY = frozenset(
    {"__module__", "__qualname__", "__doc__", "__dict__", "__weakref__", "__slots__", "__init_subclass__"}
)


def public(cls: T) -> T:
    """public returns the C type that cls derives from first, with cls's
    methods and those of its Python mixins installed in it, and cls's
    docstring.

    help() shows a class's real bases, its MRO and what it inherits from
    each. Written as a Python subclass of a C type and of mixins (TimedLock,
    NoCopy), gosync.Mutex would show gosync._gosync.MutexBase,
    gosync._timeout.TimedLock and gosync._nocopy.NoCopy. So the C type is
    the public class itself: created in C under the public name (see
    GOSYNC_PY_PUBLIC_SPEC in _binding.h), it receives here what the class
    statement defined, resolved as the MRO would (cls first, then the C
    type's own methods, then the mixins in order), and its bases are just
    object. Type checkers see the class as written.

    A class that this cannot carry is refused at import with TypeError: a
    mixin with bases of its own, a name that differs from the C type's,
    __slots__ (the C type's layout is fixed; weak references and any other
    fields are its own members), a mixin's __new__, or a method using
    super() or __class__ (bound to the class statement's class, which
    instances would not be). An __init__ is carried: the C type's tp_new
    then lets it take the constructor's arguments. So is the class's own
    __new__, which replaces the C type's tp_new: it must make the object
    some other way (gosync.shared's place it in an arena).
    """
    base = cls.__bases__[0]
    if (base.__module__, base.__qualname__) != (cls.__module__, cls.__qualname__):
        raise TypeError(f"{cls.__qualname__}: its first base {base!r} must be the C type of that name")
    mixins: list[type] = [k for k in cls.__mro__[1:] if k not in base.__mro__]
    written: list[type] = [cls, *mixins]
    for klass in written:
        if klass is not cls and not all(b is object or b in mixins for b in klass.__bases__):
            raise TypeError(f"{cls.__qualname__}: mixin {klass.__qualname__} must derive from mixins only")
        if vars(klass).get("__slots__", ()) != ():
            raise TypeError(f"{cls.__qualname__}: {klass.__qualname__} must have empty __slots__")
        if "__new__" in vars(klass) and klass is not cls:
            raise TypeError(f"{cls.__qualname__}: mixin {klass.__qualname__} must not define __new__")
    # The class's own attributes win over the C type's, which win over the
    # mixins', the first mixin over the later ones: the MRO's order.
    found: dict[str, Any] = {}
    order: list[type] = [cls, base, *mixins]
    for klass in order:
        for name, value in vars(klass).items():
            if name not in _MACHINERY and name not in found:
                found[name] = (klass, value)
    found = {name: kv for name, kv in found.items() if kv[0] is not base}
    for name, (_, value) in found.items():
        _refuse_class_cell(cls, name, value)
    # Checked: from here on nothing raises.
    copies: dict[int, Any] = {}
    for name, (klass, value) in found.items():
        if klass is not cls:
            # A mixin's function, copied so that its errors and help() name
            # the public class (copies of one function stay one function).
            if isinstance(value, types.FunctionType):
                value = copies.setdefault(id(value), copy_named_after(value, base))
        setattr(base, name, value)
    base.__doc__ = cls.__doc__
    # The bare name, as a class defined in Python has: CPython's messages
    # that name the type ("Mutex() takes no arguments") read as before.
    base.__name__ = cls.__name__
    return base  # type: ignore[return-value]


def _refuse_class_cell(cls: type, name: str, value: object) -> None:
    for fn in (value, getattr(value, "__func__", None), getattr(value, "fget", None)):
        if isinstance(fn, types.FunctionType) and "__class__" in fn.__code__.co_freevars:
            raise TypeError(f"{cls.__qualname__}.{name} uses super() or __class__, which the C type cannot carry")
