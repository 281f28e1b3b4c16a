"""Arena: a region of shared memory that holds gosync.shared's primitives.
Its layout is in _layout.py."""

from __future__ import annotations

import os
import struct
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from .._errors import OwnerDied
from .._native import Mapping, SharedMutexBase, Uint32Base, Uint64Base
from .._nocopy import WEAKREF_SLOT
from ._layout import (
    BUMP,
    CLASSES,
    DEFAULT_SIZE,
    DIRECTORY,
    DIRECTORY_LOCK,
    ENTRIES,
    ENTRY,
    ENTRY_SIZE,
    HEAD,
    HEADER_SIZE,
    KEY_SIZE,
    KIND_NAMES,
    MAGIC,
    MIN_SIZE,
    NAME,
    PREFIX,
    SHM_DIR,
    SLOT,
    SLOT_HEADER,
    SLOT_MAGIC,
    VERSION,
    article,
)
from ._named import check_name, profile_name

if TYPE_CHECKING:
    from . import mutex as _mutex
    from . import rwmutex as _rwmutex
    from ._placed import Placed
    from .atomic import Bool, Int32, Int64, Uint32, Uint64
    from .chan import Chan
    from .cond import Cond
    from .mutex import Mutex
    from .once import Once
    from .rwmutex import RWMutex
    from .waitgroup import WaitGroup

__all__ = ["Arena", "path"]

P = TypeVar("P", bound="Placed")

# The arenas this process has mapped, by id: a handle is mapped once per
# process (_handle.py).
cache: dict[bytes, Arena] = {}
cache_lock = threading.Lock()


