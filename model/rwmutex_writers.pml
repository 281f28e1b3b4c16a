/* The RWMutex, wider than rwmutex_wait.pml: csrc/rwmutex.c (at 2035c29 and
 * de2d03b) on the futex of csrc/park.c, with the writers' mutex w as one
 * bit (model/mutex.pml checks the Mutex itself).
 *
 *   R0, R1  readers (-DNR=1: R0 only) that hold the lock at the start:
 *           RUnlock, then RLock
 *           (which may block behind a writer, and may give up at its
 *           deadline), then RUnlock if they got it.
 *   A       NA Lock calls (default 1) with a deadline: it may give up while
 *           taking w, while waiting for the previous writer to clear WRITER
 *           (announce: WWAIT and sleep), or while waiting for the readers;
 *           each success is followed by Unlock.
 *   B       one Lock without deadline, then Unlock.
 *   Clock   deadlines pass (DLS in the whole run, default NA + 1) at any
 *           moment while A or a reader is in Lock/RLock; the Clock may stop
 *           them for good, and under weak fairness eventually does.
 *
 * One transition is one shared access of the C: a load, a CAS, a futex
 * wait (compare and enqueue in one step) or wake, the Lock or Unlock of w.
 * A CAS loop whose new value is a function of the value read (RLock's
 * readers+1, RUnlock, a blocked reader's give-up) is one atomic
 * read-modify-write: its failed attempts change nothing. The loops whose
 * failure path decides something else (announce, release) keep the load
 * and each CAS as steps.
 *
 * The state word: readers, rwait (readerWait), writer (WRITER), wwait
 * (WWAIT), epoch (EPOCHBITS bits, default 2; 30 in the C). Writers sleep on
 * the low half (rwait, WRITER, WWAIT and readers' low 14 bits: WORDW),
 * blocked readers on the high half (epoch and readers' top 2 bits, 0 here:
 * WORDR); a writer's wake takes the one writer asleep (one holds w), a
 * readers' wake all of them.
 *
 * -DHANG (for the LIVE run): R0 may keep its read lock for ever, so that
 * nothing but a deadline ends a writer's wait.
 *
 * Properties (safety run): mutual exclusion (assertions); no misuse seen
 * (RUnlock with readerWait 0 under WRITER, Unlock without WRITER); every
 * thread finishes (no invalid end state: no writer or reader left asleep,
 * none asleep for ever while counted as a holder); at the end the word is
 * (0, 0, 0, 0, epoch), w is free, the futex queues are empty.
 * LIVE (LTL, weak fairness): a thread in Lock or RLock whose deadline has
 * passed eventually returns: [] ((waiting[i] && dl[i]) -> <> !waiting[i]).
 *
 * Mutants:
 *   -DNORWAIT         the writer sleeps on a word without readerWait: SPIN
 *                     finds the writer left asleep.
 *   -DALWAYS_ADVANCE  every release advances the epoch (before 2035c29
 *                     every writer that gave up did); with -DNA=3 (and the
 *                     2-bit epoch) a reader granted the lock but not yet
 *                     run sees its own epoch again after three give-ups of
 *                     A, and sleeps for good while counted (defect 6).
 *
 * Originally written by a reviewer of the fix described in model/README.md
 * (the writer's wait only); rewritten for the protocol of 2035c29.
 */
#ifndef EPOCHBITS
#define EPOCHBITS 2
#endif
#define EPOCHMOD (1 << EPOCHBITS)
#ifndef NA
#define NA 1
#endif
#ifndef DLS
#define DLS (NA + 1)
#endif
#ifndef NR
#define NR 2            /* readers: 2, or 1 (R0 only) */
#endif

#define TR0 0
#define TR1 1
#define TA 2
#define TB 3

/* the state word */
byte readers = NR;
byte rwait = 0;
bit writer = 0;
bit wwait = 0;
byte epoch = 0;
bit w = 0;                      /* the writers' Mutex */

