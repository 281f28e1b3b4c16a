/* Robust RWMutex: the RWMutex of gosync.shared, whose readers and writers
 * may be SIGKILLed.
 *
 * API (stable; the binding codes against these names):
 *
 *   int  gosync_robust_rwmutex_rlock(gosync_robust_rwmutex *rw, int64_t deadline_ns);
 *   int  gosync_robust_rwmutex_try_rlock(gosync_robust_rwmutex *rw);
 *   int  gosync_robust_rwmutex_runlock(gosync_robust_rwmutex *rw);
 *   int  gosync_robust_rwmutex_lock(gosync_robust_rwmutex *rw, int64_t deadline_ns);
 *   int  gosync_robust_rwmutex_try_lock(gosync_robust_rwmutex *rw);
 *   int  gosync_robust_rwmutex_unlock(gosync_robust_rwmutex *rw);
 *   int  gosync_robust_rwmutex_mark_consistent(gosync_robust_rwmutex *rw);
 *   int  gosync_robust_rwmutex_lock_writers(gosync_robust_rwmutex *rw, int64_t deadline_ns);
 *   int  gosync_robust_rwmutex_drain(gosync_robust_rwmutex *rw, int64_t deadline_ns);
 *   void gosync_robust_rwmutex_cancel_lock(gosync_robust_rwmutex *rw, int w_status);
 *   uint32_t gosync_robust_rwmutex_readers(const gosync_robust_rwmutex *rw);
 *   bool gosync_robust_rwmutex_write_locked(const gosync_robust_rwmutex *rw);
 *
 * The in-process RWMutex counts readers in one word; a reader killed while
 * counted would block every writer for ever, and nobody could tell which
 * count was its. Here each process that holds read locks has a slot naming
 * it, so a dead reader's holds can be released by anyone.
 *
 * Parts:
 *   w             a robust mutex (robust_mutex.h): writers among
 *                 themselves, and the owner-death state of the write lock
 *   writer        1 while a writer holds the lock or drains readers (set
 *                 and cleared only by w's holder); blocked readers sleep
 *                 on it
 *   readers_left  bumped by a reader that leaves while writer == 1; the
 *                 draining writer sleeps on it
 *   slot[64]      one per process holding read locks:
 *
 *     bits    field   meaning
 *     0..21   pid     the holder's identity (identity.h) ...
 *     22..31  holds   read holds of that process, 1..1023
 *     32..63  start   ... its start tick
 *     the whole word 0: a free slot
 *
 * One CAS changes a slot's identity and holds together, so freeing a dead
 * reader's slot is one CAS from the exact word seen: it cannot free a slot
 * that a new process has just claimed. holds never wraps: RLock refuses
 * (GOSYNC_OVERFLOW) at 1023. A process may own several slots (two of its
 * threads claimed at once); holds are then spread over them.
 *
 * Transitions:
 *   RLock     slot holds+1 (claim a free slot: 0 -> me | 1 hold), then
 *             read writer. 0: held. 1: undo (holds-1, slot -> 0 at 0),
 *             readers_left+1 and wake the writer, sleep on writer == 1
 *             (POLL cap); after a capped sleep, if w's owner is dead, take
 *             w over and drain as Lock: OWNERDEAD_WRITE. Retry.
 *   RUnlock   holds-1 (slot -> 0 at 0); then if writer == 1,
 *             readers_left+1 and wake it.
 *   Lock      robust lock w; writer = 1; drain: until no slot holds a live
 *             reader (dead ones: CAS -> 0), sleep on readers_left (POLL
 *             cap). Deadline while draining: writer = 0, wake readers, give
 *             w back (unlock, or abandon if w came with OWNERDEAD).
 *   Unlock    writer = 0, wake all readers, robust unlock w. Unrepaired
 *             (w INCONSISTENT: OWNERDEAD, no mark_consistent): first w ->
 *             NOTRECOVERABLE (CAS from that word, wake w's waiters), then
 *             writer = 0 and wake the readers, so that no reader gets in
 *             on data left unrepaired; RLock reports NOTRECOVERABLE also
 *             while writer == 1 (an unlocker that died between the two).
 * The slot increment and the writer store are seq_cst, as are the loads
 * after them: either the reader sees writer == 1, or the writer's scan
 * sees the reader's hold (Dekker).
 *
 * readers_left wraps modulo 2^32. The writer reads it before its scan and
 * sleeps only while it still holds that value; a wrap would need 2^32
 * departures of readers between the read and the sleep (a few
 * instructions and one scan of 64 words), and even then the sleep ends by
 * POLL.
 *
 * Statuses: besides those of robust_mutex.h,
 *   GOSYNC_OWNERDEAD_WRITE  (RLock, TryRLock) a writer died holding the
 *       lock; the caller now holds the WRITE lock, as Lock's OWNERDEAD.
 *       Repair, mark_consistent, then Unlock (not RUnlock).
 *   GOSYNC_OVERFLOW  64 processes already hold read locks, or this one
 *       holds 1023; nothing changed.
 *
 * Known difference from Go: there is no reader handoff across processes
 * (Go's readerWait), so a stream of writers can keep readers waiting.
 *
 * A zero-initialised gosync_robust_rwmutex is unlocked. Always
 * GOSYNC_PARK_SHARED.
 */
