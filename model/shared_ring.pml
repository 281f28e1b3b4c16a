/* shared_ring.pml: a SPIN model of the buffered ring of gosync.shared.Chan
 * (gosync/shared/chan.py: _offer, _try_take, recv_ok, close, _store), with
 * processes killed while they hold the channel's mutex.
 *
 * Run it with `bash model/shared_chan.sh`; model/README.md explains it.
 *
 * SHAPE
 *   One channel of CAP slots (default 2): a robust mutex, a Cond that
 *   every change broadcasts, the word (recvx, count, closed) and the slots.
 *   S       sends tokens 1..NTOK (default 3) in order, one call each
 *   R1, R2  receive, N1 and N2 calls (default 2 and 1)
 *   C       (-DCLOSE) closes the channel, at any moment
 *   Clock   a call's deadline passes at some moment while it is in the
 *           call (under weak fairness it must); -DNODL: no deadlines.
 *
 *   The word is three variables changed together in one atomic step (the
 *   one 64-bit store of _store). recvx is kept mod WRAP, the largest
 *   multiple of CAP that fits the field (the field here is 2 bits: 4
 *   values, as the C's 32 bits): sendx is (recvx + count) % CAP, the slot
 *   received is recvx % CAP. A send writes its payload in two steps (a torn
 *   write leaves GARBAGE in the slot, then the token), then broadcasts and
 *   stores the word (_store broadcasts first; -DOLD_ORDER: stores, then
 *   broadcasts). A receive reads the slot, broadcasts, stores the word
 *   (recvx + 1, count - 1). Close broadcasts and stores closed.
 *   Receivers on a closed channel drain it, then get (None, False);
 *   senders on it raise (reported as a failed send).
 *
 *   Cond wait: register in the waiter set and unlock (one step: nothing
 *   else can touch the set before the unlock, a broadcast needs the lock),
 *   sleep until a broadcast empties the set or the deadline passed, lock
 *   again. woke says whether a broadcast ended it (the C's leave() reports
 *   OK when a notification came, even at the deadline); a wait that did
 *   not wake makes the call fail (send False, TimeoutError), as _wait's
 *   False does.
 *
 *   DEATHS (default 0): that many processes die at any step while they
 *   hold the mutex: after a receiver's or the closer's lock, between the
 *   sender's two payload steps and after the second, between the
 *   broadcast and the store, after the store. (A sender killed right after
 *   its lock, or after a wait, looks from outside like one killed between
 *   its payload steps: the slot it tore is outside recvx .. recvx + count;
 *   those points are left out to save states.) A dead owner's mutex is
 *   taken over by the next locker (the robust mutex's OwnerDied, absorbed with
 *   mark_consistent; robust_mutex.pml models that part), so lock() is
 *   enabled when the mutex is free or its owner is dead.
 *
 * PROPERTIES
 *   safety  at every receive: the slot holds a token (never GARBAGE nor a
 *           slot nobody wrote), tokens are taken in the order sent (FIFO),
 *           each at most once; count stays within [0, CAP]. Once every
 *           process returned or died: each token taken plus still in the
 *           ring (recvx .. recvx + count) exactly as often as its store was
 *           made (0 or 1), a send reported success only if its store was
 *           made, and a store whose send did not report success only from
 *           a sender that died; the mutex is free unless its owner died;
 *           nobody is left asleep (valid end states).
 *   LIVE    (LTL, weak fairness) a call whose deadline passed returns.
 *   LIVE -DNODL (no deadlines, no deaths): every call returns (no lost
 *           wake-up: S's 3 sends and R1, R2's 3 receives all complete).
 *   LIVE -DNODL -DDEATHS=1 -DBUFFERED (ready_returns): a call asleep while
 *           it could go on (a receiver while the ring holds a value or is
 *           closed, the sender while there is room or it is closed)
 *           returns, or can no longer go on.
 *
 * MUTANTS (each must be caught)
 *   -DSTORE_FIRST  the sender stores the word before writing the payload:
 *                  killed in between, it exposes an unwritten slot
 *   -DTWO_STORES   a receive stores recvx and count in two stores: killed
 *                  in between, the next receive reads a slot nobody wrote
 *                  (or the same value twice)
 *   -DWRAP_POW2    recvx wraps at the field's size, not at a multiple of
 *                  CAP (with -DCAP=3: 4 is no multiple of 3): after the
 *                  wrap the next receive reads the wrong slot
 *   -DNOWAKE       a receive does not broadcast after making room: a full
 *                  sender sleeps on with room in the ring
 *   -DOLD_ORDER    _store stores, then broadcasts (the code before the fix
 *                  of model/README.md's finding C1): killed in between, it
 *                  leaves waiters asleep with a value (room, the close) there
 */

