/* Robust RWMutex, see robust_rwmutex.h for the parts and the protocol.
 *
 * A process can die at any step and leave only states the others leave:
 *   - a reader dead with holds in its slot (or between its hold and its
 *     undo): the draining writer frees the slot by one CAS once it sees the
 *     identity dead (first pass, and after each capped sleep);
 *   - a writer dead holding w with writer == 1: blocked readers, after a
 *     capped sleep, take w over (take_over_dead) and drain as a writer
 *     would; a writer blocked on w takes it over too; whichever CAS wins;
 *   - a writer dead between w and writer = 1, or between writer = 0 and its
 *     unlock of w: readers are not blocked; the next writer takes w over;
 *   - a dead waiter of any kind: at most one wake for nobody.
 */
#include "robust_rwmutex.h"

#include <limits.h>

#include "atomic.h"
#include "identity.h"
#include "park.h"
#include "testhook.h"

#define HOLD_ONE (UINT64_C(1) << GOSYNC_READER_HOLDS_SHIFT)
#define HOLDS_MASK GOSYNC_READER_HOLDS_MASK
#define ID_OF(slot) ((slot) & ~HOLDS_MASK)
#define HOLDS_OF(slot) ((uint32_t)(((slot) & HOLDS_MASK) >> GOSYNC_READER_HOLDS_SHIFT))

/* Where a process starts looking for its slot: spreads processes so that
 * each usually finds its own at the first look. */
static unsigned home_slot(uint64_t me)
{
    return (unsigned)((GOSYNC_IDENTITY_PID(me) * UINT32_C(2654435761)) >> 26) % GOSYNC_READER_SLOTS;
}

static void wake_all(_Atomic uint32_t *word)
{
    gosync_park_wake(word, INT_MAX, GOSYNC_PARK_ANY, GOSYNC_PARK_SHARED);
}

static int64_t sleep_until(int64_t deadline_ns, bool *capped)
{
    int64_t cap = gosync_now_ns() + GOSYNC_ROBUST_POLL_NS;
    *capped = deadline_ns == GOSYNC_NO_DEADLINE || cap < deadline_ns;
    return *capped ? cap : deadline_ns;
}

static bool passed(int64_t deadline_ns)
{
    return deadline_ns != GOSYNC_NO_DEADLINE && gosync_now_ns() >= deadline_ns;
}

/* Adds one read hold for me: to a slot of mine, else to a free slot (0 ->
 * me | 1 hold), else after freeing the slots of dead processes. seq_cst,
 * for the Dekker pair with the writer's store of writer = 1. */
static int hold(gosync_robust_rwmutex *rw, uint64_t me)
{
    unsigned home = home_slot(me);
    for (int round = 0; round < 2; round++) {
        for (unsigned k = 0; k < GOSYNC_READER_SLOTS; k++) {
            _Atomic uint64_t *s = &rw->slot[(home + k) % GOSYNC_READER_SLOTS];
            uint64_t v = gosync_load(s, GOSYNC_RELAXED);
            while (v != 0 && ID_OF(v) == me) {
                if (HOLDS_OF(v) == GOSYNC_READER_MAX_HOLDS)
                    return GOSYNC_OVERFLOW;
                if (gosync_cas(s, &v, v + HOLD_ONE, GOSYNC_SEQ_CST, GOSYNC_RELAXED))
                    return GOSYNC_OK;
            }
        }
        for (unsigned k = 0; k < GOSYNC_READER_SLOTS; k++) {
            _Atomic uint64_t *s = &rw->slot[(home + k) % GOSYNC_READER_SLOTS];
            uint64_t v = 0;
            if (gosync_load(s, GOSYNC_RELAXED) == 0 &&
                gosync_cas(s, &v, me | HOLD_ONE, GOSYNC_SEQ_CST, GOSYNC_RELAXED))
                return GOSYNC_OK;
        }
        /* Every slot taken: free those of dead processes, then once more. */
        bool freed = false;
        for (unsigned k = 0; k < GOSYNC_READER_SLOTS; k++) {
            uint64_t v = gosync_load(&rw->slot[k], GOSYNC_RELAXED);
            if (v != 0 && ID_OF(v) != me && !gosync_identity_alive(ID_OF(v)) &&
                gosync_cas(&rw->slot[k], &v, 0, GOSYNC_SEQ_CST, GOSYNC_RELAXED))
                freed = true;
        }
        if (!freed)
            break;
    }
    return GOSYNC_OVERFLOW;
}

