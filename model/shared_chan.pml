/* shared_chan.pml: a SPIN model of the unbuffered handoff of
 * gosync.shared.Chan (gosync/shared/chan.py, _offer and _try_take).
 *
 * Run it with `bash model/shared_chan.sh`.
 *
 * SHAPE
 *   One unbuffered channel: a mutex, a Cond (broadcast on every change),
 *   and the word (recvx, count, closed) with its one slot.
 *   S1, S2  send token 1, token 2
 *   R1, R2  receive once each
 *   C       (-DCLOSE) close, at any moment
 *   Clock   each caller's deadline passes, at some moment (all do, in any
 *           order): every wait is a timed wait.
 *
 *   A sender locks, waits for count == 0, writes the slot, broadcasts,
 *   stores count 1 (_store broadcasts before its store: every change below
 *   too) and notes mine = recvx; then waits until recvx != mine
 *   (taken: success). On close it takes its value back (count 0) and
 *   reports failure; on its deadline, if recvx is still mine, the same
 *   (it holds the lock, so the check and the retraction are one). A
 *   receiver locks, waits for count == 1 (takes the slot: recvx + 1,
 *   count 0, one store) or close (gets nothing) or its deadline. A Cond wait joins the waiter set,
 *   unlocks, sleeps until a broadcast empties the set or the deadline
 *   passed, and locks again. The word's fields change only under the lock,
 *   each operation's change in one step (the one store of the Python).
 *
 * PROPERTIES
 *   safety  a token is received at most once, and, once every call
 *           returned, exactly as often as its send reported success; the
 *           slot is empty and the lock free; nobody is left asleep (valid
 *           end states).
 *   LIVE    (LTL, weak fairness) a call whose deadline passed returns.
 *
 * MUTANT (must be caught)
 *   -DBLIND_RETRACT  a sender whose deadline passed takes its value back
 *                    without checking recvx: a value received is reported
 *                    as not sent, or another sender's value is removed
 */

#define S1 0
#define S2 1
#define R1 2
#define R2 3
#define BIT(w) (1 << (w))

bit lk;             /* the channel's mutex */
byte cw;            /* the Cond's waiters, by bit */
byte recvx;         /* receives so far */
bit count;          /* a value in the slot */
bit closed;
byte slot;          /* the token in the slot */
bit dl[4];          /* the caller's deadline has passed */
bit waiting[4];     /* in its call (for LIVE) */
bit finished[4];
byte delivered[3];  /* receptions of token 1 and token 2 */
bit sent_ok[3];     /* a send of the token reported success */
bit closer_done;

inline lock() { atomic { lk == 0 -> lk = 1 } }
inline unlock() { lk = 0 }
inline broadcast() { cw = 0 }

/* Cond wait with a deadline: returns with the lock held. */
inline cwait(w) {
    cw = cw | BIT(w);
    unlock();
    atomic { ((cw & BIT(w)) == 0 || dl[w]) -> cw = cw & ~BIT(w) };
    lock()
}

proctype Sender(byte w; byte t) {
    byte mine;
    lock();
    do
    :: closed -> goto out            /* send on closed channel */
    :: !closed && count == 0 -> break
    :: !closed && count == 1 && dl[w] -> goto out   /* timed out, nothing changed */
    :: !closed && count == 1 && !dl[w] -> cwait(w)
    od;
    slot = t;
    broadcast();                     /* _store: the broadcast, then */
    count = 1;                       /* the one store */
    mine = recvx;
    do
    :: recvx != mine -> sent_ok[t] = 1; break
    :: recvx == mine && closed -> broadcast(); count = 0; break
#ifdef BLIND_RETRACT
    :: !closed && dl[w] -> broadcast(); count = 0; break
#else
    :: recvx == mine && !closed && dl[w] -> broadcast(); count = 0; break
#endif
    :: recvx == mine && !closed && !dl[w] -> cwait(w)
    od;
out:
    atomic { unlock(); waiting[w] = 0; finished[w] = 1 }
}

proctype Receiver(byte w) {
    lock();
    do
    :: closed -> break               /* closed: nothing, ok False */
    :: !closed && count == 1 ->
        assert(delivered[slot] == 0);
        delivered[slot]++;
        broadcast();
        atomic { recvx++; count = 0 };  /* the one store */
        break
    :: !closed && count == 0 && dl[w] -> break   /* TimeoutError */
    :: !closed && count == 0 && !dl[w] -> cwait(w)
    od;
    atomic { unlock(); waiting[w] = 0; finished[w] = 1 }
}

#ifdef CLOSE
proctype Closer() {
    lock();
    broadcast();
    closed = 1;
    atomic { unlock(); closer_done = 1 }
}
#endif

proctype Clock() {
    do
    :: !dl[S1] -> dl[S1] = 1
    :: !dl[S2] -> dl[S2] = 1
    :: !dl[R1] -> dl[R1] = 1
    :: !dl[R2] -> dl[R2] = 1
    :: dl[S1] && dl[S2] && dl[R1] && dl[R2] -> break
    od
}

init {
    atomic {
        waiting[S1] = 1; waiting[S2] = 1; waiting[R1] = 1; waiting[R2] = 1;
        run Sender(S1, 1);
        run Sender(S2, 2);
        run Receiver(R1);
        run Receiver(R2);
#ifdef CLOSE
        run Closer();
#endif
        run Clock()
    }
    (finished[S1] && finished[S2] && finished[R1] && finished[R2]);
#ifdef CLOSE
    closer_done;
#endif
    assert(delivered[1] == sent_ok[1] && delivered[2] == sent_ok[2]);
    assert(count == 0 && lk == 0)
}

#ifdef LIVE
ltl deadline_returns {
    [] (((waiting[S1] && dl[S1]) -> <> !waiting[S1]) &&
        ((waiting[S2] && dl[S2]) -> <> !waiting[S2]) &&
        ((waiting[R1] && dl[R1]) -> <> !waiting[R1]) &&
        ((waiting[R2] && dl[R2]) -> <> !waiting[R2]))
}
#endif
