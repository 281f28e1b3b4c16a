/* A pure-C pthread harness for the C core, meant to run under
 * ThreadSanitizer and AddressSanitizer+UBSan (see run.sh beside it).
 *
 * Each check prints one line and the harness ends with "N passed, M failed".
 * Threads outnumber cores on purpose: with `taskset -c 0` every thread is
 * preempted inside critical sections, unpinned they really run in parallel.
 *
 * Usage: harness [scale]   (scale multiplies the iteration counts; default 1)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mutex.h"
#include "park.h"
#include "sema.h"

static int scale = 1;
static int passed, failed;

#define CHECK(cond, ...)                                   \
    do {                                                   \
        if (!(cond)) {                                     \
            printf("  FAIL %s:%d: ", __FILE__, __LINE__);  \
            printf(__VA_ARGS__);                           \
            printf("\n");                                  \
            ok = 0;                                        \
        }                                                  \
    } while (0)

static void report(const char *name, int ok)
{
    printf("%s %s\n", ok ? "ok  " : "FAIL", name);
    if (ok)
        passed++;
    else
        failed++;
}

static void run_threads(int n, void *(*fn)(void *), void *arg)
{
    pthread_t *t = calloc((size_t)n, sizeof *t);
    for (long i = 0; i < n; i++)
        if (pthread_create(&t[i], NULL, fn, arg) != 0)
            abort();
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    free(t);
}

static int64_t ms_from_now(int ms)
{
    return gosync_now_ns() + (int64_t)ms * 1000000;
}

static int mutex_quiet(gosync_mutex *m)
{
    return gosync_mutex_state(m) == 0 && gosync_sema_tokens(&m->sema) == 0 &&
           gosync_sema_waiters(&m->sema) == 0;
}

/* ---- Mutex: mutual exclusion with a plain, non-atomic counter ---------- */

typedef struct {
    gosync_mutex mu;
    long counter;   /* plain on purpose: TSan flags it if exclusion breaks */
    int inside;     /* threads inside the critical section right now */
    int overlap;    /* times a thread found another one inside */
    _Atomic int next_id;
    int iters;
} hammer_t;

static void *mutex_hammer_thread(void *arg)
{
    hammer_t *h = arg;
    int id = atomic_fetch_add(&h->next_id, 1);
    for (int i = 0; i < h->iters; i++) {
        if ((i + id) % 3 == 0) {
            while (!gosync_mutex_try_lock(&h->mu))
                sched_yield();
        } else if (gosync_mutex_lock(&h->mu, GOSYNC_NO_DEADLINE) != GOSYNC_OK) {
            abort();
        }
        if (h->inside++ != 0)
            h->overlap++;
        h->counter++;
        h->inside--;
        if (gosync_mutex_unlock(&h->mu) != GOSYNC_OK)
            abort();
    }
    return NULL;
}

static void test_mutex_hammer(void)
{
    int ok = 1, threads = 8;
    hammer_t h;
    memset(&h, 0, sizeof h);
    h.iters = 20000 * scale;
    run_threads(threads, mutex_hammer_thread, &h);
    CHECK(h.counter == (long)threads * h.iters, "counter %ld, want %ld", h.counter,
          (long)threads * h.iters);
    CHECK(h.overlap == 0, "%d overlaps", h.overlap);
    CHECK(mutex_quiet(&h.mu), "state %d tokens %u", gosync_mutex_state(&h.mu),
          gosync_sema_tokens(&h.mu.sema));
    report("mutex hammer", ok);
}

/* ---- Mutex: misuse leaves the state alone ------------------------------- */

static void test_mutex_misuse(void)
{
    int ok = 1;
    gosync_mutex m;
    memset(&m, 0, sizeof m);
    CHECK(gosync_mutex_unlock(&m) == GOSYNC_MISUSE, "unlock of unlocked mutex accepted");
    CHECK(gosync_mutex_state(&m) == 0, "state changed to %d", gosync_mutex_state(&m));
    CHECK(gosync_mutex_lock(&m, GOSYNC_NO_DEADLINE) == GOSYNC_OK, "lock after misuse");
    CHECK(!gosync_mutex_try_lock(&m), "try_lock of a held mutex succeeded");
    CHECK(gosync_mutex_lock(&m, ms_from_now(5)) == GOSYNC_TIMEDOUT, "no timeout");
    CHECK(gosync_mutex_unlock(&m) == GOSYNC_OK, "unlock");
    CHECK(mutex_quiet(&m), "state %d", gosync_mutex_state(&m));
    report("mutex misuse and timeout", ok);
}

/* ---- Mutex: waiters time out while others lock and unlock --------------- */

typedef struct {
    gosync_mutex mu;
    long counter;
    _Atomic long acquired, timed_out;
    _Atomic int next_id;
    int iters;
} storm_t;

