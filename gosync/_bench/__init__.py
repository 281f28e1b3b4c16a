"""python -m gosync bench: gosync against the standard library and the
libraries a user would pick instead, side by side in one process.

Each scenario is defined once, in single.py, contended.py, chan.py and shared.py, and run by the
command line, by benchmarks/ratios.py (the target checks) and by the
pytest-benchmark suite in benchmarks/.
"""

from __future__ import annotations

from typing import List, Optional

from .chan import CHAN
from .contended import CONTENDED
from .shared import SHARED
from .single import SINGLE

SCENARIOS = SINGLE + CONTENDED + CHAN + SHARED

__all__ = ["SCENARIOS", "main"]


def main(argv: Optional[List[str]] = None) -> int:
    """Runs python -m gosync bench with argv; returns the exit status."""
    from .cli import main as cli_main

    return cli_main(argv)
