/* Semaphore, see sema.h for the state word and its transitions. */
#include "sema.h"

#include "atomic.h"
#include "park.h"

#define FREE_ONE UINT64_C(1)
#define FREE_MASK UINT64_C(0x00ffffff)
#define HANDED_ONE (UINT64_C(1) << 24)
#define HANDED_MASK (UINT64_C(0xff) << 24)
#define FIFO_ONE (UINT64_C(1) << 32)
#define FIFO_MASK (UINT64_C(0xffff) << 32)
#define LIFO_ONE (UINT64_C(1) << 48)
#define LIFO_MASK (UINT64_C(0xffff) << 48)

/* Parking classes: one bit each, so a wake can ask for the front class only. */
#define CLASS_FIFO 1u
#define CLASS_LIFO 2u

/* The 32 bits that hold the tokens, as a futex word. Releases change them,
 * registrations do not, so a sleeper is disturbed only when a token appears.
 * The kernel reads this half atomically while user space updates the whole
 * 64-bit word atomically; both are naturally aligned. */
static inline _Atomic uint32_t *token_word(gosync_sema *s)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return (_Atomic uint32_t *)((char *)&s->state + 4);
#else
    return (_Atomic uint32_t *)&s->state;
#endif
}

/* Takes a token and leaves the waiter class `me` (0 for a thread that never
 * registered) in one CAS. A woken waiter prefers a handed token: a handed
 * token can only go to a woken waiter, so one that took a free token instead
 * might strand it. */
static bool try_take(gosync_sema *s, uint64_t *old, uint64_t me, bool woken)
{
    for (;;) {
        uint64_t token;
        if (woken && (*old & HANDED_MASK))
            token = HANDED_ONE;
        else if (*old & FREE_MASK)
            token = FREE_ONE;
        else
            return false;
        if (gosync_cas(&s->state, old, *old - token - me, GOSYNC_ACQUIRE, GOSYNC_RELAXED))
            return true;
    }
}

int gosync_sema_acquire(gosync_sema *s, bool lifo, int64_t deadline_ns)
{
    uint64_t old = gosync_load(&s->state, GOSYNC_RELAXED);
    if (try_take(s, &old, 0, false))
        return GOSYNC_OK;

    uint64_t me = lifo ? LIFO_ONE : FIFO_ONE;
    uint32_t class_bits = lifo ? CLASS_LIFO : CLASS_FIFO;
    old = gosync_add(&s->state, me, GOSYNC_ACQ_REL) + me;
    bool woken = false;
    for (;;) {
        if (try_take(s, &old, me, woken))
            return GOSYNC_OK;
        gosync_park_result r =
            gosync_park_wait(token_word(s), (uint32_t)old, class_bits, deadline_ns, s->park_flags);
        woken = (r == GOSYNC_PARK_WOKEN);
        old = gosync_load(&s->state, GOSYNC_RELAXED);
        if (r == GOSYNC_PARK_TIMEDOUT || r == GOSYNC_PARK_INTERRUPTED) {
            /* Give up, unless a free token arrived meanwhile: then taking it
             * is the same as having been woken a moment earlier. We were not
             * woken, so a handed token belongs to someone else. */
            if (try_take(s, &old, me, false))
                return GOSYNC_OK;
            while (!gosync_cas(&s->state, &old, old - me, GOSYNC_RELAXED, GOSYNC_RELAXED)) {
                if (try_take(s, &old, me, false))
                    return GOSYNC_OK;
            }
            return r == GOSYNC_PARK_TIMEDOUT ? GOSYNC_TIMEDOUT : GOSYNC_INTERRUPTED;
        }
    }
}

/* Wakes one sleeper, front class first. Touches only the word's address. */
static int wake_one(_Atomic uint32_t *word, uint64_t state, unsigned park_flags)
{
    int n = 0;
    if (state & LIFO_MASK)
        n = gosync_park_wake(word, 1, CLASS_LIFO, park_flags);
    if (n == 0)
        n = gosync_park_wake(word, 1, GOSYNC_PARK_ANY, park_flags);
    return n;
}

void gosync_sema_release(gosync_sema *s, bool handoff)
{
    /* Read everything we need before the add: after it, a waiter may take the
     * token, return, and let its owner free this semaphore. */
    _Atomic uint32_t *word = token_word(s);
    unsigned park_flags = s->park_flags;

    uint64_t old = gosync_add(&s->state, handoff ? HANDED_ONE : FREE_ONE, GOSYNC_RELEASE);
    bool has_waiters = (old & (FIFO_MASK | LIFO_MASK)) != 0;
    if (has_waiters && wake_one(word, old, park_flags) > 0)
        return;
    if (!handoff)
        return; /* a registered waiter that is not asleep yet sees the token */

    /* Nobody was asleep to receive the handed token. Registered waiters that
     * have not parked yet may not take it (they were not woken), so turn it
     * into a free token and wake once more for anyone who parked meanwhile.
     *
     * This touches the word after the add. It is safe because only a woken
     * waiter can take a handed token, and the caller promises (see
     * gosync_sema_release) that no earlier wake is still outstanding: so no
     * waiter can take this token, return, and free the semaphore before the
     * conversion below has made it free. */
    old = gosync_load(&s->state, GOSYNC_RELAXED);
    do {
        if (!(old & HANDED_MASK))
            return; /* a woken waiter took it after all */
    } while (!gosync_cas(&s->state, &old, old - HANDED_ONE + FREE_ONE, GOSYNC_RELEASE,
                         GOSYNC_RELAXED));
    if (old & (FIFO_MASK | LIFO_MASK))
        wake_one(word, old, park_flags);
}

uint32_t gosync_sema_tokens(const gosync_sema *s)
{
    uint64_t st = gosync_load((_Atomic uint64_t *)&s->state, GOSYNC_SEQ_CST);
    return (uint32_t)((st & FREE_MASK) + ((st & HANDED_MASK) >> 24));
}

uint32_t gosync_sema_waiters(const gosync_sema *s)
{
    uint64_t st = gosync_load((_Atomic uint64_t *)&s->state, GOSYNC_SEQ_CST);
    return (uint32_t)(((st & FIFO_MASK) >> 32) + ((st & LIFO_MASK) >> 48));
}
