"""gosync: Go's sync and sync/atomic for Python, on a C core.

The primitives follow Go's algorithms and semantics; misuse raises
SyncError with Go's message and leaves the primitive usable.
"""

from ._core import SyncError
from .locker import Locker
from .mutex import Mutex

__all__ = ["Locker", "Mutex", "SyncError"]
__version__ = "0.1.0"
