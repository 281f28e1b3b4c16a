"""python -m gosync bench: its scenarios, its report, and its command line.

These check what the benchmark computes and prints, never how fast anything
is: the ratios themselves are checked by benchmarks/ratios.py.
"""

from __future__ import annotations

import copy
import importlib.util
import io
import json
import os
import platform
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Dict, List

import pytest

from gosync._bench import SCENARIOS, contended, distributed
from gosync._bench.contended import CONTENDED
from gosync._bench.report import missed, render, summarize, target_rows
from gosync._bench.run import Progress, run
from gosync._bench.scenario import Contender, Sample, Scenario, Target, single

RATIOS = Path(__file__).resolve().parents[1] / "benchmarks" / "ratios.py"


def bench(tmp_path: Path, *args: str, script: str = "") -> subprocess.CompletedProcess[str]:
    # cwd=tmp_path: the child must import the installed gosync, not the tree.
    cmd = [sys.executable, script] if script else [sys.executable, "-m", "gosync", "bench"]
    return subprocess.run([*cmd, *args], cwd=tmp_path, capture_output=True, text=True, timeout=120)


def test_every_scenario_is_well_formed() -> None:
    names = [s.name for s in SCENARIOS]
    assert len(set(names)) == len(names)
    assert {s.name for s in SCENARIOS if s.contended} >= {
        "contended_mutex_empty",
        "contended_mutex_counter",
        "contended_rw_90_10",
        "contended_rw_50_50",
        "contended_atomic_add",
        "contended_cond_ring",
    }
    for s in SCENARIOS:
        contenders = [c.name for c in s.contenders]
        assert len(set(contenders)) == len(contenders), s.name
        assert contenders[0].startswith("gosync."), s.name
        assert s.baseline in contenders[1:], s.name
        assert s.contender(s.baseline).requires is None, "the stdlib baseline needs no library"
        for t in s.targets:
            assert t.against in contenders[1:], (s.name, t)
            assert t.kind in ("time", "faster", "throughput")
        if s.seconds:  # timed: every contender can run for a time
            assert s.contended and 0 < s.quick_seconds <= s.seconds, s.name
            assert all(c.timed is not None for c in s.contenders), s.name
    # Every scenario that measures fairness compares equal times.
    locks = [s.name for s in CONTENDED if s.name.startswith("contended_mutex_")]
    assert len(locks) == 3 and all(s.seconds == contended.SAMPLE_SECONDS for s in CONTENDED if s.name in locks)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_every_contender_runs_and_counts_its_operations(scenario: Scenario) -> None:
    for threads in (1, 3) if scenario.contended else (1,):
        for c in scenario.contenders:
            if not c.available():
                continue
            sample = c.run(threads, 40)
            assert sample.ops == threads * 40, (c.name, threads)
            assert sample.seconds > 0
            if sample.shares:
                assert sum(sample.shares) == sample.ops
                assert len(sample.shares) == threads


