/* mutex.pml: a SPIN model of gosync's Mutex protocol: csrc/mutex.c on the
 * semaphore of csrc/sema.c and the futex of csrc/park.c.
 *
 * Run it with `bash model/mutex.sh`; model/README.md explains the results.
 *
 * SHAPE OF THE MODEL
 * ------------------
 * Three threads T0, T1, T2 (NT is 3; the LTL formulas and NWAITING name
 * them). Thread i does ROUNDSi rounds (default 2, 1, 1: four lock calls, the
 * fewest that let a newcomer arrive while starvation mode hands the mutex
 * over). A round is Lock or TryLock (a nondeterministic choice;
 * -DNOTRYLOCK: Lock only) and, when that succeeded, a critical section and
 * Unlock.
 *
 * Each thread is written as a state machine over `pc`. One pc is one place
 * in the C code just before a shared-memory access, and one transition
 * (one `atomic`) does exactly that one access (a load, one CAS, one
 * fetch_add, one futex syscall) together with the thread-local computation
 * that follows it, up to the next shared access. Thread-local work is
 * invisible to the other threads, so this loses no interleaving of the C
 * code, and keeps the state space small. A CAS compares the whole word; on
 * failure it copies the current value into the thread's `old`, exactly like
 * gosync_cas (a strong compare_exchange).
 *
 *   mstate   gosync_mutex.state, bit for bit: LOCKED 1, WOKEN 2, STARVING 4,
 *            waiters << 3.
 *   sstate   gosync_sema.state, one word as in the C, with narrower
 *            fields (19/1/8/3/1/16/16 bits in the C): free (bits 0-3), handed
 *            (4-7), fifo (8-11), lifo (12-15), releasing (16-17), draining
 *            (18), owed (19). TOKENS(x) is the futex word (the C's low 32
 *            bits: free, owed, handed, releasing and draining).
 *   fq[]     the futex queue of the token word: thread id + 1 in arrival
 *            order, each sleeper's class in fcls[] (1 FIFO, 2 LIFO, 4 a
 *            thread that holds a token and waits for a handoff release to
 *            finish, 8 a thread owed a token, in gosync_sema_await_owed).
 *            futex_wait compares TOKENS(sstate) with the expected value and
 *            enqueues in one atomic step (SA_PARK), then the thread blocks
 *            (SA_SLEEP). futex_wake(mask) dequeues the first sleeper in queue
 *            order whose class is in mask, marks it woken, and returns 1, or
 *            returns 0 (FUTEX_WAKE_BITSET with n = 1). A sleeper that times
 *            out or is interrupted dequeues itself; a sleeper that a wake has
 *            already dequeued returns WOKEN even if its deadline passed or a
 *            signal came (the kernel's futex_unqueue() rule): no wake is lost
 *            in the futex itself.
 *
 * ABSTRACTIONS
 *   - Spinning (mutex.c:141-150): can_spin(iter) is a nondeterministic
 *     choice, allowed while (old & (LOCKED|STARVING)) == LOCKED and
 *     iter < SPIN (default 2; the C allows 4 rounds, and none on one CPU).
 *     A spin round is what the C does besides pausing: the CAS that sets
 *     WOKEN (LS_SPINCAS), then a reload of the state word (LS_SPINLOAD).
 *     Rounds in which the C would not try that CAS only pause and reload;
 *     they are left out, because the one thing they change, a fresher `old`
 *     in the thread, is what the failed CAS at LS_CAS gives it too.
 *   - Time, in two modes:
 *     - Default (the six safety and no-lost-wakeup properties): no clock
 *       forces anything. "Waited > 1 ms" (mutex.c:188) is a
 *       nondeterministic choice after each semaphore wait. A sleeper in a
 *       park with a deadline may time out (at most DLS times in the whole
 *       run); dl[i], the passed deadline, is then sticky, so that every
 *       later park of that thread with a deadline returns TIMEDOUT at once,
 *       as park.c does for a deadline in the past. The Clock process may at
 *       any time switch timeouts and signals off for good (both budgets to
 *       0). Under weak fairness it eventually does, so a sleeper is never
 *       forced to time out: a waiter that nobody wakes stays asleep for
 *       ever, which is a deadlock (safety run) or a violation of
 *       no_lost_wakeup.
 *     - -DDEADLINES (the no_wait_past_deadline property): every Lock call
 *       has a deadline (-DSOMEDL: each call chooses whether it has one),
 *       and the Clock may mark it passed (dl[i]) at any moment while the
 *       call waits; under weak fairness it must eventually do so for each
 *       waiting call with a deadline. A passed deadline stays passed until
 *       the call returns (then dl[i] is cleared for the thread's next
 *       call): a park with a deadline then returns TIMEDOUT at once, and a
 *       sleeper in one times out (a transition that stays enabled, so weak
 *       fairness makes the sleeper take it unless a wake comes first). One
 *       thread, once (KEEP, default 1), may keep the mutex for ever after
 *       acquiring it (pc HOLD): nothing but the protocol itself can then
 *       get a waiter out. No spontaneous timeouts (DLS 0) and, unless
 *       -DSIGS=1, no signals (SIGS 0).
 *   - A sleeper in any park may be interrupted by a signal (at most SIGS
 *     times in the run; default 1, with DEADLINES 0). Signals are
 *     delivered to sleepers only: a signal that arrives while the thread
 *     runs does not interrupt its next futex_wait either.
 *   - With -DSPURIOUS a sleeper may also return WOKEN without a wake (park.h
 *     allows "very rarely, a spurious return").
 *   - GOSYNC_INTERRUPTED: the binding (gosync/_binding.c, gosync_py_block)
 *     runs the Python signal handlers and calls lock_slow again with the
 *     same deadline, unless a handler raises: both are nondeterministic
 *     choices.
 *   - -DOLD_GIVEUP: give_up as it was before commit f632f89 (f62789c's
 *     mutex.c): an owed waiter loops on
 *     `while (gosync_sema_acquire(&m->sema, true, GOSYNC_NO_DEADLINE) != GOSYNC_OK)`,
 *     and lock_slow carries on after it with its deadline unchanged and
 *     no `pending`. Nobody then sets OWED, so the semaphore's new owed
 *     rules are inert.
 *   - Memory order: the model is sequentially consistent. The C uses relaxed
 *     loads and acquire/release CASes; reorderings allowed by the C11 memory
 *     model are not explored (the TSan harness in csrc/tests covers races).
 *   - Registration (sema.c:110-113) is a CAS loop that refuses a 65536th
 *     waiter of a class; at 3 threads it never refuses and is one atomic
 *     add (SA_REG). GOSYNC_PARK_FAULT is not modelled.
 *   - Counters are 4 bits wide; asserts check that they never overflow.
 *
 * PROPERTIES (switched on by -D flags; mutex.sh checks each in its own run)
 *   CHECK_MUTEX    mutual exclusion: at most one thread between a successful
 *                  Lock/TryLock and the CAS that starts its Unlock; LOCKED is
 *                  set while one is there; Unlock never finds the mutex
 *                  unlocked (GOSYNC_MISUSE, which a correct program never
 *                  sees).
 *   (end states)   no deadlock: every thread finishes its rounds.
 *   LIVE           no lost wakeup, in LTL, checked under weak fairness: every
 *                  thread inside Lock eventually returns from it, holding the
 *                  mutex or having given up.
 *   CHECK_QUIESCE  when all threads have finished: mstate == 0 and
 *                  sstate == 0 (no stranded token, no registered waiter, OWED
 *                  clear) and the futex queue is empty.
 *   CHECK_UAF      no touch after a possible free: after the CAS that
 *                  unlocks, Unlock (in sema_release) touches the semaphore
 *                  word only while some thread is still inside Lock, i.e.
 *                  never after another thread may have acquired the mutex,
 *                  unlocked it and freed it (the promise of mutex.h's
 *                  gosync_mutex_unlock and sema.h's gosync_sema_release).
 *   CHECK_TABLE    the state table of mutex.h: WOKEN and STARVING are
 *                  never set together, and a thread that was woken (awoke)
 *                  always finds WOKEN set when it computes its new state
 *                  (Go's "sync: inconsistent mutex state" throw).
 *   LIVE_DL        (with DEADLINES) no wait past the deadline, in LTL under
 *                  weak fairness: a thread inside Lock whose deadline has
 *                  passed eventually returns from it.
 *
 * MAP: pc -> the C (csrc/ line numbers as of commit f632f89)
 *   T_START ..... mutex.h:92 lock_fast CAS; mutex.c:225-227 try_lock load;
 *                 the end of a round
 *   TL_CAS ...... mutex.c:230 try_lock CAS
 *   LS_LOAD ..... mutex.c:137 first load of lock_slow
 *   LS_SPINCAS .. mutex.c:144-146 CAS in WOKEN while spinning
 *   LS_SPINLOAD . mutex.c:147-149 spin(); iter++; reload (after LS_SPINCAS)
 *   LS_CAS ...... mutex.c:152-169 compute new, CAS, locked with the CAS?
 *                 then mutex.c:172-175 (lifo, wait_start, sema_acquire)
 *   LS_LOAD2 .... mutex.c:188-190 starving = ...; reload; STARVING?
 *                 or mutex.c:211-212 awoke = true; iter = 0
 *   LS_TAKEOVER . mutex.c:203-208 the takeover CAS loop
 *   GU_LOAD ..... mutex.c:104 (and 125, after await_owed) give_up: load,
 *                 owed(old)? (mutex.c:92-96, 106)
 *   GU_CAS ...... mutex.c:107-115 give_up: CAS waiters-1 (-STARVING); then
 *                 disown if marked (mutex.c:111-112)
 *                 OLD_GIVEUP: owed -> sema_acquire(lifo, NO_DEADLINE), ctx 1
 *   OW_LOAD ..... sema.c:140 gosync_sema_owe: load, try_take(me = 0)
 *                 (SA_TAKE with tt == 3)
 *   OW_CAS ...... sema.c:147 owe: the CAS that sets OWED (no CAS when OWED
 *                 is already set: seen = old)
 *   GU_RELOAD ... mutex.c:120-122 marked = true; reload; still owed?
 *   OW_PARK ..... sema.c:159 gosync_sema_await_owed: futex_wait(CLASS_OWED,
 *                 seen, no deadline)
 *   OW_SLEEP .... asleep in it: woken, or a signal; then GU_LOAD
 *                 (mutex.c:125)
 *   DS_LOAD ..... sema.c:164 gosync_sema_disown: load, OWED set?
 *   DS_CAS ...... sema.c:165-166 disown: the CAS that clears OWED
 *   DS_WAKE ..... sema.c:168 disown: wake_owed (futex_wake(CLASS_OWED, all))
 *   SA_LOAD ..... sema.c:103-104 acquire: load, try_take(me = 0)
 *   SA_TAKE ..... sema.c:78-91 one try_take CAS (for every try_take call):
 *                 takes a token, leaves class `me`, clears OWED
 *   SA_WOWED .... sema.c:92-93 try_take: wake_owed after a CAS that found
 *                 OWED set
 *   SA_REG ...... sema.c:107-114 register: add our class
 *   SA_PARK ..... sema.c:119-120, park.c the futex compare-and-sleep
 *   SA_SLEEP .... asleep in the futex: woken, timed out or interrupted
 *   SA_RELOAD ... sema.c:121-128 woken = ...; reload; give up? last try_take
 *   SA_DEREG .... sema.c:129-133 deregister CAS (try_take on failure)
 *   SA_DLOAD .... sema.c:58-62 await_releases: a load (of the spin, or the
 *                 loop)
 *   SA_DCAS ..... sema.c:63-65 await_releases: the CAS that sets draining
 *   SA_DPARK .... sema.c:66-67 await_releases: futex_wait(CLASS_DRAIN)
 *   SA_DSLEEP ... asleep in that futex_wait: woken, or a signal
 *   U_CAS0 ...... mutex.c:235-237 unlock fast CAS LOCKED -> 0
 *   U_CAS ....... mutex.c:244-268 unlock CAS (handoff, or wake claim)
 *   R_ADD ....... sema.c:193-199 release: the CAS that adds the token (and,
 *                 for a handoff, marks it releasing), as one atomic add
 *   R_WAKE_LIFO . sema.c:178-179 wake_one: futex_wake(CLASS_LIFO)
 *   R_WAKE_ANY .. sema.c:180-181 wake_one: futex_wake(CLASS_FIFO|CLASS_LIFO)
 *   R_WOWED ..... sema.c:205-206 (plain release, after wake_one, if OWED was
 *                 set before the add) or sema.c:227-228 (end of a handoff
 *                 that made a free token appear, if OWED was set before
 *                 its CAS): wake_owed
 *   R_FLOAD ..... sema.c:215 release: the load before the end of a handoff
 *   R_FCAS ...... sema.c:217-223 release: the CAS that ends a handoff
 *                 (releasing-1, handed->free if the wake woke nobody,
 *                 draining cleared); then wake_one after a conversion
 *                 (sema.c:224-226)
 *   R_DWAKE ..... sema.c:230-231 release: futex_wake(CLASS_DRAIN, all)
 *   HOLD ........ (DEADLINES) the thread keeps the mutex for ever
 */

