/* WaitGroup, see waitgroup.h for the state word and its transitions. */
#include "waitgroup.h"

#include "atomic.h"
#include "park.h"
#include "sema.h"

#define GEN_MASK UINT64_C(0xffff)
#define WAITER_ONE (UINT64_C(1) << 16)
#define WAITERS_MASK (UINT64_C(0xffff) << 16)
#define COUNTER_SHIFT 32

#define GEN(s) ((uint32_t)((s) & GEN_MASK))
#define WAITERS(s) ((uint32_t)(((s) & WAITERS_MASK) >> 16))
#define COUNTER(s) ((int32_t)(uint32_t)((s) >> COUNTER_SHIFT))

static inline _Atomic uint32_t *gen_word(gosync_waitgroup *wg)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return (_Atomic uint32_t *)((char *)&wg->state + 4);
#else
    return (_Atomic uint32_t *)&wg->state;
#endif
}

static inline uint64_t with_counter(uint64_t s, int64_t counter)
{
    return (s & (WAITERS_MASK | GEN_MASK)) | ((uint64_t)(uint32_t)counter << COUNTER_SHIFT);
}

int gosync_waitgroup_add(gosync_waitgroup *wg, int64_t delta)
{
    _Atomic uint32_t *word = gen_word(wg);
    unsigned park_flags = wg->park_flags;
    uint64_t old = gosync_load(&wg->state, GOSYNC_RELAXED);
    uint64_t new;
    for (;;) {
        int64_t v = (int64_t)COUNTER(old) + delta;
        if (v < 0)
            return GOSYNC_WG_NEGATIVE;
        if (v > INT32_MAX)
            return GOSYNC_OVERFLOW;
        if (WAITERS(old) != 0 && delta > 0 && COUNTER(old) == 0)
            return GOSYNC_WG_CONCURRENT;
        new = with_counter(old, v);
        if (gosync_cas(&wg->state, &old, new, GOSYNC_ACQ_REL, GOSYNC_RELAXED))
            break;
    }
    if (COUNTER(new) > 0 || WAITERS(new) == 0)
        return GOSYNC_OK;
    /* This call set the counter to 0 while there are waiters. Now there can
     * be no concurrent change of the word: Add with d > 0 sees the misuse
     * above, Add with d < 0 a negative counter, Wait a zero counter, and a
     * waiter that gives up waits for this release. Reset the waiters and
     * advance the generation (Go's Store(0)), then wake them all: after the
     * store they may return and free the group, so only the address is used
     * after it. */
    gosync_store(&wg->state, (uint64_t)((GEN(new) + 1) & GEN_MASK), GOSYNC_RELEASE);
    gosync_park_wake(word, 0x7fffffff, GOSYNC_PARK_ANY, park_flags);
    return GOSYNC_OK;
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
    int64_t deadline = deadline_ns;
    int result = GOSYNC_OK;
    for (;;) {
        uint64_t st = gosync_load(&wg->state, GOSYNC_ACQUIRE);
        if (GEN(st) != gen)
            break;
        gosync_park_result r =
            gosync_park_wait(gen_word(wg), (uint32_t)st, 1, deadline, wg->park_flags);
        if (r != GOSYNC_PARK_TIMEDOUT && r != GOSYNC_PARK_INTERRUPTED)
            continue;
        st = gosync_load(&wg->state, GOSYNC_ACQUIRE);
        if (GEN(st) == gen && COUNTER(st) == 0) {
            /* The release is under way (Add is between its two steps): it
             * cannot block, so wait for it whatever the deadline. */
            deadline = GOSYNC_NO_DEADLINE;
            continue;
        }
        if (GEN(st) == gen &&
            gosync_cas(&wg->state, &st, st - WAITER_ONE, GOSYNC_ACQUIRE, GOSYNC_ACQUIRE))
            return r == GOSYNC_PARK_TIMEDOUT ? GOSYNC_TIMEDOUT : GOSYNC_INTERRUPTED;
        /* The word changed under us: look again. */
    }
    /* Released. If the group is already in use again, a new Add raced with
     * this Wait's return: Go's reuse misuse. */
    uint64_t now = gosync_load(&wg->state, GOSYNC_ACQUIRE);
    if ((now & ~GEN_MASK) != 0)
        result = GOSYNC_WG_REUSED;
    return result;
}

int32_t gosync_waitgroup_counter(const gosync_waitgroup *wg)
{
    return COUNTER(gosync_load((_Atomic uint64_t *)&wg->state, GOSYNC_SEQ_CST));
}

uint32_t gosync_waitgroup_waiters(const gosync_waitgroup *wg)
{
    return WAITERS(gosync_load((_Atomic uint64_t *)&wg->state, GOSYNC_SEQ_CST));
}
