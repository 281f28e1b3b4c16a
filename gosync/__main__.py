"""python -m gosync: the race demo, the benchmark report and the contention
profiler.

    python -m gosync race [--threads N] [--iterations K] [--json FILE]
    python -m gosync bench [--quick] [--json FILE] [--plot FILE] [--threads 1,2,4,8]
    python -m gosync profile [--mutex-fraction N] [--block-rate NS] [-o DIR] -- script.py args...
    python -m gosync --version

Each subcommand lives in its own module and is imported only when asked for,
so that one's optional dependencies never slow down or break the other; the
helpers both use live in gosync._cli, which imports neither.
"""

import sys
from typing import List, Optional

_COMMANDS = {
    "race": ("gosync._race", "lost updates with and without synchronisation"),
    "bench": ("gosync._bench", "gosync against the stdlib and other libraries, side by side"),
    "profile": ("gosync._profile._cli", "run a script with the mutex and block profiles on"),
}


def _usage() -> str:
    lines = ["usage: python -m gosync COMMAND [options]", "", "commands:"]
    for name, (_, summary) in _COMMANDS.items():
        lines.append(f"  {name:8} {summary}")
    lines.append("")
    lines.append("python -m gosync COMMAND --help describes a command's options;")
    lines.append("python -m gosync --version prints gosync's version.")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    """Runs the subcommand named by argv[0] and returns its exit status."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(_usage())
        return 0 if args else 2
    if args[0] in ("-V", "--version"):
        from . import __version__

        print(f"gosync {__version__} (distribution go-sync), Python {sys.version.split()[0]}")
        return 0
    entry = _COMMANDS.get(args[0])
    if entry is None:
        print(f"python -m gosync: unknown command {args[0]!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    import importlib

    module = importlib.import_module(entry[0])
    return int(module.main(args[1:]))


if __name__ == "__main__":
    sys.exit(main())
