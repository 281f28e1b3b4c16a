/* Binding of the weighted semaphore's word: the C type that is
 * gosync.semaphore.Weighted (gosync/semaphore.py adds its Python methods),
 * gosync._gosync.WeightedBase to the Python layer.
 *
 * acquire, try_acquire and release are C methods so that the uncontended
 * call is one CAS with the GIL held and no Python frame. Whatever is not
 * that (a context, a timeout, an argument to check, a waiter queued) is
 * handed, with the same arguments, to a Python method of the subclass:
 * _acquire_slow, _try_acquire_checked, _release_slow. The queue's methods
 * (_take_or_queue, _add, _word) are called by those under the queue's
 * lock. Nothing here blocks. */
#include "_binding.h"
#include "weighted.h"

/* mu and waiters are the Python layer's attributes (the members _mu and
 * _waiters: the waiter queue and its Mutex, see gosync/semaphore.py). */
typedef struct {
    gosync_py_object head; /* head.state == &storage */
    gosync_weighted storage;
    PyObject *mu, *waiters;
} gosync_py_weighted;

#define W(op) ((gosync_weighted *)((gosync_py_object *)(op))->state)

static PyObject *weighted_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    return gosync_py_new(type, args, kwds, offsetof(gosync_py_weighted, storage), 1);
}

/* The weight in args[0], or 1 with no arguments: 0 and *n set when it is an
 * int in 0..INT64_MAX, else -1 (no exception: the Python side checks and
 * reports). */
static int weight_of(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, int64_t *n)
{
    if (kwnames != NULL && PyTuple_GET_SIZE(kwnames) != 0)
        return -1;
    if (nargs == 0) {
        *n = 1;
        return 0;
    }
    if (nargs != 1 || !PyLong_CheckExact(args[0]))
        return -1;
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(args[0], &overflow);
    if (overflow || v < 0) /* v == -1 from an error is < 0 too; none can occur for an exact int */
        return -1;
    *n = (int64_t)v;
    return 0;
}

/* Calls self.<name>(*args, **kwnames) with the caller's own arguments. */
static PyObject *forward(PyObject *self, const char *public, const char *name, PyObject *const *args,
                         Py_ssize_t nargs, PyObject *kwnames)
{
    Py_ssize_t total = nargs + (kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0);
    PyObject *stack[5];
    if (total > 4) {
        PyErr_Format(PyExc_TypeError, "Weighted.%s() takes at most 3 arguments (%zd given)", public, total);
        return NULL;
    }
    PyObject *method = PyObject_GetAttrString(self, name);
    if (method == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < total; i++)
        stack[i + 1] = args[i];
    PyObject *result = PyObject_Vectorcall(method, stack + 1, (size_t)nargs | PY_VECTORCALL_ARGUMENTS_OFFSET, kwnames);
    Py_DECREF(method);
    return result;
}

/* acquire(n=1, ctx=None, timeout=None): the fast path takes acquire() and
 * acquire(n) only. */
static PyObject *weighted_acquire(PyObject *op, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    int64_t n;
    if (weight_of(args, nargs, kwnames, &n) == 0 && gosync_weighted_try_acquire(W(op), n))
        Py_RETURN_TRUE;
    return forward(op, "acquire", "_acquire_slow", args, nargs, kwnames);
}

static PyObject *weighted_try_acquire(PyObject *op, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    int64_t n;
    if (weight_of(args, nargs, kwnames, &n) == 0)
        return PyBool_FromLong(gosync_weighted_try_acquire(W(op), n));
    return forward(op, "try_acquire", "_try_acquire_checked", args, nargs, kwnames);
}

static PyObject *weighted_release(PyObject *op, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    int64_t n;
    if (weight_of(args, nargs, kwnames, &n) == 0) {
        switch (gosync_weighted_release(W(op), n)) {
        case GOSYNC_WEIGHTED_RELEASED:
            Py_RETURN_NONE;
        case GOSYNC_WEIGHTED_OVER:
            return gosync_py_misuse("semaphore: released more than held");
        default:
            break; /* waiters queued */
        }
    }
    return forward(op, "release", "_release_slow", args, nargs, kwnames);
}

static int int64_arg(PyObject *arg, int64_t *v)
{
    long long x = PyLong_AsLongLong(arg);
    if (x == -1 && PyErr_Occurred())
        return -1;
    *v = (int64_t)x;
    return 0;
}

/* _set_size(n): once, before use; the Python side has checked n. */
static PyObject *weighted_set_size(PyObject *op, PyObject *arg)
{
    int64_t n;
    if (int64_arg(arg, &n) < 0)
        return NULL;
    if (n < 0 || n >= GOSYNC_WEIGHTED_QUEUED) {
        PyErr_SetString(PyExc_OverflowError, "semaphore size must be in 0..2**62-1");
        return NULL;
    }
    W(op)->size = n;
    Py_RETURN_NONE;
}

static PyObject *weighted_take_or_queue(PyObject *op, PyObject *arg)
{
    int64_t n;
    if (int64_arg(arg, &n) < 0)
        return NULL;
    return PyBool_FromLong(gosync_weighted_take_or_queue(W(op), n));
}

