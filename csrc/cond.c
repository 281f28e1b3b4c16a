/* Cond, see cond.h for the groups, the state word and its transitions. */
#include "cond.h"

#include <stdbool.h>

#include "atomic.h"
#include "park.h"
#include "testhook.h"

#define G1_ONE UINT64_C(1)
#define G1_MASK UINT64_C(0x3fff)
#define G2_SHIFT 14
#define G2_ONE (UINT64_C(1) << G2_SHIFT)
#define G2_MASK (UINT64_C(0x3fff) << G2_SHIFT)
#define GEN_SHIFT 32
#define GEN_ONE (UINT64_C(1) << GEN_SHIFT)
#define GEN_MASK (UINT64_C(0x3ffff) << GEN_SHIFT)
#define SIG_SHIFT 50
#define SIG_ONE (UINT64_C(1) << SIG_SHIFT)

#define G1(s) ((uint32_t)((s) & G1_MASK))
#define G2(s) ((uint32_t)(((s) & G2_MASK) >> G2_SHIFT))
#define GEN(s) ((uint32_t)(((s) & GEN_MASK) >> GEN_SHIFT))
#define SIGNALS(s) ((uint32_t)((s) >> SIG_SHIFT))

/* gen and signals: the half waiters sleep on. */
static inline _Atomic uint32_t *wait_word(gosync_cond *c)
{
    return gosync_half_word(&c->state, GOSYNC_HIGH_HALF);
}

/* Whether the waiter with this ticket is in G2 (see cond.h: gen == ticket
 * with an empty G2 only happens after gen wrapped, and the waiter is G1). */
static inline bool in_g2(uint64_t s, uint32_t ticket)
{
    return GEN(s) == ticket && G2(s) > 0;
}

static inline uint32_t class_of(uint32_t gen)
{
    return 1u << (gen % 32);
}

/* Wakes up to n waiters of every generation but gen (the current G2's). */
static void wake(_Atomic uint32_t *word, int n, uint32_t gen, unsigned park_flags)
{
    gosync_park_wake(word, n, ~class_of(gen), park_flags);
}

/* The generation with 18 bits of wraparound. */
static inline uint64_t next_gen(uint64_t s)
{
    return (s & ~GEN_MASK) | ((s + GEN_ONE) & GEN_MASK);
}

int gosync_cond_add(gosync_cond *c, uint32_t *ticket)
{
    uint64_t old = gosync_load(&c->state, GOSYNC_RELAXED);
    do {
        if (G1(old) + G2(old) + SIGNALS(old) >= GOSYNC_COND_MAX_WAITERS)
            return GOSYNC_OVERFLOW;
    } while (!gosync_cas(&c->state, &old, old + G2_ONE, GOSYNC_RELAXED, GOSYNC_RELAXED));
    *ticket = GEN(old);
    return GOSYNC_OK;
}

/* One CAS that either takes a pending notification (true) or leaves the
 * waiter's group (false). With pass_on, a notification it would have taken
 * is left for another waiter instead. */
static bool leave(gosync_cond *c, uint32_t ticket, bool pass_on, bool *passed)
{
    uint64_t old = gosync_load(&c->state, GOSYNC_ACQUIRE);
    for (;;) {
        uint64_t new;
        bool notified = false;
        *passed = false;
        if (in_g2(old, ticket)) {
            new = old - G2_ONE; /* still in G2 */
        } else if (G1(old) > 0 && (pass_on || SIGNALS(old) == 0)) {
            new = old - G1_ONE; /* counted out; any notification is another's */
        } else if (SIGNALS(old) > 0) {
            new = old - SIG_ONE; /* every G1 waiter left is notified: take one */
            notified = !pass_on;
            *passed = pass_on;
        } else {
            /* G1 waiter, g1_size == 0 and no notification: impossible, every
             * G1 waiter is counted in g1_size + signals. Subtract nothing. */
            return false;
        }
        if (gosync_cas(&c->state, &old, new, GOSYNC_ACQ_REL, GOSYNC_ACQUIRE))
            return notified;
    }
}

int gosync_cond_wait(gosync_cond *c, uint32_t ticket, int64_t deadline_ns)
{
    for (;;) {
        uint64_t st = gosync_load(&c->state, GOSYNC_ACQUIRE);
        while (!in_g2(st, ticket) && SIGNALS(st) > 0) {
            if (gosync_cas(&c->state, &st, st - SIG_ONE, GOSYNC_ACQUIRE, GOSYNC_ACQUIRE))
                return GOSYNC_OK;
        }
        gosync_park_result r = gosync_park_wait(wait_word(c), (uint32_t)(st >> 32),
                                                class_of(ticket), deadline_ns, c->park_flags);
        GOSYNC_PREEMPT("cond.wait.parked");
        if (r == GOSYNC_PARK_INTERRUPTED)
            return GOSYNC_INTERRUPTED; /* still on the list */
        if (r == GOSYNC_PARK_TIMEDOUT || r == GOSYNC_PARK_FAULT) {
            bool passed;
            return leave(c, ticket, false, &passed) ? GOSYNC_OK : gosync_park_status(r);
        }
    }
}

void gosync_cond_cancel(gosync_cond *c, uint32_t ticket)
{
    bool passed;
    leave(c, ticket, true, &passed);
    if (passed)
        gosync_cond_signal(c);
}

uint32_t gosync_cond_signal(gosync_cond *c)
{
    _Atomic uint32_t *word = wait_word(c);
    unsigned park_flags = c->park_flags;
    uint64_t old = gosync_load(&c->state, GOSYNC_RELAXED);
    uint64_t new;
    do {
        if (G1(old) > 0) {
            new = old - G1_ONE + SIG_ONE;
        } else if (G2(old) > 0) {
            /* G1 is fully notified: the waiters of G2 become G1. */
            new = next_gen(old & ~G2_MASK) + (uint64_t)(G2(old) - 1) + SIG_ONE;
        } else {
            return 0; /* nobody waits */
        }
    } while (!gosync_cas(&c->state, &old, new, GOSYNC_RELEASE, GOSYNC_RELAXED));
    wake(word, 1, GEN(new), park_flags);
    return 1;
}

uint32_t gosync_cond_broadcast(gosync_cond *c)
{
    _Atomic uint32_t *word = wait_word(c);
    unsigned park_flags = c->park_flags;
    uint64_t old = gosync_load(&c->state, GOSYNC_RELAXED);
    uint64_t new;
    do {
        uint64_t waiting = G1(old) + G2(old);
        if (waiting == 0)
            return 0;
        new = next_gen(old & ~(G1_MASK | G2_MASK)) + waiting * SIG_ONE;
    } while (!gosync_cas(&c->state, &old, new, GOSYNC_RELEASE, GOSYNC_RELAXED));
    wake(word, 0x7fffffff, GEN(new), park_flags);
    return G1(old) + G2(old);
}

uint32_t gosync_cond_waiters(const gosync_cond *c)
{
    uint64_t s = gosync_load((_Atomic uint64_t *)&c->state, GOSYNC_SEQ_CST);
    return G1(s) + G2(s) + SIGNALS(s);
}

uint32_t gosync_cond_pending(const gosync_cond *c)
{
    return SIGNALS(gosync_load((_Atomic uint64_t *)&c->state, GOSYNC_SEQ_CST));
}
