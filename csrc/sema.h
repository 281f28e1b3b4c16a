/* Semaphore: Go's runtime sema (runtime/sema.go) for gosync's primitives.
 *
 * A counting semaphore whose whole state is one 64-bit word, so that every
 * transition is a single atomic operation and the struct holds only integers.
 * Waiters sleep on the low 32 bits (the tokens) with the parking layer.
 *
 * Go's sema offers three things beyond counting, and so does this one:
 *
 *   - FIFO service. Waiters sleep in the kernel's queue, which is FIFO within
 *     a class.
 *   - LIFO requeue. A waiter that has waited before (Go's Mutex passes
 *     lifo=true for it) joins a second class that every release serves
 *     first, so it goes ahead of waiters that have not slept yet.
 *   - Handoff. gosync_sema_release(s, true) hands its token to the waiter it
 *     wakes: the token is marked "handed", and only a thread that a wake
 *     picked may take a handed token. A newcomer cannot barge in and steal
 *     it. If the release finds nobody asleep to wake, the handed token turns
 *     back into a free one, so it cannot be stranded.
 *
 * State word:
 *
 *   bits    field   meaning
 *   0..23   free    tokens any acquirer may take
 *   24..31  handed  tokens that only a woken waiter may take
 *   32..47  fifo    waiters in the back class (first wait)
 *   48..63  lifo    waiters in the front class (waited before)
 *
 * Transitions (each one atomic operation on the word):
 *
 *   acquire, fast        free>0                    free-1
 *   acquire, register    no token for us           fifo+1 or lifo+1, then park
 *   acquire, take        free>0, or handed>0       free-1 (or handed-1) and
 *                        and we were woken         our class-1, together
 *   acquire, give up     deadline or signal        our class-1 (after one last
 *                                                  try to take a free token)
 *   release              -                         free+1, or handed+1 (handoff);
 *                                                  then wake one, front class first
 *   release, no sleeper  handoff woke nobody       handed-1 free+1, then wake one
 *
 * Limits: 2^24-1 free tokens, 255 handed tokens and 65535 waiters of each
 * class at a time. gosync's primitives stay far inside them: a Mutex has at
 * most one token in flight, and waiters are threads.
 */
#ifndef GOSYNC_SEMA_H
#define GOSYNC_SEMA_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* Zero-initialised is a valid, empty, process-private semaphore. */
typedef struct {
    _Atomic uint64_t state;
    uint32_t park_flags; /* GOSYNC_PARK_SHARED or 0; fixed before first use */
} gosync_sema;

/* Status codes shared by every blocking call in the C core. */
enum {
    GOSYNC_OK = 0,
    GOSYNC_TIMEDOUT = 1,
    GOSYNC_INTERRUPTED = 2, /* a signal arrived: nothing was taken or queued */
    GOSYNC_MISUSE = 3,      /* the call breaks the primitive's contract; no
                               state was changed */
    GOSYNC_OVERFLOW = 4,    /* a count would exceed its field; no state was
                               changed */
};

/* Takes a token, waiting until the absolute deadline (GOSYNC_NO_DEADLINE for
 * none). lifo=true queues at the front: for waiters that have waited before.
 * Returns GOSYNC_OK with a token, or GOSYNC_TIMEDOUT / GOSYNC_INTERRUPTED
 * with the state exactly as if this call had never been made. A token that
 * is released while the waiter is giving up is taken: the call then returns
 * GOSYNC_OK. */
int gosync_sema_acquire(gosync_sema *s, bool lifo, int64_t deadline_ns);

/* Adds one token and wakes one waiter, front class first. With handoff, the
 * token is reserved for the waiter woken (see above).
 *
 * Without handoff, the semaphore's memory is not touched after the token is
 * added: a waiter may take it, return and free the semaphore at once. With
 * handoff, the caller must guarantee that every earlier wake has been
 * consumed, i.e. that no woken waiter is still about to take a token. Go's
 * Mutex guarantees it: a handoff happens only in starvation mode, where the
 * woken bit is clear and each receiver takes its token before it can own the
 * mutex and unlock it again. */
void gosync_sema_release(gosync_sema *s, bool handoff);

/* Debug views for tests: the number of tokens (free and handed) not yet
 * taken, and the number of registered waiters. */
uint32_t gosync_sema_tokens(const gosync_sema *s);
uint32_t gosync_sema_waiters(const gosync_sema *s);

#endif /* GOSYNC_SEMA_H */
