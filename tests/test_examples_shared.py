"""The parallel examples (examples/primes.py, wordcount.py,
producer_consumer.py) run as `python examples/NAME.py` and print the right
result, at small sizes so that each takes about a second.

Each runs in a subprocess from an empty folder (so the installed gosync is
imported), under a timeout; subprocess.run kills it if the timeout passes,
and the example's own worker processes are its children.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SECONDS = r"\d+\.\d{3} s"


def run_example(name: str, tmp_path: Path, *args: str) -> list[str]:
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args], cwd=tmp_path, capture_output=True, text=True, timeout=90
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout.splitlines()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_primes_counts_the_same_with_threads_and_processes(tmp_path: Path, start: str) -> None:
    # 2262 primes below 20,000 (pi(20000)); 3 workers, so that blocks are
    # shared unevenly and the last one is short.
    lines = run_example("primes.py", tmp_path, "--limit", "20000", "--workers", "3", "--start", start)
    assert len(lines) == 3, lines
    assert re.fullmatch(rf"threads   \(3 workers\): 2262 primes below 20000 in {SECONDS}", lines[0]), lines
    assert re.fullmatch(rf"processes \(3 workers\): 2262 primes below 20000 in {SECONDS}", lines[1]), lines
    assert re.fullmatch(r"speedup of processes over threads: \d+\.\d\dx", lines[2]), lines


@pytest.mark.timeout(120)
def test_primes_default_limit_is_the_seeds(tmp_path: Path) -> None:
    lines = run_example("primes.py", tmp_path, "--workers", "2")
    assert [line.split(" in ")[0] for line in lines[:2]] == [
        "threads   (2 workers): 17984 primes below 200000",
        "processes (2 workers): 17984 primes below 200000",
    ]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_wordcount_equals_one_str_split(tmp_path: Path, start: str) -> None:
    lines = run_example("wordcount.py", tmp_path, "--words", "50000", "--workers", "3", "--start", start)
    assert len(lines) == 4, lines
    assert re.fullmatch(r"book: \d+ bytes", lines[0]), lines
    assert re.fullmatch(rf"one process, str\.split: +50000 words in {SECONDS}", lines[1]), lines
    assert re.fullmatch(rf"3 processes, gosync\.shared: 50000 words in {SECONDS}", lines[2]), lines
    assert lines[3] == "total: 50000 words"


@pytest.mark.timeout(120)
@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_producer_consumer_consumes_every_item_once(tmp_path: Path, start: str) -> None:
    # A store of 3 for 4 producers and 3 consumers: both Conds are waited on.
    args = ("--producers", "4", "--consumers", "3", "--items", "300", "--capacity", "3", "--start", start)
    lines = run_example("producer_consumer.py", tmp_path, *args)
    assert len(lines) == 2, lines
    for variant, line in zip(("threads  ", "processes"), lines):
        want = (
            rf"{variant}: 4 producers, 3 consumers, capacity 3: 1200 of 1200 items consumed exactly once, "
            rf"0 never, 0 more than once, in {SECONDS}"
        )
        assert re.fullmatch(want, line), line
