/* Binding of the Mutex: the C type that is gosync.Mutex (gosync/mutex.py
 * adds its Python methods), gosync._gosync.MutexBase to the Python layer. */
#include "_binding.h"

PyTypeObject *gosync_py_mutex_type; /* set by gosync_py_add_types */

static const char unlock_of_unlocked_mutex[] = "sync: unlock of unlocked mutex";
static const char too_many_mutex_waiters[] = "gosync: Mutex has too many waiters (65535)";

#define MU(op) gosync_py_mutex_of(op)

static PyObject *mutex_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    return gosync_py_new(type, args, kwds, offsetof(gosync_py_mutex, storage), 1);
}

static int mutex_lock_slow_call(void *m, int64_t deadline_ns)
{
    return gosync_mutex_lock_slow(m, deadline_ns);
}

/* The contention record of a gosync.Mutex (csrc/profile.h). */
static gosync_contention *contention_of(PyObject *op)
{
    return &((gosync_py_mutex *)op)->contention;
}

static PyObject *mutex_lock_slow(PyObject *op, int64_t deadline_ns)
{
    int64_t timed = gosync_py_contention_enter(contention_of(op));
    int rc = gosync_py_block(op, mutex_lock_slow_call, MU(op), deadline_ns);
    if (timed)
        gosync_contention_leave(contention_of(op), timed);
    return gosync_py_wait_result(rc, too_many_mutex_waiters);
}

static PyObject *mutex_enter(PyObject *op, PyObject *unused)
{
    (void)unused;
    if (gosync_mutex_lock_fast(MU(op)))
        Py_RETURN_TRUE;
    return mutex_lock_slow(op, GOSYNC_NO_DEADLINE);
}

static PyObject *mutex_lock_until(PyObject *op, PyObject *arg)
{
    int64_t deadline_ns;
    if (gosync_py_deadline(arg, &deadline_ns) < 0)
        return NULL;
    if (gosync_mutex_lock_fast(MU(op)))
        Py_RETURN_TRUE;
    return mutex_lock_slow(op, deadline_ns);
}

/* The mutex profile's charge is taken before the lock goes (a waiter may
 * return at once) and recorded after, once the unlock is known to be
 * valid. */
PyObject *gosync_py_mutex_unlock(PyObject *op)
{
    int64_t charge = gosync_py_contention_charge(contention_of(op));
    if (gosync_mutex_unlock(MU(op)) != GOSYNC_OK)
        return gosync_py_misuse(unlock_of_unlocked_mutex);
    if (charge > 0)
        gosync_py_profile_mutex(op, charge);
    Py_RETURN_NONE;
}

static PyObject *mutex_unlock(PyObject *op, PyObject *unused)
{
    (void)unused;
    return gosync_py_mutex_unlock(op);
}

static PyObject *mutex_exit(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    (void)args;
    (void)nargs;
    return mutex_unlock(op, NULL);
}

static PyObject *mutex_try_lock(PyObject *op, PyObject *unused)
{
    (void)unused;
    return PyBool_FromLong(gosync_mutex_try_lock(MU(op)));
}

static PyObject *mutex_locked(PyObject *op, PyObject *unused)
{
    (void)unused;
    int32_t state = gosync_mutex_state(MU(op));
    return PyBool_FromLong(state & (GOSYNC_MUTEX_LOCKED | GOSYNC_MUTEX_STARVING));
}

/* The fields of gosync.mutex.MutexState, decoded from the state word and
 * the semaphore. Relaxed reads: a snapshot for tests and repr. */
static PyObject *mutex_debug_fields(PyObject *op, PyObject *unused)
{
    gosync_mutex *m = MU(op);
    (void)unused;
    int32_t word = gosync_mutex_state(m);
    return Py_BuildValue("(OOOiII)", word & GOSYNC_MUTEX_LOCKED ? Py_True : Py_False,
                         word & GOSYNC_MUTEX_WOKEN ? Py_True : Py_False,
                         word & GOSYNC_MUTEX_STARVING ? Py_True : Py_False,
                         (int)(word >> GOSYNC_MUTEX_WAITER_SHIFT),
                         (unsigned int)gosync_sema_tokens(&m->sema),
                         (unsigned int)gosync_sema_waiters(&m->sema));
}

static PyMethodDef mutex_methods[] = {
    {"__enter__", mutex_enter, METH_NOARGS,
     "__enter__($self, /)\n--\n\nLock the mutex, waiting as long as it takes."},
    {"__exit__", (PyCFunction)(void (*)(void))mutex_exit, METH_FASTCALL,
     "__exit__($self, /, *exc_info)\n--\n\nUnlock the mutex."},
    {"_lock_until", mutex_lock_until, METH_O,
     "_lock_until($self, deadline_ns, /)\n--\n\nLock the mutex, giving up at an absolute deadline on\n"
     "gosync's monotonic clock (-1: never). False means it gave up."},
    {"unlock", mutex_unlock, METH_NOARGS,
     "unlock($self, /)\n--\n\nUnlock unlocks the mutex.\n\nUnlocking a mutex that is not locked raises\n"
     "SyncError(\"sync: unlock of unlocked mutex\") and changes nothing. As in Go,\n"
     "the thread that unlocks need not be the one that locked."},
    {"release", mutex_unlock, METH_NOARGS, "release($self, /)\n--\n\nRelease is unlock, under threading.Lock's name."},
    {"try_lock", mutex_try_lock, METH_NOARGS,
     "try_lock($self, /)\n--\n\nTryLock tries to lock the mutex without waiting, and reports whether\n"
     "it succeeded. It fails in starvation mode even when the mutex is\n"
     "momentarily unlocked, because ownership is then being handed to a waiter."},
    {"locked", mutex_locked, METH_NOARGS,
     "locked($self, /)\n--\n\nLocked reports whether the mutex is held, or being handed to a waiter\n"
     "(so that try_lock would fail)."},
    {"_debug_fields", mutex_debug_fields, METH_NOARGS,
     "_debug_fields($self, /)\n--\n\nThe fields of gosync.mutex.MutexState: locked, woken, starving,\n"
     "waiters, sema_tokens, sema_waiters."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef mutex_members[] = {
    GOSYNC_PY_WEAKREFS,
    GOSYNC_PY_LABEL,
    {NULL, 0, 0, 0, NULL},
};

/* The dealloc clears the weak references, which CPython's default for a
 * heap type that is not garbage-collected (subtype_dealloc) would not, and
 * gives back the reference to the type; tests/test_package.py checks both.
 * The docstring after the signature is gosync/mutex.py's. */
static PyType_Slot mutex_slots[] = {
    {Py_tp_dealloc, gosync_py_object_dealloc},
    {Py_tp_new, mutex_new},
    {Py_tp_doc, "Mutex(*, name=None)\n--\n\nA Mutex is a mutual exclusion lock, with Go's semantics."},
    {Py_tp_methods, mutex_methods},
    {Py_tp_members, mutex_members},
    {0, NULL},
};

PyType_Spec gosync_py_mutex_spec =
    GOSYNC_PY_PUBLIC_SPEC("gosync.mutex.Mutex", sizeof(gosync_py_mutex), 0, mutex_slots);
