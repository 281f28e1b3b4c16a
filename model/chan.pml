/* chan.pml: a SPIN model of the waiter protocol of gosync's channels and
 * select (csrc/chan.c, the sel table in csrc/chan.h).
 *
 * Run it with `bash model/chan.sh`.
 *
 * SHAPE
 *   Two unbuffered channels A and B (lower address first).
 *   S   select { recv on A (case 0); send token 1 on B (case 1) }
 *   P   send token 2 on A
 *   Q   recv on B
 *   C   (-DCLOSE) close(A), at any moment
 *   Clock  each waiter's deadline passes, at some moment (all do, in any
 *          order): the waits are timed waits.
 *
 *   Each blocking call is Go's: lock its channels (address order), pass 1
 *   (take a queued partner: dequeue and claim it), else queue one node per
 *   channel, unlock, sleep on its sel word. A claimer (under the lock of the
 *   node's channel) CASes the waiter's sel WAITING -> CLAIMED, writes the
 *   transfer, stores DONE, unlocks and wakes the sel word. A claim that
 *   fails drops the stale node. A waiter whose deadline passed CASes
 *   WAITING -> GAVE_UP; if that fails it waits for DONE and reports the
 *   case as done. Afterwards it locks its channels again and unlinks the
 *   nodes still queued.
 *
 *   One transition is one shared access of the C. A queue is the set of
 *   waiters with a node on it (a bitmask): a dequeue may take any of them,
 *   which allows every order FIFO allows. sl[w]: w is in the futex queue of
 *   its sel word; a futex wait compares and enqueues in one step; a wake
 *   takes it out. A sleeper whose deadline has passed may leave the futex
 *   queue at any moment (TIMEDOUT).
 *
 * PROPERTIES
 *   safety  once every call returned: a token was received exactly as often
 *           as its send reported success (0 or 1 times), no node is left on
 *           a queue, no lock is held; nobody is left asleep (valid end
 *           states); a select reports one case.
 *   LIVE    (LTL, weak fairness) a call whose deadline passed returns.
 *
 * MUTANTS (each must be caught)
 *   -DNOCLAIM        a dequeue takes a node without the CAS on sel: a
 *                    select completed by two partners, or a value handed
 *                    to a waiter that gave up
 *   -DBLIND_GIVEUP   a waiter gives up with a plain store, not a CAS: a
 *                    value handed to it meanwhile is lost
 */

#define WAITING 0
#define GAVE_UP 1
#define CLAIMED 2
#define DONE 3
#define NONE 255

#define A 0
#define B 1
#define S 0
#define P 1
#define Q 2

byte sel[3];     /* the waiter's sel word (chan.h) */
bit sl[3];       /* asleep in the futex queue of sel */
bit dl[3];       /* its deadline has passed */
byte won[3];     /* the case completed, written while CLAIMED */
bit succ[3];     /* completed by a transfer (1) or by close (0) */
byte recvd[3];   /* the token a receiver got */
bit lk[2];       /* the channels' locks */
byte qs[4];      /* the queues, by waiter bits: qs[RQ(c)] receivers on c,
                    qs[SQ(c)] senders on c */
#define RQ(c) (2 * (c))
#define SQ(c) (2 * (c) + 1)
bit closed[2];
byte delivered[3];  /* receptions of token 1 and token 2 */
bit sent_ok[3];     /* a send of the token reported success */
bit waiting[3];     /* in its blocking call (for LIVE) */
bit finished[3];
bit closer_done;

inline lock(c) { atomic { lk[c] == 0 -> lk[c] = 1 } }
inline unlock(c) { lk[c] = 0 }

/* The case of waiter w's node on channel c. */
#define CASE_OF(w, c) ((w) == S && (c) == B -> 1 : 0)

