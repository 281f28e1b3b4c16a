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
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "cond.h"
#include "mutex.h"
#include "rwmutex.h"
#include "waitgroup.h"
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

/* ---- Semaphore: a handoff's receiver may free it at once ----------------- *
 *
 * sema.h's promise: the thread that takes a handed token may free the
 * semaphore as soon as it returns. The receiver frees it right away; pinned
 * to one CPU, the kernel often runs it the moment the release wakes it,
 * before the release has made its last write. ASan reports any touch of the
 * freed block, TSan a race with free(). */

static void *sema_receiver(void *arg)
{
    gosync_sema *s = arg;
    if (gosync_sema_acquire(s, false, GOSYNC_NO_DEADLINE) != GOSYNC_OK)
        abort();
    free(s);
    return NULL;
}

static void test_sema_lifetime(void)
{
    int ok = 1, rounds = 200 * scale;
    for (int i = 0; i < rounds; i++) {
        gosync_sema *s = calloc(1, sizeof *s);
        pthread_t t;
        if (pthread_create(&t, NULL, sema_receiver, s) != 0)
            abort();
        /* Mostly asleep by now; sometimes only registered, which takes the
         * release's other path (the handed token turned free). */
        while (gosync_sema_waiters(s) == 0)
            sched_yield();
        if (i % 4 != 0) {
            struct timespec ts = {0, 200000};
            nanosleep(&ts, NULL);
        }
        gosync_sema_release(s, true); /* s may be freed from here on */
        pthread_join(t, NULL);
    }
    report("semaphore freed by a handoff's receiver at once", ok);
}

/* ---- RWMutex: readers share, writers exclude everyone -------------------- */

typedef struct {
    gosync_rwmutex rw;
    long activity;  /* plain: readers add 1, writers add 10000 (Go's hammer) */
    _Atomic int readers_inside, writers_inside, bad;
    _Atomic long reads, writes, timed_out;
    _Atomic int next_id;
    int iters;
} rwhammer_t;

static void *rw_hammer_thread(void *arg)
{
    rwhammer_t *h = arg;
    int id = atomic_fetch_add(&h->next_id, 1);
    for (int i = 0; i < h->iters; i++) {
        bool writer = id < 2;
        int64_t deadline = (i % 3 == 0) ? gosync_now_ns() + (i % 4) * 50000 : GOSYNC_NO_DEADLINE;
        if (writer) {
            int rc = (i % 5 == 0) ? (gosync_rwmutex_try_lock(&h->rw) ? GOSYNC_OK : GOSYNC_TIMEDOUT)
                                  : gosync_rwmutex_lock(&h->rw, deadline);
            if (rc != GOSYNC_OK) {
                atomic_fetch_add(&h->timed_out, 1);
                continue;
            }
            if (atomic_fetch_add(&h->writers_inside, 1) != 0 || atomic_load(&h->readers_inside) != 0)
                atomic_store(&h->bad, 1);
            h->activity += 10000;
            for (volatile int k = 0; k < 300; k++) {
            }
            if (h->activity != 10000)
                atomic_store(&h->bad, 1);
            h->activity -= 10000;
            atomic_fetch_sub(&h->writers_inside, 1);
            atomic_fetch_add(&h->writes, 1);
            if (gosync_rwmutex_unlock(&h->rw) != GOSYNC_OK)
                abort();
        } else {
            int rc = (i % 5 == 0) ? (gosync_rwmutex_try_rlock(&h->rw) ? GOSYNC_OK : GOSYNC_TIMEDOUT)
                                  : gosync_rwmutex_rlock(&h->rw, deadline);
            if (rc != GOSYNC_OK) {
                atomic_fetch_add(&h->timed_out, 1);
                continue;
            }
            atomic_fetch_add(&h->readers_inside, 1);
            for (volatile int k = 0; k < 300; k++) {
            }
            if (atomic_load(&h->writers_inside) != 0)
                atomic_store(&h->bad, 1);
            atomic_fetch_add(&h->reads, 1);
            atomic_fetch_sub(&h->readers_inside, 1);
            if (gosync_rwmutex_runlock(&h->rw) != GOSYNC_OK)
                abort();
        }
    }
    return NULL;
}

