/* RWMutex, see rwmutex.h for the state word and its transitions. */
#include "rwmutex.h"

#include "park.h"
#include "testhook.h"

#define WAIT_ONE UINT64_C(1)
#define WAIT_MASK UINT64_C(0xffff)
#define WRITER (UINT64_C(1) << 16)
#define WWAIT (UINT64_C(1) << 17)
#define READERS_SHIFT 18
#define READER_ONE (UINT64_C(1) << READERS_SHIFT)
#define READERS_MASK (UINT64_C(0xffff) << READERS_SHIFT)
#define EPOCH_SHIFT 34
#define EPOCH_ONE (UINT64_C(1) << EPOCH_SHIFT)

/* Blocked readers sleep on the high half of the state word, which holds the
 * epoch; writers on the low half, which holds readerWait, WRITER and WWAIT
 * (rwmutex.h, "Sleeping"). */
#define CLASS_READER 1u
#define CLASS_WRITER 2u

#define READERS(s) ((uint32_t)(((s) & READERS_MASK) >> READERS_SHIFT))
#define READER_WAIT(s) ((uint32_t)((s) & WAIT_MASK))
#define EPOCH(s) ((s) >> EPOCH_SHIFT)
/* Readers that wait for the writer, as opposed to holding the lock. */
#define BLOCKED(s) (READERS(s) - READER_WAIT(s))

/* The futex word that holds the epoch, and the one that holds readerWait. */
static inline _Atomic uint32_t *epoch_word(gosync_rwmutex *rw)
{
    return gosync_half_word(&rw->state, GOSYNC_HIGH_HALF);
}

static inline _Atomic uint32_t *writer_word(gosync_rwmutex *rw)
{
    return gosync_half_word(&rw->state, GOSYNC_LOW_HALF);
}

static inline uint32_t high_half(uint64_t s)
{
    return (uint32_t)(s >> 32);
}

static inline uint32_t low_half(uint64_t s)
{
    return (uint32_t)s;
}

int gosync_rwmutex_rlock(gosync_rwmutex *rw, int64_t deadline_ns)
{
    uint64_t old = gosync_load(&rw->state, GOSYNC_RELAXED);
    do {
        if (READERS(old) == GOSYNC_RWMUTEX_MAX_READERS)
            return GOSYNC_OVERFLOW;
    } while (!gosync_cas(&rw->state, &old, old + READER_ONE, GOSYNC_ACQUIRE, GOSYNC_RELAXED));
    if (!(old & WRITER))
        return GOSYNC_OK;

    /* A writer is pending: wait until it unlocks (or gives up), which
     * advances the epoch and grants us the lock. */
    uint64_t epoch = EPOCH(old);
    for (;;) {
        uint64_t st = gosync_load(&rw->state, GOSYNC_ACQUIRE);
        if (EPOCH(st) != epoch)
            return GOSYNC_OK;
        gosync_park_result r = gosync_park_wait(epoch_word(rw), high_half(st), CLASS_READER,
                                                deadline_ns, rw->park_flags);
        GOSYNC_PREEMPT("rwmutex.rlock.parked");
        if (!gosync_park_gave_up(r))
            continue;
        /* Give up, unless the writer has gone meanwhile: then we hold it. */
        st = gosync_load(&rw->state, GOSYNC_ACQUIRE);
        do {
            if (EPOCH(st) != epoch)
                return GOSYNC_OK;
        } while (!gosync_cas(&rw->state, &st, st - READER_ONE, GOSYNC_ACQUIRE, GOSYNC_ACQUIRE));
        return gosync_park_status(r);
    }
}

bool gosync_rwmutex_try_rlock(gosync_rwmutex *rw)
{
    uint64_t old = gosync_load(&rw->state, GOSYNC_RELAXED);
    do {
        if ((old & WRITER) || READERS(old) == GOSYNC_RWMUTEX_MAX_READERS)
            return false;
    } while (!gosync_cas(&rw->state, &old, old + READER_ONE, GOSYNC_ACQUIRE, GOSYNC_RELAXED));
    return true;
}

int gosync_rwmutex_runlock(gosync_rwmutex *rw)
{
    _Atomic uint32_t *word = writer_word(rw);
    unsigned park_flags = rw->park_flags;
    uint64_t old = gosync_load(&rw->state, GOSYNC_RELAXED);
    uint64_t new;
    for (;;) {
        if (READERS(old) == 0)
            return GOSYNC_MISUSE;
        new = old - READER_ONE;
        if (old & WRITER) {
            /* A writer is pending, so every reader that holds the lock is
             * one it waits for. None left to wait for means this RUnlock
             * has no matching RLock. */
            if (READER_WAIT(old) == 0)
                return GOSYNC_MISUSE;
            new -= WAIT_ONE;
        }
        if (gosync_cas(&rw->state, &old, new, GOSYNC_RELEASE, GOSYNC_RELAXED))
            break;
    }
    /* Taking readerWait to 0 changed the writer's futex word, so a writer
     * that has not slept yet will not; one that has is woken here. The CAS
     * was the last write: after it the writer may run, unlock, and free the
     * lock, so only the address is used from here on. */
    if ((old & WRITER) && READER_WAIT(new) == 0)
        gosync_park_wake(word, 1, CLASS_WRITER, park_flags);
    return GOSYNC_OK;
}

/* Clears WRITER (with WWAIT and readerWait), granting the lock to the
 * readers that are blocked: the epoch advances only if there are any. Wakes
 * them, and a writer that waits for WRITER to clear. The last write to *rw. */
