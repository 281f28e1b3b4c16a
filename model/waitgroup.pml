/* waitgroup.pml: a SPIN model of gosync's WaitGroup (csrc/waitgroup.c,
 * the table in csrc/waitgroup.h) on the futex of csrc/park.c.
 *
 * Run it with `bash model/waitgroup_cond.sh`; model/README.md explains it.
 *
 * SHAPE
 *   The group starts with counter 2 (Add(2) before the threads start).
 *   A   Wait (cycle 1); once B's Wait has returned too (the legal reuse of
 *       Go's rule), Add(1) and Wait again (cycle 2).
 *   B   Wait (cycle 1).
 *   W1  Done (a cycle-1 task); then, once A's Add(1) has been made, Done
 *       (the cycle-2 task).
 *   W2  Done (a cycle-1 task). With -DHANG it may instead never call Done
 *       (a task that runs for ever), so that nothing forces a release.
 *   Z   Add(0), once, at any moment.
 *   Clock  the deadlines and the signals (below).
 *
 *   One transition (one atomic) is exactly one shared access of the C: the
 *   load, one CAS, the futex_wait (compare and enqueue in one step), the
 *   futex_wake (all sleepers at once), with the thread-local work up to the
 *   next shared access folded in. A CAS compares the whole word and on
 *   failure gives the thread the current value (gosync_cas).
 *
 *   state    counter, waiters, gen: the three fields of the uint64. gen has
 *            GENBITS bits (default 2; 16 in the C); it does not wrap in the
 *            two cycles here.
 *   futex    the waiters sleep on the low half of the word, WORD below
 *            (gen and waiters). sl[i]: thread i is in the futex queue. A
 *            futex_wait compares WORD with the expected value and enqueues
 *            in one step; the release's wake (INT32_MAX, by address) takes
 *            every sleeper out of the queue, and a sleeper out of the queue
 *            returns WOKEN (the kernel's rule: a waiter that a wake has
 *            dequeued returns 0 even if its deadline passed meanwhile).
 *
 * TIME AND SIGNALS (bounded nondeterminism)
 *   dl[i]   the deadline of thread i's current Wait has passed (sticky until
 *           the Wait returns). The Clock sets it at any moment while the
 *           thread is in Wait (DLS deadlines in the whole run). From then
 *           on every futex_wait returns TIMEDOUT at once (park.c), and a
 *           sleeper may time out: a transition that stays enabled, so under
 *           weak fairness a sleeper whose deadline has passed does time out
 *           unless a wake comes first.
 *   sig[i]  a signal interrupted thread i's park during its current Wait
 *           (SIGS signals in the whole run; delivered to sleepers only:
 *           Python's handler is pending until the C returns).
 *   The Clock may stop both for good at any moment; under weak fairness it
 *   eventually does, so nothing forces a waiter to give up.
 *
 * PROPERTIES
 *   (end states)  no waiter is left asleep: every thread finishes (safety
 *                 run, without HANG).
 *   assertions    - a Wait that returns OK after counting itself in returns
 *                   only after a CAS took the counter from >0 to 0 (zeros)
 *                   since it counted itself in;
 *                 - each release (the write that advances gen) follows its
 *                   own zero: rels <= zerosw (the CASes that took the
 *                   counter from >0 to 0 with waiters), so at most one
 *                   release per cycle, and at the end rels == zerosw;
 *                 - no call sees a misuse in this legal program (negative
 *                   counter, "reused before Wait returned", "Add
 *                   concurrently with Wait");
 *                 - at the end: counter 0, waiters 0, gen == releases, the
 *                   futex queue empty (counts exact).
 *   LIVE          LTL under weak fairness, with HANG: a waiter whose deadline
 *                 has passed, or that got a signal, eventually returns:
 *                 [] ((waiting[i] && (dl[i] || sig[i])) -> <> !waiting[i])
 *
 * MUTANTS
 *   -DTWO_STEP  Go's release as gosync had it before: the CAS that reaches 0
 *               keeps the waiters, then a separate store (0, 0, gen+1) and
 *               the wake; with the old "Add concurrently with Wait" check.
 *               Z's Add(0) between the two steps releases a second time,
 *               and the stale store wipes a reused group (defect 2).
 *   -DFORGET    after a give-up CAS that fails, the waiter parks again
 *               instead of retrying the give-up (defect 4): a signal is
 *               forgotten until the group is released.
 *
 * MAP (csrc/waitgroup.c at de2d03b): the pc names below, each with the
 *   line of gosync_waitgroup_add / gosync_waitgroup_wait it stands for.
 */

#ifndef GENBITS
#define GENBITS 2
#endif
#define GENMOD (1 << GENBITS)
#ifndef DLS
#define DLS 2
#endif
#ifndef SIGS
#define SIGS 1
#endif

/* the low half of the state word, on which waiters sleep */
#define WORD(g, w) ((g) + GENMOD * (w))

