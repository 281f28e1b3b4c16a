/* Mutex, see mutex.h for the modes, the state word and its transitions.
 *
 * Giving up (deadlines, signals and faults)
 * -----------------------------------------
 * Go's Lock cannot give up; gosync's can. A waiter that gives up must leave
 * the state word and the semaphore as if it had never queued, and must stop
 * waiting within a bounded number of steps of other threads that are not
 * blocked: a waiter past its deadline never waits for another Unlock.
 *
 * The difficulty is that Unlock may already have counted it out: a
 * normal-mode Unlock takes one waiter off the count (and sets WOKEN) before
 * it releases a token, and a starvation-mode Unlock hands a token to the
 * front waiter, which stays counted until it takes over. Let R be the
 * threads counted in `waiters` that are in (or entering) the semaphore, and
 * T the normal-mode tokens that Unlock has promised (count already
 * decremented) but nobody has taken yet. Then waiters == |R| - T, plus one
 * for a handoff receiver that has not taken over yet. A promised token is
 * promised to R as a whole: any thread of R may take it and then acts as
 * the woken one.
 *
 * gosync_sema_acquire gives up only when no free token is left, so a thread
 * in R that gives up holds no token and removes itself with waiters-1. That
 * keeps the equation true as long as waiters >= 1 before it. Two cases
 * remain, in which the thread is "owed" a token:
 *
 *   - waiters == 0: then |R| == T, and every thread in R is owed a token,
 *     this one included. An Unlock is between its CAS and its release.
 *   - STARVING, not LOCKED, waiters == 1: a handoff is in flight and this
 *     thread is the only one who can receive it.
 *
 * An owed thread cannot leave, but what makes it owed is true only at the
 * moment of its load: another thread may count itself in (waiters+1) and
 * then take the token as soon as it appears, without being woken, and then
 * this thread is no longer owed. Waiting for "its" token would then last
 * until the next Unlock, which may never come. So an owed thread waits only
 * for the token to appear or to be taken (sema.h, "owe"):
 *
 *   1. gosync_sema_owe takes a free token (then it carries on as a woken
 *      waiter), or marks the semaphore word OWED;
 *   2. it looks at the state word again: a thread that took the token before
 *      the mark had counted itself in before its take, so this look sees
 *      that it is no longer owed, and it leaves with waiters-1;
 *   3. otherwise it sleeps until the word changes: the release that makes
 *      the token free, or any take of a token, wakes it; back to 1.
 *
 * The release it waits for is a few instructions of a thread that does not
 * block. If the token makes it the owner (a free mutex, or a starvation
 * handoff), it reports success: ownership was handed to it while it was
 * giving up. Otherwise it queues again with a deadline already passed, so
 * that it gives up at once with waiters >= 1, and reports the status of its
 * first give-up (a signal stays a signal).
 *
 * When the last waiter leaves a starving mutex, it also clears STARVING:
 * starvation mode without waiters would make the next Unlock hand off to
 * nobody.
 */
#include "mutex.h"

#include "park.h"
#include "testhook.h"

#define LOCKED GOSYNC_MUTEX_LOCKED
#define WOKEN GOSYNC_MUTEX_WOKEN
#define STARVING GOSYNC_MUTEX_STARVING
#define WAITER_SHIFT GOSYNC_MUTEX_WAITER_SHIFT
#define WAITER_ONE (1 << WAITER_SHIFT)

/* Go's starvationThresholdNs: a waiter that waited longer switches the mutex
 * to starvation mode. 1 ms is long compared to a context switch, short
 * compared to what a user notices. */
#define STARVATION_NS INT64_C(1000000)

/* Go's active_spin and active_spin_cnt: a few short rounds of spinning help
 * when the holder is running on another CPU and about to unlock; more would
 * only burn the CPU the holder may need. */
#define ACTIVE_SPIN_ROUNDS 4
#define ACTIVE_SPIN_PAUSES 30

static bool can_spin(int iter)
{
    return iter < ACTIVE_SPIN_ROUNDS && gosync_ncpu() > 1;
}

static void spin(void)
{
    for (int i = 0; i < ACTIVE_SPIN_PAUSES; i++)
        gosync_cpu_relax();
}

