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

/* ---- One file per primitive ----------------------------------------------- */

#include "_binding_mutex.c"

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
    Py_DECREF(module);
    return rc;
}

static int gosync_py_gil_held(void)
{
    return PyGILState_Check();
}
