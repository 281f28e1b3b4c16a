/* What the parts of the binding share (gosync/_binding*.c).
 *
 * Each part is its own translation unit: it includes this header and
 * compiles alone. What one part defines for another is declared here with
 * GOSYNC_PY_INTERNAL, i.e. hidden: nothing of the binding is exported from
 * the shared object but the module's init function, and a call between
 * parts is a direct call, which the compiler may inline within a part
 * (under -fPIC a default-visibility function could be interposed, so it
 * would not). The rest of a part is static.
 *
 * The policy that this code follows (when the GIL is released, why the
 * lock protocols are C methods, where each state lives) is in _binding.c's
 * header comment and in docs/DESIGN.md.
 */
#ifndef GOSYNC_BINDING_H
#define GOSYNC_BINDING_H

/* Python.h comes first, as the C API requires (cffi's module text has
 * already included it; the include guard makes this a no-op there). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h> /* T_PYSSIZET, READONLY: GOSYNC_PY_WEAKREFS */

#include <stddef.h>
#include <stdint.h>

#include "atomic.h"
#include "chan.h"
#include "cond.h"
#include "mutex.h"
#include "park.h" /* GOSYNC_NO_DEADLINE */
#include "profile.h"
#include "rwmutex.h"
#include "status.h"
#include "waitgroup.h"

#if defined(__GNUC__) || defined(__clang__)
#define GOSYNC_PY_INTERNAL __attribute__((visibility("hidden")))
#else
#define GOSYNC_PY_INTERNAL
#endif

/* ---- The GIL ------------------------------------------------------------- */

/* Runs a core slow path with the GIL released (PyEval_SaveThread detaches
 * the thread state on free-threaded builds too). */
#define GOSYNC_WITHOUT_GIL(result, call)                    \
    do {                                                    \
        PyThreadState *gosync_saved_ = PyEval_SaveThread(); \
        (result) = (call);                                  \
        PyEval_RestoreThread(gosync_saved_);                \
    } while (0)

/* The trashcan around a dealloc that drops references to arbitrary objects
 * (a Chan's buffered values, which may be Chans): it bounds the C recursion
 * of freeing a long chain, as CPython's subtype_dealloc does for a class
 * defined in Python. Call it after PyObject_GC_UnTrack. PyPy's cpyext has
 * no Py_TRASHCAN_BEGIN. */
#if defined(PYPY_VERSION)
#define GOSYNC_PY_TRASHCAN_BEGIN(op, dealloc) {
#define GOSYNC_PY_TRASHCAN_END }
#else
#define GOSYNC_PY_TRASHCAN_BEGIN(op, dealloc) Py_TRASHCAN_BEGIN(op, dealloc)
#define GOSYNC_PY_TRASHCAN_END Py_TRASHCAN_END
#endif

/* ---- Objects whose C state is reached through a pointer ------------------ */

/* The head of every lock type's object. `state` points to the primitive's C
 * state (a gosync_mutex, gosync_rwmutex, ...). An object made in this
 * process holds that state itself, right after the head, and points into
 * itself; a shared object (gosync.shared, docs/DESIGN.md) points into a
 * shared-memory mapping instead, keeping a reference to it. Every method
 * goes through the pointer, so the same code serves both. */
typedef struct {
    PyObject_HEAD
    void *state;
    PyObject *mapping;     /* NULL in-process; else the Mapping that holds state */
    PyObject *weakreflist; /* of the types that list GOSYNC_PY_WEAKREFS; else NULL */
    PyObject *label;       /* the name the profiles give it (a str), or NULL */
} gosync_py_object;

/* The member that lets a type's instances be weakly referenced (users keep
 * locks in weak containers), through head.weakreflist: a type whose
 * instances begin with a gosync_py_object lists it in its Py_tp_members.
 * Its tp_dealloc must then clear the weak references, as
 * gosync_py_object_dealloc does (subtype_dealloc, the default, does not for
 * a type that is not garbage-collected). The public classes are
 * these types themselves (gosync/_public.py), so no Python subclass adds a
 * __weakref__ slot. */
#define GOSYNC_PY_WEAKREFS \
    {"__weaklistoffset__", T_PYSSIZET, offsetof(gosync_py_object, weakreflist), READONLY, NULL}

/* The member that names a primitive that can block in the contention
 * profiles (gosync.profile): its name= or its creation site, None when it
 * was made unnamed while profiling was off. gosync's Python layer sets it
 * on the primitives it makes for a user's one (a Weighted's wake lock, a
 * shared Chan's mutex), so that their waits are charged to that one. */
