/* Cond: the notify list of Go's sync.Cond.
 *
 * A Cond is a rendezvous point for threads waiting for, or announcing, an
 * event. Wait takes a place in the list while the caller still holds L,
 * then (in the layer above) unlocks L, sleeps until notified, and locks L
 * again. Signal wakes the waiter that has waited longest; Broadcast wakes
 * every thread waiting now. A thread that starts waiting after a Signal or
 * Broadcast is not woken by it, and nothing wakes a waiter but a Signal or a
 * Broadcast: there are no spurious wakeups.
 *
 * Go's notify list gives each waiter a ticket and notifies tickets one by
 * one. gosync's waiters can give up (deadline, signal), and a ticket that
 * leaves the middle of the list would swallow the Signal that reaches it,
 * unless its departure were recorded per ticket, which needs memory per
 * waiter. So gosync moves the boundary between notifiable and not yet
 * notifiable waiters a group at a time (as glibc's condition variable does),
 * and counts waiters instead of naming them:
 *
 *   - G2 holds the waiters that arrived since the last group switch; they
 *     carry the current generation, and no pending notification is theirs.
 *   - G1 holds the older waiters (any earlier generation). Signal takes one
 *     G1 waiter off g1_size and adds a notification; a G1 waiter that wakes
 *     and finds a notification takes it and returns.
 *   - When G1 has no waiter left to notify, Signal makes G2 the new G1 (the
 *     generation advances) and notifies one of it.
 *   - Broadcast notifies all of G1 and G2 and advances the generation.
 *
 * Every G1 waiter still waiting is counted once in g1_size + signals. A
 * waiter that gives up takes a pending notification if it is in G1 and one
 * is there (it was notified after all), else it counts itself out of its
 * group: a departure never swallows a notification meant for someone else,
 * and nobody returns without one. Within G1, the kernel wakes the waiter
 * that has slept longest first, so Signal wakes waiters in arrival order as
 * far as the kernel allows, and always older ones before newer ones.
 *
 * State word (uint64):
 *
 *   bits    field     meaning
 *   0..13   g1_size   G1 waiters not yet notified
 *   14..27  g2_size   G2 waiters
 *   28..31  -         zero
 *   32..49  gen       generation of G2
 *   50..63  signals   notifications not yet taken by G1 waiters
 *
 * Transitions (each one CAS):
 *
 *   Add (register)  g2_size+1; the waiter keeps gen as its ticket
 *   Wait, notified  in G1 and signals > 0: signals-1
 *   Wait, give up   in G1 and signals > 0: signals-1 (notified);
 *                   in G1: g1_size-1; in G2: g2_size-1
 *   Cancel          as give up, but a notification it would take is passed
 *                   on with a Signal instead (the caller is leaving on an
 *                   exception, and must not swallow it)
 *   Signal          g1_size > 0: g1_size-1, signals+1; else g2_size > 0:
 *                   g1_size = g2_size-1, g2_size = 0, gen+1, signals+1
 *   Broadcast       signals += g1_size + g2_size, both sizes 0, gen+1
 *
 * A waiter is in G2 when gen == its ticket and g2_size > 0, else in G1. No
 * transition subtracts from a field that is zero.
 *
 * Waiters sleep on the high half, which holds gen and signals, whole. A
 * sleeper compares it with the value it read, so it must differ after any
 * notification: after a Signal and a take by another waiter, signals may
 * read as before, but then the Signal's group switch (the only way a G2
 * sleeper's notification comes) has moved gen. (With gen partly in the low
 * half, a G2 waiter slept through its group's notification; found by
 * review.) They sleep in the parking class 1 << (ticket % 32); Signal and
 * Broadcast wake every class but the current generation's, so G2 waiters
 * are not disturbed. A G1 waiter could be left out only if the generation
 * advanced by 32 while it slept with a notification pending for it, which
 * needs 32 more groups to be fully notified meanwhile.
 *
 * The generation wraps after 2^18 advances. A G1 waiter that has been
 * notified and woken but has not run yet reads gen again when it runs; if
 * gen has come back to its ticket, it counts as G2 while g2_size > 0 (with
 * g2_size == 0 it is still seen as G1, correctly). Every advance needs a
 * group of new waiters to join and be notified, so that takes 262,144 waits
 * and notifications by other threads while one runnable thread is not
 * scheduled. (With the 16 bits gosync had before, 65536 took 30 ms in C,
 * and the woken waiter then took its notification for a G2 departure: the
 * C harness replays that and checks the waiter gets its notification.)
 *
 * Limits: 16383 waiters at a time, notified or not (GOSYNC_OVERFLOW past
 * that). The state holds only integers, so it can live in shared memory.
 */
#ifndef GOSYNC_COND_H
#define GOSYNC_COND_H

#define GOSYNC_COND_MAX_WAITERS 16383

#include <stdint.h>

#include "status.h"

typedef struct {
    _Atomic uint64_t state;
    uint32_t park_flags; /* GOSYNC_PARK_SHARED or 0 */
} gosync_cond;

/* Joins the list; call it while holding L. Returns 0 and the ticket in
 * *ticket, or GOSYNC_OVERFLOW. */
int gosync_cond_add(gosync_cond *c, uint32_t *ticket);

/* Sleeps until notified (GOSYNC_OK) or the deadline (GOSYNC_TIMEDOUT, off
 * the list). GOSYNC_INTERRUPTED (a signal arrived) leaves the waiter on the
 * list: call gosync_cond_wait again, or gosync_cond_cancel. GOSYNC_FAULT
 * (the kernel refused to wait) also takes it off the list. Never call it
 * again after GOSYNC_OK, GOSYNC_TIMEDOUT or GOSYNC_FAULT. */
int gosync_cond_wait(gosync_cond *c, uint32_t ticket, int64_t deadline_ns);

/* Leaves the list without taking a notification (one that was pending for
 * this waiter goes to another). */
void gosync_cond_cancel(gosync_cond *c, uint32_t ticket);

/* Signal and Broadcast return how many waiters they notified. */
uint32_t gosync_cond_signal(gosync_cond *c);
uint32_t gosync_cond_broadcast(gosync_cond *c);

/* Views of the state word, for tests: waiters on the list (notified or
 * not), and notifications not yet taken. */
uint32_t gosync_cond_waiters(const gosync_cond *c);
uint32_t gosync_cond_pending(const gosync_cond *c);

#endif /* GOSYNC_COND_H */
