"""Collapsed stacks, the input of flamegraph.pl and speedscope."""

from __future__ import annotations

from typing import Dict

from ._format import frame_text
from ._store import Snapshot


def site_frame(site: str) -> str:
    """site_frame names the primitive as the leaf frame of its stacks.

    The primitive is the leaf so that a flame graph's top and pprof's flat
    column show which primitive the time was spent on.
    """
    return f"[{site}]".replace(";", ":")


def collapsed(snap: Snapshot) -> str:
    """collapsed returns snap as collapsed stacks, one line per stack.

    A line is the frames from the outermost call in, then the primitive's
    site, separated by ";", then a space and the total wait in nanoseconds
    (rounded). Lines that come out equal are merged; lines are sorted. A
    profile with no events gives "".
    """
    totals: Dict[str, float] = {}
    for r in snap.stacks:
        frames = [frame_text(f) for f in reversed(r.stack)]
        frames.append(site_frame(r.site))
        key = ";".join(frames)
        totals[key] = totals.get(key, 0.0) + r.total_ns
    return "".join(f"{k} {round(v)}\n" for k, v in sorted(totals.items()))
