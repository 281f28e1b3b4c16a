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
 * State word (uint64):
 *
 *   bits    field     meaning
 *   0..15   gen       advanced each time the waiters are released
 *   16..31  waiters   threads in Wait
 *   32..63  counter   int32: tasks not done yet
 *
 * Transitions:
 *
 *   Add(d)   counter+d (CAS). A negative result is misuse ("negative
 *            WaitGroup counter"), as is d > 0 from counter 0 while waiters
 *            are recorded ("Add called concurrently with Wait"); neither
 *            changes anything. When the counter reaches 0 with waiters, the
 *            word goes (0, w, gen) and then, as Go's Store(0),
 *            (0, 0, gen+1); then all waiters are woken.
 *   Wait     counter 0: return. Else waiters+1 (CAS) and sleep until gen
 *            changes; a waiter that wakes to a word that is not (0, 0) sees
 *            the misuse "WaitGroup is reused before previous Wait has
 *            returned".
 *   Wait, give up   gen unchanged and counter > 0: waiters-1. gen unchanged
 *            and counter 0: the release is under way, wait for it (it does
 *            not block). gen changed: released, so it returns GOSYNC_OK.
 *
 * Limits: 65535 waiters at a time (GOSYNC_OVERFLOW past that), and the
 * counter is an int32 as in Go (GOSYNC_OVERFLOW past INT32_MAX).
 */
#ifndef GOSYNC_WAITGROUP_H
#define GOSYNC_WAITGROUP_H

#include <stdint.h>

typedef struct {
    _Atomic uint64_t state;
    uint32_t park_flags; /* GOSYNC_PARK_SHARED or 0 */
} gosync_waitgroup;

/* Misuse codes returned by Add and Wait, beyond GOSYNC_OVERFLOW. */
enum {
    GOSYNC_WG_NEGATIVE = 16,   /* sync: negative WaitGroup counter */
    GOSYNC_WG_CONCURRENT = 17, /* sync: WaitGroup misuse: Add called concurrently with Wait */
    GOSYNC_WG_REUSED = 18,     /* sync: WaitGroup is reused before previous Wait has returned */
};

/* Add: GOSYNC_OK, GOSYNC_WG_NEGATIVE, GOSYNC_WG_CONCURRENT or
 * GOSYNC_OVERFLOW (the last three change nothing). Never blocks. */
int gosync_waitgroup_add(gosync_waitgroup *wg, int64_t delta);

/* Wait: GOSYNC_OK, GOSYNC_TIMEDOUT or GOSYNC_INTERRUPTED (nothing changed),
 * GOSYNC_OVERFLOW (too many waiters), or GOSYNC_WG_REUSED (released, but the
 * group was reused before this call returned). */
int gosync_waitgroup_wait(gosync_waitgroup *wg, int64_t deadline_ns);

/* Views of the state word, for tests. */
int32_t gosync_waitgroup_counter(const gosync_waitgroup *wg);
uint32_t gosync_waitgroup_waiters(const gosync_waitgroup *wg);

#endif /* GOSYNC_WAITGROUP_H */
