/* What every lock type of the binding uses: creation, the misuse error, and
 * the blocking call with its result. Declared in _binding.h. */
#include "_binding.h"

/* Whether type has an __init__ of its own or of a base other than object.
 * PyPy's cpyext does not update tp_init when __init__ is set on a type
 * after its creation (gosync/_public.py sets the Python layer's), so there
 * it is looked up. */
static int has_init(PyTypeObject *type)
{
#if defined(PYPY_VERSION)
    PyObject *init = PyObject_GetAttrString((PyObject *)type, "__init__");
    PyObject *object_init = PyObject_GetAttrString((PyObject *)&PyBaseObject_Type, "__init__");
    int has = init != NULL && object_init != NULL && init != object_init;
    Py_XDECREF(init);
    Py_XDECREF(object_init);
    PyErr_Clear();
    return has;
#else
    return type->tp_init != PyBaseObject_Type.tp_init;
#endif
}

PyObject *gosync_py_new(PyTypeObject *type, PyObject *args, PyObject *kwds, size_t state_offset, int named)
{
    /* object() refuses arguments unless an __init__ takes them (Cond(L));
     * Mutex(1) must still be the TypeError it always was. A type that can
     * block takes name= (its __init__, if any, takes it too). */
    PyObject *name = named && kwds != NULL ? PyDict_GetItemString(kwds, "name") : NULL;
    Py_ssize_t others = (kwds != NULL ? PyDict_GET_SIZE(kwds) : 0) - (name != NULL);
    if ((PyTuple_GET_SIZE(args) != 0 || others != 0) && !has_init(type)) {
        if (named)
            PyErr_Format(PyExc_TypeError, "%.200s() takes no arguments but the keyword name", type->tp_name);
        else
            PyErr_Format(PyExc_TypeError, "%.200s() takes no arguments", type->tp_name);
        return NULL;
    }
    PyObject *label = NULL;
    if (named) {
        label = gosync_py_profile_label(type, name);
        if (label == NULL)
            return NULL;
        if (label == Py_None)
            Py_CLEAR(label);
    }
    /* tp_alloc zeroes the object, which is each primitive's initial state. */
    PyObject *self = type->tp_alloc(type, 0);
    if (self == NULL) {
        Py_XDECREF(label);
        return NULL;
    }
    ((gosync_py_object *)self)->state = (char *)self + state_offset;
    ((gosync_py_object *)self)->label = label;
    return self;
}

void gosync_py_gc_dealloc(PyObject *op, inquiry clear)
{
    PyTypeObject *type = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)clear(op);
    type->tp_free(op);
    Py_DECREF(type);
}

/* Misuse is a cold path, so the class is looked up each time, under its
 * public name (gosync.SyncError), which does not depend on which module of
 * the Python layer defines it. */
PyObject *gosync_py_misuse(const char *message)
{
    PyObject *gosync = PyImport_ImportModule("gosync");
    if (gosync == NULL)
        return NULL;
    PyObject *cls = PyObject_GetAttrString(gosync, "SyncError");
    Py_DECREF(gosync);
    if (cls == NULL)
        return NULL;
    PyErr_SetString(cls, message);
    Py_DECREF(cls);
    return NULL;
}

/* After a signal the call has left its primitive untouched: the Python
 * handlers run here and, unless one raises, the call is made again until
 * the same deadline.
 *
 * A signal that arrived before the wait began (while this thread held the
 * GIL, say) interrupts no futex call: its handler runs first, here, so that
 * Ctrl-C pressed just before a lock() is not held until the lock comes.
 * Only the main thread runs handlers; elsewhere the check costs one load. */
#if defined(PYPY_VERSION)
/* PyPy's cpyext makes PyErr_CheckSignals a no-op: PyPy runs signal
 * handlers from its interpreter loop only. So on PyPy the check runs a
 * Python function that gives the loop that chance
 * (gosync._native._run_signal_handlers). Only slow paths come here. */
int gosync_py_check_signals(void)
{
    static PyObject *run; /* a strong reference, for the process's life */
    if (run == NULL) {
        PyObject *native = PyImport_ImportModule("gosync._native");
        if (native == NULL)
            return -1;
        run = PyObject_GetAttrString(native, "_run_signal_handlers");
        Py_DECREF(native);
        if (run == NULL)
            return -1;
    }
    PyObject *r = PyObject_CallObject(run, NULL);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}
#else
int gosync_py_check_signals(void)
{
    return PyErr_CheckSignals();
}
#endif

int gosync_py_block_untimed(gosync_blocking_call call, void *primitive, int64_t deadline_ns)
{
    if (gosync_py_check_signals() < 0)
        return -1;
    for (;;) {
        int rc;
        GOSYNC_WITHOUT_GIL(rc, call(primitive, deadline_ns));
        if (rc != GOSYNC_INTERRUPTED)
            return rc;
        if (gosync_py_check_signals() < 0)
            return -1;
    }
}

int gosync_py_block(PyObject *owner, gosync_blocking_call call, void *primitive, int64_t deadline_ns)
{
    if (!gosync_py_profile_wait_begin())
        return gosync_py_block_untimed(call, primitive, deadline_ns);
    int rc = gosync_py_block_untimed(call, primitive, deadline_ns);
    gosync_py_profile_block(owner, rc);
    return rc;
}

PyObject *gosync_py_wait_result(int rc, const char *overflow_message)
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
