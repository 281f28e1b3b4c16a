#!/usr/bin/env bash
# Checks the SPIN model of gosync's Mutex protocol (model/mutex.pml).
#
#   bash model/mutex.sh                 check every property (about 3 min of
#                                       CPU, two checks at a time); exit 0
#                                       only if all hold
#   bash model/mutex.sh --mutant NAME   check the real model, then a copy of it
#                                       with one rule flipped; exit 1 when the
#                                       checker catches the mutant (a property
#                                       that holds on the real model fails)
#   bash model/mutex.sh --mutant all    every mutant in turn; exit 0 only if
#                                       each one was caught
#   bash model/mutex.sh --list-mutants
#   bash model/mutex.sh --list-properties
#
# Other options:
#   --only P1,P2   check only these properties (names as printed)
#   --skip P1,P2   check all properties but these
#   --trace        print the condensed counterexample of each failure
#   --keep         keep the work directory (it is always kept on a failure)
#   -DNAME=VALUE   passed to spin: -DROUNDS0=3 -DROUNDS1=2 -DROUNDS2=2 (rounds
#                  per thread), -DSPIN=1, -DDLS=0 -DSIGS=0 (timeout and signal
#                  budgets), -DNOTRYLOCK, -DSPURIOUS, -DSOMEDL (see the top
#                  of mutex.pml); -DOLD_GIVEUP models give_up before f632f89
#                  (no_wait_past_deadline then fails)
#
# Exit status: 0 all checked properties hold, 1 one fails (or, with --mutant,
# see above), 2 usage or tool error. Needs spin and a C compiler (gcc, $CC).
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
model="$here/mutex.pml"
CC=${CC:-gcc}

ALL_PROPS="mutual_exclusion no_deadlock no_lost_wakeup quiescence state_table no_touch_after_free no_wait_past_deadline"

# name | spin defines | pan options | what it checks
prop_defs() {
    case $1 in
    mutual_exclusion) echo "-DCHECK_MUTEX|-E|at most one holder; LOCKED set while held; no misuse" ;;
    no_deadlock) echo "||every thread finishes its rounds (no invalid end state)" ;;
    no_lost_wakeup) echo "-DLIVE|-a -f -N no_lost_wakeup|LTL under weak fairness: every waiter returns from Lock" ;;
    quiescence) echo "-DCHECK_QUIESCE|-E|state word, semaphore word and futex queue are 0 at the end" ;;
    state_table) echo "-DCHECK_TABLE|-E|never WOKEN+STARVING; an awoken thread finds WOKEN set" ;;
    no_touch_after_free) echo "-DCHECK_UAF|-E|Unlock touches the semaphore only while a waiter is still in Lock" ;;
    no_wait_past_deadline) echo "-DDEADLINES -DLIVE_DL|-a -f -E -N no_wait_past_deadline|LTL under weak fairness, with deadlines that pass and a holder that may never unlock: a waiter past its deadline returns from Lock" ;;
    *) return 1 ;;
    esac
}

