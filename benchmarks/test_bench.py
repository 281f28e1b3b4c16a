"""pytest-benchmark suite: each scenario's contenders side by side.

    pytest benchmarks/ --benchmark-only

One group per scenario. Single-threaded rounds are PER_OP_N operations, so
a round's time in microseconds reads as nanoseconds per op. The contended
group's rounds are whole batches: each thread does CONTENDED_N operations.
Threshold checks live in ratios.py, not here.
"""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture
from scenarios import SCENARIOS, Scenario

PER_OP_N = 1_000
CONTENDED_N = 10_000  # per thread
CONTENDED_ROUNDS = 7


@pytest.mark.parametrize(
    ("scenario", "contender"),
    [pytest.param(s, c, id=f"{s.name}-{c}") for s in SCENARIOS for c in s.contenders],
)
def test_bench(benchmark: BenchmarkFixture, scenario: Scenario, contender: str) -> None:
    if not scenario.available():
        pytest.skip(f"{scenario.requires} is not installed")
    run = scenario.contenders[contender]
    benchmark.group = scenario.name
    if scenario.threads > 1:
        # A batch starts and joins threads, so fix the rounds rather than
        # letting pytest-benchmark calibrate on a single noisy sample.
        benchmark.extra_info["ops_per_round"] = scenario.threads * CONTENDED_N
        benchmark.pedantic(run, args=(CONTENDED_N,), rounds=CONTENDED_ROUNDS, warmup_rounds=1)
    else:
        benchmark.extra_info["ops_per_round"] = PER_OP_N
        benchmark(run, PER_OP_N)
