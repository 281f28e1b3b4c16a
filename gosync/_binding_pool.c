/* Binding of the Pool's per-thread slots: the C type
 * gosync._gosync.PoolLocal, which gosync/pool.py subclasses (one instance
 * per thread and pool).
 *
 * Two owned references, `private` and `victim`, changed only by atomic
 * exchange and by compare-and-swap from empty. Whoever takes a pointer out
 * of a slot takes over the reference it held, so no object can be handed out
 * twice or lost, with or without the GIL, and no pointer is ever read
 * without being taken (the read-then-incref race of free-threaded builds
 * cannot happen). Acquire/release orders suffice: a slot publishes the
 * object it receives (release) to the thread that takes it (acquire).
 *
 * Unlike the lock types' state, the slots hold pointers to Python objects
 * of this process, so they never live in shared memory.
 */
#include "_binding.h"

typedef struct {
    PyObject_HEAD
    _Atomic(PyObject *) private_; /* an owned reference, or NULL */
    _Atomic(PyObject *) victim;   /* an owned reference, or NULL */
} gosync_py_pool_local;

static PyObject *pool_local_take_from(_Atomic(PyObject *) *slot)
{
    PyObject *x = gosync_swap(slot, NULL, GOSYNC_ACQ_REL);
    if (x == NULL)
        Py_RETURN_NONE;
    return x; /* the slot's reference is now the caller's */
}

static PyObject *pool_local_take(PyObject *op, PyObject *unused)
{
    (void)unused;
    return pool_local_take_from(&((gosync_py_pool_local *)op)->private_);
}

static PyObject *pool_local_take_victim(PyObject *op, PyObject *unused)
{
    (void)unused;
    return pool_local_take_from(&((gosync_py_pool_local *)op)->victim);
}

static PyObject *pool_local_put(PyObject *op, PyObject *x)
{
    if (x == Py_None)
        Py_RETURN_TRUE; /* nothing to keep */
    PyObject *empty = NULL;
    Py_INCREF(x);
    if (gosync_cas(&((gosync_py_pool_local *)op)->private_, &empty, x, GOSYNC_ACQ_REL,
                   GOSYNC_RELAXED))
        Py_RETURN_TRUE; /* the slot owns the new reference */
    Py_DECREF(x);
    Py_RETURN_FALSE;
}

static PyObject *pool_local_rotate(PyObject *op, PyObject *unused)
{
    gosync_py_pool_local *self = (gosync_py_pool_local *)op;
    (void)unused;
    PyObject *item = gosync_swap(&self->private_, NULL, GOSYNC_ACQ_REL);
    PyObject *dropped = gosync_swap(&self->victim, item, GOSYNC_ACQ_REL);
    Py_XDECREF(dropped); /* may run any code: no lock is held here */
    Py_RETURN_NONE;
}

static int pool_local_traverse(PyObject *op, visitproc visit, void *arg)
{
    gosync_py_pool_local *self = (gosync_py_pool_local *)op;
    /* The collector runs with the world stopped (or the GIL held), so these
     * reads cannot race with an exchange. */
    PyObject *private_ = gosync_load(&self->private_, GOSYNC_RELAXED);
    PyObject *victim = gosync_load(&self->victim, GOSYNC_RELAXED);
    Py_VISIT(private_);
    Py_VISIT(victim);
    Py_VISIT(Py_TYPE(op));
    return 0;
}

static int pool_local_clear(PyObject *op)
{
    gosync_py_pool_local *self = (gosync_py_pool_local *)op;
    PyObject *private_ = gosync_swap(&self->private_, NULL, GOSYNC_ACQ_REL);
    PyObject *victim = gosync_swap(&self->victim, NULL, GOSYNC_ACQ_REL);
    Py_XDECREF(private_);
    Py_XDECREF(victim);
    return 0;
}

static void pool_local_dealloc(PyObject *op)
{
    gosync_py_gc_dealloc(op, pool_local_clear);
}

static PyMethodDef pool_local_methods[] = {
    {"take", pool_local_take, METH_NOARGS,
     "take($self, /)\n--\n\nEmpty the private slot, returning what it held."},
    {"put", pool_local_put, METH_O,
     "put($self, x, /)\n--\n\nStore x in the private slot if it is empty; report whether it was."},
    {"take_victim", pool_local_take_victim, METH_NOARGS,
     "take_victim($self, /)\n--\n\nEmpty the victim slot, returning what it held."},
    {"rotate", pool_local_rotate, METH_NOARGS,
     "rotate($self, /)\n--\n\nMove the private item to the victim slot, dropping the old victim."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot pool_local_slots[] = {
    {Py_tp_doc, "One thread's private and victim slots of a gosync.Pool."},
    {Py_tp_methods, pool_local_methods},
    {Py_tp_traverse, pool_local_traverse},
    {Py_tp_clear, pool_local_clear},
    {Py_tp_dealloc, pool_local_dealloc},
    {0, NULL},
};

PyType_Spec gosync_py_pool_local_spec =
    GOSYNC_PY_SPEC("PoolLocal", sizeof(gosync_py_pool_local), Py_TPFLAGS_HAVE_GC, pool_local_slots);