#define GOSYNC_PY_LABEL \
    {"_profile_label", T_OBJECT, offsetof(gosync_py_object, label), 0, NULL}

/* A shared-memory mapping of gosync.shared (_binding_shared_mapping.c): an
 * arena's file mapped MAP_SHARED. Closing only sets `closed`; the memory is
 * unmapped when the last reference goes, so that an object whose call is
 * still blocked in it never touches unmapped memory. */
typedef struct {
    PyObject_HEAD
    char *base;
    size_t size;
    int closed;
} gosync_py_mapping;

/* Whether op's state is in a Mapping that has been closed: one load for an
 * in-process object. Each method of a type that can live in shared memory
 * begins with GOSYNC_PY_CHECK_OPEN(op). */
static inline int gosync_py_closed(PyObject *op)
{
    PyObject *m = ((gosync_py_object *)op)->mapping;
    return m != NULL && ((gosync_py_mapping *)m)->closed;
}

/* Raises ValueError("operation on a closed arena") and returns NULL. */
GOSYNC_PY_INTERNAL PyObject *gosync_py_closed_error(void);

#define GOSYNC_PY_CHECK_OPEN(op)               \
    do {                                       \
        if (gosync_py_closed(op))              \
            return gosync_py_closed_error();   \
    } while (0)

/* The tp_dealloc of the types whose instances begin with a gosync_py_object:
 * clears the weak references, drops the reference to a shared-memory
 * mapping, frees op and gives back the reference to its type (see
 * gosync_py_gc_dealloc). */
GOSYNC_PY_INTERNAL void gosync_py_object_dealloc(PyObject *op);

/* The tp_new of the lock types: allocates an instance of `type` (zeroed:
 * every primitive's initial state is all zeros) and points its state at
 * `state_offset` bytes into the object itself. Arguments are refused as
 * object() refuses them, unless a subclass's __init__ takes them (Cond(L)).
 * A type that can block (`named`) also takes the keyword name=, a str or
 * None, which becomes its profile label (else its creation site, if a
 * profile is on). Returns a new reference, or NULL with an exception set. */
GOSYNC_PY_INTERNAL PyObject *gosync_py_new(PyTypeObject *type, PyObject *args, PyObject *kwds,
                                           size_t state_offset, int named);

/* Each lock type as its instances lay it out in this process, e.g.
 *
 *     typedef struct {
 *         gosync_py_object head; // head.state == &storage
 *         gosync_contention contention; // the mutex profile's record
 *         gosync_mutex storage;
 *     } gosync_py_mutex;
 *
 * and gosync_py_mutex_of(op), the C state of an instance of the type (or of
 * a subclass): the typed view of head.state, so that the conversion from
 * void * is written once. */
#define GOSYNC_PY_LOCK_TYPE(name, ctype)                     \
    typedef struct {                                         \
        gosync_py_object head;                               \
        gosync_contention contention;                        \
        ctype storage;                                       \
    } gosync_py_##name;                                      \
                                                             \
    static inline ctype *gosync_py_##name##_of(PyObject *op) \
    {                                                        \
        return ((gosync_py_object *)op)->state;              \
    }
GOSYNC_PY_LOCK_TYPE(mutex, gosync_mutex)
GOSYNC_PY_LOCK_TYPE(rwmutex, gosync_rwmutex)
GOSYNC_PY_LOCK_TYPE(waitgroup, gosync_waitgroup)
#undef GOSYNC_PY_LOCK_TYPE

/* gosync.Cond: its notify list, and the attributes that gosync/cond.py
 * keeps (the members _L, _native, _unlock, _lock; NULL until its __init__
 * sets them). A shared Cond's notify list is in its mapping; these are
 * always in the object. */
typedef struct {
    gosync_py_object head; /* head.state == &storage in-process */
    gosync_cond storage;
    PyObject *L, *native, *unlock, *lock;
} gosync_py_cond;

static inline gosync_cond *gosync_py_cond_of(PyObject *op)
{
    return ((gosync_py_object *)op)->state;
}

/* The dealloc of a garbage-collected type whose instances begin with a
 * gosync_py_object: untracks op, drops its references with `clear`, then
 * gosync_py_object_dealloc. */
GOSYNC_PY_INTERNAL void gosync_py_object_gc_dealloc(PyObject *op, inquiry clear);

/* The head of gosync.shared's lock types (Mutex, RWMutex), before their
 * state: arena and slot are the Python layer's _arena and _slot, where the
 * state is (gosync/shared/_placed.py). One traverse, clear and dealloc
 * (_binding_shared_mapping.c) serve both types. */
