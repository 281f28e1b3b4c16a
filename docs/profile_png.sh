#!/usr/bin/env bash
# Draws docs/profile.png, the README's "Finding contention" figure: the
# mutex profile of examples/contention.py, as go tool pprof draws it.
#
#     bash docs/profile_png.sh [OUT.png]     # default: docs/profile.png
#
# Needs gosync installed for PYTHON (default: python3), Go (for go tool
# pprof; Debian's golang-go) and Graphviz (dot; Debian's graphviz). The
# example runs from the checkout's root, so that its frames read
# examples/contention.py. Every unlock with waiters is recorded
# (--mutex-fraction 1), so that the cold lock, rarely contended, is drawn
# too; the figures differ from run to run as the timings do.
set -euo pipefail

docs=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$docs")
out=${1:-$docs/profile.png}
python=${PYTHON:-python3}
prof=$(mktemp -d)
trap 'rm -rf "$prof"' EXIT

cd "$root"
"$python" examples/contention.py --mutex-fraction 1 --out "$prof"
# -nodefraction=0 -edgefraction=0: draw the cold lock's path as well.
go tool pprof -png -nodefraction=0 -edgefraction=0 -output "$out" "$prof/mutex.pb.gz"
echo "figure: $out"