static void *timeout_storm_thread(void *arg)
{
    storm_t *s = arg;
    int id = atomic_fetch_add(&s->next_id, 1);
    for (int i = 0; i < s->iters; i++) {
        /* Deadlines from 0 to 300 us race with unlocks in every phase. */
        int64_t deadline = gosync_now_ns() + ((i * 7 + id * 13) % 4) * 100000;
        if (id % 4 == 0)
            deadline = GOSYNC_NO_DEADLINE;
        int rc = gosync_mutex_lock(&s->mu, deadline);
        if (rc == GOSYNC_TIMEDOUT) {
            atomic_fetch_add(&s->timed_out, 1);
            continue;
        }
        if (rc != GOSYNC_OK)
            abort();
        s->counter++;
        /* Hold it long enough that others queue, starve, and give up. */
        for (volatile int k = 0; k < 2000; k++) {
        }
        atomic_fetch_add(&s->acquired, 1);
        gosync_mutex_unlock(&s->mu);
    }
    return NULL;
}

static void test_mutex_timeout_storm(void)
{
    int ok = 1, threads = 8;
    storm_t s;
    memset(&s, 0, sizeof s);
    s.iters = 3000 * scale;
    run_threads(threads, timeout_storm_thread, &s);
    CHECK(s.counter == s.acquired, "counter %ld, acquisitions %ld", s.counter, (long)s.acquired);
    CHECK(s.acquired + s.timed_out == (long)threads * s.iters, "lost attempts");
    CHECK(mutex_quiet(&s.mu), "state %d tokens %u waiters %u", gosync_mutex_state(&s.mu),
          gosync_sema_tokens(&s.mu.sema), gosync_sema_waiters(&s.mu.sema));
    printf("  %ld acquired, %ld timed out\n", (long)s.acquired, (long)s.timed_out);
    CHECK(s.timed_out > 0, "no waiter ever timed out: the test did not test");
    report("mutex timeouts racing unlocks", ok);
}

/* ---- Mutex: starvation mode engages and drains -------------------------- */

typedef struct {
    gosync_mutex mu;
    _Atomic int stop;
    _Atomic int saw_starving;
} starve_t;

static void *starve_holder(void *arg)
{
    starve_t *s = arg;
    while (!atomic_load(&s->stop)) {
        gosync_mutex_lock(&s->mu, GOSYNC_NO_DEADLINE);
        if (gosync_mutex_state(&s->mu) & GOSYNC_MUTEX_STARVING)
            atomic_store(&s->saw_starving, 1);
        int64_t until = gosync_now_ns() + 200000; /* hold 200 us */
        while (gosync_now_ns() < until) {
        }
        gosync_mutex_unlock(&s->mu);
    }
    return NULL;
}

static void test_mutex_starvation(void)
{
    int ok = 1;
    starve_t s;
    memset(&s, 0, sizeof s);
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, starve_holder, &s);
    int64_t end = gosync_now_ns() + 2000000000LL;
    while (!atomic_load(&s.saw_starving) && gosync_now_ns() < end) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    atomic_store(&s.stop, 1);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    CHECK(atomic_load(&s.saw_starving), "starvation mode never engaged");
    CHECK(mutex_quiet(&s.mu), "state %d after the queue drained", gosync_mutex_state(&s.mu));
    report("mutex starvation mode engages and drains", ok);
}

/* ---- Semaphore: tokens are conserved through timeouts and handoffs ------ */

typedef struct {
    gosync_sema sema;
    _Atomic long taken, released;
    _Atomic int next_id;
    int iters;
} tokens_t;

static void *sema_thread(void *arg)
{
    tokens_t *t = arg;
    int id = atomic_fetch_add(&t->next_id, 1);
    for (int i = 0; i < t->iters; i++) {
        if (id % 2 == 0) {
            gosync_sema_release(&t->sema, (i % 3) == 0);
            atomic_fetch_add(&t->released, 1);
        } else {
            int64_t deadline = gosync_now_ns() + (i % 5) * 50000;
            int rc = gosync_sema_acquire(&t->sema, (i % 4) == 0, deadline);
            if (rc == GOSYNC_OK)
                atomic_fetch_add(&t->taken, 1);
        }
    }
    return NULL;
}

static void test_sema_tokens(void)
{
    int ok = 1;
    tokens_t t;
    memset(&t, 0, sizeof t);
    t.iters = 20000 * scale;
    run_threads(8, sema_thread, &t);
    long left = gosync_sema_tokens(&t.sema);
    CHECK(t.taken + left == t.released, "taken %ld + left %ld != released %ld", (long)t.taken, left,
          (long)t.released);
    CHECK(gosync_sema_waiters(&t.sema) == 0, "%u waiters left", gosync_sema_waiters(&t.sema));
    /* Every token left must still be obtainable by a newcomer. */
    for (long i = 0; i < left; i++)
        CHECK(gosync_sema_acquire(&t.sema, false, gosync_now_ns()) == GOSYNC_OK,
              "token %ld of %ld stranded", i, left);
    report("semaphore conserves tokens", ok);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        scale = atoi(argv[1]) > 0 ? atoi(argv[1]) : 1;
    printf("gosync C harness: %d CPU(s) available, scale %d\n", gosync_ncpu(), scale);
    test_mutex_misuse();
    test_mutex_hammer();
    test_mutex_timeout_storm();
    test_mutex_starvation();
    test_sema_tokens();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
