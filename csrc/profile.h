/* Contention profiling: what the C core keeps for gosync.profile.
 *
 * Go records two profiles in the slow paths of its primitives
 * (runtime/mprof.go, runtime/sema.go); gosync records the same two in its
 * own slow paths (docs/DESIGN.md, "Profiling contention"):
 *
 *   - the block profile charges a waiter's delay to the waiter's stack;
 *   - the mutex profile charges the delay a lock's waiters suffered to the
 *     stack of the thread whose unlock ended it.
 *
 * The core keeps only integers: which profiles are on, when this thread
 * first parked in its current call, and per lock a contention record. The
 * binding samples, walks stacks and records (gosync/_binding_profile.c).
 *
 * Cost. The fast paths (an uncontended lock's CAS, an unlock that finds no
 * waiter) are unchanged: the flags are read only by a thread about to park
 * (gosync_profile_parking, from gosync_park_wait), and a lock's record is
 * read by an unlock only when a timed waiter registered in it. The clock is
 * read only on those paths, so nothing is timed unless a waiter parks or is
 * about to. */
#ifndef GOSYNC_PROFILE_H
#define GOSYNC_PROFILE_H

#include <stdint.h>

#include "atomic.h"

/* gosync_profile_flags: which profiles are on. Written by the binding when
 * a rate changes; read with one relaxed load (a thread that sees a stale
 * value times one wait more or less, which a profile absorbs).
 *
 *   bit  name                    set while
 *   0    GOSYNC_PROFILE_BLOCK    the block profile rate is > 0
 *   1    GOSYNC_PROFILE_MUTEX    the mutex profile fraction is > 0
 */
#define GOSYNC_PROFILE_BLOCK 1u
#define GOSYNC_PROFILE_MUTEX 2u

extern _Atomic uint32_t gosync_profile_flags;

static inline uint32_t gosync_profile_on(void)
{
    return gosync_load(&gosync_profile_flags, GOSYNC_RELAXED);
}

/* When this thread first parked since the binding last cleared it (0: not
 * parked). The binding clears it before a blocking call and reads it after:
 * a call that never parked (it spun and won, or failed at once) is no block
 * event, as in Go, where only a wake sets a waiter's releasetime. Thread-
 * local, so a plain int64. */
extern _Thread_local int64_t gosync_profile_parked_since;

/* Called by gosync_park_wait before it sleeps. */
void gosync_profile_parking(void);

/* A lock's contention record: the waiters that registered for the mutex
 * profile and since when their wait is not charged yet. In-process it sits
 * in the lock's Python object; for gosync.shared in the slot header before
 * the lock's state (gosync/shared/_layout.py), where other processes update
 * it, hence the atomics. All zeros: no waiter.
 *
 *   field     meaning
 *   head_ns   start of the oldest uncharged wait (0: none recorded)
 *   tail_ns   start of the newest uncharged wait
 *   waiters   timed waiters registered (each enter is matched by a leave)
 *
 * Transitions (now = CLOCK_MONOTONIC):
 *   enter:   waiters += 1; the first (0 -> 1) sets head = now; tail = now
 *   leave:   waiters -= 1; the last (1 -> 0) sets head = 0
 *   charge:  (an unlock, before it lets the lock go) with waiters n > 0 and
 *            head h != 0: head = tail = now, and the delay charged is Go
 *            1.22's dt0 + (dt0 + dtail) / 2 * (n - 1), with dt0 = now - h
 *            and dtail = now - tail: the woken waiter's wait plus the
 *            estimated waits of the n - 1 behind it, none charged twice.
 *
 * In-process every transition runs with the GIL held, so they are exact.
 * Across processes they race, and the record is an estimate: a leave can
 * clear the head of a waiter that entered at the same moment (its wait is
 * then not charged: under-, never over-counted), and a process killed
 * while waiting leaves waiters one too high for good, which makes later
 * charges count one more waiter behind the head. The lock's own state never
 * depends on the record. */
typedef struct {
    _Atomic int64_t head_ns;
    _Atomic int64_t tail_ns;
    _Atomic uint32_t waiters;
    uint32_t pad;
} gosync_contention;

void gosync_contention_enter(gosync_contention *c, int64_t now_ns);
void gosync_contention_leave(gosync_contention *c);

/* The delay to charge to an unlock at now_ns, and resets the start times;
 * 0 when no timed waiter is registered. */
int64_t gosync_contention_charge(gosync_contention *c, int64_t now_ns);

/* Whether a timed waiter is registered: the one load an unlock makes. */
static inline int gosync_contention_waiting(gosync_contention *c)
{
    return gosync_load(&c->waiters, GOSYNC_RELAXED) != 0;
}

#endif /* GOSYNC_PROFILE_H */