static void test_rwmutex_hammer(void)
{
    int ok = 1;
    rwhammer_t h;
    memset(&h, 0, sizeof h);
    h.iters = 5000 * scale;
    run_threads(8, rw_hammer_thread, &h);
    CHECK(!atomic_load(&h.bad), "a writer overlapped a reader or another writer");
    CHECK(h.activity == 0, "activity %ld", h.activity);
    CHECK(h.reads > 0 && h.writes > 0, "reads %ld writes %ld", (long)h.reads, (long)h.writes);
    CHECK(gosync_rwmutex_readers(&h.rw) == 0 && !gosync_rwmutex_writer(&h.rw) &&
              gosync_rwmutex_reader_wait(&h.rw) == 0 && mutex_quiet(&h.rw.w),
          "not quiet: readers %u writer %d wait %u", gosync_rwmutex_readers(&h.rw),
          gosync_rwmutex_writer(&h.rw), gosync_rwmutex_reader_wait(&h.rw));
    printf("  %ld reads, %ld writes, %ld gave up\n", (long)h.reads, (long)h.writes,
           (long)h.timed_out);
    report("rwmutex hammer with timeouts", ok);
}

static void test_rwmutex_misuse(void)
{
    int ok = 1;
    gosync_rwmutex rw;
    memset(&rw, 0, sizeof rw);
    CHECK(gosync_rwmutex_runlock(&rw) == GOSYNC_MISUSE, "RUnlock of unlocked accepted");
    CHECK(gosync_rwmutex_unlock(&rw) == GOSYNC_MISUSE, "Unlock of unlocked accepted");
    CHECK(gosync_rwmutex_lock(&rw, GOSYNC_NO_DEADLINE) == GOSYNC_OK, "lock");
    CHECK(gosync_rwmutex_runlock(&rw) == GOSYNC_MISUSE, "RUnlock of write-locked accepted");
    CHECK(gosync_rwmutex_rlock(&rw, gosync_now_ns() + 2000000) == GOSYNC_TIMEDOUT, "rlock");
    CHECK(gosync_rwmutex_readers(&rw) == 0, "a reader that gave up stayed counted");
    CHECK(gosync_rwmutex_unlock(&rw) == GOSYNC_OK, "unlock");
    CHECK(gosync_rwmutex_rlock(&rw, GOSYNC_NO_DEADLINE) == GOSYNC_OK, "rlock");
    CHECK(gosync_rwmutex_lock(&rw, gosync_now_ns() + 2000000) == GOSYNC_TIMEDOUT, "lock");
    CHECK(!gosync_rwmutex_writer(&rw) && gosync_rwmutex_reader_wait(&rw) == 0,
          "a writer that gave up left its mark");
    CHECK(gosync_rwmutex_try_rlock(&rw), "reader blocked after the writer gave up");
    CHECK(gosync_rwmutex_runlock(&rw) == GOSYNC_OK && gosync_rwmutex_runlock(&rw) == GOSYNC_OK,
          "runlock");
    CHECK(gosync_rwmutex_readers(&rw) == 0 && mutex_quiet(&rw.w), "not quiet");
    report("rwmutex misuse and timeouts", ok);
}

/* The last reader to leave wakes the writer waiting for it. Each round a
 * reader holds the lock, a writer announces itself, and the reader leaves at
 * once, so the reader's RUnlock races the writer's last look before it
 * sleeps. A lost wake-up shows as a Lock that returns only at its deadline. */
typedef struct {
    gosync_rwmutex rw;
    _Atomic int reader_in, writer_done;
    int rounds;
} rwhandoff_t;

