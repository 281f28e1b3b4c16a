"""gosync: Go's sync and sync/atomic for Python, on a C core.

The primitives follow Go's algorithms and semantics; misuse raises
SyncError with Go's message and leaves the primitive usable.
"""

from . import atomic
from ._dist import LeaseLost
from ._errors import SyncError
from .chan import Chan
from .cond import Cond
from .goroutine import go, num_goroutine
from .locker import Locker
from .map import Map
from .mutex import Mutex
from .once import Once, once_func, once_value, once_values
from .pool import Pool
from .rwmutex import RLocker, RWMutex
from .select import select
from .waitgroup import WaitGroup

# The companion packages, reached as gosync.context and so on, as in Go.
from . import context as context  # noqa: E402  isort: skip
from . import errgroup as errgroup  # noqa: E402  isort: skip
from . import semaphore as semaphore  # noqa: E402  isort: skip
from . import singleflight as singleflight  # noqa: E402  isort: skip

__all__ = [
    "atomic",
    "Chan",
    "Cond",
    "go",
    "LeaseLost",
    "Locker",
    "Map",
    "Mutex",
    "num_goroutine",
    "Once",
    "once_func",
    "once_value",
    "once_values",
    "Pool",
    "RLocker",
    "RWMutex",
    "select",
    "SyncError",
    "WaitGroup",
]
__version__ = "0.1.0"