# Mutants: one rule of the protocol flipped, each on the one line of
# mutex.pml that carries its MUTANT:<name> marker, by a sed substitution.
MUTANTS="giveup_zero unlock_wake takeover giveup_starving convert drain locked_check park_compare take_handed last_chance owe_recheck take_wakes_owed take_clears_owed disown release_wakes_owed handoff_wakes_owed pending"
declare -A MUT_SED MUT_DESC
MUT_SED[giveup_zero]='s/(WAITERS(x) == 0 ||/(false ||/'
MUT_DESC[giveup_zero]='owed() ignores waiters == 0: give_up leaves (waiters-1) instead of waiting for the token it is owed'
MUT_SED[unlock_wake]='s/wake = (WAITERS(new) != 0 \&\& !(new \& WOKEN));/wake = false;/'
MUT_DESC[unlock_wake]='normal-mode Unlock never wakes a waiter'
MUT_SED[takeover]='s/tkclr = (!starving || WAITERS(old) == 1);/tkclr = !starving;/'
MUT_DESC[takeover]='the starvation takeover does not clear STARVING for the last waiter'
MUT_SED[giveup_starving]='s/new = new \& ~STARVING/skip/'
MUT_DESC[giveup_starving]='the last waiter giving up does not clear STARVING'
MUT_SED[convert]='s/conv = (!rwoke \&\& (sold \& HANDED_MASK));/conv = false;/'
MUT_DESC[convert]='sema_release does not turn an unreceived handed token into a free one'
MUT_SED[drain]='s/:: rel ->/:: false ->/'
MUT_DESC[drain]='a thread that takes a token returns while a handoff release is still in flight'
MUT_SED[locked_check]='s/!(old \& (LOCKED | STARVING)) -> lock_return/!(old \& LOCKED) -> lock_return/'
MUT_DESC[locked_check]='lock_slow believes it took the mutex when its CAS found LOCKED clear, even with STARVING set'
MUT_SED[park_compare]='s/:: TOKENS(sstate) != TOKENS(sold) ->/:: false ->/'
MUT_DESC[park_compare]='futex_wait sleeps without comparing the token word (a wait that is not atomic with the release)'
MUT_SED[take_handed]='s/wk \&\& (sold \& HANDED_MASK)/(sold \& HANDED_MASK)/'
MUT_DESC[take_handed]='any semaphore waiter, woken or not, may take a handed token'
MUT_SED[last_chance]='s/tt_decide() }/if :: tt == 2 -> pc = SA_DEREG :: else -> tt_decide() fi }/'
MUT_DESC[last_chance]='a waiter that times out skips the last-chance take of a free token'
MUT_SED[owe_recheck]='s/:: OWED_STATE(old) -> old = 0; pc = OW_PARK/:: true -> old = 0; pc = OW_PARK/'
MUT_DESC[owe_recheck]='give_up sleeps after marking OWED without looking at the state word again'
MUT_SED[take_wakes_owed]='s/:: (sold \& OWED) -> pc = SA_WOWED/:: false -> pc = SA_WOWED/'
MUT_DESC[take_wakes_owed]='a take that clears OWED does not wake CLASS_OWED'
MUT_SED[take_clears_owed]='s/sstate = (sold - tok - me) \& ~OWED;/sstate = sold - tok - me;/'
MUT_DESC[take_clears_owed]='a take leaves OWED set (it still wakes CLASS_OWED)'
MUT_SED[disown]='s/:: marked -> pc = DS_LOAD/:: false -> pc = DS_LOAD/'
MUT_DESC[disown]='give_up leaves after marking OWED without gosync_sema_disown'
MUT_SED[release_wakes_owed]='s/:: (sold \& OWED) -> pc = R_WOWED/:: false -> pc = R_WOWED/'
MUT_DESC[release_wakes_owed]='a plain release does not wake CLASS_OWED after its add'
MUT_SED[handoff_wakes_owed]='s/:: conv \&\& (sold \& OWED) -> pc = R_WOWED/:: false -> pc = R_WOWED/'
MUT_DESC[handoff_wakes_owed]='the end of a handoff that made a free token appear does not wake CLASS_OWED'
MUT_SED[pending]='s/pend = why; pdl = true/skip/'
MUT_DESC[pending]='after an owed token, lock_slow queues again with its own deadline and forgets why it gave up'

die() { echo "mutex.sh: $*" >&2; exit 2; }

mutant=""
only=""
skip=""
trace=0
keep=0
defines=()
while [ $# -gt 0 ]; do
    case $1 in
    --mutant) [ $# -ge 2 ] || die "--mutant needs a name (or all)"; mutant=$2; shift ;;
    --mutant=*) mutant=${1#--mutant=} ;;
    --list-mutants)
        for m in $MUTANTS; do printf '  %-19s %s\n' "$m" "${MUT_DESC[$m]}"; done
        exit 0 ;;
    --only) [ $# -ge 2 ] || die "--only needs a list"; only=$2; shift ;;
    --skip) [ $# -ge 2 ] || die "--skip needs a list"; skip=$2; shift ;;
    --trace) trace=1 ;;
    --keep) keep=1 ;;
    -D*) defines+=("$1") ;;
    --list-properties)
        for p in $ALL_PROPS; do printf '  %-20s %s\n' "$p" "$(prop_defs "$p" | cut -d'|' -f3)"; done
        exit 0 ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (try --help)" ;;
    esac
    shift
done

command -v spin >/dev/null 2>&1 ||
    die "spin is not installed (Debian/Ubuntu: apt-get install spin)"
