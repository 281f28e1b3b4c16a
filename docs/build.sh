#!/usr/bin/env bash
# Builds the API reference (docs/reference/) from the docstrings of the
# gosync that PYTHON imports, with every Sphinx warning an error.
#
#     pip install ".[docs]"
#     bash docs/build.sh [OUTDIR]          # HTML in OUTDIR (default: docs/_build/html)
#
# PYTHON picks the interpreter (default: python3); it must have gosync and
# the docs extra (Sphinx) installed. Nothing is downloaded. The build runs
# from outside the checkout, so that a non-editable install is what is
# documented, not the source tree (which has no compiled module).
set -euo pipefail

docs=$(cd "$(dirname "$0")" && pwd)
out=${1:-$docs/_build/html}
mkdir -p "$out"
out=$(cd "$out" && pwd)
python=${PYTHON:-python3}
doctrees=$(mktemp -d)
trap 'rm -rf "$doctrees"' EXIT

# -W: warnings are errors; --keep-going: report them all before failing;
# -E: read every docstring again, not a cache. Not -n (nitpicky): the type
# hints name type variables and private classes, which have no entry of
# their own, and the text of the docstrings holds no reference (godoc.py).
cd "$doctrees"
"$python" -m sphinx -W --keep-going -E -q -b html -d "$doctrees/.doctrees" "$docs/reference" "$out"
echo "API reference: $out/index.html"
