#!/usr/bin/env bash
# Builds the pure-C harness and runs it without a sanitizer (-O2, as the
# module is built), under ThreadSanitizer, then under AddressSanitizer+UBSan, each
# pinned to one CPU (taskset -c 0: every thread is preempted inside critical
# sections) and unpinned (real parallelism). The portable parking fallback
# gets a TSan run of its own. Every build has the core's preemption points
# (-DGOSYNC_TEST_HOOKS, testhook.h): the harness only; the shipped module
# never sees the flag.
#
# robust_harness.c, a program of its own, runs the robust locks of
# gosync.shared across fork()ed processes (killed, stopped, zombie
# holders) in the same builds, except the portable one: its parking is
# process-local, so it cannot wake another process.
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

mapfile -t core < <(sed -e '/^#/d' -e '/^[[:space:]]*$/d' -e "s|^|$csrc/|" "$csrc/sources.txt")
cflags=(-std=c11 -O1 -g -Wall -Wextra -Werror -pthread -DGOSYNC_TEST_HOOKS -I"$csrc")

build() { # name, extra flags...
    local name=$1
    shift
    gcc "${cflags[@]}" "$@" "$here/harness.c" "${core[@]}" -o "$out/$name"
    case $name in
    *-portable) ;;
    *) gcc "${cflags[@]}" "$@" "$here/robust_harness.c" "${core[@]}" -o "$out/robust-$name" ;;
    esac
}
build plain -O2
build tsan -fsanitize=thread
build asan -fsanitize=address,undefined -fno-sanitize-recover=all
build tsan-portable -fsanitize=thread -DGOSYNC_PARK_PORTABLE

export TSAN_OPTIONS="halt_on_error=1 exitcode=66 report_signal_unsafe=0"
export ASAN_OPTIONS="halt_on_error=1 detect_leaks=1"
export UBSAN_OPTIONS="halt_on_error=1 print_stacktrace=1"

pinned=(taskset -c 0)
command -v taskset >/dev/null || pinned=()

status=0
for name in plain tsan asan tsan-portable; do
    for mode in unpinned pinned; do
        echo "== $name, $mode"
        t0=$EPOCHREALTIME
        # A deadlock must fail the run, not hang it.
        for prog in "$name" "robust-$name"; do
            [ -x "$out/$prog" ] || continue
            if [ "$mode" = pinned ]; then
                timeout 600 "${pinned[@]}" "$out/$prog" "$scale" || status=1
            else
                timeout 600 "$out/$prog" "$scale" || status=1
            fi
        done
        echo "== $name, $mode: $(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $t0 }") s"
    done
done
exit $status
