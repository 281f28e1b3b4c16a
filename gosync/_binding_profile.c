/* Binding of contention profiling (docs/DESIGN.md, "Profiling contention"):
 * the two rates, the sampling, and the call into gosync._profile for each
 * kept event. The core keeps the flags, the park time and the locks'
 * contention records (csrc/profile.h); this part decides which events are
 * kept and hands them to Python with the GIL held.
 *
 * Everything here runs on a slow path: a constructor while a profile is on,
 * a blocking call that parked, an unlock that found a timed waiter. */
#include "_binding.h"

/* The rates as Go has them: the block profile samples one event per
 * block_rate nanoseconds blocked (<= 0: off); the mutex profile one event
 * in mutex_fraction (0: off). Written with the GIL held, read on slow
 * paths with it held. */
static int64_t block_rate;
static int64_t mutex_fraction;

/* gosync._profile's callables (strong references for the process's life):
 * on_event(kind, owner, delay_ns, weight) records a kept event with the
 * current thread's stack; creation_label(type) names a primitive created
 * while a profile is on. */
static PyObject *on_event;
static PyObject *creation_label;

/* A per-thread xorshift64*, as Go's cheaprand: sampling needs speed and
 * independence between threads, not quality. Seeded from the thread's
 * address and the clock at its first use. */
static _Thread_local uint64_t rng_state;

static uint64_t cheaprand(void)
{
    uint64_t x = rng_state;
    if (x == 0)
        x = ((uint64_t)(uintptr_t)&rng_state * 0x9E3779B97F4A7C15u) ^ (uint64_t)gosync_now_ns() ^ 1u;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1Du;
}

static void set_flags(void)
{
    uint32_t flags = (block_rate > 0 ? GOSYNC_PROFILE_BLOCK : 0) | (mutex_fraction > 0 ? GOSYNC_PROFILE_MUTEX : 0);
    gosync_store(&gosync_profile_flags, flags, GOSYNC_RELAXED);
}

/* Whether this thread is inside on_event. An event made by code that
 * on_event runs (a finalizer, a signal handler, on_event's own use of a
 * gosync lock) is dropped, as Go's profiler drops what happens while it
 * stores: calling on_event again would take its store's lock a second
 * time on the same thread, a deadlock. */
static _Thread_local int emitting;

/* Hands one kept event to on_event. The caller's own result is already
 * decided, so nothing the callable does may change it: an exception it
 * raises is reported as unraisable (but KeyboardInterrupt is delivered
 * again, below), and an exception already set (there should be none) is
 * kept. The callable is held for the call, which may
 * replace it (_profile_hooks). */
static void emit(int kind, PyObject *owner, int64_t delay_ns, double weight)
{
    PyObject *fn = on_event;
    if (fn == NULL || emitting)
        return;
    Py_INCREF(fn);
    emitting = 1;
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    PyObject *r = PyObject_CallFunction(fn, "iOLd", kind, owner != NULL ? owner : Py_None, (long long)delay_ns,
                                        weight);
    if (r == NULL) {
        /* Ctrl-C whose handler ran inside the callable must not be lost:
         * it is delivered again, to be raised once this call has returned
         * (the lock then as the call left it). */
        if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
            PyErr_Clear();
            PyErr_SetInterrupt();
        } else {
            PyErr_WriteUnraisable(fn);
        }
    }
    Py_XDECREF(r);
    PyErr_Restore(type, value, traceback);
    emitting = 0;
    Py_DECREF(fn);
}

void gosync_py_profile_block(PyObject *owner, int rc)
{
    int64_t since = gosync_profile_parked_since;
    int64_t rate = block_rate;
    gosync_profile_parked_since = 0;
    /* An interrupted or failed wait is no event; one that never parked
     * neither (see csrc/profile.h). */
    if (since == 0 || rate <= 0 || (rc != GOSYNC_OK && rc != GOSYNC_TIMEDOUT))
        return;
    int64_t delay = gosync_now_ns() - since;
    if (delay < 1)
        delay = 1;
    double weight = 1.0;
    if (delay < rate) {
        /* Kept with probability delay / rate, then standing for rate / delay
         * events, so that it adds rate nanoseconds, the expected value. */
        if (cheaprand() % (uint64_t)rate > (uint64_t)delay)
            return;
        weight = (double)rate / (double)delay;
    }
    emit(0, owner, delay, weight);
}

