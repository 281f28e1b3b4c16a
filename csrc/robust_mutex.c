/* Robust mutex, see robust_mutex.h for the word, its transitions and POLL.
 *
 * Every step is one CAS from the exact word read, and the word names the
 * owner process, so a process can die between any two steps and leave a
 * word the others can act on:
 *
 *   - dead owner: its pid/start stay in the word; a waiter's liveness check
 *     (first pass, every capped sleep, last look) takes it over;
 *   - dead waiter: WAITERS (and maybe STARVING) stay set: one wake for
 *     nobody, and a starving unlock that finds nobody to hand to clears
 *     the handoff itself;
 *   - dead unlocker between its HANDOFF CAS and its wake, or a woken
 *     receiver that died before claiming: HANDOFF stays; every waiter's
 *     sleep ends by POLL, after which it counts as having slept and claims.
 */
#include "robust_mutex.h"

#include <limits.h>

#include "atomic.h"
#include "identity.h"
#include "park.h"
#include "testhook.h"

#define WAITERS GOSYNC_ROBUST_WAITERS
#define STARVING GOSYNC_ROBUST_STARVING
#define HANDOFF GOSYNC_ROBUST_HANDOFF
#define INCONSISTENT GOSYNC_ROBUST_INCONSISTENT
#define NOTRECOVERABLE GOSYNC_ROBUST_NOTRECOVERABLE
#define OWNER_PID GOSYNC_ROBUST_OWNER_MASK
/* pid and start: the owner's identity as identity.h writes it. */
#define OWNER_ID (OWNER_PID | (UINT64_C(0xffffffff) << GOSYNC_ROBUST_START_SHIFT))

/* Go's starvationThresholdNs: a waiter that waited longer asks for
 * handoff. */
#define STARVATION_NS INT64_C(1000000)

/* Go's active_spin and active_spin_cnt (mutex.c). */
#define SPIN_ROUNDS 4
#define SPIN_PAUSES 30

static uint64_t owner_of(uint64_t w)
{
    return w & OWNER_ID;
}

static bool has_owner(uint64_t w)
{
    return (w & OWNER_PID) != 0;
}

static _Atomic uint32_t *futex_of(gosync_robust_mutex *m)
{
    return gosync_half_word(&m->word, GOSYNC_LOW_HALF);
}

static void wake(gosync_robust_mutex *m, int n)
{
    gosync_park_wake(futex_of(m), n, GOSYNC_PARK_ANY, GOSYNC_PARK_SHARED);
}

/* A failed CAS reads the word with acquire (the caller goes on to judge its
 * owner), so a success is at least acquire too (a release becomes acq_rel):
 * C11 forbids a failure order stronger than the success order. */
static bool cas(gosync_robust_mutex *m, uint64_t *w, uint64_t new_, memory_order success)
{
    if (success == GOSYNC_RELEASE)
        success = GOSYNC_ACQ_REL;
    return gosync_cas(&m->word, w, new_, success, GOSYNC_ACQUIRE);
}

/* Takes the lock from a word whose owner is dead, if the word is still
 * *w. The CAS compares the whole word, owner start included, so it cannot
 * take a lock that a live process got meanwhile. */
static bool take_over(gosync_robust_mutex *m, uint64_t *w, uint64_t me, bool slept)
{
    uint64_t new_ = me | INCONSISTENT | (*w & (WAITERS | STARVING)) | (slept ? WAITERS : 0);
    GOSYNC_PREEMPT("robust_mutex.take_over");
    return cas(m, w, new_, GOSYNC_ACQUIRE);
}

/* A HANDOFF word seen by a thread that may not wait for it: TryLock, or a
 * Lock whose deadline has passed before it slept. The handoff belongs to a
 * thread that has slept. If a wake finds one asleep, it will claim it:
 * BUSY. If none sleeps, its receiver died (or gave up) after being woken
 * and nobody waits behind it: without this, only a Lock that sleeps would
 * ever claim it, and a caller that only uses TryLock would see BUSY for
 * ever. So take it, in normal mode, as the starving Unlock does when it
 * finds nobody to wake. (A woken receiver that is alive but has not run
 * yet then finds the lock taken and queues again: one barging, no harm to
 * exclusion.) */