typedef struct {
    gosync_py_object head;
    PyObject *arena, *slot;
    gosync_contention *contention; /* the mutex profile's record, or NULL */
} gosync_py_placed;

#define GOSYNC_PY_PLACED_MEMBERS                                                   \
    {"_arena", T_OBJECT_EX, offsetof(gosync_py_placed, arena), 0, NULL},           \
    {                                                                              \
        "_slot", T_OBJECT_EX, offsetof(gosync_py_placed, slot), 0, NULL            \
    }

GOSYNC_PY_INTERNAL int gosync_py_placed_traverse(PyObject *op, visitproc visit, void *arg);
GOSYNC_PY_INTERNAL int gosync_py_placed_clear(PyObject *op);
GOSYNC_PY_INTERNAL void gosync_py_placed_dealloc(PyObject *op);

/* ChanBase: the channel's C state, and the ring's slots, which are the
 * binding's (_binding_chan.c): `cap` tokens, each 0 or an owned reference. */
typedef struct {
    gosync_py_object head; /* head.state == &storage */
    uint64_t *ring;
    /* Operations on this channel inside their GIL-released part, which may
     * move tokens out of the ring. Changed only with the GIL held. */
    Py_ssize_t unlocked_ops;
    gosync_chan storage;
} gosync_py_chan;

/* RLockerBase holds no state of its own: it reaches its RWMutex's. */
typedef struct {
    PyObject_HEAD
    PyObject *rw; /* a strong reference to an RWMutexBase */
} gosync_py_rlocker;

static inline gosync_rwmutex *gosync_py_rlocker_rwmutex_of(PyObject *op)
{
    return gosync_py_rwmutex_of(((gosync_py_rlocker *)op)->rw);
}

/* The tp_dealloc of a garbage-collected type of the binding (RLockerBase,
 * PoolLocal): untracks op, drops its references with `clear`, frees it,
 * and gives back the reference to its type that every instance of a heap
 * type holds (the subclasses' subtype_dealloc leaves that to a heap base
 * type's own dealloc). */
GOSYNC_PY_INTERNAL void gosync_py_gc_dealloc(PyObject *op, inquiry clear);

/* ---- Errors, deadlines and blocking calls --------------------------------- */

/* Raises gosync.SyncError(message) and returns NULL. */
GOSYNC_PY_INTERNAL PyObject *gosync_py_misuse(const char *message);

/* Parses a deadline argument: an int, GOSYNC_NO_DEADLINE for none. The
 * Python layer has already validated the user's timeout. Returns 0, or -1
 * with an exception set. */
static inline int gosync_py_deadline(PyObject *arg, int64_t *deadline_ns)
{
    long long d = PyLong_AsLongLong(arg);
    if (d == -1 && PyErr_Occurred())
        return -1;
    *deadline_ns = (int64_t)d;
    return 0;
}

/* PyErr_CheckSignals, also on PyPy (whose cpyext makes it a no-op; see
 * _binding_common.c): runs pending signal handlers in the main thread.
 * Returns 0, or -1 with a handler's exception set. */
GOSYNC_PY_INTERNAL int gosync_py_check_signals(void);

/* A blocking slow path of the core: GOSYNC_OK, GOSYNC_TIMEDOUT,
 * GOSYNC_INTERRUPTED, or a primitive's own error code. */
typedef int (*gosync_blocking_call)(void *primitive, int64_t deadline_ns);

/* Runs a blocking call with the GIL released, riding out signals: returns
 * the call's final status, or -1 with a signal handler's exception set (see
 * _binding_common.c). While the block profile is on, a call that parked
 * is a block event of `owner` (the primitive object, NULL for a select). */
GOSYNC_PY_INTERNAL int gosync_py_block(PyObject *owner, gosync_blocking_call call, void *primitive,
                                       int64_t deadline_ns);

/* gosync_py_block without the block profile: for a call that is one part of
 * a wait timed as a whole (the robust locks' slices). */
GOSYNC_PY_INTERNAL int gosync_py_block_untimed(gosync_blocking_call call, void *primitive,
                                               int64_t deadline_ns);

/* The Python result of a wait: True (GOSYNC_OK), False (GOSYNC_TIMEDOUT), or
 * NULL with an exception for -1 (already set), GOSYNC_OVERFLOW (an
 * OverflowError with overflow_message) and GOSYNC_FAULT (OSError from
 * errno). Other codes are the caller's to map first. */
GOSYNC_PY_INTERNAL PyObject *gosync_py_wait_result(int rc, const char *overflow_message);