#ifndef NT
#define NT 3
#endif
#ifndef ROUNDS0
#define ROUNDS0 2       /* rounds of thread 0 */
#endif
#ifndef ROUNDS1
#define ROUNDS1 1       /* rounds of thread 1 */
#endif
#ifndef ROUNDS2
#define ROUNDS2 1       /* rounds of thread 2 */
#endif
#define MYROUNDS (_pid == 0 -> ROUNDS0 : (_pid == 1 -> ROUNDS1 : ROUNDS2))
#ifndef SPIN
#define SPIN 2
#endif
#ifndef DLS
#ifdef DEADLINES
#define DLS 0           /* the Clock marks deadlines instead */
#else
#define DLS 1
#endif
#endif
#ifndef SIGS
#ifdef DEADLINES
#define SIGS 0          /* -DSIGS=1: four times the states, see README */
#else
#define SIGS 1
#endif
#endif
#ifndef KEEP
#ifdef DEADLINES
#define KEEP 1          /* acquisitions that may keep the mutex for ever */
#else
#define KEEP 0
#endif
#endif
#ifndef NOTRYLOCK
#define TRYLOCK 1
#endif

/* mutex state word (mutex.h:76-79) */
#define LOCKED 1
#define WOKEN 2
#define STARVING 4
#define WONE 8
#define WAITERS(x) ((x) >> 3)

