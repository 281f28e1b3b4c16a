#!/usr/bin/env bash
# Checks the SPIN models of the RWMutex (model/README.md):
#
#   rwmutex_wait.pml     the writer's wait: two readers leave while a third
#                        arrives
#   rwmutex_writers.pml  two writers (one gives up at its deadlines, in w's
#                        Lock, in announce's WWAIT sleep, or waiting for the
#                        readers), readers that leave, come back (blocking,
#                        giving up) and leave, the epoch (2 bits)
#
#   bash model/rwmutex_wait.sh
#
# Each model must have no error as the C has the protocol (safety: mutual
# exclusion and the other assertions, no invalid end state, i.e. nobody
# left asleep; liveness: a thread whose deadline passed returns from Lock or
# RLock), and must fail with its rule flipped:
#   rwmutex_wait.pml -DSEQ             the earlier protocol whose lost
#                                      wake-up `python -m gosync bench` hit
#   rwmutex_writers.pml -DNORWAIT      a writer sleeping on a word without
#                                      readerWait
#   rwmutex_writers.pml -DALWAYS_ADVANCE  every release advances the epoch
#                                      (defect 6: the wrap)
# Exit 0 only if all come out so, 1 if one does not, 2 on a tool error.
# Needs spin and a C compiler (gcc, $CC); about 25 s of CPU.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CC=${CC:-gcc}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
jobs=${JOBS:-2}

# check MODEL MODE DEFINES...: MODE is safety or live. Prints
# "errors states seconds first-error".
check() {
    local model=$1 mode=$2
    shift 2
    local cflags=(-w -O2) panflags=(-m200000)
    if [ "$mode" = live ]; then
        set -- -DLIVE "$@"
        cflags+=(-DNFAIR=3)
        panflags+=(-a -f)
    else
        cflags+=(-DSAFETY)
    fi
    spin -a "$@" "$model" >/dev/null || exit 2
    "$CC" "${cflags[@]}" -o pan pan.c || exit 2
    local t0 t1 out n states first
    t0=$(date +%s.%N)
    out=$(./pan "${panflags[@]}" 2>&1)
    t1=$(date +%s.%N)
    n=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' <<<"$out")
    [ -n "$n" ] || { echo "$out" >&2; exit 2; }
    if grep -q "max search depth too small" <<<"$out"; then
        echo "$out" >&2
        exit 2
    fi
    states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' <<<"$out")
    first=$(grep -m1 -E "^pan:1: " <<<"$out" | sed 's/^pan:1: //')
    printf '%s %s %.1f %s\n' "$n" "$states" "$(echo "$t1 - $t0" | bc)" "$first"
}

# expect MODEL MODE pass|fail DEFINES...: runs in a directory of its own
# and writes its verdict there (0 or 1 in rc, the line in line).
expect() {
    local model=$1 mode=$2 want=$3
    shift 3
    local dir=$work/$((++nexp))
    mkdir "$dir"
    cp "$here/$model" "$dir/"
    (
        cd "$dir" || exit 2
        read -r n states secs first < <(check "$model" "$mode" "$@")
        [ -n "${n:-}" ] || exit 2
        what="$model $mode${*:+ $*}"
        if [ "$want" = pass ] && [ "$n" = 0 ]; then
            echo "PASS  $what: no error ($states states, ${secs} s)" >line
        elif [ "$want" = fail ] && [ "$n" != 0 ]; then
            echo "PASS  $what: caught: $first ($states states, ${secs} s)" >line
        else
            live=()
            [ "$mode" = live ] && live=(-DLIVE)
            {
                echo "FAIL  $what: $n errors, expected ${want}${first:+: $first}"
                spin -t -p "${live[@]}" "$@" "$model" | grep -E "proc +[0-9]" | tail -30
            } >line
            exit 1
        fi
    ) &
    # at most $jobs at a time
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
}

nexp=0
expect rwmutex_wait.pml safety pass
expect rwmutex_wait.pml safety fail -DSEQ
expect rwmutex_writers.pml safety pass
expect rwmutex_writers.pml safety pass -DNR=1 -DNA=3
expect rwmutex_writers.pml live pass -DHANG -DNR=1 -DNA=3
expect rwmutex_writers.pml safety fail -DNORWAIT
expect rwmutex_writers.pml safety fail -DNR=1 -DNA=3 -DALWAYS_ADVANCE
wait
status=0
for i in $(seq 1 "$nexp"); do
    if [ -s "$work/$i/line" ]; then
        cat "$work/$i/line"
        grep -q '^PASS' "$work/$i/line" || status=1
    else
        echo "ERROR check $i did not finish (spin or $CC failed)"
        [ "$status" = 1 ] || status=2
    fi
done
exit $status
