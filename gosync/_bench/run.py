"""Running scenarios: interleaved rounds, a progress bar, and the results.

The results are one JSON-ready dict holding every raw sample; the table, the
markdown, the chart and the target checks are all computed from it, so a
saved run (--json) renders exactly as the live one did.
"""

from __future__ import annotations

import datetime
import gc
import platform
import sys
from dataclasses import asdict
from typing import Any, Dict, List, Optional, Sequence, TextIO

import gosync

from .._cli import cpu_counts
from .contended import WAIT_SAMPLE_EVERY
from .scenario import Contender, Sample, Scenario

Results = Dict[str, Any]


class Progress:
    """A one-line progress bar, redrawn in place on a stream (stderr). It
    draws only on a terminal: redrawn in a file or a pipe, it would be a
    long line of carriage returns; there it is silent."""

    WIDTH = 30

    def __init__(self, total: int, stream: Optional[TextIO]) -> None:
        self.total = max(1, total)
        self.done = 0
        isatty = getattr(stream, "isatty", None)
        self.stream = stream if isatty is not None and isatty() else None

    def step(self, label: str) -> None:
        """Counts one unit of work done and redraws the bar with label."""
        self.done += 1
        if self.stream is None:
            return
        filled = self.WIDTH * self.done // self.total
        bar = "#" * filled + "." * (self.WIDTH - filled)
        # Within 79 columns, so that a terminal of 80 never wraps it.
        self.stream.write(f"\rbench [{bar}] {self.done}/{self.total} {label:<30.30}")
        self.stream.flush()

    def close(self) -> None:
        """Ends the bar's line."""
        if self.stream is not None:
            self.stream.write("\n")
            self.stream.flush()


def machine() -> Dict[str, Any]:
    """What the figures were measured on."""
    usable, installed = cpu_counts()
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpus": installed,
        "usable_cpus": usable,
        "cpu_model": model,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "gil": getattr(sys, "_is_gil_enabled", lambda: True)(),
        "switch_interval_ms": sys.getswitchinterval() * 1e3,
        "gosync": gosync.__version__,
        "platform": platform.platform(),
    }


def iterations(s: Scenario, c: Contender, threads: int, scale: int) -> int:
    """Iterations per thread for one sample of contender c."""
    return max(1, s.n // (scale * c.divisor * threads))


def sample_seconds(s: Scenario, scale: int) -> float:
    """The wall time of one sample of a timed scenario (0 for the others):
    --quick (a scale above 1) takes the scenario's quick time."""
    return s.seconds if scale == 1 else s.quick_seconds


def _sample(s: Scenario, c: Contender, threads: int, scale: int, warm_up: bool = False) -> Sample:
    """One sample of contender c; a warm-up one is a quarter the size."""
    if not s.seconds:
        return c.run(threads, iterations(s, c, threads, scale * 4 if warm_up else scale))
    if c.timed is None:
        raise TypeError(f"{s.name}: {c.name} has no timed runner")
    seconds = sample_seconds(s, scale)
    return c.timed(threads, seconds / 4 if warm_up else seconds)


def measure(
    s: Scenario, threads: int, rounds: int, scale: int, progress: Progress
) -> Dict[str, List[Sample]]:
    """Samples of each available contender, interleaved over `rounds`."""
    runnable = [c for c in s.contenders if c.available()]
    label = f"{s.name} x{threads}" if s.contended else s.name
    for c in runnable:  # warm-up, untimed
        _sample(s, c, threads, scale, warm_up=True)
    samples: Dict[str, List[Sample]] = {c.name: [] for c in runnable}
    for _ in range(rounds):
        for c in runnable:
            gc.collect()  # so no contender pays for another's garbage
            samples[c.name].append(_sample(s, c, threads, scale))
        # Reversing each round (A B C C B A ...) keeps any one side from
        # always running first, e.g. right after another's threads exit.
        runnable.reverse()
        progress.step(label)
    return samples


def run(
    scenarios: Sequence[Scenario],
    threads: Sequence[int],
    rounds: int,
    scale: int,
    command: str,
    progress_stream: Optional[TextIO],
) -> Results:
    """Runs the scenarios and returns the results, raw samples included."""
    units = sum(rounds * (len(threads) if s.contended else 1) for s in scenarios)
    progress = Progress(units, progress_stream)
    out: List[Dict[str, Any]] = []
    for s in scenarios:
        runs = []
        for t in threads if s.contended else (1,):
            samples = measure(s, t, rounds, scale, progress)
            runs.append({"threads": t, "samples": {k: [asdict(x) for x in v] for k, v in samples.items()}})
        out.append(
            {
                "name": s.name,
                "title": s.title,
                "baseline": s.baseline,
                "contended": s.contended,
                # Timed scenarios: every contender's samples lasted this long.
                "sample_seconds": sample_seconds(s, scale) or None,
                "contenders": [c.name for c in s.contenders],
                "missing": {c.name: c.requires for c in s.contenders if not c.available()},
                "targets": [asdict(t) for t in s.targets],
                "runs": runs,
            }
        )
    progress.close()
    return {
        "command": command,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "rounds": rounds,
        "scale": scale,
        "wait_sample_every": WAIT_SAMPLE_EVERY,
        "threads": list(threads),
        "scenarios": out,
    }
