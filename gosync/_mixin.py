"""Methods written once in a mixin, named after each class that uses it."""

from __future__ import annotations

import sys
import types

__all__ = ["name_after", "copy_named_after"]


def name_after(cls: type, mixin: type, names: tuple[str, ...]) -> None:
    """name_after gives cls its own copy of each of mixin's methods in names
    that cls would otherwise inherit from mixin, with cls's qualified name.

    CPython's errors for a wrong number of arguments name a Python function
    by its qualified name, so without the copy they would name the private
    mixin where the user called gosync.Mutex.lock. A method that cls or a
    class before mixin in its MRO defines is left alone.
    """
    for name in names:
        fn = mixin.__dict__[name]
        if getattr(cls, name) is fn:
            setattr(cls, name, copy_named_after(fn, cls))


def copy_named_after(fn: types.FunctionType, cls: type) -> types.FunctionType:
    """copy_named_after returns a copy of fn, a mixin's method, named as a
    method of cls."""
    qualname = f"{cls.__qualname__}.{fn.__name__}"
    code = fn.__code__
    if sys.version_info >= (3, 11):
        # From 3.11 the errors read the name from the code object.
        code = code.replace(co_qualname=qualname)
    copy = types.FunctionType(code, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
    copy.__kwdefaults__ = fn.__kwdefaults__
    copy.__qualname__ = qualname
    copy.__doc__ = fn.__doc__
    copy.__module__ = cls.__module__
    # Without self's annotation: it names the mixin's private protocol of
    # what it needs (_CLock), which inspect.signature and help() would show.
    copy.__annotations__ = {k: v for k, v in fn.__annotations__.items() if k != "self"}
    return copy