def test_lock_scenarios_share_the_work_and_sample_waits() -> None:
    s = contended.CONTENDED[1]
    sample = s.contender("gosync.Mutex").run(4, 800)
    assert len(sample.shares) == 4 and sum(sample.shares) == 3200
    assert sample.fairness == min(sample.shares) / max(sample.shares)
    # One acquisition in WAIT_SAMPLE_EVERY of each thread's is timed.
    every = contended.WAIT_SAMPLE_EVERY
    assert len(sample.waits_ns) == sum(-(-n // every) for n in sample.shares)
    assert all(w >= 0 for w in sample.waits_ns)


@pytest.mark.parametrize("scenario", CONTENDED, ids=lambda s: s.name)
def test_every_contended_runner_checks_its_count(scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    checks: List[tuple] = []
    monkeypatch.setattr(contended, "_check", lambda what, got, want: checks.append((what, got, want)))
    for c in scenario.contenders:
        if not c.available():
            continue
        del checks[:]
        c.run(2, 30)
        counts = scenario.name != "contended_mutex_empty"  # an empty section has nothing to count
        assert len(checks) == counts, (c.name, checks)
        for what, got, want in checks:
            assert got == want, (c.name, what)


# ---- the timed runner of the lock scenarios --------------------------------------------

SECTION_S = 1e-3
RUNAWAY = 3_000  # sections: at SECTION_S each, a runner that ignores its time ends here


class _Runaway(Exception):
    pass


class _SlowLock:
    """A real lock whose every section sleeps SECTION_S (a sleep is at
    least that long, so its sections, one at a time, take at least
    SECTION_S each) and which counts its sections itself. Past RUNAWAY
    sections it raises instead of locking, so that a runner that never
    stops still ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.entered = 0

    def __enter__(self) -> None:
        self._lock.acquire()
        if self.entered >= RUNAWAY:
            self._lock.release()
            raise _Runaway
        self.entered += 1

    def __exit__(self, *exc: object) -> None:
        time.sleep(SECTION_S)
        self._lock.release()


@pytest.mark.timeout(60)
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_timed_sample_runs_for_its_time_and_counts_every_section(monkeypatch: pytest.MonkeyPatch) -> None:
    made: List[_SlowLock] = []

    def make() -> _SlowLock:
        made.append(_SlowLock())
        return made[-1]

    checks: List[tuple] = []
    monkeypatch.setattr(contended, "_check", lambda what, got, want: checks.append((what, got, want)))
    _, timed = contended._lock_contention(make, count=True, every=1)
    before = set(threading.enumerate())
    seconds = 0.2
    sample = timed(3, seconds)
    # No thread of the sample is left running.
    assert set(threading.enumerate()) <= before
    (lock,) = made
    assert lock.entered < RUNAWAY, "the runner did not stop at its time"
    # It ran for its time, and stopped soon after: a runner doing a fixed
    # count, or ignoring the stop, runs until RUNAWAY sections (>= 3 s).
    assert seconds <= sample.seconds < seconds + 1.5, sample.seconds
    # Every section counted once: by the lock itself, by the threads' shares,
    # by the counter incremented under the lock, and every one timed.
    assert sample.ops == lock.entered == sum(sample.shares) > 0
    assert len(sample.shares) == 3
    assert checks == [("counter", sample.ops, sample.ops)]
    assert len(sample.waits_ns) == sample.ops and all(w >= 0 for w in sample.waits_ns)


@pytest.mark.parametrize("scenario", [s for s in CONTENDED if s.seconds], ids=lambda s: s.name)
def test_every_timed_contender_runs_and_counts_its_operations(scenario: Scenario) -> None:
    before = set(threading.enumerate())
    for c in scenario.contenders:
        assert c.timed is not None
        sample = c.timed(3, 0.05)
        assert set(threading.enumerate()) <= before, c.name
        assert sample.seconds >= 0.05 and sample.ops == sum(sample.shares) > 0, c.name
        assert len(sample.shares) == 3
        every = contended.WAIT_SAMPLE_EVERY
        assert len(sample.waits_ns) == sum(-(-n // every) for n in sample.shares)
    with pytest.raises(ValueError, match="positive time"):
        scenario.contenders[0].timed(2, 0)  # type: ignore[misc]


def test_a_lost_update_fails_the_sample() -> None:
    with pytest.raises(AssertionError, match="lost updates, got 9, expected 10"):
        contended._check("counter", 9, 10)


def test_sample_fairness_and_ns_per_op() -> None:
    assert Sample(ops=1000, seconds=2e-3).ns_per_op == pytest.approx(2000)
    assert Sample(ops=10, seconds=1, shares=(10,)).fairness is None
    assert Sample(ops=10, seconds=1, shares=(2, 8, 0)).fairness == 0
    assert Sample(ops=10, seconds=1, shares=(4, 6)).fairness == pytest.approx(4 / 6)


@pytest.mark.parametrize(
    ("target", "mine", "other", "ratio", "met", "text"),
    [
        (Target("x", 1.5), 120.0, 100.0, 1.2, True, "<= 1.5x the time"),
        (Target("x", 1.5), 160.0, 100.0, 1.6, False, "<= 1.5x the time"),
        (Target("x", 2, "faster"), 40.0, 100.0, 2.5, True, ">= 2x faster"),
        (Target("x", 2, "faster"), 60.0, 100.0, 100 / 60, False, ">= 2x faster"),
        (Target("x", 0.8, "throughput", 4), 110.0, 100.0, 100 / 110, True, ">= 0.8x the throughput"),
        (Target("x", 0.8, "throughput", 4), 130.0, 100.0, 100 / 130, False, ">= 0.8x the throughput"),
    ],
)
def test_target_ratio(target: Target, mine: float, other: float, ratio: float, met: bool, text: str) -> None:
    assert target.ratio(mine, other) == pytest.approx(ratio)
    assert target.met(target.ratio(mine, other)) is met
    assert target.text() == text


def _sample(ns_per_op: float, shares: tuple = (), waits: tuple = ()) -> Dict[str, Any]:
    return {"ops": 1000, "seconds": ns_per_op * 1e-6, "shares": list(shares), "waits_ns": list(waits)}


def test_summarize_takes_medians_spread_and_percentiles() -> None:
    waits = tuple(range(1, 201))  # 1..200 ns over the rounds
    samples = [
        _sample(100, (1, 2), waits[:100]),
        _sample(300, (1, 1), waits[100:]),
        _sample(200, (1, 4), ()),
    ]
    m = summarize(samples)
    assert m["ns_per_op"] == pytest.approx(200)
    assert m["spread"] == pytest.approx((300 - 100) / 200)
    assert m["fairness"] == pytest.approx(0.5)  # median of 0.5, 1, 0.25
    assert m["p50_wait_us"] == pytest.approx(0.1)  # the 100th of 200, 0-based 99
    assert m["p99_wait_us"] == pytest.approx(0.198)  # the 198th of 200, 0-based 197
    assert m["max_wait_us"] == pytest.approx(0.2)


MISSING = "gosync_no_such_module"


def _tiny() -> Scenario:
    # A scenario with a target against a library that is not installed.
    def loop(n: int) -> float:
        return n * 1e-9

    return Scenario(
        "tiny",
        "a loop",
        (
            Contender("gosync.loop", single(loop)),
            Contender("stdlib", single(loop)),
            Contender("absent", single(loop), MISSING),
        ),
        baseline="stdlib",
        n=10,
        targets=(Target("stdlib", 1.5), Target("absent", 2, "faster")),
    )


def test_a_missing_library_is_a_note_not_a_failure() -> None:
    results = run([_tiny()], [1], rounds=2, scale=1, command="x", progress_stream=None)
    (s,) = results["scenarios"]
    assert s["missing"] == {"absent": MISSING}
    assert list(s["runs"][0]["samples"]) == ["gosync.loop", "stdlib"]
    text = render(results)
    assert f"absent not measured: `pip install {MISSING}`" in text
    rows = list(target_rows(results))
    assert rows[0][2:] == ("1.00x", True)
    assert rows[1][2:] == (f"not run: {MISSING} is not installed", None)
    assert missed(results) == 0


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """One small run of two scenarios, with --json, through the real CLI."""
    tmp = tmp_path_factory.mktemp("bench")
    args = ("--quick", "--rounds", "2", "--threads", "1,2", "--only", "mutex_", "--json", "run.json")
    proc = bench(tmp, *args)
    return tmp, proc


def test_cli_prints_the_table_json_and_progress(quick_run: tuple) -> None:
    tmp, proc = quick_run
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Single thread, uncontended:" in out and "Contended:" in out
    assert "gosync.Mutex" in out and "threading.Lock" in out
    assert "fairness" in out and "p99 us" in out
    assert "contended_mutex_counter: gosync.Mutex vs threading.Lock, 2 threads" not in out
    assert "not run: no 4-thread run" in out  # its target is at 4 threads
    raw = json.loads((tmp / "run.json").read_text())
    assert raw["rounds"] == 2 and raw["threads"] == [1, 2]
    assert raw["machine"]["cpus"] >= 1 and raw["machine"]["python"].startswith(platform.python_implementation())
    names = [s["name"] for s in raw["scenarios"]]
    assert names == [s.name for s in SCENARIOS if "mutex_" in s.name]
    assert raw["wait_sample_every"] == contended.WAIT_SAMPLE_EVERY
    for s in raw["scenarios"]:
        # The lock scenarios ran every contender for the same (quick) time.
        timed = s["name"].startswith("contended_mutex_")
        assert s["sample_seconds"] == (contended.QUICK_SAMPLE_SECONDS if timed else None), s["name"]
        if timed:
            for r in s["runs"]:
                for samples in r["samples"].values():
                    assert all(x["seconds"] >= contended.QUICK_SAMPLE_SECONDS for x in samples)
    assert "same wall time,\n0.2 s a sample" in out
    for s in raw["scenarios"]:
        assert [r["threads"] for r in s["runs"]] == ([1, 2] if s["contended"] else [1])
        for r in s["runs"]:
            for samples in r["samples"].values():
                assert len(samples) == 2  # every round, raw
    # stderr is a pipe here, not a terminal: no progress bar.
    assert proc.stderr == ""


def test_from_renders_a_saved_run_exactly(quick_run: tuple) -> None:
    tmp, proc = quick_run
    again = bench(tmp, "--from", "run.json")
    assert again.returncode == 0, again.stderr
    assert again.stdout == proc.stdout
    assert again.stderr == ""


def test_markdown_renders_tables(quick_run: tuple) -> None:
    tmp, _ = quick_run
    md = bench(tmp, "--from", "run.json", "--markdown")
    assert md.returncode == 0, md.stderr
    assert "| operation | contender | ns/op | spread | vs stdlib |" in md.stdout
    assert "|---|---|---:|---:|---:|" in md.stdout
    assert md.stdout.startswith("`python -m gosync bench --quick")


def test_plot_writes_a_png(quick_run: tuple) -> None:
    pytest.importorskip("matplotlib", reason="--plot needs the bench extra")
    tmp, _ = quick_run
    proc = bench(tmp, "--from", "run.json", "--plot", "chart.png")
    assert proc.returncode == 0, proc.stderr
    data = (tmp / "chart.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert 5_000 < len(data) < 200_000


def test_chart_colours_mean_one_family_and_no_legend_covers_a_panel(quick_run: tuple) -> None:
    pytest.importorskip("matplotlib", reason="--plot needs the bench extra")
    import matplotlib.pyplot as plt

    from gosync._bench.plot import family, figure

    tmp, _ = quick_run
    fig = figure(json.loads((tmp / "run.json").read_text()))
    try:
        by_family: Dict[str, set] = {}
        lines = 0
        for ax in fig.axes:
            # A legend inside a panel can hide its points (it hid the
            # sleeping scenario's longest waits); the figure has one legend,
            # below the panels.
            assert ax.get_legend() is None, ax.get_title()
            for line in ax.get_lines():
                contender = line.get_label().split(" (")[0]
                by_family.setdefault(family(contender), set()).add(line.get_color())
                lines += 1
        assert lines >= 6  # 3 throughput panels, fairness and wait: 2 contenders each
        assert set(by_family) == {"gosync", "standard library"}
        assert all(len(c) == 1 for c in by_family.values()), by_family
        assert by_family["gosync"] != by_family["standard library"]
        (legend,) = fig.legends
        texts = [t.get_text() for t in legend.get_texts()]
        assert texts[0] == "gosync (Mutex)" and texts[1] == "standard library (Lock)", texts
        assert any("sleep(50 us)" in t for t in texts), texts  # the line styles of the Mutex panels
        assert min(t.get_fontsize() for t in legend.get_texts()) >= 9
    finally:
        plt.close(fig)


def test_medians_gives_the_median_and_range_over_runs(quick_run: tuple) -> None:
    # Three copies of one run, gosync.Mutex 1x, 2x and 4x slower in each
    # round: its ns/op is the middle copy's (not the mean), and its range
    # spans the other two.
    tmp, _ = quick_run
    names = [_doctored(tmp, f"x{k}.json", float(k)) for k in (1, 2, 4)]
    proc = bench(tmp, *names, script=str(RATIOS.parent / "medians.py"))
    assert proc.returncode == 0, proc.stderr
    raw = json.loads((tmp / "run.json").read_text())
    (with_run,) = [s for s in raw["scenarios"] if s["name"] == "mutex_with"][0]["runs"]
    ns = summarize(with_run["samples"]["gosync.Mutex"])["ns_per_op"]
    row = next(line for line in proc.stdout.splitlines() if line.startswith("| `with m: pass`, uncontended |"))
    assert f"| {2 * ns:.1f} ({ns:.1f}-{4 * ns:.1f}) |" in row, (row, ns)
    lock = summarize(with_run["samples"]["threading.Lock"])["ns_per_op"]
    ratios = sorted(k * ns / lock for k in (1, 2, 4))
    assert f"| {ratios[1]:.2f}x ({ratios[0]:.2f}-{ratios[2]:.2f}) |" in row, row
    assert proc.stdout.startswith("3 runs; ")


def _doctored(tmp: Path, name: str, slower: float) -> str:
    """The saved run with gosync's contended Mutex samples made slower."""
    raw = json.loads((tmp / "run.json").read_text())
    raw = copy.deepcopy(raw)
    for s in raw["scenarios"]:
        for r in s["runs"]:
            for x in r["samples"]["gosync.Mutex"]:
                x["seconds"] *= slower
    (tmp / name).write_text(json.dumps(raw))
    return name


def test_check_fails_on_a_missed_target(quick_run: tuple) -> None:
    tmp, _ = quick_run
    slow = _doctored(tmp, "slow.json", 1000.0)
    for proc in (bench(tmp, "--from", slow, "--check"), bench(tmp, "--from", slow, script=str(RATIOS))):
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "MISS" in proc.stdout and "target(s) missed" in proc.stdout
    fast = _doctored(tmp, "fast.json", 1e-3)
    for proc in (bench(tmp, "--from", fast, "--check"), bench(tmp, "--from", fast, script=str(RATIOS))):
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "MISS" not in proc.stdout and "all targets checked were met" in proc.stdout
    # Without --check, the report is the same but a miss is not an error.
    assert bench(tmp, "--from", slow).returncode == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--threads", "0"), "thread counts must be between 1 and 256"),
        (("--threads", "1,x"), "not a comma-separated list of integers"),
        (("--threads", ""), "not a comma-separated list of integers"),
        (("--rounds", "0"), "0 is not a positive integer"),
        (("--rounds", "two"), "'two' is not an integer"),
        (("--only", "no_such_scenario"), "no scenario name contains 'no_such_scenario'"),
        (("--from", "missing.json"), "--from missing.json:"),
        (("--from", "x.json", "--json", "y.json"), "with --from there is none"),
        (("--json", "no/such/dir/run.json", "--only", "mutex_with"), "--json no/such/dir/run.json:"),
        (("--bogus",), "unrecognized arguments: --bogus"),
        (("--from", "x.json", "--start-servers"), "with --from there is nothing to measure"),
        (("--from", "x.json", "--redis", "redis://127.0.0.1:1/0"), "with --from there is nothing to measure"),
    ],
)
def test_bad_arguments_are_usage_errors(tmp_path: Path, args: tuple, message: str) -> None:
    proc = bench(tmp_path, *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert proc.stdout == ""


def _wide_results() -> Dict[str, Any]:
    """Results for every scenario at 1 to 8 threads, with figures wider than
    any run has printed, and a long command and CPU model."""

    def sample(seconds: float, threads: int) -> Dict[str, Any]:
        shares = tuple(range(1, threads + 1)) if threads > 1 else ()
        return asdict(Sample(ops=1000, seconds=seconds, shares=shares, waits_ns=[123_456_789, 1_000]))

    scenarios = []
    for s in SCENARIOS:
        runs = []
        for t in (1, 2, 4, 8) if s.contended else (1,):
            samples = {c.name: [sample(1.2345, t), sample(6.789, t)] for c in s.contenders}
            runs.append({"threads": t, "samples": samples})
        scenarios.append(
            {
                "name": s.name, "title": s.title, "baseline": s.baseline, "contended": s.contended,
                "contenders": [c.name for c in s.contenders], "missing": {"fasteners": "fasteners"},
                "targets": [asdict(t) for t in s.targets], "runs": runs,
            }
        )
    machine = {
        "cpus": 128, "usable_cpus": 128, "cpu_model": "AMD EPYC 7B13 64-Core Processor with a long name",
        "python": "CPython 3.13.0", "gil": True, "gosync": "0.1.0",
    }
    command = "python -m gosync bench --threads 1,2,4,8 --json /some/long/path/to/a/run.json --plot chart.png"
    return {
        "command": command, "date": "2026-12-02 08:00 UTC", "machine": machine, "rounds": 9, "scale": 1,
        "threads": [1, 2, 4, 8], "scenarios": scenarios,
    }


def test_the_text_report_fits_80_columns() -> None:
    text = render(_wide_results())
    too_wide = [line for line in text.splitlines() if len(line) > 79]
    assert not too_wide, "\n".join(too_wide)
    assert "4011750.0" in text and "123457" in text  # the wide figures are there
    # A run saved before the Mutex scenarios were timed says so in its legend.
    assert "of one acquisition in 8, from all" in text and "same wall time" not in text
    assert "PASS" in text and "wanted <= 1.5x the time; measured 1.00x" in text
    # Markdown keeps one row per contender, however wide.
    assert "| `with m: pass` | 8 | gosync.Mutex | 4011750.0 |" in render(_wide_results(), markdown=True)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_draws_in_place_on_a_terminal_only() -> None:
    for stream, drawn in ((io.StringIO(), False), (_Terminal(), True)):
        bar = Progress(3, stream)
        for label in ("mutex_with", "contended_mutex_counter x8", "a label much longer than the bar has room for"):
            bar.step(label)
        bar.close()
        out = stream.getvalue()
        if not drawn:
            assert out == ""
            continue
        frames = out.split("\r")[1:]
        assert len(frames) == 3 and frames[-1].startswith("bench [") and " 3/3 " in frames[-1], out
        assert all(len(f.rstrip("\n")) <= 79 for f in frames), frames
        assert out.endswith("\n")


def test_the_progress_bar_reaches_a_real_terminal(tmp_path: Path) -> None:
    import pty

    primary, secondary = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "gosync", "bench", "--quick", "--rounds", "1", "--only", "mutex_with"],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=secondary, text=True, timeout=120,
        )
        os.close(secondary)
        drawn = b""
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:  # EIO: the terminal's other end is closed and drained
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(primary)
    assert proc.returncode == 0
    assert b"\rbench [" in drawn and b"] 1/1 mutex_with" in drawn, drawn


