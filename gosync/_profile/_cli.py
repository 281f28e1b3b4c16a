"""python -m gosync profile: run a script with the contention profiles on.

    python -m gosync profile [--mutex-fraction N] [--block-rate NS] [-o DIR] [--limit N] -- script.py args...

The script runs as __main__, as `python script.py args...` would run it,
with every word after script.py as its argument ("--" too). When it ends
(returns, calls sys.exit, or raises) and its non-daemon threads have
ended, or at once when it calls os._exit, both profiles are written to
DIR: the table of the top primitives (table.txt, also printed to stderr),
collapsed stacks
(mutex.collapsed, block.collapsed) and gzipped pprof protobufs
(mutex.pb.gz, block.pb.gz). The exit status is the script's.
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys
import threading
import traceback
from typing import List, NoReturn, Optional, Tuple

from .._cli import any_int, non_negative_int, positive_int

__all__ = ["main", "write_outputs"]

DEFAULT_OUT = "gosync-profile"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m gosync profile",
        description=(
            "Runs a Python script with gosync's mutex and block profiles on, and writes them when it exits: "
            "the top primitives by total wait (printed, and in table.txt), collapsed stacks for flame graphs "
            "(*.collapsed) and gzipped pprof files for go tool pprof (*.pb.gz)."
        ),
        epilog="example: python -m gosync profile -o prof -- app.py --workers 8; go tool pprof -top prof/mutex.pb.gz",
    )
    p.add_argument(
        "--mutex-fraction",
        type=non_negative_int,
        default=1,
        metavar="N",
        help="record on average 1 in N unlocks that had waiters; 0: no mutex profile (default: 1, every one, "
        "as go test -mutexprofile)",
    )
    p.add_argument(
        "--block-rate",
        type=any_int,
        default=1,
        metavar="NS",
        help="record on average one blocking event per NS nanoseconds blocked; <= 0: no block profile "
        "(default: 1, every one, as go test -blockprofile)",
    )
    p.add_argument("-o", "--out", default=DEFAULT_OUT, metavar="DIR", help=f"where to write (default: {DEFAULT_OUT})")
    p.add_argument("--limit", type=positive_int, default=20, metavar="N", help="rows of each table (default: 20)")
    p.add_argument("script", help="the Python script to run, as `python script.py` would")
    p.add_argument("args", nargs=argparse.REMAINDER, help="the script's arguments")
    return p


def write_outputs(out: str, limit: int) -> List[str]:
    """write_outputs writes both profiles to the folder out (created if
    missing) and returns the paths written."""
    from .. import profile

    os.makedirs(out, exist_ok=True)
    written = []
    tables = "\n".join(profile.table(kind, limit) for kind in (profile.MUTEX, profile.BLOCK))
    path = os.path.join(out, "table.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write(tables)
    written.append(path)
    for kind in (profile.MUTEX, profile.BLOCK):
        path = os.path.join(out, f"{kind}.collapsed")
        profile.write_collapsed(path, kind)
        written.append(path)
        path = os.path.join(out, f"{kind}.pb.gz")
        profile.write_pprof(path, kind)
        written.append(path)
    print(tables, file=sys.stderr, end="")
    return written


def _join_threads() -> None:
    # What the interpreter does at exit before atexit: wait for the
    # script's non-daemon threads, whose waits belong in the profile.
    for t in threading.enumerate():
        if t is not threading.current_thread() and not t.daemon:
            t.join()


# The options that take a value: the word after one of them (or after an
# abbreviation argparse accepts) is not the script.
_VALUED = ("--mutex-fraction", "--block-rate", "--out", "--limit")


def _script_index(argv: List[str]) -> int:
    # Where the script is in argv: after a "--" if one ends the options,
    # else the first word that is not an option or an option's value.
    # What follows the script is the script's, "--" too: argparse's
    # REMAINDER would drop a "--" right after the script.
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "--":
            return i + 1
        if word == "-o" or (word.startswith("--") and len(word) > 2 and any(v.startswith(word) for v in _VALUED)):
            i += 2
        elif word.startswith("-") and word != "-":
            i += 1
        else:
            return i
    return i


# What the script's os._exit writes: (folder, limit, pid of this process).
_exit_writes: Optional[Tuple[str, int, int]] = None
_real_exit = os._exit


def _exit(status: int) -> NoReturn:
    # os._exit skips finally and atexit: the script's call to it writes the
    # profiles first, from the thread that called it, without waiting for
    # other threads, as os._exit does not. A forked child's call only exits.
    try:
        if _exit_writes is not None and os.getpid() == _exit_writes[2]:
            _finish(_exit_writes[0], _exit_writes[1])
    finally:
        _real_exit(status)


def _finish(out: str, limit: int) -> None:
    from .. import profile

    profile.set_mutex_profile_fraction(0)
    profile.set_block_profile_rate(0)
    written = write_outputs(out, limit)
    print(f"gosync profile: wrote {', '.join(written)}", file=sys.stderr)
    print(f"gosync profile: go tool pprof -top {os.path.join(out, 'mutex.pb.gz')}", file=sys.stderr)
    sys.stderr.flush()


def main(argv: List[str]) -> int:
    """main runs `python -m gosync profile` with the arguments argv and
    returns the script's exit status; a usage error exits with 2 through
    argparse."""
    parser = _parser()
    at = _script_index(argv)
    args = parser.parse_args(argv[: at + 1])
    script_args = argv[at + 1 :]
    if not os.path.isfile(args.script):
        parser.error(f"no such script: {args.script}")

    from .. import profile
    from ._hooks import hide_files

    # runpy's frames would be the root of every stack of the script.
    hide_files(os.path.splitext(runpy.__file__ or "runpy.py")[0], "<frozen runpy>")
    profile.set_mutex_profile_fraction(args.mutex_fraction)
    profile.set_block_profile_rate(args.block_rate)
    sys.argv = [args.script, *script_args]
    sys.path[0] = os.path.dirname(os.path.abspath(args.script))
    status = 0
    global _exit_writes
    _exit_writes = (args.out, args.limit, os.getpid())
    os._exit = _exit
    try:
        runpy.run_path(args.script, run_name="__main__")
    except SystemExit as e:
        if e.code is None:
            status = 0
        elif isinstance(e.code, int):
            status = e.code
        else:
            print(e.code, file=sys.stderr)
            status = 1
    except Exception as e:
        # As python script.py prints it: from the script's frame on, not
        # through this command and runpy.
        tb = e.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != args.script:
            tb = tb.tb_next
        traceback.print_exception(type(e), e, tb or e.__traceback__)
        status = 1
    finally:
        try:
            # Ctrl-C here (threads that never end, as a server's) ends the
            # wait, not the profile: it is written, then the interrupt goes on.
            _join_threads()
        finally:
            os._exit = _real_exit
            _exit_writes = None
            _finish(args.out, args.limit)
    return status
