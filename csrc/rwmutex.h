/* RWMutex: Go's sync.RWMutex, a reader/writer mutual exclusion lock.
 *
 * The lock can be held by an arbitrary number of readers or a single writer.
 * If any thread calls Lock while the lock is already held by one or more
 * readers, concurrent calls to RLock block until the writer has acquired
 * (and released) the lock, to ensure that the lock eventually becomes
 * available to the writer: a pending writer blocks new readers. The readers
 * that a writer blocked all get the lock when that writer unlocks, before
 * the next writer can get it.
 *
 * Go keeps readerCount (readers, minus maxReaders while a writer is
 * pending), readerWait (readers the writer still waits for), and two
 * semaphores. gosync keeps the same counts, in one 64-bit word, because a
 * writer that gives up must withdraw atomically: a reader that is leaving
 * must see either the writer pending (and count itself out of readerWait)
 * or not pending (and leave readerWait alone), never half of each. The
 * reader semaphore becomes an epoch: Unlock (or a writer that gives up)
 * advances it in the same atomic step that clears the writer, which grants
 * the lock to every blocked reader at once, as Go's release of r tokens
 * does. A blocked reader that gives up can then tell, in one CAS, whether
 * its writer is still there (leave: readers-1) or gone (it holds the lock).
 *
 * State word (uint64):
 *
 *   bits    field       meaning
 *   0..21   readerWait  readers that held the lock when the writer arrived
 *                       and have not left yet; 0 unless WRITER
 *   22      WRITER      a writer holds the lock or waits for readers to leave
 *   23..44  readers     readers that hold the lock or wait for the writer
 *                       (Go's readerCount + maxReaders while WRITER is set)
 *   45..63  epoch       advances each time WRITER is cleared
 *
 * Transitions (each one CAS unless noted):
 *
 *   RLock      !WRITER: readers+1 (held). WRITER: readers+1, then sleep on
 *              the epoch; a changed epoch means the lock was granted.
 *   RLock, give up   epoch unchanged: readers-1; changed: it holds the lock
 *   TryRLock   !WRITER: readers+1
 *   RUnlock    readers-1; with WRITER also readerWait-1, and the reader that
 *              takes readerWait to 0 wakes the writer (by address only,
 *              after the CAS). readers == 0 (or WRITER with readerWait == 0)
 *              is misuse, and changes nothing.
 *   Lock       w.Lock(); then WRITER, readerWait = readers (all of them hold
 *              the lock, since WRITER was clear); wait until readerWait == 0
 *   Lock, give up    readerWait > 0: clear WRITER and readerWait, epoch+1
 *              (the readers it blocked get the lock), then w.Unlock().
 *              readerWait == 0: it holds the lock after all.
 *   TryLock    w.TryLock(); then WRITER if readers == 0
 *   Unlock     WRITER with readerWait == 0, else misuse (nothing changes);
 *              w.Unlock(); then clear WRITER, epoch+1, and wake the blocked
 *              readers.
 *
 * Unlock releases w before it clears WRITER (Go does it after): once WRITER
 * is clear, a granted reader may unlock and free the RWMutex, so it must be
 * the last write. A writer that takes w in between waits the few
 * instructions until WRITER clears before it announces itself.
 *
 * Sleeping. Blocked readers sleep on the high half of the word (the epoch,
 * and readers' bits 9..21), the waiting writer on the low half (all of
 * readerWait, WRITER, and readers' bits 0..8). The writer sleeps only while
 * the low half is as it last read it. readerWait only falls while the
 * writer waits (only a writer that holds w sets it, and the waiting writer
 * holds w), so the last reader's CAS (readerWait 1 -> 0) always changes the
 * word the writer sleeps on: a writer that has not slept yet will not, and
 * one that has is in the queue for the wake that follows the CAS. Any other
 * reader arriving or leaving also changes a half, which can only send a
 * sleeper about to sleep back to look again. That CAS is the reader's last write; the wake
 * uses only the address. (An earlier version kept a separate sequence word
 * that the last reader advanced before its CAS, to keep the CAS last. The
 * writer could read the advanced sequence, then readerWait still 1, and
 * sleep after the wake: a lost wake-up, found by `python -m gosync bench`
 * as a hang with readerWait 0 and the writer asleep.)
 *
 * Limits: 2^22-1 readers at a time (Go allows 2^30); past that RLock fails
 * with GOSYNC_OVERFLOW and changes nothing. A blocked reader that sleeps
 * through 2^19 writer cycles would miss its grant; each cycle needs that
 * reader's own wake-up to be delayed, so this does not happen in practice.
 *
 * A zero-initialised gosync_rwmutex is unlocked and process-private.
 */
#ifndef GOSYNC_RWMUTEX_H
#define GOSYNC_RWMUTEX_H

#include <stdbool.h>
#include <stdint.h>

#include "mutex.h"

typedef struct {
    gosync_mutex w;               /* held while a writer is pending or holds */
    _Atomic uint64_t state;       /* see the table above */
    uint32_t park_flags;          /* GOSYNC_PARK_SHARED or 0 */
} gosync_rwmutex;

#define GOSYNC_RWMUTEX_MAX_READERS ((1u << 22) - 1)

/* RLock. GOSYNC_OK, GOSYNC_TIMEDOUT or GOSYNC_INTERRUPTED (nothing changed),
 * or GOSYNC_OVERFLOW (too many readers; nothing changed). */
int gosync_rwmutex_rlock(gosync_rwmutex *rw, int64_t deadline_ns);
bool gosync_rwmutex_try_rlock(gosync_rwmutex *rw);
/* RUnlock: GOSYNC_OK or GOSYNC_MISUSE. Never blocks. */
int gosync_rwmutex_runlock(gosync_rwmutex *rw);

/* Lock. GOSYNC_OK, GOSYNC_TIMEDOUT or GOSYNC_INTERRUPTED (nothing changed). */
int gosync_rwmutex_lock(gosync_rwmutex *rw, int64_t deadline_ns);
bool gosync_rwmutex_try_lock(gosync_rwmutex *rw);
/* Unlock: GOSYNC_OK or GOSYNC_MISUSE. Never blocks. */
int gosync_rwmutex_unlock(gosync_rwmutex *rw);

/* Views of the state word, for tests. */
uint32_t gosync_rwmutex_readers(const gosync_rwmutex *rw);
uint32_t gosync_rwmutex_reader_wait(const gosync_rwmutex *rw);
bool gosync_rwmutex_writer(const gosync_rwmutex *rw);

#endif /* GOSYNC_RWMUTEX_H */
