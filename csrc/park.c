/* Parking, see park.h. */
#define _GNU_SOURCE
#include "park.h"
#include "profile.h"

#include <errno.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#if defined(__linux__) && !defined(GOSYNC_PARK_PORTABLE)
#define GOSYNC_PARK_FUTEX 1
#include <linux/futex.h>
#include <sys/syscall.h>
#else
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#endif

int64_t gosync_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int gosync_ncpu(void)
{
    /* Computed once; a race here only computes the same number twice. */
    static _Atomic int cached;
    int n = atomic_load_explicit(&cached, memory_order_relaxed);
    if (n > 0)
        return n;
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        n = CPU_COUNT(&set);
#endif
    if (n <= 0)
        n = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (n <= 0)
        n = 1;
    atomic_store_explicit(&cached, n, memory_order_relaxed);
    return n;
}

void gosync_yield(void)
{
    sched_yield();
}

#if GOSYNC_PARK_FUTEX

gosync_park_result gosync_park_wait(_Atomic uint32_t *word, uint32_t expected,
                                    uint32_t class_bits, int64_t deadline_ns,
                                    unsigned flags)
{
    struct timespec ts, *tsp = NULL;
    if (deadline_ns != GOSYNC_NO_DEADLINE) {
        if (deadline_ns <= gosync_now_ns())
            return GOSYNC_PARK_TIMEDOUT;
        ts.tv_sec = deadline_ns / 1000000000;
        ts.tv_nsec = deadline_ns % 1000000000;
        tsp = &ts;
    }
    gosync_profile_parking();
    /* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC timeout. */
    int op = FUTEX_WAIT_BITSET | ((flags & GOSYNC_PARK_SHARED) ? 0 : FUTEX_PRIVATE_FLAG);
    long rc = syscall(SYS_futex, (uint32_t *)word, op, expected, tsp, NULL, class_bits);
    if (rc == 0)
        return GOSYNC_PARK_WOKEN;
    switch (errno) {
    case ETIMEDOUT:
        return GOSYNC_PARK_TIMEDOUT;
    case EINTR:
        return GOSYNC_PARK_INTERRUPTED;
    case EAGAIN: /* the word changed before we slept */
        return GOSYNC_PARK_AGAIN;
    default: /* EFAULT, EINVAL, ENOSYS, EPERM: waiting again would spin */
        return GOSYNC_PARK_FAULT;
    }
}

int gosync_park_wake(_Atomic uint32_t *word, int n, uint32_t class_mask, unsigned flags)
{
    int op = FUTEX_WAKE_BITSET | ((flags & GOSYNC_PARK_SHARED) ? 0 : FUTEX_PRIVATE_FLAG);
    long rc = syscall(SYS_futex, (uint32_t *)word, op, n, NULL, NULL, class_mask);
    return rc < 0 ? 0 : (int)rc;
}

#else /* portable fallback */

/* Each bucket holds a FIFO list of waiter nodes that live on the waiters'
 * stacks. A node leaves the list only under the bucket lock: by a waker
 * (which sets woken) or by its own waiter after a timeout. This table is
 * process-local, so GOSYNC_PARK_SHARED has no effect here. Signals do not
 * interrupt pthread_cond_timedwait, so on these platforms a blocked wait
 * sees KeyboardInterrupt only when it ends. */

typedef struct park_node {
    struct park_node *next;
    _Atomic uint32_t *word;
    uint32_t class_bits;
    bool woken;
} park_node;

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    park_node *head, *tail;
} park_bucket;

#define PARK_BUCKETS 64 /* a power of two */

static park_bucket buckets[PARK_BUCKETS];
static pthread_once_t buckets_once = PTHREAD_ONCE_INIT;

static void buckets_init(void)
{
    for (int i = 0; i < PARK_BUCKETS; i++) {
        pthread_condattr_t attr;
        pthread_condattr_init(&attr);
#if !defined(__APPLE__)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
#endif
        pthread_mutex_init(&buckets[i].lock, NULL);
        pthread_cond_init(&buckets[i].cond, &attr);
        pthread_condattr_destroy(&attr);
        buckets[i].head = buckets[i].tail = NULL;
    }
}

static park_bucket *bucket_for(_Atomic uint32_t *word)
{
    pthread_once(&buckets_once, buckets_init);
    uintptr_t a = (uintptr_t)word;
    return &buckets[((a >> 3) ^ (a >> 11)) & (PARK_BUCKETS - 1)];
}

static void unlink_node(park_bucket *b, park_node *prev, park_node *n)
{
    if (prev)
        prev->next = n->next;
    else
        b->head = n->next;
    if (b->tail == n)
        b->tail = prev;
}

gosync_park_result gosync_park_wait(_Atomic uint32_t *word, uint32_t expected,
                                    uint32_t class_bits, int64_t deadline_ns,
                                    unsigned flags)
{
    (void)flags;
    if (deadline_ns != GOSYNC_NO_DEADLINE && deadline_ns <= gosync_now_ns())
        return GOSYNC_PARK_TIMEDOUT;
    gosync_profile_parking();
    park_bucket *b = bucket_for(word);
    pthread_mutex_lock(&b->lock);
    if (atomic_load_explicit(word, memory_order_seq_cst) != expected) {
        pthread_mutex_unlock(&b->lock);
        return GOSYNC_PARK_AGAIN;
    }
    park_node me = {NULL, word, class_bits, false};
    if (b->tail)
        b->tail->next = &me;
    else
        b->head = &me;
    b->tail = &me;

    struct timespec ts;
    if (deadline_ns != GOSYNC_NO_DEADLINE) {
#if defined(__APPLE__)
        /* No monotonic condvar clock: convert to the realtime clock once. */
        struct timespec now_rt;
        clock_gettime(CLOCK_REALTIME, &now_rt);
        int64_t rt = (int64_t)now_rt.tv_sec * 1000000000 + now_rt.tv_nsec +
                     (deadline_ns - gosync_now_ns());
        ts.tv_sec = rt / 1000000000;
        ts.tv_nsec = rt % 1000000000;
#else
        ts.tv_sec = deadline_ns / 1000000000;
        ts.tv_nsec = deadline_ns % 1000000000;
#endif
    }
    int rc = 0;
    while (!me.woken && rc != ETIMEDOUT) {
        if (deadline_ns == GOSYNC_NO_DEADLINE)
            rc = pthread_cond_wait(&b->cond, &b->lock);
        else
            rc = pthread_cond_timedwait(&b->cond, &b->lock, &ts);
    }
    gosync_park_result result = GOSYNC_PARK_WOKEN;
    if (!me.woken) {
        park_node *prev = NULL;
        for (park_node *n = b->head; n; prev = n, n = n->next)
            if (n == &me) {
                unlink_node(b, prev, n);
                break;
            }
        result = GOSYNC_PARK_TIMEDOUT;
    }
    pthread_mutex_unlock(&b->lock);
    return result;
}

int gosync_park_wake(_Atomic uint32_t *word, int n, uint32_t class_mask, unsigned flags)
{
    (void)flags;
    park_bucket *b = bucket_for(word);
    int woken = 0;
    pthread_mutex_lock(&b->lock);
    park_node *prev = NULL, *node = b->head;
    while (node && woken < n) {
        park_node *next = node->next;
        if (node->word == word && (node->class_bits & class_mask)) {
            unlink_node(b, prev, node);
            node->woken = true;
            woken++;
        } else {
            prev = node;
        }
        node = next;
    }
    if (woken)
        pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
    return woken;
}

#endif
