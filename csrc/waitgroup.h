/* WaitGroup: Go's sync.WaitGroup.
 *
 * A WaitGroup waits for a collection of tasks to finish. Add sets the number
 * of tasks to wait for; each task calls Done (Add(-1)) when it finishes;
 * Wait blocks until the counter is zero.
 *
 * As in Go, one 64-bit word holds the counter and the number of waiters, so
 * that reaching zero and seeing who waits is one atomic step. gosync adds a
 * generation, advanced when the waiters are released, so that a waiter that
 * gives up knows in one CAS whether it was released (generation changed) or
 * must count itself out (waiters-1). Waiters sleep on the low half of the
 * word, which holds the generation.
 *
 * Go releases in two steps: the Add that brings the counter to zero, then a
 * Store(0) that resets the waiters. gosync does both in the one CAS that
 * brings the counter to zero. In between Go's two steps another call could
 * see "counter 0, waiters recorded" and release a second time (an Add(0)
 * did), and a waiter giving up there had to wait for the store with no
 * deadline. With one CAS there is no such state: waiters > 0 implies
 * counter > 0, every release is made by exactly one call, and a waiter that
 * gives up never waits for anyone. Go's "Add called concurrently with
 * Wait" misuse can only be seen in that state, so gosync never reports it.
 *
 * State word (uint64):
 *
 *   bits    field     meaning
 *   0..15   gen       advanced each time the waiters are released
 *   16..31  waiters   threads in Wait (only while counter > 0)
 *   32..63  counter   int32: tasks not done yet
 *
 * Transitions (each one CAS):
 *
 *   Add(d)   counter+d. A negative result is misuse ("negative WaitGroup
 *            counter"), and one past INT32_MAX is GOSYNC_OVERFLOW; neither
 *            changes anything. When the counter reaches 0 with waiters,
 *            the word becomes (counter 0, waiters 0, gen+1) in the same CAS;
 *            then all waiters are woken, by address only.
 *   Wait     counter 0: return. Else waiters+1 and sleep until gen changes;
 *            a waiter that wakes to a word that is not (0, 0) sees the
 *            misuse "WaitGroup is reused before previous Wait has
 *            returned".
 *   Wait, give up   gen unchanged and waiters > 0: waiters-1 (then
 *            counter > 0 still); gen changed, or no waiters: released, so it
 *            returns GOSYNC_OK.
 *
 * Limits: 65535 waiters at a time (GOSYNC_OVERFLOW past that), and the
 * counter is an int32 as in Go (GOSYNC_OVERFLOW past INT32_MAX).
 *
 * The generation wraps after 65536 releases. A released waiter that has
 * not yet run reads its old generation when it does. With no waiters
 * recorded it knows it was released whatever gen says (a counted waiter
 * sees waiters >= 1), and never subtracts from a zero count. Only if 65536
 * more releases happened meanwhile AND the group is in use again with
 * waiters would it take itself for one of them: it would sleep again, and
 * on giving up count a waiter of the new cycle out. Each release needs a
 * new waiter to join (the generation advances only for releases that have
 * waiters), so that is 65536 full Add/Wait/Done cycles of other threads
 * (1.8 to 15 s on the project's loaded 2-core machine) while one runnable
 * thread is not scheduled.
 */
#ifndef GOSYNC_WAITGROUP_H
#define GOSYNC_WAITGROUP_H

#include <stdbool.h>
#include <stdint.h>

#include "status.h"

typedef struct {
    _Atomic uint64_t state;
    uint32_t park_flags; /* GOSYNC_PARK_SHARED or 0 */
} gosync_waitgroup;

/* Misuse codes returned by Add and Wait, beyond GOSYNC_OVERFLOW. */
enum {
    GOSYNC_WG_NEGATIVE = 16, /* sync: negative WaitGroup counter */
    GOSYNC_WG_REUSED = 18,   /* sync: WaitGroup is reused before previous Wait has returned */
};

/* Add: GOSYNC_OK, GOSYNC_WG_NEGATIVE or GOSYNC_OVERFLOW (the last two change
 * nothing). Never blocks. */
int gosync_waitgroup_add(gosync_waitgroup *wg, int64_t delta);

/* Wait: GOSYNC_OK; GOSYNC_TIMEDOUT, GOSYNC_INTERRUPTED or GOSYNC_FAULT
 * (nothing changed); GOSYNC_OVERFLOW (too many waiters); or
 * GOSYNC_WG_REUSED (released, but the group was reused before this call
 * returned). After its deadline or a signal it never waits for another
 * thread: its CAS is retried only when another thread's CAS succeeded
 * (lock-free, not wait-free). */
int gosync_waitgroup_wait(gosync_waitgroup *wg, int64_t deadline_ns);

/* Views of the state word, for tests. */
int32_t gosync_waitgroup_counter(const gosync_waitgroup *wg);
uint32_t gosync_waitgroup_waiters(const gosync_waitgroup *wg);

#endif /* GOSYNC_WAITGROUP_H */
