"""gosync: Go's sync and sync/atomic for Python, on a C core.

The primitives follow Go's algorithms and semantics; misuse raises
SyncError with Go's message and leaves the primitive usable.
"""

from . import atomic
from ._dist import LeaseLost
from ._errors import SyncError
from .cond import Cond
from .locker import Locker
from .map import Map
from .mutex import Mutex
from .once import Once, once_func, once_value, once_values
from .pool import Pool
from .rwmutex import RLocker, RWMutex
from .waitgroup import WaitGroup

__all__ = [
    "atomic",
    "Cond",
    "LeaseLost",
    "Locker",
    "Map",
    "Mutex",
    "Once",
    "once_func",
    "once_value",
    "once_values",
    "Pool",
    "RLocker",
    "RWMutex",
    "SyncError",
    "WaitGroup",
]
__version__ = "0.1.0"
