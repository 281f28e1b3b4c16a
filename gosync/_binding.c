/* The binding layer: the glue between Python and the C core. cffi compiles
 * this file into gosync._gosync, after Python.h and ahead of the wrappers it
 * generates for the functions declared in _cdef.h.
 *
 * GIL policy (DESIGN section 3)
 * -----------------------------
 * cffi wraps every call in Py_BEGIN_ALLOW_THREADS / Py_END_ALLOW_THREADS.
 * That costs about a third of a trivial call, and makes every call a point
 * where another thread can take the GIL. The functions in _cdef.h never
 * block (but for the race demo's, which releases the GIL itself), so they
 * keep the GIL: the two macros become plain braces for every wrapper cffi
 * generates after this file.
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
#include "atomic.h"
#include "cond.h"
#include "mutex.h"
#include "once.h"
#include "park.h"
#include "rwmutex.h"
#include "sema.h"
#include "waitgroup.h"

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

/* tp_dealloc of the lock types, which hold no references. Instances of a
 * heap type own a reference to it; CPython's subtype_dealloc leaves the
 * release of that reference to a heap base type's dealloc, i.e. this one. */
static void gosync_py_dealloc(PyObject *op)
{
    PyTypeObject *type = Py_TYPE(op);
    type->tp_free(op);
    Py_DECREF(type);
}

/* A blocking slow path of the core: GOSYNC_OK, GOSYNC_TIMEDOUT,
 * GOSYNC_INTERRUPTED, or a primitive's own error code. */
typedef int (*gosync_blocking_call)(void *primitive, int64_t deadline_ns);

/* Runs a blocking call with the GIL released. After a signal the call has
 * left its primitive untouched: the Python handlers run here and, unless one
 * raises, the call is made again until the same deadline. Returns the
 * call's final status, or -1 with the handler's exception set.
 *
 * A signal that arrived before the wait began (while this thread held the
 * GIL, say) interrupts no futex call: its handler runs first, here, so that
 * Ctrl-C pressed just before a lock() is not held until the lock comes.
 * Only the main thread runs handlers; elsewhere the check costs one load. */
static int gosync_py_block(gosync_blocking_call call, void *primitive, int64_t deadline_ns)
{
    if (PyErr_CheckSignals() < 0)
        return -1;
    for (;;) {
        int rc;
        GOSYNC_WITHOUT_GIL(rc, call(primitive, deadline_ns));
        if (rc != GOSYNC_INTERRUPTED)
            return rc;
        if (PyErr_CheckSignals() < 0)
            return -1;
    }
}

/* The Python result of a wait: True (done), False (timed out), or NULL with
 * an exception for -1 (a signal handler raised) and GOSYNC_OVERFLOW. Other
 * codes are the caller's to map first. */
static PyObject *gosync_py_wait_result(int rc, const char *overflow_message)
{
    switch (rc) {
    case GOSYNC_OK:
        Py_RETURN_TRUE;
    case GOSYNC_TIMEDOUT:
        Py_RETURN_FALSE;
    case GOSYNC_OVERFLOW:
        PyErr_SetString(PyExc_OverflowError, overflow_message);
        return NULL;
    case GOSYNC_FAULT:
        /* The kernel refused to wait; errno is what it said (taking the GIL
         * back preserves errno). */
        return PyErr_SetFromErrno(PyExc_OSError);
    default:
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_SystemError, "gosync: unexpected status %d", rc);
        return NULL;
    }
}

/* ---- One file per primitive ----------------------------------------------- */

#include "_binding_mutex.c"
#include "_binding_rwmutex.c"
#include "_binding_waitgroup.c"
#include "_binding_cond.c"
#include "_binding_atomic.c"
#include "_binding_race.c"

/* ---- Module set-up and test probes --------------------------------------- */

/* Creates the lock types and adds them to this module. _core.py calls it
 * once, at import. Returns 0, or -1 with a Python exception set (cffi
 * reports that as a SystemError carrying it). */
static int gosync_py_add_types(void)
{
    PyObject *module = PyImport_ImportModule("gosync._gosync");
    if (module == NULL)
        return -1;
    int rc = gosync_py_add_mutex(module);
    if (rc == 0)
        rc = gosync_py_add_rwmutex(module);
    if (rc == 0)
        rc = gosync_py_add_waitgroup(module);
    if (rc == 0)
        rc = gosync_py_add_cond(module);
    if (rc == 0)
        rc = gosync_py_add_atomic(module);
    Py_DECREF(module);
    return rc;
}

static int gosync_py_gil_held(void)
{
    return PyGILState_Check();
}