class Arena:
    """An Arena is a region of shared memory holding gosync.shared
    primitives, which processes that map it use together.

    Arena(name=None, size=1 MiB, create=True): with a name, the arena is
    the file /dev/shm/gosync.<name> (mode 0600), which unrelated programs
    can open by that name. create=True makes it, raising FileExistsError if
    it exists; create=False opens it, raising FileNotFoundError if it does
    not. A named arena lasts until unlink(), also after every process has
    closed it. Names are 1 to 200 of the characters A-Z a-z 0-9 . _ -.

    With name=None the arena is anonymous: a memfd, never in /dev/shm, which
    the kernel frees when the last process using it exits, killed or not.
    Other processes reach it through the primitives pickled to them (while
    a process that has it open is alive).

    arena.Mutex(), arena.WaitGroup(), ... allocate a new primitive in the
    arena; arena.get(key, kind) returns the one named key, made on first
    use. An arena that is full raises MemoryError.

    close() (or leaving a with block) closes this process's use of it: its
    primitives then raise ValueError("operation on a closed arena"), as a
    closed file does. The memory stays mapped while any of them exists, so
    that a call still blocked in another thread is safe. Attaching to a
    file or handle that is not a valid arena raises ValueError saying what
    is wrong.
    """

    __slots__ = ("_fd", "_mapping", "_name", "_id", "_size", "_bump", "_dirlock") + WEAKREF_SLOT
    # Where users reach it (help() names the module), not this private one.
    __module__ = "gosync.shared"

    _fd: int
    _mapping: Mapping
    _name: str | None
    _id: bytes
    _size: int
    _bump: Uint64Base
    _dirlock: SharedMutexBase

    def __init__(self, name: str | None = None, size: int = DEFAULT_SIZE, create: bool = True) -> None:
        if name is not None and (not isinstance(name, str) or not NAME.fullmatch(name)):
            raise ValueError(f"arena name must be 1 to 200 of A-Z a-z 0-9 . _ -, not {name!r}")
        if not create:
            if name is None:
                raise ValueError("an anonymous arena (name=None) can only be created")
            fd = os.open(path(name), os.O_RDWR | os.O_CLOEXEC | os.O_NOCTTY | os.O_NONBLOCK)
            self._setup(fd, name, None)
            return
        if type(size) is not int:
            raise TypeError(f"arena size must be an int, not {type(size).__name__}")
        if size < MIN_SIZE:
            raise ValueError(f"arena size must be at least {MIN_SIZE} bytes, not {size}")
        fd = _create_file(name, size)
        self._setup(fd, name, None)

    def _setup(self, fd: int, name: str | None, expected_id: bytes | None) -> None:
        """Checks the file's header and maps it; closes fd on failure."""
        try:
            where = f"arena {name!r}" if name is not None else "anonymous arena"
            self._size, self._id = _check_header(fd, where, expected_id)
            self._mapping = Mapping(fd, self._size)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self._name = name
        self._bump = self._mapping.at(Uint64Base, BUMP, False)
        self._dirlock = self._mapping.at(SharedMutexBase, DIRECTORY_LOCK, False)
        with cache_lock:
            cache[self._id] = self

    @classmethod
    def _from_fd(cls, fd: int, name: str | None, expected_id: bytes | None) -> Arena:
        arena = cls.__new__(cls)
        arena._setup(fd, name, expected_id)
        return arena

    @property
    def name(self) -> str | None:
        """The arena's name, or None for an anonymous arena."""
        return self._name

    @property
    def size(self) -> int:
        """The size of the arena's memory in bytes, header included."""
        return self._size

    @property
    def closed(self) -> bool:
        """Whether close() was called."""
        return bool(self._mapping.closed)

    def close(self) -> None:
        """Close ends this process's use of the arena: its primitives raise
        ValueError from then on. Closing twice does nothing. The arena
        itself, and its use by other processes, is not affected."""
        if self._mapping.closed:
            return
        self._mapping.close()
        with cache_lock:
            if cache.get(self._id) is self:
                del cache[self._id]
        fd, self._fd = self._fd, -1
        os.close(fd)

    def __del__(self, _close: Callable[[int], None] = os.close) -> None:
        # An Arena that nothing refers to any more (no primitive of it, and
        # another mapping of the same arena in the cache) gives its
        # descriptor back, as a file object does; its memory goes with the
        # Mapping. getattr: __init__ may have failed before setting it.
        fd = getattr(self, "_fd", -1)
        if fd >= 0:
            self._fd = -1
            _close(fd)  # bound early: os may be gone at interpreter exit

    def unlink(self) -> None:
        """Unlink removes a named arena's name from /dev/shm: the memory is
        freed when the last process has closed it, and the name can be
        created again. For an anonymous arena it does nothing."""
        if self._name is not None:
            os.unlink(path(self._name))

    def __enter__(self) -> Arena:
        self._check_open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = " closed" if self._mapping.closed else ""
        return f"<gosync.shared.Arena {self._describe()} size={self._size}{state}>"

    def _describe(self) -> str:
        return repr(self._name) if self._name is not None else "anonymous"

    def __reduce__(self) -> tuple[Any, ...]:
        # An Arena pickles to its handle too: the receiver maps it once.
        self._check_open()
        from ._handle import arena_for

        return (arena_for, (self._locator(), self._id))

    def _check_open(self) -> None:
        if self._mapping.closed:
            raise ValueError("operation on a closed arena")

    def _locator(self) -> tuple[Any, ...]:
        if self._name is not None:
            return ("name", self._name)
        return ("memfd", os.getpid(), self._fd)

    # ---- Allocation and attachment ---------------------------------------

    def _new(self, cls: type[P], extra: int = 0, state_size: int | None = None) -> P:
        """_new allocates a slot for a new cls (of state_size bytes of
        state, if it varies: a Chan) and returns it, its kind published
        last."""
        self._check_open()
        state = ((cls._state_size() if state_size is None else state_size) + 63) // 64 * 64
        n = SLOT_HEADER + state
        # The bump word moves only for a slot that fits (a CAS, not an add):
        # a refused request leaves the rest of the arena to smaller ones.
        while True:
            slot: int = self._bump.load()
            if slot < HEADER_SIZE or slot % 64:
                # Only a corrupt bump word gives this: writing a slot header
                # there would overwrite the arena's header or directory.
                raise ValueError(f"arena {self._describe()} is corrupt: bump offset {slot}")
            if slot + n > self._size:
                raise MemoryError(f"gosync.shared: arena {self._describe()} is full ({self._size} bytes)")
            if self._bump.compare_and_swap(slot, slot + n):
                break
        self._mapping.write(slot, SLOT.pack(SLOT_MAGIC, 0, extra))
        obj = cls._place(self, slot, True)
        self._mapping.at(Uint32Base, slot + 4, False).store(cls._kind)
        return obj

    def _attach(self, slot: int, cls: type[P]) -> P:
        """_attach returns the cls at slot, after checking that it is one."""
        self._check_open()
        if type(slot) is not int or not (HEADER_SIZE <= slot <= self._size - 2 * SLOT_HEADER) or slot % 64:
            raise ValueError(f"offset {slot!r} holds no gosync object")
        kind = self._mapping.at(Uint32Base, slot + 4, False).load()  # first: it is written last
        magic, _, _ = SLOT.unpack(self._mapping.read(slot, SLOT.size))
        if magic != SLOT_MAGIC or kind not in KIND_NAMES:
            raise ValueError(f"offset {slot} holds no gosync object")
        if kind != cls._kind:
            raise ValueError(f"offset {slot} holds {article(KIND_NAMES[kind])}, not {article(KIND_NAMES[cls._kind])}")
        if slot + SLOT_HEADER + cls._state_size() > self._size:
            raise ValueError(f"offset {slot} holds no gosync object")
        return cls._place(self, slot, False)

    def _extra(self, slot: int) -> int:
        extra: int = SLOT.unpack(self._mapping.read(slot, SLOT.size))[2]
        return extra

    def get(self, key: str, kind: type[P]) -> P:
        """Get returns the primitive of the given kind (a class of
        gosync.shared: Mutex, WaitGroup, atomic.Int64, ...) named key in
        this arena, making it on first use. Processes that use the same
        arena and key get the same primitive.

        key is a str of 1 to 64 UTF-8 bytes (else ValueError). Asking for an
        existing key as another kind raises TypeError. The directory holds
        256 keys; past that, MemoryError.
        """
        if not isinstance(key, str):
            raise TypeError(f"arena key must be a str, not {type(key).__name__}")
        raw = key.encode("utf-8")
        if not 1 <= len(raw) <= KEY_SIZE or b"\0" in raw:
            raise ValueError(f"arena key must be 1 to {KEY_SIZE} UTF-8 bytes without NUL, not {key!r}")
        if not isinstance(kind, type) or CLASSES.get(getattr(kind, "_kind", 0)) is not kind:
            raise TypeError(f"get() needs a class of gosync.shared (Mutex, WaitGroup, ...), not {kind!r}")
        self._check_open()
        padded = raw.ljust(KEY_SIZE, b"\0")
        self._lock_directory()
        try:
            directory = self._mapping.read(DIRECTORY, ENTRIES * ENTRY_SIZE)
            free = -1
            for i in range(ENTRIES):
                k, entry_kind, _, offset = ENTRY.unpack_from(directory, i * ENTRY_SIZE)
                if entry_kind == 0:
                    if free < 0:
                        free = i
                elif k == padded:
                    if entry_kind != kind._kind:
                        have = KIND_NAMES.get(entry_kind, f"kind {entry_kind}")
                        want = KIND_NAMES[kind._kind]
                        raise TypeError(f"arena key {key!r} holds {article(have)}, not {article(want)}")
                    return self._attach(offset, kind)
            if free < 0:
                raise MemoryError(f"gosync.shared: the directory of arena {self._describe()} is full ({ENTRIES} keys)")
            obj = kind._make(self)
            at = DIRECTORY + free * ENTRY_SIZE
            self._mapping.write(at, ENTRY.pack(padded, 0, 0, obj._slot))
            self._mapping.at(Uint32Base, at + KEY_SIZE, False).store(kind._kind)
            return obj
        finally:
            self._dirlock.unlock()

    def _lock_directory(self) -> None:
        try:
            self._dirlock.__enter__()
        except OwnerDied:
            # A process died in get(). Entries are written kind last, so
            # it left at most an entry still free and a hole: nothing to
            # repair.
            self._dirlock.mark_consistent()

    # ---- The primitives ----------------------------------------------------

    def Mutex(self, *, name: str | None = None) -> Mutex:
        """Mutex returns a new gosync.shared.Mutex in this arena."""
        from .mutex import Mutex

        check_name(Mutex, name)
        return profile_name(Mutex._make(self), name)

    def RWMutex(self, *, name: str | None = None) -> RWMutex:
        """RWMutex returns a new gosync.shared.RWMutex in this arena."""
        from .rwmutex import RWMutex

        check_name(RWMutex, name)
        return profile_name(RWMutex._make(self), name)

    def WaitGroup(self, *, name: str | None = None) -> WaitGroup:
        """WaitGroup returns a new gosync.shared.WaitGroup in this arena."""
        from .waitgroup import WaitGroup

        check_name(WaitGroup, name)
        return profile_name(WaitGroup._make(self), name)

    def Cond(self, L: _mutex.Mutex | _rwmutex.RWMutex | None = None, *, name: str | None = None) -> Cond:
        """Cond returns a new gosync.shared.Cond in this arena, whose lock L
        is a shared Mutex or RWMutex of this arena (None: a new Mutex)."""
        from .cond import Cond

        check_name(Cond, name)
        made = L is None
        obj = profile_name(Cond._make(self, L), name)
        if made:
            profile_name(obj.L, name)  # the Mutex made for it: its waits are the Cond's
        return obj

    def Once(self, *, name: str | None = None) -> Once:
        """Once returns a new gosync.shared.Once in this arena."""
        from .once import Once

        check_name(Once, name)
        return profile_name(Once._make(self), name)

    def Int32(self, value: int = 0) -> Int32:
        """Int32 returns a new gosync.shared.atomic.Int32 in this arena."""
        from .atomic import Int32

        return Int32._make(self, value)

    def Uint32(self, value: int = 0) -> Uint32:
        """Uint32 returns a new gosync.shared.atomic.Uint32 in this arena."""
        from .atomic import Uint32

        return Uint32._make(self, value)

    def Int64(self, value: int = 0) -> Int64:
        """Int64 returns a new gosync.shared.atomic.Int64 in this arena."""
        from .atomic import Int64

        return Int64._make(self, value)

    def Uint64(self, value: int = 0) -> Uint64:
        """Uint64 returns a new gosync.shared.atomic.Uint64 in this arena."""
        from .atomic import Uint64

        return Uint64._make(self, value)

    def Bool(self, value: bool = False) -> Bool:
        """Bool returns a new gosync.shared.atomic.Bool in this arena."""
        from .atomic import Bool

        return Bool._make(self, value)

    def Chan(self, capacity: int = 0, itemsize: int = 256, *, name: str | None = None) -> Chan:
        """Chan returns a new gosync.shared.Chan in this arena."""
        from .chan import Chan

        check_name(Chan, name)
        return profile_name(Chan._make(self, capacity, itemsize), name)