/* thread ids (T's parameter) */
#define TA 0
#define TB 1
#define TW1 2
#define TW2 3
#define TZ 4
#ifdef NOZ
#define NT 4
#else
#define NT 5
#endif

/* program counters: one per shared access of the C */
#define W_LOAD 1        /* waitgroup.c:70 the first load */
#define W_CAS 2         /* :71-76 CAS waiters+1 */
#define W_LOOP 3        /* :80-82 load: released? */
#define W_PARK 4        /* :83-84 futex_wait(low half, st) */
#define W_SLEEP 5       /* asleep: woken, timed out or interrupted */
#define W_GLOAD 6       /* :92 the give-up load */
#define W_GCAS 7        /* :93-98 the give-up CAS loop, one CAS a step */
#define W_REL 8         /* :103 the reuse check */
#define A_LOAD 9        /* :35 */
#define A_CAS 10        /* :38-50 */
#define A_STORE 11      /* -DTWO_STEP: the old second step, Store(0,0,gen+1) */
#define A_WAKE 12       /* :55 futex_wake(INT32_MAX), by address */
#define T_DONE 13
#define T_HANG 14       /* -DHANG: W2's task never finishes */

/* park results */
#define P_TIMEDOUT 1
#define P_INTERRUPTED 2

byte counter = 2;       /* COUNTER(state) */
byte waiters = 0;       /* WAITERS(state) */
byte gen = 0;           /* GEN(state) */

bit sl[2];              /* thread i (A = 0, B = 1) is in the futex queue */
bit dl[2];              /* thread i's deadline has passed (this Wait) */
bit sig[2];             /* a signal interrupted thread i (this Wait) */
bit waiting[2];         /* thread i is inside Wait */
byte dlbudget = DLS;
byte sigbudget = SIGS;

/* ghosts */
byte zeros = 0;         /* CASes that took the counter from > 0 to 0 */
byte zerosw = 0;        /* those of them that found waiters */
byte rels = 0;          /* releases: writes that advanced gen */
bit b_returned = 0;     /* B's Wait has returned */
bit added2 = 0;         /* A's cycle-2 Add(1) has been made */
byte finished = 0;      /* threads done */

/* The next call of thread id's program, after `step` calls:
 *   A: Wait; Add(1) (once B's Wait has returned); Wait
 *   B: Wait
 *   W1: Done; Done (once A's Add(1) has been made)
 *   W2: Done, or (-DHANG) never
 *   Z: Add(0) */
inline next_call() {
    if
    :: id == TA && step == 0 -> pc = W_LOAD
    :: id == TA && step == 1 -> pc = A_LOAD; delta = 1
    :: id == TA && step == 2 -> pc = W_LOAD
    :: id == TB && step == 0 -> pc = W_LOAD
    :: (id == TW1 && step <= 1) || (id == TW2 && step == 0) ->
        pc = A_LOAD; delta = -1
#ifndef NOZ
    :: id == TZ && step == 0 -> pc = A_LOAD; delta = 0
#endif
    :: else -> pc = T_DONE; finished++
    fi
}

/* The current call returns. */
inline call_return() {
    if
    :: pc == W_LOAD || pc == W_CAS || pc == W_GCAS || pc == W_REL ->
        waiting[id] = 0; dl[id] = 0; sig[id] = 0;
        b_returned = b_returned || id == TB
    :: else ->
        added2 = added2 || id == TA
    fi;
    oc = 0; ow = 0; og = 0; mygen = 0; z0 = 0; pr = 0; rel = 0; delta = 0;
    step++;
    next_call()
}

/* The gate before a call: Go's rules for reuse, met by the program. */
#define GATE ((id != TA || step != 1 || b_returned) && \
              (id != TW1 || step != 1 || added2))

#define SAME (counter == oc && waiters == ow && gen == og)
/* released(st, gen) of waitgroup.c: gen changed, or no waiters (a counted
 * waiter sees waiters >= 1, so that holds even if gen wrapped) */
#define RELEASED (og != mygen || ow == 0)
#define RELOAD oc = counter; ow = waiters; og = gen