/* Removes one read hold of me: GOSYNC_OK, or GOSYNC_MISUSE if me holds
 * none. The last hold frees the slot. */
static int unhold(gosync_robust_rwmutex *rw, uint64_t me)
{
    unsigned home = home_slot(me);
    for (unsigned k = 0; k < GOSYNC_READER_SLOTS; k++) {
        _Atomic uint64_t *s = &rw->slot[(home + k) % GOSYNC_READER_SLOTS];
        uint64_t v = gosync_load(s, GOSYNC_RELAXED);
        while (v != 0 && ID_OF(v) == me) {
            uint64_t new_ = HOLDS_OF(v) == 1 ? 0 : v - HOLD_ONE;
            if (gosync_cas(s, &v, new_, GOSYNC_SEQ_CST, GOSYNC_RELAXED))
                return GOSYNC_OK;
        }
    }
    return GOSYNC_MISUSE;
}

/* A reader left while a writer may be draining: tell it. */
static void reader_left(gosync_robust_rwmutex *rw)
{
    if (gosync_load(&rw->writer, GOSYNC_SEQ_CST) == 0)
        return;
    gosync_add(&rw->readers_left, 1, GOSYNC_SEQ_CST);
    wake_all(&rw->readers_left);
}

/* With writer == 1 and w held: waits until no live process holds a read
 * lock, freeing the slots of dead ones. GOSYNC_OK, or the status of the
 * wait that ended first (TIMEDOUT after a last look). */
static int drain(gosync_robust_rwmutex *rw, int64_t deadline_ns)
{
    bool check = true; /* the readers' liveness, on this pass */
    for (;;) {
        uint32_t seq = gosync_load(&rw->readers_left, GOSYNC_SEQ_CST);
        bool busy = false, looked = check;
        for (unsigned k = 0; k < GOSYNC_READER_SLOTS; k++) {
            uint64_t v = gosync_load(&rw->slot[k], GOSYNC_SEQ_CST);
            if (v == 0)
                continue;
            if (check && !gosync_identity_alive(ID_OF(v)) &&
                gosync_cas(&rw->slot[k], &v, 0, GOSYNC_SEQ_CST, GOSYNC_RELAXED))
                continue;
            busy = true;
        }
        check = false;
        if (!busy)
            return GOSYNC_OK;
        if (passed(deadline_ns)) {
            if (!looked) {
                check = true; /* a last look at the readers first */
                continue;
            }
            return GOSYNC_TIMEDOUT;
        }
        bool capped;
        int64_t until = sleep_until(deadline_ns, &capped);
        gosync_park_result r =
            gosync_park_wait(&rw->readers_left, seq, 1, until, GOSYNC_PARK_SHARED);
        if (r == GOSYNC_PARK_TIMEDOUT)
            check = true;
        else if (gosync_park_gave_up(r))
            return gosync_park_status(r);
    }
}

/* Gives up the write lock of a Lock that could not drain: readers may go
 * on, and w goes back as it came (abandoned if it came from a dead
 * owner, so the next acquirer still hears of the death). */
static void undo_writer(gosync_robust_rwmutex *rw, int w_status)
{
    gosync_store(&rw->writer, 0, GOSYNC_SEQ_CST);
    wake_all(&rw->writer);
    if (w_status == GOSYNC_OWNERDEAD)
        gosync_robust_mutex_abandon(&rw->w);
    else
        gosync_robust_mutex_unlock(&rw->w);
}

/* Holding w (status OK or OWNERDEAD): writer = 1 and drain. */
static int become_writer(gosync_robust_rwmutex *rw, int w_status, int64_t deadline_ns)
{
    gosync_store(&rw->writer, 1, GOSYNC_SEQ_CST);
    GOSYNC_PREEMPT("robust_rwmutex.lock.draining");
    int rc = drain(rw, deadline_ns);
    if (rc == GOSYNC_OK)
        return w_status;
    undo_writer(rw, w_status);
    return rc;
}

