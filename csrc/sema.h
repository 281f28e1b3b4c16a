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
 * A Mutex waiter that gives up while an Unlock is releasing the token meant
 * for it cannot leave (mutex.c, "Giving up"), but must not wait for that
 * token beyond the few instructions the release takes: another thread may
 * take it first. Such a waiter is "owed" a token. It marks the word OWED and
 * sleeps in a class of its own; whoever then makes a free token appear, or
 * takes a token, clears or keeps the mark and wakes it, so that it looks at
 * the Mutex again.
 *
 * State word:
 *
 *   bits    field      meaning
 *   0..18   free       tokens any acquirer may take
 *   19      owed       a thread owed a token sleeps in CLASS_OWED
 *   20..27  handed     tokens that only a woken waiter may take
 *   28..30  releasing  handoff releases between their first and last write
 *   31      draining   a thread holding a token waits for releasing == 0
 *   32..47  fifo       waiters in the back class (first wait)
 *   48..63  lifo       waiters in the front class (waited before)
 *
 * Transitions (each one atomic operation on the word):
 *
 *   acquire, fast        free>0                    free-1
 *   acquire, register    no token for us, and our  fifo+1 or lifo+1, then park
 *                        class below 65535 (else
 *                        GOSYNC_OVERFLOW)
 *   acquire, take        free>0, or handed>0       free-1 (or handed-1) and
 *                        and we were woken         our class-1, together;
 *                                                  owed cleared (then wake
 *                                                  CLASS_OWED, by address)
 *   acquire, drain       took a token while        set draining, park until
 *                        releasing>0               releasing == 0
 *   acquire, give up     deadline, signal or       our class-1 (after one last
 *                        fault                     try to take a free token)
 *   owe                  free>0                    free-1 (a take, as above)
 *                        free==0                   set owed, then park in
 *                                                  CLASS_OWED (no deadline)
 *   disown               owed                      clear owed, wake CLASS_OWED
 *   release              -                         free+1; then wake one,
 *                                                  front class first, and
 *                                                  CLASS_OWED if owed
 *   release, handoff     releasing<7 (else as a    handed+1 releasing+1; then
 *                        plain release)            wake one, front class first
 *   release, end of      -                         releasing-1, and handed-1
 *   handoff                                        free+1 if the wake woke
 *                                                  nobody; draining cleared at
 *                                                  releasing 0; then wake (by
 *                                                  address only) whoever waits,
 *                                                  CLASS_OWED if a free token
 *                                                  appeared and owed is set
 *
 * Limits: 2^19-1 free tokens, 255 handed tokens, 7 handoff releases in
 * flight (more are plain releases) and 65535 waiters of each class at a
 * time (a registration past that fails with GOSYNC_OVERFLOW and changes
 * nothing). gosync's primitives stay far inside the token limits: a Mutex
 * has at most one token in flight.
 */
#ifndef GOSYNC_SEMA_H
#define GOSYNC_SEMA_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "status.h"

/* Zero-initialised is a valid, empty, process-private semaphore. */
typedef struct {
    _Atomic uint64_t state;
    uint32_t park_flags; /* GOSYNC_PARK_SHARED or 0; fixed before first use */
} gosync_sema;


/* Takes a token, waiting until the absolute deadline (GOSYNC_NO_DEADLINE for
 * none). lifo=true queues at the front: for waiters that have waited before.
 * Returns GOSYNC_OK with a token, or GOSYNC_TIMEDOUT, GOSYNC_INTERRUPTED,
 * GOSYNC_FAULT or GOSYNC_OVERFLOW (65535 waiters of its class already) with
 * the state exactly as if this call had never been made. A token that
 * is released while the waiter is giving up is taken: the call then returns
 * GOSYNC_OK. It never returns with a token while a handoff release is still
 * writing to the semaphore (the wait for that is a few instructions, or one
 * futex wake, of the releasing thread). */
int gosync_sema_acquire(gosync_sema *s, bool lifo, int64_t deadline_ns);

/* For a thread that is owed a token that is on its way (mutex.c, "Giving
 * up"), in two steps. gosync_sema_owe takes a free token (true), or marks
 * the word owed (false) and stores in *seen the word as it marked it. The
 * caller then checks that it is still owed, and if so calls
 * gosync_sema_await_owed(s, *seen), which sleeps, with no deadline, until
 * the word changes: until a release makes a free token appear or a thread
 * takes a token (both wake owed sleepers). Signals only end the sleep early.
 * It takes nothing: the caller looks at its primitive and calls
 * gosync_sema_owe again, or leaves, calling gosync_sema_disown if it marked
 * the word, so that no mark outlives its waiter. */
bool gosync_sema_owe(gosync_sema *s, uint64_t *seen);
void gosync_sema_await_owed(gosync_sema *s, uint64_t seen);
void gosync_sema_disown(gosync_sema *s);

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
 * taken, the number of registered waiters, and whether a thread is owed a
 * token. */
uint32_t gosync_sema_tokens(const gosync_sema *s);
uint32_t gosync_sema_waiters(const gosync_sema *s);
bool gosync_sema_owed(const gosync_sema *s);

#endif /* GOSYNC_SEMA_H */