static void *rw_last_reader_thread(void *arg)
{
    rwhandoff_t *h = arg;
    for (int r = 1; r <= h->rounds; r++) {
        if (gosync_rwmutex_rlock(&h->rw, GOSYNC_NO_DEADLINE) != GOSYNC_OK)
            abort();
        atomic_store(&h->reader_in, r);
        while (!gosync_rwmutex_writer(&h->rw))
            sched_yield();
        if (gosync_rwmutex_runlock(&h->rw) != GOSYNC_OK)
            abort();
        while (atomic_load(&h->writer_done) != r)
            sched_yield();
    }
    return NULL;
}

static void test_rwmutex_last_reader_wakes_writer(void)
{
    int ok = 1;
    rwhandoff_t h;
    memset(&h, 0, sizeof h);
    h.rounds = 20000 * scale;
    const int64_t late_ns = 100000000; /* 100 ms: no wake-up takes that long */
    long late = 0;
    pthread_t t;
    pthread_create(&t, NULL, rw_last_reader_thread, &h);
    for (int r = 1; r <= h.rounds; r++) {
        while (atomic_load(&h.reader_in) != r)
            sched_yield();
        int64_t t0 = gosync_now_ns();
        /* The deadline bounds a lost wake-up: the writer then finds the
         * reader gone and holds the lock after all. */
        int rc = gosync_rwmutex_lock(&h.rw, t0 + 2 * late_ns);
        late += gosync_now_ns() - t0 >= late_ns;
        CHECK(rc == GOSYNC_OK, "lock: %d", rc);
        CHECK(gosync_rwmutex_unlock(&h.rw) == GOSYNC_OK, "unlock");
        atomic_store(&h.writer_done, r);
    }
    pthread_join(t, NULL);
    CHECK(late == 0, "%ld of %d writers woke only at their deadline", late, h.rounds);
    report("rwmutex: the last reader wakes the writer", ok);
}

/* ---- WaitGroup: every waiter is released, exactly at zero ---------------- */

typedef struct {
    gosync_waitgroup wg;
    _Atomic int finished;
    _Atomic int early; /* a waiter released before every task finished */
    int tasks;
} wg_t;

static void *wg_task(void *arg)
{
    wg_t *w = arg;
    sched_yield();
    atomic_fetch_add(&w->finished, 1);
    if (gosync_waitgroup_add(&w->wg, -1) != GOSYNC_OK)
        abort();
    return NULL;
}

static void *wg_waiter(void *arg)
{
    wg_t *w = arg;
    int rc;
    /* Some waiters give up and come back, racing the release. */
    while ((rc = gosync_waitgroup_wait(&w->wg, gosync_now_ns() + 20000)) == GOSYNC_TIMEDOUT) {
    }
    if (rc != GOSYNC_OK || atomic_load(&w->finished) != w->tasks)
        atomic_store(&w->early, 1);
    return NULL;
}

static void test_waitgroup(void)
{
    int ok = 1;
    for (int round = 0; round < 50 * scale; round++) {
        wg_t w;
        memset(&w, 0, sizeof w);
        w.tasks = 6;
        CHECK(gosync_waitgroup_add(&w.wg, w.tasks) == GOSYNC_OK, "add");
        pthread_t t[10];
        for (int i = 0; i < 4; i++)
            pthread_create(&t[i], NULL, wg_waiter, &w);
        for (int i = 4; i < 10; i++)
            pthread_create(&t[i], NULL, wg_task, &w);
        for (int i = 0; i < 10; i++)
            pthread_join(t[i], NULL);
        CHECK(!atomic_load(&w.early), "round %d: a waiter returned early or saw misuse", round);
        CHECK(gosync_waitgroup_counter(&w.wg) == 0 && gosync_waitgroup_waiters(&w.wg) == 0,
              "round %d: counter %d waiters %u", round, gosync_waitgroup_counter(&w.wg),
              gosync_waitgroup_waiters(&w.wg));
        if (!ok)
            break;
    }
    report("waitgroup releases every waiter at zero", ok);
}