int gosync_py_profile_wait_begin(void)
{
    if ((gosync_profile_on() & GOSYNC_PROFILE_BLOCK) == 0)
        return 0;
    gosync_profile_parked_since = 0;
    return 1;
}

int64_t gosync_py_contention_enter(gosync_contention *c)
{
    if (c == NULL || (gosync_profile_on() & GOSYNC_PROFILE_MUTEX) == 0)
        return 0;
    int64_t now = gosync_now_ns();
    gosync_contention_enter(c, now);
    return now;
}

void gosync_py_profile_mutex(PyObject *owner, int64_t delay_ns)
{
    int64_t rate = mutex_fraction;
    if (delay_ns <= 0 || rate <= 0)
        return;
    if (rate > 1 && cheaprand() % (uint64_t)rate != 0)
        return;
    emit(1, owner, delay_ns, (double)rate);
}

PyObject *gosync_py_profile_label(PyTypeObject *type, PyObject *name)
{
    if (name != NULL && name != Py_None) {
        if (!PyUnicode_Check(name)) {
            PyErr_Format(PyExc_TypeError, "%.200s name must be a str, not %.100s", type->tp_name,
                         Py_TYPE(name)->tp_name);
            return NULL;
        }
        Py_INCREF(name);
        return name;
    }
    if (gosync_profile_on() == 0 || creation_label == NULL)
        Py_RETURN_NONE;
    PyObject *label = PyObject_CallFunctionObjArgs(creation_label, (PyObject *)type, NULL);
    if (label == NULL || !PyUnicode_Check(label)) {
        /* Naming is best effort: the primitive is made unnamed. */
        if (label == NULL)
            PyErr_WriteUnraisable(creation_label);
        Py_XDECREF(label);
        Py_RETURN_NONE;
    }
    return label;
}

/* ---- Module functions: gosync.profile's side of the interface ----------- */

static PyObject *profile_set(PyObject *module, PyObject *args)
{
    long long block, mutex;
    (void)module;
    if (!PyArg_ParseTuple(args, "LL:_profile_set", &block, &mutex))
        return NULL;
    if (mutex < 0) {
        PyErr_SetString(PyExc_ValueError, "mutex profile fraction must not be negative");
        return NULL;
    }
    block_rate = block > 0 ? block : 0;
    mutex_fraction = mutex;
    set_flags();
    Py_RETURN_NONE;
}

static PyObject *profile_rates(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    return Py_BuildValue("(LL)", (long long)block_rate, (long long)mutex_fraction);
}

static PyObject *profile_hooks(PyObject *module, PyObject *args)
{
    PyObject *event = NULL, *label = NULL;
    (void)module;
    if (!PyArg_ParseTuple(args, "|OO:_profile_hooks", &event, &label))
        return NULL;
    PyObject *previous = Py_BuildValue("(OO)", on_event != NULL ? on_event : Py_None,
                                       creation_label != NULL ? creation_label : Py_None);
    if (previous == NULL || event == NULL)
        return previous; /* no arguments: only read them */
    if (label == NULL || !PyCallable_Check(event) || !PyCallable_Check(label)) {
        Py_DECREF(previous);
        PyErr_SetString(PyExc_TypeError, "_profile_hooks takes two callables");
        return NULL;
    }
    Py_INCREF(event);
    Py_INCREF(label);
    Py_XSETREF(on_event, event);
    Py_XSETREF(creation_label, label);
    return previous;
}

PyMethodDef gosync_py_profile_functions[] = {
    {"_profile_set", profile_set, METH_VARARGS,
     "_profile_set(block_rate, mutex_fraction, /)\n--\n\nSet both profile rates (gosync.profile validates them)."},
    {"_profile_rates", profile_rates, METH_NOARGS,
     "_profile_rates()\n--\n\nThe current (block_rate, mutex_fraction)."},
    {"_profile_hooks", profile_hooks, METH_VARARGS,
     "_profile_hooks(on_event=None, creation_label=None, /)\n--\n\nRegister gosync._profile's callables (with no "
     "argument, only read them);\nreturns the previous pair."},
    {NULL, NULL, 0, NULL},
};