def test_list_names_the_scenarios_for_only(tmp_path: Path) -> None:
    proc = bench(tmp_path, "--list")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert all(len(line) <= 79 for line in lines), lines
    named = [line.split()[0] for line in lines if not line.startswith(" ")]
    assert named == [s.name for s in SCENARIOS] + [name for name, _ in distributed.listing()]
    assert "redis_handoff" in named and "etcd_read_overlap" in named
    only = bench(tmp_path, "--list", "--only", "contended_rw")
    assert [line.split()[0] for line in only.stdout.splitlines()] == ["contended_rw_90_10", "contended_rw_50_50"]


# ---- the distributed measures (issue 15) ------------------------------------------------

REQUIRE_SERVERS = os.environ.get("GOSYNC_REQUIRE_SERVERS") == "1"


def _require_servers() -> None:
    from gosync._bench.servers import which

    reason = ""
    if which("redis-server") is None or which("etcd") is None:
        reason = "redis-server or etcd not found: install the Debian packages redis-server and etcd-server"
    else:
        try:
            import redis  # noqa: F401
        except ImportError:
            reason = "redis-py is not installed: pip install '.[redis]'"
    if reason:
        if REQUIRE_SERVERS:
            pytest.fail(reason + " (GOSYNC_REQUIRE_SERVERS=1 forbids skipping)")
        pytest.skip(reason)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_without_a_server_each_distributed_measure_is_skipped_and_says_why(tmp_path: Path) -> None:
    # The bench never uses a server it was not given: none given, none used.
    proc = bench(tmp_path, "--only", "redis_", "--json", "run.json")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    # The reason: no server given, or (in a venv without the redis extra)
    # no redis-py to reach one with.
    have_redis_py = importlib.util.find_spec("redis") is not None
    reason = "no server given:" if have_redis_py else "redis-py is not installed:"
    assert f"redis: skipped (redis_lock_unlock, redis_handoff, redis_read_overlap): {reason}" in " ".join(
        out.split()
    ), out
    if have_redis_py:  # the advice to start servers, when they could be used
        assert "--start-servers" in out
    assert "not run: redis was skipped (see above)" in " ".join(out.split())
    dist = json.loads((tmp_path / "run.json").read_text())["distributed"]
    assert dist["engines"] == [] and [s["engine"] for s in dist["skipped"]] == ["redis"]
    assert dist["skipped"][0]["why"].startswith("redis-py is not installed") if not have_redis_py else (
        dist["skipped"][0]["why"] == distributed.NO_SERVER
    )
    assert all(len(line) <= 79 for line in out.splitlines())


