/* A pure-C pthread harness for the C core, meant to run under
 * ThreadSanitizer and AddressSanitizer+UBSan (see run.sh beside it).
 *
 * Each check prints one line and the harness ends with "N passed, M failed".
 * Threads outnumber cores on purpose: with `taskset -c 0` every thread is
 * preempted inside critical sections, unpinned they really run in parallel.
 *
 * Usage: harness [scale [filter]]
 *   scale multiplies the iteration counts (default 1); filter runs only the
 *   cases whose key contains it (see the table in main).
 *
 * The cases marked "replay" stop a thread at one of the core's preemption
 * points (testhook.h; run.sh builds with -DGOSYNC_TEST_HOOKS) to replay an
 * interleaving that is a few instructions wide, one per defect of issue 11.
 * Each failed on the core before the fixes and passes on it after.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "atomic.h"
#include "chan.h"
#include "cond.h"
#include "mutex.h"
#include "rwmutex.h"
#include "waitgroup.h"
#include "weighted.h"
#include "park.h"
#include "profile.h"
#include "sema.h"
#include "testhook.h"
#include "check.h"

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

/* ---- Preemption points: the harness side of testhook.h ------------------
 *
 * A thread arms a point for itself (hook_arm: thread-local, so a point that
 * no thread armed costs one look at a thread-local table and nothing that
 * another thread or a sanitizer can see). When the armed thread reaches the
 * point, the hook counts the hit; a stopping hook then marks itself arrived
 * and blocks until the test calls hook_release, or until HOOK_TIMEOUT_MS has
 * passed (then it records the timeout, which fails the case, and lets the
 * thread go on, so that nothing hangs). A stopping hook stops its thread
 * once; a counting one (stop = false) only counts. */

#define HOOK_SLOTS 4
#define HOOK_TIMEOUT_MS 20000

typedef struct {
    const char *point;
    bool stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int hits;
    bool arrived, released, left, timed_out;
} hook_t;

static _Thread_local hook_t *armed_hooks[HOOK_SLOTS];

static void hook_init(hook_t *h, const char *point, bool stop)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    memset(h, 0, sizeof *h);
    h->point = point;
    h->stop = stop;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, &attr);
    pthread_condattr_destroy(&attr);
}

static void hook_destroy(hook_t *h)
{
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
}

/* Arms h for the calling thread. */
static void hook_arm(hook_t *h)
{
    for (int i = 0; i < HOOK_SLOTS; i++)
        if (!armed_hooks[i]) {
            armed_hooks[i] = h;
            return;
        }
    abort();
}

static void hook_disarm_all(void)
{
    for (int i = 0; i < HOOK_SLOTS; i++)
        armed_hooks[i] = NULL;
}

static struct timespec abs_ms(int ms)
{
    int64_t t = gosync_now_ns() + (int64_t)ms * 1000000;
    struct timespec ts = {(time_t)(t / 1000000000), (long)(t % 1000000000)};
    return ts;
}

void gosync_test_hook(const char *point)
{
    for (int i = 0; i < HOOK_SLOTS; i++) {
        hook_t *h = armed_hooks[i];
        if (!h || strcmp(h->point, point) != 0)
            continue;
        pthread_mutex_lock(&h->mu);
        h->hits++;
        if (h->stop && !h->arrived) {
            h->arrived = true;
            pthread_cond_broadcast(&h->cv);
            struct timespec until = abs_ms(HOOK_TIMEOUT_MS);
            int rc = 0;
            while (!h->released && rc != ETIMEDOUT)
                rc = pthread_cond_timedwait(&h->cv, &h->mu, &until);
            if (!h->released)
                h->timed_out = true;
            h->left = true;
            pthread_cond_broadcast(&h->cv);
        }
        pthread_mutex_unlock(&h->mu);
    }
}

/* Waits until the field is set, at most ms; returns it. */
static bool hook_await(hook_t *h, const bool *field, int ms)
{
    struct timespec until = abs_ms(ms);
    int rc = 0;
    pthread_mutex_lock(&h->mu);
    while (!*field && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&h->cv, &h->mu, &until);
    bool seen = *field;
    pthread_mutex_unlock(&h->mu);
    return seen;
}

/* Whether the armed thread reached the point within ms. */
static bool hook_arrived(hook_t *h, int ms)
{
    return hook_await(h, &h->arrived, ms);
}

/* Lets the stopped thread go on (or lets it pass without stopping, if it has
 * not arrived yet). */
