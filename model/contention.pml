/* The mutex profile's contention record (csrc/profile.h, csrc/profile.c):
 * since, sum and waiters, changed by a lock's waiters (enter before they
 * block, leave once they return, woken or not) and by its unlocker (charge,
 * before it lets the lock go). model/README.md, "The mutex profile's
 * contention record (`contention.pml`)".
 *
 * Two cases:
 *   default   each call is one atomic step: the in-process locks, whose
 *             calls all run with the GIL held
 *   -DSPLIT   each load, store, add, swap and CAS of the C is a step of its
 *             own (the gosync.shared locks, whose record other processes
 *             change); -DDEATHS=1 lets one waiter die before any step
 *
 * Time is a small counter `now` that a Clock process advances at any
 * moment (1..MAXT; 0 means "none", as in the C). Nothing blocks: the lock
 * itself is abstract, so a waiter leaves at any moment after it entered
 * (woken by an unlock, or its deadline passed, or interrupted: the record
 * cannot tell), and the unlocker charges at any moment.
 *
 * Ghosts: reg[i] (waiter i is registered: from its add to its leave's
 * CAS), u[i] (the start of its wait not charged yet: its enter, or the
 * last charge since), alive[i].
 *
 * Properties (assertions):
 *   exact (default case): a charge is the sum, over the registered
 *     waiters, of now - u[i]: every wait charged once, none twice, none
 *     before it began
 *   no_overcharge (-DSPLIT): a charge never exceeds nseen * (t - umin):
 *     the waiters alive and registered at some step of the charge, each
 *     charged at most the oldest of their uncharged waits up to the
 *     charge's clock reading t. Generous: a charge above it counts time no
 *     waiter spent waiting.
 *   quiescence: once every waiter returned (none died), waiters, since and
 *     sum are 0 (csrc/profile.h: "All zeros: no waiter"). Default case
 *     only: across processes a charge that loaded the count before the
 *     last leave stores its clock reading after it (see README).
 *
 * -DNO_CHARGE_CHECK leaves no_overcharge out (the SPLIT run that checks
 * the count at the end); -DSPLIT_ZEROS asks all zeros at the end across
 * processes too (it fails: README).
 *
 * Mutants (default case):
 *   -DNO_LEAVE_SUB      a waiter that leaves while others wait does not take
 *                       its part out of sum
 *   -DNO_LEAVE_RESET    the last leave does not reset since
 *   -DNO_CHARGE_RESET   charge does not move since to now nor clear sum
 *   -DOLD               the record of 5a32c1b: head, tail and Go 1.22's
 *                       estimate dt0 + (dt0 + dtail) / 2 * (n - 1), checked
 *                       against that estimate on the true waits
 */

#ifndef NW
#define NW 3          /* waiters */
#endif
#ifndef ROUNDS
#define ROUNDS 1      /* enter/leave pairs per waiter */
#endif
#ifndef CHARGES
#define CHARGES 2     /* unlocks by the unlocker */
#endif
#ifndef MAXT
#define MAXT 5
#endif
#ifndef DEATHS
#define DEATHS 0
#endif

byte now = 1;
byte since, waiters;   /* OLD: since is head */
int sum;               /* OLD: sum is tail */

bool reg[NW];
byte u[NW];
bool alive[NW];
byte finished;
byte deaths;

active proctype Clock()
{
    do
    :: now < MAXT -> now++
    :: break
    od
}

/* csrc/profile.c's charge from the values its swaps took: s (since),
 * sm (sum), n (waiters), at t. */
inline charged(s, sm, n, t, ch)
{
    if
    :: s == 0 || t <= s -> ch = 0
    :: else ->
        ch = n * (t - s) - sm;
        if
        :: ch < 0 -> ch = 0
        :: ch > n * (t - s) -> ch = n * (t - s)
        :: else -> skip
        fi
    fi
}

#ifndef SPLIT
/* ---- Case (a): every call is one step (the GIL) ---------------------- */

