"""The compiled module gosync._gosync: its cffi ffi and lib, and the C types
that the Python classes subclass.

The C types are created once, when this module is first imported
(gosync_py_add_types, in the binding), and added to gosync._gosync. Every
other module reaches them, and ffi and lib, through here.
"""

from __future__ import annotations

import importlib.machinery
import os
import sys


def _compiled_module(package_dir: str) -> str | None:
    """_compiled_module returns the path of the compiled gosync._gosync for
    this interpreter in package_dir, or None if there is none."""
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = os.path.join(package_dir, "_gosync" + suffix)
        if os.path.isfile(path):
            return path
    return None


def _not_built_message(package_dir: str) -> str:
    """_not_built_message says why gosync, imported from package_dir, has no
    compiled module, and what to do."""
    parent = os.path.dirname(package_dir)
    checkout = os.path.isfile(os.path.join(parent, "pyproject.toml")) and os.path.isdir(os.path.join(parent, "csrc"))
    where = "a source checkout" if checkout else "a copy of the package"
    installed = None
    for entry in sys.path:
        candidate = os.path.join(os.path.abspath(entry or os.curdir), "gosync")
        if os.path.abspath(entry or os.curdir) != parent and _compiled_module(candidate) is not None:
            installed = candidate
            break
    lines = [
        f"gosync was imported from {package_dir}, {where} whose compiled module"
        f" (gosync/_gosync{importlib.machinery.EXTENSION_SUFFIXES[0]}) is not built.",
    ]
    if installed is not None:
        lines.append(
            f"It comes before the installed gosync ({installed}) on sys.path: `python -m ...` and"
            " `python -c ...` put the current directory first."
        )
    lines.append("Build it in place with `pip install -e .` in the checkout, or run from outside the checkout.")
    return "\n".join(lines)


try:
    from . import _gosync
except ImportError:
    # Python found this package but no gosync._gosync beside it. Said as
    # is, that is "cannot import name '_gosync' from partially initialized
    # module 'gosync' (most likely due to a circular import)".
    _here = os.path.dirname(os.path.abspath(__file__))
    if _compiled_module(_here) is not None:
        raise  # it is there but does not load: that error says why
    raise ImportError(_not_built_message(_here), name=__name__) from None

ffi = _gosync.ffi
lib = _gosync.lib

__all__ = [
    "ffi",
    "lib",
    "MutexBase",
    "RWMutexBase",
    "RLockerBase",
    "WaitGroupBase",
    "CondBase",
    "Int32Base",
    "Uint32Base",
    "Int64Base",
    "Uint64Base",
    "BoolBase",
    "PoolLocal",
    "WeightedBase",
    "ChanBase",
    "chan_select",
    "Mapping",
    "SharedMutexBase",
    "SharedRWMutexBase",
]

# The lock types live in the binding: docs/DESIGN.md, "The GIL policy", says why.
if lib.gosync_py_add_types() != 0:
    raise ImportError("gosync: could not create the lock types")
MutexBase = _gosync.MutexBase
RWMutexBase = _gosync.RWMutexBase
RLockerBase = _gosync.RLockerBase
WaitGroupBase = _gosync.WaitGroupBase
CondBase = _gosync.CondBase
Int32Base = _gosync.Int32Base
Uint32Base = _gosync.Uint32Base
Int64Base = _gosync.Int64Base
Uint64Base = _gosync.Uint64Base
BoolBase = _gosync.BoolBase
PoolLocal = _gosync.PoolLocal
Mapping = _gosync.Mapping
SharedMutexBase = _gosync.SharedMutexBase
SharedRWMutexBase = _gosync.SharedRWMutexBase
WeightedBase = _gosync.WeightedBase
ChanBase = _gosync.ChanBase
chan_select = _gosync.select


def _run_signal_handlers() -> None:
    """_run_signal_handlers gives PyPy a chance to run pending signal
    handlers; the binding calls it on PyPy where CPython's binding calls
    PyErr_CheckSignals (a no-op under PyPy's cpyext).

    PyPy runs handlers from its interpreter loop, at a backward jump, so this
    function needs one. A handler's exception (KeyboardInterrupt) propagates
    to the binding, which returns it to the caller of the blocked call.
    """
    for _ in range(2):
        pass
