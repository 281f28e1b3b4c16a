/* shared_select.pml: a SPIN model of gosync.shared.select (gosync/shared/
 * chan.py: select, _try, _add_receiver, and the _offer and _try_take it
 * calls) against a plain sender and a plain receiver.
 *
 * Run it with `bash model/shared_chan.sh`; model/README.md explains it.
 *
 * SHAPE
 *   Two unbuffered channels A and B, each with its mutex, its Cond, its
 *   word (recvx, count, closed), its one slot and its count of blocked
 *   receivers (rcv).
 *   SEL  select(A.recv, (B.send, token 1), timeout=...)
 *   P    A.send(token 2, timeout=...)
 *   Q    B.recv(timeout=...)
 *   C    (-DCLOSE) A.close(), at any moment
 *   CB   (-DCLOSEB) B.close(), at any moment: the select's send case
 *        raises SyncError("send on closed channel"), its offer taken back
 *   Killer (-DDEATHS=1) kills Q at any step: holding B's lock (the next
 *        locker takes the mutex over, OwnerDied absorbed), or asleep, when
 *        it stays counted in rcv[B] for ever and the select's send case
 *        offers in vain, each offer taken back
 *   -DTWOSEL  P and Q give way to a second select, select(B.recv,
 *        (A.send, token 2), timeout=...): two selects naming the same
 *        channels in opposite roles
 *   Clock  each caller's deadline passes at some moment while it is in
 *          its call (under weak fairness it must).
 *
 *   A select as coded (SEL; the second with A and B swapped): counts
 *   itself a receiver of A (_add_receiver: lock, rcv + 1, broadcast); then, in a loop, tries both cases in either order
 *   (random.shuffle), each under its channel's lock: the receive takes A's
 *   value if its slot is full, or reports A closed; the send is ready only
 *   if B's slot is empty and rcv[B] > 0, and then offers token 1 as _offer
 *   does (write, store count 1, note mine = recvx, wait on B's Cond until
 *   recvx != mine, retract on a wait that ends without a broadcast and with
 *   recvx still mine). With no case ready it returns -1 once its deadline
 *   passed, else sleeps on A's Cond (the first case's channel) for one
 *   slice; at the end it counts itself out of A's receivers.
 *   A slice is 10 ms, here a wait that may end at any moment (and under
 *   weak fairness does): time is abstracted to "some time later". P and Q
 *   are Chan.send and Chan.recv_ok with a deadline, as in shared_chan.pml
 *   and shared_ring.pml (Q counts itself in rcv[B] while it waits).
 *   _store broadcasts, then stores (the order of the code).
 *
 * PROPERTIES
 *   safety  once every call returned or died: the select's result is one
 *           case, and exactly that case took effect (its take of A's
 *           token, or Q's take of its token, or A's close), no other, and
 *           none when it raised or timed out; every token received exactly
 *           as often as its send reported success (the select's offer
 *           included: taken back when nobody took it); both slots empty,
 *           no receiver counted but a killed Q, no lock held but a killed
 *           Q's; nobody left asleep (valid end states).
 *   LIVE    (LTL, weak fairness) a call whose deadline passed returns.
 *
 * MUTANTS (each must be caught)
 *   -DNO_RETRACT  a select whose offer's slice ends untaken gives up on the
 *                 case without taking the value back
 *   -DNO_UNCOUNT  a select that raises (B closed) skips its finally: it
 *                 stays counted among A's receivers
 */

#define A 0
#define B 1
#define SEL 1
#define P 2
#define Q 3
#define S2 2        /* -DTWOSEL: the second select, in P's place */
#define NONE 255
#define RAISED 254      /* select raised SyncError("send on closed channel") */
#ifndef DEATHS
#define DEATHS 0
#endif
#define BIT(w) (1 << (w))

byte lk[2];         /* the channels' mutexes: the owner, 0 when free */
byte cw[2];         /* the Conds' waiters, by bit */
byte recvx[2];
bit count[2];
bit closed[2];
byte slot[2];       /* the token in the slot */
byte rcv[2];        /* receivers blocked (_receivers) */
bit waiting[4];     /* in its call (for LIVE) */
bit dl[4];          /* its deadline has passed */
bit finished[4];
bit alive[5];
byte deaths = DEATHS;
bit kill;           /* Q is killed at its next step */

/* ghosts */
byte delivered[3];  /* receptions of token 1 (the select's) and token 2 (P's) */
bit sent_ok[3];     /* the send of the token reported success */
byte res[4];        /* a select's index (NONE until it returns) */
byte effects[4];    /* a select's own take or closed receive */
bit sclosed[4];     /* a select's receive got (None, False) */