#ifdef OLD
/* Go 1.22's estimate from a head h and tail tl (5a32c1b's charge). */
inline estimate(h, tl, n, t, ch)
{
    if
    :: h == 0 -> ch = 0
    :: else ->
        if
        :: tl == 0 || tl < h -> tl = h
        :: else -> skip
        fi;
        if
        :: t < h -> ch = 0
        :: else ->
            dt0 = t - h;
            if
            :: t < tl -> dtail = 0
            :: else -> dtail = t - tl
            fi;
            ch = dt0 + (dt0 + dtail) / 2 * (n - 1)
        fi
    fi
}

inline enter(i, t)
{
    atomic {
        t = now;
        waiters++;
        if
        :: waiters == 1 -> since = t
        :: else -> skip
        fi;
        sum = t;
        reg[i] = 1;
        u[i] = t
    }
}

inline leave(i, t)
{
    atomic {
        n = waiters;
        if
        :: n > 0 -> waiters--
        :: else -> skip
        fi;
        if
        :: n == 1 -> since = 0
        :: else -> skip
        fi;
        reg[i] = 0;
        n = 0
    }
}
#else
inline enter(i, t)
{
    atomic {
        t = now;
        waiters++;
        if
        :: waiters == 1 -> since = t; sum = 0
        :: else ->
            if
            :: since != 0 -> sum = sum + (t - since)
            :: else -> skip
            fi
        fi;
        reg[i] = 1;
        u[i] = t
    }
}

inline leave(i, t)
{
    atomic {
        n = waiters;
        if
        :: n > 0 -> waiters--
        :: else -> skip
        fi;
        if
#ifdef NO_LEAVE_RESET
        :: n == 1 -> sum = 0
#else
        :: n == 1 -> since = 0; sum = 0
#endif
#ifndef NO_LEAVE_SUB
        :: n > 1 && since != 0 && t > since -> sum = sum - (t - since)
#endif
        :: else -> skip
        fi;
        reg[i] = 0;
        n = 0
    }
}
#endif

proctype Waiter(byte i)
{
    byte t, n, r;
    r = 0;
    do
    :: r == ROUNDS -> break
    :: r < ROUNDS ->
        r++;
        enter(i, t);
        leave(i, t)
    od;
    atomic { t = 0; finished++ }
}

proctype Unlocker()
{
    byte k, h, n, j, nt, mn, mx;
    int tl, dt0, dtail, ch, T;
    k = 0;
    do
    :: k == CHARGES -> break
    :: k < CHARGES ->
        k++;
        atomic {
            n = waiters;
            if
            :: n == 0 -> ch = 0
            :: else ->
                h = since;
                tl = sum;
#ifndef NO_CHARGE_RESET
                since = now;
#ifdef OLD
                sum = now;
#else
                sum = 0;
#endif
#endif
#ifdef OLD
                estimate(h, tl, n, now, ch)
#else
                charged(h, tl, n, now, ch)
#endif
            fi;
            /* The truth, from the ghosts. */
            nt = 0; mn = 255; mx = 0; T = 0;
            for (j : 0 .. NW - 1) {
                if
                :: reg[j] ->
                    nt++;
                    T = T + (now - u[j]);
                    if :: u[j] < mn -> mn = u[j] :: else -> skip fi;
                    if :: u[j] > mx -> mx = u[j] :: else -> skip fi
                :: else -> skip
                fi
            };
#ifdef OLD
            /* no_overcharge: at most Go's estimate on the true waits */
            if
            :: nt == 0 -> T = 0
            :: else -> estimate(mn, mx, nt, now, T)
            fi;
            assert(ch <= T);
#else
            assert(ch == T);   /* exact */
#endif
            if
            :: n != 0 ->
                for (j : 0 .. NW - 1) {
                    if :: reg[j] -> u[j] = now :: else -> skip fi
                }
            :: else -> skip
            fi;
            h = 0; tl = 0; n = 0; nt = 0; mn = 0; mx = 0; j = 0;
            dt0 = 0; dtail = 0; ch = 0; T = 0
        }
    od;
    atomic { k = 0; finished++ }
}

#else
/* ---- Case (b): every atomic access is a step; deaths ------------------ */

