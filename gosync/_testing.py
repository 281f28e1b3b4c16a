"""TEST ONLY: probes of gosync's insides, for its own tests.

What Go keeps in export_test.go: nothing in the package imports this
module, and nothing here is API. The C side is gosync/_binding_testing.c.

  ffi, lib          the cffi view of the C core (gosync/_cdef.h)
  state_address(x)  the address of a Mutex's, RWMutex's, WaitGroup's or
                    Cond's C state, which x reaches through a pointer
  state_word(x, offset=0)
                    the 64-bit word at that address plus offset, as a cffi
                    "uint64_t *" to read or set (white-box limit tests)
  gil_held()        whether a cffi wrapper of the module runs with the GIL
"""

from __future__ import annotations

from typing import Any

import gosync  # noqa: F401  (creates the binding's types and functions)

from . import _gosync
from ._gosync import ffi, lib

__all__ = ["ffi", "gil_held", "lib", "state_address", "state_word"]


def state_address(lock: object) -> int:
    """The address of lock's C state (a gosync_mutex, gosync_rwmutex,
    gosync_waitgroup or gosync_cond)."""
    address: int = _gosync._state_address(lock)
    return address


def state_word(lock: object, offset: int = 0) -> Any:
    """The 64-bit word `offset` bytes into lock's C state, as a cffi
    pointer: w[0] reads it, w[0] = v sets it."""
    return ffi.cast("uint64_t *", state_address(lock) + offset)


def gil_held() -> bool:
    """Whether the calling thread holds the GIL inside a cffi wrapper of the
    module: False would mean cffi released it, as it does by default."""
    return bool(lib.gosync_py_gil_held())
