"""Text forms shared by the outputs: durations and frames."""

from __future__ import annotations

from ._store import Frame


def duration(ns: float) -> str:
    """duration formats ns as Go's time.Duration prints, to 3 decimals.

    Below 1µs it prints whole nanoseconds ("850ns"); above, the largest unit
    of µs, ms and s that keeps the figure at least 1, with trailing zeros
    trimmed ("1.5ms", "2s").
    """
    ns = round(ns)
    if ns < 1000:
        return f"{ns}ns"
    for unit, scale in (("µs", 1e3), ("ms", 1e6)):
        if ns < scale * 1000:
            return _trim(ns / scale) + unit
    return _trim(ns / 1e9) + "s"


def _trim(x: float) -> str:
    return f"{x:.3f}".rstrip("0").rstrip(".")


def frame_text(frame: Frame) -> str:
    """frame_text names a frame as "function (file:line)".

    A semicolon, which separates frames in collapsed stacks, becomes ":".
    """
    return f"{frame.function} ({frame.filename}:{frame.line})".replace(";", ":")