/* A waiter may die before any step (at most DEATHS in the run). */
#define MAYDIE(i) \
    if \
    :: deaths < DEATHS -> atomic { deaths++; alive[i] = 0; reg[i] = 0; finished++ }; goto died \
    :: true -> skip \
    fi

proctype Waiter(byte i)
{
    byte t, n, old, s, r;
    alive[i] = 1;
    r = 0;
    do
    :: r == ROUNDS -> break
    :: r < ROUNDS ->
        r++;
        /* enter: the clock read, the count's add; then the first's
         * stores, or the load of since and the add to sum */
        MAYDIE(i);
        t = now;
        MAYDIE(i);
        atomic { old = waiters; waiters++; reg[i] = 1; u[i] = t };
        MAYDIE(i);
        if
        :: old == 0 ->
            sum = 0;
            MAYDIE(i);
            since = t
        :: else ->
            s = since;
            MAYDIE(i);
            if
            :: s != 0 -> sum = sum + (t - s)
            :: else -> skip
            fi
        fi;
        /* leave: the CAS that takes it out of the count (one step: its
         * retries change nothing), then the last's resets, or the load of
         * since and the add to sum */
        MAYDIE(i);
        atomic {
            n = waiters;
            if
            :: n > 0 -> waiters--
            :: else -> skip
            fi;
            reg[i] = 0
        };
        MAYDIE(i);
        if
        :: n == 1 ->
            since = 0;
            MAYDIE(i);
            sum = 0
        :: n > 1 ->
            s = since;
            MAYDIE(i);
            if
            :: s != 0 && t > s -> sum = sum - (t - s)
            :: else -> skip
            fi
        :: else -> skip
        fi;
        old = 0; n = 0; s = 0
    od;
    atomic { t = 0; finished++ };
died:
    skip
}

/* The waiters alive and registered now, added to a charge's view. */
inline observe()
{
    for (j : 0 .. NW - 1) {
        if
        :: reg[j] && alive[j] && !(seen & (1 << j)) ->
            seen = seen | (1 << j);
            nt++;
            if :: u[j] < mn -> mn = u[j] :: else -> skip fi
        :: else -> skip
        fi
    }
}

proctype Unlocker()
{
    byte k, s, n, j, nt, mn, t, seen;
    int sm, ch, F;
    k = 0;
    do
    :: k == CHARGES -> break
    :: k < CHARGES ->
        k++;
        /* gosync_py_contention_charge: the one load, then the clock */
        atomic { nt = 0; mn = 255; seen = 0; observe(); n = waiters };
        if
        :: n != 0 ->
            atomic { t = now; observe() };
            atomic { n = waiters; observe() };
            if
            :: n != 0 ->
                atomic { s = since; since = t; observe() };
                atomic { sm = sum; sum = 0; observe() };
                charged(s, sm, n, t, ch);
                if
                :: nt == 0 || t <= mn -> F = 0
                :: else -> F = nt * (t - mn)
                fi;
#ifndef NO_CHARGE_CHECK
                assert(ch <= F);   /* no_overcharge */
#endif
                atomic {
                    for (j : 0 .. NW - 1) {
                        if :: reg[j] && u[j] < t -> u[j] = t :: else -> skip fi
                    }
                }
            :: else -> skip
            fi
        :: else -> skip
        fi;
        atomic { s = 0; n = 0; nt = 0; mn = 0; j = 0; t = 0; seen = 0; sm = 0; ch = 0; F = 0 }
    od;
    atomic { k = 0; finished++ }
}
#endif

init
{
    byte i;
    atomic {
        for (i : 0 .. NW - 1) {
            run Waiter(i)
        };
        run Unlocker()
    };
    (finished == NW + 1);
#if defined(OLD)
    assert(waiters == 0 && since == 0);   /* quiescence: 5a32c1b kept tail */
#elif !defined(SPLIT)
    assert(waiters == 0 && since == 0 && sum == 0);   /* quiescence */
#else
    if
#ifdef SPLIT_ZEROS
    :: deaths == 0 -> assert(waiters == 0 && since == 0 && sum == 0)
#else
    :: deaths == 0 -> assert(waiters == 0)
#endif
    :: else -> skip
    fi
#endif
}
