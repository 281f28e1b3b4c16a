"""The compiled module gosync._gosync: its cffi ffi and lib, and the C types
that the Python classes subclass.

The C types are created once, when this module is first imported
(gosync_py_add_types, in the binding), and added to gosync._gosync. Every
other module reaches them, and ffi and lib, through here.
"""

from __future__ import annotations

from . import _gosync
from ._gosync import ffi, lib

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
