/* Binding of the RWMutex: the C types gosync._gosync.RWMutexBase (the write
 * lock's protocol, and the read lock's calls) and RLockerBase (the read
 * lock as a Locker, with its own `with`). Included by _binding.c. */

typedef struct {
    PyObject_HEAD
    gosync_rwmutex rw; /* zeroed by tp_alloc: unlocked */
} gosync_py_rwmutex;

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

static PyObject *rw_lock(gosync_rwmutex *rw, int64_t deadline_ns)
{
    return gosync_py_wait_result(gosync_py_block(rwmutex_lock_call, rw, deadline_ns),
                                 too_many_writers);
}

static PyObject *rw_rlock(gosync_rwmutex *rw, int64_t deadline_ns)
{
    /* The uncontended case never blocks: keep the GIL for it. */
    if (gosync_rwmutex_try_rlock(rw))
        Py_RETURN_TRUE;
    return gosync_py_wait_result(gosync_py_block(rwmutex_rlock_call, rw, deadline_ns),
                                 too_many_readers);
}

static PyObject *rw_unlock(gosync_rwmutex *rw)
{
    if (gosync_rwmutex_unlock(rw) != GOSYNC_OK)
        return gosync_py_misuse(unlock_of_unlocked_rw);
    Py_RETURN_NONE;
}

static PyObject *rw_runlock(gosync_rwmutex *rw)
{
    if (gosync_rwmutex_runlock(rw) != GOSYNC_OK)
        return gosync_py_misuse(runlock_of_unlocked);
    Py_RETURN_NONE;
}

#define RW(op) (&((gosync_py_rwmutex *)(op))->rw)

static PyObject *rwmutex_enter(PyObject *op, PyObject *unused)
{
    (void)unused;
    if (gosync_rwmutex_try_lock(RW(op)))
        Py_RETURN_TRUE;
    return rw_lock(RW(op), GOSYNC_NO_DEADLINE);
}

static PyObject *rwmutex_lock_until(PyObject *op, PyObject *arg)
{
    int64_t deadline_ns;
    if (gosync_py_deadline(arg, &deadline_ns) < 0)
        return NULL;
    if (gosync_rwmutex_try_lock(RW(op)))
        Py_RETURN_TRUE;
    return rw_lock(RW(op), deadline_ns);
}

static PyObject *rwmutex_unlock(PyObject *op, PyObject *unused)
{
    (void)unused;
    return rw_unlock(RW(op));
}

static PyObject *rwmutex_exit(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    (void)args;
    (void)nargs;
    return rw_unlock(RW(op));
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
    return rw_rlock(RW(op), deadline_ns);
}

static PyObject *rwmutex_runlock(PyObject *op, PyObject *unused)
{
    (void)unused;
    return rw_runlock(RW(op));
}

static PyObject *rwmutex_try_rlock(PyObject *op, PyObject *unused)
{
    (void)unused;
    return PyBool_FromLong(gosync_rwmutex_try_rlock(RW(op)));
}

static PyObject *rwmutex_address(PyObject *op, void *unused)
{
    (void)unused;
    return PyLong_FromVoidPtr(RW(op));
}

