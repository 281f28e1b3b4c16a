/* Semaphore, see sema.h for the state word and its transitions. */
#include "sema.h"

#include "atomic.h"
#include "park.h"
#include "testhook.h"

#define FREE_ONE UINT64_C(1)
#define FREE_MASK UINT64_C(0x0007ffff)
#define OWED (UINT64_C(1) << 19)
#define HANDED_ONE (UINT64_C(1) << 20)
#define HANDED_MASK (UINT64_C(0xff) << 20)
#define RELEASING_ONE (UINT64_C(1) << 28)
#define RELEASING_MASK (UINT64_C(7) << 28)
#define DRAINING (UINT64_C(1) << 31)
#define FIFO_ONE (UINT64_C(1) << 32)
#define FIFO_MASK (UINT64_C(0xffff) << 32)
#define LIFO_ONE (UINT64_C(1) << 48)
#define LIFO_MASK (UINT64_C(0xffff) << 48)
#define WAITER_MASK (FIFO_MASK | LIFO_MASK)

/* Parking classes: one bit each, so a wake can ask for the front class
 * only, and so that a wake meant for a waiter never picks a thread that only
 * waits for a handoff release to finish (CLASS_DRAIN) or for a token it is
 * owed to arrive or be taken (CLASS_OWED). */
#define CLASS_FIFO 1u
#define CLASS_LIFO 2u
#define CLASS_DRAIN 4u
#define CLASS_OWED 8u

/* A handoff release in flight is a few instructions and one futex wake
 * away from its last write: worth a short spin before sleeping. */
#define DRAIN_SPINS 100

/* The 32 bits that hold the tokens, as a futex word. Releases change them,
 * registrations do not, so a sleeper is disturbed only when a token appears
 * (or, briefly, while a handoff release is in flight).
 * The kernel reads this half atomically while user space updates the whole
 * 64-bit word atomically; both are naturally aligned. */
static inline _Atomic uint32_t *token_word(gosync_sema *s)
{
    return gosync_half_word(&s->state, GOSYNC_LOW_HALF);
}

/* Wakes every thread owed a token, by address only: they look again. */
static void wake_owed(_Atomic uint32_t *word, unsigned park_flags)
{
    gosync_park_wake(word, INT32_MAX, CLASS_OWED, park_flags);
}

/* Waits until no handoff release is in flight, `old` being the word as our
 * take left it. The releases do not block, so this wait is short; it ignores
 * deadlines and signals, as a lock holder's unlock would. The acquire load
 * that sees releasing == 0 orders the releases' last writes before our
 * return, and so before anything our caller does with the semaphore. */
static void await_releases(gosync_sema *s, uint64_t old)
{
    for (int i = 0; (old & RELEASING_MASK) && i < DRAIN_SPINS; i++) {
        gosync_cpu_relax();
        old = gosync_load(&s->state, GOSYNC_ACQUIRE);
    }
    while (old & RELEASING_MASK) {
        if (!(old & DRAINING) &&
            !gosync_cas(&s->state, &old, old | DRAINING, GOSYNC_ACQUIRE, GOSYNC_ACQUIRE))
            continue;
        gosync_park_wait(token_word(s), (uint32_t)(old | DRAINING), CLASS_DRAIN,
                         GOSYNC_NO_DEADLINE, s->park_flags);
        old = gosync_load(&s->state, GOSYNC_ACQUIRE);
    }
}

/* Takes a token and leaves the waiter class `me` (0 for a thread that never
 * registered) in one CAS. A woken waiter prefers a handed token: a handed
 * token can only go to a woken waiter, so one that took a free token instead
 * might strand it. Returns only once no handoff release is in flight. */
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
        /* A token taken is one an owed thread no longer waits for: clear
         * the mark and wake it, so that it looks at its primitive again.
         * The CAS releases too, for that thread: what we did before it
         * (counting ourselves in the Mutex) is visible to it. */
        uint64_t new = (*old - token - me) & ~OWED;
        if (gosync_cas(&s->state, old, new, GOSYNC_ACQ_REL, GOSYNC_RELAXED)) {
            if (*old & OWED)
                wake_owed(token_word(s), s->park_flags);
            if (new & RELEASING_MASK)
                await_releases(s, new);
            return true;
        }
    }
}

int gosync_sema_acquire(gosync_sema *s, bool lifo, int64_t deadline_ns)
{
    uint64_t old = gosync_load(&s->state, GOSYNC_RELAXED);
    if (try_take(s, &old, 0, false))
        return GOSYNC_OK;

    uint64_t me = lifo ? LIFO_ONE : FIFO_ONE;
    uint64_t class_mask = lifo ? LIFO_MASK : FIFO_MASK;
    uint32_t class_bits = lifo ? CLASS_LIFO : CLASS_FIFO;
    do {
        if ((old & class_mask) == class_mask)
            return GOSYNC_OVERFLOW;
    } while (!gosync_cas(&s->state, &old, old + me, GOSYNC_ACQ_REL, GOSYNC_RELAXED));
    old += me;
    bool woken = false;
    for (;;) {
        if (try_take(s, &old, me, woken))
            return GOSYNC_OK;
        gosync_park_result r =
            gosync_park_wait(token_word(s), (uint32_t)old, class_bits, deadline_ns, s->park_flags);
        woken = (r == GOSYNC_PARK_WOKEN);
        old = gosync_load(&s->state, GOSYNC_RELAXED);
        if (gosync_park_gave_up(r)) {
            /* Give up, unless a free token arrived meanwhile: then taking it
             * is the same as having been woken a moment earlier. We were not
             * woken, so a handed token belongs to someone else. */
            if (try_take(s, &old, me, false))
                return GOSYNC_OK;
            while (!gosync_cas(&s->state, &old, old - me, GOSYNC_RELAXED, GOSYNC_RELAXED)) {
                if (try_take(s, &old, me, false))
                    return GOSYNC_OK;
            }
            return gosync_park_status(r);
        }
    }
}

