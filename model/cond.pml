/* cond.pml: a SPIN model of gosync's Cond notify list (csrc/cond.c, the
 * table in csrc/cond.h) on the futex of csrc/park.c.
 *
 * Run it with `bash model/waitgroup_cond.sh`; model/README.md explains it.
 *
 * SHAPE
 *   W0, W1  waiters. A round is: Add (register, take a ticket), then Wait
 *           until notified, timed out, or interrupted; after an interrupted
 *           Wait the binding either calls Wait again (the handler returned)
 *           or Cancel (the handler raised): a nondeterministic choice. W0
 *           does R0 rounds (default 1), W1 R1 (default 3): W1 re-registers,
 *           so the generation can come back to W0's ticket.
 *   S       NS calls (default 4), each Signal or Broadcast.
 *   Clock   the deadlines and the signals (as in waitgroup.pml).
 *   L, the caller's lock, is not modelled: registrations and notifications
 *   interleave freely (a superset of what a program holding L does).
 *
 * STEPS
 *   Every CAS loop of cond.c whose new value is a function of the value it
 *   read (add, leave, signal, broadcast, wait's take loop) is one atomic
 *   read-modify-write: its failed attempts change nothing, so only the
 *   successful CAS is visible to other threads. Wait's take loop, when it
 *   does not take, hands its last value to the futex_wait, which is a step
 *   of its own (compare and enqueue), as are the wakes after Signal and
 *   Broadcast.
 *
 *   state   g1, g2, gen, signals: the four fields of the uint64. gen has
 *           GENBITS bits (default 2; 22 in the C), so that it wraps after
 *           4 group switches.
 *   futex   waiters sleep on the high half of the word, which holds gen
 *           and signals whole (WORD). A sleeper's class is ticket % 32
 *           (with GENBITS <= 5, the ticket itself); Signal wakes
 *           the first sleeper in arrival order whose class is not GEN(new)'s,
 *           Broadcast all of them. A sleeper that a wake dequeued returns
 *           WOKEN (the kernel's rule).
 *
 * PROPERTIES
 *   assertions  - no field is ever decremented below zero (in the C, the
 *                 borrow runs into the next field);
 *               - a waiter's view of its group (in_g2) is its true group,
 *                 kept in a ghost (grp[]): a G2 waiter never takes a
 *                 notification, a G2 departure is one from G2, a G1
 *                 departure one from G1; the "impossible" branch of leave()
 *                 is never taken;
 *               - when nothing can move any more (`timeout`): no
 *                 notification is pending (signals == 0: none is lost with
 *                 its waiter asleep, none was invented), every
 *                 notification made was taken exactly once or passed on
 *                 (created == taken + passed), and g1 + g2 counts exactly
 *                 the waiters still on the list.
 *   LIVE        LTL under weak fairness: a waiter whose deadline has passed,
 *               or that got a signal, eventually returns from Wait:
 *               [] ((waiting[i] && (dl[i] || sig[i])) -> <> !waiting[i])
 *
 * MUTANTS
 *   -DLOWGEN     the layout of commit b7a85dc: gen at bits 28..49, so that
 *                a change of its low 4 bits is not in the half waiters
 *                sleep on; with GENBITS <= 4 the futex word is then
 *                signals alone. A G2 waiter sleeps through its group's
 *                notification when another waiter's take brings signals
 *                back to the value it read (found by this model, and by
 *                review; fixed in de2d03b).
 *   -DOLD_LEAVE  in_g2 is gen == ticket, whatever g2 (the rule before the
 *                fix, in wait and in leave): after the generation wraps, a
 *                notified G1 waiter takes itself for a G2 waiter, does not
 *                take its notification, and on its timeout subtracts from
 *                an empty g2 (defect 7's borrow).
 *
 * MAP (csrc/cond.c when this was written)
 *   C_ADD cond_add:58-64; CW_TAKE cond_wait:99-103; CW_PARK cond_wait:104-105;
 *   CW_SLEEP in the futex; CW_LEAVE leave() from cond_wait:110-113;
 *   CC_LEAVE leave() from cond_cancel:119-121; SG signal:126-141 (CAS);
 *   SG_WAKE signal:142 wake(1); BC broadcast:147-160; BC_WAKE wake(all).
 */

#ifndef GENBITS
#define GENBITS 2
#endif
#define GENMOD (1 << GENBITS)
#ifndef R0
#define R0 1
#endif
#ifndef R1
#define R1 3
#endif
#ifndef NS
#define NS 4
#endif
#ifndef DLS
#define DLS 1
#endif
#ifndef SIGS
#define SIGS 1
#endif

