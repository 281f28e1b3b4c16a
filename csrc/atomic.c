/* Typed atomics: the out-of-line functions behind gosync.atomic.
 *
 * Each function is one C11 atomic operation with memory_order_seq_cst, the
 * order Go's sync/atomic promises (see the table at the end of atomic.h).
 * The four integer types share one definition, written once as a macro and
 * instantiated per type, so that they cannot drift apart.
 *
 * add returns the new value. The atomic fetch_add already wraps (C11 defines
 * atomic arithmetic on signed types as two's complement with silent
 * wraparound); the new value is then recomputed from the old one in the
 * unsigned type of the same width, where wrapping is defined, and converted
 * back. That conversion is implementation-defined for a result above the
 * signed maximum, and every compiler gosync supports (GCC, Clang) defines it
 * as reduction modulo 2^width, which is what Go does.
 */
#include "atomic.h"

#define GOSYNC_ATOMIC_DEFINE(name, T, U)                                         \
    T gosync_atomic_load_##name(const _Atomic T *p)                              \
    {                                                                            \
        /* The cast drops const only: C11's atomic_load is declared on a        \
         * non-const pointer, though it never writes. */                        \
        return gosync_load((_Atomic T *)p, GOSYNC_SEQ_CST);                      \
    }                                                                            \
    void gosync_atomic_store_##name(_Atomic T *p, T v)                           \
    {                                                                            \
        gosync_store(p, v, GOSYNC_SEQ_CST);                                      \
    }                                                                            \
    T gosync_atomic_swap_##name(_Atomic T *p, T v)                               \
    {                                                                            \
        return gosync_swap(p, v, GOSYNC_SEQ_CST);                                \
    }                                                                            \
    bool gosync_atomic_cas_##name(_Atomic T *p, T old, T new_)                   \
    {                                                                            \
        /* A failed CAS reads the word too, and that read is part of the total  \
         * order as well: seq_cst on both outcomes. */                          \
        return gosync_cas(p, &old, new_, GOSYNC_SEQ_CST, GOSYNC_SEQ_CST);        \
    }                                                                            \
    T gosync_atomic_add_##name(_Atomic T *p, T delta)                            \
    {                                                                            \
        T old = gosync_add(p, delta, GOSYNC_SEQ_CST);                            \
        return (T)((U)old + (U)delta);                                           \
    }                                                                            \
    T gosync_atomic_and_##name(_Atomic T *p, T mask)                             \
    {                                                                            \
        return gosync_and(p, mask, GOSYNC_SEQ_CST);                              \
    }                                                                            \
    T gosync_atomic_or_##name(_Atomic T *p, T mask)                              \
    {                                                                            \
        return gosync_or(p, mask, GOSYNC_SEQ_CST);                               \
    }

GOSYNC_ATOMIC_DEFINE(int32, int32_t, uint32_t)
GOSYNC_ATOMIC_DEFINE(uint32, uint32_t, uint32_t)
GOSYNC_ATOMIC_DEFINE(int64, int64_t, uint64_t)
GOSYNC_ATOMIC_DEFINE(uint64, uint64_t, uint64_t)