static int claim_orphan_handoff(gosync_robust_mutex *m, uint64_t w, uint64_t me)
{
    if (gosync_park_wake(futex_of(m), 1, GOSYNC_PARK_ANY, GOSYNC_PARK_SHARED) > 0)
        return GOSYNC_BUSY;
    if (cas(m, &w, me | (w & (INCONSISTENT | WAITERS)), GOSYNC_ACQUIRE))
        return (w & INCONSISTENT) ? GOSYNC_OWNERDEAD : GOSYNC_OK;
    return GOSYNC_BUSY;
}

int gosync_robust_mutex_lock(gosync_robust_mutex *m, int64_t deadline_ns)
{
    uint64_t me = gosync_identity_self();
    uint64_t w = 0;
    if (cas(m, &w, me, GOSYNC_ACQUIRE))
        return GOSYNC_OK;

    /* Spin a little first, as Go's Lock does: a short critical section
     * ends in a few hundred cycles, and the first pass below reads the
     * owner's /proc entry (about 10 us) to see whether it died. */
    for (int i = 0; i < SPIN_ROUNDS && gosync_ncpu() > 1 && has_owner(w) && !(w & STARVING); i++) {
        for (int k = 0; k < SPIN_PAUSES; k++)
            gosync_cpu_relax();
        w = gosync_load(&m->word, GOSYNC_RELAXED);
    }

    bool slept = false; /* may claim a HANDOFF, and keeps WAITERS set */
    bool check = true;  /* look at the owner's liveness on this pass */
    int64_t wait_start = 0;
    for (;;) {
        bool looked = false; /* at the owner's liveness, on this pass */
        if (w & NOTRECOVERABLE)
            return GOSYNC_NOTRECOVERABLE;
        if (!has_owner(w)) {
            if (!(w & HANDOFF) || slept) {
                uint64_t new_ = me | (w & INCONSISTENT);
                if (slept || (w & WAITERS))
                    new_ |= WAITERS;
                /* A handoff receiver keeps starvation mode only if it waited
                 * long itself (Go's rule); otherwise back to normal mode. */
                if ((w & (HANDOFF | STARVING)) == (HANDOFF | STARVING) &&
                    gosync_now_ns() - wait_start >= STARVATION_NS)
                    new_ |= STARVING;
                if (cas(m, &w, new_, GOSYNC_ACQUIRE))
                    return (w & INCONSISTENT) ? GOSYNC_OWNERDEAD : GOSYNC_OK;
                continue;
            }
        } else if (check) {
            check = false;
            looked = true;
            if (!gosync_identity_alive(owner_of(w))) {
                if (take_over(m, &w, me, slept))
                    return GOSYNC_OWNERDEAD;
                check = true; /* the word changed: look again */
                continue;
            }
        }

        /* Queue: make sure an unlock will wake us, then sleep. */
        int64_t now = gosync_now_ns();
        if (deadline_ns != GOSYNC_NO_DEADLINE && now >= deadline_ns) {
            if (!looked && has_owner(w)) {
                check = true; /* a last look at the owner first */
                continue;
            }
            if ((w & HANDOFF) && !has_owner(w)) {
                int rc = claim_orphan_handoff(m, w, me);
                if (rc != GOSYNC_BUSY)
                    return rc;
            }
            return GOSYNC_TIMEDOUT;
        }
        if (wait_start == 0)
            wait_start = now;
        uint64_t want = w | WAITERS;
        if (slept && has_owner(w) && now - wait_start >= STARVATION_NS)
            want |= STARVING;
        if (want != w) {
            if (!cas(m, &w, want, GOSYNC_ACQUIRE))
                continue;
            w = want;
        }
        int64_t cap = now + GOSYNC_ROBUST_POLL_NS;
        bool capped = deadline_ns == GOSYNC_NO_DEADLINE || cap < deadline_ns;
        GOSYNC_PREEMPT("robust_mutex.lock.park");
        gosync_park_result r = gosync_park_wait(futex_of(m), (uint32_t)w, 1,
                                                capped ? cap : deadline_ns, GOSYNC_PARK_SHARED);
        switch (r) {
        case GOSYNC_PARK_WOKEN:
        case GOSYNC_PARK_AGAIN:
            break;
        case GOSYNC_PARK_TIMEDOUT:
            /* By the cap: the owner may be dead, or a handoff may wait for
             * a receiver that died. By the deadline: the last look. */
            check = true;
            break;
        default:
            return gosync_park_status(r); /* WAITERS may stay: one extra wake */
        }
        slept = true;
        w = gosync_load(&m->word, GOSYNC_ACQUIRE);
    }
}