/* Whether a waiter that gave up, seeing `state`, is owed a token (see
 * "Giving up"). */
static bool owed(int32_t state)
{
    int32_t waiters = state >> WAITER_SHIFT;
    return waiters == 0 || ((state & (LOCKED | STARVING)) == STARVING && waiters == 1);
}

/* A waiter's semaphore wait ended without a token (`why` says how). Returns
 * `why` after removing the waiter from the count, or GOSYNC_OK once it has
 * received a token that was owed to it. See "Giving up" above. */
static int give_up(gosync_mutex *m, int why)
{
    bool marked = false; /* we set OWED in the semaphore word */
    int32_t old = gosync_load(&m->state, GOSYNC_ACQUIRE);
    for (;;) {
        if (!owed(old)) {
            int32_t new = old - WAITER_ONE;
            if ((old >> WAITER_SHIFT) == 1)
                new &= ~STARVING;
            if (gosync_cas(&m->state, &old, new, GOSYNC_ACQUIRE, GOSYNC_ACQUIRE)) {
                if (marked)
                    gosync_sema_disown(&m->sema);
                return why;
            }
            continue;
        }
        uint64_t seen;
        if (gosync_sema_owe(&m->sema, &seen))
            return GOSYNC_OK;
        marked = true;
        old = gosync_load(&m->state, GOSYNC_ACQUIRE);
        if (owed(old)) {
            GOSYNC_PREEMPT("mutex.give_up.await");
            gosync_sema_await_owed(&m->sema, seen);
            old = gosync_load(&m->state, GOSYNC_ACQUIRE);
        }
    }
}

int gosync_mutex_lock_slow(gosync_mutex *m, int64_t deadline_ns)
{
    int64_t wait_start = 0;
    int pending = GOSYNC_OK; /* why the wait ended, after an owed token */
    bool starving = false;
    bool awoke = false;
    int iter = 0;
    int32_t old = gosync_load(&m->state, GOSYNC_RELAXED);
    for (;;) {
        /* Don't spin in starvation mode: ownership is handed off to waiters,
         * so we would not be able to acquire the mutex anyway. */
        if ((old & (LOCKED | STARVING)) == LOCKED && can_spin(iter)) {
            /* Active spinning makes sense. Try to set WOKEN to tell Unlock
             * not to wake other blocked threads. */
            if (!awoke && !(old & WOKEN) && (old >> WAITER_SHIFT) != 0 &&
                gosync_cas(&m->state, &old, old | WOKEN, GOSYNC_RELAXED, GOSYNC_RELAXED))
                awoke = true;
            spin();
            iter++;
            old = gosync_load(&m->state, GOSYNC_RELAXED);
            continue;
        }
        int32_t new = old;
        /* Don't try to acquire a starving mutex: new arrivals must queue. */
        if (!(old & STARVING))
            new |= LOCKED;
        if (old & (LOCKED | STARVING))
            new += WAITER_ONE;
        /* Switch to starvation mode, but only if the mutex is locked: Unlock
         * expects a starving mutex to have waiters. */
        if (starving && (old & LOCKED))
            new |= STARVING;
        /* A woken thread (by Unlock or by its own spinning) resets WOKEN
         * whatever it does next. */
        if (awoke)
            new &= ~WOKEN;
        if (!gosync_cas(&m->state, &old, new, GOSYNC_ACQUIRE, GOSYNC_RELAXED))
            continue;
        if (!(old & (LOCKED | STARVING)))
            return GOSYNC_OK; /* locked the mutex with the CAS */

        /* If we were already waiting before, queue at the front. */
        bool lifo = wait_start != 0;
        if (wait_start == 0)
            wait_start = gosync_now_ns();
        int rc = gosync_sema_acquire(&m->sema, lifo, deadline_ns);
        if (rc != GOSYNC_OK) {
            if (pending != GOSYNC_OK)
                rc = pending; /* the deadline was forced, below */
            if (give_up(m, rc) != GOSYNC_OK)
                return rc;
            /* The token owed to us came: we carry on as a woken waiter. If
             * that does not make us the owner, we queue again with a
             * deadline that has passed (park.c returns at once), give up
             * with waiters >= 1, and report why the wait first ended. */
            pending = rc;
            deadline_ns = 0;
        }
        starving = starving || gosync_now_ns() - wait_start > STARVATION_NS;
        old = gosync_load(&m->state, GOSYNC_RELAXED);
        if (old & STARVING) {
            /* Woken in starvation mode: ownership was handed off to us, but
             * LOCKED is not set and we are still counted as a waiter.
             * Exit starvation mode if we waited briefly or are the last
             * waiter. It is critical to do it here and to consider the wait
             * time: starvation mode is so inefficient that two threads can
             * go lock-step forever once they switch to it.
             * Go adds the delta blindly; gosync uses a CAS, because a waiter
             * that gives up may leave between the load and the add, and the
             * last-waiter test must see the count it changes (found by the
             * SPIN model: otherwise STARVING stays set on an idle mutex).
             * STARVING cannot vanish meanwhile: give_up clears it only as
             * the last waiter, and we are still counted. */
            for (;;) {
                int32_t delta = LOCKED - WAITER_ONE;
                if (!starving || (old >> WAITER_SHIFT) == 1)
                    delta -= STARVING;
                if (gosync_cas(&m->state, &old, old + delta, GOSYNC_ACQUIRE, GOSYNC_RELAXED))
                    return GOSYNC_OK;
            }
        }
        awoke = true;
        iter = 0;
    }
}