/* Takes a claimable waiter off queue qs[qi] (of channel c) into out, or NONE. */
inline dequeue(qi, c, out) {
    out = NONE;
    do
    :: qs[qi] == 0 -> break
    :: qs[qi] != 0 ->
        if
        :: qs[qi] & 1 -> cand = 0
        :: qs[qi] & 2 -> cand = 1
        :: qs[qi] & 4 -> cand = 2
        fi;
        qs[qi] = qs[qi] & ~(1 << cand);
#ifdef NOCLAIM
        sel[cand] = CLAIMED; out = cand; break
#else
        atomic {
            if
            :: sel[cand] == WAITING -> sel[cand] = CLAIMED; out = cand
            :: else -> skip /* stale: dropped */
            fi
        }
        if
        :: out != NONE -> break
        :: else -> skip
        fi
#endif
    od
}

/* Ends a claim: the transfer is written; the waiter may return at DONE. */
inline complete(w, c, ok) {
    succ[w] = ok;
    won[w] = CASE_OF(w, c);
    sel[w] = DONE
}

inline wake(w) { sl[w] = 0 }

/* Sleeps until DONE, or gives up after the deadline: gave = 1. */
inline park(w) {
    gave = 0;
    do
    :: sel[w] == DONE -> break
    :: sel[w] == CLAIMED ->
        /* the claimer is in a critical section that does not block */
        atomic { if :: sel[w] == CLAIMED -> sl[w] = 1 :: else -> skip fi };
        atomic { sl[w] == 0 -> skip }
    :: sel[w] == WAITING ->
        if
        :: dl[w] ->
#ifdef BLIND_GIVEUP
            sel[w] = GAVE_UP; gave = 1; break
#else
            atomic { if :: sel[w] == WAITING -> sel[w] = GAVE_UP; gave = 1 :: else -> skip fi };
            if
            :: gave -> break
            :: else -> skip
            fi
#endif
        :: else ->
            atomic { if :: sel[w] == WAITING -> sl[w] = 1 :: else -> skip fi };
            atomic { sl[w] == 0 || dl[w] -> sl[w] = 0 }
        fi
    od
}

proctype Select() {
    byte cand, w, gave;
    waiting[S] = 1;
    sel[S] = WAITING;
    lock(A); lock(B);
    /* pass 1, in either poll order */
    if
    :: true -> /* recv on A first */
        dequeue(SQ(A), A, w);
        if
        :: w != NONE -> recvd[S] = 2; complete(w, A, 1); unlock(B); unlock(A); wake(w);
            delivered[2]++; won[S] = 0; succ[S] = 1; goto done
        :: else -> skip
        fi;
        if
        :: closed[A] -> unlock(B); unlock(A); won[S] = 0; succ[S] = 0; goto done
        :: else -> skip
        fi;
        dequeue(RQ(B), B, w);
        if
        :: w != NONE -> recvd[w] = 1; complete(w, B, 1); unlock(B); unlock(A); wake(w);
            sent_ok[1] = 1; won[S] = 1; succ[S] = 1; goto done
        :: else -> skip
        fi
    :: true -> /* send on B first */
        dequeue(RQ(B), B, w);
        if
        :: w != NONE -> recvd[w] = 1; complete(w, B, 1); unlock(B); unlock(A); wake(w);
            sent_ok[1] = 1; won[S] = 1; succ[S] = 1; goto done
        :: else -> skip
        fi;
        if
        :: closed[A] -> unlock(B); unlock(A); won[S] = 0; succ[S] = 0; goto done
        :: else -> skip
        fi;
        dequeue(SQ(A), A, w);
        if
        :: w != NONE -> recvd[S] = 2; complete(w, A, 1); unlock(B); unlock(A); wake(w);
            delivered[2]++; won[S] = 0; succ[S] = 1; goto done
        :: else -> skip
        fi
    fi;
    /* pass 2: a node on each channel, then sleep */
    qs[RQ(A)] = qs[RQ(A)] | (1 << S);
    qs[SQ(B)] = qs[SQ(B)] | (1 << S);
    unlock(B); unlock(A);
    park(S);
    /* pass 3 */
    lock(A); lock(B);
    qs[RQ(A)] = qs[RQ(A)] & ~(1 << S);
    qs[SQ(B)] = qs[SQ(B)] & ~(1 << S);
    unlock(B); unlock(A);
    if
    :: gave -> skip
    :: else ->
        if
        :: won[S] == 0 && succ[S] -> delivered[recvd[S]]++
        :: won[S] == 1 -> assert(succ[S]); sent_ok[1] = 1 /* B is never closed */
        :: else -> skip /* recv on closed A */
        fi
    fi;
done:
    waiting[S] = 0;
    finished[S] = 1
}