proctype T(byte id)
{
    byte pc, step, oc, ow, og, mygen, z0, pr;
    short delta;
    bit rel;
    atomic { next_call() }
    do
    /* -- gosync_waitgroup_wait -------------------------------------------- */
    :: atomic { pc == W_LOAD && GATE ->
        waiting[id] = 1;
        RELOAD;
        if
        :: oc == 0 -> call_return()                     /* OK */
        :: else -> pc = W_CAS
        fi }
    :: atomic { pc == W_CAS ->
        if
        :: SAME -> waiters++; z0 = zeros; mygen = og; pc = W_LOOP
        :: else ->
            RELOAD;
            if
            :: oc == 0 -> call_return()                 /* OK */
            :: else
            fi
        fi }
    :: atomic { pc == W_LOOP ->
        RELOAD;
        if
        :: RELEASED -> pc = W_REL
        :: else -> pc = W_PARK
        fi }
    :: atomic { pc == W_PARK ->
        if
        :: dl[id] -> pr = P_TIMEDOUT; pc = W_GLOAD    /* park.c: at once */
        :: !dl[id] && WORD(gen, waiters) == WORD(og, ow) ->
            sl[id] = 1; pc = W_SLEEP
        :: !dl[id] && WORD(gen, waiters) != WORD(og, ow) ->
            pc = W_LOOP                                 /* AGAIN */
        fi }
    :: atomic { pc == W_SLEEP && !sl[id] -> pc = W_LOOP }     /* WOKEN */
    :: atomic { pc == W_SLEEP && sl[id] && dl[id] ->
        sl[id] = 0; pr = P_TIMEDOUT; pc = W_GLOAD }
    :: atomic { pc == W_SLEEP && sl[id] && sigbudget > 0 ->
        sl[id] = 0; sigbudget--; sig[id] = 1; pr = P_INTERRUPTED; pc = W_GLOAD }
    :: atomic { pc == W_GLOAD ->
        RELOAD;
        if
        :: RELEASED -> pc = W_REL
        :: else -> pc = W_GCAS
        fi }
    :: atomic { pc == W_GCAS ->
        if
        :: SAME ->
#ifndef TWO_STEP
            assert(waiters > 0 && counter > 0);         /* while gen is ours */
#endif
            waiters--;
            call_return()                               /* TIMEDOUT, INTERRUPTED */
        :: else ->
            RELOAD;
            if
            :: RELEASED -> pc = W_REL
            :: else
#ifdef FORGET
                ; pc = W_LOOP; pr = 0                   /* the old code: park again */
#endif
            fi
        fi }
    :: atomic { pc == W_REL ->
        assert(counter == 0 && waiters == 0);           /* GOSYNC_WG_REUSED: never here */
        assert(zeros > z0);     /* the counter reached 0 since we counted in */
        call_return() }                                 /* OK */

    /* -- gosync_waitgroup_add --------------------------------------------- */
    :: atomic { pc == A_LOAD && GATE -> RELOAD; pc = A_CAS }
    :: atomic { pc == A_CAS ->
        assert(oc + delta >= 0);                        /* GOSYNC_WG_NEGATIVE: never here */
#ifdef TWO_STEP
        assert(!(ow != 0 && delta > 0 && oc == 0));     /* the old GOSYNC_WG_CONCURRENT */
#endif
        if
        :: SAME ->
            rel = (oc + delta == 0 && ow != 0);
            if :: oc > 0 && oc + delta == 0 -> zeros++ :: else fi;
            if :: oc > 0 && oc + delta == 0 && ow > 0 -> zerosw++ :: else fi;
#ifdef TWO_STEP
            counter = oc + delta;
            if
            :: rel -> pc = A_STORE
            :: else -> call_return()
            fi
#else
            if
            :: rel ->               /* (0, 0, gen+1) in the same CAS */
                counter = 0; waiters = 0; gen = (og + 1) % GENMOD;
                rels++; assert(rels <= zerosw);
                pc = A_WAKE
            :: else -> counter = oc + delta; call_return()
            fi
#endif
        :: else -> RELOAD
        fi }
#ifdef TWO_STEP
    :: atomic { pc == A_STORE ->
        counter = 0; waiters = 0; gen = (og + 1) % GENMOD;
        rels++; assert(rels <= zerosw);
        pc = A_WAKE }
#endif
    :: atomic { pc == A_WAKE -> sl[0] = 0; sl[1] = 0; call_return() }
#ifdef HANG
    :: atomic { pc == A_LOAD && id == TW2 && step == 0 -> pc = T_HANG }
#endif
    :: pc == T_DONE -> break
    od
}

/* Deadlines pass and signals come at any moment, within their budgets; the
 * Clock may stop both for good, and under weak fairness eventually does. */
active proctype Clock()
{
end:
    do
    :: atomic { dlbudget > 0 && waiting[0] && !dl[0] -> dl[0] = 1; dlbudget-- }
    :: atomic { dlbudget > 0 && waiting[1] && !dl[1] -> dl[1] = 1; dlbudget-- }
    :: atomic { dlbudget > 0 || sigbudget > 0 -> dlbudget = 0; sigbudget = 0 }
    od
}

/* Counts exact at the end. */
active proctype Final()
{
end:
    atomic {
        finished == NT ->
        assert(counter == 0 && waiters == 0);
        assert(rels == zerosw && gen == rels % GENMOD);
        assert(sl[0] == 0 && sl[1] == 0)
    }
}

init
{
    atomic {
        run T(TA); run T(TB); run T(TW1); run T(TW2)
#ifndef NOZ
        ; run T(TZ)
#endif
    }
}

#ifdef LIVE
ltl deadline_returns {
    [] (((waiting[0] && (dl[0] || sig[0])) -> <> !waiting[0]) &&
        ((waiting[1] && (dl[1] || sig[1])) -> <> !waiting[1]))
}
#endif