#ifdef NORWAIT
#define WORDW (2 * writer + 4 * wwait + 8 * readers)
#else
#define WORDW (rwait + 4 * writer + 8 * wwait + 16 * readers)
#endif
#define WORDR epoch
/* the low half of the value a writer read (or..oe) */
#ifdef NORWAIT
#define WORDW_OF_OLD (2 * ow + 4 * oww + 8 * or)
#else
#define WORDW_OF_OLD (orw + 4 * ow + 8 * oww + 16 * or)
#endif

bit wsl[4];                     /* writer i asleep on the low half */
bit rsl[2];                     /* reader i asleep on the high half */
bit dl[4];                      /* thread i's deadline has passed (this call) */
bit waiting[4];                 /* thread i is inside Lock or RLock */
byte dlbudget = DLS;

/* ghosts */
byte rheld = NR;                /* readers holding the lock */
bit wheld = 0;                  /* a writer holds it */
byte finished = 0;

/* program counters */
#define W_LOCKW 1       /* gosync_mutex_lock(&rw->w, deadline) */
#define AN_LOAD 2       /* announce: the load */
#define AN_WCAS 3       /* announce: CAS old | WWAIT */
#define AN_PARK 4       /* announce: futex_wait(low half, old | WWAIT) */
#define AN_SLEEP 5
#define AN_RELOAD 6     /* announce: the load after the park */
#define AN_UNLOCKW 7    /* announce gave up: gosync_mutex_unlock(&rw->w) */
#define AN_CAS 8        /* announce: CAS WRITER | readers * WAIT_ONE */
#define LK_LOAD 9       /* lock: the load of the loop */
#define LK_PARK 10
#define LK_SLEEP 11
#define LK_GLOAD 12     /* lock, give up: the load */
#define LK_UNLOCKW 13   /* lock, give up: gosync_mutex_unlock(&rw->w) */
#define W_CS 14         /* holds the lock */
#define U_LOAD 15       /* unlock: the load and the misuse check */
#define U_UNLOCKW 16    /* unlock: gosync_mutex_unlock(&rw->w) */
#define REL_LOAD 17     /* unlock: release(rw, load) */
#define REL_CAS 18      /* release: the CAS */
#define REL_WAKER 19    /* release: wake the blocked readers */
#define REL_WAKEW 20    /* release: wake the WWAIT writer */
#define RL_CAS 21       /* rlock: readers+1 */
#define RL_LOAD 22
#define RL_PARK 23
#define RL_SLEEP 24
#define RL_GIVEUP 25    /* rlock, give up: epoch unchanged? readers-1 */
#define R_CS 26
#define RU_CAS 27       /* runlock: readers-1 (and readerWait-1) */
#define RU_WAKE 28      /* runlock: wake the writer */
#define T_DONE 29
#define T_HANG 30       /* -DHANG: R0 never unlocks */
#define T_NEXT 31       /* a call has returned (a step of its own, so that
                           the LTL formula sees it return) */

#define SAME (readers == or && rwait == orw && writer == ow && wwait == oww && epoch == oe)
#define RELOAD or = readers; orw = rwait; ow = writer; oww = wwait; oe = epoch

/* Lock/RLock returns; the next call of the thread's program. */
inline call_return() {
    waiting[id] = 0; dl[id] = 0
}

inline next_call() {
    calls++;
    if
    :: id <= TR1 && calls == 1 -> pc = RL_CAS; waiting[id] = 1
    :: id == TA && calls <= NA -> pc = W_LOCKW; waiting[id] = 1
    :: id == TB && calls == 1 -> pc = W_LOCKW; waiting[id] = 1
    :: else -> pc = T_DONE; finished++
    fi
}

/* announce's decision on the value in or..oe (the top of its loop) */
inline announce_decide() {
    if
    :: ow && !oww -> pc = AN_WCAS
    :: ow && oww -> pc = AN_PARK; exp = WORDW_OF_OLD
    :: !ow -> pc = AN_CAS
    fi
}