/* A reader behind writer == 1: if w's owner is dead, become the writer.
 * GOSYNC_OWNERDEAD_WRITE, a wait status from the drain, or GOSYNC_BUSY
 * (w's owner is alive, or another thread took it over first). */
static int take_dead_writer(gosync_robust_rwmutex *rw, int64_t deadline_ns)
{
    if (gosync_robust_mutex_take_over_dead(&rw->w) != GOSYNC_OWNERDEAD)
        return GOSYNC_BUSY;
    int rc = become_writer(rw, GOSYNC_OWNERDEAD, deadline_ns);
    return rc == GOSYNC_OWNERDEAD ? GOSYNC_OWNERDEAD_WRITE : rc;
}

static bool not_recoverable(gosync_robust_rwmutex *rw)
{
    return (gosync_robust_mutex_word(&rw->w) & GOSYNC_ROBUST_NOTRECOVERABLE) != 0;
}

/* One attempt at a read hold: GOSYNC_OK (held), GOSYNC_BUSY (a writer:
 * nothing held), or an error (nothing held). */
static int try_hold(gosync_robust_rwmutex *rw, uint64_t me)
{
    /* While a writer holds or drains, take no hold at all, not even one
     * undone at once: a reader whose every retry (each POLL cap, each
     * slice of the binding) lands a transient hold in the writer's scan
     * could keep the drain from ever ending (the SPIN model's finding 2,
     * model/robust_rwmutex.pml, -DSPEC_RETRY). The hold-then-look below
     * is what excludes a writer; this look only saves a useless hold. */
    if (gosync_load(&rw->writer, GOSYNC_SEQ_CST) != 0)
        return not_recoverable(rw) ? GOSYNC_NOTRECOVERABLE : GOSYNC_BUSY;
    int rc = hold(rw, me);
    if (rc != GOSYNC_OK)
        return rc;
    GOSYNC_PREEMPT("robust_rwmutex.rlock.held");
    if (gosync_load(&rw->writer, GOSYNC_SEQ_CST) == 0) {
        if (not_recoverable(rw)) {
            unhold(rw, me);
            return GOSYNC_NOTRECOVERABLE;
        }
        return GOSYNC_OK;
    }
    unhold(rw, me);
    reader_left(rw);
    return not_recoverable(rw) ? GOSYNC_NOTRECOVERABLE : GOSYNC_BUSY;
}

int gosync_robust_rwmutex_rlock(gosync_robust_rwmutex *rw, int64_t deadline_ns)
{
    uint64_t me = gosync_identity_self();
    bool check = false; /* w's owner's liveness: after a capped sleep */
    for (;;) {
        int rc = try_hold(rw, me);
        if (rc != GOSYNC_BUSY)
            return rc;
        bool last = passed(deadline_ns);
        if (check || last) {
            check = false;
            rc = take_dead_writer(rw, deadline_ns);
            if (rc != GOSYNC_BUSY)
                return rc;
        }
        if (last)
            return GOSYNC_TIMEDOUT;
        bool capped;
        int64_t until = sleep_until(deadline_ns, &capped);
        GOSYNC_PREEMPT("robust_rwmutex.rlock.park");
        gosync_park_result r = gosync_park_wait(&rw->writer, 1, 1, until, GOSYNC_PARK_SHARED);
        if (r == GOSYNC_PARK_TIMEDOUT)
            check = capped; /* by the deadline: the next pass is the last */
        else if (gosync_park_gave_up(r))
            return gosync_park_status(r);
    }
}

int gosync_robust_rwmutex_try_rlock(gosync_robust_rwmutex *rw)
{
    int rc = try_hold(rw, gosync_identity_self());
    if (rc != GOSYNC_BUSY)
        return rc;
    rc = take_dead_writer(rw, 0); /* 0: passed, so one look at the readers */
    return rc == GOSYNC_OWNERDEAD_WRITE ? rc : GOSYNC_BUSY;
}

int gosync_robust_rwmutex_runlock(gosync_robust_rwmutex *rw)
{
    int rc = unhold(rw, gosync_identity_self());
    if (rc != GOSYNC_OK)
        return rc;
    reader_left(rw);
    return GOSYNC_OK;
}