#ifndef CAP
#define CAP 2
#endif
#ifndef NTOK
#define NTOK 3
#endif
#ifndef N1
#define N1 2
#endif
#ifndef N2
#define N2 1
#endif
#ifndef DEATHS
#define DEATHS 0
#endif

#define FIELD 4                          /* recvx's field: 2 bits */
#ifdef WRAP_POW2
#define WRAP FIELD
#else
#define WRAP (CAP * (FIELD / CAP))       /* _store's wrap */
#endif
#define GARBAGE 7

#define S 1
#define R1 2
#define R2 3
#define CL 4
#define NP 5
#define BIT(w) (1 << (w))

byte lk;                /* the mutex's owner, 0 when free */
byte cw;                /* the Cond's waiters, by bit */
byte recvx;             /* the word: receives so far mod WRAP, */
byte count;             /* values in the ring, */
bit closed;             /* and closed */
byte slot[CAP];         /* the token a slot holds; 0: never written */
bit alive[NP];
bit waiting[NP];        /* in a call (for LIVE) */
bit dl[NP];             /* the current call's deadline has passed */
bit finished[NP];
byte deaths = DEATHS;

/* ghosts */
byte committed[NTOK + 1];   /* the send's store was made */
bit sent_ok[NTOK + 1];      /* the send reported success */
byte taken[NTOK + 1];       /* receives of the token (a receive's store) */
byte last;                  /* the last token taken (FIFO) */

inline lock(me) { atomic { (lk == 0 || !alive[lk]) -> lk = me } }
inline unlock() { lk = 0 }
inline broadcast() { cw = 0 }

/* _wait: returns with the lock held; woke: a broadcast ended it */
inline cwait(me) {
    atomic { cw = cw | BIT(me); unlock() };
    atomic { ((cw & BIT(me)) == 0 || dl[me]) -> woke = ((cw & BIT(me)) == 0); cw = cw & ~BIT(me) };
    lock(me)
}

/* a death of the lock's holder, if one is left */
inline maydie(me) {
    if
    :: deaths > 0 -> atomic { deaths--; alive[me] = 0; waiting[me] = 0 }; goto dead
    :: true
    fi
}

/* _store: the word's one store and the Cond's broadcast, broadcast first
 * (-DOLD_ORDER: store first). Both under the lock: a woken waiter looks at
 * the word only once it holds the lock, so it sees the store. */
#ifdef NOWAKE
#define WAKE(me) if :: me != R1 && me != R2 -> broadcast() :: else fi
#else
#define WAKE(me) broadcast()
#endif
#ifdef OLD_ORDER
#define publish(me, store) store; maydie(me); WAKE(me); maydie(me)
#else
#define publish(me, store) WAKE(me); maydie(me); store; maydie(me)
#endif

inline start(me) { atomic { waiting[me] = 1; dl[me] = 0 } }
inline done(me) { atomic { unlock(); waiting[me] = 0 } }

proctype Sender() {
    byte t = 1, rx, c, i;
    bit woke;
    do
    :: t > NTOK -> break
    :: t <= NTOK ->
        start(S);
        lock(S);
        do
        :: closed -> goto failed                /* send on closed channel */
        :: !closed && count < CAP -> break
        :: !closed && count >= CAP ->
            cwait(S);
            if
            :: !woke -> goto failed             /* timed out: False */
            :: else
            fi
        od;
        rx = recvx; c = count; i = (rx + c) % CAP;
#ifdef STORE_FIRST
        publish(S, atomic { count = c + 1; committed[t]++; assert(count <= CAP) });
        slot[i] = GARBAGE;
        maydie(S);
        slot[i] = t;
        maydie(S);
#else
        slot[i] = GARBAGE;                      /* the payload, torn */
        maydie(S);
        slot[i] = t;                            /* the payload, whole */
        maydie(S);
        publish(S, atomic { count = c + 1; committed[t]++; assert(count <= CAP) });
#endif
        atomic { unlock(); waiting[S] = 0; sent_ok[t] = 1; t++ };
        goto next;
failed:
        atomic { done(S); t++ };
next:
        rx = 0; c = 0; i = 0; woke = 0
    od;
dead:
    finished[S] = 1
}