static void test_waitgroup_misuse(void)
{
    int ok = 1;
    gosync_waitgroup wg;
    memset(&wg, 0, sizeof wg);
    CHECK(gosync_waitgroup_add(&wg, -1) == GOSYNC_WG_NEGATIVE, "negative counter accepted");
    CHECK(gosync_waitgroup_counter(&wg) == 0, "misuse changed the counter");
    CHECK(gosync_waitgroup_add(&wg, (int64_t)INT32_MAX + 1) == GOSYNC_OVERFLOW, "overflow");
    CHECK(gosync_waitgroup_add(&wg, 1) == GOSYNC_OK, "add");
    CHECK(gosync_waitgroup_wait(&wg, gosync_now_ns() + 2000000) == GOSYNC_TIMEDOUT, "wait");
    CHECK(gosync_waitgroup_waiters(&wg) == 0, "a waiter that gave up stayed counted");
    CHECK(gosync_waitgroup_add(&wg, -1) == GOSYNC_OK, "done");
    CHECK(gosync_waitgroup_wait(&wg, GOSYNC_NO_DEADLINE) == GOSYNC_OK, "wait at zero");
    report("waitgroup misuse and timeouts", ok);
}

/* ---- Cond: no notification lost, none invented, oldest first ------------- */

typedef struct {
    gosync_cond c;
    _Atomic long woken, timed_out;
    _Atomic int stop;
    _Atomic int next_id;
} cond_t;

static void *cond_waiter(void *arg)
{
    cond_t *s = arg;
    int id = atomic_fetch_add(&s->next_id, 1);
    for (int i = 0; !atomic_load(&s->stop); i++) {
        uint32_t ticket;
        if (gosync_cond_add(&s->c, &ticket) != GOSYNC_OK)
            abort();
        int64_t deadline = ((i + id) % 3 == 0) ? GOSYNC_NO_DEADLINE : gosync_now_ns() + 30000;
        int rc;
        while ((rc = gosync_cond_wait(&s->c, ticket, deadline)) == GOSYNC_INTERRUPTED) {
        }
        atomic_fetch_add(rc == GOSYNC_OK ? &s->woken : &s->timed_out, 1);
    }
    return NULL;
}

static void test_cond_storm(void)
{
    int ok = 1;
    cond_t s;
    memset(&s, 0, sizeof s);
    pthread_t t[6];
    for (int i = 0; i < 6; i++)
        pthread_create(&t[i], NULL, cond_waiter, &s);
    long notified = 0;
    for (int i = 0; i < 20000 * scale; i++) {
        notified += (i % 50 == 0) ? gosync_cond_broadcast(&s.c) : gosync_cond_signal(&s.c);
        if (i % 8 == 0)
            sched_yield();
    }
    atomic_store(&s.stop, 1);
    /* Release the waiters that wait without a deadline. */
    while (gosync_cond_waiters(&s.c) > gosync_cond_pending(&s.c) || gosync_cond_pending(&s.c)) {
        notified += gosync_cond_broadcast(&s.c);
        sched_yield();
    }
    for (int i = 0; i < 6; i++)
        pthread_join(t[i], NULL);
    CHECK(s.woken == notified, "woken %ld, notified %ld", (long)s.woken, notified);
    CHECK(gosync_cond_waiters(&s.c) == 0 && gosync_cond_pending(&s.c) == 0, "not quiet");
    printf("  %ld notified, %ld timed out\n", notified, (long)s.timed_out);
    report("cond: every notification taken once, timeouts racing", ok);
}

