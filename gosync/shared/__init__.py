"""gosync.shared: Go's sync primitives in shared memory, across processes.

Mutex, RWMutex, WaitGroup, Cond, Once, Chan (with select) and the atomics of gosync.shared.atomic
have the API, messages, timeouts and Ctrl-C of the in-process classes, and
work between processes at futex speed. The module-level constructors
allocate from a default arena of the creating process; an Arena places them
explicitly, and lets unrelated programs meet by name and key. They pickle to
a handle, so they can be given to multiprocessing (fork, spawn,
forkserver), to Pool and ProcessPoolExecutor initializers, or through plain
pickle to another process.

The locks survive their owner's death: the next acquirer of a Mutex (or of
an RWMutex's write lock) whose owner died holding it gets the lock and
OwnerDied, repairs, calls mark_consistent() and unlocks; a dead reader's
read locks are released. See docs/DESIGN.md, "gosync.shared".
"""

from .._errors import OwnerDied
from . import atomic
from ._arena import Arena
from .chan import Chan, UnpicklingError, select
from .cond import Cond
from .mutex import Mutex
from .once import Once
from .rwmutex import RWMutex
from .waitgroup import WaitGroup

__all__ = [
    "Arena",
    "atomic",
    "Chan",
    "Cond",
    "Mutex",
    "Once",
    "OwnerDied",
    "RWMutex",
    "UnpicklingError",
    "WaitGroup",
    "select",
]