/* owed(state) (mutex.c:92-96): a waiter giving up, seeing x, is owed a token */
#define OWED_STATE(x) (WAITERS(x) == 0 || ((x) & (LOCKED | STARVING)) == STARVING && WAITERS(x) == 1)  /* MUTANT:giveup_zero */

/* semaphore word (sema.c:8-20), 4-bit fields */
#define FREE_ONE 1
#define FREE_MASK 15
#define HANDED_ONE 16
#define HANDED_MASK 240
#define FIFO_ONE 256
#define FIFO_MASK 3840
#define LIFO_ONE 4096
#define LIFO_MASK 61440
#define RELEASING_ONE 65536
#define RELEASING_MASK 196608
#define DRAINING 262144
#define OWED 524288
#define TOKENS(x) ((x) & (255 | RELEASING_MASK | DRAINING | OWED))

/* park classes (sema.c CLASS_*); CL_ANY is wake_one's CLASS_FIFO|CLASS_LIFO */
#define CL_FIFO 1
#define CL_LIFO 2
#define CL_ANY 3
#define CL_DRAIN 4
#define CL_OWED 8

/* gosync_park_result */
#define P_WOKEN 0
#define P_AGAIN 1
#define P_TIMEDOUT 2
#define P_INTERRUPTED 3

/* status codes */
#define R_OK 0
#define R_TIMEDOUT 1
#define R_INTERRUPTED 2

/* program counters */
#define T_START 0
#define TL_CAS 1
#define LS_LOAD 2
#define LS_SPINCAS 3
#define LS_SPINLOAD 4
#define LS_CAS 5
#define LS_LOAD2 6
#define LS_TAKEOVER 7
#define GU_LOAD 8
#define GU_CAS 9
#define SA_LOAD 10
#define SA_TAKE 11
#define SA_REG 12
#define SA_PARK 13
#define SA_SLEEP 14
#define SA_RELOAD 15
#define SA_DEREG 16
#define U_CAS0 17
#define U_CAS 18
#define R_ADD 19
#define R_WAKE_LIFO 20
#define R_WAKE_ANY 21
#define R_FLOAD 22
#define R_FCAS 23
#define SA_DLOAD 24
#define SA_DCAS 25
#define SA_DPARK 26
#define SA_DSLEEP 27
#define R_DWAKE 28
#define SA_WOWED 29
#define OW_LOAD 30
#define OW_CAS 31
#define GU_RELOAD 32
#define OW_PARK 33
#define OW_SLEEP 34
#define DS_LOAD 35
#define DS_CAS 36
#define DS_WAKE 37
#define R_WOWED 38
#define HOLD 39

int mstate;             /* gosync_mutex.state */
int sstate;             /* gosync_mutex.sema.state */

byte fq[NT];            /* futex queue: thread id + 1, in arrival order */
byte fqlen;
byte fcls[NT];          /* class of each sleeper */
bool fwoken[NT];        /* dequeued by a wake, not yet returned */

