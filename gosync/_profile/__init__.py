"""Contention profiles: the record store and its three outputs (issue 17).

This package is private. It holds what the slow paths of the primitives
record into (through _hooks, which the binding calls), the table, collapsed
stacks and pprof file made from it, and python -m gosync profile (_cli).
The public API is gosync.profile; see docs/DESIGN.md, "Profiling
contention".
"""

from __future__ import annotations

from ._collapsed import collapsed
from ._pprof import pprof
from ._store import BLOCK, MUTEX, Frame, Snapshot, Stack, Store, record, store
from ._table import table

__all__ = [
    "BLOCK",
    "MUTEX",
    "Frame",
    "Snapshot",
    "Stack",
    "Store",
    "collapsed",
    "pprof",
    "record",
    "store",
    "table",
]
