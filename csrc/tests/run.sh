#!/usr/bin/env bash
# Builds the pure-C harness and runs it under ThreadSanitizer, then under
# AddressSanitizer+UBSan, each pinned to one CPU (taskset -c 0: every thread is
# preempted inside critical sections) and unpinned (real parallelism). The
# portable parking fallback gets a TSan run of its own.
#
#   bash csrc/tests/run.sh [scale]
#
# Any sanitizer report fails the run: there are no suppressions.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
csrc=$(dirname "$here")
scale=${1:-1}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

mapfile -t sources < <(echo "$here/harness.c"; sed -e '/^#/d' -e '/^[[:space:]]*$/d' -e "s|^|$csrc/|" "$csrc/sources.txt")
cflags=(-std=c11 -O1 -g -Wall -Wextra -Werror -pthread -I"$csrc")

build() { # name, extra flags...
    local name=$1
    shift
    gcc "${cflags[@]}" "$@" "${sources[@]}" -o "$out/$name"
}
build tsan -fsanitize=thread
build asan -fsanitize=address,undefined -fno-sanitize-recover=all
build tsan-portable -fsanitize=thread -DGOSYNC_PARK_PORTABLE

export TSAN_OPTIONS="halt_on_error=1 exitcode=66 report_signal_unsafe=0"
export ASAN_OPTIONS="halt_on_error=1 detect_leaks=1"
export UBSAN_OPTIONS="halt_on_error=1 print_stacktrace=1"

pinned=(taskset -c 0)
command -v taskset >/dev/null || pinned=()

status=0
for name in tsan asan tsan-portable; do
    for mode in unpinned pinned; do
        echo "== $name, $mode"
        # A deadlock must fail the run, not hang it.
        if [ "$mode" = pinned ]; then
            timeout 600 "${pinned[@]}" "$out/$name" "$scale" || status=1
        else
            timeout 600 "$out/$name" "$scale" || status=1
        fi
    done
done
exit $status