static PyMethodDef rwmutex_methods[] = {
    {"__enter__", rwmutex_enter, METH_NOARGS, "__enter__() -> True\n\nLock for writing."},
    {"__exit__", (PyCFunction)(void (*)(void))rwmutex_exit, METH_FASTCALL,
     "__exit__(*exc_info) -> None\n\nUnlock for writing."},
    {"_lock_until", rwmutex_lock_until, METH_O,
     "_lock_until(deadline_ns) -> bool\n\nLock for writing, giving up at an absolute deadline (-1: never)."},
    {"unlock", rwmutex_unlock, METH_NOARGS,
     "unlock() -> None\n\nUnlock unlocks the RWMutex for writing.\n\nUnlocking an RWMutex that is not "
     "locked for writing raises\nSyncError(\"sync: Unlock of unlocked RWMutex\") and changes nothing."},
    {"try_lock", rwmutex_try_lock, METH_NOARGS,
     "try_lock() -> bool\n\nTryLock tries to lock the RWMutex for writing without waiting, and\n"
     "reports whether it succeeded."},
    {"_rlock_until", rwmutex_rlock_until, METH_O,
     "_rlock_until(deadline_ns) -> bool\n\nLock for reading, giving up at an absolute deadline (-1: never)."},
    {"runlock", rwmutex_runlock, METH_NOARGS,
     "runlock() -> None\n\nRUnlock undoes a single rlock call; it does not affect other\n"
     "simultaneous readers. Calling it when the RWMutex is not locked for\nreading raises "
     "SyncError(\"sync: RUnlock of unlocked RWMutex\") and\nchanges nothing."},
    {"try_rlock", rwmutex_try_rlock, METH_NOARGS,
     "try_rlock() -> bool\n\nTryRLock tries to lock the RWMutex for reading without waiting, and\n"
     "reports whether it succeeded. It fails while a writer holds or waits\nfor the lock."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef rwmutex_getset[] = {
    {"_address", rwmutex_address, NULL, "Address of the C gosync_rwmutex, for cffi debug accessors.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot rwmutex_slots[] = {
    {Py_tp_dealloc, gosync_py_dealloc},
    {Py_tp_doc, "The C state and lock protocol of gosync.RWMutex."},
    {Py_tp_methods, rwmutex_methods},
    {Py_tp_getset, rwmutex_getset},
    {0, NULL},
};

static PyType_Spec rwmutex_spec = {
    "gosync._gosync.RWMutexBase",
    sizeof(gosync_py_rwmutex),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    rwmutex_slots,
};

/* ---- RLockerBase: the read lock of one RWMutex, as a Locker ---------------- */

static PyTypeObject *rwmutex_type; /* set by gosync_py_add_rwmutex */
static PyTypeObject *rlocker_type; /* set by gosync_py_add_rwmutex */

typedef struct {
    PyObject_HEAD
    PyObject *rw; /* a strong reference to an RWMutexBase */
} gosync_py_rlocker;

#define RL(op) RW(((gosync_py_rlocker *)(op))->rw)

static PyObject *rlocker_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *rw;
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0) {
        PyErr_SetString(PyExc_TypeError, "RLocker() takes no keyword arguments");
        return NULL;
    }
    if (!PyArg_UnpackTuple(args, "RLocker", 1, 1, &rw))
        return NULL;
    if (!PyObject_TypeCheck(rw, rwmutex_type)) {
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
    PyTypeObject *type = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    rlocker_clear(op);
    type->tp_free(op);
    Py_DECREF(type);
}

static PyObject *rlocker_lock(PyObject *op, PyObject *unused)
{
    (void)unused;
    return rw_rlock(RL(op), GOSYNC_NO_DEADLINE);
}

static PyObject *rlocker_lock_until(PyObject *op, PyObject *arg)
{
    int64_t deadline_ns;
    if (gosync_py_deadline(arg, &deadline_ns) < 0)
        return NULL;
    return rw_rlock(RL(op), deadline_ns);
}

static PyObject *rlocker_unlock(PyObject *op, PyObject *unused)
{
    (void)unused;
    return rw_runlock(RL(op));
}

static PyObject *rlocker_exit(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    (void)args;
    (void)nargs;
    return rw_runlock(RL(op));
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
    {"__enter__", rlocker_lock, METH_NOARGS, "__enter__() -> True\n\nLock for reading."},
    {"__exit__", (PyCFunction)(void (*)(void))rlocker_exit, METH_FASTCALL,
     "__exit__(*exc_info) -> None\n\nUnlock for reading."},
    {"lock", rlocker_lock, METH_NOARGS, "lock() -> True\n\nLock is the RWMutex's rlock."},
    {"_lock_until", rlocker_lock_until, METH_O,
     "_lock_until(deadline_ns) -> bool\n\nrlock, giving up at an absolute deadline (-1: never)."},
    {"unlock", rlocker_unlock, METH_NOARGS, "unlock() -> None\n\nUnlock is the RWMutex's runlock."},
    {"release", rlocker_unlock, METH_NOARGS, "release() -> None\n\nRelease is the RWMutex's runlock."},
    {"try_lock", rlocker_try_lock, METH_NOARGS, "try_lock() -> bool\n\nThe RWMutex's try_rlock."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef rlocker_getset[] = {
    {"rwmutex", rlocker_rwmutex, NULL, "The RWMutex whose read lock this is.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot rlocker_slots[] = {
    {Py_tp_doc, "The read lock of a gosync.RWMutex, as a Locker."},
    {Py_tp_new, rlocker_new},
    {Py_tp_traverse, rlocker_traverse},
    {Py_tp_clear, rlocker_clear},
    {Py_tp_dealloc, rlocker_dealloc},
    {Py_tp_methods, rlocker_methods},
    {Py_tp_getset, rlocker_getset},
    {0, NULL},
};

static PyType_Spec rlocker_spec = {
    "gosync._gosync.RLockerBase",
    sizeof(gosync_py_rlocker),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    rlocker_slots,
};

static int gosync_py_add_rwmutex(PyObject *module)
{
    PyObject *type = PyType_FromSpec(&rwmutex_spec);
    if (type == NULL)
        return -1;
    rwmutex_type = (PyTypeObject *)type; /* the module keeps it alive */
    int rc = PyObject_SetAttrString(module, "RWMutexBase", type);
    Py_DECREF(type);
    if (rc < 0)
        return -1;
    type = PyType_FromSpec(&rlocker_spec);
    rlocker_type = (PyTypeObject *)type; /* the module keeps it alive */
    rc = type ? PyObject_SetAttrString(module, "RLockerBase", type) : -1;
    Py_XDECREF(type);
    return rc;
}
