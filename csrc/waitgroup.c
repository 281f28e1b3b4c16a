/* WaitGroup, see waitgroup.h for the state word and its transitions. */
#include "waitgroup.h"

#include "atomic.h"
#include "park.h"
#include "testhook.h"

#define GEN_MASK UINT64_C(0xffff)
#define WAITER_ONE (UINT64_C(1) << 16)
#define WAITERS_MASK (UINT64_C(0xffff) << 16)
#define COUNTER_SHIFT 32

#define GEN(s) ((uint32_t)((s) & GEN_MASK))
#define WAITERS(s) ((uint32_t)(((s) & WAITERS_MASK) >> 16))
#define COUNTER(s) ((int32_t)(uint32_t)((s) >> COUNTER_SHIFT))

static inline _Atomic uint32_t *gen_word(gosync_waitgroup *wg)
{
    return gosync_half_word(&wg->state, GOSYNC_LOW_HALF);
}

static inline uint64_t with_counter(uint64_t s, int64_t counter)
{
    return (s & (WAITERS_MASK | GEN_MASK)) | ((uint64_t)(uint32_t)counter << COUNTER_SHIFT);
}

int gosync_waitgroup_add(gosync_waitgroup *wg, int64_t delta)
{
    _Atomic uint32_t *word = gen_word(wg);
    unsigned park_flags = wg->park_flags;
    /* The counter lies in 0..INT32_MAX, so with delta at most INT32_MAX the
     * sum below cannot overflow int64 (nor fit in the counter if larger). */
    if (delta > INT32_MAX)
        return GOSYNC_OVERFLOW;
    uint64_t old = gosync_load(&wg->state, GOSYNC_RELAXED);
    uint64_t new;
    bool release;
    for (;;) {
        int64_t v = (int64_t)COUNTER(old) + delta;
        if (v < 0)
            return GOSYNC_WG_NEGATIVE;
        if (v > INT32_MAX)
            return GOSYNC_OVERFLOW;
        /* Waiters exist only while the counter is positive, so only a call
         * that takes the counter from positive to zero releases them. */
        release = v == 0 && WAITERS(old) != 0;
        new = release ? (GEN(old) + 1) & GEN_MASK : with_counter(old, v);
        if (gosync_cas(&wg->state, &old, new, GOSYNC_ACQ_REL, GOSYNC_RELAXED))
            break;
    }
    if (release) {
        /* The waiters may return and free the group as soon as the CAS has
         * landed: only the address is used after it. */
        GOSYNC_PREEMPT("waitgroup.add.released");
        gosync_park_wake(word, INT32_MAX, GOSYNC_PARK_ANY, park_flags);
    }
    return GOSYNC_OK;
}

/* Whether the waiter that joined at generation gen has been released. A
 * counted waiter sees waiters >= 1, so no waiters means released even if gen
 * has wrapped back to ours (see waitgroup.h): never subtract from zero. */
static inline bool released(uint64_t st, uint32_t gen)
{
    return GEN(st) != gen || WAITERS(st) == 0;
}

int gosync_waitgroup_wait(gosync_waitgroup *wg, int64_t deadline_ns)
{
    uint64_t old = gosync_load(&wg->state, GOSYNC_ACQUIRE);
    do {
        if (COUNTER(old) == 0)
            return GOSYNC_OK;
        if (WAITERS(old) == 0xffff)
            return GOSYNC_OVERFLOW;
    } while (!gosync_cas(&wg->state, &old, old + WAITER_ONE, GOSYNC_ACQUIRE, GOSYNC_ACQUIRE));

    uint32_t gen = GEN(old);
    for (;;) {
        uint64_t st = gosync_load(&wg->state, GOSYNC_ACQUIRE);
        if (released(st, gen))
            break;
        gosync_park_result r = gosync_park_wait(gen_word(wg), (uint32_t)st, 1, deadline_ns,
                                                wg->park_flags);
        GOSYNC_PREEMPT("waitgroup.wait.parked");
        if (!gosync_park_gave_up(r))
            continue;
        /* Give up: count ourselves out, unless released meanwhile. A CAS
         * that fails because an Add or Done changed the counter is tried
         * again at once: the deadline or the signal is not forgotten. While
         * gen is ours we are counted, and the counter is positive. */
        st = gosync_load(&wg->state, GOSYNC_ACQUIRE);
        GOSYNC_PREEMPT("waitgroup.wait.give_up");
        for (;;) {
            if (released(st, gen))
                goto released;
            if (gosync_cas(&wg->state, &st, st - WAITER_ONE, GOSYNC_ACQUIRE, GOSYNC_ACQUIRE))
                return gosync_park_status(r);
        }
    }
released:
    /* If the group is already in use again, a new Add raced with this
     * Wait's return: Go's reuse misuse. */
    if ((gosync_load(&wg->state, GOSYNC_ACQUIRE) & ~GEN_MASK) != 0)
        return GOSYNC_WG_REUSED;
    return GOSYNC_OK;
}

int32_t gosync_waitgroup_counter(const gosync_waitgroup *wg)
{
    return COUNTER(gosync_load((_Atomic uint64_t *)&wg->state, GOSYNC_SEQ_CST));
}

uint32_t gosync_waitgroup_waiters(const gosync_waitgroup *wg)
{
    return WAITERS(gosync_load((_Atomic uint64_t *)&wg->state, GOSYNC_SEQ_CST));
}
