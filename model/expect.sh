# What model/rwmutex_wait.sh and model/waitgroup_cond.sh share: run pan on
# a model, with or without a mutant's define, and judge the result against
# what is expected. Sourced, not run:
#
#   source "$here/expect.sh"
#   expect MODEL safety|live pass|fail DEFINES...   (as many as needed)
#   report                                          (waits; exits 0, 1 or 2)
#
# Checks run JOBS at a time (default 2), each in a directory of its own.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CC=${CC:-gcc}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
jobs=${JOBS:-2}

# check MODEL MODE DEFINES...: MODE is safety or live. Prints
# "errors states depth seconds first-error".
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
    local t0 t1 out n states depth first
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
    depth=$(sed -n 's/.*depth reached \([0-9]*\).*/\1/p' <<<"$out")
    first=$(grep -m1 -E "^pan:1: " <<<"$out" | sed 's/^pan:1: //')
    printf '%s %s %s %.1f %s\n' "$n" "$states" "$depth" "$(echo "$t1 - $t0" | bc)" "$first"
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
        read -r n states depth secs first < <(check "$model" "$mode" "$@")
        [ -n "${n:-}" ] || exit 2
        what="$model $mode${*:+ $*}"
        if [ "$want" = pass ] && [ "$n" = 0 ]; then
            echo "PASS  $what: no error ($states states, depth $depth, ${secs} s)" >line
        elif [ "$want" = fail ] && [ "$n" != 0 ]; then
            echo "PASS  $what: caught: $first ($states states, depth $depth, ${secs} s)" >line
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

# report: waits for every check, prints its line, and exits 0 if all came
# out as expected, 1 if one did not, 2 if one could not run.
report() {
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
}
