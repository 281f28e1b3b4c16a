"""The ratio check: every target ratio that issues 2 to 4 set, measured.

    python benchmarks/ratios.py [--quick] [--rounds N] [--only SUBSTRING]

This is `python -m gosync bench --check`: the same scenarios, run side by
side in one process, the same report, ending with every target and its
measured value. It exits 1 if a target is missed. A target whose other
library is not installed is listed as not run, and does not fail.
"""

import sys

from gosync._bench.cli import main

if __name__ == "__main__":
    sys.exit(main(prog="python benchmarks/ratios.py", check=True))
