/* Parking: put a thread to sleep while a 32-bit word holds a value, and wake
 * it again. This is the only layer of the C core that talks to the kernel.
 *
 * On Linux it is the futex (FUTEX_WAIT_BITSET / FUTEX_WAKE_BITSET). Elsewhere,
 * or when built with -DGOSYNC_PARK_PORTABLE, a process-local table of
 * condition variables keyed by the word's address keeps the same contract, so
 * the package still builds and works (without cross-process sharing).
 *
 * Waiters belong to a class: a bit in a 32-bit mask given to gosync_park_wait.
 * A wake names the classes it may pick from, so a layer above can keep two
 * queues on one word (the semaphore serves waiters that have waited before
 * ahead of newcomers this way). Within a class, the kernel serves waiters in
 * the order they arrived.
 */
#ifndef GOSYNC_PARK_H
#define GOSYNC_PARK_H

#include <stdatomic.h>
#include <stdint.h>

#include "status.h"

/* Deadlines are absolute CLOCK_MONOTONIC times in nanoseconds. An absolute
 * deadline survives a retry after EINTR unchanged; a relative one would grow. */
#define GOSYNC_NO_DEADLINE INT64_C(-1)

/* Per-object flag: the word lives in memory shared between processes, so the
 * kernel must key it by physical page instead of by address space. Without it
 * the cheaper private futex is used. Every primitive's struct carries a
 * park_flags field for it, and passes it to every wait and wake; nothing
 * sets it yet. It is kept for the primitives of gosync.shared, whose words
 * live in a shared-memory mapping (docs/DESIGN.md, "Data rule"). */
#define GOSYNC_PARK_SHARED 1u

/* A wake mask that picks from every class. */
#define GOSYNC_PARK_ANY 0xffffffffu

typedef enum {
    GOSYNC_PARK_WOKEN = 0,   /* a wake picked this waiter (very rarely, a
                                spurious return: callers always look again) */
    GOSYNC_PARK_AGAIN,       /* the word did not hold `expected` */
    GOSYNC_PARK_TIMEDOUT,    /* the deadline passed first */
    GOSYNC_PARK_INTERRUPTED, /* a signal arrived; the caller should return to
                                its own caller so that a handler can run */
    GOSYNC_PARK_FAULT,       /* the kernel refused the wait for another reason
                                (errno is left as it said: EFAULT, EINVAL,
                                ENOSYS, ...). Retrying would spin, so callers
                                give up as on a timeout and report it. */
} gosync_park_result;

/* The status a wait returns when its park ended without what it waited
 * for: GOSYNC_TIMEDOUT, GOSYNC_INTERRUPTED or GOSYNC_FAULT. Only for those
 * three results. */
static inline int gosync_park_status(gosync_park_result r)
{
    return r == GOSYNC_PARK_TIMEDOUT ? GOSYNC_TIMEDOUT
         : r == GOSYNC_PARK_INTERRUPTED ? GOSYNC_INTERRUPTED
                                         : GOSYNC_FAULT;
}

/* Whether a park ended the wait: a timeout, a signal or a fault. A woken or
 * "again" result means: look at the word again. */
static inline int gosync_park_gave_up(gosync_park_result r)
{
    return r == GOSYNC_PARK_TIMEDOUT || r == GOSYNC_PARK_INTERRUPTED || r == GOSYNC_PARK_FAULT;
}

/* One half of a 64-bit state word, as a 32-bit futex word. Several
 * primitives keep two counts in one 64-bit word, so that one CAS changes
 * both, and sleep on the half that holds the count they wait for. The
 * kernel reads the half atomically while user space updates the whole word
 * atomically; both are naturally aligned. The halves are found by the
 * compiler's byte order: GCC and Clang define __BYTE_ORDER__, and gosync
 * refuses to guess without it. */
#if !defined(__BYTE_ORDER__)
#error "gosync needs __BYTE_ORDER__ to find the halves of a 64-bit word"
#endif
enum { GOSYNC_LOW_HALF = 0, GOSYNC_HIGH_HALF = 1 };
static inline _Atomic uint32_t *gosync_half_word(_Atomic uint64_t *word, int half)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    half = !half;
#endif
    return (_Atomic uint32_t *)((char *)word + (half ? 4 : 0));
}

/* The clock every deadline is measured against. */
int64_t gosync_now_ns(void);

/* How many CPUs this process may run on (its affinity mask, not the number
 * installed). Spinning only helps when the lock holder can run meanwhile. */
int gosync_ncpu(void);

/* Gives the CPU to another runnable thread: for a wait of a few
 * instructions on a thread that may have been preempted. */
void gosync_yield(void);

/* Sleeps while *word == expected, until woken, the deadline, or a signal.
 * `class_bits` is this waiter's class (nonzero). Returns at once with
 * GOSYNC_PARK_AGAIN if the word already differs, and with
 * GOSYNC_PARK_TIMEDOUT if the deadline has already passed. The comparison
 * and the sleep are atomic with respect to gosync_park_wake. */
gosync_park_result gosync_park_wait(_Atomic uint32_t *word, uint32_t expected,
                                    uint32_t class_bits, int64_t deadline_ns,
                                    unsigned flags);

/* Wakes up to n threads parked on word whose class intersects class_mask.
 * Returns how many were woken. Only the word's address is used: the memory
 * is never read, so waking a word that another thread has just freed is
 * harmless. */
int gosync_park_wake(_Atomic uint32_t *word, int n, uint32_t class_mask,
                     unsigned flags);

#endif /* GOSYNC_PARK_H */