proctype T(byte id)
{
    byte pc, calls, or, orw, oe, e, exp, gaveup;
    bit ow, oww, blocked, wakew;
    atomic { pc = (id <= TR1 -> RU_CAS : 0); if :: pc == 0 -> next_call() :: else fi }
#ifdef HANG
    if                          /* R0 may hold its read lock for ever */
    :: id == TR0 -> pc = T_HANG
    :: true
    fi;
#endif
    do
    /* -- Lock -------------------------------------------------------------- */
    :: atomic { pc == W_LOCKW && w == 0 -> w = 1; pc = AN_LOAD }
    :: atomic { pc == W_LOCKW && w == 1 && dl[id] ->   /* w's Lock times out */
        call_return(); pc = T_NEXT }
    :: atomic { pc == AN_LOAD -> RELOAD; announce_decide() }
    :: atomic { pc == AN_WCAS ->
        if
        :: SAME -> wwait = 1; oww = 1; pc = AN_PARK; exp = WORDW_OF_OLD
        :: else -> RELOAD; announce_decide()
        fi }
    :: atomic { pc == AN_PARK ->
        if
        :: dl[id] -> gaveup = 1; pc = AN_RELOAD
        :: !dl[id] && WORDW == exp -> wsl[id] = 1; pc = AN_SLEEP
        :: !dl[id] && WORDW != exp -> pc = AN_RELOAD
        fi;
        exp = 0 }
    :: atomic { pc == AN_SLEEP && !wsl[id] -> pc = AN_RELOAD }     /* woken */
    :: atomic { pc == AN_SLEEP && wsl[id] && dl[id] ->
        wsl[id] = 0; gaveup = 1; pc = AN_RELOAD }
    :: atomic { pc == AN_RELOAD ->
        RELOAD;
        if
        :: gaveup && ow -> pc = AN_UNLOCKW
        :: else -> gaveup = 0; announce_decide()
        fi }
    :: atomic { pc == AN_UNLOCKW -> w = 0; gaveup = 0; call_return(); pc = T_NEXT }
    :: atomic { pc == AN_CAS ->
        if
        :: SAME ->
            writer = 1; rwait = readers;
            if
            :: readers == 0 -> pc = W_CS
            :: else -> pc = LK_LOAD
            fi
        :: else -> RELOAD; announce_decide()
        fi }
    :: atomic { pc == LK_LOAD ->
        RELOAD;
        if
        :: orw == 0 -> pc = W_CS
        :: else -> exp = WORDW_OF_OLD; pc = LK_PARK
        fi }
    :: atomic { pc == LK_PARK ->
        if
        :: dl[id] -> pc = LK_GLOAD
        :: !dl[id] && WORDW == exp -> wsl[id] = 1; pc = LK_SLEEP
        :: !dl[id] && WORDW != exp -> pc = LK_LOAD
        fi;
        exp = 0 }
    :: atomic { pc == LK_SLEEP && !wsl[id] -> pc = LK_LOAD }       /* woken */
    :: atomic { pc == LK_SLEEP && wsl[id] && dl[id] ->
        wsl[id] = 0; pc = LK_GLOAD }
    :: atomic { pc == LK_GLOAD ->
        RELOAD;
        if
        :: orw == 0 -> pc = W_CS
        :: else -> pc = LK_UNLOCKW
        fi }
    :: atomic { pc == LK_UNLOCKW ->     /* then release(rw, st), st stale */
        w = 0; gaveup = 1; pc = REL_CAS }
    :: atomic { pc == W_CS ->
        assert(rheld == 0 && !wheld && writer && rwait == 0);
        wheld = 1; call_return(); pc = U_LOAD }
    /* -- Unlock ------------------------------------------------------------ */
    :: atomic { pc == U_LOAD ->
        assert(writer && rwait == 0);   /* GOSYNC_MISUSE: never here */
        wheld = 0; pc = U_UNLOCKW }
    :: atomic { pc == U_UNLOCKW -> assert(w); w = 0; pc = REL_LOAD }
    :: atomic { pc == REL_LOAD -> RELOAD; pc = REL_CAS }
    :: atomic { pc == REL_CAS ->
        if
        :: SAME ->
            assert(or >= orw);
            blocked = (or > orw);
            wakew = oww;
            writer = 0; wwait = 0; rwait = 0;
#ifdef ALWAYS_ADVANCE
            epoch = (epoch + 1) % EPOCHMOD;
#else
            if :: blocked -> epoch = (epoch + 1) % EPOCHMOD :: else fi;
#endif
            if
            :: blocked -> pc = REL_WAKER
            :: !blocked && wakew -> pc = REL_WAKEW
            :: else -> gaveup = 0; call_return(); pc = T_NEXT
            fi
        :: else -> RELOAD
        fi }
    :: atomic { pc == REL_WAKER ->      /* by address: every blocked reader */
        rsl[0] = 0; rsl[1] = 0;
        if
        :: wakew -> pc = REL_WAKEW
        :: else -> gaveup = 0; blocked = 0; call_return(); pc = T_NEXT
        fi }
    :: atomic { pc == REL_WAKEW ->      /* by address: the one writer asleep */
        wsl[TA] = 0; wsl[TB] = 0;
        gaveup = 0; blocked = 0; wakew = 0; call_return(); pc = T_NEXT }

    /* -- RLock ------------------------------------------------------------- */
    :: atomic { pc == RL_CAS ->
        readers++;
        if
        :: !writer -> pc = R_CS
        :: else -> e = epoch; pc = RL_LOAD
        fi }
    :: atomic { pc == RL_LOAD ->
        if
        :: epoch != e -> pc = R_CS
        :: else -> exp = WORDR; pc = RL_PARK
        fi }
    :: atomic { pc == RL_PARK ->
        if
        :: dl[id] -> pc = RL_GIVEUP
        :: !dl[id] && WORDR == exp -> rsl[id] = 1; pc = RL_SLEEP
        :: !dl[id] && WORDR != exp -> pc = RL_LOAD
        fi;
        exp = 0 }
    :: atomic { pc == RL_SLEEP && !rsl[id] -> pc = RL_LOAD }       /* woken */
    :: atomic { pc == RL_SLEEP && rsl[id] && dl[id] ->
        rsl[id] = 0; pc = RL_GIVEUP }
    :: atomic { pc == RL_GIVEUP ->      /* the give-up CAS loop */
        if
        :: epoch != e -> pc = R_CS      /* the writer has gone: we hold it */
        :: else -> readers--; e = 0; call_return(); pc = T_NEXT
        fi }
    :: atomic { pc == R_CS ->
        assert(!wheld);
        rheld++; e = 0; call_return(); pc = RU_CAS }
    /* -- RUnlock ----------------------------------------------------------- */
    :: atomic { pc == RU_CAS ->
        assert(readers > 0 && (!writer || rwait > 0));  /* no misuse */
        rheld--;
        readers--;
        if
        :: writer -> rwait--;
            if
            :: rwait == 0 -> pc = RU_WAKE
            :: else -> next_call()
            fi
        :: else -> next_call()
        fi }
    :: atomic { pc == RU_WAKE -> wsl[TA] = 0; wsl[TB] = 0; next_call() }
    :: atomic { pc == T_NEXT -> next_call() }
    :: pc == T_DONE -> break
    od
}