def test_an_unreachable_server_is_skipped_with_the_reason(tmp_path: Path) -> None:
    from gosync._bench.servers import free_port

    port = free_port()
    proc = bench(tmp_path, "--only", "etcd_", "--etcd", f"127.0.0.1:{port}")
    assert proc.returncode == 0, proc.stderr
    flat = " ".join(proc.stdout.split())
    assert f"etcd: skipped (etcd_lock_unlock, etcd_handoff, etcd_read_overlap): cannot reach 127.0.0.1:{port}:" in flat


@pytest.mark.timeout(300)
def test_start_servers_measures_on_throw_away_servers_and_stops_them(tmp_path: Path) -> None:
    _require_servers()
    proc = subprocess.run(
        [sys.executable, "-m", "gosync", "bench", "--quick", "--start-servers", "--only", "redis_", "--json", "r.json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=280,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    dist = json.loads((tmp_path / "r.json").read_text())["distributed"]
    assert dist["skipped"] == [] and [e["engine"] for e in dist["engines"]] == ["redis"]
    e = dist["engines"][0]
    assert e["contenders"][:2] == ["gosync.redis", "redis-py Lock"]
    for name in e["contenders"]:
        assert len(e["lock_unlock_s"][name]) == distributed.RUNS
        assert len(e["handoff_s"][name]) == distributed.RUNS * dist["handoffs"]
        assert all(0 < x < 30 for x in e["handoff_s"][name])
    assert 1 <= e["read_overlap"]["most_inside"] <= distributed.READERS
    # The server it started is gone: stopped by pid when the measures ended.
    assert e["server"].startswith("started by the bench on 127.0.0.1:")
    assert not _alive(e["server_pid"])
    flat = " ".join(proc.stdout.split())
    assert "redis: server started by the bench on 127.0.0.1:" in flat and "handoff, unlock -> waiter returns" in flat
    assert "redis_lock_unlock: gosync.redis vs redis-py Lock" in flat


@pytest.mark.timeout(300)
def test_a_given_server_is_used_and_left_running(tmp_path: Path, servers: Dict[str, Any]) -> None:
    _require_servers()
    from dist_servers import start_etcd

    etcd = servers.setdefault("bench-etcd", start_etcd())
    proc = bench(tmp_path, "--quick", "--only", "etcd_lock", "--etcd", etcd.address, "--json", "e.json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    dist = json.loads((tmp_path / "e.json").read_text())["distributed"]
    e = dist["engines"][0]
    assert e["server"] == f"given: {etcd.address}" and e["server_pid"] is None
    assert len(e["lock_unlock_s"]["gosync.etcd"]) == distributed.RUNS
    assert "handoff_s" not in e and "read_overlap" not in e  # --only etcd_lock
    assert _alive(etcd.pid)  # not the bench's to stop


def _distributed_results(gosync_lock_s: float, p99_s: float, readers: int) -> Dict[str, Any]:
    """A saved run with only the distributed section, redis measured and
    etcd skipped."""
    base = _wide_results()
    base["scenarios"] = []
    contenders = ["gosync.redis", "redis-py Lock", "python-redis-lock", "pottery Redlock"]
    handoffs = [0.0007] * 98 + [p99_s] * 2
    base["distributed"] = {
        "runs": 3, "ops": 300, "handoffs": 40,
        "engines": [{
            "engine": "redis", "server": "given: redis://127.0.0.1:6379/0", "server_pid": None,
            "contenders": contenders, "baseline": "redis-py Lock", "missing": {},
            "measures": ["lock_unlock", "handoff", "read_overlap"],
            "lock_unlock_s": {c: [gosync_lock_s if c == "gosync.redis" else 0.0002] * 3 for c in contenders},
            "handoff_s": {c: handoffs for c in contenders},
            "read_overlap": {"processes": 4, "rounds": 3, "most_inside": readers, "wall_s": 0.5, "held_s": 1.2},
        }],
        "skipped": [{"engine": "etcd", "measures": ["read_overlap"], "why": "cannot reach 127.0.0.1:1: refused"}],
    }  # fmt: skip
    return base


def test_the_distributed_report_and_its_targets(tmp_path: Path) -> None:
    good = _distributed_results(0.0001, 0.002, 4)
    text = render(good)
    assert all(len(line) <= 79 for line in text.splitlines()), text
    flat = " ".join(text.split())
    assert "gosync.redis 100.0 0.50x" in flat and "redis-py Lock 200.0 1.00x" in flat
    assert "PASS redis_lock_unlock: gosync.redis vs redis-py Lock wanted <= 1x the time; measured 0.50x" in flat
    assert "PASS redis_handoff: gosync.redis p99 wanted <= 10 ms; measured 2.00 ms" in flat
    assert "PASS redis_read_overlap" in flat and "up to 4 readers at once" in flat
    assert "etcd: skipped (etcd_read_overlap): cannot reach 127.0.0.1:1: refused" in flat
    assert missed(good) == 0
    bad = _distributed_results(0.0004, 0.020, 1)
    assert missed(bad) == 3
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    (tmp_path / "good.json").write_text(json.dumps(good))
    proc = bench(tmp_path, "--from", "bad.json", "--check")
    assert proc.returncode == 1 and "3 target(s) missed" in proc.stdout, proc.stdout + proc.stderr
    proc = bench(tmp_path, "--from", "good.json", "--check")
    assert proc.returncode == 0 and proc.stdout == render(good)  # --from renders the saved run exactly
    md = render(good, markdown=True)
    assert "```\nAcross machines (gosync.redis, gosync.etcd):" in md


# ---- benchmarks/starvation.py -------------------------------------------------------------

STARVATION = RATIOS.parent / "starvation.py"


def test_starvation_figures_are_the_worst_and_percentile_waits() -> None:
    spec = importlib.util.spec_from_file_location("starvation", STARVATION)
    assert spec is not None and spec.loader is not None
    starvation = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(starvation)
    waits = list(range(1_000, 201_000, 1_000))  # 1..200 us, shuffled below
    waits = waits[1::2] + waits[::2]
    f = starvation.figures(Sample(ops=200, seconds=1e-3, shares=(50, 150), waits_ns=waits))
    assert f["max_us"] == 200 and f["p99_us"] == 198 and f["p50_us"] == 100
    assert f["fairness"] == pytest.approx(1 / 3) and f["ns_per_op"] == pytest.approx(5_000)


@pytest.mark.timeout(120)
def test_starvation_runs_side_by_side_and_pools_saved_runs(tmp_path: Path) -> None:
    args = ("--rounds", "3", "--seconds", "0.02", "--threads", "2")
    for i in (1, 2):
        proc = bench(tmp_path, *args, "--json", f"s{i}.json", script=str(STARVATION))
        assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if "| gosync.Mutex |" in line or "| threading.Lock |" in line]
    assert len(rows) == 4, proc.stdout  # 2 sections x 2 contenders
    raw = json.loads((tmp_path / "s1.json").read_text())
    assert [(r["section"], r["threads"]) for r in raw["runs"]] == [("counter", 2), ("sleep", 2)]
    assert all(len(fs) == 3 for r in raw["runs"] for fs in r["rounds"].values())
    both = bench(tmp_path, "--from", "s1.json", "s2.json", script=str(STARVATION))
    assert both.returncode == 0, both.stderr
    assert "2 runs, " in both.stdout and "6 rounds of 0.02 s" in both.stdout
    too_few = bench(tmp_path, "--rounds", "2", script=str(STARVATION))
    assert too_few.returncode == 2 and "at least 3 rounds" in too_few.stderr


def _starvation() -> Any:
    spec = importlib.util.spec_from_file_location("starvation", STARVATION)
    assert spec is not None and spec.loader is not None
    starvation = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(starvation)
    return starvation


def test_a_starvation_variant_runs_under_its_switch_interval_and_restores_it() -> None:
    starvation = _starvation()
    before = sys.getswitchinterval()
    seen: List[float] = []

    def runner(threads: int, seconds: float) -> Sample:
        seen.append(sys.getswitchinterval())
        if threads == 0:
            raise RuntimeError("runner failed")
        return Sample(ops=1, seconds=seconds, shares=(1,), waits_ns=[1])

    run = starvation._setting(starvation.Contender("x", threading.Lock, switch_interval=0.5e-3), runner)
    run(1, 0.01)
    with pytest.raises(RuntimeError):
        run(0, 0.01)
    assert seen == [pytest.approx(0.5e-3)] * 2 and sys.getswitchinterval() == before


@pytest.mark.timeout(120)
def test_starvation_variants_run_side_by_side(tmp_path: Path) -> None:
    starvation = _starvation()
    # Two thread counts: the rounds reverse the contenders' run order (3
    # rounds: odd), so the second count's rows show whether the table keeps
    # its own order.
    args = ("--rounds", "3", "--seconds", "0.02", "--threads", "1,2", "--variants")
    proc = bench(tmp_path, *args, script=str(STARVATION))
    assert proc.returncode == 0, proc.stderr
    handoff = starvation._gil_handoff_switch() is not None
    want = [c.name for c in starvation.CONTENDERS + starvation.VARIANTS if handoff or c.gil_handoff is None]
    table, summary = proc.stdout.split("max wait, ms, median over the rounds:")
    cols = [line.split(" | ") for line in table.splitlines() if line.startswith(("| `", "|  |"))]
    assert [c[2] for c in cols] == want * 6  # 3 sections (with "work") x 2 counts, every contender, in order
    names = [line.split(" | ")[0][2:] for line in summary.split("p99 wait")[0].splitlines() if line.startswith("| ")]
    assert names[1:] == want  # after the heading
    assert ("GIL-handoff switch" in proc.stderr) != handoff


def _fail_or_wait(slot: int, board: Any) -> None:
    if slot == 0:
        raise SystemExit(3)
    time.sleep(60)  # as a partner blocked on the failed one would


@pytest.mark.timeout(30)
def test_a_failed_process_fails_its_sample_at_once() -> None:
    # The two-process samples: one process failing must not leave its
    # partner to wait out the 300 s deadline.
    from gosync._bench import shared as bench_shared

    t0 = time.monotonic()
    with pytest.raises(AssertionError, match=r"exit codes \[3, -9\]"):
        bench_shared._forked(_fail_or_wait)
    assert time.monotonic() - t0 < 20