#ifndef GOSYNC_ROBUST_RWMUTEX_H
#define GOSYNC_ROBUST_RWMUTEX_H

#include <stdbool.h>
#include <stdint.h>

#include "robust_mutex.h"
#include "status.h"

#define GOSYNC_READER_SLOTS 64
#define GOSYNC_READER_HOLDS_SHIFT 22
#define GOSYNC_READER_HOLDS_MASK (UINT64_C(0x3ff) << GOSYNC_READER_HOLDS_SHIFT)
#define GOSYNC_READER_MAX_HOLDS 1023

typedef struct {
    gosync_robust_mutex w;
    _Atomic uint32_t writer;
    _Atomic uint32_t readers_left;
    _Atomic uint64_t slot[GOSYNC_READER_SLOTS];
} gosync_robust_rwmutex;

/* RLock: GOSYNC_OK (a read hold); GOSYNC_OWNERDEAD_WRITE (the WRITE lock,
 * see above); GOSYNC_NOTRECOVERABLE; GOSYNC_OVERFLOW; GOSYNC_TIMEDOUT,
 * GOSYNC_INTERRUPTED, GOSYNC_FAULT (nothing held). Returns by its
 * deadline. */
int gosync_robust_rwmutex_rlock(gosync_robust_rwmutex *rw, int64_t deadline_ns);

/* TryRLock: never sleeps. GOSYNC_OK, GOSYNC_OWNERDEAD_WRITE (a dead
 * writer's lock with no live reader left), GOSYNC_NOTRECOVERABLE,
 * GOSYNC_OVERFLOW or GOSYNC_BUSY. */
int gosync_robust_rwmutex_try_rlock(gosync_robust_rwmutex *rw);

/* RUnlock: GOSYNC_OK, or GOSYNC_MISUSE (nothing changed) when this process
 * holds no read lock. Never blocks. */
int gosync_robust_rwmutex_runlock(gosync_robust_rwmutex *rw);

/* Lock: GOSYNC_OK, GOSYNC_OWNERDEAD (held; a writer died holding it),
 * GOSYNC_NOTRECOVERABLE, GOSYNC_TIMEDOUT, GOSYNC_INTERRUPTED, GOSYNC_FAULT
 * (nothing held). Returns by its deadline. */
int gosync_robust_rwmutex_lock(gosync_robust_rwmutex *rw, int64_t deadline_ns);

/* Lock in steps, for a caller that waits in slices (to run signal
 * handlers between them) without giving up its place: Lock's own undo at
 * a slice's end would let every blocked reader in, and a writer whose
 * slices keep ending behind readers might never get the lock.
 *
 *   rc = lock_writers(rw, deadline): Lock's first half: w, then writer = 1
 *        (new readers now wait). GOSYNC_OK or GOSYNC_OWNERDEAD: go on to
 *        drain; anything else: nothing held, as Lock.
 *   drain(rw, slice_deadline): waits until no live process holds a read
 *        lock. GOSYNC_OK: the write lock is held, and rc (OK or OWNERDEAD)
 *        is what Lock returns. GOSYNC_TIMEDOUT, GOSYNC_INTERRUPTED or
 *        GOSYNC_FAULT: nothing changed; call drain again, or give up with
 *   cancel_lock(rw, rc): writer = 0, wake the readers, and w back (unlock;
 *        abandon if rc was OWNERDEAD, so that the next acquirer hears of
 *        the death).
 * Lock is lock_writers, drain(deadline), and cancel_lock if that failed. */
int gosync_robust_rwmutex_lock_writers(gosync_robust_rwmutex *rw, int64_t deadline_ns);
int gosync_robust_rwmutex_drain(gosync_robust_rwmutex *rw, int64_t deadline_ns);
void gosync_robust_rwmutex_cancel_lock(gosync_robust_rwmutex *rw, int w_status);

/* TryLock: never sleeps. GOSYNC_OK, GOSYNC_OWNERDEAD (held),
 * GOSYNC_NOTRECOVERABLE or GOSYNC_BUSY. */
int gosync_robust_rwmutex_try_lock(gosync_robust_rwmutex *rw);

/* Unlock: GOSYNC_OK, or GOSYNC_MISUSE (nothing changed) when no writer
 * holds it. Unlock without mark_consistent after OWNERDEAD(_WRITE) makes
 * the lock NOTRECOVERABLE, as robust_mutex.h. Never blocks. */
int gosync_robust_rwmutex_unlock(gosync_robust_rwmutex *rw);

/* MarkConsistent of the write lock: as robust_mutex.h. */
int gosync_robust_rwmutex_mark_consistent(gosync_robust_rwmutex *rw);

/* Read holds of all processes (dead ones included), for tests. */
uint32_t gosync_robust_rwmutex_readers(const gosync_robust_rwmutex *rw);

/* Whether a writer holds (or drains for) the lock, for tests and views. */
bool gosync_robust_rwmutex_write_locked(const gosync_robust_rwmutex *rw);

#endif /* GOSYNC_ROBUST_RWMUTEX_H */