active proctype Clock()
{
end:
    do
    :: atomic { dlbudget > 0 && waiting[TR0] && !dl[TR0] -> dl[TR0] = 1; dlbudget-- }
    :: atomic { dlbudget > 0 && waiting[TR1] && !dl[TR1] -> dl[TR1] = 1; dlbudget-- }
    :: atomic { dlbudget > 0 && waiting[TA] && !dl[TA] -> dl[TA] = 1; dlbudget-- }
    :: atomic { dlbudget > 0 -> dlbudget = 0 }
    od
}

active proctype Final()
{
end:
    atomic {
        finished == NR + 2 ->
        assert(readers == 0 && rwait == 0 && !writer && !wwait && !w);
        assert(rheld == 0 && !wheld);
        assert(!wsl[TA] && !wsl[TB] && !rsl[TR0] && !rsl[TR1])
    }
}

init
{
    atomic {
        run T(TR0); run T(TA); run T(TB)
#if NR == 2
        ; run T(TR1)
#endif
    }
}

#ifdef LIVE
ltl deadline_returns {
    [] (((waiting[TR0] && dl[TR0]) -> <> !waiting[TR0]) &&
        ((waiting[TR1] && dl[TR1]) -> <> !waiting[TR1]) &&
        ((waiting[TA] && dl[TA]) -> <> !waiting[TA]))
}
#endif
