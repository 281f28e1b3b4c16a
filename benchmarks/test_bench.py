"""pytest-benchmark suite: each scenario's contenders side by side.

    pytest benchmarks/ --benchmark-only

The scenarios are those of python -m gosync bench (gosync._bench), one
group per scenario and thread count. Single-thread rounds are PER_OP_N
operations, so a round's time in microseconds reads as nanoseconds per op.
A contended round is a whole batch of up to CONTENDED_N operations per
thread: pytest-benchmark times a call, so here the lock scenarios run their
fixed-work runner too, where python -m gosync bench runs every contender
for the same wall time (gosync/_bench/contended.py says why). A round's
time is that batch's inverse throughput; fairness is not measured here.
Threshold checks live in ratios.py, not here.
"""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from gosync._bench import SCENARIOS
from gosync._bench.scenario import Contender, Scenario

PER_OP_N = 1_000
CONTENDED_THREADS = (1, 4)
CONTENDED_N = 10_000  # per thread
CONTENDED_ROUNDS = 7


def _cases() -> list:
    cases = []
    for s in SCENARIOS:
        for threads in CONTENDED_THREADS if s.contended else (1,):
            for c in s.contenders:
                cases.append(pytest.param(s, c, threads, id=f"{s.name}-x{threads}-{c.name}"))
    return cases


@pytest.mark.parametrize(("scenario", "contender", "threads"), _cases())
def test_bench(benchmark: BenchmarkFixture, scenario: Scenario, contender: Contender, threads: int) -> None:
    if not contender.available():
        pytest.skip(f"{contender.requires} is not installed")
    benchmark.group = f"{scenario.name}-x{threads}" if scenario.contended else scenario.name
    if scenario.contended:
        # A batch starts and joins threads, so fix the rounds rather than
        # letting pytest-benchmark calibrate on a single noisy sample. Every
        # contender of a group does the same work, sized for the slowest
        # (the CLI's divisors), and at most a quarter of the CLI's sample:
        # the sleeping scenario's operations take a hundred microseconds.
        slowest = max(c.divisor for c in scenario.contenders)
        n = max(1, min(CONTENDED_N, scenario.n // 4) // slowest)
        benchmark.extra_info["ops_per_round"] = threads * n
        benchmark.pedantic(contender.run, args=(threads, n), rounds=CONTENDED_ROUNDS, warmup_rounds=1)
    else:
        benchmark.extra_info["ops_per_round"] = PER_OP_N
        benchmark(contender.run, 1, PER_OP_N)
