/* Binding of gosync.shared's Mutex: the C type gosync._gosync.SharedMutexBase,
 * on the robust mutex (csrc/robust_mutex.h), whose owner may die.
 *
 * Every acquire form (__enter__, _lock_until, try_lock) turns the core's
 * statuses into Python the same way (gosync_py_robust_result):
 * GOSYNC_OWNERDEAD raises gosync.shared.OwnerDied with the lock held, and
 * GOSYNC_NOTRECOVERABLE raises SyncError("sync: mutex not recoverable").
 * Every method first checks that the arena's mapping is open.
 */
#include "_binding.h"

#include "atomic.h"
#include "identity.h"
#include "robust_mutex.h"

PyTypeObject *gosync_py_shared_mutex_type; /* set by gosync_py_add_types */

static const char unlock_of_unlocked_mutex[] = "sync: unlock of unlocked mutex";
static const char mark_consistent_misuse[] = "sync: mark_consistent of a consistent mutex";

typedef struct {
    gosync_py_placed placed;
    gosync_robust_mutex storage; /* unused when placed.head.state is in an arena */
} gosync_py_shared_mutex;

#define RM(op) ((gosync_robust_mutex *)((gosync_py_object *)(op))->state)

/* OwnerDied is looked up each time, as SyncError is (_binding_common.c):
 * it is a cold path. */
static PyObject *owner_died(const char *message)
{
    PyObject *errors = PyImport_ImportModule("gosync._errors");
    if (errors == NULL)
        return NULL;
    PyObject *cls = PyObject_GetAttrString(errors, "OwnerDied");
    Py_DECREF(errors);
    if (cls == NULL)
        return NULL;
    PyErr_SetString(cls, message);
    Py_DECREF(cls);
    return NULL;
}

PyObject *gosync_py_robust_result(int rc, const char *overflow_message)
{
    switch (rc) {
    case GOSYNC_OWNERDEAD:
    case GOSYNC_OWNERDEAD_WRITE:
        return owner_died("sync: the owner of the lock died holding it; it is held now: "
                          "repair the data, call mark_consistent(), then unlock");
    case GOSYNC_NOTRECOVERABLE:
        return gosync_py_misuse("sync: mutex not recoverable");
    case GOSYNC_BUSY:
        Py_RETURN_FALSE;
    default:
        return gosync_py_wait_result(rc, overflow_message);
    }
}

int gosync_py_block_robust(gosync_blocking_call call, void *lock, int64_t deadline_ns)
{
    for (;;) {
        int64_t slice = gosync_now_ns() + GOSYNC_ROBUST_POLL_NS;
        int64_t until = deadline_ns != GOSYNC_NO_DEADLINE && deadline_ns < slice ? deadline_ns : slice;
        int rc = gosync_py_block_untimed(call, lock, until); /* runs pending handlers first */
        if (rc != GOSYNC_TIMEDOUT || until == deadline_ns)
            return rc;
    }
}

static PyObject *shared_mutex_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    return gosync_py_new(type, args, kwds, offsetof(gosync_py_shared_mutex, storage), 1);
}

static int shared_mutex_lock_call(void *m, int64_t deadline_ns)
{
    return gosync_robust_mutex_lock(m, deadline_ns);
}

/* Locks with the GIL held when the word is 0 (robust_mutex.h's "Lock,
 * fast": 0 -> me, one CAS), so that an uncontended lock never lets the GIL
 * go while taking the lock (see _binding.c on convoys); else the core's
 * Lock, with the GIL released. */
