/* Binding of gosync.shared's RWMutex: the C type
 * gosync._gosync.SharedRWMutexBase, on the robust RWMutex
 * (csrc/robust_rwmutex.h), whose readers and writers may die.
 *
 * Statuses become Python as for SharedMutexBase (gosync_py_robust_result):
 * a dead writer's lock raises OwnerDied from lock, try_lock, and also from
 * rlock and try_rlock, which then hold the WRITE lock (repair,
 * mark_consistent(), unlock()). A non-blocking attempt is made first with
 * the GIL held, so that an uncontended lock keeps it.
 */
#include "_binding.h"

#include "robust_rwmutex.h"

PyTypeObject *gosync_py_shared_rwmutex_type; /* set by gosync_py_add_types */

static const char runlock_of_unlocked[] = "sync: RUnlock of unlocked RWMutex";
static const char unlock_of_unlocked_rw[] = "sync: Unlock of unlocked RWMutex";
static const char mark_consistent_misuse[] = "sync: mark_consistent of a consistent mutex";
static const char too_many_readers[] =
    "gosync: RWMutex has too many readers (64 processes, or 1023 read holds in one)";

typedef struct {
    gosync_py_placed placed;
    gosync_robust_rwmutex storage; /* unused when placed.head.state is in an arena */
} gosync_py_shared_rwmutex;

#define RRW(op) ((gosync_robust_rwmutex *)((gosync_py_object *)(op))->state)

static PyObject *shared_rwmutex_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    return gosync_py_new(type, args, kwds, offsetof(gosync_py_shared_rwmutex, storage), 1);
}

static int lock_writers_call(void *rw, int64_t deadline_ns)
{
    return gosync_robust_rwmutex_lock_writers(rw, deadline_ns);
}

static int drain_call(void *rw, int64_t deadline_ns)
{
    return gosync_robust_rwmutex_drain(rw, deadline_ns);
}

static int rlock_call(void *rw, int64_t deadline_ns)
{
    return gosync_robust_rwmutex_rlock(rw, deadline_ns);
}

/* The write lock's steps, after a failed try: a status as
 * gosync_robust_rwmutex_lock's. */
static int rw_lock_steps(gosync_robust_rwmutex *rw, int64_t deadline_ns)
{
    /* In steps (robust_rwmutex.h): the waits run in slices, and a slice
     * that ends while readers drain must not give the lock back, or every
     * blocked reader would get in and a writer might never get the lock. */
    int rc = gosync_py_block_robust(lock_writers_call, rw, deadline_ns);
    if (rc != GOSYNC_OK && rc != GOSYNC_OWNERDEAD)
        return rc;
    int drained = gosync_py_block_robust(drain_call, rw, deadline_ns);
    if (drained == GOSYNC_OK)
        return rc;
    gosync_robust_rwmutex_cancel_lock(rw, rc);
    return drained;
}

/* A blocking lock or rlock, timed for both profiles as one wait. */
static PyObject *rw_wait(PyObject *op, int write, int64_t deadline_ns)
{
    gosync_contention *c = gosync_py_slot_contention(op);
    int64_t timed = gosync_py_contention_enter(c);
    int block_timed = gosync_py_profile_wait_begin();
    int rc = write ? rw_lock_steps(RRW(op), deadline_ns) : gosync_py_block_robust(rlock_call, RRW(op), deadline_ns);
    if (block_timed)
        gosync_py_profile_block(op, rc == GOSYNC_OWNERDEAD || rc == GOSYNC_OWNERDEAD_WRITE ? GOSYNC_OK : rc);
    if (timed)
        gosync_contention_leave(c, timed);
    return gosync_py_robust_result(rc, write ? "" : too_many_readers);
}

static PyObject *rw_lock(PyObject *op, int64_t deadline_ns)
{
    int rc = gosync_robust_rwmutex_try_lock(RRW(op));
    if (rc != GOSYNC_BUSY)
        return gosync_py_robust_result(rc, "");
    return rw_wait(op, 1, deadline_ns);
}

