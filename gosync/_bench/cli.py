"""The command line of python -m gosync bench, and of benchmarks/ratios.py."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from typing import List, Optional, TextIO

from .._cli import positive_int
from . import SCENARIOS, distributed
from .report import missed, render
from .run import Progress, run
from .scenario import Scenario

DEFAULT_ROUNDS = 9
QUICK_ROUNDS = 5
QUICK_SCALE = 6  # --quick samples are this many times smaller
DEFAULT_THREADS = "1,2,4,8"


def _thread_counts(text: str) -> List[int]:
    try:
        counts = [int(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {text!r}") from None
    if not counts or any(not 1 <= c <= 256 for c in counts):
        raise argparse.ArgumentTypeError(f"thread counts must be between 1 and 256: {text!r}")
    return sorted(set(counts))


def _open_for_writing(ap: argparse.ArgumentParser, path: str) -> TextIO:
    try:
        return open(path, "w")
    except OSError as e:
        ap.error(f"--json {path}: {e.strerror}")


def _listing(scenarios: List[Scenario], measures: List[str]) -> str:
    """One scenario a line: its name, which --only matches, and its title,
    wrapped within 80 columns; then the distributed measures."""
    entries = [(s.name, s.title + (" (contended)" if s.contended else "")) for s in scenarios]
    entries += [(name, title) for name, title in distributed.listing() if name in measures]
    width = max(len(name) for name, _ in entries) + 2
    lines = []
    for name, title in entries:
        lines += textwrap.wrap(
            title, 79, initial_indent=name.ljust(width), subsequent_indent=" " * width, break_on_hyphens=False
        )
    return "\n".join(lines) + "\n"


def parser(prog: str = "python -m gosync bench") -> argparse.ArgumentParser:
    """The argument parser, shared with benchmarks/ratios.py."""
    ap = argparse.ArgumentParser(
        prog=prog,
        description="Runs gosync against the standard library and other libraries, side by side in "
        "one process, interleaving the contenders round by round, and prints ns/op, the spread and "
        "the ratio to the standard library, then every target ratio with its measured value.",
    )
    ap.add_argument(
        "--quick", action="store_true", help=f"{QUICK_ROUNDS} rounds of smaller samples (under two minutes)"
    )
    ap.add_argument("--rounds", type=positive_int, help=f"rounds per contender (default {DEFAULT_ROUNDS})")
    ap.add_argument(
        "--threads",
        type=_thread_counts,
        default=_thread_counts(DEFAULT_THREADS),
        help=f"thread counts for the contended scenarios (default {DEFAULT_THREADS})",
    )
    ap.add_argument("--only", metavar="SUBSTRING", help="run only the scenarios whose name contains this")
    ap.add_argument("--list", action="store_true", help="list the scenarios' names (for --only) and what they measure")
    ap.add_argument("--json", metavar="FILE", help="write every raw sample and the machine to FILE")
    ap.add_argument("--plot", metavar="FILE", help="write a PNG chart of throughput against threads (needs matplotlib)")
    ap.add_argument("--markdown", action="store_true", help="print the tables as markdown")
    ap.add_argument("--from", dest="load", metavar="FILE", help="render a --json file instead of measuring")
    ap.add_argument("--check", action="store_true", help="exit 1 if a target ratio is missed")
    ap.add_argument(
        "--no-progress", action="store_true", help="no progress bar on stderr (drawn only when stderr is a terminal)"
    )
    servers = ap.add_argument_group(
        "across machines",
        "gosync.redis and gosync.etcd against Redis lock clients, on servers you name or the bench starts;"
        " never on a server you did not name. Without one, the report says these measures were skipped.",
    )
    servers.add_argument("--redis", metavar="URL", help="a running Redis to measure on, e.g. redis://127.0.0.1:6379/0")
    servers.add_argument("--etcd", metavar="HOST:PORT", help="a running etcd to measure on, e.g. 127.0.0.1:2379")
    servers.add_argument(
        "--start-servers",
        action="store_true",
        help="start throw-away redis-server and etcd on 127.0.0.1 (free ports, temporary data; stopped after)",
    )
    return ap


def main(argv: Optional[List[str]] = None, prog: str = "python -m gosync bench", check: bool = False) -> int:
    """Runs (or loads) the benchmark and reports it; returns the exit status:
    1 if a target was missed and check (or --check) is set, 2 for a usage
    error, else 0."""
    ap = parser(prog)
    argv = sys.argv[1:] if argv is None else argv
    args = ap.parse_args(argv)
    if args.plot:
        try:
            import matplotlib  # noqa: F401  (checked before minutes of measuring)
        except ImportError:
            ap.error("--plot needs matplotlib: pip install 'go-sync[bench]'")
    chosen = [s for s in SCENARIOS if not args.only or args.only in s.name]
    measures = [m for e in distributed.ENGINES for m in distributed.measure_names(e) if not args.only or args.only in m]
    if not chosen and not measures:
        ap.error(f"no scenario name contains {args.only!r}")
    if args.list:
        print(_listing(chosen, measures), end="")
        return 0
    if args.load and args.json:
        ap.error("--json writes a new run; with --from there is none")
    if args.load and (args.redis or args.etcd or args.start_servers):
        ap.error("--redis, --etcd and --start-servers measure; with --from there is nothing to measure")
    if args.load:
        try:
            with open(args.load) as f:
                results = json.load(f)
        except (OSError, ValueError) as e:
            ap.error(f"--from {args.load}: {e}")
    else:
        # Opened now, so that a bad path fails before minutes of measuring.
        out = _open_for_writing(ap, args.json) if args.json else None
        rounds = args.rounds or (QUICK_ROUNDS if args.quick else DEFAULT_ROUNDS)
        results = run(
            chosen,
            args.threads,
            rounds,
            QUICK_SCALE if args.quick else 1,
            " ".join([prog, *argv]),
            None if args.no_progress else sys.stderr,
        )
        if measures:
            progress = Progress(distributed.units(measures), None if args.no_progress else sys.stderr)
            results["distributed"] = distributed.run_distributed(
                measures, args.redis, args.etcd, args.start_servers, args.quick, progress.step
            )
            progress.close()
        if out is not None:
            with out:
                json.dump(results, out)
    if args.plot:
        from .plot import plot

        plot(results, args.plot)
    print(render(results, markdown=args.markdown), end="")
    return 1 if (check or args.check) and missed(results) else 0