bool dl[NT];            /* the deadline has passed (default: sticky for the
                           run; DEADLINES: until the Lock call returns) */
byte dlbudget = DLS;
byte sigbudget = SIGS;
#if KEEP > 0
byte keep = KEEP;       /* acquisitions left that may keep the mutex */
#endif
#ifdef SOMEDL
bool hasdl[NT];         /* the current Lock call has a deadline */
#define HASDL(i) hasdl[i]
#else
#define HASDL(i) true
#endif

/* ghost state for the properties */
bool waiting[NT];       /* inside Lock (fast path, lock_slow, binding retry) */
byte in_cs;             /* threads holding the mutex */
byte finished;              /* threads that finished all rounds */
#ifdef CHECK_UAF
byte watch;             /* bit i: thread i is in Unlock after the unlocking CAS */
byte acqafter;          /* bit i: someone acquired the mutex since that CAS */
#define UAF_WATCH watch = watch | (1 << _pid)
#define UAF_ACQ acqafter = acqafter | watch
#define UAF_END watch = watch & ~(1 << _pid); acqafter = acqafter & ~(1 << _pid)
#else
#define UAF_WATCH skip
#define UAF_ACQ skip
#define UAF_END skip
#endif

#define NWAITING (waiting[0] + waiting[1] + waiting[2])

#ifdef CHECK_UAF
#define UAF_CHECK assert(((acqafter >> _pid) & 1) == 0 || NWAITING > 0)
#else
#define UAF_CHECK skip
#endif

#ifdef CHECK_TABLE
#define AWOKE_CHECK assert(!awoke || (old & WOKEN))
#else
#define AWOKE_CHECK skip
#endif

/* After an acquisition: on to Unlock, or (once, with KEEP) never. */
#if KEEP > 0
#define TO_UNLOCK if :: keep > 0 -> keep--; pc = HOLD :: true -> pc = U_CAS0 fi
#else
#define TO_UNLOCK pc = U_CAS0
#endif

/* A Lock call ends (not a retry): its deadline goes with it. */
#if defined(DEADLINES) && defined(SOMEDL)
#define CALL_ENDS waiting[_pid] = false; dl[_pid] = false; hasdl[_pid] = false
#elif defined(DEADLINES)
#define CALL_ENDS waiting[_pid] = false; dl[_pid] = false
#else
#define CALL_ENDS waiting[_pid] = false
#endif

/* A park with a deadline (lock_slow's sema_acquire) has the call's deadline,
 * which may have passed (dl), or, after an owed token, mutex.c's
 * deadline_ns = 0 (pdl). */
#define DL_PASSED (dl[_pid] || pdl)

/* ---- the futex ---------------------------------------------------------- */

/* Removes thread t from the futex queue, where it is. */
inline fq_remove(t) {
    k = 0;
    do
    :: fq[k] != t + 1 -> k++
    :: else -> break
    od;
    do
    :: k + 1 < fqlen -> fq[k] = fq[k + 1]; k++
    :: else -> break
    od;
    fqlen--;
    fq[fqlen] = 0;
    fcls[t] = 0;
    k = 0
}

/* gosync_park_wake(word, 1, mask): nw = how many were woken (0 or 1). */
inline futex_wake(mask) {
    k = 0;
    nw = 0;
    do
    :: k < fqlen && nw == 0 ->
        if
        :: (fcls[fq[k] - 1] & (mask)) -> nw = fq[k]
        :: else -> k++
        fi
    :: else -> break
    od;
    if
    :: nw != 0 ->
        nw = nw - 1;
        fwoken[nw] = true;
        fq_remove(nw);
        nw = 1
    :: else -> skip
    fi;
    k = 0
}

/* gosync_park_wake(word, INT32_MAX, mask). */
inline futex_wake_all(mask) {
    do
    :: futex_wake(mask);
       if
       :: nw == 0 -> break
       :: else -> skip
       fi
    od
}

/* ---- thread-local continuations (no shared access in any of them) -------- */

/* The critical section begins. */
inline enter_cs() {
    in_cs++;
#ifdef CHECK_MUTEX
    assert(in_cs == 1);
    assert(mstate & LOCKED);
#endif
    UAF_ACQ
}

/* lock_slow returns `code` (mutex.c:169, 180, 208), then the binding's loop
 * (gosync_py_block) and the thread's round. */
inline lock_return(code) {
    rc = code;
    old = 0; waited = false; starving = false; awoke = false; iter = 0;
    why = 0; ctx = 0; lf = false; dlok = false;
    marked = false; pend = 0; pdl = false;
    if
    :: rc == R_OK ->
        CALL_ENDS; enter_cs(); TO_UNLOCK
    :: rc == R_INTERRUPTED -> pc = LS_LOAD             /* handlers ran: again */
    :: rc != R_OK ->
        CALL_ENDS; round++; pc = T_START                /* gave up */
    fi;
    rc = 0
}

/* The top of lock_slow's loop (mutex.c:141): spin, or compute the new
 * state and CAS it. */
inline ls_decide() {
    if
    :: (old & (LOCKED | STARVING)) == LOCKED && iter < SPIN &&
       !awoke && !(old & WOKEN) && WAITERS(old) != 0 -> pc = LS_SPINCAS
    :: true -> pc = LS_CAS              /* can_spin false, or a spin round
                                           that only pauses and reloads */
    fi
}

/* give_up's loop head (mutex.c:105-106): leave, or (owed) wait for the
 * token. */
inline gu_decide() {
    if
    :: OWED_STATE(old) ->
#ifdef OLD_GIVEUP
        /* f62789c: while (sema_acquire(lifo, NO_DEADLINE) != OK) */
        old = 0; ctx = 1; lf = true; dlok = false; pc = SA_LOAD
#else
        /* mutex.c:118 gosync_sema_owe */
        old = 0; ctx = 1; pc = OW_LOAD
#endif
    :: else -> pc = GU_CAS
    fi
}