command -v "$CC" >/dev/null 2>&1 || die "no C compiler: $CC"
[ -f "$model" ] || die "missing $model"

props=""
for p in $ALL_PROPS; do
    if [ -n "$only" ] && [[ ",$only," != *",$p,"* ]]; then continue; fi
    if [[ ",$skip," == *",$p,"* ]]; then continue; fi
    props="$props $p"
done
for p in ${only//,/ } ${skip//,/ }; do
    prop_defs "$p" >/dev/null || die "unknown property: $p (one of: $ALL_PROPS)"
done
[ -n "$props" ] || die "no property left to check"

# Turns `spin -t -p -g` output into one line per model step: the thread, the
# C step it took (pc), and the state and semaphore words after it.
condense() {
    awk '
    BEGIN {
        split("T_START TL_CAS LS_LOAD LS_SPINCAS LS_SPINLOAD LS_CAS LS_LOAD2 LS_TAKEOVER GU_LOAD GU_CAS SA_LOAD SA_TAKE SA_REG SA_PARK SA_SLEEP SA_RELOAD SA_DEREG U_CAS0 U_CAS R_ADD R_WAKE_LIFO R_WAKE_ANY R_FLOAD R_FCAS SA_DLOAD SA_DCAS SA_DPARK SA_DSLEEP R_DWAKE SA_WOWED OW_LOAD OW_CAS GU_RELOAD OW_PARK OW_SLEEP DS_LOAD DS_CAS DS_WAKE R_WOWED HOLD", n, " ")
        for (i = 1; i in n; i++) name[i - 1] = n[i]
        what["T_START"] = "round starts"
        what["TL_CAS"] = "try_lock CAS"
        what["LS_LOAD"] = "lock_slow: load state"
        what["LS_SPINCAS"] = "spin: CAS in WOKEN"
        what["LS_SPINLOAD"] = "spin: reload state"
        what["LS_CAS"] = "lock_slow: CAS new state"
        what["LS_LOAD2"] = "after sema: reload state"
        what["LS_TAKEOVER"] = "starvation takeover CAS"
        what["GU_LOAD"] = "give_up: load state"
        what["GU_CAS"] = "give_up: CAS waiters-1"
        what["SA_LOAD"] = "sema_acquire: load"
        what["SA_TAKE"] = "try_take CAS"
        what["SA_REG"] = "sema: register (fetch_add)"
        what["SA_PARK"] = "futex_wait"
        what["SA_SLEEP"] = "wakes up from futex"
        what["SA_RELOAD"] = "sema: reload after park"
        what["SA_DEREG"] = "sema: deregister CAS"
        what["U_CAS0"] = "unlock: fast CAS"
        what["U_CAS"] = "unlock: CAS"
        what["R_ADD"] = "sema_release: add token"
        what["R_WAKE_LIFO"] = "futex_wake(LIFO)"
        what["R_WAKE_ANY"] = "futex_wake(FIFO|LIFO)"
        what["R_FLOAD"] = "sema_release: load before last write"
        what["R_FCAS"] = "sema_release: end-of-handoff CAS"
        what["SA_DLOAD"] = "holds a token: load, handoff in flight?"
        what["SA_DCAS"] = "holds a token: CAS in draining"
        what["SA_DPARK"] = "futex_wait(DRAIN)"
        what["SA_DSLEEP"] = "wakes up from futex(DRAIN)"
        what["R_DWAKE"] = "futex_wake(DRAIN, all)"
        what["SA_WOWED"] = "try_take: futex_wake(OWED, all)"
        what["OW_LOAD"] = "sema_owe: load"
        what["OW_CAS"] = "sema_owe: CAS in OWED"
        what["GU_RELOAD"] = "give_up: marked; reload state"
        what["OW_PARK"] = "await_owed: futex_wait(OWED)"
        what["OW_SLEEP"] = "wakes up from futex(OWED)"
        what["DS_LOAD"] = "disown: load"
        what["DS_CAS"] = "disown: CAS out OWED"
        what["DS_WAKE"] = "disown: futex_wake(OWED, all)"
        what["R_WOWED"] = "sema_release: futex_wake(OWED, all)"
        what["HOLD"] = "keeps the mutex for ever"
        cur = ""; step = 0
    }
    function dm(x,   s) {
        s = ""
        if (int(x) % 2) s = s "L"
        if (int(x / 2) % 2) s = s "W"
        if (int(x / 4) % 2) s = s "S"
        if (s == "") s = "-"
        return sprintf("%s+%dw", s, int(x / 8))
    }
    function ds(x) {
        return sprintf("free=%d handed=%d fifo=%d lifo=%d rel=%d drain=%d owed=%d", x % 16, int(x / 16) % 16, int(x / 256) % 16, int(x / 4096) % 16, int(x / 65536) % 4, int(x / 262144) % 2, int(x / 524288) % 2)
    }
    function flush(   w) {
        if (cur != "") {
            w = what[cur]
            if (cur == "T_START")
                w = note == "" ? "round starts" : note
            else if (cur == "SA_PARK")
                w = note == "" ? "futex_wait: asleep" : note
            else if (cur ~ /^R_WAKE/)
                w = w (note == "" ? ": nobody asleep" : ": wakes a sleeper")
            else if (note != "")
                w = w " (" note ")"
            printf "%4d  %-3s %-12s %-40s state=%-7s sema: %s\n", ++step, who, cur, w, dm(ms), ds(ss)
        }
        cur = ""; note = ""
    }
    /START OF CYCLE/ { flush(); print "      ---- the rest repeats for ever (an accepting cycle) ----"; next }
    /^[ \t]*mstate = / { ms = $3; next }
    /^[ \t]*sstate = / { ss = $3; next }
    /assertion violated|Error:|text of failed/ { flush(); sub(/^[ \t]+/, ""); print "      " $0; next }
    /proc +[0-9]+ \(Clock/ && /\[dlbudget = 0\]/ { flush(); printf "%4d  --  timeouts and signals stop for good\n", ++step; next }
    /proc +[0-9]+ \(Clock/ && /\[sigbudget = 0\]/ { flush(); printf "%4d  --  signals stop for good\n", ++step; next }
    /proc +[0-9]+ \(Clock/ && /\[dl\[[0-9]\] = 1\]/ { flush(); match($0, /dl\[[0-9]\]/); printf "%4d  --  T%s: the deadline passes\n", ++step, substr($0, RSTART + 3, 1); next }
    /proc +[0-9]+ \(Thread/ && cur != "" && !/\(\(*pc==[0-9]+/ {
        if ($0 ~ /\[pc = 39\]/) note = (note == "" ? "" : note ", ") "then keeps the mutex for ever"
        else if (cur ~ /CAS|SA_TAKE|SA_DEREG/ && ($0 ~ /\[old = mstate\]/ || $0 ~ /\[sold = sstate\]/)) note = "CAS fails"
        else if (cur == "OW_PARK" && $0 ~ /\[pc = 8\]/) note = "futex_wait: word changed, AGAIN"
        else if (cur == "GU_RELOAD" && $0 ~ /\[pc = 33\]/) note = "still owed"
        else if (cur == "GU_RELOAD" && $0 ~ /\[pc = 9\]/) note = "no longer owed"
        else if (cur ~ /GU_LOAD|GU_CAS/ && $0 ~ /\[pc = (10|30)\]/) note = (note == "" ? "" : note ", ") "owed a token"
        else if (cur == "SA_PARK" && $0 ~ /\[pr = 1\]/) note = "futex_wait: word changed, AGAIN"
        else if (cur == "SA_PARK" && $0 ~ /\[pr = 2\]/) note = "futex_wait: deadline passed, TIMEDOUT"
        else if (cur ~ /^R_WAKE/ && $0 ~ /\[nw = 1\]/) note = "woke"
        else if (cur == "T_START" && $0 ~ /\[mstate = 1\]/) note = "Lock: the fast path takes it"
        else if (cur == "T_START" && $0 ~ /\[pc = 2\]/) note = "Lock: the fast path fails"
        else if (cur == "T_START" && $0 ~ /\[old = mstate\]/) note = "TryLock: load"
        else if (cur == "T_START" && $0 ~ /\[old = 0\]/ && note == "TryLock: load") note = "TryLock: load, fails"
        else if (cur == "T_START" && $0 ~ /finished = /) note = "all its rounds are done"
        next
    }
    /proc +[0-9]+ \(Thread/ {
        if (match($0, /\(\(*pc==[0-9]+/)) {
            flush()
            s = substr($0, RSTART, RLENGTH); gsub(/[^0-9]/, "", s)
            cur = name[s + 0]
            match($0, /proc +[0-9]+/); p = substr($0, RSTART, RLENGTH); gsub(/[^0-9]/, "", p)
            who = "T" p
            if (cur == "OW_SLEEP") {
                if ($0 ~ /fwoken/ && $0 !~ /!\(fwoken/) what[cur] = "woken by futex_wake(OWED)"
                else if ($0 ~ /sigbudget/) what[cur] = "interrupted by a signal (OWED)"
                else what[cur] = "spurious return (OWED)"
            }
            if (cur == "SA_SLEEP") {
                if ($0 ~ /fwoken/ && $0 !~ /!\(fwoken/) what[cur] = "woken by futex_wake"
                else if ($0 ~ /sigbudget/) what[cur] = "interrupted by a signal"
                else what[cur] = "deadline passes: timed out"
            }
        }
        next
    }
    END { flush() }'
}

work=$(mktemp -d "${TMPDIR:-/tmp}/gosync-model.XXXXXX")

# check DIR PROP -> prints one result line; writes DIR/PROP.out, .trail, .trace
check() {
    local dir=$1 prop=$2 def spindefs panopts
    def=$(prop_defs "$prop")
    spindefs=$(echo "$def" | cut -d'|' -f1)
    panopts=$(echo "$def" | cut -d'|' -f2)
    local pd="$dir/$prop"
    mkdir -p "$pd"
    cp "$dir/mutex.pml" "$pd/mutex.pml"
    local t0=$SECONDS
    (
        cd "$pd" || exit 2
        # shellcheck disable=SC2086
        spin ${defines[@]+"${defines[@]}"} $spindefs -a mutex.pml >spin.log 2>&1 || exit 3
        local ccdefs="-DCOLLAPSE"
        case " $panopts " in *" -a "*) ;; *) ccdefs="$ccdefs -DSAFETY" ;; esac
        # shellcheck disable=SC2086
        $CC -O2 -w $ccdefs -o pan pan.c >cc.log 2>&1 || exit 4
        # shellcheck disable=SC2086
        ./pan -n -m200000 -w24 $panopts >pan.out 2>&1
        exit 0
    )
    local rc=$? secs=$((SECONDS - t0))
    if [ $rc -ne 0 ]; then
        echo "ERROR $prop: spin or $CC failed, see $pd" >"$pd/result"
        return
    fi
    local errs states
    errs=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$pd/pan.out" | head -1)
    states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' "$pd/pan.out" | head -1)
    if [ "$errs" = 0 ] && ! grep -q "max search depth too small\|out of memory\|Search not completed" "$pd/pan.out"; then
        printf 'PASS  %-20s %s states, %ds\n' "$prop" "$states" "$secs" >"$pd/result"
    else
        local why
        why=$(grep -m1 '^pan:[0-9]*:' "$pd/pan.out" | sed 's/^pan:[0-9]*: *//')
        [ -n "$why" ] || why=$(grep -m1 "max search depth too small\|out of memory" "$pd/pan.out")
        [ -n "$why" ] || why="see $pd/pan.out"
        printf 'FAIL  %-20s %s\n' "$prop" "$why" >"$pd/result"
        if [ -f "$pd/mutex.pml.trail" ]; then
            (
                cd "$pd" || exit 0
                # shellcheck disable=SC2086
                spin ${defines[@]+"${defines[@]}"} $spindefs -t -p -g mutex.pml >trail.txt 2>&1
                condense <trail.txt >trace.txt
            )
            echo "      counterexample: $pd/trace.txt" >>"$pd/result"
        fi
    fi
}

# run_all DIR -> checks every selected property, two at a time (the liveness
# run, the longest, first); prints the results; returns the number of failures
run_all() {
    local dir=$1 p failed=0 passed=0 errors=0 running=0
    for p in $props; do
        check "$dir" "$p" &
        running=$((running + 1))
        if [ $running -ge 2 ]; then wait -n 2>/dev/null || wait; running=$((running - 1)); fi
    done
    wait
    for p in $props; do
        cat "$dir/$p/result"
        if grep -q '^PASS' "$dir/$p/result"; then
            passed=$((passed + 1))
        elif grep -q '^ERROR' "$dir/$p/result"; then
            errors=$((errors + 1))
        else
            failed=$((failed + 1))
            if [ $trace = 1 ] && [ -f "$dir/$p/trace.txt" ]; then sed 's/^/      /' "$dir/$p/trace.txt"; fi
        fi
    done
    if [ $errors -gt 0 ]; then
        echo "$passed passed, $failed failed, $errors could not be checked"
        return 255
    fi
    echo "$passed passed, $failed failed"
    return $failed
}

# Moves the liveness checks (the longest) to the front so they start first.
for p in no_lost_wakeup no_wait_past_deadline; do
    case " $props " in
    *" $p "*) props="$p $(echo " $props " | sed "s/ $p / /")" ;;
    esac
done

echo "spin: $(spin -V 2>&1 | head -1)"
echo "model: $model ${defines[*]+${defines[*]}}"

if [ -z "$mutant" ]; then
    cp "$model" "$work/mutex.pml"
    t0=$SECONDS
    run_all "$work"
    failed=$?
    echo "time: $((SECONDS - t0))s"
    if [ $failed -eq 255 ]; then echo "work directory: $work"; exit 2; fi
    if [ $failed -eq 0 ] && [ $keep = 0 ]; then rm -rf "$work"; else echo "work directory: $work"; fi
    [ $failed -eq 0 ] && exit 0 || exit 1
fi

# --mutant. A mutant is caught by a property that holds on the real model and
# fails on the mutant; so the real model is checked first, with the same
# options, and a property that already fails on it cannot catch anything.
list=$mutant
[ "$mutant" = all ] && list=$MUTANTS
for m in $list; do [ -n "${MUT_SED[$m]+x}" ] || die "unknown mutant: $m (see --list-mutants)"; done
t0=$SECONDS
echo
echo "== the real model (the baseline)"
mkdir -p "$work/real"
cp "$model" "$work/real/mutex.pml"
run_all "$work/real"
[ $? -eq 255 ] && die "the checker could not run on the real model, see $work/real"
holds=""
for p in $props; do grep -q '^PASS' "$work/real/$p/result" && holds="$holds $p"; done
[ -n "$holds" ] || die "no property holds on the real model: no mutant can be caught"
survivors=0
summary=""
for m in $list; do
    marker="MUTANT:$m\b"
    expr=${MUT_SED[$m]}
    desc=${MUT_DESC[$m]}
    d="$work/$m"
    mkdir -p "$d"
    line=$(grep -n "$marker" "$model" | cut -d: -f1)
    [ "$(echo "$line" | wc -w)" = 1 ] || die "marker $marker must be on exactly one line"
    sed "${line}${expr}" "$model" >"$d/mutex.pml"
    if cmp -s "$model" "$d/mutex.pml"; then die "mutant $m: the rule was not flipped"; fi
    echo
    echo "== mutant $m: $desc"
    echo "   mutex.pml:$line was: $(sed -n "${line}p" "$model" | sed 's/^ *//')"
    echo "   now:           $(sed -n "${line}p" "$d/mutex.pml" | sed 's/^ *//')"
    run_all "$d"
    [ $? -eq 255 ] && die "mutant $m: the checker could not run, see $d"
    caught=""
    for p in $holds; do grep -q '^FAIL' "$d/$p/result" && caught="$caught $p"; done
    if [ -n "$caught" ]; then
        echo "CAUGHT  mutant $m, by:$caught"
        summary="$summary$(printf '  %-16s caught by:%s' "$m" "$caught")"$'\n'
    else
        echo "MISSED  mutant $m: every property that holds on the real model still holds"
        summary="$summary$(printf '  %-16s NOT caught' "$m")"$'\n'
        survivors=$((survivors + 1))
    fi
done
echo
echo "properties that hold on the real model:$holds"
echo "mutants:"
printf '%s' "$summary"
echo "time: $((SECONDS - t0))s; work directory: $work"
if [ "$mutant" = all ]; then
    [ $survivors -eq 0 ] && exit 0 || exit 1
fi
# a single mutant: the checker's verdict on it (1: it failed, as it should)
[ $survivors -eq 0 ] && exit 1 || exit 0
