/* robust_mutex.pml: a SPIN model of gosync.shared's robust mutex (issue
 * 13; docs/DESIGN.md, "Robust locks"; csrc/robust_mutex.c), on the futex
 * of csrc/park.c, with processes that die at any step.
 *
 * Run it with `bash model/robust.sh`; model/README.md explains it.
 *
 * SHAPE
 *   P1, P2, P3  three processes (one thread each; a process's identity is
 *               its number, 1..3, and no pid is reused). Each makes one call:
 *               Lock without a deadline, Lock with a deadline, or TryLock (a
 *               nondeterministic choice); after a success it holds the
 *               mutex, calls MarkConsistent or not if it got OWNERDEAD, and
 *               unlocks. With -DHOLD one acquisition in the run may instead
 *               keep the mutex for ever (a live owner that never unlocks).
 *   Death       any process may die at any step (at most DEATHS deaths in
 *               the run, default 2): it stops for ever, its futex sleep
 *               vanishes, and alive[] says dead from then on, so the
 *               liveness check of its identity answers dead.
 *   Clock       deadlines pass (dl[i]) at any moment while a call with a
 *               deadline waits; under weak fairness each eventually does.
 *
 *   One transition (one atomic) is one shared access of the C: a load, a
 *   CAS (which on failure hands the thread the current word, as
 *   gosync_cas does), the liveness check (one read of alive[]: /proc), a
 *   futex_wait (compare and enqueue in one step) or a futex_wake.
 *
 * THE WORD (one byte here; 64 bits in the C)
 *   bits 0-1  owner (0: none; the pid and start fields of the C)
 *   W  4      WAITERS        S  8   STARVING      H 16  HANDOFF
 *   INC 32    INCONSISTENT   NR 64  NOTRECOVERABLE
 *   The futex compares the whole byte (the C's low half holds the pid and
 *   the flags; the start field is a function of the pid here).
 *
 * TIME
 *   POLL: a sleeper may time out by the POLL cap at any moment (a
 *   transition that stays enabled while it sleeps, so under weak fairness
 *   it eventually fires unless a wake or the deadline comes first).
 *   -DNOPOLL removes the cap: a sleep ends only by a wake or the deadline.
 *   "waited >= 1 ms" is a nondeterministic choice where the C asks it.
 *
 * PROPERTIES
 *   safety (assertions):
 *     - mutual exclusion among live holders: a process that acquires finds
 *       no other live holder, and its Unlock finds itself the owner;
 *     - never a takeover from a live owner: the takeover CAS succeeds only
 *       on a word whose owner is dead;
 *     - every death of an owner is reported: the first later acquirer gets
 *       OWNERDEAD, and only it (unrep); if it dies holding, the next one
 *       gets OWNERDEAD again; an acquirer gets OK only when no death is
 *       unreported and no recipient released the mutex without
 *       MarkConsistent (spoiled; then every acquire returns
 *       NOTRECOVERABLE);
 *     - quiescence: when every process has finished or died, HANDOFF is
 *       clear unless a process died while it was set.
 *   LIVE (LTL, weak fairness): every live Lock call returns:
 *       [] (waiting[i] -> <> !waiting[i])
 *     with deaths and the POLL cap (a waiter behind a dead owner, or behind
 *     a dead unlocker's HANDOFF, gets out), and with -DNOPOLL -DDEATHS=0
 *     (without deaths nothing relies on the POLL cap: no lost wake-up).
 *   LIVE with -DHOLD: a Lock call whose deadline has passed returns:
 *       [] ((waiting[i] && dl[i]) -> <> !waiting[i])
 *
 * MUTANTS (each a -D flag; model/robust.sh expects each to be caught)
 *   -DNOLIVECHECK  the takeover does not check the owner's liveness
 *   -DIGNINC       Unlock ignores INCONSISTENT (no NOTRECOVERABLE)
 *   -DNOPOLL       no POLL cap: a waiter behind a dead owner sleeps for ever
 *   -DNOREVERT     the starving Unlock wakes once and leaves: HANDOFF
 *                  stranded with nobody to claim it
 *   -DSPEC_REVERT  the revert loop as first specified: CAS HANDOFF -> 0 with
 *                  no wake after it (model/README.md, finding R1)
 */