static PyObject *shared_mutex_lock(PyObject *op, int64_t deadline_ns)
{
    gosync_robust_mutex *m = RM(op);
    uint64_t unlocked = 0;
    if (gosync_cas(&m->word, &unlocked, gosync_identity_self(), GOSYNC_ACQUIRE, GOSYNC_RELAXED))
        Py_RETURN_TRUE;
    gosync_contention *c = gosync_py_slot_contention(op);
    int64_t timed = gosync_py_contention_enter(c);
    int block_timed = gosync_py_profile_wait_begin();
    int rc = gosync_py_block_robust(shared_mutex_lock_call, m, deadline_ns);
    if (block_timed)
        gosync_py_profile_block(op, rc == GOSYNC_OWNERDEAD ? GOSYNC_OK : rc);
    if (timed)
        gosync_contention_leave(c, timed);
    return gosync_py_robust_result(rc, "");
}

static PyObject *shared_mutex_enter(PyObject *op, PyObject *unused)
{
    (void)unused;
    GOSYNC_PY_CHECK_OPEN(op);
    return shared_mutex_lock(op, GOSYNC_NO_DEADLINE);
}

static PyObject *shared_mutex_lock_until(PyObject *op, PyObject *arg)
{
    GOSYNC_PY_CHECK_OPEN(op);
    int64_t deadline_ns;
    if (gosync_py_deadline(arg, &deadline_ns) < 0)
        return NULL;
    return shared_mutex_lock(op, deadline_ns);
}

static PyObject *shared_mutex_unlock(PyObject *op, PyObject *unused)
{
    (void)unused;
    GOSYNC_PY_CHECK_OPEN(op);
    /* The charge before the unlock: the waiters may be in other processes,
     * and one may return and leave the record at once. A record that
     * counts waiters while the word shows none that sleeps counts dead
     * processes (killed while registered: they would be charged at every
     * unlock for ever) or waiters about to sleep: it is cleared, which
     * loses only the latter's first moments. */
    gosync_contention *c = gosync_py_slot_contention(op);
    int64_t charge = 0;
    if (c != NULL && gosync_contention_waiting(c)) {
        if (gosync_robust_mutex_word(RM(op)) & GOSYNC_ROBUST_WAITERS)
            charge = gosync_contention_charge(c, gosync_now_ns());
        else
            gosync_contention_clear(c);
    }
    if (gosync_robust_mutex_unlock(RM(op)) != GOSYNC_OK)
        return gosync_py_misuse(unlock_of_unlocked_mutex);
    if (charge > 0)
        gosync_py_profile_mutex(op, charge);
    Py_RETURN_NONE;
}

static PyObject *shared_mutex_exit(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    (void)args;
    (void)nargs;
    return shared_mutex_unlock(op, NULL);
}

static PyObject *shared_mutex_try_lock(PyObject *op, PyObject *unused)
{
    (void)unused;
    GOSYNC_PY_CHECK_OPEN(op);
    return gosync_py_robust_result(gosync_robust_mutex_try_lock(RM(op)), "");
}

static PyObject *shared_mutex_locked(PyObject *op, PyObject *unused)
{
    (void)unused;
    GOSYNC_PY_CHECK_OPEN(op);
    return PyBool_FromLong(gosync_robust_mutex_locked(RM(op)));
}

static PyObject *shared_mutex_mark_consistent(PyObject *op, PyObject *unused)
{
    (void)unused;
    GOSYNC_PY_CHECK_OPEN(op);
    if (gosync_robust_mutex_mark_consistent(RM(op)) != GOSYNC_OK)
        return gosync_py_misuse(mark_consistent_misuse);
    Py_RETURN_NONE;
}

/* The fields of gosync.shared.mutex.MutexState, decoded from the word. A
 * relaxed read: a snapshot for tests and repr. */
static PyObject *shared_mutex_debug_fields(PyObject *op, PyObject *unused)
{
    (void)unused;
    GOSYNC_PY_CHECK_OPEN(op);
    uint64_t w = gosync_robust_mutex_word(RM(op));
    return Py_BuildValue("(kOOOOO)", (unsigned long)(w & GOSYNC_ROBUST_OWNER_MASK),
                         w & GOSYNC_ROBUST_WAITERS ? Py_True : Py_False,
                         w & GOSYNC_ROBUST_STARVING ? Py_True : Py_False,
                         w & GOSYNC_ROBUST_HANDOFF ? Py_True : Py_False,
                         w & GOSYNC_ROBUST_INCONSISTENT ? Py_True : Py_False,
                         w & GOSYNC_ROBUST_NOTRECOVERABLE ? Py_True : Py_False);
}