int gosync_robust_rwmutex_lock(gosync_robust_rwmutex *rw, int64_t deadline_ns)
{
    int rc = gosync_robust_mutex_lock(&rw->w, deadline_ns);
    if (rc != GOSYNC_OK && rc != GOSYNC_OWNERDEAD)
        return rc;
    return become_writer(rw, rc, deadline_ns);
}

int gosync_robust_rwmutex_lock_writers(gosync_robust_rwmutex *rw, int64_t deadline_ns)
{
    int rc = gosync_robust_mutex_lock(&rw->w, deadline_ns);
    if (rc == GOSYNC_OK || rc == GOSYNC_OWNERDEAD)
        gosync_store(&rw->writer, 1, GOSYNC_SEQ_CST);
    return rc;
}

int gosync_robust_rwmutex_drain(gosync_robust_rwmutex *rw, int64_t deadline_ns)
{
    return drain(rw, deadline_ns);
}

void gosync_robust_rwmutex_cancel_lock(gosync_robust_rwmutex *rw, int w_status)
{
    undo_writer(rw, w_status);
}

int gosync_robust_rwmutex_try_lock(gosync_robust_rwmutex *rw)
{
    int rc = gosync_robust_mutex_try_lock(&rw->w);
    if (rc != GOSYNC_OK && rc != GOSYNC_OWNERDEAD)
        return rc;
    rc = become_writer(rw, rc, 0);
    return rc == GOSYNC_OK || rc == GOSYNC_OWNERDEAD ? rc : GOSYNC_BUSY;
}

int gosync_robust_rwmutex_unlock(gosync_robust_rwmutex *rw)
{
    if (gosync_load(&rw->writer, GOSYNC_SEQ_CST) == 0 || !gosync_robust_mutex_locked(&rw->w))
        return GOSYNC_MISUSE;
    /* Unrepaired (OWNERDEAD and no mark_consistent): w becomes
     * NOTRECOVERABLE while writer is still 1, and only then are readers let
     * go, so that none of them is told the data is good. The CAS is from
     * the exact INCONSISTENT word: a mark_consistent that won takes the
     * normal path. Dying between the steps leaves writer = 1 on a
     * NOTRECOVERABLE w, which blocked readers report (try_hold). */
    uint64_t w = gosync_robust_mutex_word(&rw->w);
    while ((w & GOSYNC_ROBUST_OWNER_MASK) && (w & GOSYNC_ROBUST_INCONSISTENT)) {
        if (gosync_cas(&rw->w.word, &w, GOSYNC_ROBUST_NOTRECOVERABLE, GOSYNC_RELEASE, GOSYNC_RELAXED)) {
            gosync_park_wake(gosync_half_word(&rw->w.word, GOSYNC_LOW_HALF), INT_MAX, GOSYNC_PARK_ANY,
                             GOSYNC_PARK_SHARED);
            GOSYNC_PREEMPT("robust_rwmutex.unlock.half_done");
            gosync_store(&rw->writer, 0, GOSYNC_SEQ_CST);
            wake_all(&rw->writer);
            return GOSYNC_OK;
        }
    }
    gosync_store(&rw->writer, 0, GOSYNC_SEQ_CST);
    wake_all(&rw->writer);
    GOSYNC_PREEMPT("robust_rwmutex.unlock.half_done");
    return gosync_robust_mutex_unlock(&rw->w);
}

int gosync_robust_rwmutex_mark_consistent(gosync_robust_rwmutex *rw)
{
    return gosync_robust_mutex_mark_consistent(&rw->w);
}

uint32_t gosync_robust_rwmutex_readers(const gosync_robust_rwmutex *rw)
{
    uint32_t n = 0;
    for (unsigned k = 0; k < GOSYNC_READER_SLOTS; k++)
        n += HOLDS_OF(gosync_load((_Atomic uint64_t *)&rw->slot[k], GOSYNC_RELAXED));
    return n;
}

bool gosync_robust_rwmutex_write_locked(const gosync_robust_rwmutex *rw)
{
    return gosync_load((_Atomic uint32_t *)&rw->writer, GOSYNC_RELAXED) != 0;
}