static PyObject *rw_rlock(PyObject *op, int64_t deadline_ns)
{
    int rc = gosync_robust_rwmutex_try_rlock(RRW(op));
    if (rc != GOSYNC_BUSY)
        return gosync_py_robust_result(rc, too_many_readers);
    return rw_wait(op, 0, deadline_ns);
}

static PyObject *shared_rwmutex_enter(PyObject *op, PyObject *unused)
{
    (void)unused;
    GOSYNC_PY_CHECK_OPEN(op);
    return rw_lock(op, GOSYNC_NO_DEADLINE);
}

static PyObject *shared_rwmutex_lock_until(PyObject *op, PyObject *arg)
{
    GOSYNC_PY_CHECK_OPEN(op);
    int64_t deadline_ns;
    if (gosync_py_deadline(arg, &deadline_ns) < 0)
        return NULL;
    return rw_lock(op, deadline_ns);
}

static PyObject *shared_rwmutex_rlock_until(PyObject *op, PyObject *arg)
{
    GOSYNC_PY_CHECK_OPEN(op);
    int64_t deadline_ns;
    if (gosync_py_deadline(arg, &deadline_ns) < 0)
        return NULL;
    return rw_rlock(op, deadline_ns);
}

static PyObject *shared_rwmutex_unlock(PyObject *op, PyObject *unused)
{
    (void)unused;
    GOSYNC_PY_CHECK_OPEN(op);
    int64_t charge = gosync_py_contention_charge(gosync_py_slot_contention(op));
    if (gosync_robust_rwmutex_unlock(RRW(op)) != GOSYNC_OK)
        return gosync_py_misuse(unlock_of_unlocked_rw);
    if (charge > 0)
        gosync_py_profile_mutex(op, charge);
    Py_RETURN_NONE;
}

static PyObject *shared_rwmutex_exit(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    (void)args;
    (void)nargs;
    return shared_rwmutex_unlock(op, NULL);
}

static PyObject *shared_rwmutex_runlock(PyObject *op, PyObject *unused)
{
    (void)unused;
    GOSYNC_PY_CHECK_OPEN(op);
    int64_t charge = gosync_py_contention_charge(gosync_py_slot_contention(op));
    if (gosync_robust_rwmutex_runlock(RRW(op)) != GOSYNC_OK)
        return gosync_py_misuse(runlock_of_unlocked);
    if (charge > 0)
        gosync_py_profile_mutex(op, charge);
    Py_RETURN_NONE;
}

static PyObject *shared_rwmutex_try_lock(PyObject *op, PyObject *unused)
{
    (void)unused;
    GOSYNC_PY_CHECK_OPEN(op);
    return gosync_py_robust_result(gosync_robust_rwmutex_try_lock(RRW(op)), "");
}

static PyObject *shared_rwmutex_try_rlock(PyObject *op, PyObject *unused)
{
    (void)unused;
    GOSYNC_PY_CHECK_OPEN(op);
    return gosync_py_robust_result(gosync_robust_rwmutex_try_rlock(RRW(op)), too_many_readers);
}

static PyObject *shared_rwmutex_mark_consistent(PyObject *op, PyObject *unused)
{
    (void)unused;
    GOSYNC_PY_CHECK_OPEN(op);
    if (gosync_robust_rwmutex_mark_consistent(RRW(op)) != GOSYNC_OK)
        return gosync_py_misuse(mark_consistent_misuse);
    Py_RETURN_NONE;
}

/* The fields of gosync.shared.rwmutex.RWMutexState. Relaxed reads: a
 * snapshot for tests and repr. */
static PyObject *shared_rwmutex_debug_fields(PyObject *op, PyObject *unused)
{
    (void)unused;
    GOSYNC_PY_CHECK_OPEN(op);
    gosync_robust_rwmutex *rw = RRW(op);
    uint64_t w = gosync_robust_mutex_word(&rw->w);
    return Py_BuildValue("(IOO)", (unsigned int)gosync_robust_rwmutex_readers(rw),
                         gosync_robust_rwmutex_write_locked(rw) ? Py_True : Py_False,
                         w & GOSYNC_ROBUST_INCONSISTENT ? Py_True : Py_False);
}

