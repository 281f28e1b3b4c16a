/* TEST ONLY: probes of the binding's insides, for gosync's own tests (see
 * gosync/_testing.py, their one Python entry point). Nothing in the
 * package's code calls them; they are what Go keeps in export_test.go.
 * Being compiled into the module is their only cost: none of them is
 * reachable from the public API.
 */
#include "_binding.h"

#include <sched.h>
#include <time.h>

#include "park.h"

/* Declared in _cdef.h, so that cffi generates its wrapper after the glue in
 * _binding.c: whether the calling thread holds the GIL while a cffi entry
 * point runs. With cffi's own Py_BEGIN_ALLOW_THREADS this would be 0. */
int gosync_py_gil_held(void)
{
    return PyGILState_Check();
}

/* _state_address(obj) -> int: the address of a lock's C state (head.state,
 * see _binding.h), for tests that read or set its words through cffi. */
static PyObject *state_address(PyObject *module, PyObject *obj)
{
    PyTypeObject *const *types[] = {&gosync_py_mutex_type, &gosync_py_rwmutex_type,
                                    &gosync_py_waitgroup_type, &gosync_py_cond_type};
    (void)module;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (PyObject_TypeCheck(obj, *types[i]))
            return PyLong_FromVoidPtr(((gosync_py_object *)obj)->state);
    }
    PyErr_Format(PyExc_TypeError, "_state_address() needs a gosync lock, not %.100s",
                 Py_TYPE(obj)->tp_name);
    return NULL;
}

/* EXPERIMENT ONLY: handing the GIL along with a starving mutex. After a
 * starvation-mode Unlock has handed the mutex to the front waiter, that
 * waiter still needs the GIL, which the unlocker holds until it blocks or
 * its switch interval ends. The hook lets the GIL go at once, and takes it
 * back only after a pause (handoff_mode, below), so that the woken owner,
 * if it asks for the GIL meanwhile, finds it free. CPython has no "give the
 * GIL to thread X": a thread that has not asked yet cannot be handed it. */
enum { HANDOFF_OFF = -2, HANDOFF_WAIT_OWNER = -1 };
static _Atomic long handoff_mode = HANDOFF_OFF; /* >= 0: pause in us, 0: sched_yield */

static _Atomic long handoffs[2]; /* handoffs seen: without, with the GIL */

static void gil_handoff(const gosync_mutex *m)
{
    long mode = atomic_load_explicit(&handoff_mode, memory_order_relaxed);
    int held = PyGILState_Check();
    atomic_fetch_add_explicit(&handoffs[held], 1, memory_order_relaxed);
    if (mode == HANDOFF_OFF || !held)
        return;
    PyThreadState *saved = PyEval_SaveThread();
    if (mode == HANDOFF_WAIT_OWNER) {
        /* Until the receiver has taken over in C (LOCKED set): it then asks
         * for the GIL at once. At most 1 ms. */
        int64_t until = gosync_now_ns() + 1000000;
        while (!(gosync_mutex_state(m) & GOSYNC_MUTEX_LOCKED) && gosync_now_ns() < until)
            sched_yield();
        sched_yield();
    } else if (mode == 0) {
        sched_yield();
    } else {
        struct timespec pause = {0, mode * 1000};
        nanosleep(&pause, NULL);
    }
    PyEval_RestoreThread(saved);
}

/* _set_gil_handoff(mode) -> (without_gil, with_gil): -2 off (the default),
 * -1 wait for the receiver to take over, 0 sched_yield, n > 0 sleep n us;
 * see gil_handoff. Returns the handoffs the hook saw since the last call,
 * by whether the unlocker held the GIL; mode -3 counts without letting the
 * GIL go. */
static PyObject *set_gil_handoff(PyObject *module, PyObject *arg)
{
    (void)module;
    long mode = PyLong_AsLong(arg);
    if (mode == -1 && PyErr_Occurred())
        return NULL;
    if (mode < -3 || mode > 1000000) {
        PyErr_Format(PyExc_ValueError, "_set_gil_handoff: mode must be in [-3, 1000000], not %ld", mode);
        return NULL;
    }
    bool count_only = mode == -3;
    atomic_store_explicit(&handoff_mode, count_only ? HANDOFF_OFF : mode, memory_order_relaxed);
    atomic_store_explicit(&gosync_mutex_handoff_hook, mode == HANDOFF_OFF ? NULL : gil_handoff,
                          memory_order_relaxed);
    return Py_BuildValue("(ll)", atomic_exchange(&handoffs[0], 0), atomic_exchange(&handoffs[1], 0));
}

PyMethodDef gosync_py_testing_functions[] = {
    {"_set_gil_handoff", set_gil_handoff, METH_O,
     "_set_gil_handoff(mode)\n\nEXPERIMENT ONLY: after a starvation-mode handoff, let the GIL go:\n"
     "-3 count only, -2 off (default), -1 until the receiver has taken over, 0 sched_yield,\n"
     "n>0 sleep n us. Returns the handoffs seen since the last call: (without, with the GIL)."},
    {"_state_address", state_address, METH_O,
     "_state_address(lock) -> int\n\nTEST ONLY: the address of the C state of a Mutex, RWMutex,\n"
     "WaitGroup or Cond."},
    {NULL, NULL, 0, NULL},
};