#ifdef OLD_LEAVE
#define IN_G2(t) (gen == (t))
#else
#define IN_G2(t) (gen == (t) && g2 > 0)
#endif
#define CLASS(t) ((t) % 32)

/* the high half of the state word, on which waiters sleep */
#ifdef LOWGEN
#define WORD signals
#else
#define WORD (gen + GENMOD * signals)
#endif

/* program counters */
#define C_ADD 1
#define CW_TAKE 2
#define CW_PARK 3
#define CW_SLEEP 4
#define CW_LEAVE 5
#define CW_INTR 6       /* returned INTERRUPTED: the binding decides */
#define CC_LEAVE 7
#define SG 8            /* gosync_cond_signal's CAS (also from Cancel) */
#define SG_WAKE 9
#define BC 10
#define BC_WAKE 11
#define T_DONE 12

byte g1 = 0, g2 = 0, gen = 0, signals = 0;  /* the fields of the state word */

byte q[2];              /* the futex queue: waiter id + 1, in arrival order */
byte qlen = 0;
byte cls[2];            /* each sleeper's class */

bit dl[2];              /* waiter i's deadline has passed (this Wait) */
bit sig[2];             /* a signal interrupted waiter i (this Wait) */
bit waiting[2];         /* waiter i is inside gosync_cond_wait */
byte dlbudget = DLS;
byte sigbudget = SIGS;

/* ghosts */
byte grp[2];            /* waiter i's true group: 0 not listed, 1 G1, 2 G2 */
byte created = 0;       /* notifications made (Signal 1, Broadcast n) */
byte taken = 0;         /* notifications taken by waiters returning OK */
byte passed = 0;        /* notifications passed on by Cancel */

/* Removes waiter t from the futex queue. */
inline q_remove(t) {
    if
    :: q[0] == t + 1 -> q[0] = q[1]; q[1] = 0; qlen--
    :: q[1] == t + 1 -> q[1] = 0; qlen--
    fi;
    cls[t] = 0
}

/* gosync_park_wake(word, n, ~class_of(g)): the first n sleepers in arrival
 * order whose class is not g's. */
inline wake(n, g) {
    k = 0;
    do
    :: k < n && qlen > 0 && cls[q[0] - 1] != CLASS(g) ->
        w = q[0] - 1; q_remove(w); k++
    :: k < n && qlen > 1 && cls[q[0] - 1] == CLASS(g) && cls[q[1] - 1] != CLASS(g) ->
        w = q[1] - 1; q_remove(w); k++
    :: else -> break
    od;
    k = 0; w = 0
}

/* The true groups after a switch: every G2 waiter becomes a G1 waiter. */
inline g2_to_g1() {
    if :: grp[0] == 2 -> grp[0] = 1 :: else fi;
    if :: grp[1] == 2 -> grp[1] = 1 :: else fi
}

/* leave(c, ticket, pass_on) as one CAS: sets notified / did_pass */
inline leave(pass_on) {
    if
    :: IN_G2(ticket) ->
        assert(g2 > 0);                 /* no borrow */
        assert(grp[id] == 2);
        g2--
    :: !IN_G2(ticket) && g1 > 0 && (pass_on || signals == 0) ->
        assert(grp[id] == 1);
        g1--
    :: !IN_G2(ticket) && !(g1 > 0 && (pass_on || signals == 0)) && signals > 0 ->
        assert(grp[id] == 1);
        signals--;
        if
        :: pass_on -> did_pass = 1; passed++
        :: else -> notified = 1; taken++
        fi
    :: else ->
        assert(false)                   /* "impossible": every G1 waiter is counted */
    fi;
    grp[id] = 0
}

/* gosync_cond_signal's CAS; sets ng (GEN(new)) and nn (notified: 0 or 1) */
inline signal_cas() {
    if
    :: g1 > 0 -> g1--; signals++; nn = 1
    :: g1 == 0 && g2 > 0 ->
        g1 = g2 - 1; g2 = 0; gen = (gen + 1) % GENMOD; signals++; nn = 1;
        g2_to_g1()
    :: else -> nn = 0
    fi;
    created = created + nn;
    ng = gen
}

inline call_return() {
    waiting[id] = 0; dl[id] = 0; sig[id] = 0
}

inline next_round() {
    notified = 0; did_pass = 0; ticket = 0;
    round++;
    if
    :: round < (id == 0 -> R0 : R1) -> pc = C_ADD
    :: else -> pc = T_DONE
    fi
}

