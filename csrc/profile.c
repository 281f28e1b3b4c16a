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
    if (gosync_add(&c->waiters, 1, GOSYNC_ACQ_REL) == 0)
        gosync_store(&c->head_ns, now_ns, GOSYNC_RELAXED);
    gosync_store(&c->tail_ns, now_ns, GOSYNC_RELAXED);
}

void gosync_contention_leave(gosync_contention *c)
{
    uint32_t n = gosync_load(&c->waiters, GOSYNC_RELAXED);
    /* Never below zero: a record that a corrupt or foreign segment left
     * at zero stays there. */
    /* acq_rel: a charge this thread made happens before the last leave's
     * reset of the head, so the reset is what stays. */
    while (n != 0 && !gosync_cas(&c->waiters, &n, n - 1, GOSYNC_ACQ_REL, GOSYNC_RELAXED)) {
    }
    if (n == 1)
        gosync_store(&c->head_ns, 0, GOSYNC_RELAXED);
}

int64_t gosync_contention_charge(gosync_contention *c, int64_t now_ns)
{
    uint32_t n = gosync_load(&c->waiters, GOSYNC_RELAXED);
    if (n == 0)
        return 0;
    int64_t head = gosync_swap(&c->head_ns, now_ns, GOSYNC_RELAXED);
    int64_t tail = gosync_swap(&c->tail_ns, now_ns, GOSYNC_RELAXED);
    if (head == 0)
        return 0;
    if (tail == 0 || tail < head)
        tail = head;
    int64_t dt0 = now_ns - head, dtail = now_ns - tail;
    if (dt0 < 0)
        return 0; /* a start time from a clock read after ours */
    if (dtail < 0)
        dtail = 0;
    /* Go 1.22's scaling (docs/DESIGN.md, "What is charged where"): the
     * woken waiter's wait, and the mean of the head's and the tail's for
     * the n - 1 others still waiting. */
    return dt0 + (dt0 + dtail) / 2 * (int64_t)(n - 1);
}
