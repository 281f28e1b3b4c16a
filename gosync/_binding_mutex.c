/* Binding of the Mutex: the C type gosync._gosync.MutexBase. Included by
 * _binding.c, which provides GOSYNC_WITHOUT_GIL, gosync_py_misuse and
 * gosync_py_deadline. */

typedef struct {
    PyObject_HEAD
    gosync_mutex mu; /* zeroed by tp_alloc: an unlocked mutex */
} gosync_py_mutex;

static const char unlock_of_unlocked_mutex[] = "sync: unlock of unlocked mutex";
static const char too_many_mutex_waiters[] = "gosync: Mutex has too many waiters (65535)";

static PyTypeObject *mutex_type; /* set by gosync_py_add_mutex */

static int mutex_lock_slow_call(void *m, int64_t deadline_ns)
{
    return gosync_mutex_lock_slow(m, deadline_ns);
}

static PyObject *mutex_lock_slow(gosync_py_mutex *self, int64_t deadline_ns)
{
    return gosync_py_wait_result(gosync_py_block(mutex_lock_slow_call, &self->mu, deadline_ns),
                                 too_many_mutex_waiters);
}

static PyObject *mutex_enter(PyObject *op, PyObject *unused)
{
    gosync_py_mutex *self = (gosync_py_mutex *)op;
    (void)unused;
    if (gosync_mutex_lock_fast(&self->mu))
        Py_RETURN_TRUE;
    return mutex_lock_slow(self, GOSYNC_NO_DEADLINE);
}

static PyObject *mutex_lock_until(PyObject *op, PyObject *arg)
{
    gosync_py_mutex *self = (gosync_py_mutex *)op;
    int64_t deadline_ns;
    if (gosync_py_deadline(arg, &deadline_ns) < 0)
        return NULL;
    if (gosync_mutex_lock_fast(&self->mu))
        Py_RETURN_TRUE;
    return mutex_lock_slow(self, deadline_ns);
}

static PyObject *mutex_unlock(PyObject *op, PyObject *unused)
{
    (void)unused;
    if (gosync_mutex_unlock(&((gosync_py_mutex *)op)->mu) != GOSYNC_OK)
        return gosync_py_misuse(unlock_of_unlocked_mutex);
    Py_RETURN_NONE;
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
    return PyBool_FromLong(gosync_mutex_try_lock(&((gosync_py_mutex *)op)->mu));
}

static PyObject *mutex_locked(PyObject *op, PyObject *unused)
{
    (void)unused;
    int32_t state = gosync_mutex_state(&((gosync_py_mutex *)op)->mu);
    return PyBool_FromLong(state & (GOSYNC_MUTEX_LOCKED | GOSYNC_MUTEX_STARVING));
}

static PyObject *mutex_address(PyObject *op, void *unused)
{
    (void)unused;
    return PyLong_FromVoidPtr(&((gosync_py_mutex *)op)->mu);
}

static PyMethodDef mutex_methods[] = {
    {"__enter__", mutex_enter, METH_NOARGS,
     "__enter__() -> True\n\nLock the mutex, waiting as long as it takes."},
    {"__exit__", (PyCFunction)(void (*)(void))mutex_exit, METH_FASTCALL,
     "__exit__(*exc_info) -> None\n\nUnlock the mutex."},
    {"_lock_until", mutex_lock_until, METH_O,
     "_lock_until(deadline_ns) -> bool\n\nLock the mutex, giving up at an absolute deadline on\n"
     "gosync's monotonic clock (-1: never). False means it gave up."},
    {"unlock", mutex_unlock, METH_NOARGS,
     "unlock() -> None\n\nUnlock unlocks the mutex.\n\nUnlocking a mutex that is not locked raises\n"
     "SyncError(\"sync: unlock of unlocked mutex\") and changes nothing. As in Go,\n"
     "the thread that unlocks need not be the one that locked."},
    {"release", mutex_unlock, METH_NOARGS, "release() -> None\n\nRelease is unlock, under threading.Lock's name."},
    {"try_lock", mutex_try_lock, METH_NOARGS,
     "try_lock() -> bool\n\nTryLock tries to lock the mutex without waiting, and reports whether\n"
     "it succeeded. It fails in starvation mode even when the mutex is\n"
     "momentarily unlocked, because ownership is then being handed to a waiter."},
    {"locked", mutex_locked, METH_NOARGS,
     "locked() -> bool\n\nLocked reports whether the mutex is held, or being handed to a waiter\n"
     "(so that try_lock would fail)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef mutex_getset[] = {
    {"_address", mutex_address, NULL, "Address of the C gosync_mutex, for cffi debug accessors.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot mutex_slots[] = {
    {Py_tp_dealloc, gosync_py_dealloc},
    {Py_tp_doc, "The C state and lock protocol of gosync.Mutex."},
    {Py_tp_methods, mutex_methods},
    {Py_tp_getset, mutex_getset},
    {0, NULL},
};

static PyType_Spec mutex_spec = {
    "gosync._gosync.MutexBase",
    sizeof(gosync_py_mutex),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    mutex_slots,
};

static int gosync_py_add_mutex(PyObject *module)
{
    PyObject *type = PyType_FromSpec(&mutex_spec);
    mutex_type = (PyTypeObject *)type; /* the module keeps it alive */
    int rc = type ? PyObject_SetAttrString(module, "MutexBase", type) : -1;
    Py_XDECREF(type);
    return rc;
}