proctype Sender() {
    byte cand, w, gave;
    waiting[P] = 1;
    sel[P] = WAITING;
    lock(A);
    if
    :: closed[A] -> unlock(A); goto done
    :: else -> skip
    fi;
    dequeue(RQ(A), A, w);
    if
    :: w != NONE -> recvd[w] = 2; complete(w, A, 1); unlock(A); wake(w); sent_ok[2] = 1; goto done
    :: else -> skip
    fi;
    qs[SQ(A)] = qs[SQ(A)] | (1 << P);
    unlock(A);
    park(P);
    if
    :: gave -> lock(A); qs[SQ(A)] = qs[SQ(A)] & ~(1 << P); unlock(A)
    :: else -> if :: succ[P] -> sent_ok[2] = 1 :: else -> skip /* closed */ fi
    fi;
done:
    waiting[P] = 0;
    finished[P] = 1
}

proctype Receiver() {
    byte cand, w, gave;
    waiting[Q] = 1;
    sel[Q] = WAITING;
    lock(B);
    dequeue(SQ(B), B, w);
    if
    :: w != NONE -> recvd[Q] = 1; complete(w, B, 1); unlock(B); wake(w); delivered[1]++; goto done
    :: else -> skip
    fi;
    qs[RQ(B)] = qs[RQ(B)] | (1 << Q);
    unlock(B);
    park(Q);
    if
    :: gave -> lock(B); qs[RQ(B)] = qs[RQ(B)] & ~(1 << Q); unlock(B)
    :: else -> assert(succ[Q]); delivered[recvd[Q]]++
    fi;
done:
    waiting[Q] = 0;
    finished[Q] = 1
}

#ifdef CLOSE
proctype Closer() {
    byte cand, w;
    lock(A);
    closed[A] = 1;
    do
    :: dequeue(RQ(A), A, w);
        if
        :: w == NONE -> break
        :: else -> complete(w, A, 0); wake(w)
        fi
    od;
    do
    :: dequeue(SQ(A), A, w);
        if
        :: w == NONE -> break
        :: else -> complete(w, A, 0); wake(w)
        fi
    od;
    unlock(A);
    closer_done = 1
}
#endif

proctype Clock() {
    do
    :: !dl[S] -> dl[S] = 1
    :: !dl[P] -> dl[P] = 1
    :: !dl[Q] -> dl[Q] = 1
    :: dl[S] && dl[P] && dl[Q] -> break
    od
}

init {
    atomic {
        run Select();
        run Sender();
        run Receiver();
#ifdef CLOSE
        run Closer();
#endif
        run Clock()
    }
    (finished[S] && finished[P] && finished[Q]);
#ifdef CLOSE
    closer_done;
#endif
    assert(delivered[1] == sent_ok[1] && delivered[2] == sent_ok[2]);
    assert(qs[RQ(A)] == 0 && qs[RQ(B)] == 0 && qs[SQ(A)] == 0 && qs[SQ(B)] == 0);
    assert(lk[A] == 0 && lk[B] == 0)
}

#ifdef LIVE
ltl deadline_returns {
    [] (((waiting[S] && dl[S]) -> <> !waiting[S]) &&
        ((waiting[P] && dl[P]) -> <> !waiting[P]) &&
        ((waiting[Q] && dl[Q]) -> <> !waiting[Q]))
}
#endif