bool gosync_sema_owe(gosync_sema *s, uint64_t *seen)
{
    uint64_t old = gosync_load(&s->state, GOSYNC_ACQUIRE);
    for (;;) {
        if (try_take(s, &old, 0, false))
            return true;
        /* Acquire: a thread that took the token before this CAS counted
         * itself in the Mutex before its take; the caller's next look at
         * the Mutex must see that. */
        if ((old & OWED) || gosync_cas(&s->state, &old, old | OWED, GOSYNC_ACQ_REL, GOSYNC_ACQUIRE)) {
            *seen = old | OWED;
            return false;
        }
    }
}

void gosync_sema_await_owed(gosync_sema *s, uint64_t seen)
{
    /* A signal, a fault, or a word that changed: back to the caller, which
     * looks at its primitive again. The wait it ends is only ever as long
     * as another thread's release takes, which does not block. */
    gosync_park_wait(token_word(s), (uint32_t)seen, CLASS_OWED, GOSYNC_NO_DEADLINE, s->park_flags);
}

void gosync_sema_disown(gosync_sema *s)
{
    uint64_t old = gosync_load(&s->state, GOSYNC_RELAXED);
    while (old & OWED) {
        if (gosync_cas(&s->state, &old, old & ~OWED, GOSYNC_RELEASE, GOSYNC_RELAXED)) {
            /* Any other owed thread looks again, and marks the word anew. */
            wake_owed(token_word(s), s->park_flags);
            return;
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
        n = gosync_park_wake(word, 1, CLASS_FIFO | CLASS_LIFO, park_flags);
    return n;
}

void gosync_sema_release(gosync_sema *s, bool handoff)
{
    /* Read everything we need before the first write: after the last one, a
     * waiter may take the token, return, and let its owner free this
     * semaphore. */
    _Atomic uint32_t *word = token_word(s);
    unsigned park_flags = s->park_flags;

    uint64_t old = gosync_load(&s->state, GOSYNC_RELAXED);
    uint64_t add;
    do {
        add = FREE_ONE;
        if (handoff && (old & RELEASING_MASK) != RELEASING_MASK)
            add = HANDED_ONE + RELEASING_ONE;
    } while (!gosync_cas(&s->state, &old, old + add, GOSYNC_RELEASE, GOSYNC_RELAXED));
    GOSYNC_PREEMPT("sema.release.added");
    bool woke = (old & WAITER_MASK) && wake_one(word, old, park_flags) > 0;
    if (add == FREE_ONE) {
        /* A registered waiter that is not asleep yet sees the token; an
         * owed one is woken to take it. */
        if (old & OWED)
            wake_owed(word, park_flags);
        return;
    }

    /* The end of a handoff, and our last write. If nobody was asleep to
     * receive the handed token, registered waiters that have not parked yet
     * may not take it (they were not woken), so it becomes a free token, and
     * we wake once more for anyone who parked meanwhile. Whoever took the
     * token, or any other, while we were in flight waits for this CAS. */
    old = gosync_load(&s->state, GOSYNC_RELAXED);
    uint64_t new;
    do {
        new = old - RELEASING_ONE;
        if (!woke && (old & HANDED_MASK))
            new = new - HANDED_ONE + FREE_ONE;
        if (!(new & RELEASING_MASK))
            new &= ~DRAINING;
    } while (!gosync_cas(&s->state, &old, new, GOSYNC_RELEASE, GOSYNC_RELAXED));
    if ((new & FREE_MASK) != (old & FREE_MASK)) {
        if (old & WAITER_MASK)
            wake_one(word, old, park_flags);
        if (old & OWED)
            wake_owed(word, park_flags);
    }
    if ((old & DRAINING) && !(new & DRAINING))
        gosync_park_wake(word, INT32_MAX, CLASS_DRAIN, park_flags);
}

uint32_t gosync_sema_tokens(const gosync_sema *s)
{
    uint64_t st = gosync_load((_Atomic uint64_t *)&s->state, GOSYNC_SEQ_CST);
    return (uint32_t)((st & FREE_MASK) + ((st & HANDED_MASK) >> 20));
}

bool gosync_sema_owed(const gosync_sema *s)
{
    return (gosync_load((_Atomic uint64_t *)&s->state, GOSYNC_SEQ_CST) & OWED) != 0;
}

uint32_t gosync_sema_waiters(const gosync_sema *s)
{
    uint64_t st = gosync_load((_Atomic uint64_t *)&s->state, GOSYNC_SEQ_CST);
    return (uint32_t)(((st & FIFO_MASK) >> 32) + ((st & LIFO_MASK) >> 48));
}
