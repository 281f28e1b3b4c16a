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

/* ---- Typed atomics: what gosync.atomic exposes ----------------------------
 *
 * Go's sync/atomic on Int32, Uint32, Int64 and Uint64 (and Bool, which is a
 * uint32 holding 0 or 1), as out-of-line functions defined in atomic.c. Each
 * one is a single hardware atomic operation on the word, with no lock, and
 * every one is memory_order_seq_cst, as Go promises for all of sync/atomic:
 * the operations of all threads on all words appear in one total order that
 * agrees with each thread's program order.
 *
 *   op     effect on *p                        returns          Go
 *   load   -                                   the value        Load
 *   store  *p = v                              -                Store
 *   swap   *p = v                              the old value    Swap
 *   cas    if *p == old: *p = new              whether it did   CompareAndSwap
 *   add    *p = *p + delta, modulo 2^width     the NEW value    Add
 *   and    *p = *p & mask                      the OLD value    And
 *   or     *p = *p | mask                      the OLD value    Or
 *
 * add wraps for the signed types too, as in Go: C11 defines atomic
 * arithmetic on signed types as two's complement with silent wraparound,
 * and the new value is computed in the unsigned type of the same width, so
 * nothing here is undefined behaviour.
 *
 * The words are plain integers (docs/DESIGN.md, "The data rule"), so they
 * may live anywhere, shared memory included; each must be naturally aligned.
 */
int32_t gosync_atomic_load_int32(const _Atomic int32_t *p);
void gosync_atomic_store_int32(_Atomic int32_t *p, int32_t v);
int32_t gosync_atomic_swap_int32(_Atomic int32_t *p, int32_t v);
bool gosync_atomic_cas_int32(_Atomic int32_t *p, int32_t old, int32_t new_);
int32_t gosync_atomic_add_int32(_Atomic int32_t *p, int32_t delta);
int32_t gosync_atomic_and_int32(_Atomic int32_t *p, int32_t mask);
int32_t gosync_atomic_or_int32(_Atomic int32_t *p, int32_t mask);

uint32_t gosync_atomic_load_uint32(const _Atomic uint32_t *p);
void gosync_atomic_store_uint32(_Atomic uint32_t *p, uint32_t v);
uint32_t gosync_atomic_swap_uint32(_Atomic uint32_t *p, uint32_t v);
bool gosync_atomic_cas_uint32(_Atomic uint32_t *p, uint32_t old, uint32_t new_);
uint32_t gosync_atomic_add_uint32(_Atomic uint32_t *p, uint32_t delta);
uint32_t gosync_atomic_and_uint32(_Atomic uint32_t *p, uint32_t mask);
uint32_t gosync_atomic_or_uint32(_Atomic uint32_t *p, uint32_t mask);

int64_t gosync_atomic_load_int64(const _Atomic int64_t *p);
void gosync_atomic_store_int64(_Atomic int64_t *p, int64_t v);
int64_t gosync_atomic_swap_int64(_Atomic int64_t *p, int64_t v);
bool gosync_atomic_cas_int64(_Atomic int64_t *p, int64_t old, int64_t new_);
int64_t gosync_atomic_add_int64(_Atomic int64_t *p, int64_t delta);
int64_t gosync_atomic_and_int64(_Atomic int64_t *p, int64_t mask);
int64_t gosync_atomic_or_int64(_Atomic int64_t *p, int64_t mask);

uint64_t gosync_atomic_load_uint64(const _Atomic uint64_t *p);
void gosync_atomic_store_uint64(_Atomic uint64_t *p, uint64_t v);
uint64_t gosync_atomic_swap_uint64(_Atomic uint64_t *p, uint64_t v);
bool gosync_atomic_cas_uint64(_Atomic uint64_t *p, uint64_t old, uint64_t new_);
uint64_t gosync_atomic_add_uint64(_Atomic uint64_t *p, uint64_t delta);
uint64_t gosync_atomic_and_uint64(_Atomic uint64_t *p, uint64_t mask);
uint64_t gosync_atomic_or_uint64(_Atomic uint64_t *p, uint64_t mask);

#endif /* GOSYNC_ATOMIC_H */