static void release(gosync_rwmutex *rw, uint64_t old)
{
    _Atomic uint32_t *readers_word = epoch_word(rw);
    _Atomic uint32_t *wword = writer_word(rw);
    unsigned park_flags = rw->park_flags;
    uint64_t new;
    do {
        new = old & ~(WRITER | WWAIT | WAIT_MASK);
        if (BLOCKED(old) > 0)
            new += EPOCH_ONE;
    } while (!gosync_cas(&rw->state, &old, new, GOSYNC_RELEASE, GOSYNC_RELAXED));
    if (BLOCKED(old) > 0)
        gosync_park_wake(readers_word, INT32_MAX, CLASS_READER, park_flags);
    if (old & WWAIT)
        gosync_park_wake(wword, 1, CLASS_WRITER, park_flags);
}

/* Announces a writer that holds w, and returns GOSYNC_OK and in *readers
 * the readers it must wait for; or, if its deadline passes (or a signal or
 * fault ends the wait) while the previous writer has not cleared WRITER,
 * unlocks w and returns why, with nothing changed. */
static int announce(gosync_rwmutex *rw, int64_t deadline_ns, uint32_t *readers)
{
    uint64_t old = gosync_load(&rw->state, GOSYNC_RELAXED);
    for (;;) {
        if (old & WRITER) {
            /* The previous writer released w and is about to clear WRITER:
             * ask it to wake us, and sleep until it has. */
            if (!(old & WWAIT) &&
                !gosync_cas(&rw->state, &old, old | WWAIT, GOSYNC_RELAXED, GOSYNC_RELAXED))
                continue;
            old |= WWAIT;
            gosync_park_result r = gosync_park_wait(writer_word(rw), low_half(old), CLASS_WRITER,
                                                    deadline_ns, rw->park_flags);
            old = gosync_load(&rw->state, GOSYNC_RELAXED);
            if (gosync_park_gave_up(r) && (old & WRITER)) {
                gosync_mutex_unlock(&rw->w);
                return gosync_park_status(r);
            }
            continue;
        }
        *readers = READERS(old);
        if (gosync_cas(&rw->state, &old, old | WRITER | (*readers * WAIT_ONE), GOSYNC_ACQUIRE,
                       GOSYNC_RELAXED))
            return GOSYNC_OK;
    }
}

int gosync_rwmutex_lock(gosync_rwmutex *rw, int64_t deadline_ns)
{
    int rc = gosync_mutex_lock(&rw->w, deadline_ns);
    if (rc != GOSYNC_OK)
        return rc;
    uint32_t readers;
    rc = announce(rw, deadline_ns, &readers);
    if (rc != GOSYNC_OK || readers == 0)
        return rc;
    for (;;) {
        /* Sleep only while the low half still reads as it did when
         * readerWait was seen non-zero: the last reader's CAS changes it
         * (readerWait lives wholly in it, and only falls until we act). */
        uint64_t st = gosync_load(&rw->state, GOSYNC_ACQUIRE);
        if (READER_WAIT(st) == 0)
            return GOSYNC_OK;
        gosync_park_result r = gosync_park_wait(writer_word(rw), low_half(st), CLASS_WRITER,
                                                deadline_ns, rw->park_flags);
        if (!gosync_park_gave_up(r))
            continue;
        /* Give up, unless the readers have all left meanwhile. */
        st = gosync_load(&rw->state, GOSYNC_ACQUIRE);
        if (READER_WAIT(st) == 0)
            return GOSYNC_OK;
        /* WRITER stays set until the release clears it, so no other writer
         * can announce in between (one that takes w sleeps in announce);
         * readers that leave meanwhile only lower readerWait, which the
         * release discards. */
        gosync_mutex_unlock(&rw->w);
        release(rw, st);
        return gosync_park_status(r);
    }
}

bool gosync_rwmutex_try_lock(gosync_rwmutex *rw)
{
    if (!gosync_mutex_try_lock(&rw->w))
        return false;
    uint64_t old = gosync_load(&rw->state, GOSYNC_RELAXED);
    do {
        if (READERS(old) != 0 || (old & WRITER)) {
            gosync_mutex_unlock(&rw->w);
            return false;
        }
    } while (!gosync_cas(&rw->state, &old, old | WRITER, GOSYNC_ACQUIRE, GOSYNC_RELAXED));
    return true;
}

int gosync_rwmutex_unlock(gosync_rwmutex *rw)
{
    uint64_t old = gosync_load(&rw->state, GOSYNC_RELAXED);
    if (!(old & WRITER) || READER_WAIT(old) != 0)
        return GOSYNC_MISUSE;
    if (gosync_mutex_unlock(&rw->w) != GOSYNC_OK)
        return GOSYNC_MISUSE; /* a racing second Unlock got there first */
    GOSYNC_PREEMPT("rwmutex.unlock.released_w");
    release(rw, gosync_load(&rw->state, GOSYNC_RELAXED));
    return GOSYNC_OK;
}

uint32_t gosync_rwmutex_readers(const gosync_rwmutex *rw)
{
    return READERS(gosync_load((_Atomic uint64_t *)&rw->state, GOSYNC_SEQ_CST));
}

uint32_t gosync_rwmutex_reader_wait(const gosync_rwmutex *rw)
{
    return READER_WAIT(gosync_load((_Atomic uint64_t *)&rw->state, GOSYNC_SEQ_CST));
}

bool gosync_rwmutex_writer(const gosync_rwmutex *rw)
{
    return (gosync_load((_Atomic uint64_t *)&rw->state, GOSYNC_SEQ_CST) & WRITER) != 0;
}
