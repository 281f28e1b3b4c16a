/* Binding of the RWMutex: the C types gosync._gosync.RWMutexBase (the write
 * lock's protocol, and the read lock's calls) and RLockerBase (the read
 * lock as a Locker, with its own `with`). */
#include "_binding.h"

PyTypeObject *gosync_py_rwmutex_type; /* set by gosync_py_add_types */
PyTypeObject *gosync_py_rlocker_type; /* set by gosync_py_add_types */

static const char runlock_of_unlocked[] = "sync: RUnlock of unlocked RWMutex";
static const char unlock_of_unlocked_rw[] = "sync: Unlock of unlocked RWMutex";
static const char too_many_readers[] = "gosync: RWMutex has too many readers (65535)";
static const char too_many_writers[] = "gosync: RWMutex has too many writers waiting (65535)";

static int rwmutex_lock_call(void *rw, int64_t deadline_ns)
{
    return gosync_rwmutex_lock(rw, deadline_ns);
}

static int rwmutex_rlock_call(void *rw, int64_t deadline_ns)
{
    return gosync_rwmutex_rlock(rw, deadline_ns);
}

#define RW(op) gosync_py_rwmutex_of(op)

/* The mutex profile's record of an RWMutex: one for both sides, as Go's
 * semaMutexProfile covers both (csrc/profile.h). A writer's unlock and a
 * reader's runlock charge the waiters' delay to their own stacks. */
static gosync_contention *contention_of(PyObject *rw)
{
    return &((gosync_py_rwmutex *)rw)->contention;
}

/* A blocking lock or rlock of the RWMutex object rw (also for an RLocker's
 * calls, which name the RWMutex they lock). */
static PyObject *rw_wait(PyObject *rw, gosync_blocking_call call, int64_t deadline_ns, const char *overflow)
{
    int64_t timed = gosync_py_contention_enter(contention_of(rw));
    int rc = gosync_py_block(rw, call, RW(rw), deadline_ns);
    if (timed)
        gosync_contention_leave(contention_of(rw), timed);
    return gosync_py_wait_result(rc, overflow);
}

static PyObject *rw_lock(PyObject *rw, int64_t deadline_ns)
{
    return rw_wait(rw, rwmutex_lock_call, deadline_ns, too_many_writers);
}

static PyObject *rw_rlock(PyObject *rw, int64_t deadline_ns)
{
    /* The uncontended case never blocks: keep the GIL for it. */
    if (gosync_rwmutex_try_rlock(RW(rw)))
        Py_RETURN_TRUE;
    return rw_wait(rw, rwmutex_rlock_call, deadline_ns, too_many_readers);
}

PyObject *gosync_py_rwmutex_unlock(PyObject *rw)
{
    int64_t charge = gosync_py_contention_charge(contention_of(rw));
    if (gosync_rwmutex_unlock(RW(rw)) != GOSYNC_OK)
        return gosync_py_misuse(unlock_of_unlocked_rw);
    if (charge > 0)
        gosync_py_profile_mutex(rw, charge);
    Py_RETURN_NONE;
}

PyObject *gosync_py_rwmutex_runlock(PyObject *rw)
{
    int64_t charge = gosync_py_contention_charge(contention_of(rw));
    if (gosync_rwmutex_runlock(RW(rw)) != GOSYNC_OK)
        return gosync_py_misuse(runlock_of_unlocked);
    if (charge > 0)
        gosync_py_profile_mutex(rw, charge);
    Py_RETURN_NONE;
}


static PyObject *rwmutex_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    return gosync_py_new(type, args, kwds, offsetof(gosync_py_rwmutex, storage), 1);
}

static PyObject *rwmutex_enter(PyObject *op, PyObject *unused)
{
    (void)unused;
    if (gosync_rwmutex_try_lock(RW(op)))
        Py_RETURN_TRUE;
    return rw_lock(op, GOSYNC_NO_DEADLINE);
}

static PyObject *rwmutex_lock_until(PyObject *op, PyObject *arg)
{
    int64_t deadline_ns;
    if (gosync_py_deadline(arg, &deadline_ns) < 0)
        return NULL;
    if (gosync_rwmutex_try_lock(RW(op)))
        Py_RETURN_TRUE;
    return rw_lock(op, deadline_ns);
}

static PyObject *rwmutex_unlock(PyObject *op, PyObject *unused)
{
    (void)unused;
    return gosync_py_rwmutex_unlock(op);
}

static PyObject *rwmutex_exit(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    (void)args;
    (void)nargs;
    return gosync_py_rwmutex_unlock(op);
}

