/* Contention profiling's integers: see profile.h. */
#include "profile.h"

#include "park.h" /* gosync_now_ns */

_Atomic uint32_t gosync_profile_flags;
_Thread_local int64_t gosync_profile_parked_since;

void gosync_profile_parking(void)
{
    if (gosync_profile_on() != 0 && gosync_profile_parked_since == 0)
        gosync_profile_parked_since = gosync_now_ns();
}

void gosync_contention_enter(gosync_contention *c, int64_t now_ns)
{
    if (gosync_add(&c->waiters, 1, GOSYNC_ACQ_REL) == 0) {
        gosync_store(&c->sum_ns, 0, GOSYNC_RELAXED);
        gosync_store(&c->since_ns, now_ns, GOSYNC_RELAXED);
        return;
    }
    int64_t since = gosync_load(&c->since_ns, GOSYNC_RELAXED);
    if (since != 0)
        (void)gosync_add(&c->sum_ns, now_ns - since, GOSYNC_RELAXED);
}

void gosync_contention_leave(gosync_contention *c, int64_t entered_ns)
{
    uint32_t n = gosync_load(&c->waiters, GOSYNC_RELAXED);
    /* Never below zero: a record that a corrupt or foreign segment left
     * at zero stays there. */
    /* acq_rel: a charge this thread made happens before the last leave's
     * reset, so the reset is what stays. */
    while (n != 0 && !gosync_cas(&c->waiters, &n, n - 1, GOSYNC_ACQ_REL, GOSYNC_RELAXED)) {
    }
    if (n == 1) {
        gosync_store(&c->since_ns, 0, GOSYNC_RELAXED);
        gosync_store(&c->sum_ns, 0, GOSYNC_RELAXED);
    } else if (n > 1) {
        int64_t since = gosync_load(&c->since_ns, GOSYNC_RELAXED);
        if (since != 0 && entered_ns > since)
            (void)gosync_add(&c->sum_ns, -(entered_ns - since), GOSYNC_RELAXED);
    }
}

void gosync_contention_clear(gosync_contention *c)
{
    gosync_store(&c->since_ns, 0, GOSYNC_RELAXED);
    gosync_store(&c->sum_ns, 0, GOSYNC_RELAXED);
    gosync_store(&c->waiters, 0, GOSYNC_RELEASE);
}

int64_t gosync_contention_charge(gosync_contention *c, int64_t now_ns)
{
    uint32_t n = gosync_load(&c->waiters, GOSYNC_RELAXED);
    if (n == 0)
        return 0;
    int64_t since = gosync_swap(&c->since_ns, now_ns, GOSYNC_RELAXED);
    int64_t sum = gosync_swap(&c->sum_ns, 0, GOSYNC_RELAXED);
    if (since == 0 || now_ns <= since)
        return 0; /* no start recorded, or one from a clock read after ours */
    if (now_ns - since > INT64_MAX / (int64_t)n)
        return 0; /* only a corrupt record: n is at most the lock's waiters */
    /* The waits not charged yet: n of them since `since`, less how much
     * later than `since` each began. Only a race across processes makes
     * it negative, or beyond n * (now - since). */
    int64_t total = (int64_t)n * (now_ns - since) - sum;
    if (total < 0)
        return 0;
    if (total > (int64_t)n * (now_ns - since))
        return (int64_t)n * (now_ns - since);
    return total;
}