/* try_take returned false: where the caller goes next. */
inline tt_false() {
    if
    :: tt == 0 -> pc = SA_REG                           /* sema.c:107 */
    :: tt == 1 -> pc = SA_PARK                          /* sema.c:119 */
    :: tt == 2 -> pc = SA_DEREG                         /* sema.c:129 */
    :: tt == 3 ->                                       /* sema.c:147 */
        if
        :: (sold & OWED) -> marked = true; pc = GU_RELOAD   /* seen = old */
        :: else -> pc = OW_CAS
        fi
    fi;
    tt = 0; wk = false; tok = 0
}

/* try_take (sema.c:78-85): choose a token from the local copy `sold`. */
inline tt_decide() {
    if
    :: wk && (sold & HANDED_MASK) -> tok = HANDED_ONE  /* MUTANT:take_handed */
    :: else ->
        if
        :: (sold & FREE_MASK) -> tok = FREE_ONE
        :: else -> tok = 0
        fi
    fi;
    if
    :: tok != 0 -> pc = SA_TAKE
    :: else -> tt_false()
    fi
}

/* try_take after its CAS and its wake of owed threads (sema.c:94-96): wait
 * for handoff releases in flight, or return true. */
inline tt_done() {
    if
    :: rel ->                                           /* MUTANT:drain */
        sold = 0; me = 0; tok = 0; tt = 0; wk = false; woken = false; rel = false;
        pc = SA_DLOAD
    :: else -> sa_return(R_OK)
    fi
}

/* gosync_sema_acquire (or, ctx 1, gosync_sema_owe) returns `code`: back in
 * lock_slow (ctx 0, mutex.c:175) or in give_up (ctx 1, mutex.c:118; with
 * OLD_GIVEUP the old give_up's sema_acquire). */
inline sa_return(code) {
    rc = code;
    sold = 0; me = 0; tok = 0; tt = 0; wk = false; woken = false; pr = 0; rel = false;
    if
    :: rc == R_OK ->                                    /* mutex.c:188-189 */
#ifndef OLD_GIVEUP
        if
        :: ctx == 1 ->          /* owe took the token: mutex.c:185-186 */
            pend = why; pdl = true                      /* MUTANT:pending */
        :: else -> skip
        fi;
#endif
        why = 0; marked = false;
        ctx = 0; lf = false; dlok = false;
        if
        :: starving = true                              /* waited > 1 ms */
        :: skip
        fi;
        pc = LS_LOAD2
    :: rc != R_OK && ctx == 0 ->                        /* mutex.c:176-179 */
#ifdef OLD_GIVEUP
        why = rc;
#else
        why = (pend != R_OK -> pend : rc);
#endif
        lf = false; dlok = false; pc = GU_LOAD
    :: rc != R_OK && ctx == 1 ->                        /* OLD_GIVEUP: again */
        pc = SA_LOAD
    fi;
    rc = 0
}

/* Unlock returns (mutex.c:237, 254, 267); the round ends. */
inline unlock_return() {
    UAF_END;
    old = 0; sold = 0; ho = false; wake = false; rph = 0; nw = 0;
    rwoke = false; rdrain = false; conv = false;
    round++;
    pc = T_START
}

/* wake_one(word, sold) (sema.c:175-183): the first syscall. */
inline wake_first() {
    if
    :: (sold & LIFO_MASK) -> pc = R_WAKE_LIFO
    :: else -> pc = R_WAKE_ANY
    fi
}

/* After the CAS that ends a handoff and its wake_one: only wakes, by
 * address, are left (sema.c:224-231). */
inline after_fwake() {
    if
    :: conv && (sold & OWED) -> pc = R_WOWED            /* MUTANT:handoff_wakes_owed */
    :: else -> end_release()
    fi
}

/* sema_release after wake_one (or none): a plain release wakes owed threads
 * and ends; a handoff goes on to its last write (rph 0) or, after it, to
 * the wakes that follow it. */
inline after_wake() {
    if
    :: !ho ->
        if
        :: (sold & OWED) -> pc = R_WOWED                /* MUTANT:release_wakes_owed */
        :: else -> unlock_return()
        fi
    :: ho && rph == 0 -> pc = R_FLOAD
    :: ho && rph == 1 -> after_fwake()
    fi
}

/* After the CAS that ends a handoff and its wakes for waiters and owed
 * threads: the drainers. */
inline end_release() {
    if
    :: rdrain -> pc = R_DWAKE
    :: else -> unlock_return()
    fi
}

/* ---- the threads --------------------------------------------------------- */