static PyObject *rwmutex_try_lock(PyObject *op, PyObject *unused)
{
    (void)unused;
    return PyBool_FromLong(gosync_rwmutex_try_lock(RW(op)));
}

static PyObject *rwmutex_rlock_until(PyObject *op, PyObject *arg)
{
    int64_t deadline_ns;
    if (gosync_py_deadline(arg, &deadline_ns) < 0)
        return NULL;
    return rw_rlock(op, deadline_ns);
}

static PyObject *rwmutex_runlock(PyObject *op, PyObject *unused)
{
    (void)unused;
    return gosync_py_rwmutex_runlock(op);
}

static PyObject *rwmutex_try_rlock(PyObject *op, PyObject *unused)
{
    (void)unused;
    return PyBool_FromLong(gosync_rwmutex_try_rlock(RW(op)));
}

/* The fields of gosync.rwmutex.RWMutexState: the readers, the writer's
 * claim and its wait, and the writers' mutex. Relaxed reads: a snapshot
 * for tests and repr. */
static PyObject *rwmutex_debug_fields(PyObject *op, PyObject *unused)
{
    gosync_rwmutex *rw = RW(op);
    (void)unused;
    return Py_BuildValue("(IOIO)", (unsigned int)gosync_rwmutex_readers(rw),
                         gosync_rwmutex_writer(rw) ? Py_True : Py_False,
                         (unsigned int)gosync_rwmutex_reader_wait(rw),
                         gosync_mutex_state(&rw->w) & GOSYNC_MUTEX_LOCKED ? Py_True : Py_False);
}

static PyMethodDef rwmutex_methods[] = {
    {"__enter__", rwmutex_enter, METH_NOARGS, "__enter__($self, /)\n--\n\nLock for writing."},
    {"__exit__", (PyCFunction)(void (*)(void))rwmutex_exit, METH_FASTCALL,
     "__exit__($self, /, *exc_info)\n--\n\nUnlock for writing."},
    {"_lock_until", rwmutex_lock_until, METH_O,
     "_lock_until($self, deadline_ns, /)\n--\n\nLock for writing, giving up at an absolute deadline (-1: never)."},
    {"unlock", rwmutex_unlock, METH_NOARGS,
     "unlock($self, /)\n--\n\nUnlock unlocks the RWMutex for writing.\n\nUnlocking an RWMutex that is not "
     "locked for writing raises\nSyncError(\"sync: Unlock of unlocked RWMutex\") and changes nothing."},
    {"try_lock", rwmutex_try_lock, METH_NOARGS,
     "try_lock($self, /)\n--\n\nTryLock tries to lock the RWMutex for writing without waiting, and\n"
     "reports whether it succeeded."},
    {"_rlock_until", rwmutex_rlock_until, METH_O,
     "_rlock_until($self, deadline_ns, /)\n--\n\nLock for reading, giving up at an absolute deadline (-1: never)."},
    {"runlock", rwmutex_runlock, METH_NOARGS,
     "runlock($self, /)\n--\n\nRUnlock undoes a single rlock call; it does not affect other\n"
     "simultaneous readers. Calling it when the RWMutex is not locked for\nreading raises "
     "SyncError(\"sync: RUnlock of unlocked RWMutex\") and\nchanges nothing."},
    {"try_rlock", rwmutex_try_rlock, METH_NOARGS,
     "try_rlock($self, /)\n--\n\nTryRLock tries to lock the RWMutex for reading without waiting, and\n"
     "reports whether it succeeded. It fails while a writer holds or waits\nfor the lock."},
    {"_debug_fields", rwmutex_debug_fields, METH_NOARGS,
     "_debug_fields($self, /)\n--\n\nThe fields of gosync.rwmutex.RWMutexState: readers, writer,\n"
     "reader_wait, w_locked."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef rwmutex_members[] = {
    GOSYNC_PY_WEAKREFS,
    GOSYNC_PY_LABEL,
    {NULL, 0, 0, 0, NULL},
};

/* The dealloc: as gosync.Mutex's (see _binding_mutex.c). */
static PyType_Slot rwmutex_slots[] = {
    {Py_tp_dealloc, gosync_py_object_dealloc},
    {Py_tp_new, rwmutex_new},
    {Py_tp_doc, "RWMutex(*, name=None)\n--\n\nAn RWMutex is a reader/writer mutual exclusion lock, with Go's semantics."},
    {Py_tp_methods, rwmutex_methods},
    {Py_tp_members, rwmutex_members},
    {0, NULL},
};

PyType_Spec gosync_py_rwmutex_spec =
    GOSYNC_PY_PUBLIC_SPEC("gosync.rwmutex.RWMutex", sizeof(gosync_py_rwmutex), 0, rwmutex_slots);

/* ---- RLockerBase: the read lock of one RWMutex, as a Locker ---------------- */

#define RL(op) gosync_py_rlocker_rwmutex_of(op)
#define RLW(op) (((gosync_py_rlocker *)(op))->rw)

static PyObject *rlocker_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *rw;
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0) {
        PyErr_SetString(PyExc_TypeError, "RLocker() takes no keyword arguments");
        return NULL;
    }
    if (!PyArg_UnpackTuple(args, "RLocker", 1, 1, &rw))
        return NULL;
    if (!PyObject_TypeCheck(rw, gosync_py_rwmutex_type)) {
        PyErr_Format(PyExc_TypeError, "RLocker() needs a gosync.RWMutex, not %.100s",
                     Py_TYPE(rw)->tp_name);
        return NULL;
    }
    gosync_py_rlocker *self = (gosync_py_rlocker *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    Py_INCREF(rw);
    self->rw = rw;
    return (PyObject *)self;
}

static int rlocker_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((gosync_py_rlocker *)op)->rw);
    return 0;
}