static PyObject *weighted_add(PyObject *op, PyObject *arg)
{
    int64_t delta;
    if (int64_arg(arg, &delta) < 0)
        return NULL;
    return PyLong_FromLongLong(gosync_weighted_add(W(op), delta));
}

static PyObject *weighted_word(PyObject *op, PyObject *unused)
{
    (void)unused;
    return PyLong_FromLongLong(gosync_weighted_word(W(op)));
}

/* The fields of Weighted's debug view: size, held, queued flag. A relaxed
 * snapshot for tests and repr. */
static PyObject *weighted_debug_fields(PyObject *op, PyObject *unused)
{
    (void)unused;
    int64_t h = gosync_weighted_word(W(op));
    int queued = h >= GOSYNC_WEIGHTED_QUEUED;
    return Py_BuildValue("(LLO)", (long long)W(op)->size, (long long)(queued ? h - GOSYNC_WEIGHTED_QUEUED : h),
                         queued ? Py_True : Py_False);
}

#define FASTKW (METH_FASTCALL | METH_KEYWORDS)

static PyMethodDef weighted_methods[] = {
    {"acquire", (PyCFunction)(void (*)(void))weighted_acquire, FASTKW,
     "acquire(n=1, ctx=None, timeout=None) -> bool\n\n"
     "Acquire acquires the semaphore with a weight of n, blocking until\n"
     "resources are available, ctx is done or the timeout passes. It returns\n"
     "True on success; on failure it returns False and leaves the semaphore\n"
     "unchanged.\n\n"
     "If ctx is already done, acquire fails, as in Go, even when the weight\n"
     "is free. If the weight is granted while ctx becomes done, it is given\n"
     "back to the next waiters and acquire returns False. A timeout is in\n"
     "seconds; None waits for ever; a bad one raises and changes nothing.\n"
     "Ctrl-C interrupts the wait, leaving nothing held."},
    {"try_acquire", (PyCFunction)(void (*)(void))weighted_try_acquire, FASTKW,
     "try_acquire(n=1) -> bool\n\n"
     "TryAcquire acquires the semaphore with a weight of n without blocking.\n"
     "On failure it returns False and changes nothing; it fails while any\n"
     "acquire is queued."},
    {"release", (PyCFunction)(void (*)(void))weighted_release, FASTKW,
     "release(n=1) -> None\n\n"
     "Release releases the semaphore with a weight of n. Releasing more than\n"
     "is held raises SyncError(\"semaphore: released more than held\") and\n"
     "changes nothing."},
    {"_set_size", weighted_set_size, METH_O, "_set_size(n): the size, once, before use."},
    {"_take_or_queue", weighted_take_or_queue, METH_O,
     "_take_or_queue(n) -> bool: under the queue's lock, take n or mark the word queued."},
    {"_add", weighted_add, METH_O, "_add(delta) -> int: under the queue's lock, add to the word."},
    {"_word", weighted_word, METH_NOARGS, "_word() -> int: the state word."},
    {"_debug_fields", weighted_debug_fields, METH_NOARGS,
     "_debug_fields() -> tuple: size, held, and whether waiters are queued."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef weighted_members[] = {
    GOSYNC_PY_WEAKREFS,
    GOSYNC_PY_LABEL,
    {"_mu", T_OBJECT_EX, offsetof(gosync_py_weighted, mu), 0, NULL},
    {"_waiters", T_OBJECT_EX, offsetof(gosync_py_weighted, waiters), 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

/* The waiters hold contexts and locks of user code, which may refer back
 * to the semaphore: the collector's support. */
static int weighted_traverse(PyObject *op, visitproc visit, void *arg)
{
    gosync_py_weighted *w = (gosync_py_weighted *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(w->mu);
    Py_VISIT(w->waiters);
    return 0;
}

static int weighted_clear(PyObject *op)
{
    gosync_py_weighted *w = (gosync_py_weighted *)op;
    Py_CLEAR(w->mu);
    Py_CLEAR(w->waiters);
    return 0;
}

static void weighted_dealloc(PyObject *op)
{
    gosync_py_object_gc_dealloc(op, weighted_clear);
}

/* The docstring is gosync/semaphore.py's. The signature is its __init__'s,
 * also here for CPython 3.9's inspect, which stops at a C __new__. */
static PyType_Slot weighted_slots[] = {
    {Py_tp_dealloc, weighted_dealloc},
    {Py_tp_traverse, weighted_traverse},
    {Py_tp_clear, weighted_clear},
    {Py_tp_new, weighted_new},
    {Py_tp_doc, "Weighted(n, *, name=None)\n--\n\nWeighted provides a way to bound concurrent access to a resource."},
    {Py_tp_methods, weighted_methods},
    {Py_tp_members, weighted_members},
    {0, NULL},
};

PyType_Spec gosync_py_weighted_spec = GOSYNC_PY_PUBLIC_SPEC("gosync.semaphore.Weighted", sizeof(gosync_py_weighted),
                                                            Py_TPFLAGS_HAVE_GC, weighted_slots);