static PyMethodDef shared_rwmutex_methods[] = {
    {"__enter__", shared_rwmutex_enter, METH_NOARGS,
     "__enter__() -> True\n\nLock for writing, waiting as long as it takes."},
    {"__exit__", (PyCFunction)(void (*)(void))shared_rwmutex_exit, METH_FASTCALL,
     "__exit__(*exc_info) -> None\n\nUnlock the write lock."},
    {"_lock_until", shared_rwmutex_lock_until, METH_O,
     "_lock_until(deadline_ns) -> bool\n\nLock for writing until an absolute deadline (-1: never)."},
    {"_rlock_until", shared_rwmutex_rlock_until, METH_O,
     "_rlock_until(deadline_ns) -> bool\n\nLock for reading until an absolute deadline (-1: never).\n"
     "OwnerDied means a writer died: the WRITE lock is held now."},
    {"unlock", shared_rwmutex_unlock, METH_NOARGS,
     "unlock() -> None\n\nUnlock unlocks the write lock. Without a writer it raises\n"
     "SyncError(\"sync: Unlock of unlocked RWMutex\") and changes nothing."},
    {"runlock", shared_rwmutex_runlock, METH_NOARGS,
     "runlock() -> None\n\nRUnlock undoes one rlock of this process. Without one it raises\n"
     "SyncError(\"sync: RUnlock of unlocked RWMutex\") and changes nothing."},
    {"try_lock", shared_rwmutex_try_lock, METH_NOARGS,
     "try_lock() -> bool\n\nTryLock tries to lock for writing without waiting, and reports\n"
     "whether it succeeded (OwnerDied: a dead writer's lock, now held)."},
    {"try_rlock", shared_rwmutex_try_rlock, METH_NOARGS,
     "try_rlock() -> bool\n\nTryRLock tries to lock for reading without waiting, and reports\n"
     "whether it succeeded (OwnerDied: a dead writer's lock; the WRITE lock is held)."},
    {"mark_consistent", shared_rwmutex_mark_consistent, METH_NOARGS,
     "mark_consistent() -> None\n\nMarkConsistent tells the write lock that the data has been\n"
     "repaired after OwnerDied."},
    {"_debug_fields", shared_rwmutex_debug_fields, METH_NOARGS,
     "_debug_fields() -> tuple\n\nThe fields of gosync.shared.rwmutex.RWMutexState: readers,\n"
     "writer, inconsistent."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef shared_rwmutex_members[] = {
    GOSYNC_PY_WEAKREFS,
    GOSYNC_PY_LABEL,
    GOSYNC_PY_PLACED_MEMBERS,
    {NULL, 0, 0, 0, NULL},
};

/* The public class gosync.shared.RWMutex (gosync/shared/rwmutex.py adds its
 * Python methods; its __new__ places one in an arena). The arena's own
 * locks are instances too, without _arena and _slot. */
static PyType_Slot shared_rwmutex_slots[] = {
    {Py_tp_new, shared_rwmutex_new},
    {Py_tp_dealloc, gosync_py_placed_dealloc},
    {Py_tp_traverse, gosync_py_placed_traverse},
    {Py_tp_clear, gosync_py_placed_clear},
    {Py_tp_doc, "An RWMutex is a reader/writer mutual exclusion lock shared by processes."},
    {Py_tp_methods, shared_rwmutex_methods},
    {Py_tp_members, shared_rwmutex_members},
    {0, NULL},
};

PyType_Spec gosync_py_shared_rwmutex_spec = GOSYNC_PY_PUBLIC_SPEC("gosync.shared.rwmutex.RWMutex", sizeof(gosync_py_shared_rwmutex),
                                                          Py_TPFLAGS_HAVE_GC, shared_rwmutex_slots);