proctype Waiter(byte id)
{
    byte pc = C_ADD, round = 0, ticket, st, ng, nn, k, w;
    bit notified, did_pass;
end:
    do
    :: atomic { pc == C_ADD ->                          /* cond_add */
        g2++; ticket = gen; grp[id] = 2; pc = CW_TAKE }
    :: atomic { pc == CW_TAKE ->                        /* the take loop */
        waiting[id] = 1;
        if
        :: !IN_G2(ticket) && signals > 0 ->
            assert(grp[id] == 1);                       /* notified, so G1 */
            signals--; taken++; grp[id] = 0;
            call_return(); next_round()                 /* OK */
        :: else -> st = WORD; pc = CW_PARK
        fi }
    :: atomic { pc == CW_PARK ->                        /* futex_wait */
        if
        :: dl[id] -> pc = CW_LEAVE                      /* TIMEDOUT at once */
        :: !dl[id] && WORD == st ->
            q[qlen] = id + 1; qlen++; cls[id] = CLASS(ticket); pc = CW_SLEEP
        :: !dl[id] && WORD != st -> pc = CW_TAKE        /* AGAIN */
        fi;
        st = 0 }
    :: atomic { pc == CW_SLEEP && !(q[0] == id + 1 || q[1] == id + 1) ->
        pc = CW_TAKE }                                  /* WOKEN */
    :: atomic { pc == CW_SLEEP && (q[0] == id + 1 || q[1] == id + 1) && dl[id] ->
        q_remove(id); pc = CW_LEAVE }                   /* TIMEDOUT */
    :: atomic { pc == CW_SLEEP && (q[0] == id + 1 || q[1] == id + 1) && sigbudget > 0 ->
        q_remove(id); sigbudget--; sig[id] = 1;
        call_return(); pc = CW_INTR }                   /* INTERRUPTED: still listed */
    :: atomic { pc == CW_LEAVE ->                       /* leave(pass_on = false) */
        leave(0);
        call_return(); next_round() }                   /* OK or TIMEDOUT */
    :: atomic { pc == CW_INTR -> pc = CW_TAKE }         /* the handler returned: wait again */
    :: atomic { pc == CW_INTR -> pc = CC_LEAVE }        /* it raised: cancel */
    :: atomic { pc == CC_LEAVE ->                       /* leave(pass_on = true) */
        leave(1);
        if
        :: did_pass -> pc = SG
        :: else -> next_round()
        fi }
    :: atomic { pc == SG -> signal_cas();               /* Cancel's Signal */
        if
        :: nn > 0 -> pc = SG_WAKE
        :: else -> next_round()
        fi }
    :: atomic { pc == SG_WAKE -> wake(1, ng); next_round() }
    :: pc == T_DONE -> break
    od
}

proctype Signaller()
{
    byte pc, n = 0, ng, nn, k, w;
end:
    do
    :: n < NS && pc == 0 -> pc = SG
    :: n < NS && pc == 0 -> pc = BC
    :: atomic { pc == SG -> signal_cas();
        if
        :: nn > 0 -> pc = SG_WAKE
        :: else -> pc = 0; n++
        fi }
    :: atomic { pc == SG_WAKE -> wake(1, ng); pc = 0; n++ }
    :: atomic { pc == BC ->                             /* broadcast's CAS */
        nn = g1 + g2;
        if
        :: nn > 0 ->
            signals = signals + nn; g1 = 0; g2 = 0; gen = (gen + 1) % GENMOD;
            created = created + nn; g2_to_g1();
            ng = gen; pc = BC_WAKE
        :: else -> pc = 0; n++
        fi }
    :: atomic { pc == BC_WAKE -> wake(2, ng); pc = 0; n++ }
    :: n == NS && pc == 0 -> break
    od
}

active proctype Clock()
{
end:
    do
    :: atomic { dlbudget > 0 && waiting[0] && !dl[0] -> dl[0] = 1; dlbudget-- }
    :: atomic { dlbudget > 0 && waiting[1] && !dl[1] -> dl[1] = 1; dlbudget-- }
    :: atomic { dlbudget > 0 || sigbudget > 0 -> dlbudget = 0; sigbudget = 0 }
    od
}

/* When nothing can move any more: no notification is left pending (with a
 * waiter asleep, that is a lost wakeup), each was taken once or passed on,
 * and the group sizes count the waiters still listed. */
active proctype Final()
{
end:
    atomic {
        timeout ->
        assert(signals == 0);
        assert(created == taken + passed);
        assert(g1 + g2 == (grp[0] != 0) + (grp[1] != 0))
    }
}

init
{
    atomic { run Waiter(0); run Waiter(1); run Signaller() }
}

#ifdef LIVE
ltl deadline_returns {
    [] (((waiting[0] && (dl[0] || sig[0])) -> <> !waiting[0]) &&
        ((waiting[1] && (dl[1] || sig[1])) -> <> !waiting[1]))
}
#endif
