/* Atomics: the lowest layer of gosync's C core.
 *
 * Thin, typed wrappers over C11 <stdatomic.h>. Every call names its memory
 * order, so that a reader can check each one against the rule of the layer
 * above:
 *
 *   - sync/atomic promises sequential consistency for every operation, so the
 *     typed atomics exposed to Python use memory_order_seq_cst;
 *   - lock words use acquire on the operation that takes the lock and release
 *     on the one that gives it back; a failed CAS only needs relaxed, because
 *     the caller will look again before acting on what it read.
 *
 * Lock-free 32- and 64-bit atomics are address-free on every platform gosync
 * targets, so the same words will work in memory shared between processes.
 */
#ifndef GOSYNC_ATOMIC_H
#define GOSYNC_ATOMIC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#if ATOMIC_INT_LOCK_FREE != 2 || ATOMIC_LLONG_LOCK_FREE != 2
#error "gosync needs lock-free 32- and 64-bit atomics"
#endif

#define GOSYNC_RELAXED memory_order_relaxed
#define GOSYNC_ACQUIRE memory_order_acquire
#define GOSYNC_RELEASE memory_order_release
#define GOSYNC_ACQ_REL memory_order_acq_rel
#define GOSYNC_SEQ_CST memory_order_seq_cst

/* One generic set of operations serves every width: C11's atomic_* are
 * already type-generic, so these macros only force the order to be named. */
#define gosync_load(p, order) atomic_load_explicit((p), (order))
#define gosync_store(p, v, order) atomic_store_explicit((p), (v), (order))
#define gosync_swap(p, v, order) atomic_exchange_explicit((p), (v), (order))
#define gosync_add(p, v, order) atomic_fetch_add_explicit((p), (v), (order))
#define gosync_and(p, v, order) atomic_fetch_and_explicit((p), (v), (order))
#define gosync_or(p, v, order) atomic_fetch_or_explicit((p), (v), (order))

/* Strong compare-and-swap. On failure *expected receives the current value,
 * which every retry loop in gosync uses as its next "old". */
#define gosync_cas(p, expected, desired, success, failure) \
    atomic_compare_exchange_strong_explicit((p), (expected), (desired), (success), (failure))

/* A hint to the CPU that this thread is spinning: on x86 it frees the core's
 * resources for the sibling hyperthread and avoids a memory-order flush when
 * the spin ends. */
static inline void gosync_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __asm__ __volatile__("pause");
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield");
#else
    atomic_signal_fence(memory_order_seq_cst);
#endif
}

#endif /* GOSYNC_ATOMIC_H */
