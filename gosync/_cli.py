"""Helpers shared by the commands of python -m gosync (race and bench).

Neither command imports the other: what both need lives here, and this
module imports nothing of gosync, so it never pulls in either command's
dependencies.
"""

from __future__ import annotations

import argparse
import os
from typing import Optional, Tuple

__all__ = ["cpu_counts", "positive_int"]


def any_int(text: str) -> int:
    """any_int parses a command-line integer, of any sign.

    Anything else raises argparse.ArgumentTypeError, which argparse reports
    as a usage error.
    """
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None


def positive_int(text: str) -> int:
    """positive_int parses a command-line count that must be at least 1;
    anything else is a usage error, as for any_int."""
    value = any_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive integer")
    return value


def non_negative_int(text: str) -> int:
    """non_negative_int parses a command-line integer that must be at least
    0; anything else is a usage error, as for any_int."""
    value = any_int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def cpu_counts() -> Tuple[int, Optional[int]]:
    """cpu_counts returns (CPUs this process may use, CPUs installed).

    The usable count comes from os.sched_getaffinity where the platform has
    it, else os.cpu_count (1 if that is unknown); the installed count is
    os.cpu_count, which may be None.
    """
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return usable, os.cpu_count()
