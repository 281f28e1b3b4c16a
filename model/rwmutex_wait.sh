#!/usr/bin/env bash
# Checks the SPIN models of the RWMutex writer's wait for its readers:
#
#   rwmutex_wait.pml     two readers leave while a third arrives
#   rwmutex_writers.pml  two writers (one gives up), readers that come back,
#                        one-sleeper wakes, stale wakes
#
#   bash model/rwmutex_wait.sh
#
# Each model must have no error (no writer left asleep, no assertion) as the
# C has the protocol, and must fail with its rule flipped: -DSEQ is the
# earlier protocol whose lost wake-up `python -m gosync bench` hit, -DNORWAIT
# a writer sleeping on a word without readerWait. Exit 0 only if all four
# come out so. Needs spin and a C compiler (gcc, $CC); a few seconds.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CC=${CC:-gcc}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/rwmutex_wait.pml" "$here/rwmutex_writers.pml" "$work/"
cd "$work" || exit 2

errors() { # model, spin defines...: prints pan's error count
    local model=$1
    shift
    rm -f pan pan.* ./*.trail
    spin -a "$@" "$model" >/dev/null || exit 2
    "$CC" -O2 -o pan pan.c || exit 2
    local out n
    out=$(./pan)
    n=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' <<<"$out")
    [ -n "$n" ] || { echo "$out" >&2; exit 2; }
    echo "$n $(sed -n 's/^ *\([0-9]*\) states, stored.*/\1/p' <<<"$out")"
}

status=0
expect() { # model, mutant define or "", what it should show
    local model=$1 mutant=$2 n states
    read -r n states < <(errors "$model" ${mutant:+"$mutant"})
    if [ -z "$mutant" ] && [ "$n" = 0 ]; then
        echo "PASS  $model: no error ($states states)"
    elif [ -n "$mutant" ] && [ "$n" != 0 ]; then
        echo "PASS  $model $mutant: the flipped rule is caught"
    else
        echo "FAIL  $model ${mutant:-(as the C has it)}: $n errors"
        spin -t -p ${mutant:+"$mutant"} "$model" | grep -E "proc +[0-9]" | tail -20
        status=1
    fi
}
expect rwmutex_wait.pml ""
expect rwmutex_wait.pml -DSEQ
expect rwmutex_writers.pml ""
expect rwmutex_writers.pml -DNORWAIT
exit $status