int gosync_mutex_lock(gosync_mutex *m, int64_t deadline_ns)
{
    if (gosync_mutex_lock_fast(m))
        return GOSYNC_OK;
    return gosync_mutex_lock_slow(m, deadline_ns);
}

bool gosync_mutex_try_lock(gosync_mutex *m)
{
    int32_t old = gosync_load(&m->state, GOSYNC_RELAXED);
    if (old & (LOCKED | STARVING))
        return false;
    /* There may be a waiter about to wake, but we are running now and may
     * take the mutex before it does. */
    return gosync_cas(&m->state, &old, old | LOCKED, GOSYNC_ACQUIRE, GOSYNC_RELAXED);
}

int gosync_mutex_unlock(gosync_mutex *m)
{
    int32_t old = LOCKED;
    if (gosync_cas(&m->state, &old, 0, GOSYNC_RELEASE, GOSYNC_RELAXED))
        return GOSYNC_OK;
    /* Go adds -LOCKED and then, in a second step, claims the right to wake a
     * waiter. gosync does both in the CAS that unlocks. Checking LOCKED
     * before the change lets a misuse leave the state as it was; claiming
     * the wake in the same step means that once the mutex is unlocked, only
     * the semaphore is touched, and only for a waiter that cannot return
     * (and let the mutex be freed) before the release's last write. */
    for (;;) {
        if (!(old & LOCKED))
            return GOSYNC_MISUSE;
        int32_t new = old - LOCKED;
        if (old & STARVING) {
            /* Hand ownership to the front waiter. LOCKED stays clear until
             * it takes over, but STARVING keeps new arrivals out. */
            if (gosync_cas(&m->state, &old, new, GOSYNC_RELEASE, GOSYNC_RELAXED)) {
                GOSYNC_PREEMPT("mutex.unlock.handoff");
                gosync_sema_release(&m->sema, true);
                return GOSYNC_OK;
            }
            continue;
        }
        /* Wake a waiter only if there is one and no thread is awake already. */
        bool wake = (new >> WAITER_SHIFT) != 0 && !(new & WOKEN);
        if (wake)
            new = (new - WAITER_ONE) | WOKEN;
        if (gosync_cas(&m->state, &old, new, GOSYNC_RELEASE, GOSYNC_RELAXED)) {
            if (wake) {
                GOSYNC_PREEMPT("mutex.unlock.release");
                gosync_sema_release(&m->sema, false);
            }
            return GOSYNC_OK;
        }
    }
}

int32_t gosync_mutex_state(const gosync_mutex *m)
{
    return gosync_load((_Atomic int32_t *)&m->state, GOSYNC_RELAXED);
}