static void test_cond_order(void)
{
    int ok = 1;
    gosync_cond c;
    memset(&c, 0, sizeof c);
    uint32_t t[5];
    for (int i = 0; i < 5; i++)
        gosync_cond_add(&c, &t[i]);
    CHECK(gosync_cond_signal(&c) == 1, "signal");
    /* The oldest waiters form G1: all five were there before the signal. */
    CHECK(gosync_cond_wait(&c, t[0], gosync_now_ns()) == GOSYNC_OK, "notified waiter");
    CHECK(gosync_cond_wait(&c, t[1], gosync_now_ns()) == GOSYNC_TIMEDOUT, "invented notification");
    uint32_t late;
    gosync_cond_add(&c, &late);
    CHECK(gosync_cond_broadcast(&c) == 4, "broadcast counted %u", gosync_cond_pending(&c));
    for (int i = 2; i < 5; i++)
        CHECK(gosync_cond_wait(&c, t[i], gosync_now_ns()) == GOSYNC_OK, "broadcast missed %d", i);
    CHECK(gosync_cond_wait(&c, late, gosync_now_ns()) == GOSYNC_OK, "late waiter missed");
    uint32_t after;
    gosync_cond_add(&c, &after);
    CHECK(gosync_cond_wait(&c, after, gosync_now_ns()) == GOSYNC_TIMEDOUT, "stolen notification");
    CHECK(gosync_cond_waiters(&c) == 0 && gosync_cond_pending(&c) == 0, "not quiet");
    report("cond: groups, broadcast, no stealing", ok);
}

/* ---- Typed atomics: exact results under contention ---------------------- */

/* Single-threaded: each operation's result, at the edges of each type. */
static void test_atomic_edges(void)
{
    int ok = 1;
    _Atomic int32_t i32 = INT32_MAX;
    _Atomic uint32_t u32 = 0;
    _Atomic int64_t i64 = INT64_MIN;
    _Atomic uint64_t u64 = UINT64_MAX;
    CHECK(gosync_atomic_add_int32(&i32, 1) == INT32_MIN, "int32 add wraps");
    CHECK(gosync_atomic_add_int32(&i32, -1) == INT32_MAX, "int32 add back");
    CHECK(gosync_atomic_add_uint32(&u32, UINT32_MAX) == UINT32_MAX, "uint32 add -1 from 0");
    CHECK(gosync_atomic_add_int64(&i64, -1) == INT64_MAX, "int64 add wraps down");
    CHECK(gosync_atomic_add_uint64(&u64, 1) == 0, "uint64 add wraps");
    CHECK(gosync_atomic_swap_uint64(&u64, 7) == 0 && gosync_atomic_load_uint64(&u64) == 7, "swap");
    CHECK(!gosync_atomic_cas_uint64(&u64, 6, 1) && gosync_atomic_load_uint64(&u64) == 7,
          "failed cas changed the word");
    CHECK(gosync_atomic_cas_uint64(&u64, 7, 1) && gosync_atomic_load_uint64(&u64) == 1, "cas");
    gosync_atomic_store_int32(&i32, 0x0f0f);
    CHECK(gosync_atomic_and_int32(&i32, 0x00ff) == 0x0f0f && gosync_atomic_load_int32(&i32) == 0x0f,
          "and returns the old value");
    CHECK(gosync_atomic_or_int32(&i32, INT32_MIN) == 0x0f &&
              gosync_atomic_load_int32(&i32) == (int32_t)(INT32_MIN | 0x0f),
          "or returns the old value");
    gosync_atomic_store_uint32(&u32, 5);
    CHECK(gosync_atomic_load_uint32(&u32) == 5, "store");
    report("atomics: results at the edges", ok);
}

typedef struct {
    _Atomic int32_t i32;
    _Atomic uint32_t u32;
    _Atomic int64_t i64;
    _Atomic uint64_t u64;
    _Atomic int64_t cas_counter;
    _Atomic uint64_t bits;  /* one bit per thread, flipped with or/and */
    _Atomic uint64_t halves; /* always hi == lo, unless a read is torn */
    _Atomic long cas_retries, bit_errors, torn;
    _Atomic int next_id;
    int iters;
} atomic_hammer_t;

