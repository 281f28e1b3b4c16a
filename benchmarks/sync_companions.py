"""Go's companions to sync, side by side in one run: gosync.semaphore's
Weighted against threading.Semaphore, uncontended.

    python benchmarks/sync_companions.py [--quick] [--rounds N]

This is `python -m gosync bench --check --only weighted`: the scenario is
defined once, in gosync/_bench/single.py. It exits 1 if the target ratio
(Weighted.acquire(1) + release(1) at least 5x faster than
threading.Semaphore's acquire() + release()) is missed.
"""

import sys

from gosync._bench.cli import main

if __name__ == "__main__":
    sys.exit(main(["--only", "weighted", *sys.argv[1:]], prog="python benchmarks/sync_companions.py", check=True))