static PyMethodDef shared_mutex_methods[] = {
    {"__enter__", shared_mutex_enter, METH_NOARGS,
     "__enter__() -> True\n\nLock the mutex, waiting as long as it takes (OwnerDied: held, see lock)."},
    {"__exit__", (PyCFunction)(void (*)(void))shared_mutex_exit, METH_FASTCALL,
     "__exit__(*exc_info) -> None\n\nUnlock the mutex."},
    {"_lock_until", shared_mutex_lock_until, METH_O,
     "_lock_until(deadline_ns) -> bool\n\nLock the mutex, giving up at an absolute deadline on\n"
     "gosync's monotonic clock (-1: never). False means it gave up."},
    {"unlock", shared_mutex_unlock, METH_NOARGS,
     "unlock() -> None\n\nUnlock unlocks the mutex.\n\nUnlocking a mutex that is not locked raises\n"
     "SyncError(\"sync: unlock of unlocked mutex\") and changes nothing. As in Go,\n"
     "any process may unlock it. Unlocking after OwnerDied without\n"
     "mark_consistent() makes the mutex unrecoverable."},
    {"release", shared_mutex_unlock, METH_NOARGS, "release() -> None\n\nRelease is unlock, under threading.Lock's name."},
    {"try_lock", shared_mutex_try_lock, METH_NOARGS,
     "try_lock() -> bool\n\nTryLock tries to lock the mutex without waiting, and reports whether\n"
     "it succeeded. On a lock whose owner died it succeeds and raises OwnerDied,\n"
     "as lock does."},
    {"locked", shared_mutex_locked, METH_NOARGS,
     "locked() -> bool\n\nLocked reports whether some process holds the mutex."},
    {"mark_consistent", shared_mutex_mark_consistent, METH_NOARGS,
     "mark_consistent() -> None\n\nMarkConsistent tells the mutex that the data it guards has been\n"
     "repaired after OwnerDied. Called at any other time it raises\n"
     "SyncError(\"sync: mark_consistent of a consistent mutex\")."},
    {"_debug_fields", shared_mutex_debug_fields, METH_NOARGS,
     "_debug_fields() -> tuple\n\nThe fields of gosync.shared.mutex.MutexState: owner, waiters,\n"
     "starving, handoff, inconsistent, not_recoverable."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef shared_mutex_members[] = {
    GOSYNC_PY_WEAKREFS,
    GOSYNC_PY_LABEL,
    GOSYNC_PY_PLACED_MEMBERS,
    {NULL, 0, 0, 0, NULL},
};

/* The public class gosync.shared.Mutex (gosync/shared/mutex.py adds its
 * Python methods; its __new__ places one in an arena). The arena's own
 * locks are instances too, without _arena and _slot. */
static PyType_Slot shared_mutex_slots[] = {
    {Py_tp_new, shared_mutex_new},
    {Py_tp_dealloc, gosync_py_placed_dealloc},
    {Py_tp_traverse, gosync_py_placed_traverse},
    {Py_tp_clear, gosync_py_placed_clear},
    {Py_tp_doc, "A Mutex is a mutual exclusion lock shared by processes."},
    {Py_tp_methods, shared_mutex_methods},
    {Py_tp_members, shared_mutex_members},
    {0, NULL},
};

PyType_Spec gosync_py_shared_mutex_spec = GOSYNC_PY_PUBLIC_SPEC("gosync.shared.mutex.Mutex", sizeof(gosync_py_shared_mutex),
                                                          Py_TPFLAGS_HAVE_GC, shared_mutex_slots);