#ifndef DEATHS
#define DEATHS 2
#endif
#ifdef HOLD
#define KEEP 1
#else
#define KEEP 0
#endif

#define NP 3
#ifndef ROUNDS1
#define ROUNDS1 1
#endif
#define ROUNDS(i) ((i) == 1 -> ROUNDS1 : 1)
#ifndef MORTALS
#define MORTALS 7       /* bit i-1: process i may die */
#endif
/* the calls a process may make, bits: 1 Lock(), 2 Lock(deadline), 4 TryLock() */
#ifndef CALLS1
#define CALLS1 1
#endif
#ifndef CALLS2
#define CALLS2 3
#endif
#ifndef CALLS3
#define CALLS3 6
#endif
#define CALLS(i) ((i) == 1 -> CALLS1 : ((i) == 2 -> CALLS2 : CALLS3))
#define MORTAL(i) ((MORTALS >> ((i) - 1)) & 1)
#define W 4
#define S 8
#define H 16
#define INC 32
#define NR 64
#define OWNER(x) ((x) & 3)

/* results */
#define R_OK 1
#define R_OWNERDEAD 2
#define R_NOTREC 3
#define R_TIMEDOUT 4
#define R_BUSY 5

/* program counters */
#define C_START 1       /* chooses the call */
#define L_FAST 2        /* CAS 0 -> me */
#define L_LOAD 3        /* the load at the top of the slow loop */
#define L_CLAIM 4       /* CAS w -> me | ... (free, or HANDOFF and slept) */
#define L_ALIVE 5       /* gosync_identity_alive(owner(w)) */
#define L_TAKE 6        /* takeover CAS w -> me | INC | ... */
#define L_SETW 7        /* CAS w -> w | WAITERS (| STARVING) */
#define L_PARK 8        /* futex_wait(word, exp, min(deadline, POLL)) */
#define L_SLEEP 9
#define CS 10           /* holds the mutex */
#define M_CAS 11        /* MarkConsistent: clear INC */
#define U_LOAD 12       /* Unlock: the load */
#define U_CAS 13        /* CAS w -> 0 */
#define U_WAKE 14       /* futex_wake(1) */
#define U_NR 15         /* CAS w -> NOTRECOVERABLE */
#define U_WAKEALL 16
#define U_H 17          /* CAS w -> HANDOFF | STARVING | WAITERS */
#define U_W1 18         /* the revert loop: futex_wake(1) */
#define U_RLOAD 19      /* the revert loop: load */
#define U_RCAS 20       /* the revert loop: CAS HANDOFF word -> 0 */
#define U_RWAKE 21      /* after the revert: futex_wake(1) */
#define P_HOLD 22       /* keeps the mutex for ever */
#define P_DONE 23
#define L_OWAKE 24      /* claim_orphan_handoff: futex_wake(1) */
#define L_OCAS 25       /* claim_orphan_handoff: CAS HANDOFF word -> me */

byte word = 0;
bit alive[NP + 1];
bit sl[NP + 1];                 /* asleep in the futex queue */
bit waiting[NP + 1];            /* inside Lock (not TryLock) */
bit hasdl[NP + 1];              /* the current Lock call has a deadline */
bit dl[NP + 1];                 /* its deadline has passed */
byte deaths = DEATHS;
byte keep = KEEP;

/* ghosts */
bit held[NP + 1];               /* acquired and not yet released */
bit unrep = 0;                  /* an owner died; no acquirer got OWNERDEAD yet */
bit spoiled = 0;                /* a recipient released without MarkConsistent */
bit hok = 0;                    /* a process died while HANDOFF was set */
byte fin = 0;                   /* processes finished or dead */

