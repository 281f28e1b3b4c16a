"""The layout of a gosync.shared arena, and the primitive classes by kind.

Layout (little-endian; docs/DESIGN.md, "gosync.shared"):

    0      magic b"GOSYNCAR"
    8      layout version (u32), header size (u32)
    16     size of the mapping (u64)
    24     arena id: 16 random bytes
    64     bump offset: an atomic Uint64, the end of the last allocation
    128    the directory's lock: a robust mutex
    256    directory: 256 entries of 96 bytes: key (64 bytes, UTF-8, NUL
           padded), kind (u32, written last), pad (u32), slot offset (u64)
    32768  the first object slot

An object slot is a 16-byte header, magic 0x424F5347 ("GSOB"), kind (u32,
written last), extra (u64: a Cond's lock, as its slot | kind << 56), then
at slot + 16 the mutex profile's contention record of a lock whose state
begins the slot (24 bytes, csrc/profile.h; all zeros until a timed waiter
comes, and never read to decide anything), and the primitive's C state at
slot + 64, in 64-byte units (cache lines). The directory lock's record is
at 80, 48 bytes before it, as in a slot. A
fresh file is all zeros, which is every primitive's initial state.
Allocation is a compare-and-swap loop on the bump word, which moves only
for a slot that fits: lock-free, a refused request changes nothing, and a
process killed after its swap leaves only a hole.
"""

from __future__ import annotations

import re
import struct
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._placed import Placed

MAGIC = b"GOSYNCAR"
VERSION = 1
HEADER_SIZE = 32768
BUMP = 64
DIRECTORY_LOCK = 128
DIRECTORY = 256
ENTRY_SIZE = 96
ENTRIES = 256
KEY_SIZE = 64
SLOT_MAGIC = 0x424F5347
SLOT_HEADER = 64
DEFAULT_SIZE = 1 << 20
MIN_SIZE = 1 << 16
SHM_DIR = "/dev/shm"
PREFIX = "gosync."

KIND_NAMES = {
    1: "Mutex",
    2: "RWMutex",
    3: "WaitGroup",
    4: "Cond",
    5: "Once",
    6: "Int32",
    7: "Uint32",
    8: "Int64",
    9: "Uint64",
    10: "Bool",
    11: "Chan",
}

NAME = re.compile(r"[A-Za-z0-9._-]{1,200}")
HEAD = struct.Struct("<8sIIQ16s")  # magic, version, header size, size, id
SLOT = struct.Struct("<IIQ")  # magic, kind, extra
ENTRY = struct.Struct("<64sIIQ")  # key, kind, pad, offset

# Each primitive class by kind number, filled as their modules are imported
# (gosync.shared imports them all).
CLASSES: dict[int, type[Placed]] = {}


def article(noun: str) -> str:
    """article returns noun with "a" or "an" before it."""
    return ("an " if noun[0] in "AEIOU" else "a ") + noun