def path(name: str) -> str:
    return os.path.join(SHM_DIR, PREFIX + name)


# O_TMPFILE: PyPy's os module lacks it; Linux's generic value
# (asm-generic/fcntl.h: __O_TMPFILE | O_DIRECTORY) serves x86-64 and arm64.
_O_TMPFILE: int = getattr(os, "O_TMPFILE", 0o20000000 | os.O_DIRECTORY)


def _create_file(name: str | None, size: int) -> int:
    """_create_file makes the arena's file, header written, and returns its
    descriptor. A named one is made nameless (O_TMPFILE) and linked under
    its name only when whole, so that a process opening the name sees the
    whole arena or nothing, and of two creators the second to link gets
    FileExistsError. Where O_TMPFILE or /proc is missing it falls back to
    O_CREAT | O_EXCL, whose window (an opener gets ValueError "not a
    gosync arena") docs/DESIGN.md states."""
    arena_id = os.urandom(16)
    head = HEAD.pack(MAGIC, VERSION, HEADER_SIZE, size, arena_id)
    if name is None:
        return _fill(os.memfd_create("gosync-arena", os.MFD_CLOEXEC), size, head)
    try:
        fd = _fill(os.open(SHM_DIR, _O_TMPFILE | os.O_RDWR | os.O_CLOEXEC, 0o600), size, head)
    except OSError:
        fd = -1  # no O_TMPFILE here
    if fd >= 0:
        try:
            _link_whole(fd, name)
            return fd
        except FileExistsError:
            os.close(fd)
            raise
        except BaseException as e:
            os.close(fd)
            if not isinstance(e, OSError):
                raise
    fd = os.open(path(name), os.O_CREAT | os.O_EXCL | os.O_RDWR | os.O_CLOEXEC, 0o600)
    try:
        return _fill(fd, size, head)
    except BaseException:
        os.unlink(path(name))
        raise


