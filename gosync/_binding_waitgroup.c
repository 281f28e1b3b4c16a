/* Binding of the WaitGroup: the C type gosync._gosync.WaitGroupBase. add and
 * done never block and keep the GIL; a wait releases it. */
#include "_binding.h"

PyTypeObject *gosync_py_waitgroup_type; /* set by gosync_py_add_types */

#define WG(op) gosync_py_waitgroup_of(op)

static PyObject *waitgroup_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    return gosync_py_new(type, args, kwds, offsetof(gosync_py_waitgroup, storage), 1);
}

static PyObject *wg_error(int rc)
{
    switch (rc) {
    case GOSYNC_WG_NEGATIVE:
        return gosync_py_misuse("sync: negative WaitGroup counter");
    case GOSYNC_WG_REUSED:
        return gosync_py_misuse("sync: WaitGroup is reused before previous Wait has returned");
    case GOSYNC_OVERFLOW:
        PyErr_SetString(PyExc_OverflowError, "gosync: WaitGroup counter overflows int32");
        return NULL;
    default:
        return gosync_py_wait_result(rc, "gosync: WaitGroup has too many waiters (65535)");
    }
}

static PyObject *wg_add(gosync_waitgroup *wg, int64_t delta)
{
    int rc = gosync_waitgroup_add(wg, delta);
    if (rc != GOSYNC_OK)
        return wg_error(rc);
    Py_RETURN_NONE;
}

/* add(delta=1): positional only, as the other C methods. */
static PyObject *waitgroup_add(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    GOSYNC_PY_CHECK_OPEN(op);
    if (nargs == 0)
        return wg_add(WG(op), 1);
    if (nargs != 1) {
        PyErr_Format(PyExc_TypeError, "WaitGroup.add() takes at most 1 argument (delta), %zd given",
                     nargs);
        return NULL;
    }
    PyObject *arg = args[0];
    if (!PyLong_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "WaitGroup.add() delta must be an int, not %.100s",
                     Py_TYPE(arg)->tp_name);
        return NULL;
    }
    int overflow;
    long long delta = PyLong_AsLongLongAndOverflow(arg, &overflow);
    if (delta == -1 && PyErr_Occurred())
        return NULL;
    if (overflow)
        return wg_error(overflow < 0 ? GOSYNC_WG_NEGATIVE : GOSYNC_OVERFLOW);
    return wg_add(WG(op), delta);
}

static PyObject *waitgroup_done(PyObject *op, PyObject *unused)
{
    GOSYNC_PY_CHECK_OPEN(op);
    (void)unused;
    return wg_add(WG(op), -1);
}

static int waitgroup_wait_call(void *wg, int64_t deadline_ns)
{
    return gosync_waitgroup_wait(wg, deadline_ns);
}

static PyObject *waitgroup_wait_until(PyObject *op, PyObject *arg)
{
    GOSYNC_PY_CHECK_OPEN(op);
    int64_t deadline_ns;
    if (gosync_py_deadline(arg, &deadline_ns) < 0)
        return NULL;
    if (gosync_waitgroup_counter(WG(op)) == 0)
        Py_RETURN_TRUE; /* nothing to wait for: keep the GIL */
    int rc = gosync_py_block(op, waitgroup_wait_call, WG(op), deadline_ns);
    return rc == GOSYNC_WG_REUSED ? wg_error(rc) : gosync_py_wait_result(rc, "gosync: WaitGroup has too many waiters (65535)");
}

/* The fields of gosync.waitgroup.WaitGroupState. A relaxed read: a snapshot
 * for tests and repr. */
static PyObject *waitgroup_debug_fields(PyObject *op, PyObject *unused)
{
    GOSYNC_PY_CHECK_OPEN(op);
    (void)unused;
    return Py_BuildValue("(iI)", (int)gosync_waitgroup_counter(WG(op)),
                         (unsigned int)gosync_waitgroup_waiters(WG(op)));
}

static PyMethodDef waitgroup_methods[] = {
    {"add", (PyCFunction)(void (*)(void))waitgroup_add, METH_FASTCALL,
     "add($self, delta=1, /)\n--\n\nAdd adds delta, which may be negative, to the WaitGroup counter.\n"
     "If the counter becomes zero, all threads blocked in wait are released.\n\n"
     "A counter that would go negative raises\n"
     "SyncError(\"sync: negative WaitGroup counter\"), and one past 2**31 - 1\n"
     "OverflowError; neither changes anything. Calls with a positive delta\n"
     "that occur when the counter is zero must happen before a wait."},
    {"done", waitgroup_done, METH_NOARGS,
     "done($self, /)\n--\n\nDone decrements the WaitGroup counter by one."},
    {"_wait_until", waitgroup_wait_until, METH_O,
     "_wait_until($self, deadline_ns, /)\n--\n\nWait until the counter is zero or an absolute deadline (-1: never)."},
    {"_debug_fields", waitgroup_debug_fields, METH_NOARGS,
     "_debug_fields($self, /)\n--\n\nThe fields of gosync.waitgroup.WaitGroupState: counter, waiters."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef waitgroup_members[] = {
    GOSYNC_PY_WEAKREFS,
    GOSYNC_PY_LABEL,
    {NULL, 0, 0, 0, NULL},
};

/* The dealloc drops the reference to a gosync.shared mapping, if any, and
 * clears the weak references. */
static PyType_Slot waitgroup_slots[] = {
    {Py_tp_dealloc, gosync_py_object_dealloc},
    {Py_tp_new, waitgroup_new},
    {Py_tp_doc, "WaitGroup(*, name=None)\n--\n\nA WaitGroup waits for a collection of tasks to finish."},
    {Py_tp_methods, waitgroup_methods},
    {Py_tp_members, waitgroup_members},
    {0, NULL},
};

PyType_Spec gosync_py_waitgroup_spec =
    GOSYNC_PY_PUBLIC_SPEC("gosync.waitgroup.WaitGroup", sizeof(gosync_py_waitgroup), 0, waitgroup_slots);