/* a dead owner's mutex is taken over by the next locker (OwnerDied) */
inline lock(c, me) { atomic { (lk[c] == 0 || !alive[lk[c]]) -> lk[c] = me } }
inline unlock(c) { lk[c] = 0 }
inline broadcast(c) { cw[c] = 0 }

/* Chan._wait with a deadline: returns with the lock held; woke: a
 * broadcast ended it */
inline cwait(c, me) {
    atomic { cw[c] = cw[c] | BIT(me); unlock(c) };
    atomic { ((cw[c] & BIT(me)) == 0 || dl[me]) -> woke = ((cw[c] & BIT(me)) == 0); cw[c] = cw[c] & ~BIT(me) };
    lock(c, me)
}

/* the select's waits, until = now + 10 ms (or its deadline): they may end
 * at any moment */
inline swait(c, me) {
    atomic { cw[c] = cw[c] | BIT(me); unlock(c) };
    atomic { woke = ((cw[c] & BIT(me)) == 0); cw[c] = cw[c] & ~BIT(me) };
    lock(c, me)
}

/* _try_take on unbuffered c by me, with its lock held: ready, and v the
 * token (0: closed) */
inline take(c) {
    if
    :: closed[c] -> ready = 1; v = 0
    :: !closed[c] && count[c] == 0 -> ready = 0
    :: !closed[c] && count[c] == 1 ->
        v = slot[c];
        broadcast(c);
        atomic { recvx[c] = (recvx[c] + 1) % 4; count[c] = 0; delivered[v]++ };
        ready = 1
    fi
}

/* takes the value back: count 0 */
inline retract(c) { broadcast(c); count[c] = 0 }

/* the unbuffered sender's wait for its value to be taken, with the lock
 * held: sent; for a plain send (isselect 0: waits until its deadline) or
 * the select's offer (1: waits a slice) */
inline handoff(c, me, isselect) {
    do
    :: recvx[c] != mine -> sent = 1; break
    :: recvx[c] == mine && closed[c] -> retract(c); sent = 0; raised = 1; break
    :: recvx[c] == mine && !closed[c] ->
        if
        :: isselect -> swait(c, me)
        :: else -> cwait(c, me)
        fi;
        if
        :: woke -> skip
        :: !woke && recvx[c] != mine -> sent = 1; break     /* taken as the time ran out */
        :: !woke && recvx[c] == mine ->
#ifdef NO_RETRACT
            if :: !isselect -> retract(c) :: else fi;
#else
            retract(c);
#endif
            sent = 0; break
        fi
    od
}


proctype Select(byte me; byte ra; byte sb; byte tok) {
    byte mine, v;
    bit woke, ready, sent, raised, rfirst;
    /* _add_receiver(ra, 1) */
    lock(ra, me);
    atomic { rcv[ra]++; broadcast(ra) };
    unlock(ra);
again:
    if
    :: rfirst = 1
    :: rfirst = 0
    fi;
tryR:
    lock(ra, me);
    take(ra);
    if
    :: ready && v != 0 -> atomic { unlock(ra); res[me] = 0; effects[me]++ }; goto out
    :: ready && v == 0 -> atomic { unlock(ra); res[me] = 0; effects[me]++; sclosed[me] = 1 }; goto out
    :: !ready -> unlock(ra)
    fi;
    if
    :: rfirst -> goto tryS
    :: else -> goto slept
    fi;
tryS:
    lock(sb, me);
    if
    :: closed[sb] -> atomic { unlock(sb); res[me] = RAISED }; goto out
    :: !closed[sb] && (count[sb] == 1 || rcv[sb] == 0) -> unlock(sb)  /* not ready */
    :: !closed[sb] && count[sb] == 0 && rcv[sb] > 0 ->
        slot[sb] = tok;
        broadcast(sb);
        count[sb] = 1;
        mine = recvx[sb];
        handoff(sb, me, 1);
        if
        :: sent -> atomic { unlock(sb); res[me] = 1; sent_ok[tok] = 1 }; goto out
        :: !sent && raised -> atomic { unlock(sb); res[me] = RAISED }; goto out
        :: !sent && !raised -> unlock(sb)
        fi
    fi;
    if
    :: rfirst -> goto slept
    :: else -> goto tryR
    fi;
slept:
    /* nothing ready: the deadline, or a slice on the Cond of ra (case 0) */
    if
    :: dl[me] -> goto out
    :: else
    fi;
    lock(ra, me);
    swait(ra, me);
    unlock(ra);
    mine = 0; v = 0; woke = 0; ready = 0; sent = 0;
    goto again;
out:
    /* _add_receiver(ra, -1), in select's finally */
#ifdef NO_UNCOUNT
    if
    :: res[me] == RAISED -> atomic { waiting[me] = 0; finished[me] = 1 }; goto gone
    :: else
    fi;
#endif
    lock(ra, me);
    rcv[ra]--;
    atomic { unlock(ra); waiting[me] = 0; finished[me] = 1 };
gone:
    skip
}