#define FREE_FOR(x, slept) ((OWNER(x) == 0 && !((x) & H)) || (((x) & H) && slept))

/* a call returns its result */
inline ret(r) {
    res = r; waiting[id] = 0; dl[id] = 0; hasdl[id] = 0;
    last = 0; slept = 0; chk = 0; try = 0; w = 0; nw = 0; exp = 0;
    pc = P_DONE
}

/* the decision at the top of the slow loop, on the word in w */
inline decide() {
    if
    :: (w & NR) -> ret(R_NOTREC)
    :: !(w & NR) && FREE_FOR(w, slept) -> pc = L_CLAIM
    :: !(w & NR) && !FREE_FOR(w, slept) && OWNER(w) != 0 && (chk || last) -> pc = L_ALIVE
    :: !(w & NR) && !FREE_FOR(w, slept) && !(OWNER(w) != 0 && (chk || last)) ->
        if
        :: last && OWNER(w) == 0 -> pc = L_OWAKE   /* a HANDOFF it may not wait for */
        :: last && OWNER(w) != 0 && try -> ret(R_BUSY)
        :: last && OWNER(w) != 0 && !try -> ret(R_TIMEDOUT)
        :: !last -> nw = w | W;
            if      /* waited >= 1 ms? */
            :: slept && OWNER(w) != 0 -> nw = nw | S
            :: true
            fi;
            if
            :: nw == w -> exp = w; pc = L_PARK
            :: else -> pc = L_SETW
            fi
        fi
    fi
}

/* the CAS that made this process the owner has succeeded */
inline acquired(r) {
    assert(OWNER(word) == id);
    assert(!(held[1] && alive[1]) && !(held[2] && alive[2]) && !(held[3] && alive[3]));
    held[id] = 1;
    if
    :: r == R_OWNERDEAD -> assert(unrep); unrep = 0; recip = 1
    :: else -> assert(!unrep && !spoiled); recip = 0
    fi;
    ret(r); pc = CS
}

/* the CAS that released the mutex has succeeded */
inline released() {
    held[id] = 0;
    if :: recip -> spoiled = 1 :: else fi;
    recip = 0
}

/* Unlock's decision on the word in w */
inline udecide() {
    assert(OWNER(w) == id);     /* nobody took the mutex from a live owner */
    if
#ifndef IGNINC
    :: (w & INC) -> pc = U_NR
#endif
    :: !(w & INC) && (w & S) -> pc = U_H
    :: !(w & INC) && !(w & S) -> pc = U_CAS
#ifdef IGNINC
    :: (w & INC) && (w & S) -> pc = U_H
    :: (w & INC) && !(w & S) -> pc = U_CAS
#endif
    fi
}

/* futex_wake(1): takes one sleeper out of the queue (any of them) */
inline wake1() {
    if
    :: sl[1] -> sl[1] = 0; nwoke = 1
    :: sl[2] -> sl[2] = 0; nwoke = 1
    :: sl[3] -> sl[3] = 0; nwoke = 1
    :: else -> nwoke = 0
    fi
}

