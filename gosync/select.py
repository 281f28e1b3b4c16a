"""select: Go's select statement over channel operations.

select(*cases, block=True, timeout=None) -> (index, value, ok) is written in
C (gosync/_binding_chan.c), docstring included: a Python function around it
cost more than the select itself. See its docstring, or docs/DESIGN.md.
"""

from __future__ import annotations

from ._native import chan_select as select

__all__ = ["select"]

# Where users reach it from, in reprs, help() and the API reference; the C
# function would say gosync._gosync.
select.__module__ = __name__
