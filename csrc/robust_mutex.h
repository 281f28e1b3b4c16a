/* Robust mutex: the Mutex of gosync.shared, whose owner may be SIGKILLed.
 *
 * API (stable; the binding codes against these names):
 *
 *   int      gosync_robust_mutex_lock(gosync_robust_mutex *m, int64_t deadline_ns);
 *   int      gosync_robust_mutex_try_lock(gosync_robust_mutex *m);
 *   int      gosync_robust_mutex_unlock(gosync_robust_mutex *m);
 *   int      gosync_robust_mutex_mark_consistent(gosync_robust_mutex *m);
 *   int      gosync_robust_mutex_abandon(gosync_robust_mutex *m);
 *   int      gosync_robust_mutex_take_over_dead(gosync_robust_mutex *m);
 *   uint64_t gosync_robust_mutex_word(const gosync_robust_mutex *m);
 *   bool     gosync_robust_mutex_locked(const gosync_robust_mutex *m);
 *
 * The in-process Mutex (mutex.h) has states that only a live thread can
 * leave: a semaphore release in flight, an owed token. A process killed in
 * one of them would hang every other waiter. This lock keeps its whole
 * state in one 64-bit word that names the owner process (identity.h), so
 * that every state a process can die in is one the others can leave: they
 * see the owner is dead and take the lock over.
 *
 * Word (uint64). Waiters sleep on the low half (gosync_half_word), which
 * holds the owner's pid and every flag, so any change of owner or flags
 * wakes a sleeper whose expected value is stale.
 *
 *   bits    name            meaning
 *   0..21   owner pid       0: no owner
 *   22      WAITERS         a thread may sleep on the low half: unlock wakes
 *   23      STARVING        starvation mode: unlock hands the lock to a
 *                           thread that has slept (HANDOFF)
 *   24      HANDOFF         owner 0; only a thread that has slept may take it
 *   25      INCONSISTENT    an owner died. With an owner: that owner got
 *                           OWNERDEAD and has not called mark_consistent.
 *                           With owner 0 ("abandoned"): the next acquirer
 *                           gets OWNERDEAD
 *   26      NOTRECOVERABLE  owner 0 for ever; every acquire fails
 *   27..31  0
 *   32..63  owner start     the owner's start tick (identity.h); 0 with no
 *                           owner
 *
 * "me" below is gosync_identity_self() (pid | start << 32): the owner
 * fields are set and cleared together, in the CAS that takes or gives the
 * lock.
 *
 * Transitions (each one CAS from the exact word read; before -> after):
 *
 *   Lock, fast        0 -> me                                      OK
 *   Lock, free        owner 0, !HANDOFF, !NOTRECOVERABLE
 *                       -> me | (INCONSISTENT kept) | WAITERS if it had
 *                          slept or WAITERS was set               OK, or
 *                                                  OWNERDEAD if INCONSISTENT
 *   Lock, handoff     owner 0, HANDOFF, caller has slept
 *                       -> me | WAITERS | (INCONSISTENT kept) | STARVING if
 *                          it waited >= 1 ms, else normal mode    OK/OWNERDEAD
 *   Lock, takeover    owner != 0 and the owner is dead (identity_alive)
 *                       -> me | INCONSISTENT | (WAITERS, STARVING kept;
 *                          WAITERS also if it had slept)           OWNERDEAD
 *   Lock, spin        reads only: up to 4 short rounds while owned and not
 *                     STARVING, before the first liveness check
 *   Lock, queue       owner != 0 (or HANDOFF and not slept)
 *                       -> w | WAITERS (| STARVING if it has slept, waited
 *                          >= 1 ms and owner != 0); then sleep on the low
 *                          half, at most POLL
 *   Unlock, normal    owner != 0, !INCONSISTENT, !STARVING -> 0; wake 1 if
 *                     WAITERS
 *   Unlock, starving  owner != 0, !INCONSISTENT, STARVING
 *                       -> HANDOFF | STARVING | WAITERS; wake 1; if nobody
 *                          was asleep: HANDOFF... -> 0, then wake 1 (a
 *                          sleeper that slept between the two)
 *   Unlock, unrepaired  owner != 0, INCONSISTENT -> NOTRECOVERABLE; wake all
 *   Unlock, misuse    owner 0 -> unchanged                         MISUSE
 *   MarkConsistent    owner != 0, INCONSISTENT -> w & ~INCONSISTENT
 *                     (otherwise unchanged, MISUSE)
 *   Abandon           owner != 0 -> INCONSISTENT | (WAITERS kept); wake 1
 *                     (otherwise unchanged, MISUSE)
 *   TryLock           fast, free or takeover as Lock; never queues; BUSY
 *   orphan handoff    owner 0, HANDOFF, seen by TryLock or by a Lock past
 *                     its deadline that never slept: wake 1; if nobody was
 *                     asleep (the woken receiver died), -> me | (WAITERS,
 *                     INCONSISTENT kept), normal mode
 *
 * Any process may unlock (as in Go): Unlock does not check the owner.
 *
 *   owner  HANDOFF INCONS  NOTREC  meaning
 *   0      0       0       0       unlocked (WAITERS: a stale or coming wake)
 *   P      0       0       0       held by process P
 *   P      0       1       0       held by P, which got OWNERDEAD
 *   0      0       1       0       abandoned: next acquirer gets OWNERDEAD
 *   0      1       x       0       handoff: a thread that has slept takes it
 *   0      0       0       1       not recoverable (other bits 0) for ever
 *
 * POLL (200 ms): every sleep ends by min(deadline, now + POLL). A sleep
 * that ends by the cap checks the owner's liveness before sleeping again,
 * so a waiter behind a dead owner, or behind a dead unlocker between its
 * HANDOFF CAS and its wake, or behind a woken receiver of a handoff that
 * died, takes the lock within POLL. Liveness is checked on the first pass,
 * after a capped sleep and before returning TIMEDOUT; not after each wake
 * (reading /proc costs ~10 us).
 *
 * A dead waiter leaves at most a stale WAITERS bit: one wake for nobody.
 *
 * The low half can come back to a value a sleeper expects (the threads of
 * one process share a pid: unlock, relock, another waiter sets WAITERS).
 * As with glibc's lock word, that costs no wake-up: every unlock that sees
 * WAITERS wakes one sleeper, and a thread that has slept sets WAITERS again
 * whenever it takes the lock or queues, so the sleepers are woken one per
 * unlock; and no sleep outlasts POLL.
 *
 * Memory: after the CAS that gives the lock away, Unlock and Abandon touch
 * only the futex address (gosync_park_wake reads nothing). In shared memory
 * the mapping stays mapped in this process while a call is in flight (the
 * binding's Mapping outlives the call), so no other process can free it
 * under us.
 *
 * A zero-initialised gosync_robust_mutex is unlocked. Always
 * GOSYNC_PARK_SHARED: its memory is meant to be shared by processes (it
 * also works in private memory).
 */