proctype Sender() {
    byte mine;
    bit woke, sent, raised;
    lock(A, P);
    do
    :: closed[A] -> goto out                 /* send on closed channel */
    :: !closed[A] && count[A] == 0 -> break
    :: !closed[A] && count[A] == 1 ->
        cwait(A, P);
        if
        :: !woke -> goto out                 /* timed out */
        :: else
        fi
    od;
    slot[A] = 2;
    broadcast(A);
    count[A] = 1;
    mine = recvx[A];
    handoff(A, P, 0);
    if
    :: sent -> sent_ok[2] = 1
    :: else
    fi;
out:
    atomic { unlock(A); waiting[P] = 0; finished[P] = 1 }
}

proctype Receiver() {
    byte v;
    bit woke, ready;
    {
    lock(B, Q);
    take(B);
    if
    :: !ready ->
        rcv[B]++;
        do
        :: cwait(B, Q);
            if
            :: !woke -> break                /* TimeoutError */
            :: woke -> take(B);
                if
                :: ready -> break
                :: else
                fi
            fi
        od;
        rcv[B]--
    :: else
    fi;
    atomic { unlock(B); waiting[Q] = 0; finished[Q] = 1 }
    } unless {
        /* -DDEATHS=1: Q killed at any step (holding B's lock, or asleep and
         * counted in rcv[B] for ever); an escape has priority, so the kill
         * comes from Killer, at a moment of its choosing */
        atomic { kill -> alive[Q] = 0; waiting[Q] = 0; finished[Q] = 1 }
    }
}

active proctype Killer() {
end:
    atomic { deaths > 0 && !finished[Q] -> deaths--; kill = 1 }
}

#ifdef CLOSE
bit closer_done;
proctype Closer() {
    lock(A, 4);
    broadcast(A);
    closed[A] = 1;
    atomic { unlock(A); closer_done = 1 }
}
#endif

#ifdef CLOSEB
bit closerb_done;
proctype CloserB() {
    lock(B, 4);
    broadcast(B);
    closed[B] = 1;
    atomic { unlock(B); closerb_done = 1 }
}
#endif

active proctype Clock() {
end:
    do
    :: atomic { waiting[SEL] && !dl[SEL] -> dl[SEL] = 1 }
    :: atomic { waiting[P] && !dl[P] -> dl[P] = 1 }
    :: atomic { waiting[Q] && !dl[Q] -> dl[Q] = 1 }
    od
}

init {
    atomic {
        alive[0] = 1; alive[SEL] = 1; alive[P] = 1; alive[Q] = 1; alive[4] = 1;
        res[SEL] = NONE; res[S2] = NONE;
        waiting[SEL] = 1;
        run Select(SEL, A, B, 1);
#ifdef TWOSEL
        waiting[S2] = 1; finished[Q] = 1;
        run Select(S2, B, A, 2);
#else
        waiting[P] = 1; waiting[Q] = 1;
        run Sender();
        run Receiver();
#endif
#ifdef CLOSE
        run Closer();
#endif
#ifdef CLOSEB
        run CloserB();
#endif
    }
    (finished[SEL] && finished[P] && finished[Q]);
#ifdef CLOSE
    closer_done;
#endif
#ifdef CLOSEB
    closerb_done;
#endif
    /* one case, and only it, took effect (none if it raised) */
    assert(effects[SEL] + delivered[1] == (res[SEL] != NONE && res[SEL] != RAISED));
    assert(res[SEL] != 1 || delivered[1] == 1);
    assert(!sclosed[SEL] || res[SEL] == 0);
#ifdef TWOSEL
    assert(effects[S2] + delivered[2] == (res[S2] != NONE && res[S2] != RAISED));
    assert(res[S2] != 1 || delivered[2] == 1);
    assert(!sclosed[S2] || res[S2] == 0);
#endif
    /* no value lost or received twice */
    assert(delivered[1] == sent_ok[1] && delivered[2] == sent_ok[2]);
    assert(count[A] == 0 && count[B] == 0 && rcv[A] == 0);
    assert(rcv[B] == 0 || !alive[Q]);           /* a killed receiver stays counted */
    assert((lk[A] == 0 || !alive[lk[A]]) && (lk[B] == 0 || !alive[lk[B]]))
}

#ifdef LIVE
ltl deadline_returns {
    [] (((waiting[SEL] && dl[SEL]) -> <> !waiting[SEL]) &&
        ((waiting[P] && dl[P]) -> <> !waiting[P]) &&
        ((waiting[Q] && dl[Q]) -> <> !waiting[Q]))
}
#endif