static void *atomic_hammer_thread(void *arg)
{
    atomic_hammer_t *h = arg;
    int id = atomic_fetch_add(&h->next_id, 1);
    /* Even threads add 3, odd ones subtract 1 (all ones, for unsigned). */
    int32_t d32 = id % 2 == 0 ? 3 : -1;
    int64_t d64 = d32;
    uint64_t bit = UINT64_C(1) << (id == 0 ? 63 : id);
    for (int i = 0; i < h->iters; i++) {
        gosync_atomic_add_int32(&h->i32, d32);
        gosync_atomic_add_uint32(&h->u32, (uint32_t)d32);
        gosync_atomic_add_int64(&h->i64, d64);
        gosync_atomic_add_uint64(&h->u64, (uint64_t)d64);
        for (;;) {
            int64_t old = gosync_atomic_load_int64(&h->cas_counter);
            if (gosync_atomic_cas_int64(&h->cas_counter, old, old + 1))
                break;
            atomic_fetch_add(&h->cas_retries, 1);
        }
        if (gosync_atomic_or_uint64(&h->bits, bit) & bit)
            atomic_fetch_add(&h->bit_errors, 1);
        if (!(gosync_atomic_and_uint64(&h->bits, ~bit) & bit))
            atomic_fetch_add(&h->bit_errors, 1);
        uint64_t k = (uint64_t)(uint32_t)(i * 2654435761u + (unsigned)id);
        if (id % 2 == 0)
            gosync_atomic_store_uint64(&h->halves, k << 32 | k);
        uint64_t seen = gosync_atomic_load_uint64(&h->halves);
        if (seen >> 32 != (seen & 0xffffffffu))
            atomic_fetch_add(&h->torn, 1);
    }
    return NULL;
}

static void test_atomic_hammer(void)
{
    int ok = 1, threads = 8;
    atomic_hammer_t h;
    memset(&h, 0, sizeof h);
    h.iters = 100000 * scale;
    /* Start near the top of each range, so that the total crosses the wrap. */
    int64_t total = (int64_t)(threads / 2) * h.iters * 3 - (int64_t)(threads / 2) * h.iters;
    h.i32 = INT32_MAX - 1000;
    h.u32 = UINT32_MAX - 1000;
    h.i64 = INT64_MAX - 1000;
    h.u64 = UINT64_MAX - 1000;
    run_threads(threads, atomic_hammer_thread, &h);
    CHECK(h.i32 == (int32_t)(uint32_t)((uint32_t)(INT32_MAX - 1000) + (uint32_t)total),
          "int32 %d", (int)h.i32);
    CHECK(h.u32 == (uint32_t)(UINT32_MAX - 1000 + (uint32_t)total), "uint32 %u", (unsigned)h.u32);
    CHECK(h.i64 == (int64_t)((uint64_t)(INT64_MAX - 1000) + (uint64_t)total), "int64 %lld",
          (long long)h.i64);
    CHECK(h.u64 == UINT64_MAX - 1000 + (uint64_t)total, "uint64 %llu", (unsigned long long)h.u64);
    CHECK(h.cas_counter == (int64_t)threads * h.iters, "cas counter %lld",
          (long long)h.cas_counter);
    CHECK(h.bits == 0 && h.bit_errors == 0, "%ld and/or results wrong", (long)h.bit_errors);
    CHECK(h.torn == 0, "%ld torn 64-bit reads", (long)h.torn);
    printf("  %ld compare-and-swap retries\n", (long)h.cas_retries);
    report("atomics: hammer, exact across the wrap", ok);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* lines survive a kill by timeout */
    if (argc > 1)
        scale = atoi(argv[1]) > 0 ? atoi(argv[1]) : 1;
    printf("gosync C harness: %d CPU(s) available, scale %d\n", gosync_ncpu(), scale);
    test_mutex_misuse();
    test_mutex_hammer();
    test_mutex_timeout_storm();
    test_mutex_starvation();
    test_sema_tokens();
    test_sema_lifetime();
    test_rwmutex_misuse();
    test_rwmutex_hammer();
    test_rwmutex_last_reader_wakes_writer();
    test_waitgroup_misuse();
    test_waitgroup();
    test_cond_order();
    test_cond_storm();
    test_atomic_edges();
    test_atomic_hammer();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