#ifndef GOSYNC_ROBUST_MUTEX_H
#define GOSYNC_ROBUST_MUTEX_H

#include <stdbool.h>
#include <stdint.h>

#include "status.h"

#define GOSYNC_ROBUST_OWNER_MASK ((UINT64_C(1) << 22) - 1) /* pid */
#define GOSYNC_ROBUST_WAITERS (UINT64_C(1) << 22)
#define GOSYNC_ROBUST_STARVING (UINT64_C(1) << 23)
#define GOSYNC_ROBUST_HANDOFF (UINT64_C(1) << 24)
#define GOSYNC_ROBUST_INCONSISTENT (UINT64_C(1) << 25)
#define GOSYNC_ROBUST_NOTRECOVERABLE (UINT64_C(1) << 26)
#define GOSYNC_ROBUST_START_SHIFT 32

/* The cap on every sleep: a waiter behind a dead owner wakes within it. */
#define GOSYNC_ROBUST_POLL_NS INT64_C(200000000)

typedef struct {
    _Atomic uint64_t word;
} gosync_robust_mutex;

/* Lock until the absolute CLOCK_MONOTONIC deadline (GOSYNC_NO_DEADLINE:
 * never). Returns
 *   GOSYNC_OK             held;
 *   GOSYNC_OWNERDEAD      held; the previous owner died holding it (or an
 *                         OWNERDEAD recipient died or abandoned it before
 *                         mark_consistent). Repair, mark_consistent, unlock;
 *   GOSYNC_NOTRECOVERABLE not held: unlocked without mark_consistent;
 *   GOSYNC_TIMEDOUT, GOSYNC_INTERRUPTED (a signal), GOSYNC_FAULT (the kernel
 *                         refused to wait): not held; at most a WAITERS bit
 *                         was left set (one wake for nobody).
 * Always returns by its deadline (plus one /proc read). */
int gosync_robust_mutex_lock(gosync_robust_mutex *m, int64_t deadline_ns);

/* TryLock: never sleeps. GOSYNC_OK or GOSYNC_OWNERDEAD (held, as Lock),
 * GOSYNC_NOTRECOVERABLE, or GOSYNC_BUSY (a live owner holds it, or a
 * handoff is reserved for a thread that sleeps). */
int gosync_robust_mutex_try_lock(gosync_robust_mutex *m);

/* Unlock: GOSYNC_OK, or GOSYNC_MISUSE (word unchanged) if not held. An
 * unlock of an INCONSISTENT lock (OWNERDEAD, no mark_consistent) makes it
 * NOTRECOVERABLE and returns GOSYNC_OK. Never blocks. */
int gosync_robust_mutex_unlock(gosync_robust_mutex *m);

/* MarkConsistent: GOSYNC_OK if held and INCONSISTENT (clears it), else
 * GOSYNC_MISUSE with nothing changed. */
int gosync_robust_mutex_mark_consistent(gosync_robust_mutex *m);

/* Abandon: gives up a held lock leaving it INCONSISTENT with no owner, so
 * that the next acquirer gets OWNERDEAD (for an RWMutex writer that took a
 * dead writer's lock over and then timed out). GOSYNC_OK, or GOSYNC_MISUSE
 * (unchanged) if not held. */
int gosync_robust_mutex_abandon(gosync_robust_mutex *m);

/* Takes the lock only if its owner is dead (for an RWMutex reader blocked
 * behind a dead writer): GOSYNC_OWNERDEAD (held), else GOSYNC_BUSY with
 * nothing changed. Never sleeps. */
int gosync_robust_mutex_take_over_dead(gosync_robust_mutex *m);

/* A relaxed read of the word, for tests and debug views. */
uint64_t gosync_robust_mutex_word(const gosync_robust_mutex *m);

/* Whether some process holds it (owner != 0), for locked(). */
bool gosync_robust_mutex_locked(const gosync_robust_mutex *m);

#endif /* GOSYNC_ROBUST_MUTEX_H */