int gosync_robust_mutex_try_lock(gosync_robust_mutex *m)
{
    uint64_t me = gosync_identity_self();
    uint64_t w = 0;
    if (cas(m, &w, me, GOSYNC_ACQUIRE))
        return GOSYNC_OK;
    for (;;) {
        if (w & NOTRECOVERABLE)
            return GOSYNC_NOTRECOVERABLE;
        if (!has_owner(w)) {
            if (w & HANDOFF)
                return claim_orphan_handoff(m, w, me);
            if (cas(m, &w, me | (w & (INCONSISTENT | WAITERS)), GOSYNC_ACQUIRE))
                return (w & INCONSISTENT) ? GOSYNC_OWNERDEAD : GOSYNC_OK;
            continue;
        }
        if (gosync_identity_alive(owner_of(w)))
            return GOSYNC_BUSY;
        if (take_over(m, &w, me, false))
            return GOSYNC_OWNERDEAD;
    }
}

int gosync_robust_mutex_take_over_dead(gosync_robust_mutex *m)
{
    uint64_t me = gosync_identity_self();
    uint64_t w = gosync_load(&m->word, GOSYNC_ACQUIRE);
    while (has_owner(w) && !(w & NOTRECOVERABLE) && !gosync_identity_alive(owner_of(w)))
        if (take_over(m, &w, me, false))
            return GOSYNC_OWNERDEAD;
    return GOSYNC_BUSY;
}

int gosync_robust_mutex_unlock(gosync_robust_mutex *m)
{
    uint64_t w = gosync_load(&m->word, GOSYNC_RELAXED);
    for (;;) {
        if (!has_owner(w))
            return GOSYNC_MISUSE;
        if (w & INCONSISTENT) {
            /* OWNERDEAD and no mark_consistent: the data may be broken, and
             * nobody may have it again. */
            if (cas(m, &w, NOTRECOVERABLE, GOSYNC_RELEASE)) {
                wake(m, INT_MAX);
                return GOSYNC_OK;
            }
            continue;
        }
        if (w & STARVING) {
            if (!cas(m, &w, HANDOFF | STARVING | WAITERS, GOSYNC_RELEASE))
                continue;
            GOSYNC_PREEMPT("robust_mutex.unlock.handoff");
            for (;;) {
                if (gosync_park_wake(futex_of(m), 1, GOSYNC_PARK_ANY, GOSYNC_PARK_SHARED) > 0)
                    return GOSYNC_OK;
                /* Nobody asleep (the waiters died or gave up, or are between
                 * their look and their sleep): back to normal mode, unless a
                 * thread that slept has claimed the handoff meanwhile. */
                uint64_t h = gosync_load(&m->word, GOSYNC_RELAXED);
                if (!(h & HANDOFF))
                    return GOSYNC_OK;
                if (cas(m, &h, 0, GOSYNC_RELEASE)) {
                    /* One that fell asleep after our wake, expecting the
                     * handoff word, must see the free lock now. */
                    wake(m, 1);
                    return GOSYNC_OK;
                }
            }
        }
        if (cas(m, &w, 0, GOSYNC_RELEASE)) {
            if (w & WAITERS) {
                GOSYNC_PREEMPT("robust_mutex.unlock.wake");
                wake(m, 1);
            }
            return GOSYNC_OK;
        }
    }
}

int gosync_robust_mutex_mark_consistent(gosync_robust_mutex *m)
{
    uint64_t w = gosync_load(&m->word, GOSYNC_RELAXED);
    for (;;) {
        if (!has_owner(w) || !(w & INCONSISTENT))
            return GOSYNC_MISUSE;
        if (cas(m, &w, w & ~INCONSISTENT, GOSYNC_ACQUIRE))
            return GOSYNC_OK;
    }
}

int gosync_robust_mutex_abandon(gosync_robust_mutex *m)
{
    uint64_t w = gosync_load(&m->word, GOSYNC_RELAXED);
    for (;;) {
        if (!has_owner(w))
            return GOSYNC_MISUSE;
        if (cas(m, &w, INCONSISTENT | (w & WAITERS), GOSYNC_RELEASE)) {
            if (w & WAITERS)
                wake(m, 1);
            return GOSYNC_OK;
        }
    }
}

uint64_t gosync_robust_mutex_word(const gosync_robust_mutex *m)
{
    return gosync_load((_Atomic uint64_t *)&m->word, GOSYNC_RELAXED);
}

bool gosync_robust_mutex_locked(const gosync_robust_mutex *m)
{
    return has_owner(gosync_robust_mutex_word(m));
}
