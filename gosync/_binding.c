/* The binding layer: the glue between cffi's generated wrappers and the C
 * core. cffi compiles this file ahead of its wrappers, after Python.h.
 *
 * GIL policy (DESIGN section 3)
 * -----------------------------
 * cffi wraps every call in Py_BEGIN_ALLOW_THREADS / Py_END_ALLOW_THREADS.
 * That costs about a third of a trivial call, and makes every lock and
 * unlock a point where another thread can take the GIL. gosync's fast paths
 * (an uncontended lock or unlock, try_lock, atomics) never block, so they
 * keep the GIL: the two macros become plain braces for every wrapper below.
 *
 * What can block releases the GIL itself, with the real calls, around the
 * core's slow path only (PyEval_SaveThread detaches the thread state on
 * free-threaded builds too). Nothing spins or sleeps while holding it: the
 * Mutex's spinning is inside its slow path.
 *
 * A blocking call that a signal interrupts returns GOSYNC_INTERRUPTED with
 * its primitive untouched; the Python layer returns to the interpreter so
 * that the handler runs (and may raise KeyboardInterrupt), then retries
 * with the same absolute deadline.
 */
#include "mutex.h"
#include "park.h"
#include "sema.h"

#undef Py_BEGIN_ALLOW_THREADS
#undef Py_END_ALLOW_THREADS
#define Py_BEGIN_ALLOW_THREADS {
#define Py_END_ALLOW_THREADS }

/* Runs a core slow path with the GIL released. */
#define GOSYNC_WITHOUT_GIL(result, call)                \
    do {                                                \
        PyThreadState *gosync_saved_ = PyEval_SaveThread(); \
        (result) = (call);                              \
        PyEval_RestoreThread(gosync_saved_);            \
    } while (0)

static int gosync_py_mutex_lock(gosync_mutex *m, int64_t deadline_ns)
{
    if (gosync_mutex_lock_fast(m))
        return GOSYNC_OK;
    int rc;
    GOSYNC_WITHOUT_GIL(rc, gosync_mutex_lock_slow(m, deadline_ns));
    return rc;
}

static gosync_sema *gosync_py_mutex_sema(gosync_mutex *m)
{
    return &m->sema;
}

static int gosync_py_gil_held(void)
{
    return PyGILState_Check();
}