/* _try_take's receive, with the lock held: v the token */
inline take(me) {
    rx = recvx; c = count;
    v = slot[rx % CAP];
    assert(v != 0 && v != GARBAGE);             /* a slot somebody wrote whole */
    assert(v > last);                           /* FIFO, and at most once */
    assert(taken[v] == 0);
#ifdef TWO_STORES
    publish(me, atomic { recvx = (rx + 1) % WRAP; taken[v]++; last = v });
    count = c - 1;
    maydie(me);
#else
    publish(me, atomic { recvx = (rx + 1) % WRAP; count = c - 1; taken[v]++; last = v });
#endif
    assert(count <= CAP);
    rx = 0; c = 0; v = 0
}

proctype Receiver(byte me; byte calls) {
    byte n, rx, c, v;
    bit woke;
    do
    :: n == calls -> break
    :: n < calls ->
        start(me);
        lock(me);
        maydie(me);
        do
        :: closed && count == 0 -> break        /* (None, False) */
        :: count > 0 -> take(me); break
        :: !closed && count == 0 ->
            cwait(me);
            if
            :: !woke -> break                   /* TimeoutError */
            :: else
            fi
        od;
        atomic { done(me); n++; woke = 0 }
    od;
dead:
    finished[me] = 1
}

#ifdef CLOSE
proctype Closer() {
    start(CL);
    lock(CL);
    maydie(CL);
    publish(CL, closed = 1);
    done(CL);
dead:
    finished[CL] = 1
}
#endif

#ifndef NODL
active proctype Clock() {
end:
    do
    :: atomic { waiting[S] && !dl[S] -> dl[S] = 1 }
    :: atomic { waiting[R1] && !dl[R1] -> dl[R1] = 1 }
    :: atomic { waiting[R2] && !dl[R2] -> dl[R2] = 1 }
    od
}
#endif

init {
    byte t, k, n;
    atomic {
        alive[0] = 1; alive[S] = 1; alive[R1] = 1; alive[R2] = 1; alive[CL] = 1;
#ifndef CLOSE
        finished[CL] = 1;
#endif
        run Sender();
        run Receiver(R1, N1);
        run Receiver(R2, N2);
#ifdef CLOSE
        run Closer();
#endif
    }
    (finished[S] && finished[R1] && finished[R2] && finished[CL]);
    /* each token: taken plus still in the ring == its store */
    t = 1;
    do
    :: t > NTOK -> break
    :: t <= NTOK ->
        n = 0; k = 0;
        do
        :: k == count -> break
        :: k < count ->
            if :: slot[(recvx + k) % CAP] == t -> n++ :: else fi;
            k++
        od;
        assert(taken[t] + n == committed[t] && committed[t] <= 1);
        assert(!sent_ok[t] || committed[t]);
        assert(sent_ok[t] || !committed[t] || !alive[S]);
        t++
    od;
    assert(lk == 0 || !alive[lk])
}

#ifdef LIVE
#ifdef NODL
#ifdef BUFFERED
/* a call asleep while it could go on returns, or it can no longer go on */
#define RREADY (count > 0 || closed)
#define SREADY (count < CAP || closed)
ltl ready_returns {
    [] (((waiting[S] && SREADY) -> <> (!waiting[S] || !SREADY)) &&
        ((waiting[R1] && RREADY) -> <> (!waiting[R1] || !RREADY)) &&
        ((waiting[R2] && RREADY) -> <> (!waiting[R2] || !RREADY)))
}
#else
ltl every_call_returns {
    [] ((waiting[S] -> <> !waiting[S]) &&
        (waiting[R1] -> <> !waiting[R1]) &&
        (waiting[R2] -> <> !waiting[R2]))
}
#endif
#else
ltl deadline_returns {
    [] (((waiting[S] && dl[S]) -> <> !waiting[S]) &&
        ((waiting[R1] && dl[R1]) -> <> !waiting[R1]) &&
        ((waiting[R2] && dl[R2]) -> <> !waiting[R2]))
}
#endif
#endif
