#!/usr/bin/env bash
# Checks model/rwmutex_wait.pml: the RWMutex writer's wait for its readers.
#
#   bash model/rwmutex_wait.sh
#
# The protocol as csrc/rwmutex.c has it must have no invalid end state (no
# writer left asleep); the earlier protocol (-DSEQ) must have one, the lost
# wake-up that `python -m gosync bench` hit. Exit 0 only if both hold.
# Needs spin and a C compiler (gcc, $CC).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CC=${CC:-gcc}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/rwmutex_wait.pml" "$work/"
cd "$work" || exit 2

check() { # spin defines...; prints pan's verdict, returns pan's error count
    rm -f pan pan.* ./*.trail
    spin -a "$@" rwmutex_wait.pml >/dev/null || exit 2
    "$CC" -O2 -o pan pan.c || exit 2
    local out errors
    out=$(./pan)
    errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' <<<"$out")
    [ -n "$errors" ] || { echo "$out"; exit 2; }
    grep -E "states, stored" <<<"$out" | sed 's/^ */    /'
    return "$errors"
}

status=0
if check; then
    echo "PASS  current protocol: no writer left asleep"
else
    echo "FAIL  current protocol: a writer is left asleep"
    spin -t -p rwmutex_wait.pml | grep -E "proc +[0-9]" | tail -20
    status=1
fi
if check -DSEQ; then
    echo "FAIL  earlier protocol (-DSEQ): its lost wake-up was not found"
    status=1
else
    echo "PASS  earlier protocol (-DSEQ): lost wake-up found, as expected"
fi
exit $status
