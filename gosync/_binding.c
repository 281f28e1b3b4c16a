/* The binding layer: the glue between Python and the C core. cffi compiles
 * this file into gosync._gosync, after Python.h and ahead of the wrappers it
 * generates for the functions declared in _cdef.h.
 *
 * GIL policy (DESIGN section 3)
 * -----------------------------
 * cffi wraps every call in Py_BEGIN_ALLOW_THREADS / Py_END_ALLOW_THREADS.
 * That costs about a third of a trivial call, and makes every call a point
 * where another thread can take the GIL. The functions in _cdef.h never
 * block, so they keep the GIL: the two macros become plain braces for every
 * wrapper cffi generates after this file.
 *
 * What can block releases the GIL itself, with the real calls, around the
 * core's slow path only (PyEval_SaveThread detaches the thread state on
 * free-threaded builds too). Nothing spins or sleeps while holding it: the
 * Mutex's spinning is inside its slow path.
 *
 * Lock types are Python types defined here
 * ----------------------------------------
 * The interpreter may switch threads at the entry of every Python function
 * and after every call it makes, but not inside a `with` statement's calls
 * of a C __enter__ and __exit__. threading.Lock is safe for that reason: the
 * GIL never moves while a thread holds it inside `with`. A Python __exit__,
 * or a cffi call inside a Python __enter__, would add switch points while
 * the lock is held; under contention the GIL would then move to threads that
 * can only block on the lock, and throughput collapses into a convoy
 * (measured: 30-70 times more context switches than threading.Lock). So the
 * lock protocol of each lock type (__enter__, __exit__, unlock, try_lock) is
 * a method of a small type defined here, which holds the primitive's C state
 * inline. The Python classes in gosync/ subclass these types and add the
 * rest: argument validation, threading compatibility, debugging.
 *
 * A blocking wait that a signal interrupts runs the Python signal handlers
 * (PyErr_CheckSignals) and, unless one raised, waits again until the same
 * absolute deadline. The primitive is untouched in between.
 */
#include "mutex.h"
#include "park.h"
#include "sema.h"

#undef Py_BEGIN_ALLOW_THREADS
#undef Py_END_ALLOW_THREADS
#define Py_BEGIN_ALLOW_THREADS {
#define Py_END_ALLOW_THREADS }

/* Runs a core slow path with the GIL released. */
#define GOSYNC_WITHOUT_GIL(result, call)                    \
    do {                                                    \
        PyThreadState *gosync_saved_ = PyEval_SaveThread(); \
        (result) = (call);                                  \
        PyEval_RestoreThread(gosync_saved_);                \
    } while (0)

/* Raises gosync.SyncError(message). Misuse is a cold path, so the class is
 * looked up where the Python layer defines it, each time. */
static PyObject *gosync_py_misuse(const char *message)
{
    PyObject *core = PyImport_ImportModule("gosync._core");
    if (core == NULL)
        return NULL;
    PyObject *cls = PyObject_GetAttrString(core, "SyncError");
    Py_DECREF(core);
    if (cls == NULL)
        return NULL;
    PyErr_SetString(cls, message);
    Py_DECREF(cls);
    return NULL;
}

/* Parses a deadline argument: an int, GOSYNC_NO_DEADLINE for none. The
 * Python layer has already validated the user's timeout. */
static int gosync_py_deadline(PyObject *arg, int64_t *deadline_ns)
{
    long long d = PyLong_AsLongLong(arg);
    if (d == -1 && PyErr_Occurred())
        return -1;
    *deadline_ns = (int64_t)d;
    return 0;
}

/* ---- Mutex --------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    gosync_mutex mu; /* zeroed by tp_alloc: an unlocked mutex */
} gosync_py_mutex;

static const char unlock_of_unlocked_mutex[] = "sync: unlock of unlocked mutex";

static PyObject *mutex_lock_slow(gosync_py_mutex *self, int64_t deadline_ns)
{
    for (;;) {
        int rc;
        GOSYNC_WITHOUT_GIL(rc, gosync_mutex_lock_slow(&self->mu, deadline_ns));
        if (rc == GOSYNC_OK)
            Py_RETURN_TRUE;
        if (rc == GOSYNC_TIMEDOUT)
            Py_RETURN_FALSE;
        if (PyErr_CheckSignals() < 0) /* GOSYNC_INTERRUPTED */
            return NULL;
    }
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

/* ---- Module set-up and test probes --------------------------------------- */

/* Creates the lock types and adds them to this module. _core.py calls it
 * once, at import. Returns 0, or -1 with a Python exception set (cffi
 * reports that as a SystemError carrying it). */
static int gosync_py_add_types(void)
{
    PyObject *module = PyImport_ImportModule("gosync._gosync");
    if (module == NULL)
        return -1;
    PyObject *mutex_type = PyType_FromSpec(&mutex_spec);
    int rc = mutex_type ? PyObject_SetAttrString(module, "MutexBase", mutex_type) : -1;
    Py_XDECREF(mutex_type);
    Py_DECREF(module);
    return rc;
}

static int gosync_py_gil_held(void)
{
    return PyGILState_Check();
}