active [NT] proctype Thread()
{
    byte pc, round;
    int old, new, sold, me;
    byte tok, tt, ctx, pr, why, rc, iter, rph, nw, k, pend;
    bool wk, woken, lf, dlok, awoke, starving, waited, tkclr, ho, wake;
    bool rwoke, rdrain, conv, marked, pdl, rel;

    do
    /* -- a round: Lock, lock_fast (mutex.h:92-96) -------------------------- */
    :: atomic { pc == T_START && round < MYROUNDS ->
        waiting[_pid] = true;
#ifdef SOMEDL
        if
        :: hasdl[_pid] = true
        :: hasdl[_pid] = false
        fi;
#endif
        if
        :: mstate == 0 -> mstate = LOCKED; lock_return(R_OK)
        :: else -> pc = LS_LOAD
        fi }
#ifdef TRYLOCK
    /* -- a round: TryLock (mutex.c:223-231) ------------------------------- */
    :: atomic { pc == T_START && round < MYROUNDS ->
        old = mstate;
        if
        :: (old & (LOCKED | STARVING)) -> old = 0; round++
        :: else -> pc = TL_CAS
        fi }
    :: atomic { pc == TL_CAS ->
        if
        :: mstate == old -> mstate = old | LOCKED; old = 0; enter_cs(); TO_UNLOCK
        :: else -> old = 0; round++; pc = T_START
        fi }
#endif
    /* -- all rounds done --------------------------------------------------- */
    :: atomic { pc == T_START && round == MYROUNDS ->
        finished++;
#ifdef CHECK_QUIESCE
        if
        :: finished == NT ->
            assert(mstate == 0);
            assert(sstate == 0);
            assert(fqlen == 0)
        :: else -> skip
        fi;
#endif
        break }

    /* -- lock_slow (mutex.c:130-214) --------------------------------------- */
    :: atomic { pc == LS_LOAD ->                        /* mutex.c:137 */
        old = mstate;
        ls_decide() }
    :: atomic { pc == LS_SPINCAS ->                     /* mutex.c:144-146 */
        if
        :: mstate == old -> mstate = old | WOKEN; awoke = true
        :: else -> skip
        fi;
        iter++;
        pc = LS_SPINLOAD }
    :: atomic { pc == LS_SPINLOAD ->                    /* mutex.c:149 */
        old = mstate;
        ls_decide() }
    :: atomic { pc == LS_CAS ->                         /* mutex.c:152-175 */
        AWOKE_CHECK;
        new = old;
        if
        :: !(old & STARVING) -> new = new | LOCKED
        :: else -> skip
        fi;
        if
        :: (old & (LOCKED | STARVING)) -> new = new + WONE
        :: else -> skip
        fi;
        if
        :: starving && (old & LOCKED) -> new = new | STARVING
        :: else -> skip
        fi;
        if
        :: awoke -> new = new & ~WOKEN
        :: else -> skip
        fi;
        if
        :: mstate == old ->
            mstate = new;
            assert(WAITERS(mstate) <= NT);
            new = 0;
            if
            :: !(old & (LOCKED | STARVING)) -> lock_return(R_OK)   /* MUTANT:locked_check */
            :: else ->
                old = 0; iter = 0; awoke = false;
                lf = waited; waited = true; dlok = HASDL(_pid); ctx = 0;
                pc = SA_LOAD                            /* mutex.c:175 */
            fi
        :: else -> old = mstate; new = 0; ls_decide()
        fi }
    :: atomic { pc == LS_LOAD2 ->                       /* mutex.c:189-190 */
        old = mstate;
        if
        :: (old & STARVING) -> pc = LS_TAKEOVER
        :: else ->
            awoke = true; iter = 0;                     /* mutex.c:211-212 */
            ls_decide()
        fi }
    :: atomic { pc == LS_TAKEOVER ->                    /* mutex.c:203-208: CAS loop */
        tkclr = (!starving || WAITERS(old) == 1);       /* MUTANT:takeover */
        new = old + LOCKED - WONE - (tkclr -> STARVING : 0);
        tkclr = false;
        if
        :: mstate == old -> mstate = new; new = 0; old = 0; lock_return(R_OK)
        :: else -> old = mstate; new = 0
        fi }

    /* -- give_up (mutex.c:101-128) ----------------------------------------- */
    :: atomic { pc == GU_LOAD ->                        /* mutex.c:104, 125 */
        old = mstate;
        gu_decide() }
    :: atomic { pc == GU_CAS ->                         /* mutex.c:107-115 */
        new = old - WONE;
        if
        :: WAITERS(old) == 1 -> new = new & ~STARVING   /* MUTANT:giveup_starving */
        :: else -> skip
        fi;
        if
        :: mstate == old ->
            mstate = new; new = 0; old = 0;
            if
            :: marked -> pc = DS_LOAD                   /* MUTANT:disown */
            :: else -> lock_return(why)
            fi
        :: else -> old = mstate; new = 0; gu_decide()
        fi }
    :: atomic { pc == GU_RELOAD ->                      /* mutex.c:121-122 */
        old = mstate;
        if
        :: OWED_STATE(old) -> old = 0; pc = OW_PARK     /* MUTANT:owe_recheck */
        :: else -> sold = 0; pc = GU_CAS
        fi }

    /* -- gosync_sema_owe (sema.c:138-152) ----------------------------------- */
    :: atomic { pc == OW_LOAD ->                        /* sema.c:140 */
        sold = sstate; me = 0; tt = 3; wk = false;
        tt_decide() }
    :: atomic { pc == OW_CAS ->                         /* sema.c:147 */
        if
        :: sstate == sold ->
            sstate = sold | OWED; sold = sold | OWED;   /* seen */
            marked = true; pc = GU_RELOAD
        :: else -> sold = sstate; tt = 3; wk = false; tt_decide()
        fi }

    /* -- gosync_sema_await_owed (sema.c:154-160): no deadline --------------- */
    :: atomic { pc == OW_PARK ->
        if
        :: TOKENS(sstate) != TOKENS(sold) -> pc = GU_LOAD   /* AGAIN */
        :: else ->
            fq[fqlen] = _pid + 1;
            fqlen++;
            fcls[_pid] = CL_OWED;
            pc = OW_SLEEP
        fi;
        sold = 0 }
    :: atomic { pc == OW_SLEEP && fwoken[_pid] ->
        fwoken[_pid] = false; pc = GU_LOAD }
    :: atomic { pc == OW_SLEEP && !fwoken[_pid] && sigbudget > 0 ->
        sigbudget--;
        fq_remove(_pid); pc = GU_LOAD }
#ifdef SPURIOUS
    :: atomic { pc == OW_SLEEP && !fwoken[_pid] ->
        fq_remove(_pid); pc = GU_LOAD }
#endif

    /* -- gosync_sema_disown (sema.c:162-172) -------------------------------- */
    :: atomic { pc == DS_LOAD ->                        /* sema.c:164 */
        sold = sstate;
        if
        :: (sold & OWED) -> pc = DS_CAS
        :: else -> sold = 0; lock_return(why)
        fi }
    :: atomic { pc == DS_CAS ->                         /* sema.c:165-166 */
        if
        :: sstate == sold -> sstate = sold & ~OWED; sold = 0; pc = DS_WAKE
        :: else ->
            sold = sstate;
            if
            :: !(sold & OWED) -> sold = 0; lock_return(why)
            :: else -> skip
            fi
        fi }
    :: atomic { pc == DS_WAKE ->                        /* sema.c:168 */
        futex_wake_all(CL_OWED);
        lock_return(why) }

    /* -- gosync_sema_acquire (sema.c:101-136) ------------------------------ */
    :: atomic { pc == SA_LOAD ->                        /* sema.c:103-104 */
        sold = sstate; me = 0; tt = 0; wk = false;
        tt_decide() }
    :: atomic { pc == SA_TAKE ->                        /* sema.c:90-91 */
        if
        :: sstate == sold ->
            sstate = (sold - tok - me) & ~OWED;         /* MUTANT:take_clears_owed */
            rel = ((sstate & RELEASING_MASK) != 0);
            if
            :: (sold & OWED) -> pc = SA_WOWED           /* MUTANT:take_wakes_owed */
            :: else -> tt_done()
            fi
        :: else -> sold = sstate; tt_decide()
        fi }
    :: atomic { pc == SA_WOWED ->                       /* sema.c:92-93 */
        futex_wake_all(CL_OWED);
        tt_done() }
    :: atomic { pc == SA_REG ->                         /* sema.c:110-114 */
        me = (lf -> LIFO_ONE : FIFO_ONE);
        sstate = sstate + me;
        assert((sstate & FIFO_MASK) <= 3 * FIFO_ONE && (sstate & LIFO_MASK) <= 3 * LIFO_ONE);
        sold = sstate;
        tt = 1; wk = false;
        tt_decide() }
    :: atomic { pc == SA_PARK ->                        /* sema.c:119-120, park.c */
        woken = false;
        if
        :: dlok && DL_PASSED -> pr = P_TIMEDOUT; pc = SA_RELOAD
        :: else ->
            if
            :: TOKENS(sstate) != TOKENS(sold) -> pr = P_AGAIN; pc = SA_RELOAD   /* MUTANT:park_compare */
            :: else ->
                fq[fqlen] = _pid + 1;
                fqlen++;
                fcls[_pid] = (lf -> CL_LIFO : CL_FIFO);
                pc = SA_SLEEP
            fi
        fi;
        sold = 0 }
    :: atomic { pc == SA_SLEEP && fwoken[_pid] ->
        fwoken[_pid] = false; pr = P_WOKEN; pc = SA_RELOAD }
    :: atomic { pc == SA_SLEEP && !fwoken[_pid] && dlok &&
                (dl[_pid] || dlbudget > 0) ->
        if
        :: !dl[_pid] -> dl[_pid] = true; dlbudget--
        :: else -> skip
        fi;
        fq_remove(_pid); pr = P_TIMEDOUT; pc = SA_RELOAD }
    :: atomic { pc == SA_SLEEP && !fwoken[_pid] && sigbudget > 0 ->
        sigbudget--;
        fq_remove(_pid); pr = P_INTERRUPTED; pc = SA_RELOAD }
#ifdef SPURIOUS
    :: atomic { pc == SA_SLEEP && !fwoken[_pid] ->
        fq_remove(_pid); pr = P_WOKEN; pc = SA_RELOAD }
#endif
    :: atomic { pc == SA_RELOAD ->                      /* sema.c:121-128 */
        woken = (pr == P_WOKEN);
        sold = sstate;
        if
        :: pr == P_TIMEDOUT || pr == P_INTERRUPTED ->
            tt = 2; wk = false                          /* last chance */
        :: else -> tt = 1; wk = woken; pr = 0
        fi;
        tt_decide() }                                   /* MUTANT:last_chance */
    :: atomic { pc == SA_DEREG ->                       /* sema.c:129-133 */
        if
        :: sstate == sold ->
            sstate = sold - me;
            sa_return((pr == P_TIMEDOUT -> R_TIMEDOUT : R_INTERRUPTED))
        :: else -> sold = sstate; tt = 2; wk = false; tt_decide()
        fi }


    /* -- await_releases (sema.c:56-70): a token taken while a handoff is in
     *    flight */
    :: atomic { pc == SA_DLOAD ->
        sold = sstate;
        if
        :: !(sold & RELEASING_MASK) -> sa_return(R_OK)
        :: (sold & RELEASING_MASK) && (sold & DRAINING) -> pc = SA_DPARK
        :: (sold & RELEASING_MASK) && !(sold & DRAINING) -> pc = SA_DCAS
        fi }
    :: atomic { pc == SA_DCAS ->
        if
        :: sstate == sold -> sstate = sold | DRAINING; sold = sstate; pc = SA_DPARK
        :: else ->
            sold = sstate;
            if
            :: !(sold & RELEASING_MASK) -> sa_return(R_OK)
            :: (sold & RELEASING_MASK) && (sold & DRAINING) -> pc = SA_DPARK
            :: (sold & RELEASING_MASK) && !(sold & DRAINING) -> skip
            fi
        fi }
    :: atomic { pc == SA_DPARK ->                       /* no deadline */
        if
        :: TOKENS(sstate) != TOKENS(sold | DRAINING) -> pc = SA_DLOAD
        :: else ->
            fq[fqlen] = _pid + 1;
            fqlen++;
            fcls[_pid] = CL_DRAIN;
            pc = SA_DSLEEP
        fi;
        sold = 0 }
    :: atomic { pc == SA_DSLEEP && fwoken[_pid] ->
        fwoken[_pid] = false; pc = SA_DLOAD }
    :: atomic { pc == SA_DSLEEP && !fwoken[_pid] && sigbudget > 0 ->
        sigbudget--;
        fq_remove(_pid); pc = SA_DLOAD }
#ifdef SPURIOUS
    :: atomic { pc == SA_DSLEEP && !fwoken[_pid] ->
        fq_remove(_pid); pc = SA_DLOAD }
#endif

    /* -- gosync_mutex_unlock (mutex.c:233-270) ----------------------------- */
    :: atomic { pc == U_CAS0 ->                         /* mutex.c:235-237 */
        in_cs--;
        if
        :: mstate == LOCKED -> mstate = 0; unlock_return()
        :: else -> old = mstate; pc = U_CAS
        fi }
    :: atomic { pc == U_CAS ->                          /* mutex.c:244-268 */
#ifdef CHECK_MUTEX
        assert(old & LOCKED);                           /* GOSYNC_MISUSE */
#endif
        new = old - LOCKED;
        if
        :: (old & STARVING) -> ho = true; wake = false
        :: else ->
            ho = false;
            wake = (WAITERS(new) != 0 && !(new & WOKEN));   /* MUTANT:unlock_wake */
            if
            :: wake -> new = (new - WONE) | WOKEN
            :: else -> skip
            fi
        fi;
        if
        :: !(old & LOCKED) -> new = 0; unlock_return()  /* misuse */
        :: else ->
            if
            :: mstate == old ->
                mstate = new; new = 0; old = 0;
                if
                :: ho || wake -> UAF_WATCH; rph = 0; pc = R_ADD
                :: else -> unlock_return()
                fi
            :: else -> old = mstate; new = 0; ho = false; wake = false
            fi
        fi }

    /* -- gosync_sema_release (sema.c:185-232) ------------------------------ */
    :: atomic { pc == R_ADD ->                          /* the adding CAS */
        UAF_CHECK;
        sold = sstate;
        sstate = sstate + (ho -> HANDED_ONE + RELEASING_ONE : FREE_ONE);
        assert((sstate & FREE_MASK) <= 3 && (sstate & HANDED_MASK) <= 3 * HANDED_ONE);
        assert((sstate & RELEASING_MASK) <= RELEASING_ONE);     /* one in flight */
        if
        :: (sold & (FIFO_MASK | LIFO_MASK)) -> wake_first()
        :: else -> after_wake()
        fi }
    :: atomic { pc == R_WAKE_LIFO ->                    /* wake_one */
        futex_wake(CL_LIFO);
        if
        :: nw != 0 -> rwoke = true; after_wake()
        :: else -> pc = R_WAKE_ANY
        fi }
    :: atomic { pc == R_WAKE_ANY ->                     /* wake_one */
        futex_wake(CL_ANY);
        if
        :: nw != 0 -> rwoke = true
        :: else -> skip
        fi;
        after_wake() }
    :: atomic { pc == R_WOWED ->                        /* wake_owed */
        futex_wake_all(CL_OWED);
        if
        :: ho -> end_release()
        :: else -> unlock_return()
        fi }
    :: atomic { pc == R_FLOAD ->                        /* before the last write */
        UAF_CHECK;
        sold = sstate;
        pc = R_FCAS }
    :: atomic { pc == R_FCAS ->                         /* the last write */
        UAF_CHECK;
        new = sold - RELEASING_ONE;
        conv = (!rwoke && (sold & HANDED_MASK));        /* MUTANT:convert */
        if
        :: conv -> new = new - HANDED_ONE + FREE_ONE
        :: else -> skip
        fi;
        if
        :: !(new & RELEASING_MASK) -> new = new & ~DRAINING
        :: else -> skip
        fi;
        if
        :: sstate == sold ->
            sstate = new;
            rdrain = ((sold & DRAINING) && !(new & DRAINING));
            rph = 1; new = 0;
            if
            :: conv && (sold & (FIFO_MASK | LIFO_MASK)) -> wake_first()
            :: else -> after_fwake()
            fi
        :: else -> sold = sstate; new = 0; conv = false
        fi }
    :: atomic { pc == R_DWAKE ->                        /* drainers, by address */
        futex_wake_all(CL_DRAIN);
        unlock_return() }
    od
}

