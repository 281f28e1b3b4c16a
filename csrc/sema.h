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
 * A handoff release must look at the word again after adding its token, to
 * turn it into a free one. A wake cannot say which release it was meant for,
 * so a waiter woken late by an earlier release may take the handed token
 * meanwhile, return, and let the semaphore be freed under the releaser
 * (found by the SPIN model in model/, finding 2). So a handoff release marks
 * itself in the word (`releasing`) with the same CAS that adds its token and
 * unmarks itself with its last write; and a thread that takes a token while
 * a handoff release is in flight does not return before that last write
 * (it waits on `draining`). No release then touches the semaphore's memory
 * after a thread could have returned with its token.
 *
 * State word:
 *
 *   bits    field      meaning
 *   0..19   free       tokens any acquirer may take
 *   20..27  handed     tokens that only a woken waiter may take
 *   28..30  releasing  handoff releases between their first and last write
 *   31      draining   a thread holding a token waits for releasing == 0
 *   32..47  fifo       waiters in the back class (first wait)
 *   48..63  lifo       waiters in the front class (waited before)
 *
 * Transitions (each one atomic operation on the word):
 *
 *   acquire, fast        free>0                    free-1
 *   acquire, register    no token for us           fifo+1 or lifo+1, then park
 *   acquire, take        free>0, or handed>0       free-1 (or handed-1) and
 *                        and we were woken         our class-1, together
 *   acquire, drain       took a token while        set draining, park until
 *                        releasing>0               releasing == 0
 *   acquire, give up     deadline or signal        our class-1 (after one last
 *                                                  try to take a free token)
 *   release              -                         free+1; then wake one,
 *                                                  front class first
 *   release, handoff     releasing<7 (else as a    handed+1 releasing+1; then
 *                        plain release)            wake one, front class first
 *   release, end of      -                         releasing-1, and handed-1
 *   handoff                                        free+1 if the wake woke
 *                                                  nobody; draining cleared at
 *                                                  releasing 0; then wake (by
 *                                                  address only) whoever waits
 *
 * Limits: 2^20-1 free tokens, 255 handed tokens, 7 handoff releases in
 * flight (more are plain releases) and 65535 waiters of each class at a
 * time. gosync's primitives stay far inside them: a Mutex has at most one
 * token in flight, and waiters are threads.
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
 * GOSYNC_OK. It never returns with a token while a handoff release is still
 * writing to the semaphore (the wait for that is a few instructions, or one
 * futex wake, of the releasing thread). */
int gosync_sema_acquire(gosync_sema *s, bool lifo, int64_t deadline_ns);

/* Adds one token and wakes one waiter, front class first. With handoff, the
 * token is reserved for the waiter woken (see above).
 *
 * A thread that takes the token may return and free the semaphore as soon as
 * this call has made its last write to the word: without handoff, the add;
 * with handoff, the CAS that ends the release. After that write it only
 * wakes sleepers by the word's address (a futex wake, which neither reads
 * nor writes the word). */
void gosync_sema_release(gosync_sema *s, bool handoff);

/* Debug views for tests: the number of tokens (free and handed) not yet
 * taken, and the number of registered waiters. */
uint32_t gosync_sema_tokens(const gosync_sema *s);
uint32_t gosync_sema_waiters(const gosync_sema *s);

#endif /* GOSYNC_SEMA_H */
