"""Side-by-side benchmark of gosync.redis and gosync.etcd (issue 15).

    python benchmarks/distributed.py [--quick] [--redis URL] [--etcd HOST:PORT]

The distributed measures of `python -m gosync bench` (gosync/_bench/
distributed.py says what each measures, against which contenders), alone:
on throw-away redis-server and etcd started on 127.0.0.1 (free ports,
temporary data directories, stopped by pid at the end), or on the servers
given. The same run is `python -m gosync bench --start-servers --only redis_`
(or etcd_), within the whole benchmark.

Targets: gosync.redis no slower than redis-py's Lock uncontended (<= 1.0x),
its handoff p99 <= 10 ms, and RWMutex readers that overlap on both engines.
Exits 1 if a target is missed, as `bench --check` does.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional

from gosync._bench import distributed


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer operations and handoffs per run")
    ap.add_argument("--redis", metavar="URL", help="measure on this running Redis instead of starting one")
    ap.add_argument("--etcd", metavar="HOST:PORT", help="measure on this running etcd instead of starting one")
    args = ap.parse_args(argv)
    wanted = [m for e in distributed.ENGINES for m in distributed.measure_names(e)]
    dist = distributed.run_distributed(wanted, args.redis, args.etcd, True, args.quick, lambda _: None)
    print("\n".join(distributed.render_lines(dist)))
    rows = distributed.target_rows(dist)
    print()
    for what, wanted_text, measured, met in rows:
        print(f"{'-' if met is None else 'PASS' if met else 'MISS':<4}  {what}: wanted {wanted_text}; {measured}")
    return 1 if any(met is False for *_, met in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
