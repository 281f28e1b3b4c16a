/* Mutex: Go's sync.Mutex, state word for state word.
 *
 * A Mutex can be in two modes of operation: normal and starvation.
 *
 * In normal mode waiters are queued in FIFO order, but a woken up waiter does
 * not own the mutex: it competes with newly arriving threads for ownership.
 * New arrivals have an advantage (they are already running on a CPU), so a
 * woken up waiter has a good chance of losing. In that case it is queued at
 * the front of the wait queue. If a waiter fails to acquire the mutex for
 * more than 1 ms, it switches the mutex to starvation mode.
 *
 * In starvation mode ownership of the mutex is handed off directly from the
 * unlocking thread to the waiter at the front of the queue. New arrivals do
 * not try to acquire the mutex even if it appears to be unlocked, and do not
 * spin. Instead they queue themselves at the tail of the wait queue.
 *
 * If a waiter receives ownership and sees that either (1) it is the last
 * waiter in the queue, or (2) it waited for less than 1 ms, it switches the
 * mutex back to normal operation.
 *
 * Normal mode has considerably better performance, as a thread can acquire a
 * mutex several times in a row even if there are blocked waiters. Starvation
 * mode is important to prevent pathological cases of tail latency.
 *
 * State word (int32):
 *
 *   bit   name       meaning
 *   0     LOCKED     the mutex is held
 *   1     WOKEN      a waiter has been woken, or a spinner will take the lock
 *                    soon: Unlock must not wake another one
 *   2     STARVING   starvation mode: ownership is handed to the front waiter
 *   3..31 waiters    number of threads queued on the semaphore
 *
 *   LOCKED WOKEN STARVING  meaning
 *   0      0     0         unlocked; with waiters>0 only while an Unlock is
 *                          between its CAS and its wake, or after a waiter
 *                          gave up
 *   1      0     0         held, normal mode; waiters sleep
 *   0      1     0         unlocked, a woken waiter or spinner is about to try
 *   1      1     0         held, and a waiter is awake or a spinner spins
 *   1      0     1         held in starvation mode (waiters >= 1)
 *   0      0     1         handoff in flight: the front waiter owns the mutex
 *                          and will set LOCKED; nobody else may take it
 *   x      1     1         never: a woken thread clears WOKEN before it can
 *                          set STARVING, and Unlock wakes none in this mode
 *
 * Transitions:
 *
 *   Lock, fast      0 -> LOCKED (CAS)
 *   Lock, queue     set LOCKED unless STARVING; waiters+1 if LOCKED or
 *                   STARVING; STARVING if this waiter waited > 1 ms and the
 *                   mutex is LOCKED; clear WOKEN if this thread set it or was
 *                   woken (one CAS)
 *   Lock, spin      WOKEN set by a spinner while LOCKED and waiters > 0
 *   Lock, takeover  woken in starvation mode: + LOCKED - one waiter, and
 *                   - STARVING if it waited < 1 ms or is the last waiter
 *                   (one CAS, so the last-waiter test sees the count)
 *   Lock, give up   deadline, signal or fault: waiters-1, and - STARVING when
 *                   it was the last waiter; or, owed a token an Unlock is
 *                   releasing, no change until that token appears (it is
 *                   then a woken waiter) or is taken by another thread (see
 *                   "Giving up" in mutex.c)
 *   Unlock          - LOCKED; in normal mode with waiters and neither WOKEN
 *                   nor STARVING, also waiters-1 + WOKEN, then release one
 *                   token; in starvation mode, release one token with handoff
 *   TryLock         set LOCKED if neither LOCKED nor STARVING
 *
 * A zero-initialised gosync_mutex is an unlocked, process-private mutex.
 * The struct holds only integers, so it can later live in shared memory.
 */
#ifndef GOSYNC_MUTEX_H
#define GOSYNC_MUTEX_H

#include <stdbool.h>
#include <stdint.h>

#include "atomic.h"
#include "sema.h"

#define GOSYNC_MUTEX_LOCKED 1
#define GOSYNC_MUTEX_WOKEN 2
#define GOSYNC_MUTEX_STARVING 4
#define GOSYNC_MUTEX_WAITER_SHIFT 3

typedef struct {
    _Atomic int32_t state;
    gosync_sema sema;
} gosync_mutex;

/* The fast path of Lock: takes an unlocked mutex with no waiters. Never
 * blocks, so a caller that holds the GIL may keep it. */
static inline bool gosync_mutex_lock_fast(gosync_mutex *m)
{
    int32_t unlocked = 0;
    return gosync_cas(&m->state, &unlocked, GOSYNC_MUTEX_LOCKED, GOSYNC_ACQUIRE, GOSYNC_RELAXED);
}

/* The slow path of Lock: spins, queues and sleeps until the mutex is held or
 * the absolute deadline passes (GOSYNC_NO_DEADLINE: never). Returns
 * GOSYNC_OK when the mutex is held; or GOSYNC_TIMEDOUT, GOSYNC_INTERRUPTED
 * (a signal), GOSYNC_FAULT (the kernel refused to wait) or GOSYNC_OVERFLOW
 * (65535 threads already queued) with the mutex state as if this call had
 * never been made. Once the deadline has passed (or a signal came), it
 * waits only for steps of threads that are not blocked (an Unlock between
 * its CAS and its release), never for another Unlock; its CAS loops are
 * lock-free, not wait-free. */
int gosync_mutex_lock_slow(gosync_mutex *m, int64_t deadline_ns);

/* Lock: the fast path, then the slow path. */
int gosync_mutex_lock(gosync_mutex *m, int64_t deadline_ns);

/* TryLock: never blocks, never queues. */
bool gosync_mutex_try_lock(gosync_mutex *m);

/* Unlock: GOSYNC_OK, or GOSYNC_MISUSE (state unchanged) if not locked.
 * Never blocks. After the operation that unlocks, it touches the mutex only
 * in gosync_sema_release, for a waiter that cannot return from Lock before
 * that release's last write (see sema.h). So a thread that locks and unlocks
 * the mutex after us may free it at once. */
int gosync_mutex_unlock(gosync_mutex *m);

/* A relaxed read of the state word, for locked() and for tests. */
int32_t gosync_mutex_state(const gosync_mutex *m);

#endif /* GOSYNC_MUTEX_H */