/* The Python result of a robust lock's acquire (gosync.shared): as
 * gosync_py_wait_result, and GOSYNC_OWNERDEAD(_WRITE) raises
 * gosync.shared.OwnerDied (the lock is held), GOSYNC_NOTRECOVERABLE
 * SyncError("sync: mutex not recoverable"), GOSYNC_BUSY is False. */
GOSYNC_PY_INTERNAL PyObject *gosync_py_robust_result(int rc, const char *overflow_message);

/* gosync_py_block for the robust locks' waits: in slices of at most
 * GOSYNC_ROBUST_POLL_NS, each a fresh call of the core, so that a signal
 * whose handler this process has not run yet (one that arrived while the
 * thread was not asleep in the kernel, which the core cannot see) is
 * handled within a slice rather than when the lock comes. A slice that
 * times out before the caller's deadline changes nothing: the robust locks
 * leave at most a WAITERS bit behind. */
GOSYNC_PY_INTERNAL int gosync_py_block_robust(gosync_blocking_call call, void *lock, int64_t deadline_ns);

/* ---- Contention profiling (_binding_profile.c, csrc/profile.h) ------------ */

/* Before a blocking call timed as a whole (gosync_py_block's, or a robust
 * lock's slices and steps): 1 if the block profile is on (and this
 * thread's park time is cleared), else 0. After it, if 1:
 * gosync_py_profile_block(owner, its status) records the event, if the call
 * parked, it ended with OK or a timeout (a robust lock's OWNERDEAD is
 * passed as OK), and the sample keeps it. */
GOSYNC_PY_INTERNAL int gosync_py_profile_wait_begin(void);
GOSYNC_PY_INTERNAL void gosync_py_profile_block(PyObject *owner, int rc);

/* The mutex profile. A lock's waiter, before it blocks: registers in the
 * lock's record if the mutex profile is on, and returns the time it did (0:
 * it did not; else it calls gosync_contention_leave(c, that time) once it
 * returns). An unlock,
 * before it lets the lock go: the delay to charge (0: none); after it,
 * gosync_py_profile_mutex samples and records that delay with the
 * unlocker's stack. A NULL record (a shared lock not in a slot) is never
 * timed. */
GOSYNC_PY_INTERNAL int64_t gosync_py_contention_enter(gosync_contention *c);
static inline int64_t gosync_py_contention_charge(gosync_contention *c)
{
    /* One load of the record on every unlock: inline, as the fast path. */
    if (c == NULL || !gosync_contention_waiting(c))
        return 0;
    return gosync_contention_charge(c, gosync_now_ns());
}
GOSYNC_PY_INTERNAL void gosync_py_profile_mutex(PyObject *owner, int64_t delay_ns);

/* The label of a new primitive of `type`: name (a new reference to it) if
 * it is a str; else, while a profile is on, its creation site from
 * gosync._profile; else None. NULL with TypeError when name is neither a
 * str nor None. */
GOSYNC_PY_INTERNAL PyObject *gosync_py_profile_label(PyTypeObject *type, PyObject *name);

/* A robust lock's contention record: in its slot's header, 48 bytes before
 * its state (gosync/shared/_layout.py: every shared Mutex and RWMutex,
 * and the Mutex of a shared Chan or Once, has its state at slot + 64, and
 * slots begin at the end of the arena's header; the arena's directory lock
 * at 128 has bytes 80..104 of the header). Mapping.at sets it for a lock
 * placed at one of those offsets, and leaves it NULL (never timed) for
 * any other, so that no record can fall on the header's used bytes. */
#define GOSYNC_PY_SLOT_CONTENTION 48
#define GOSYNC_PY_DIRECTORY_LOCK 128
#define GOSYNC_PY_ARENA_HEADER 32768
static inline gosync_contention *gosync_py_slot_contention(PyObject *op)
{
    return ((gosync_py_placed *)op)->contention;
}

/* ---- What Cond needs of the other lock types ------------------------------ */

/* Unlock and RUnlock of a gosync.Mutex or RWMutex object (or a subclass's):
 * None, or NULL with SyncError (Go's message) if the lock was not held,
 * which leaves it unchanged. */
GOSYNC_PY_INTERNAL PyObject *gosync_py_mutex_unlock(PyObject *mutex);
GOSYNC_PY_INTERNAL PyObject *gosync_py_rwmutex_unlock(PyObject *rw);
GOSYNC_PY_INTERNAL PyObject *gosync_py_rwmutex_runlock(PyObject *rw);

/* ---- The types ------------------------------------------------------------ */

/* A spec of one of the binding's types: named gosync._gosync.<name>, and
 * subclassable (the Python classes in gosync/ subclass every one). */
