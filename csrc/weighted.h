/* Weighted: the word of golang.org/x/sync/semaphore's Weighted that its
 * fast paths share with its queue.
 *
 * Go's Weighted takes a mutex for every call. gosync.semaphore.Weighted
 * (gosync/semaphore.py) keeps Go's waiter queue, FIFO, in Python under a
 * gosync.Mutex, but the uncontended acquire and release are one CAS on
 * this word, taken with the GIL held. They succeed only while nobody is
 * queued; everything else goes to the queue's lock.
 *
 * State word `held` (int64):
 *
 *   value                       meaning
 *   h, 0 <= h <= size           h of the weight is acquired; nobody queued
 *   QUEUED + h                  the same, with waiters queued
 *
 * size is below QUEUED (2**62), set once before the word is shared, and
 * h never exceeds it (every transition checks), so neither form overflows
 * and the two ranges never meet.
 *
 * Transitions:
 *
 *   try_acquire(n)     h + n <= size, not queued: h += n (one CAS).
 *                      Otherwise nothing changes: there is no room, or a
 *                      waiter is queued and n must not barge past it.
 *   release(n)         not queued, n <= h: h -= n (one CAS). Queued: nothing
 *                      changes, GOSYNC_WEIGHTED_SLOW (the caller goes to the
 *                      queue's lock). n > h: nothing changes,
 *                      GOSYNC_WEIGHTED_OVER (Go's "released more than held").
 *   take_or_queue(n)   under the queue's lock: try_acquire(n), or if it does
 *                      not fit, set QUEUED (if not set), in one CAS.
 *   add(delta)         under the queue's lock: grant to or take back from a
 *                      waiter, and clear QUEUED when the queue empties.
 *
 * Why the fast paths cannot break the queue: QUEUED is set and cleared only
 * under the queue's lock, by its holder. While it is set, try_acquire and
 * release change nothing, so the word changes only under the lock and the
 * holder's add() sees every change. While it is clear, all changes are
 * CASes, and take_or_queue's CAS fails if a fast path moved the word since
 * it was read, so it decides again on the new value: it never queues a
 * request that fits, and never takes weight another thread took.
 *
 * The data rule holds: two integers, no pointers. The struct is valid
 * zero-filled (size 0, nothing held).
 */
#ifndef GOSYNC_WEIGHTED_H
#define GOSYNC_WEIGHTED_H

#include <stdbool.h>
#include <stdint.h>

#include "atomic.h"

#define GOSYNC_WEIGHTED_QUEUED ((int64_t)1 << 62)

/* Results of gosync_weighted_release. */
#define GOSYNC_WEIGHTED_RELEASED 0
#define GOSYNC_WEIGHTED_SLOW 1 /* waiters queued: release under the queue's lock */
#define GOSYNC_WEIGHTED_OVER 2 /* more than held: misuse, nothing changed */

typedef struct {
    _Atomic int64_t held; /* see the table above */
    int64_t size;         /* 0 <= size < GOSYNC_WEIGHTED_QUEUED, set once */
} gosync_weighted;

/* Takes n (>= 0) if it fits and nobody is queued: true. Else false, and
 * nothing changed. Acquire order: what the previous holder of the weight
 * wrote before releasing it is visible. */
static inline bool gosync_weighted_try_acquire(gosync_weighted *w, int64_t n)
{
    int64_t h = gosync_load(&w->held, GOSYNC_RELAXED);
    /* Queued, h >= QUEUED > size, so size - h < 0 <= n: no room. */
    while (n <= w->size - h) {
        if (gosync_cas(&w->held, &h, h + n, GOSYNC_ACQUIRE, GOSYNC_RELAXED))
            return true;
    }
    return false;
}

/* Gives back n (>= 0): GOSYNC_WEIGHTED_RELEASED, GOSYNC_WEIGHTED_SLOW or
 * GOSYNC_WEIGHTED_OVER (see the table). Release order. */
static inline int gosync_weighted_release(gosync_weighted *w, int64_t n)
{
    int64_t h = gosync_load(&w->held, GOSYNC_RELAXED);
    for (;;) {
        if (h >= GOSYNC_WEIGHTED_QUEUED)
            return GOSYNC_WEIGHTED_SLOW;
        if (n > h)
            return GOSYNC_WEIGHTED_OVER;
        if (gosync_cas(&w->held, &h, h - n, GOSYNC_RELEASE, GOSYNC_RELAXED))
            return GOSYNC_WEIGHTED_RELEASED;
    }
}

/* Under the queue's lock, for n <= size: takes n if it fits and nobody is
 * queued (true), else makes sure QUEUED is set (false): the caller then
 * queues its waiter. */
static inline bool gosync_weighted_take_or_queue(gosync_weighted *w, int64_t n)
{
    int64_t h = gosync_load(&w->held, GOSYNC_RELAXED);
    for (;;) {
        if (n <= w->size - h) {
            if (gosync_cas(&w->held, &h, h + n, GOSYNC_ACQUIRE, GOSYNC_RELAXED))
                return true;
        } else if (h >= GOSYNC_WEIGHTED_QUEUED) {
            return false;
        } else if (gosync_cas(&w->held, &h, h + GOSYNC_WEIGHTED_QUEUED, GOSYNC_ACQ_REL, GOSYNC_RELAXED)) {
            return false;
        }
    }
}

/* Under the queue's lock, while QUEUED is set (or to clear it): adds delta
 * and returns the new word. The caller keeps h within 0..size. */
static inline int64_t gosync_weighted_add(gosync_weighted *w, int64_t delta)
{
    return gosync_add(&w->held, delta, GOSYNC_ACQ_REL) + delta;
}

/* The word, for the queue's holder and for debug views. */
static inline int64_t gosync_weighted_word(gosync_weighted *w)
{
    return gosync_load(&w->held, GOSYNC_ACQUIRE);
}

#endif /* GOSYNC_WEIGHTED_H */
