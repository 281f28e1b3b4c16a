"""The text table: the primitives that made threads wait longest."""

from __future__ import annotations

from typing import List

from ._format import duration
from ._store import Snapshot


def table(snap: Snapshot, limit: int = 20) -> str:
    """table returns the top limit primitives of snap by total wait, as text.

    Each row has the primitive's site, the number of waits (scaled, as the
    profile's sampling estimates it, rounded), their total, mean and 99th
    percentile. Rows come by total wait, largest first; equal totals by
    site. A profile with no events has a header and no rows. A limit below
    1 raises ValueError.
    """
    if limit < 1:
        raise ValueError(f"gosync: table limit must be at least 1, got {limit}")
    header = ("site", "count", "total", "mean", "p99")
    rows: List[tuple[str, str, str, str, str]] = []
    for r in snap.sites[:limit]:
        mean = r.total_ns / r.contentions
        rows.append((r.site, str(round(r.contentions)), duration(r.total_ns), duration(mean), duration(r.p99_ns)))
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [f"{snap.kind} profile: top {len(rows)} of {len(snap.sites)} primitives by total wait"]
    for row in [header, *rows]:
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"