#define GOSYNC_PY_SPEC(name, size, flags, slots) \
    {"gosync._gosync." name, (int)(size), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | (flags), slots}

/* The spec of a type that is itself a public class: named as users reach it
 * (module "gosync.mutex", name "Mutex"), so that help() and the text
 * signature in its tp_doc ("Mutex()\n--\n\n") name it so. The Python class
 * written for it in that module is folded into it by gosync._public.public;
 * users may subclass it. */
#define GOSYNC_PY_PUBLIC_SPEC(qualified, size, flags, slots) \
    {qualified, (int)(size), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | (flags), slots}

/* Each part's specs, registered from the one table in _binding.c. */
GOSYNC_PY_INTERNAL extern PyType_Spec gosync_py_mutex_spec;
GOSYNC_PY_INTERNAL extern PyType_Spec gosync_py_rwmutex_spec;
GOSYNC_PY_INTERNAL extern PyType_Spec gosync_py_rlocker_spec;
GOSYNC_PY_INTERNAL extern PyType_Spec gosync_py_waitgroup_spec;
GOSYNC_PY_INTERNAL extern PyType_Spec gosync_py_cond_spec;
GOSYNC_PY_INTERNAL extern PyType_Spec gosync_py_int32_spec;
GOSYNC_PY_INTERNAL extern PyType_Spec gosync_py_uint32_spec;
GOSYNC_PY_INTERNAL extern PyType_Spec gosync_py_int64_spec;
GOSYNC_PY_INTERNAL extern PyType_Spec gosync_py_uint64_spec;
GOSYNC_PY_INTERNAL extern PyType_Spec gosync_py_bool_spec;
GOSYNC_PY_INTERNAL extern PyType_Spec gosync_py_pool_local_spec;
GOSYNC_PY_INTERNAL extern PyType_Spec gosync_py_weighted_spec;
GOSYNC_PY_INTERNAL extern PyType_Spec gosync_py_chan_spec;
GOSYNC_PY_INTERNAL extern PyType_Spec gosync_py_mapping_spec;
GOSYNC_PY_INTERNAL extern PyType_Spec gosync_py_shared_mutex_spec;
GOSYNC_PY_INTERNAL extern PyType_Spec gosync_py_shared_rwmutex_spec;

/* The types that parts check for (Cond's native relock, RLocker's argument,
 * the race demo's gate, the test probe). Set once by gosync_py_add_types;
 * the module holds the references. */
GOSYNC_PY_INTERNAL extern PyTypeObject *gosync_py_mutex_type;
GOSYNC_PY_INTERNAL extern PyTypeObject *gosync_py_rwmutex_type;
GOSYNC_PY_INTERNAL extern PyTypeObject *gosync_py_rlocker_type;
GOSYNC_PY_INTERNAL extern PyTypeObject *gosync_py_waitgroup_type;
GOSYNC_PY_INTERNAL extern PyTypeObject *gosync_py_cond_type;
GOSYNC_PY_INTERNAL extern PyTypeObject *gosync_py_chan_type;
GOSYNC_PY_INTERNAL extern PyTypeObject *gosync_py_int32_type;
GOSYNC_PY_INTERNAL extern PyTypeObject *gosync_py_uint32_type;
GOSYNC_PY_INTERNAL extern PyTypeObject *gosync_py_int64_type;
GOSYNC_PY_INTERNAL extern PyTypeObject *gosync_py_uint64_type;
GOSYNC_PY_INTERNAL extern PyTypeObject *gosync_py_bool_type;
GOSYNC_PY_INTERNAL extern PyTypeObject *gosync_py_shared_mutex_type;
GOSYNC_PY_INTERNAL extern PyTypeObject *gosync_py_shared_rwmutex_type;

/* Module-level functions: the race demo's (_binding_race.c), select
 * (_binding_chan.c) and the test probes (_binding_testing.c). */
GOSYNC_PY_INTERNAL extern PyMethodDef gosync_py_race_functions[];
GOSYNC_PY_INTERNAL extern PyMethodDef gosync_py_chan_functions[];
GOSYNC_PY_INTERNAL extern PyMethodDef gosync_py_testing_functions[];
GOSYNC_PY_INTERNAL extern PyMethodDef gosync_py_profile_functions[];

/* ---- Entry points declared in _cdef.h ------------------------------------- */

GOSYNC_PY_INTERNAL int gosync_py_add_types(void);
GOSYNC_PY_INTERNAL int gosync_py_gil_held(void);

#endif /* GOSYNC_BINDING_H */