static int rlocker_clear(PyObject *op)
{
    Py_CLEAR(((gosync_py_rlocker *)op)->rw);
    return 0;
}

static void rlocker_dealloc(PyObject *op)
{
    gosync_py_gc_dealloc(op, rlocker_clear);
}

static PyObject *rlocker_lock(PyObject *op, PyObject *unused)
{
    (void)unused;
    return rw_rlock(RLW(op), GOSYNC_NO_DEADLINE);
}

static PyObject *rlocker_lock_until(PyObject *op, PyObject *arg)
{
    int64_t deadline_ns;
    if (gosync_py_deadline(arg, &deadline_ns) < 0)
        return NULL;
    return rw_rlock(RLW(op), deadline_ns);
}

static PyObject *rlocker_unlock(PyObject *op, PyObject *unused)
{
    (void)unused;
    return gosync_py_rwmutex_runlock(RLW(op));
}

static PyObject *rlocker_exit(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    (void)args;
    (void)nargs;
    return gosync_py_rwmutex_runlock(RLW(op));
}

static PyObject *rlocker_try_lock(PyObject *op, PyObject *unused)
{
    (void)unused;
    return PyBool_FromLong(gosync_rwmutex_try_rlock(RL(op)));
}

static PyObject *rlocker_rwmutex(PyObject *op, void *unused)
{
    (void)unused;
    PyObject *rw = ((gosync_py_rlocker *)op)->rw;
    Py_INCREF(rw);
    return rw;
}

static PyMethodDef rlocker_methods[] = {
    {"__enter__", rlocker_lock, METH_NOARGS, "__enter__($self, /)\n--\n\nLock for reading."},
    {"__exit__", (PyCFunction)(void (*)(void))rlocker_exit, METH_FASTCALL,
     "__exit__($self, /, *exc_info)\n--\n\nUnlock for reading."},
    {"_lock_until", rlocker_lock_until, METH_O,
     "_lock_until($self, deadline_ns, /)\n--\n\nrlock, giving up at an absolute deadline (-1: never)."},
    {"unlock", rlocker_unlock, METH_NOARGS, "unlock($self, /)\n--\n\nUnlock is the RWMutex's runlock."},
    {"release", rlocker_unlock, METH_NOARGS, "release($self, /)\n--\n\nRelease is the RWMutex's runlock."},
    {"try_lock", rlocker_try_lock, METH_NOARGS, "try_lock($self, /)\n--\n\nThe RWMutex's try_rlock."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef rlocker_getset[] = {
    {"rwmutex", rlocker_rwmutex, NULL, "The RWMutex whose read lock this is.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot rlocker_slots[] = {
    {Py_tp_doc, "RLocker(rw, /)\n--\n\nThe read lock of a gosync.RWMutex, as a Locker."},
    {Py_tp_new, rlocker_new},
    {Py_tp_traverse, rlocker_traverse},
    {Py_tp_clear, rlocker_clear},
    {Py_tp_dealloc, rlocker_dealloc},
    {Py_tp_methods, rlocker_methods},
    {Py_tp_getset, rlocker_getset},
    {0, NULL},
};

PyType_Spec gosync_py_rlocker_spec =
    GOSYNC_PY_PUBLIC_SPEC("gosync.rwmutex.RLocker", sizeof(gosync_py_rlocker), Py_TPFLAGS_HAVE_GC, rlocker_slots);
