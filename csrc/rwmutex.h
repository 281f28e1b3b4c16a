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
 *   0..15   readerWait  readers that held the lock when the writer arrived
 *                       and have not left yet; 0 unless WRITER
 *   16      WRITER      a writer holds the lock or waits for readers to leave
 *   17      WWAIT       a writer that holds w sleeps until the previous
 *                       writer, which has released w, clears WRITER
 *   18..33  readers     readers that hold the lock or wait for the writer
 *                       (Go's readerCount + maxReaders while WRITER is set)
 *   34..63  epoch       advances when WRITER is cleared while readers are
 *                       blocked: the lock is then granted to them
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
 *   Lock       w.Lock(); while WRITER is still set (the previous writer has
 *              released w and is about to clear it): set WWAIT and sleep,
 *              until the deadline (then w.Unlock(); WWAIT stays set until
 *              that writer's release clears it, one wake for nobody).
 *              Then WRITER, readerWait = readers (all of them hold the lock,
 *              since WRITER was clear); wait until readerWait == 0.
 *   Lock, give up    readerWait > 0: w.Unlock(), then as Unlock's release
 *              (the readers it blocked get the lock). readerWait == 0: it
 *              holds the lock after all.
 *   TryLock    w.TryLock(); then WRITER if readers == 0 and !WRITER
 *   Unlock     WRITER with readerWait == 0, else misuse (nothing changes);
 *              w.Unlock(); then the release: clear WRITER, WWAIT and
 *              readerWait, and epoch+1 if readers > readerWait (some are
 *              blocked); then wake the blocked readers, and the writer that
 *              set WWAIT.
 *
 * Unlock releases w before it clears WRITER (Go does it after): once WRITER
 * is clear, a granted reader may unlock and free the RWMutex, so it must be
 * the last write. A writer that takes w in between sleeps (WWAIT) until the
 * release, which wakes it after its last write, by address.
 *
 * Sleeping. Blocked readers sleep on the high half of the word (the epoch,
 * and readers' top 2 bits), writers on the low half (all of readerWait,
 * WRITER and WWAIT, and readers' low 14 bits); at most one writer sleeps,
 * since it holds w. A writer sleeps only while the low half is as it last
 * read it. readerWait only falls while the writer waits (only a writer that
 * holds w sets it, and the waiting writer holds w), so the last reader's
 * CAS (readerWait 1 -> 0) always changes the word the writer sleeps on: a
 * writer that has not slept yet will not, and one that has is in the queue
 * for the wake that follows the CAS. Likewise the release's CAS clears
 * WRITER in the half a WWAIT writer sleeps on. Any other reader arriving or
 * leaving also changes a half, which can only send a sleeper about to sleep
 * back to look again. Every such CAS is its thread's last write; the wakes
 * use only the address. (model/README.md tells how an earlier version lost
 * a writer's wake-up.)
 *
 * The epoch wraps after 2^30 advances. A reader that was granted the lock
 * (woken, but not yet run) looks at the epoch when it runs: had it come
 * back to the reader's value, the reader would sleep again while counted as
 * a holder, and no writer would get in. The epoch advances only when a
 * writer leaves with blocked readers, so each advance needs a reader to
 * block behind a writer and that writer to unlock or give up: 2^30 such
 * rounds, each with at least one futex wake, while one runnable thread is
 * not scheduled. (Before, every writer that gave up advanced the epoch, and
 * 2^19 calls of Lock with a passed deadline wrapped it in 33 ms with no
 * reader's help; the C harness replays that.)
 *
 * Limits: 65535 readers at a time; past that RLock fails with
 * GOSYNC_OVERFLOW and changes nothing.
 *
 * A zero-initialised gosync_rwmutex is unlocked and process-private.
 */
#ifndef GOSYNC_RWMUTEX_H
#define GOSYNC_RWMUTEX_H

#include <stdbool.h>
#include <stdint.h>

#include "mutex.h"
#include "status.h"

typedef struct {
    gosync_mutex w;               /* held while a writer is pending or holds */
    _Atomic uint64_t state;       /* see the table above */
    uint32_t park_flags;          /* GOSYNC_PARK_SHARED or 0 */
} gosync_rwmutex;

#define GOSYNC_RWMUTEX_MAX_READERS ((1u << 16) - 1)

/* RLock. GOSYNC_OK; GOSYNC_TIMEDOUT, GOSYNC_INTERRUPTED or GOSYNC_FAULT
 * (nothing changed); or GOSYNC_OVERFLOW (too many readers; nothing
 * changed). */
int gosync_rwmutex_rlock(gosync_rwmutex *rw, int64_t deadline_ns);
bool gosync_rwmutex_try_rlock(gosync_rwmutex *rw);
/* RUnlock: GOSYNC_OK or GOSYNC_MISUSE. Never blocks. */
int gosync_rwmutex_runlock(gosync_rwmutex *rw);

/* Lock. GOSYNC_OK; GOSYNC_TIMEDOUT, GOSYNC_INTERRUPTED, GOSYNC_FAULT or
 * GOSYNC_OVERFLOW (from w; nothing changed). */
int gosync_rwmutex_lock(gosync_rwmutex *rw, int64_t deadline_ns);
bool gosync_rwmutex_try_lock(gosync_rwmutex *rw);
/* Unlock: GOSYNC_OK or GOSYNC_MISUSE. Never blocks. */
int gosync_rwmutex_unlock(gosync_rwmutex *rw);

/* Views of the state word, for tests. */
uint32_t gosync_rwmutex_readers(const gosync_rwmutex *rw);
uint32_t gosync_rwmutex_reader_wait(const gosync_rwmutex *rw);
bool gosync_rwmutex_writer(const gosync_rwmutex *rw);

#endif /* GOSYNC_RWMUTEX_H */