def _fill(fd: int, size: int, head: bytes) -> int:
    """_fill sizes a new arena file and writes its bump word and header
    (last); it closes fd on failure."""
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        os.ftruncate(fd, size)
        os.pwrite(fd, struct.pack("<Q", HEADER_SIZE), BUMP)
        os.pwrite(fd, head, 0)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _link_whole(fd: int, name: str) -> None:
    """_link_whole gives the nameless file fd its arena name:
    FileExistsError if the name is taken."""
    # link(2) does not follow /proc/self/fd/N (EXDEV); linkat with
    # AT_SYMLINK_FOLLOW does, and os.link calls linkat only when given a
    # directory descriptor.
    dirfd = os.open(SHM_DIR, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.link(f"/proc/self/fd/{fd}", path(name), src_dir_fd=dirfd, follow_symlinks=True)
    finally:
        os.close(dirfd)


def _check_header(fd: int, where: str, expected_id: bytes | None) -> tuple[int, bytes]:
    """_check_header checks an arena file's header and returns its size and
    id, or raises ValueError saying what is wrong."""
    file_size = os.fstat(fd).st_size
    if file_size < HEADER_SIZE:
        raise ValueError(f"{where} is not a gosync arena: {file_size} bytes")
    magic, version, header_size, size, arena_id = HEAD.unpack(os.pread(fd, HEAD.size, 0))
    if magic != MAGIC:
        raise ValueError(f"{where} is not a gosync arena")
    if version != VERSION:
        raise ValueError(f"{where}: layout version {version}, this gosync reads {VERSION}")
    if header_size != HEADER_SIZE:
        raise ValueError(f"{where}: header size {header_size}, this gosync reads {HEADER_SIZE}")
    if size != file_size:
        raise ValueError(f"{where}: size field {size} is not the file's size {file_size}")
    if expected_id is not None and arena_id != expected_id:
        raise ValueError(f"{where}: arena was replaced")
    return size, arena_id


# ---- Handles: the arenas this process has mapped ---------------------------


def _after_fork_in_child() -> None:
    global cache_lock
    # A thread of the parent may have held it at the fork.
    cache_lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)
