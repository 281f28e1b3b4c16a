"""examples/producer_consumer_chan.py: runs as a script, and is exact:
every item sent is received exactly once, whether the producers finish or
are shut down through their context's done() channel."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.timeout(120)

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "producer_consumer_chan.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("producer_consumer_chan", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example() -> ModuleType:
    return load()


@pytest.mark.parametrize("producers,consumers,capacity", [(1, 1, 0), (4, 3, 16), (3, 5, 1), (8, 8, 128)], ids=str)
def test_every_item_received_exactly_once(example: ModuleType, producers: int, consumers: int, capacity: int) -> None:
    items = 300
    out = example.run(producers, consumers, items, capacity)
    assert not out.cancelled
    assert [len(s) for s in out.sent] == [items] * producers
    received = sorted(item for r in out.received for item in r)
    assert received == sorted((p, i) for p in range(producers) for i in range(items))
    assert out.exact() and out.in_order_per_producer()


def test_shutdown_through_done_is_exact(example: ModuleType) -> None:
    # Slow consumers and a short deadline: the producers stop early, and
    # whatever they sent is still received exactly once.
    out = example.run(4, 2, 100_000, 8, stop_after=0.2, consume_delay=0.001)
    sent = sum(map(len, out.sent))
    assert out.cancelled
    assert 0 < sent < 4 * 100_000
    assert sum(map(len, out.received)) == sent
    assert out.exact() and out.in_order_per_producer()


def test_exact_check_can_fail(example: ModuleType) -> None:
    bad = example.Outcome(sent=[[(0, 0), (0, 1)]], received=[[(0, 0), (0, 0)]])
    assert not bad.exact()
    lost = example.Outcome(sent=[[(0, 0), (0, 1)]], received=[[(0, 1)]])
    assert not lost.exact()
    disorder = example.Outcome(sent=[[(0, 0), (0, 1)]], received=[[(0, 1), (0, 0)]])
    assert disorder.exact() and not disorder.in_order_per_producer()


@pytest.mark.parametrize("args", [[], ["--stop-after", "0.1", "--items", "1000000"]], ids=["full", "stopped"])
def test_runs_as_a_script(args: list[str], tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(EXAMPLE), *args], cwd=tmp_path, capture_output=True, text=True, timeout=100
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "exact: every item sent was received exactly once" in proc.stdout
    assert ("cancelled" in proc.stdout) == bool(args)