static void hook_release(hook_t *h)
{
    pthread_mutex_lock(&h->mu);
    h->released = true;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

/* Releases the thread and waits until it has left the hook. */
static bool hook_release_left(hook_t *h, int ms)
{
    hook_release(h);
    return hook_await(h, &h->left, ms);
}

static int hook_hits(hook_t *h)
{
    pthread_mutex_lock(&h->mu);
    int n = h->hits;
    pthread_mutex_unlock(&h->mu);
    return n;
}

static bool hook_timed_out(hook_t *h)
{
    pthread_mutex_lock(&h->mu);
    bool t = h->timed_out;
    pthread_mutex_unlock(&h->mu);
    return t;
}

/* ---- Actors: the threads of a replayed interleaving ----------------------
 *
 * An actor arms its hooks, runs its body, records rc and when it returned,
 * and marks itself done. The test waits for it with a timeout: an actor that
 * does not finish is a failure, which is reported, and then detached (its
 * case leaks its state rather than free memory a thread still uses). */

typedef struct actor {
    pthread_t thread;
    _Atomic int tid;
    _Atomic int done;
    bool running;
    void (*body)(struct actor *);
    void *ctx;
    hook_t *arm[HOOK_SLOTS];
    int rc;
    int64_t returned; /* gosync_now_ns() when body's call returned */
} actor_t;

static int gettid_(void)
{
    return (int)syscall(SYS_gettid);
}

static void *actor_main(void *arg)
{
    actor_t *a = arg;
    atomic_store(&a->tid, gettid_());
    for (int i = 0; i < HOOK_SLOTS; i++)
        if (a->arm[i])
            hook_arm(a->arm[i]);
    a->body(a);
    hook_disarm_all();
    atomic_store(&a->done, 1);
    return NULL;
}

static void actor_start(actor_t *a, void (*body)(actor_t *), void *ctx)
{
    a->body = body;
    a->ctx = ctx;
    a->running = true;
    if (pthread_create(&a->thread, NULL, actor_main, a) != 0)
        abort();
    while (atomic_load(&a->tid) == 0)
        sched_yield();
}

static void nap_us(int us)
{
    struct timespec ts = {us / 1000000, (long)(us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* Polls expr every 200 us for at most ms; its last value. */
#define WAIT_FOR(expr, ms)                                                 \
    ({                                                                     \
        int64_t wait_end_ = gosync_now_ns() + (int64_t)(ms) * 1000000;     \
        bool wait_ok_;                                                     \
        while (!(wait_ok_ = (expr)) && gosync_now_ns() < wait_end_)        \
            nap_us(200);                                                   \
        wait_ok_;                                                          \
    })

/* Joins the actor if it finishes within ms. */
static bool actor_join(actor_t *a, int ms)
{
    if (!a->running)
        return true;
    if (!WAIT_FOR(atomic_load(&a->done), ms))
        return false;
    pthread_join(a->thread, NULL);
    a->running = false;
    return true;
}

/* The actor's rc once it has finished (its done flag orders the read after
 * the write), else -1. */
static int rc_of(actor_t *a)
{
    return atomic_load(&a->done) ? a->rc : -1;
}

/* The last resort for an actor that did not finish: report it and detach. */
static bool actor_abandon(actor_t *a)
{
    if (!a->running)
        return false;
    pthread_detach(a->thread);
    a->running = false;
    return true;
}

/* A thread's scheduler state from /proc ('S' while it sleeps in the kernel,
 * 'R' while it runs or spins), or '?' where there is no /proc. */
static char thread_state(int tid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return '?';
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : '?';
}

/* Whether the actor is asleep (seen sleeping twice, 1 ms apart) within ms.
 * Without /proc it waits 50 ms and assumes so. */
static bool actor_sleeping(actor_t *a, int ms)
{
    int tid = atomic_load(&a->tid);
    if (thread_state(tid) == '?') {
        nap_us(50000);
        return true;
    }
    int64_t end = gosync_now_ns() + (int64_t)ms * 1000000;
    do {
        if (thread_state(tid) == 'S') {
            nap_us(1000);
            if (thread_state(tid) == 'S')
                return true;
        }
        nap_us(200);
    } while (gosync_now_ns() < end);
    return false;
}

static int skipped;

static void skip(const char *name, const char *why)
{
    printf("skip %s: %s\n", name, why);
    skipped++;
}

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define UNDER_SANITIZER 1
#else
#define UNDER_SANITIZER 0
#endif

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
        /* A writer that gave up (a failure, reported) clears its mark before
         * this loop may have seen it: stop waiting for it then. */
        while (!gosync_rwmutex_writer(&h->rw) && atomic_load(&h->writer_done) != r)
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
    /* A lost wake-up shows as a writer that sleeps until its deadline, 2 s.
     * 1.5 s: no wake-up takes that long, even on a loaded machine (where
     * hundreds of ms happen). */
    const int64_t late_ns = 1500000000, deadline_ns = 2000000000;
    long late = 0;
    int64_t slowest = 0;
    pthread_t t;
    pthread_create(&t, NULL, rw_last_reader_thread, &h);
    for (int r = 1; r <= h.rounds; r++) {
        while (atomic_load(&h.reader_in) != r)
            sched_yield();
        int64_t t0 = gosync_now_ns();
        /* The deadline bounds a lost wake-up: the writer then finds the
         * reader gone and holds the lock after all. */
        int rc = gosync_rwmutex_lock(&h.rw, t0 + deadline_ns);
        int64_t took = gosync_now_ns() - t0;
        late += took >= late_ns;
        if (took > slowest)
            slowest = took;
        CHECK(rc == GOSYNC_OK, "lock: %d", rc);
        if (rc == GOSYNC_OK)
            CHECK(gosync_rwmutex_unlock(&h.rw) == GOSYNC_OK, "unlock");
        atomic_store(&h.writer_done, r);
    }
    pthread_join(t, NULL);
    CHECK(late == 0, "%ld of %d writers took 1.5 s or more (the slowest %lld ms; the deadline "
                     "is at 2 s)", late, h.rounds, (long long)(slowest / 1000000));
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

/* ==== Replays of issue 11's defects ====================================== */

/* Joins every actor within ms each; reports those that did not finish. */
static bool finish_all(actor_t **as, const char **names, int n, int ms, int *ok_)
{
    int ok = *ok_;
    bool all = true;
    for (int i = 0; i < n; i++) {
        if (actor_join(as[i], ms))
            continue;
        CHECK(0, "%s did not finish", names[i]);
        actor_abandon(as[i]);
        all = false;
    }
    *ok_ = ok;
    return all;
}

/* ---- D1: Mutex, a waiter past its deadline waits for a token another
 * thread takes. H holds; G locks with a 300 ms deadline; H's unlock is
 * stopped between its CAS and its release; G's deadline passes and it gives
 * up owed; Z takes the mutex and holds it; H adds the token but is stopped
 * before its wake; Y queues, takes that token without being woken, and
 * queues again behind Z. G must give up by its deadline, not at Z's unlock
 * (before the fix: when Z unlocked, 1.5 s later, and with the lock). */

typedef struct {
    gosync_mutex m;
    hook_t h_release, h_added, g_await;
    int64_t g_deadline;
    _Atomic int z_holding, z_stop;
    int z_hold_ms;
} d1_t;

static void d1_h(actor_t *a)
{
    d1_t *d = a->ctx;
    a->rc = gosync_mutex_unlock(&d->m);
}

static void d1_g(actor_t *a)
{
    d1_t *d = a->ctx;
    a->rc = gosync_mutex_lock(&d->m, d->g_deadline);
    a->returned = gosync_now_ns();
    if (a->rc == GOSYNC_OK)
        gosync_mutex_unlock(&d->m);
}

static void d1_z(actor_t *a)
{
    d1_t *d = a->ctx;
    a->rc = gosync_mutex_lock(&d->m, GOSYNC_NO_DEADLINE);
    atomic_store(&d->z_holding, 1);
    int64_t until = gosync_now_ns() + (int64_t)d->z_hold_ms * 1000000;
    while (!atomic_load(&d->z_stop) && gosync_now_ns() < until)
        nap_us(1000);
    atomic_store(&d->z_holding, 0);
    gosync_mutex_unlock(&d->m);
}

static void d1_y(actor_t *a)
{
    d1_t *d = a->ctx;
    a->rc = gosync_mutex_lock(&d->m, GOSYNC_NO_DEADLINE);
    if (a->rc == GOSYNC_OK)
        gosync_mutex_unlock(&d->m);
}

static void test_d1_mutex_owed_token_taken(void)
{
    int ok = 1;
    d1_t *d = calloc(1, sizeof *d);
    actor_t *h = calloc(1, sizeof *h), *g = calloc(1, sizeof *g), *z = calloc(1, sizeof *z),
            *y = calloc(1, sizeof *y);
    hook_init(&d->h_release, "mutex.unlock.release", true);
    hook_init(&d->h_added, "sema.release.added", true);
    hook_init(&d->g_await, "mutex.give_up.await", true);
    d->z_hold_ms = 1500;
    h->arm[0] = &d->h_release;
    h->arm[1] = &d->h_added;
    g->arm[0] = &d->g_await;

    CHECK(gosync_mutex_lock(&d->m, GOSYNC_NO_DEADLINE) == GOSYNC_OK, "H's lock");
    /* 300 ms: G must queue, and H stop, before it passes, even on a loaded
     * machine. */
    d->g_deadline = ms_from_now(300);
    actor_start(g, d1_g, d);
    CHECK(WAIT_FOR(gosync_sema_waiters(&d->m.sema) == 1, 2000) && actor_sleeping(g, 2000),
          "G did not queue");
    actor_start(h, d1_h, d);
    CHECK(hook_arrived(&d->h_release, 2000), "H's unlock never reached mutex.unlock.release");
    /* G's deadline passes while the token is owed to it. */
    CHECK(hook_arrived(&d->g_await, 2000), "G did not give up owed (mutex.give_up.await)");
    actor_start(z, d1_z, d);
    CHECK(WAIT_FOR(atomic_load(&d->z_holding), 2000), "Z did not take the mutex");
    CHECK(hook_release_left(&d->g_await, 2000) && actor_sleeping(g, 2000),
          "G did not sleep for its owed token");
    hook_release(&d->h_release);
    CHECK(hook_arrived(&d->h_added, 2000), "H's release never reached sema.release.added");
    /* Y takes the free token without being woken, then queues behind Z. */
    actor_start(y, d1_y, d);
    CHECK(WAIT_FOR(gosync_sema_tokens(&d->m.sema) == 0, 2000), "Y did not take the token");
    CHECK(actor_sleeping(y, 2000), "Y did not queue behind Z");
    hook_release(&d->h_added);

    bool g_done = actor_join(g, d->z_hold_ms + 2000);
    CHECK(g_done, "G's lock did not return");
    if (g_done) {
        /* Z holds the mutex until G has returned (or for z_hold_ms): G must
         * return while Z still holds it. */
        bool z_held = atomic_load(&d->z_holding);
        int64_t late_ms = (g->returned - d->g_deadline) / 1000000;
        printf("  G gave up %lld ms after its deadline\n", (long long)late_ms);
        CHECK(rc_of(g) == GOSYNC_TIMEDOUT && z_held && late_ms < 1000,
              "G's lock(timeout=300ms) returned %d %lld ms after its deadline, %s Z's unlock "
              "(want %d, before)",
              rc_of(g), (long long)late_ms, z_held ? "before" : "after", GOSYNC_TIMEDOUT);
    }
    atomic_store(&d->z_stop, 1);
    actor_t *all[] = {h, g, z, y};
    const char *names[] = {"H", "G", "Z", "Y"};
    hook_release(&d->h_release);
    hook_release(&d->h_added);
    hook_release(&d->g_await);
    bool joined = finish_all(all, names, 4, 5000, &ok);
    CHECK(rc_of(h) == GOSYNC_OK && rc_of(z) == GOSYNC_OK && rc_of(y) == GOSYNC_OK, "H %d Z %d Y %d", rc_of(h),
          rc_of(z), rc_of(y));
    CHECK(mutex_quiet(&d->m) && !gosync_sema_owed(&d->m.sema),
          "not quiet: state %d tokens %u waiters %u owed %d", gosync_mutex_state(&d->m),
          gosync_sema_tokens(&d->m.sema), gosync_sema_waiters(&d->m.sema),
          gosync_sema_owed(&d->m.sema));
    CHECK(!hook_timed_out(&d->h_release) && !hook_timed_out(&d->h_added) &&
              !hook_timed_out(&d->g_await),
          "a stopped thread was never released");
    if (joined) {
        hook_destroy(&d->h_release);
        hook_destroy(&d->h_added);
        hook_destroy(&d->g_await);
        free(d), free(h), free(g), free(z), free(y);
    }
    report("replay D1: mutex waiter past its deadline, its owed token taken by a newcomer", ok);
}

/* ---- D1, starvation mode: the other owed case, the sole receiver of a
 * handoff. G is the only waiter of a starving mutex that H holds (STARVING
 * is set directly: the state a waiter that waited over 1 ms leaves). H's
 * unlock hands off and is stopped before its release; G's deadline passes
 * and it gives up owed, and is stopped before it waits for the token
 * (mutex.give_up.await). H's release finds nobody asleep, so the handed
 * token turns free; Y queues, takes it without being woken and takes the
 * mutex over. G, let go, must give up at once, not at Y's unlock (before
 * the fix: it queued for the token that Y had taken, and got the lock when
 * Y unlocked, 1.5 s later). */

typedef struct {
    gosync_mutex m;
    hook_t h_handoff, g_await;
    int64_t g_deadline;
    _Atomic int y_holding, y_stop;
} d1s_t;

static void d1s_h(actor_t *a)
{
    d1s_t *d = a->ctx;
    a->rc = gosync_mutex_unlock(&d->m);
}

static void d1s_g(actor_t *a)
{
    d1s_t *d = a->ctx;
    a->rc = gosync_mutex_lock(&d->m, d->g_deadline);
    a->returned = gosync_now_ns();
    if (a->rc == GOSYNC_OK)
        gosync_mutex_unlock(&d->m);
}

static void d1s_y(actor_t *a)
{
    d1s_t *d = a->ctx;
    a->rc = gosync_mutex_lock(&d->m, GOSYNC_NO_DEADLINE);
    atomic_store(&d->y_holding, 1);
    int64_t until = ms_from_now(1500);
    while (!atomic_load(&d->y_stop) && gosync_now_ns() < until)
        nap_us(1000);
    atomic_store(&d->y_holding, 0);
    gosync_mutex_unlock(&d->m);
}

static void test_d1s_mutex_owed_handoff_taken(void)
{
    int ok = 1;
    d1s_t *d = calloc(1, sizeof *d);
    actor_t *h = calloc(1, sizeof *h), *g = calloc(1, sizeof *g), *y = calloc(1, sizeof *y);
    hook_init(&d->h_handoff, "mutex.unlock.handoff", true);
    hook_init(&d->g_await, "mutex.give_up.await", true);
    h->arm[0] = &d->h_handoff;
    g->arm[0] = &d->g_await;

    CHECK(gosync_mutex_lock(&d->m, GOSYNC_NO_DEADLINE) == GOSYNC_OK, "H's lock");
    d->g_deadline = ms_from_now(300);
    actor_start(g, d1s_g, d);
    CHECK(WAIT_FOR(gosync_sema_waiters(&d->m.sema) == 1, 2000) && actor_sleeping(g, 2000),
          "G did not queue");
    atomic_fetch_or(&d->m.state, GOSYNC_MUTEX_STARVING);
    actor_start(h, d1s_h, d);
    CHECK(hook_arrived(&d->h_handoff, 2000), "H's unlock did not hand off");
    CHECK(hook_arrived(&d->g_await, 2000), "G did not give up owed (mutex.give_up.await)");
    /* H's handoff release finds nobody asleep: the token turns free. */
    CHECK(hook_release_left(&d->h_handoff, 2000) && actor_join(h, 2000), "H did not finish");
    actor_start(y, d1s_y, d);
    CHECK(WAIT_FOR(atomic_load(&d->y_holding), 2000), "Y did not take the mutex over");
    /* Y took the free token without a wake and took over: LOCKED, G still
     * counted, no longer starving, no token left. */
    CHECK(gosync_mutex_state(&d->m) == (GOSYNC_MUTEX_LOCKED | 1 << GOSYNC_MUTEX_WAITER_SHIFT) &&
              gosync_sema_tokens(&d->m.sema) == 0,
          "after Y's takeover: state %d tokens %u", gosync_mutex_state(&d->m),
          gosync_sema_tokens(&d->m.sema));
    hook_release(&d->g_await);
    bool g_done = actor_join(g, 3500);
    CHECK(g_done, "G's lock did not return");
    if (g_done) {
        bool y_held = atomic_load(&d->y_holding);
        int64_t late_ms = (g->returned - d->g_deadline) / 1000000;
        printf("  G gave up %lld ms after its deadline\n", (long long)late_ms);
        CHECK(rc_of(g) == GOSYNC_TIMEDOUT && y_held && late_ms < 1000,
              "G's lock(timeout=300ms) returned %d %lld ms after its deadline, %s Y's unlock "
              "(want %d, before)",
              rc_of(g), (long long)late_ms, y_held ? "before" : "after", GOSYNC_TIMEDOUT);
    }
    atomic_store(&d->y_stop, 1);
    hook_release(&d->h_handoff);
    hook_release(&d->g_await);
    actor_t *all[] = {h, g, y};
    const char *names[] = {"H", "G", "Y"};
    bool joined = finish_all(all, names, 3, 5000, &ok);
    CHECK(rc_of(h) == GOSYNC_OK && rc_of(y) == GOSYNC_OK, "H %d Y %d", rc_of(h), rc_of(y));
    CHECK(mutex_quiet(&d->m) && !gosync_sema_owed(&d->m.sema),
          "not quiet: state %d tokens %u waiters %u owed %d", gosync_mutex_state(&d->m),
          gosync_sema_tokens(&d->m.sema), gosync_sema_waiters(&d->m.sema),
          gosync_sema_owed(&d->m.sema));
    CHECK(!hook_timed_out(&d->h_handoff) && !hook_timed_out(&d->g_await),
          "a stopped thread was never released");
    if (joined) {
        hook_destroy(&d->h_handoff);
        hook_destroy(&d->g_await);
        free(d), free(h), free(g), free(y);
    }
    report("replay D1: mutex, the sole receiver of a handoff gives up, a newcomer takes it", ok);
}

/* ---- D2: WaitGroup, add(0) during a release released a second time. R's
 * done() releases W and is stopped before its wake; T's add(0) must not
 * release again; the group is reused (W returns, add(1), W2 waits with a
 * 2 s deadline, done()). Before the fix, R's late store wiped the new
 * cycle: done() failed with "negative counter", and W2 hung. */

typedef struct {
    gosync_waitgroup wg;
    hook_t r_released, t_released;
} d2_t;

static void d2_w(actor_t *a)
{
    d2_t *d = a->ctx;
    a->rc = gosync_waitgroup_wait(&d->wg, ms_from_now(5000));
    a->returned = gosync_now_ns();
}

static void d2_w2(actor_t *a)
{
    d2_t *d = a->ctx;
    a->rc = gosync_waitgroup_wait(&d->wg, ms_from_now(2000));
    a->returned = gosync_now_ns();
}

static void d2_done(actor_t *a)
{
    d2_t *d = a->ctx;
    a->rc = gosync_waitgroup_add(&d->wg, -1);
}

static void d2_add0(actor_t *a)
{
    d2_t *d = a->ctx;
    a->rc = gosync_waitgroup_add(&d->wg, 0);
}

/* A spurious wake-up of every waiter (which park.h allows): they look at
 * the word again. */
static void wg_poke(gosync_waitgroup *wg)
{
    char *low = (char *)&wg->state;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    low += 4;
#endif
    gosync_park_wake((_Atomic uint32_t *)low, INT32_MAX, GOSYNC_PARK_ANY, wg->park_flags);
}

/* For a waiter that the old core leaves asleep for good: advance the
 * generation (the low 16 bits in every version) and wake the word. */
static void wg_rescue(gosync_waitgroup *wg)
{
    uint64_t old = atomic_load(&wg->state), new;
    do
        new = (old & ~UINT64_C(0xffff)) | ((old + 1) & 0xffff);
    while (!atomic_compare_exchange_weak(&wg->state, &old, new));
    wg_poke(wg);
}

static void test_d2_waitgroup_add0_during_release(void)
{
    int ok = 1;
    d2_t *d = calloc(1, sizeof *d);
    actor_t *w = calloc(1, sizeof *w), *r = calloc(1, sizeof *r), *t = calloc(1, sizeof *t),
            *w2 = calloc(1, sizeof *w2);
    hook_init(&d->r_released, "waitgroup.add.released", true);
    hook_init(&d->t_released, "waitgroup.add.released", false); /* counts */
    r->arm[0] = &d->r_released;
    t->arm[0] = &d->t_released;

    CHECK(gosync_waitgroup_add(&d->wg, 1) == GOSYNC_OK, "add(1)");
    actor_start(w, d2_w, d);
    CHECK(WAIT_FOR(gosync_waitgroup_waiters(&d->wg) == 1, 2000) && actor_sleeping(w, 2000),
          "W did not wait");
    actor_start(r, d2_done, d);
    CHECK(hook_arrived(&d->r_released, 2000), "R's done() did not release");
    actor_start(t, d2_add0, d);
    CHECK(actor_join(t, 2000) && rc_of(t) == GOSYNC_OK, "T's add(0): %d", rc_of(t));
    CHECK(hook_hits(&d->t_released) == 0,
          "add(0) during R's release released the waiters again (%d releases by T)",
          hook_hits(&d->t_released));
    /* R's wake has not come: a spurious one lets W see its release. */
    wg_poke(&d->wg);
    CHECK(actor_join(w, 2000) && rc_of(w) == GOSYNC_OK, "W: %d", rc_of(w));

    /* Reuse, while R's release has not woken anybody yet. */
    CHECK(gosync_waitgroup_counter(&d->wg) == 0 && gosync_waitgroup_waiters(&d->wg) == 0,
          "before reuse: counter %d waiters %u", gosync_waitgroup_counter(&d->wg),
          gosync_waitgroup_waiters(&d->wg));
    CHECK(gosync_waitgroup_add(&d->wg, 1) == GOSYNC_OK, "reuse: add(1)");
    actor_start(w2, d2_w2, d);
    CHECK(WAIT_FOR(gosync_waitgroup_waiters(&d->wg) == 1, 2000) && actor_sleeping(w2, 2000),
          "W2 did not wait");
    CHECK(hook_release_left(&d->r_released, 2000), "R did not resume");
    CHECK(actor_join(r, 2000) && rc_of(r) == GOSYNC_OK, "R's done(): %d", rc_of(r));
    CHECK(gosync_waitgroup_counter(&d->wg) == 1 && gosync_waitgroup_waiters(&d->wg) == 1,
          "R's release changed the new cycle: counter %d waiters %u (want 1, 1)",
          gosync_waitgroup_counter(&d->wg), gosync_waitgroup_waiters(&d->wg));
    int rc = gosync_waitgroup_add(&d->wg, -1);
    CHECK(rc == GOSYNC_OK, "the new cycle's done() returned %d (want %d)", rc, GOSYNC_OK);
    bool w2_done = actor_join(w2, 3000);
    CHECK(w2_done && rc_of(w2) == GOSYNC_OK, "W2 (deadline 2 s): %s, rc %d",
          w2_done ? "returned" : "still waiting 3 s later", rc_of(w2));
    if (!w2_done) {
        wg_rescue(&d->wg);
        w2_done = actor_join(w2, 2000);
    }
    CHECK(hook_hits(&d->r_released) == 1, "R released %d times", hook_hits(&d->r_released));
    CHECK(gosync_waitgroup_counter(&d->wg) == 0 && gosync_waitgroup_waiters(&d->wg) == 0,
          "end: counter %d waiters %u", gosync_waitgroup_counter(&d->wg),
          gosync_waitgroup_waiters(&d->wg));
    hook_release(&d->r_released);
    actor_t *all[] = {w, r, t, w2};
    const char *names[] = {"W", "R", "T", "W2"};
    bool joined = finish_all(all, names, 4, 3000, &ok);
    CHECK(!hook_timed_out(&d->r_released), "R was never released");
    if (joined) {
        hook_destroy(&d->r_released);
        hook_destroy(&d->t_released);
        free(d), free(w), free(r), free(t), free(w2);
    }
    report("replay D2: waitgroup add(0) during a release, then reuse", ok);
}

/* ---- D4: WaitGroup, a signal forgotten when the give-up CAS fails. The
 * waiter's park ends with EINTR and it is stopped at waitgroup.wait.parked;
 * another thread does add(1). If the core has the point
 * waitgroup.wait.give_up (between the give-up's load and its CAS), the
 * waiter is stopped there too and another add(1) makes that CAS fail.
 * Wait must return GOSYNC_INTERRUPTED at once (before the fix it slept
 * again, until the group was released). */

#ifndef GOSYNC_PARK_PORTABLE
typedef struct {
    gosync_waitgroup wg;
    hook_t parked, give_up;
} d4_t;

static void d4_waiter(actor_t *a)
{
    d4_t *d = a->ctx;
    a->rc = gosync_waitgroup_wait(&d->wg, ms_from_now(10000));
    a->returned = gosync_now_ns();
}

static void on_sigusr1(int sig)
{
    (void)sig;
}
#endif

static void test_d4_waitgroup_signal_not_forgotten(void)
{
    const char *name = "replay D4: waitgroup wait keeps a signal when its give-up CAS fails";
#ifdef GOSYNC_PARK_PORTABLE
    skip(name, "the portable park sleeps on a pthread condvar, which a signal does not "
               "interrupt (no EINTR)");
#else
    int ok = 1;
    d4_t *d = calloc(1, sizeof *d);
    actor_t *w = calloc(1, sizeof *w);
    hook_init(&d->parked, "waitgroup.wait.parked", true);
    hook_init(&d->give_up, "waitgroup.wait.give_up", true);
    w->arm[0] = &d->parked;
    w->arm[1] = &d->give_up;
    struct sigaction sa, prev;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigusr1; /* no SA_RESTART: the futex wait ends with EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, &prev);

    int counter = 1;
    CHECK(gosync_waitgroup_add(&d->wg, 1) == GOSYNC_OK, "add(1)");
    actor_start(w, d4_waiter, d);
    CHECK(WAIT_FOR(gosync_waitgroup_waiters(&d->wg) == 1, 2000) && actor_sleeping(w, 2000),
          "the waiter did not wait");
    pthread_kill(w->thread, SIGUSR1);
    CHECK(hook_arrived(&d->parked, 2000), "the signal did not end the park");
    CHECK(gosync_waitgroup_add(&d->wg, 1) == GOSYNC_OK, "add(1) while it is stopped");
    counter++;
    int64_t let_go = gosync_now_ns();
    hook_release(&d->parked);
    if (WAIT_FOR(hook_arrived(&d->give_up, 0) || atomic_load(&w->done), 1000) &&
        hook_arrived(&d->give_up, 0)) {
        CHECK(gosync_waitgroup_add(&d->wg, 1) == GOSYNC_OK, "add(1) before its give-up CAS");
        counter++;
        let_go = gosync_now_ns();
        hook_release(&d->give_up);
    } else {
        printf("  note: no point waitgroup.wait.give_up in this core: the add(1) only "
               "precedes the give-up's load\n");
    }
    bool done = actor_join(w, 2000);
    CHECK(done && rc_of(w) == GOSYNC_INTERRUPTED, "wait after a signal: %s, rc %d (want %d at once)",
          done ? "returned" : "still waiting 2 s later", rc_of(w), GOSYNC_INTERRUPTED);
    if (done)
        CHECK((w->returned - let_go) / 1000000 < 1000, "wait returned %lld ms after it was let go",
              (long long)((w->returned - let_go) / 1000000));
    hook_release(&d->give_up);
    /* Release the group: frees a waiter that slept again. */
    CHECK(gosync_waitgroup_counter(&d->wg) == counter, "counter %d, want %d",
          gosync_waitgroup_counter(&d->wg), counter);
    CHECK(gosync_waitgroup_add(&d->wg, -counter) == GOSYNC_OK, "done");
    bool joined = actor_join(w, 2000);
    if (!joined) {
        CHECK(0, "the waiter did not finish");
        actor_abandon(w);
    }
    CHECK(gosync_waitgroup_counter(&d->wg) == 0 && gosync_waitgroup_waiters(&d->wg) == 0,
          "end: counter %d waiters %u", gosync_waitgroup_counter(&d->wg),
          gosync_waitgroup_waiters(&d->wg));
    CHECK(!hook_timed_out(&d->parked) && !hook_timed_out(&d->give_up),
          "the waiter was never released");
    sigaction(SIGUSR1, &prev, NULL);
    if (joined) {
        hook_destroy(&d->parked);
        hook_destroy(&d->give_up);
        free(d), free(w);
    }
    report(name, ok);
#endif
}

/* D4, the same promise through the window the old two-step release left:
 * the waiter's park ends with EINTR (stopped at waitgroup.wait.parked), the
 * last done() makes its releasing CAS and is stopped before its wake
 * (waitgroup.add.released). The waiter, let go, must return at once: it was
 * released (GOSYNC_OK) or interrupted. Before the fix it saw "counter 0,
 * same generation", dropped its deadline and the signal, and slept until
 * the done() went on. */

#ifndef GOSYNC_PARK_PORTABLE
typedef struct {
    gosync_waitgroup wg;
    hook_t parked, released;
} d4b_t;

static void d4b_waiter(actor_t *a)
{
    d4b_t *d = a->ctx;
    a->rc = gosync_waitgroup_wait(&d->wg, ms_from_now(10000));
    a->returned = gosync_now_ns();
}

static void d4b_done(actor_t *a)
{
    d4b_t *d = a->ctx;
    a->rc = gosync_waitgroup_add(&d->wg, -1);
}
#endif

static void test_d4b_waitgroup_signal_during_release(void)
{
    const char *name = "replay D4: waitgroup wait after a signal, its group's release stopped";
#ifdef GOSYNC_PARK_PORTABLE
    skip(name, "the portable park sleeps on a pthread condvar, which a signal does not "
               "interrupt (no EINTR)");
#else
    int ok = 1;
    d4b_t *d = calloc(1, sizeof *d);
    actor_t *w = calloc(1, sizeof *w), *r = calloc(1, sizeof *r);
    hook_init(&d->parked, "waitgroup.wait.parked", true);
    hook_init(&d->released, "waitgroup.add.released", true);
    w->arm[0] = &d->parked;
    r->arm[0] = &d->released;
    struct sigaction sa, prev;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigusr1;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, &prev);

    CHECK(gosync_waitgroup_add(&d->wg, 1) == GOSYNC_OK, "add(1)");
    actor_start(w, d4b_waiter, d);
    CHECK(WAIT_FOR(gosync_waitgroup_waiters(&d->wg) == 1, 2000) && actor_sleeping(w, 2000),
          "the waiter did not wait");
    pthread_kill(w->thread, SIGUSR1);
    CHECK(hook_arrived(&d->parked, 2000), "the signal did not end the park");
    actor_start(r, d4b_done, d);
    CHECK(hook_arrived(&d->released, 2000), "done() did not release");
    int64_t let_go = gosync_now_ns();
    hook_release(&d->parked);
    bool done = actor_join(w, 2000);
    CHECK(done && (rc_of(w) == GOSYNC_OK || rc_of(w) == GOSYNC_INTERRUPTED),
          "wait after a signal: %s, rc %d (want %d or %d at once, not after the release's wake)",
          done ? "returned" : "still waiting 2 s later", rc_of(w), GOSYNC_OK, GOSYNC_INTERRUPTED);
    if (done)
        CHECK((w->returned - let_go) / 1000000 < 1000, "wait returned %lld ms after it was let go",
              (long long)((w->returned - let_go) / 1000000));
    hook_release(&d->released);
    actor_t *all[] = {w, r};
    const char *names[] = {"the waiter", "done()"};
    bool joined = finish_all(all, names, 2, 2000, &ok);
    CHECK(rc_of(r) == GOSYNC_OK, "done(): %d", rc_of(r));
    CHECK(gosync_waitgroup_counter(&d->wg) == 0 && gosync_waitgroup_waiters(&d->wg) == 0,
          "end: counter %d waiters %u", gosync_waitgroup_counter(&d->wg),
          gosync_waitgroup_waiters(&d->wg));
    CHECK(!hook_timed_out(&d->parked) && !hook_timed_out(&d->released),
          "a stopped thread was never released");
    sigaction(SIGUSR1, &prev, NULL);
    if (joined) {
        hook_destroy(&d->parked);
        hook_destroy(&d->released);
        free(d), free(w), free(r);
    }
    report(name, ok);
#endif
}

/* ---- D5: WaitGroup add's sum overflowed int64 (undefined behaviour). */

static void test_d5_waitgroup_add_overflow(void)
{
    int ok = 1;
    gosync_waitgroup wg;
    memset(&wg, 0, sizeof wg);
    CHECK(gosync_waitgroup_add(&wg, 1) == GOSYNC_OK, "add(1)");
    uint64_t before = atomic_load(&wg.state);
    int rc = gosync_waitgroup_add(&wg, INT64_MAX);
    CHECK(rc == GOSYNC_OVERFLOW, "counter 1, add(INT64_MAX) returned %d (want GOSYNC_OVERFLOW %d)",
          rc, GOSYNC_OVERFLOW);
    rc = gosync_waitgroup_add(&wg, INT32_MAX);
    CHECK(rc == GOSYNC_OVERFLOW, "counter 1, add(INT32_MAX) returned %d", rc);
    rc = gosync_waitgroup_add(&wg, INT64_MIN);
    CHECK(rc == GOSYNC_WG_NEGATIVE, "counter 1, add(INT64_MIN) returned %d", rc);
    CHECK(atomic_load(&wg.state) == before, "the state changed");
    CHECK(gosync_waitgroup_add(&wg, -1) == GOSYNC_OK, "done");
    report("replay D5: waitgroup add(INT64_MAX) is an overflow, without undefined behaviour", ok);
}

/* ---- D6: RWMutex, writers that gave up wrapped the epoch under a woken
 * reader. W1 holds; B blocks in rlock; W1 unlocks, granting B the lock, and
 * B is stopped right after its wake; 2^19 - 1 Locks with a passed deadline
 * follow. B must hold the lock (before the fix the 19-bit epoch had come
 * back to B's value: B slept until its deadline, counted as a holder). */

typedef struct {
    gosync_rwmutex rw;
    hook_t parked;
} d6_t;

static void d6_reader(actor_t *a)
{
    d6_t *d = a->ctx;
    a->rc = gosync_rwmutex_rlock(&d->rw, ms_from_now(2000));
    a->returned = gosync_now_ns();
}

static void test_d6_rwmutex_epoch_wrap(void)
{
    int ok = 1;
    d6_t *d = calloc(1, sizeof *d);
    actor_t *b = calloc(1, sizeof *b);
    hook_init(&d->parked, "rwmutex.rlock.parked", true);
    b->arm[0] = &d->parked;

    CHECK(gosync_rwmutex_lock(&d->rw, GOSYNC_NO_DEADLINE) == GOSYNC_OK, "W1's lock");
    actor_start(b, d6_reader, d);
    CHECK(WAIT_FOR(gosync_rwmutex_readers(&d->rw) == 1, 2000) && actor_sleeping(b, 2000),
          "B did not block");
    CHECK(gosync_rwmutex_unlock(&d->rw) == GOSYNC_OK, "W1's unlock");
    CHECK(hook_arrived(&d->parked, 2000), "B was not woken");
    const long n = (1L << 19) - 1;
    long bad = 0;
    int64_t passed = gosync_now_ns(), t0 = passed;
    for (long i = 0; i < n; i++)
        bad += gosync_rwmutex_lock(&d->rw, passed) != GOSYNC_TIMEDOUT;
    printf("  %ld Locks with a passed deadline in %lld ms\n", n,
           (long long)((gosync_now_ns() - t0) / 1000000));
    CHECK(bad == 0, "%ld of them did not time out", bad);
    hook_release(&d->parked);
    bool done = actor_join(b, 3000);
    CHECK(done && rc_of(b) == GOSYNC_OK, "B's rlock: %s, rc %d (want %d: the lock was granted)",
          done ? "returned" : "still waiting", rc_of(b), GOSYNC_OK);
    if (done && rc_of(b) == GOSYNC_OK)
        CHECK(gosync_rwmutex_runlock(&d->rw) == GOSYNC_OK, "B's runlock");
    int rc = gosync_rwmutex_lock(&d->rw, ms_from_now(1000));
    CHECK(rc == GOSYNC_OK, "a writer could not get in: %d", rc);
    if (rc == GOSYNC_OK)
        CHECK(gosync_rwmutex_unlock(&d->rw) == GOSYNC_OK, "unlock");
    if (!done)
        actor_abandon(b);
    CHECK(gosync_rwmutex_readers(&d->rw) == 0 && !gosync_rwmutex_writer(&d->rw) &&
              mutex_quiet(&d->rw.w),
          "not quiet: readers %u writer %d", gosync_rwmutex_readers(&d->rw),
          gosync_rwmutex_writer(&d->rw));
    CHECK(!hook_timed_out(&d->parked), "B was never released");
    if (done) {
        hook_destroy(&d->parked);
        free(d), free(b);
    }
    report("replay D6: rwmutex, 2^19 - 1 writers give up while a granted reader has not run", ok);
}

/* ---- D7: Cond, the generation wrapped under a notified waiter. W waits;
 * a signal notifies it (G2 becomes G1) and W is stopped right after its
 * wake; then 65535 more group switches (a waiter joins, a signal, it takes
 * its notification with a passed deadline). W must return
 * GOSYNC_OK and leave the cond quiet (before the fix, the 16-bit generation
 * was back at W's ticket after 65536: W took itself for G2, slept until its
 * deadline, and its departure borrowed from the neighbouring field). */

typedef struct {
    gosync_cond c;
    hook_t parked;
    _Atomic uint32_t ticket;
} d7_t;

static void d7_waiter(actor_t *a)
{
    d7_t *d = a->ctx;
    uint32_t t;
    if (gosync_cond_add(&d->c, &t) != GOSYNC_OK)
        abort();
    atomic_store(&d->ticket, t);
    hook_arm(&d->parked);
    a->rc = gosync_cond_wait(&d->c, t, ms_from_now(2000));
    a->returned = gosync_now_ns();
}

/* Makes group switches under W, stopped right after its wake. With
 * to_wrap, it switches until the generation is back at W's ticket (at most
 * `switches`): the round whose add returns W's ticket is cancelled, so that
 * W resumes with gen == its ticket and g2_size == 0. Returns the number of
 * switches made, or 0 if a check failed or (to_wrap) gen never came back. */
static long d7_run(long switches, bool to_wrap, int *ok_)
{
    int ok = 1;
    d7_t *d = calloc(1, sizeof *d);
    actor_t *w = calloc(1, sizeof *w);
    hook_init(&d->parked, "cond.wait.parked", true);
    actor_start(w, d7_waiter, d);
    CHECK(WAIT_FOR(gosync_cond_waiters(&d->c) == 1, 2000) && actor_sleeping(w, 2000),
          "W did not wait");
    uint32_t mine = atomic_load(&d->ticket);
    CHECK(gosync_cond_signal(&d->c) == 1, "the first signal");
    CHECK(hook_arrived(&d->parked, 2000), "W was not woken");
    long bad = 0, made = 1;
    bool wrapped = false;
    int64_t t0 = gosync_now_ns();
    while (made < switches && bad == 0) {
        uint32_t t;
        bad += gosync_cond_add(&d->c, &t) != GOSYNC_OK;
        if (to_wrap && t == mine) {
            gosync_cond_cancel(&d->c, t); /* g2_size back to 0 */
            wrapped = true;
            break;
        }
        bad += gosync_cond_signal(&d->c) != 1;
        bad += gosync_cond_wait(&d->c, t, 0) != GOSYNC_OK;
        made++;
    }
    int64_t elapsed = gosync_now_ns() - t0;
    printf("  %ld group switches in %lld ms%s\n", made, (long long)(elapsed / 1000000),
           wrapped ? ": the generation is back at W's ticket" : "");
    CHECK(bad == 0, "a round failed");
    hook_release(&d->parked);
    bool done = actor_join(w, 3000);
    CHECK(done && rc_of(w) == GOSYNC_OK, "W (ticket %u, notified): %s, rc %d (want %d)",
          (unsigned)mine, done ? "returned" : "still waiting", rc_of(w), GOSYNC_OK);
    CHECK(gosync_cond_waiters(&d->c) == 0 && gosync_cond_pending(&d->c) == 0,
          "not quiet: waiters %u pending %u", gosync_cond_waiters(&d->c),
          gosync_cond_pending(&d->c));
    CHECK(!hook_timed_out(&d->parked), "W was never released");
    if (!done)
        actor_abandon(w);
    else {
        hook_destroy(&d->parked);
        free(d), free(w);
    }
    *ok_ = *ok_ && ok;
    return ok && (wrapped || !to_wrap) ? made : 0;
}

static void test_d7_cond_generation_wrap(void)
{
    int ok = 1;
    d7_run(1L << 16, false, &ok);
    report("replay D7: cond, 65536 group switches while a notified waiter has not run", ok);

    /* At the current width's wrap (cond.h: 2^18 advances), gen equals W's
     * ticket again; with g2_size 0 W must still count as G1. Under a
     * sanitizer, a width past 2^20 is left to the plain build. */
    const char *name = "replay D7: cond, switches until gen wraps to W's ticket: g2_size 0 keeps W "
                       "in G1";
    long cap = UNDER_SANITIZER ? 1L << 20 : 1L << 23;
    ok = 1;
    long made = d7_run(cap, true, &ok);
    if (ok && made == 0) {
        skip(name, "the generation did not wrap within the cap");
    } else {
        if (made > 0)
            printf("  the generation wrapped after %ld switches\n", made);
        report(name, ok);
    }
}

/* ---- Smaller items of issue 11 ------------------------------------------ */

static void test_park_fault(void)
{
    const char *name = "park: a kernel refusal (EFAULT) is GOSYNC_PARK_FAULT, not 'again'";
#ifdef GOSYNC_PARK_PORTABLE
    skip(name, "the portable park reads the word itself; there is no kernel to refuse");
#else
    int ok = 1;
    errno = 0;
    gosync_park_result r =
        gosync_park_wait((_Atomic uint32_t *)(uintptr_t)4096, 0, 1, ms_from_now(100), 0);
    int e = errno;
    CHECK(r == GOSYNC_PARK_FAULT, "park on an unmapped address returned %d (want FAULT %d)",
          (int)r, (int)GOSYNC_PARK_FAULT);
    CHECK(e == EFAULT, "errno %d, want EFAULT", e);
    report(name, ok);
#endif
}

static void test_sema_class_overflow(void)
{
    int ok = 1;
    gosync_sema s;
    memset(&s, 0, sizeof s);
    const uint64_t full_fifo = UINT64_C(0xffff) << 32, full_lifo = UINT64_C(0xffff) << 48;
    atomic_store(&s.state, full_fifo);
    int rc = gosync_sema_acquire(&s, false, ms_from_now(20));
    CHECK(rc == GOSYNC_OVERFLOW, "fifo count 65535: acquire returned %d (want OVERFLOW %d)", rc,
          GOSYNC_OVERFLOW);
    CHECK(atomic_load(&s.state) == full_fifo, "fifo: the word changed");
    atomic_store(&s.state, full_lifo);
    rc = gosync_sema_acquire(&s, true, ms_from_now(20));
    CHECK(rc == GOSYNC_OVERFLOW, "lifo count 65535: acquire returned %d", rc);
    CHECK(atomic_load(&s.state) == full_lifo, "lifo: the word changed");
    /* A Mutex on such a semaphore: OVERFLOW, and its state as it was. */
    gosync_mutex m;
    memset(&m, 0, sizeof m);
    CHECK(gosync_mutex_lock(&m, GOSYNC_NO_DEADLINE) == GOSYNC_OK, "lock");
    atomic_store(&m.sema.state, full_fifo);
    rc = gosync_mutex_lock(&m, ms_from_now(20));
    CHECK(rc == GOSYNC_OVERFLOW, "mutex lock with 65535 queued returned %d", rc);
    CHECK(gosync_mutex_state(&m) == GOSYNC_MUTEX_LOCKED && atomic_load(&m.sema.state) == full_fifo,
          "mutex state %d", gosync_mutex_state(&m));
    atomic_store(&m.sema.state, 0);
    CHECK(gosync_mutex_unlock(&m) == GOSYNC_OK && mutex_quiet(&m), "unlock");
    report("sema: a 65536th waiter of a class is an overflow, nothing changed", ok);
}

/* A writer that takes w while the previous writer is stopped between its
 * release of w and its clearing of WRITER sleeps, and gives up by its
 * deadline (before the fix it spun with sched_yield and ignored the
 * deadline); another one gets the lock once that writer resumes. */

typedef struct {
    gosync_rwmutex rw;
    hook_t released_w;
    int64_t n1_deadline;
} rwww_t;

static void rwww_prev(actor_t *a)
{
    rwww_t *d = a->ctx;
    a->rc = gosync_rwmutex_unlock(&d->rw);
}

static void rwww_n1(actor_t *a)
{
    rwww_t *d = a->ctx;
    a->rc = gosync_rwmutex_lock(&d->rw, d->n1_deadline);
    a->returned = gosync_now_ns();
    if (a->rc == GOSYNC_OK)
        gosync_rwmutex_unlock(&d->rw);
}

static void rwww_n2(actor_t *a)
{
    rwww_t *d = a->ctx;
    a->rc = gosync_rwmutex_lock(&d->rw, ms_from_now(3000));
    a->returned = gosync_now_ns();
    if (a->rc == GOSYNC_OK)
        gosync_rwmutex_unlock(&d->rw);
}

static void test_rwmutex_writer_behind_unlock(void)
{
    int ok = 1;
    rwww_t *d = calloc(1, sizeof *d);
    actor_t *p = calloc(1, sizeof *p), *n1 = calloc(1, sizeof *n1), *n2 = calloc(1, sizeof *n2);
    hook_init(&d->released_w, "rwmutex.unlock.released_w", true);
    p->arm[0] = &d->released_w;

    CHECK(gosync_rwmutex_lock(&d->rw, GOSYNC_NO_DEADLINE) == GOSYNC_OK, "lock");
    actor_start(p, rwww_prev, d);
    CHECK(hook_arrived(&d->released_w, 2000), "the unlock never reached rwmutex.unlock.released_w");
    d->n1_deadline = ms_from_now(1000);
    actor_start(n1, rwww_n1, d);
    CHECK(actor_sleeping(n1, 800), "N1 did not sleep behind the unlock (state %c)",
          thread_state(atomic_load(&n1->tid)));
    bool done = actor_join(n1, 2000);
    CHECK(done, "N1 (deadline 1 s) still waiting 1 s after its deadline");
    if (done) {
        long long late = (long long)((n1->returned - d->n1_deadline) / 1000000);
        CHECK(rc_of(n1) == GOSYNC_TIMEDOUT && late < 500, "N1: rc %d, %lld ms after its deadline",
              rc_of(n1), late);
        CHECK(!(gosync_mutex_state(&d->rw.w) & GOSYNC_MUTEX_LOCKED), "N1 left w locked");
    }
    actor_start(n2, rwww_n2, d);
    nap_us(20000);
    int64_t let_go = gosync_now_ns();
    hook_release(&d->released_w);
    bool n2_done = actor_join(n2, 2000);
    CHECK(n2_done && rc_of(n2) == GOSYNC_OK, "N2 after the unlock resumed: %s, rc %d",
          n2_done ? "returned" : "still waiting", rc_of(n2));
    if (n2_done)
        CHECK((n2->returned - let_go) / 1000000 < 1000, "N2 got the lock %lld ms after the unlock",
              (long long)((n2->returned - let_go) / 1000000));
    actor_t *all[] = {p, n1, n2};
    const char *names[] = {"the previous writer", "N1", "N2"};
    bool joined = finish_all(all, names, 3, 3000, &ok);
    CHECK(rc_of(p) == GOSYNC_OK, "unlock: %d", rc_of(p));
    CHECK(gosync_rwmutex_readers(&d->rw) == 0 && !gosync_rwmutex_writer(&d->rw) &&
              mutex_quiet(&d->rw.w),
          "not quiet");
    CHECK(!hook_timed_out(&d->released_w), "the unlock was never released");
    if (joined) {
        hook_destroy(&d->released_w);
        free(d), free(p), free(n1), free(n2);
    }
    report("rwmutex: a writer behind a stopped unlock sleeps and keeps its deadline", ok);
}

/* ---- Weighted: each transition of the table, single-threaded --------------- */

static void test_weighted_edges(void)
{
    int ok = 1;
    gosync_weighted w;
    memset(&w, 0, sizeof w);
    w.size = 4;
    CHECK(gosync_weighted_try_acquire(&w, 0), "a weight of 0 refused");
    CHECK(!gosync_weighted_try_acquire(&w, 5), "more than the size taken");
    CHECK(gosync_weighted_try_acquire(&w, 3), "3 of 4 refused");
    CHECK(!gosync_weighted_try_acquire(&w, 2), "2 taken with 1 free");
    CHECK(gosync_weighted_release(&w, 4) == GOSYNC_WEIGHTED_OVER, "released 4 of 3");
    CHECK(gosync_weighted_word(&w) == 3, "a refused release changed the word");
    CHECK(!gosync_weighted_take_or_queue(&w, 4), "4 taken with 3 held");
    CHECK(gosync_weighted_word(&w) == GOSYNC_WEIGHTED_QUEUED + 3, "not marked queued");
    CHECK(!gosync_weighted_take_or_queue(&w, 1), "1 taken past a queued waiter");
    CHECK(!gosync_weighted_try_acquire(&w, 1), "the fast path barged past a queued waiter");
    CHECK(!gosync_weighted_try_acquire(&w, 0), "a weight of 0 barged past a queued waiter");
    CHECK(gosync_weighted_release(&w, 1) == GOSYNC_WEIGHTED_SLOW, "fast release while queued");
    CHECK(gosync_weighted_word(&w) == GOSYNC_WEIGHTED_QUEUED + 3, "the slow release changed the word");
    CHECK(gosync_weighted_add(&w, -3) == GOSYNC_WEIGHTED_QUEUED, "add");
    CHECK(gosync_weighted_add(&w, 4 - GOSYNC_WEIGHTED_QUEUED) == 4, "grant and clear");
    CHECK(gosync_weighted_release(&w, 4) == GOSYNC_WEIGHTED_RELEASED, "release all");
    CHECK(gosync_weighted_take_or_queue(&w, 4), "4 of 4 free refused");
    CHECK(gosync_weighted_word(&w) == 4, "word %lld", (long long)gosync_weighted_word(&w));
    report("weighted edges", ok);
}

/* ---- Weighted: fast paths against the queue's lock ------------------------ */

/* Threads take weights of 1..3 out of 4 with the fast paths; a release that
 * finds waiters queued gives back under the queue's lock, as
 * gosync/semaphore.py does. One thread at a time also asks for the whole
 * size through the queue (take_or_queue, then a grant under the lock once
 * everything is given back). The weight inside never exceeds the size,
 * and every acquisition is given back exactly once. */
typedef struct {
    gosync_weighted w;
    pthread_mutex_t queue; /* the queue's lock */
    int waiting;           /* a whole-size request is queued (under queue) */
    int granted;           /* ... and has been granted (under queue) */
    _Atomic int inside;
    _Atomic int over;
    _Atomic int next_id;
    int iters;
} weighted_hammer_t;

static void weighted_grant_locked(weighted_hammer_t *h)
{
    int64_t word = gosync_weighted_word(&h->w);
    if (h->waiting && word - GOSYNC_WEIGHTED_QUEUED == 0) {
        gosync_weighted_add(&h->w, h->w.size - GOSYNC_WEIGHTED_QUEUED); /* grant, and clear QUEUED */
        h->waiting = 0;
        h->granted = 1;
    }
}

static void weighted_enter(weighted_hammer_t *h, int n)
{
    if (atomic_fetch_add(&h->inside, n) + n > h->w.size)
        atomic_fetch_add(&h->over, 1);
}

static void *weighted_hammer_thread(void *arg)
{
    weighted_hammer_t *h = arg;
    int id = atomic_fetch_add(&h->next_id, 1);
    unsigned seed = (unsigned)id * 2654435761u;
    for (int i = 0; i < h->iters; i++) {
        int64_t n = 1 + (int64_t)((seed = seed * 1103515245u + 12345u) >> 16) % 3;
        if (id == 0 && i % 64 == 0) {
            n = h->w.size;
            pthread_mutex_lock(&h->queue);
            bool took = gosync_weighted_take_or_queue(&h->w, n);
            if (!took)
                h->waiting = 1;
            pthread_mutex_unlock(&h->queue);
            while (!took) {
                pthread_mutex_lock(&h->queue);
                weighted_grant_locked(h);
                took = h->granted;
                h->granted = 0;
                pthread_mutex_unlock(&h->queue);
                if (!took)
                    sched_yield();
            }
        } else {
            while (!gosync_weighted_try_acquire(&h->w, n))
                sched_yield();
        }
        weighted_enter(h, (int)n);
        atomic_fetch_sub(&h->inside, (int)n);
        int rc = gosync_weighted_release(&h->w, n);
        if (rc == GOSYNC_WEIGHTED_SLOW) {
            pthread_mutex_lock(&h->queue);
            int64_t word = gosync_weighted_word(&h->w);
            if (word >= GOSYNC_WEIGHTED_QUEUED)
                gosync_weighted_add(&h->w, -n);
            else if (gosync_weighted_release(&h->w, n) != GOSYNC_WEIGHTED_RELEASED)
                abort();
            weighted_grant_locked(h);
            pthread_mutex_unlock(&h->queue);
        } else if (rc != GOSYNC_WEIGHTED_RELEASED) {
            abort();
        }
    }
    return NULL;
}

static void test_weighted_hammer(void)
{
    int ok = 1, threads = 6;
    weighted_hammer_t h;
    memset(&h, 0, sizeof h);
    pthread_mutex_init(&h.queue, NULL);
    h.w.size = 4;
    h.iters = 20000 * scale;
    run_threads(threads, weighted_hammer_thread, &h);
    CHECK(atomic_load(&h.over) == 0, "%d times more than the size was inside", atomic_load(&h.over));
    CHECK(gosync_weighted_word(&h.w) == 0, "word %lld at the end", (long long)gosync_weighted_word(&h.w));
    CHECK(gosync_weighted_release(&h.w, 1) == GOSYNC_WEIGHTED_OVER, "release of nothing held accepted");
    CHECK(gosync_weighted_word(&h.w) == 0, "a refused release changed the word");
    pthread_mutex_destroy(&h.queue);
    report("weighted hammer", ok);
}

/* ---- Chan: the ring and the wait queues ----------------------------------
 * Tokens are integers 1..N (0 is "no value"); every received token is
 * counted in `seen`, so a lost or doubled token fails the case. */

static void test_chan_ring(void)
{
    int ok = 1;
    for (uint32_t cap = 1; cap <= 7; cap++) {
        gosync_chan c;
        memset(&c, 0, sizeof c);
        gosync_chan_init(&c, cap);
        uint64_t ring[7] = {0};
        uint64_t next_in = 1, next_out = 1, v;
        uint32_t got_ok;
        /* Many laps round the ring with every fill level: FIFO, count exact. */
        for (int lap = 0; lap < 50; lap++) {
            uint32_t fill = (uint32_t)lap % (cap + 1);
            for (uint32_t i = 0; i < fill; i++)
                CHECK(gosync_chan_send(&c, ring, next_in++, 0, GOSYNC_NO_DEADLINE) == GOSYNC_OK, "send");
            CHECK(gosync_chan_len(&c) == fill, "len %u want %u", gosync_chan_len(&c), fill);
            if (fill == cap)
                CHECK(gosync_chan_send(&c, ring, 999, 0, GOSYNC_NO_DEADLINE) == GOSYNC_CHAN_NOTREADY,
                      "send to a full ring");
            for (uint32_t i = 0; i < fill; i++) {
                CHECK(gosync_chan_recv(&c, ring, &v, &got_ok, 0, GOSYNC_NO_DEADLINE) == GOSYNC_OK && got_ok,
                      "recv");
                CHECK(v == next_out, "cap %u: got %llu want %llu", cap, (unsigned long long)v,
                      (unsigned long long)next_out);
                next_out++;
            }
            CHECK(gosync_chan_recv(&c, ring, &v, &got_ok, 0, GOSYNC_NO_DEADLINE) == GOSYNC_CHAN_NOTREADY,
                  "recv from an empty ring");
        }
        /* Close: the buffer drains, then ok = 0; a second close is misuse. */
        gosync_chan_send(&c, ring, 5, 0, GOSYNC_NO_DEADLINE);
        CHECK(gosync_chan_close(&c) == GOSYNC_OK, "close");
        CHECK(gosync_chan_close(&c) == GOSYNC_MISUSE, "second close");
        CHECK(gosync_chan_send(&c, ring, 6, 0, GOSYNC_NO_DEADLINE) == GOSYNC_CHAN_CLOSED, "send on closed");
        CHECK(gosync_chan_recv(&c, ring, &v, &got_ok, 0, GOSYNC_NO_DEADLINE) == GOSYNC_OK && got_ok && v == 5,
              "drain");
        CHECK(gosync_chan_recv(&c, ring, &v, &got_ok, GOSYNC_CHAN_BLOCK, GOSYNC_NO_DEADLINE) == GOSYNC_OK &&
                  !got_ok && v == 0,
              "closed and drained");
    }
    /* Unbuffered: nothing to receive without a sender; a timed send gives up. */
    gosync_chan u;
    memset(&u, 0, sizeof u);
    uint64_t v;
    uint32_t got_ok;
    CHECK(gosync_chan_send(&u, NULL, 1, 0, GOSYNC_NO_DEADLINE) == GOSYNC_CHAN_NOTREADY, "unbuffered send");
    CHECK(gosync_chan_send(&u, NULL, 1, GOSYNC_CHAN_BLOCK, ms_from_now(5)) == GOSYNC_TIMEDOUT, "timed send");
    CHECK(gosync_chan_recv(&u, NULL, &v, &got_ok, GOSYNC_CHAN_BLOCK, ms_from_now(5)) == GOSYNC_TIMEDOUT,
          "timed recv");
    CHECK(gosync_chan_nodes_in_use() == 0, "%u nodes left", gosync_chan_nodes_in_use());
    report("chan ring", ok);
}

#define CHAN_PRODUCERS 4
#define CHAN_CONSUMERS 4

typedef struct {
    gosync_chan c;
    uint64_t ring[8];
    int per;              /* tokens per producer */
    int timed;            /* producers and consumers give up after a few us */
    _Atomic int next_producer, producers_done;
    _Atomic int *seen;    /* seen[token]: receptions */
    _Atomic int *sent_ok; /* sent_ok[token]: sends reported done */
} chan_mpmc_t;

static void *chan_producer(void *arg)
{
    chan_mpmc_t *h = arg;
    int p = atomic_fetch_add(&h->next_producer, 1);
    for (int i = 0; i < h->per; i++) {
        uint64_t token = (uint64_t)p * (uint64_t)h->per + (uint64_t)i + 1;
        int64_t deadline = h->timed ? gosync_now_ns() + 1000 * (i % 7) : GOSYNC_NO_DEADLINE;
        int rc = gosync_chan_send(&h->c, h->ring, token, GOSYNC_CHAN_BLOCK, deadline);
        if (rc == GOSYNC_OK)
            atomic_fetch_add(&h->sent_ok[token], 1);
        else if (rc != GOSYNC_TIMEDOUT)
            abort();
    }
    atomic_fetch_add(&h->producers_done, 1);
    return NULL;
}

static void *chan_consumer(void *arg)
{
    chan_mpmc_t *h = arg;
    for (int i = 0;; i++) {
        uint64_t v;
        uint32_t got_ok;
        int64_t deadline = h->timed ? gosync_now_ns() + 1000 * (i % 5) : GOSYNC_NO_DEADLINE;
        int rc = gosync_chan_recv(&h->c, h->ring, &v, &got_ok, GOSYNC_CHAN_BLOCK, deadline);
        if (rc == GOSYNC_TIMEDOUT)
            continue;
        if (rc != GOSYNC_OK)
            abort();
        if (!got_ok)
            return NULL; /* closed and drained */
        atomic_fetch_add(&h->seen[v], 1);
    }
}

static void *chan_closer(void *arg)
{
    chan_mpmc_t *h = arg;
    while (atomic_load(&h->producers_done) < CHAN_PRODUCERS)
        gosync_yield();
    gosync_chan_close(&h->c);
    return NULL;
}

static void *chan_mpmc_thread(void *arg)
{
    /* One runner per role: producers, consumers, and the closer. */
    static _Atomic int role;
    int r = atomic_fetch_add(&role, 1) % (CHAN_PRODUCERS + CHAN_CONSUMERS + 1);
    if (r < CHAN_PRODUCERS)
        return chan_producer(arg);
    if (r < CHAN_PRODUCERS + CHAN_CONSUMERS)
        return chan_consumer(arg);
    return chan_closer(arg);
}

static void chan_mpmc(uint32_t cap, int timed)
{
    int ok = 1;
    chan_mpmc_t *h = calloc(1, sizeof *h);
    h->per = 3000 * scale;
    h->timed = timed;
    gosync_chan_init(&h->c, cap);
    size_t ntokens = (size_t)CHAN_PRODUCERS * (size_t)h->per + 1;
    h->seen = calloc(ntokens, sizeof *h->seen);
    h->sent_ok = calloc(ntokens, sizeof *h->sent_ok);
    run_threads(CHAN_PRODUCERS + CHAN_CONSUMERS + 1, chan_mpmc_thread, h);
    int bad = 0, delivered = 0;
    for (size_t t = 1; t < ntokens; t++) {
        int s = atomic_load(&h->seen[t]), o = atomic_load(&h->sent_ok[t]);
        delivered += s;
        if (s != o || s > 1)
            bad++;
    }
    CHECK(bad == 0, "cap %u: %d tokens lost or doubled", cap, bad);
    CHECK(timed || delivered == CHAN_PRODUCERS * h->per, "cap %u: %d delivered", cap, delivered);
    uint32_t receivers, senders;
    gosync_chan_waiters(&h->c, &receivers, &senders);
    CHECK(receivers == 0 && senders == 0 && gosync_chan_len(&h->c) == 0, "left %u %u %u", receivers,
          senders, gosync_chan_len(&h->c));
    CHECK(gosync_chan_nodes_in_use() == 0, "%u nodes left", gosync_chan_nodes_in_use());
    char name[64];
    snprintf(name, sizeof name, "chan %s producers/consumers, cap %u", timed ? "timed" : "blocking", cap);
    report(name, ok);
    free(h->seen);
    free(h->sent_ok);
    free(h);
}

static void test_chan_mpmc(void)
{
    for (int timed = 0; timed <= 1; timed++) {
        chan_mpmc(0, timed);
        chan_mpmc(1, timed);
        chan_mpmc(8, timed);
    }
}

/* gosync_chan_visit while a producer and a consumer run: with one producer
 * sending 1, 2, 3, ... in order, what is buffered at any moment is a run of
 * consecutive tokens, at most cap of them, none already received. A visit
 * that read recvx, count and the slots from different moments (no lock)
 * would see a gap, a repeat or a token already taken (and TSan a race). */
typedef struct {
    gosync_chan c;
    uint64_t ring[8];
    uint64_t total;
    _Atomic uint64_t received; /* the last token received */
    _Atomic int done;
    _Atomic int bad;
} chan_visit_t;

typedef struct {
    uint64_t first, last, n;
    int gap;
} visit_run;

static int visit_token(uint64_t token, void *arg)
{
    visit_run *r = arg;
    if (r->n == 0)
        r->first = token;
    else if (token != r->last + 1)
        r->gap = 1;
    r->last = token;
    r->n++;
    return 0;
}

static int stop_at_second(uint64_t token, void *arg)
{
    (void)token;
    return ++*(int *)arg == 2 ? 7 : 0;
}

static void *chan_visit_thread(void *arg)
{
    chan_visit_t *h = arg;
    static _Atomic int role;
    int r = atomic_fetch_add(&role, 1) % 3;
    if (r == 0) { /* producer */
        for (uint64_t t = 1; t <= h->total; t++)
            if (gosync_chan_send(&h->c, h->ring, t, GOSYNC_CHAN_BLOCK, GOSYNC_NO_DEADLINE) != GOSYNC_OK)
                abort();
    } else if (r == 1) { /* consumer */
        for (uint64_t t = 1; t <= h->total; t++) {
            uint64_t v;
            uint32_t got_ok;
            if (gosync_chan_recv(&h->c, h->ring, &v, &got_ok, GOSYNC_CHAN_BLOCK, GOSYNC_NO_DEADLINE) != GOSYNC_OK ||
                v != t)
                abort();
            atomic_store(&h->received, v);
        }
        atomic_store(&h->done, 1);
    } else { /* visitor */
        while (!atomic_load(&h->done)) {
            uint64_t before = atomic_load(&h->received);
            visit_run run = {0, 0, 0, 0};
            gosync_chan_visit(&h->c, h->ring, visit_token, &run);
            if (run.gap || run.n > 8 || (run.n > 0 && (run.first <= before || run.last > h->total)))
                atomic_store(&h->bad, 1);
        }
    }
    return NULL;
}

static void test_chan_visit(void)
{
    int ok = 1;
    chan_visit_t *h = calloc(1, sizeof *h);
    h->total = 20000 * (uint64_t)scale;
    gosync_chan_init(&h->c, 8);
    run_threads(3, chan_visit_thread, h);
    CHECK(!atomic_load(&h->bad), "a visit saw a gap, a repeat, too many or a received token");
    /* The visit stops at the first nonzero result and returns it. */
    gosync_chan_send(&h->c, h->ring, 1, 0, GOSYNC_NO_DEADLINE);
    gosync_chan_send(&h->c, h->ring, 2, 0, GOSYNC_NO_DEADLINE);
    gosync_chan_send(&h->c, h->ring, 3, 0, GOSYNC_NO_DEADLINE);
    int calls = 0;
    CHECK(gosync_chan_visit(&h->c, h->ring, stop_at_second, &calls) == 7 && calls == 2, "stop: %d calls", calls);
    report("chan visit under send and receive", ok);
    free(h);
}

/* Two threads select over the same two channels in opposite orders, each
 * with a send on one and a receive on the other: no deadlock, and every
 * token received was sent exactly once. */
typedef struct {
    gosync_chan a, b;
    uint64_t ring_a[1], ring_b[1];
    int per;
    _Atomic int *seen, *sent_ok;
    _Atomic int next;
} chan_select_t;

static void *chan_select_thread(void *arg)
{
    chan_select_t *h = arg;
    int me = atomic_fetch_add(&h->next, 1) % 2;
    gosync_chan *out = me ? &h->b : &h->a, *in = me ? &h->a : &h->b;
    uint64_t *out_ring = me ? h->ring_b : h->ring_a, *in_ring = me ? h->ring_a : h->ring_b;
    uint32_t scratch[6];
    for (int i = 0; i < h->per; i++) {
        uint64_t token = (uint64_t)me * (uint64_t)h->per + (uint64_t)i + 1;
        gosync_chan_case cases[2] = {{out, out_ring, GOSYNC_CHAN_SEND, 0, token},
                                     {in, in_ring, GOSYNC_CHAN_RECV, 0, 0}};
        if (me) { /* the opposite order */
            gosync_chan_case t = cases[0];
            cases[0] = cases[1];
            cases[1] = t;
        }
        uint32_t k;
        int rc = gosync_chan_select(cases, 2, scratch, GOSYNC_CHAN_BLOCK, gosync_now_ns() + 1000000, &k);
        if (rc == GOSYNC_TIMEDOUT)
            continue;
        if (rc != GOSYNC_OK)
            abort();
        if (cases[k].dir == GOSYNC_CHAN_SEND)
            atomic_fetch_add(&h->sent_ok[token], 1);
        else
            atomic_fetch_add(&h->seen[cases[k].elem], 1);
    }
    return NULL;
}

static void test_chan_select_opposite(void)
{
    int ok = 1;
    for (uint32_t cap = 0; cap <= 1; cap++) {
        chan_select_t *h = calloc(1, sizeof *h);
        h->per = 20000 * scale;
        gosync_chan_init(&h->a, cap);
        gosync_chan_init(&h->b, cap);
        h->seen = calloc((size_t)2 * (size_t)h->per + 1, sizeof *h->seen);
        h->sent_ok = calloc((size_t)2 * (size_t)h->per + 1, sizeof *h->sent_ok);
        run_threads(2, chan_select_thread, h);
        /* Drain what is still buffered. */
        uint64_t v;
        uint32_t got_ok;
        while (gosync_chan_recv(&h->a, h->ring_a, &v, &got_ok, 0, 0) == GOSYNC_OK)
            atomic_fetch_add(&h->seen[v], 1);
        while (gosync_chan_recv(&h->b, h->ring_b, &v, &got_ok, 0, 0) == GOSYNC_OK)
            atomic_fetch_add(&h->seen[v], 1);
        int bad = 0, moved = 0;
        for (int t = 1; t <= 2 * h->per; t++) {
            moved += atomic_load(&h->seen[t]);
            if (atomic_load(&h->seen[t]) != atomic_load(&h->sent_ok[t]))
                bad++;
        }
        CHECK(bad == 0, "cap %u: %d tokens lost or doubled", cap, bad);
        CHECK(moved > 0, "cap %u: nothing moved", cap);
        CHECK(gosync_chan_nodes_in_use() == 0, "%u nodes left", gosync_chan_nodes_in_use());
        free(h->seen);
        free(h->sent_ok);
        free(h);
    }
    report("chan select, opposite orders", ok);
}

/* Close wakes every queued receiver (ok = 0) and sender (CLOSED). */
typedef struct {
    gosync_chan r, s;
    uint64_t s_ring[1];
    _Atomic int next, closed_recv, closed_send;
} chan_close_t;

static void *chan_close_thread(void *arg)
{
    chan_close_t *h = arg;
    int me = atomic_fetch_add(&h->next, 1);
    uint64_t v;
    uint32_t got_ok;
    if (me % 2 == 0) {
        if (gosync_chan_recv(&h->r, NULL, &v, &got_ok, GOSYNC_CHAN_BLOCK, GOSYNC_NO_DEADLINE) == GOSYNC_OK &&
            !got_ok)
            atomic_fetch_add(&h->closed_recv, 1);
    } else if (gosync_chan_send(&h->s, h->s_ring, (uint64_t)me, GOSYNC_CHAN_BLOCK, GOSYNC_NO_DEADLINE) ==
               GOSYNC_CHAN_CLOSED) {
        atomic_fetch_add(&h->closed_send, 1);
    }
    return NULL;
}

static void *chan_close_all(void *arg)
{
    chan_close_t *h = arg;
    for (;;) {
        uint32_t r, s, r2, s2;
        gosync_chan_waiters(&h->r, &r, &s);
        gosync_chan_waiters(&h->s, &r2, &s2);
        if (r == 4 && s2 == 4)
            break;
        gosync_yield();
    }
    gosync_chan_close(&h->r);
    gosync_chan_close(&h->s);
    return NULL;
}

static void *chan_close_role(void *arg)
{
    chan_close_t *h = arg;
    static _Atomic int role;
    if (atomic_fetch_add(&role, 1) % 9 == 8)
        return chan_close_all(h);
    return chan_close_thread(h);
}

static void test_chan_close_wakes(void)
{
    int ok = 1;
    chan_close_t *h = calloc(1, sizeof *h);
    gosync_chan_init(&h->s, 1);
    h->s_ring[0] = 0;
    gosync_chan_send(&h->s, h->s_ring, 99, 0, 0); /* full: senders block */
    run_threads(9, chan_close_role, h);
    CHECK(atomic_load(&h->closed_recv) == 4 && atomic_load(&h->closed_send) == 4, "recv %d send %d",
          atomic_load(&h->closed_recv), atomic_load(&h->closed_send));
    CHECK(gosync_chan_len(&h->s) == 1 && h->s_ring[0] == 99, "the buffered token changed");
    CHECK(gosync_chan_nodes_in_use() == 0, "%u nodes left", gosync_chan_nodes_in_use());
    free(h);
    report("chan close wakes receivers and senders", ok);
}

/* The mutex profile's contention record (profile.h): the exact sum of the
 * uncharged waits, the resets that keep a wait from being charged twice, a
 * waiter that leaves uncharged (its deadline passed) taking its wait out,
 * and a count that never goes below zero; then enter/charge/leave from
 * several threads, which must leave the record all zeros (TSan checks the
 * atomics). And the block profile's park time: set by a park only while a
 * profile is on. */
static void *contention_role(void *arg)
{
    gosync_contention *c = arg;
    for (int i = 0; i < 20000 * scale; i++) {
        int64_t t = gosync_now_ns();
        gosync_contention_enter(c, t);
        (void)gosync_contention_charge(c, gosync_now_ns());
        gosync_contention_leave(c, t);
    }
    return NULL;
}

static void test_profile_contention(void)
{
    int ok = 1;
    gosync_contention c = {0};
    CHECK(gosync_contention_charge(&c, 100) == 0, "an empty record charged something");
    gosync_contention_enter(&c, 100);
    gosync_contention_enter(&c, 150);
    int64_t charge = gosync_contention_charge(&c, 200);
    CHECK(charge == 150, "two waiters since 100 and 150, charged at 200: %lld (want 100 + 50)", (long long)charge);
    gosync_contention_leave(&c, 100); /* the woken one */
    charge = gosync_contention_charge(&c, 260);
    CHECK(charge == 60, "the one left, charged again at 260: %lld (want 60, not 160)", (long long)charge);
    gosync_contention_leave(&c, 150);
    CHECK(atomic_load(&c.waiters) == 0 && atomic_load(&c.since_ns) == 0 && atomic_load(&c.sum_ns) == 0,
          "not all zeros after the last leave");
    CHECK(gosync_contention_charge(&c, 300) == 0, "charged with no waiter");
    gosync_contention_leave(&c, 300);
    CHECK(atomic_load(&c.waiters) == 0, "a leave took the count below zero");
    gosync_contention_enter(&c, 400);
    CHECK(atomic_load(&c.since_ns) == 400, "a new first waiter did not restart the count");
    gosync_contention_leave(&c, 400);

    /* The first waiter gives up (a deadline) while two later ones wait:
     * the unlock is charged their waits only (5a32c1b charged 175, from
     * the first one's start). */
    gosync_contention_enter(&c, 1000);
    gosync_contention_enter(&c, 1050);
    gosync_contention_enter(&c, 1050);
    gosync_contention_leave(&c, 1000);
    charge = gosync_contention_charge(&c, 1100);
    CHECK(charge == 100, "after the first waiter gave up, charged %lld (want 50 + 50)", (long long)charge);
    gosync_contention_leave(&c, 1050);
    gosync_contention_leave(&c, 1050);
    /* model/contention.pml's trail: charged at 2100 while one waits, a
     * second comes at 2300, the first (woken) leaves; the unlock at 2400
     * is charged the second's 100 (5a32c1b: 200, from the charge). */
    gosync_contention_enter(&c, 2000);
    charge = gosync_contention_charge(&c, 2100);
    CHECK(charge == 100, "one waiter since 2000, charged at 2100: %lld", (long long)charge);
    gosync_contention_enter(&c, 2300);
    gosync_contention_leave(&c, 2000);
    charge = gosync_contention_charge(&c, 2400);
    CHECK(charge == 100, "a newcomer since 2300, charged at 2400: %lld (want 100)", (long long)charge);
    gosync_contention_leave(&c, 2300);
    CHECK(atomic_load(&c.waiters) == 0 && atomic_load(&c.since_ns) == 0 && atomic_load(&c.sum_ns) == 0,
          "not all zeros after the last leave");

    run_threads(4, contention_role, &c);
    CHECK(atomic_load(&c.waiters) == 0 && atomic_load(&c.since_ns) == 0 && atomic_load(&c.sum_ns) == 0,
          "threads left waiters %u since %lld sum %lld", atomic_load(&c.waiters), (long long)atomic_load(&c.since_ns),
          (long long)atomic_load(&c.sum_ns));

    _Atomic uint32_t word = 1;
    gosync_profile_parked_since = 0;
    (void)gosync_park_wait(&word, 0, GOSYNC_PARK_ANY, GOSYNC_NO_DEADLINE, 0); /* AGAIN at once */
    CHECK(gosync_profile_parked_since == 0, "timed a park with profiling off");
    atomic_store(&gosync_profile_flags, GOSYNC_PROFILE_BLOCK);
    (void)gosync_park_wait(&word, 0, GOSYNC_PARK_ANY, GOSYNC_NO_DEADLINE, 0);
    int64_t first = gosync_profile_parked_since;
    CHECK(first != 0, "a park with the block profile on was not timed");
    (void)gosync_park_wait(&word, 0, GOSYNC_PARK_ANY, GOSYNC_NO_DEADLINE, 0);
    CHECK(gosync_profile_parked_since == first, "a second park moved the first park's time");
    atomic_store(&gosync_profile_flags, 0);
    gosync_profile_parked_since = 0;
    report("profile contention record and park time", ok);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *key;
        void (*fn)(void);
    } cases[] = {
        {"mutex_misuse", test_mutex_misuse},
        {"mutex_hammer", test_mutex_hammer},
        {"mutex_timeout_storm", test_mutex_timeout_storm},
        {"mutex_starvation", test_mutex_starvation},
        {"sema_tokens", test_sema_tokens},
        {"sema_lifetime", test_sema_lifetime},
        {"rwmutex_misuse", test_rwmutex_misuse},
        {"rwmutex_hammer", test_rwmutex_hammer},
        {"rwmutex_last_reader", test_rwmutex_last_reader_wakes_writer},
        {"waitgroup_misuse", test_waitgroup_misuse},
        {"waitgroup", test_waitgroup},
        {"cond_order", test_cond_order},
        {"cond_storm", test_cond_storm},
        {"atomic_edges", test_atomic_edges},
        {"atomic_hammer", test_atomic_hammer},
        {"d1_mutex_owed", test_d1_mutex_owed_token_taken},
        {"d1s_mutex_owed_handoff", test_d1s_mutex_owed_handoff_taken},
        {"d2_waitgroup_add0", test_d2_waitgroup_add0_during_release},
        {"d4_waitgroup_signal", test_d4_waitgroup_signal_not_forgotten},
        {"d4b_waitgroup_signal_release", test_d4b_waitgroup_signal_during_release},
        {"d5_waitgroup_overflow", test_d5_waitgroup_add_overflow},
        {"d6_rwmutex_epoch", test_d6_rwmutex_epoch_wrap},
        {"d7_cond_gen", test_d7_cond_generation_wrap},
        {"park_fault", test_park_fault},
        {"sema_overflow", test_sema_class_overflow},
        {"rwmutex_writer_behind_unlock", test_rwmutex_writer_behind_unlock},
        {"weighted_edges", test_weighted_edges},
        {"weighted_hammer", test_weighted_hammer},
        {"chan_ring", test_chan_ring},
        {"chan_mpmc", test_chan_mpmc},
        {"chan_visit", test_chan_visit},
        {"chan_select_opposite", test_chan_select_opposite},
        {"chan_close", test_chan_close_wakes},
        {"profile_contention", test_profile_contention},
    };
    setvbuf(stdout, NULL, _IOLBF, 0); /* lines survive a kill by timeout */
    if (argc > 1)
        scale = atoi(argv[1]) > 0 ? atoi(argv[1]) : 1;
    const char *filter = argc > 2 ? argv[2] : "";
    printf("gosync C harness: %d CPU(s) available, scale %d\n", gosync_ncpu(), scale);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (strstr(cases[i].key, filter))
            cases[i].fn();
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}
