"""python -m gosync race: the lost-update demo, run as a user runs it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gosync import _race
from conftest import pypy_cannot


def race(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # cwd=tmp_path: `python -m` puts the working directory first on sys.path,
    # and the child must import the installed gosync, not the source tree.
    return subprocess.run(
        [sys.executable, "-m", "gosync", "race", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=15,
    )


def test_counts_are_exact_for_synchronised_variants(tmp_path: Path) -> None:
    proc = race(tmp_path, "--threads", "8", "--iterations", "500", "--json", "out.json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    raw = json.loads((tmp_path / "out.json").read_text())
    assert (raw["threads"], raw["iterations"]) == (8, 500)
    results = {r["name"]: r for r in raw["results"]}
    assert list(results) == [v.name for v in _race.VARIANTS]
    for r in results.values():
        assert r["expected"] == 4000
        assert r["unfinished"] == 0
        assert r["lost"] == r["expected"] - r["observed"]
        if r["synchronised"]:
            assert r["observed"] == 4000, r
        else:
            assert 0 < r["observed"] <= 4000, r
    assert raw["exit_status"] == 0
    assert raw["cpus_usable"] >= 1
    assert "verdict: OK" in proc.stdout
    assert "CPUs:" in proc.stdout


def test_json_to_stdout_keeps_stdout_parseable(tmp_path: Path) -> None:
    proc = race(tmp_path, "--threads", "3", "--iterations", "1", "--json", "-")
    assert proc.returncode == 0, proc.stderr
    raw = json.loads(proc.stdout)
    assert [r["observed"] for r in raw["results"] if r["synchronised"]] == [3, 3]
    assert "verdict: OK" in proc.stderr  # the table goes to stderr


def test_help(tmp_path: Path) -> None:
    proc = race(tmp_path, "--help")
    assert proc.returncode == 0
    for option in ("--threads", "--iterations", "--json"):
        assert option in proc.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["--threads", "0"],
        ["--threads", "-3"],
        ["--iterations", "1.5"],
        ["--iterations", "many"],
        ["--threads", str(_race.MAX_THREADS + 1)],
        ["--threads", "10000", "--iterations", "1000000"],  # overflows the C int
        ["--json", "no/such/folder/out.json"],
        ["--frobnicate"],
    ],
)
def test_bad_arguments_are_usage_errors(args: list[str], tmp_path: Path) -> None:
    proc = race(tmp_path, *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith("usage: python -m gosync race"), proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


def words(text: str) -> str:
    """The text with its lines joined: the report wraps its sentences."""
    return " ".join(text.split())


DEADLINE_MISSED = """
import sys
from gosync import _race
_race.DEADLINE_S = 0.2
_race.DEADLINE_S_PER_INCREMENT = 0
sys.exit(_race.main(["--threads", "4", "--iterations", "5000000"]))
"""


def test_threads_that_miss_the_deadline_fail_the_run_without_hanging(tmp_path: Path) -> None:
    # 20 million atomic adds take Python well over 0.2 s (at 25 ns an add,
    # faster than seen, 0.5 s); the C loop takes a few ms. 8 million in
    # 0.3 s was too close: in one run all 4 threads finished in time.
    proc = subprocess.run(
        [sys.executable, "-c", DEADLINE_MISSED], cwd=tmp_path, capture_output=True, text=True, timeout=15
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = words(proc.stdout)
    # Usually all 4 miss it; under load one thread can get the GIL long
    # enough to finish its share in time (seen in CI: 3 of 4).
    assert re.search(r"atomic\.Int64\.add: [1-4] of 4 threads did not finish within 0\.2 s", out), out
    assert "not run: Mutex, Python int, Python x += 1" in out
    assert "Traceback" not in proc.stderr


def result(name: str, observed: int, unfinished: int = 0) -> _race.Result:
    variant = next(v for v in _race.VARIANTS if v.name == name)
    return _race.Result(name, variant.synchronised, 10, 100, observed, 0.0, unfinished)


def exact(observed_by_name: dict[str, int]) -> list[_race.Result]:
    return [result(v.name, observed_by_name.get(v.name, 1000)) for v in _race.VARIANTS]


def test_exit_status_ignores_losses_of_unsynchronised_variants() -> None:
    results = exact({"C int, no GIL": 17, "Python x += 1": 999})
    assert _race.exit_status(results) == 0
    assert "verdict: OK" in _race.report(results, 2, 2)


@pytest.mark.parametrize("name", ["atomic.Int64.add", "Mutex, Python int"])
def test_exit_status_fails_when_a_synchronised_variant_is_wrong(name: str) -> None:
    results = exact({name: 999})
    assert _race.exit_status(results) == 1
    assert f"verdict: FAILED: {name} counted 999, not 1000" in words(_race.report(results, 2, 2))


def test_exit_status_fails_when_a_thread_did_not_finish() -> None:
    results = exact({})
    results[0] = result("C int, no GIL", 900, unfinished=1)
    assert _race.exit_status(results) == 1
    assert "1 of 10 threads did not finish" in words(_race.report(results, 2, 2))


def test_report_says_when_unsafe_variants_lost_nothing() -> None:
    text = words(_race.report(exact({}), 1, 2))
    assert "CPUs: 1 usable" in text
    assert "C int, no GIL lost nothing this run" in text
    assert "with one CPU" in text
    assert "Python x += 1 lost nothing this run" in text
    lost = _race.report(exact({"C int, no GIL": 10, "Python x += 1": 10}), 2, 2)
    assert "lost nothing" not in lost


def test_the_defaults_are_the_seeds_threads_with_1000_increments_each() -> None:
    args = _race._parser().parse_args([])
    assert (args.threads, args.iterations) == (1000, 1000)


@pypy_cannot("its os module has no sched_getaffinity or sched_setaffinity, so the demo cannot pin threads")
def test_the_c_threads_are_spread_over_the_usable_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    # Left to the scheduler, the threads the gate releases all ran on the
    # opener's CPU, one after another, and lost nothing in most runs.
    pinned: list[set[int]] = []
    monkeypatch.setattr(_race.os, "sched_getaffinity", lambda pid: {3, 5, 8}, raising=False)
    monkeypatch.setattr(_race.os, "sched_setaffinity", lambda pid, cpus: pinned.append(set(cpus)))
    result = _race.run_variant(_race.VARIANTS[0], threads=6, iterations=10)
    assert result.problem() is None
    assert sorted(map(min, pinned)) == [3, 3, 5, 5, 8, 8] and all(len(c) == 1 for c in pinned)
    monkeypatch.setattr(_race.os, "sched_getaffinity", lambda pid: {0}, raising=False)
    pinned.clear()
    _race.run_variant(_race.VARIANTS[0], threads=2, iterations=10)
    assert pinned == []  # one CPU: nothing to spread over
