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
 * profile and the sum of their waits not charged yet. In-process it sits
 * in the lock's Python object; for gosync.shared in the slot header before
 * the lock's state (gosync/shared/_layout.py), where other processes update
 * it, hence the atomics. All zeros: no waiter.
 *
 *   field     meaning
 *   since_ns  when the uncharged waits are counted from: the first
 *             waiter's enter, or the last charge (0: no waiter)
 *   sum_ns    the sum over the registered waiters of (u - since_ns), u
 *             being the start of each one's uncharged wait: its enter, or
 *             the last charge if that came later
 *   waiters   timed waiters registered (each enter is matched by a leave)
 *
 * So the waits not charged yet add up to waiters * (now - since_ns) -
 * sum_ns, exactly, whoever leaves in whatever order. Go 1.22 estimates
 * that sum from the head's and the tail's waits, (dt0 + (dt0 + dtail) / 2
 * * N), because its queue would take O(N) to add up; the sum here costs
 * one more add per enter and leave, and is exact. (Go's estimate assumes
 * that a waiter leaves only when an unlock wakes it, as the queue's head;
 * here a waiter also leaves when its deadline passes or it is interrupted,
 * and a record of the head's start would then charge the next unlock with
 * the time since a waiter that has gone: model/contention.pml.)
 *
 * Transitions (now = CLOCK_MONOTONIC; t = the waiter's enter time, which
 * the waiter keeps and passes to its leave):
 *   enter:   waiters += 1; the first (0 -> 1) sets since = t, sum = 0;
 *            the others sum += t - since
 *   leave:   waiters -= 1; the last (1 -> 0) sets since = sum = 0; the
 *            others sum -= max(t - since, 0) (since > t: the last charge
 *            came after this waiter, and counted it from then, i.e. 0)
 *   charge:  (an unlock, before it lets the lock go) with waiters n > 0
 *            and since s != 0: the delay is n * (now - s) - sum, and
 *            since = now, sum = 0: none of it is charged twice.
 *
 * In-process every transition runs with the GIL held, so they are exact.
 * Across processes they race, and the record is an estimate: a leave can
 * clear since of a waiter that entered at the same moment (its wait is
 * then not charged), a sum changed between a charge's two swaps counts a
 * wait from an older since, and a process killed while waiting leaves
 * waiters one too high: every later charge then counts a waiter for the
 * whole time since the last charge, until an unlock of a shared Mutex
 * finds no sleeper in the lock's word and clears the record
 * (gosync_contention_clear; the shared RWMutex has no such check yet).
 * model/contention.pml checks which of these can over-charge
 * (model/README.md). The lock's own state never depends on the record. */
typedef struct {
    _Atomic int64_t since_ns;
    _Atomic int64_t sum_ns;
    _Atomic uint32_t waiters;
    uint32_t pad;
} gosync_contention;

/* enter returns the time it registered the waiter at (now_ns), which the
 * waiter passes to its leave. */
void gosync_contention_enter(gosync_contention *c, int64_t now_ns);
void gosync_contention_leave(gosync_contention *c, int64_t entered_ns);

/* The delay to charge to an unlock at now_ns, and resets the record's
 * count of it; 0 when no timed waiter is registered. */
int64_t gosync_contention_charge(gosync_contention *c, int64_t now_ns);

/* Clears the record: for a lock whose own state shows no waiter while the
 * record counts some (a process killed while registered). A live waiter
 * that registered and has not slept yet then goes uncharged; its leave
 * finds the count at zero and changes nothing, or takes another's place in
 * it (an under-count). */
void gosync_contention_clear(gosync_contention *c);

/* Whether a timed waiter is registered: the one load an unlock makes. */
static inline int gosync_contention_waiting(gosync_contention *c)
{
    return gosync_load(&c->waiters, GOSYNC_RELAXED) != 0;
}

#endif /* GOSYNC_PROFILE_H */