#ifdef DEADLINES
/* Time passes: the deadline of a waiting Lock call may pass at any moment,
 * and under weak fairness it eventually does (each option stays enabled
 * until it is taken or the call returns, and every other option can be
 * taken only finitely often). Signals may stop for good at any moment. */
active proctype Clock()
{
end:
    do          /* one pc only, so that it adds no states of its own */
    :: atomic { waiting[0] && HASDL(0) && !dl[0] -> dl[0] = true }
    :: atomic { waiting[1] && HASDL(1) && !dl[1] -> dl[1] = true }
    :: atomic { waiting[2] && HASDL(2) && !dl[2] -> dl[2] = true }
    :: atomic { sigbudget > 0 -> sigbudget = 0 }
    od
}
#else
/* Timeouts and signals may stop for good at any moment (their budgets drop
 * to 0); under weak fairness they eventually do, so that no waiter is ever
 * forced to give up. */
active proctype Clock()
{
end:
    do          /* one pc only, so that it adds no states of its own */
    :: atomic { dlbudget > 0 || sigbudget > 0 -> dlbudget = 0; sigbudget = 0 }
    od
}
#endif

#ifdef CHECK_TABLE
/* mutex.h: "x 1 1 never". */
active proctype Table()
{
end:
    atomic { (mstate & WOKEN) && (mstate & STARVING) -> assert(false) }
}
#endif

#ifdef CHECK_MUTEX
/* The holder keeps LOCKED set until its Unlock's CAS. */
active proctype Holder()
{
end:
    atomic { in_cs > 0 && !(mstate & LOCKED) -> assert(false) }
}
#endif

#ifdef LIVE
ltl no_lost_wakeup {
    [] ((waiting[0] -> <> !waiting[0]) &&
        (waiting[1] -> <> !waiting[1]) &&
        (waiting[2] -> <> !waiting[2]))
}
#endif

#ifdef LIVE_DL
ltl no_wait_past_deadline {
    [] (((waiting[0] && dl[0]) -> <> !waiting[0]) &&
        ((waiting[1] && dl[1]) -> <> !waiting[1]) &&
        ((waiting[2] && dl[2]) -> <> !waiting[2]))
}
#endif