proctype P(byte id)
{
    byte pc = C_START, w, nw, exp, res, rnd;
    bit slept, chk, last, try, recip, nwoke;
    do
    /* -- a death, at any step ---------------------------------------------- */
    :: atomic { deaths > 0 && MORTAL(id) && pc != P_DONE ->
        deaths--; alive[id] = 0; sl[id] = 0; waiting[id] = 0; dl[id] = 0;
        if :: OWNER(word) == id -> assert(!unrep); unrep = 1 :: else fi;
        if :: (word & H) -> hok = 1 :: else fi;
        fin++;
        break }
    /* -- the call ------------------------------------------------------------ */
    :: atomic { pc == C_START ->
        if
        :: CALLS(id) & 1 -> waiting[id] = 1; pc = L_FAST                 /* Lock() */
        :: CALLS(id) & 2 -> waiting[id] = 1; hasdl[id] = 1; pc = L_FAST  /* Lock(deadline) */
        :: CALLS(id) & 4 -> try = 1; last = 1; chk = 1; pc = L_FAST      /* TryLock() */
        fi }
    /* -- Lock and TryLock ---------------------------------------------------- */
    :: atomic { pc == L_FAST ->
        if
        :: word == 0 -> word = id; acquired(R_OK)
        :: else -> w = word; chk = 1; decide()
        fi }
    :: atomic { pc == L_LOAD -> w = word; decide() }
    :: atomic { pc == L_CLAIM ->
        if
        :: word == w ->
            nw = id | (w & INC);
            if :: slept -> nw = nw | W :: else -> nw = nw | (w & W) fi;
            if      /* STARVING stays only for a handoff to one that waited >= 1 ms */
            :: (w & H) -> nw = nw | (w & S)
            :: true
            fi;
            word = nw;
            if
            :: (w & INC) -> acquired(R_OWNERDEAD)
            :: else -> acquired(R_OK)
            fi
        :: else -> w = word; decide()
        fi }
    :: atomic { pc == L_ALIVE ->
#ifdef NOLIVECHECK
        pc = L_TAKE
#else
        if
        :: !alive[OWNER(w)] -> pc = L_TAKE
        :: else -> chk = 0;
            if
            :: last && try -> ret(R_BUSY)
            :: last && !try -> ret(R_TIMEDOUT)
            :: !last -> decide()         /* to the park */
            fi
        fi
#endif
        }
    :: atomic { pc == L_TAKE ->
        if
        :: word == w ->
            assert(!alive[OWNER(w)]);   /* never a takeover from a live owner */
            held[OWNER(w)] = 0;
            nw = id | INC | (w & S);
            if :: slept || (w & W) -> nw = nw | W :: else fi;
            word = nw;
            acquired(R_OWNERDEAD)
        :: else -> w = word; decide()
        fi }
    :: atomic { pc == L_SETW ->
        if
        :: word == w -> word = nw; exp = nw; pc = L_PARK
        :: else -> w = word; decide()
        fi }
    :: atomic { pc == L_PARK ->
        if
        :: hasdl[id] && dl[id] -> last = 1; chk = 1; w = 0; nw = 0; exp = 0; pc = L_LOAD   /* TIMEDOUT at once */
        :: !(hasdl[id] && dl[id]) && word == exp -> sl[id] = 1; w = 0; nw = 0; exp = 0; pc = L_SLEEP
        :: !(hasdl[id] && dl[id]) && word != exp -> slept = 1; w = 0; nw = 0; exp = 0; pc = L_LOAD   /* AGAIN */
        fi }
    :: atomic { pc == L_SLEEP && !sl[id] -> slept = 1; pc = L_LOAD }           /* WOKEN */
#ifndef NOPOLL
    :: atomic { pc == L_SLEEP && sl[id] -> sl[id] = 0; slept = 1; chk = 1; pc = L_LOAD }  /* the POLL cap */
#endif
    :: atomic { pc == L_SLEEP && sl[id] && hasdl[id] && dl[id] ->
        sl[id] = 0; last = 1; chk = 1; pc = L_LOAD }                            /* the deadline */
    /* claim_orphan_handoff (rcore change 9): wake one; if nobody was
     * asleep, the woken receiver died or left: take the HANDOFF word */
    :: atomic { pc == L_OWAKE ->
        wake1();
        if
        :: nwoke && try -> ret(R_BUSY)
        :: nwoke && !try -> ret(R_TIMEDOUT)
#ifdef NOORPHAN
        :: !nwoke && try -> ret(R_BUSY)
        :: !nwoke && !try -> ret(R_TIMEDOUT)
#else
        :: !nwoke -> pc = L_OCAS
#endif
        fi }
    :: atomic { pc == L_OCAS ->
        if
        :: word == w -> word = id | (w & (INC | W));
            if
            :: (w & INC) -> acquired(R_OWNERDEAD)
            :: else -> acquired(R_OK)
            fi
        :: else -> if :: try -> ret(R_BUSY) :: else -> ret(R_TIMEDOUT) fi
        fi }
    /* -- holding ------------------------------------------------------------- */
    :: atomic { pc == CS ->
        if
        :: res == R_OWNERDEAD -> pc = M_CAS
        :: true -> pc = U_LOAD
        :: keep > 0 -> keep--; pc = P_HOLD
        fi;
        res = 0 }
    :: atomic { pc == M_CAS ->
        assert(OWNER(word) == id && (word & INC));
        word = word & ~INC; recip = 0; pc = U_LOAD }
    /* -- Unlock -------------------------------------------------------------- */
    :: atomic { pc == U_LOAD -> w = word; udecide() }
    :: atomic { pc == U_CAS ->
        if
        :: word == w -> word = 0; released(); nw = w; w = 0;
            if
            :: (nw & W) -> nw = 0; pc = U_WAKE
            :: else -> pc = P_DONE
            fi
        :: else -> w = word; udecide()
        fi }
    :: atomic { pc == U_WAKE -> wake1(); pc = P_DONE }
    :: atomic { pc == U_NR ->
        if
        :: word == w -> word = NR; released(); w = 0; pc = U_WAKEALL
        :: else -> w = word; udecide()
        fi }
    :: atomic { pc == U_WAKEALL -> sl[1] = 0; sl[2] = 0; sl[3] = 0; pc = P_DONE }
    :: atomic { pc == U_H ->
        if
        :: word == w -> word = H | S | W; released(); w = 0; pc = U_W1
        :: else -> w = word; udecide()
        fi }
    :: atomic { pc == U_W1 ->
        wake1();
#ifdef NOREVERT
        pc = P_DONE
#else
        if
        :: nwoke -> pc = P_DONE
        :: else -> pc = U_RLOAD
        fi
#endif
        }
    :: atomic { pc == U_RLOAD ->
        w = word;
        if
        :: !(w & H) -> pc = P_DONE
        :: else -> pc = U_RCAS
        fi }
    :: atomic { pc == U_RCAS ->
        if
        :: word == w -> word = 0;
#ifdef SPEC_REVERT
            pc = P_DONE
#else
            pc = U_RWAKE
#endif
        :: else -> pc = U_W1
        fi }
    :: atomic { pc == U_RWAKE -> wake1(); pc = P_DONE }
    :: atomic { pc == P_DONE ->     /* the call has returned: the next one */
        res = 0; rnd++;
        if
        :: rnd < ROUNDS(id) -> pc = C_START
        :: else -> fin++; break
        fi }
    od
}

active proctype Clock()
{
end:
    do
    :: atomic { waiting[1] && hasdl[1] && !dl[1] -> dl[1] = 1 }
    :: atomic { waiting[2] && hasdl[2] && !dl[2] -> dl[2] = 1 }
    :: atomic { waiting[3] && hasdl[3] && !dl[3] -> dl[3] = 1 }
    od
}

active proctype Final()
{
end:
    atomic {
        fin == NP ->
        assert(!(word & H) || hok);
        assert(!sl[1] && !sl[2] && !sl[3])
    }
}

init
{
    atomic {
        alive[1] = 1; alive[2] = 1; alive[3] = 1;
        run P(1); run P(2); run P(3)
    }
}

#ifdef LIVE
#ifdef HOLD
ltl deadline_ends {
    [] (((waiting[1] && dl[1]) -> <> !waiting[1]) &&
        ((waiting[2] && dl[2]) -> <> !waiting[2]) &&
        ((waiting[3] && dl[3]) -> <> !waiting[3]))
}
#else
ltl progress {
    [] ((waiting[1] -> <> !waiting[1]) &&
        (waiting[2] -> <> !waiting[2]) &&
        (waiting[3] -> <> !waiting[3]))
}
#endif
#endif
