/* Binding of the Cond: the C type gosync._gosync.CondBase. Its wait joins
 * the notify list, unlocks L, sleeps and locks L again all in C, so that no
 * exception (KeyboardInterrupt from a signal handler, or from L) can arrive
 * between two of these steps and leave a waiter counted that will never
 * take a notification. Included by _binding.c. */

typedef struct {
    PyObject_HEAD
    gosync_cond c; /* zeroed by tp_alloc: nobody waits */
} gosync_py_cond;

#define COND(op) (&((gosync_py_cond *)(op))->c)

typedef struct {
    gosync_cond *c;
    uint32_t ticket;
} cond_waiter;

static int cond_wait_call(void *w, int64_t deadline_ns)
{
    cond_waiter *waiter = w;
    return gosync_cond_wait(waiter->c, waiter->ticket, deadline_ns);
}

/* _wait(unlock, lock, deadline_ns): join, unlock(), sleep, lock(). */
static PyObject *cond_wait(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "_wait() takes unlock, lock and deadline_ns");
        return NULL;
    }
    int64_t deadline_ns;
    if (gosync_py_deadline(args[2], &deadline_ns) < 0)
        return NULL;
    cond_waiter waiter = {COND(op), 0};
    if (gosync_cond_add(waiter.c, &waiter.ticket) != GOSYNC_OK) {
        PyErr_SetString(PyExc_OverflowError, "gosync: Cond has too many waiters (65535)");
        return NULL;
    }
    PyObject *r = PyObject_CallNoArgs(args[0]);
    if (r == NULL) {
        /* L was not unlocked (not held, say): leave as if never here. */
        gosync_cond_cancel(waiter.c, waiter.ticket);
        return NULL;
    }
    Py_DECREF(r);
    int rc = gosync_py_block(cond_wait_call, &waiter, deadline_ns);
    if (rc < 0) /* a signal handler raised: leave, passing on any notification */
        gosync_cond_cancel(waiter.c, waiter.ticket);
    /* Lock L again in every case, as Go's Wait and Python's Condition do; an
     * exception from the wait wins over a successful relock. */
    PyObject *exc_type, *exc, *tb;
    PyErr_Fetch(&exc_type, &exc, &tb);
    r = PyObject_CallNoArgs(args[1]);
    if (r == NULL) {
        Py_XDECREF(exc_type);
        Py_XDECREF(exc);
        Py_XDECREF(tb);
        return NULL;
    }
    Py_DECREF(r);
    PyErr_Restore(exc_type, exc, tb);
    return gosync_py_wait_result(rc, "");
}

static PyObject *cond_signal(PyObject *op, PyObject *unused)
{
    (void)unused;
    gosync_cond_signal(COND(op));
    Py_RETURN_NONE;
}

static PyObject *cond_broadcast(PyObject *op, PyObject *unused)
{
    (void)unused;
    gosync_cond_broadcast(COND(op));
    Py_RETURN_NONE;
}

static PyObject *cond_address(PyObject *op, void *unused)
{
    (void)unused;
    return PyLong_FromVoidPtr(COND(op));
}

static PyMethodDef cond_methods[] = {
    {"_wait", (PyCFunction)(void (*)(void))cond_wait, METH_FASTCALL,
     "_wait(unlock, lock, deadline_ns) -> bool\n\nJoin the notify list, call unlock(), sleep until notified or the\n"
     "absolute deadline (-1: never), then call lock(). False means it timed out."},
    {"signal", cond_signal, METH_NOARGS,
     "signal() -> None\n\nSignal wakes the thread that has waited longest on the Cond, if there\n"
     "is any. The caller may, but need not, hold L."},
    {"broadcast", cond_broadcast, METH_NOARGS,
     "broadcast() -> None\n\nBroadcast wakes all threads waiting on the Cond now; threads that\n"
     "start waiting afterwards are not woken by it. The caller may, but need\nnot, hold L."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef cond_getset[] = {
    {"_address", cond_address, NULL, "Address of the C gosync_cond, for cffi debug accessors.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot cond_slots[] = {
    {Py_tp_dealloc, gosync_py_dealloc},
    {Py_tp_doc, "The C notify list of gosync.Cond."},
    {Py_tp_methods, cond_methods},
    {Py_tp_getset, cond_getset},
    {0, NULL},
};

static PyType_Spec cond_spec = {
    "gosync._gosync.CondBase",
    sizeof(gosync_py_cond),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    cond_slots,
};

static int gosync_py_add_cond(PyObject *module)
{
    PyObject *type = PyType_FromSpec(&cond_spec);
    int rc = type ? PyObject_SetAttrString(module, "CondBase", type) : -1;
    Py_XDECREF(type);
    return rc;
}
