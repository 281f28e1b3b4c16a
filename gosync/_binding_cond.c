/* Binding of the Cond: the C type that is gosync.Cond (gosync/cond.py adds
 * its Python methods), gosync._gosync.CondBase to the Python layer. Its wait joins
 * the notify list, unlocks L, sleeps and locks L again all in C, so that no
 * exception (KeyboardInterrupt from a signal handler, or from L) can arrive
 * between two of these steps and leave a waiter counted that will never
 * take a notification. */
#include "_binding.h"

PyTypeObject *gosync_py_cond_type; /* set by gosync_py_add_types */

#define COND(op) gosync_py_cond_of(op)

static PyObject *cond_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    return gosync_py_new(type, args, kwds, offsetof(gosync_py_cond, storage), 1);
}

typedef struct {
    gosync_cond *c;
    uint32_t ticket;
} cond_waiter;

static int cond_wait_call(void *w, int64_t deadline_ns)
{
    cond_waiter *waiter = w;
    return gosync_cond_wait(waiter->c, waiter->ticket, deadline_ns);
}

/* L when it is one of gosync's own lock types (the Python layer passes it
 * only for gosync.Mutex, gosync.RWMutex and RLocker themselves, never for a
 * subclass that might override lock or unlock): then Cond unlocks and
 * relocks it through the C core, not through Python calls. */
typedef enum { NATIVE_NONE, NATIVE_MUTEX, NATIVE_RWMUTEX, NATIVE_RLOCKER } native_lock;

static native_lock native_of(PyObject *L)
{
    if (L == Py_None)
        return NATIVE_NONE;
    if (PyObject_TypeCheck(L, gosync_py_mutex_type))
        return NATIVE_MUTEX;
    if (PyObject_TypeCheck(L, gosync_py_rwmutex_type))
        return NATIVE_RWMUTEX;
    if (PyObject_TypeCheck(L, gosync_py_rlocker_type))
        return NATIVE_RLOCKER;
    return NATIVE_NONE;
}

/* Unlocks L: through the core for gosync's types, else by calling unlock().
 * Returns 0, or -1 with the exception (SyncError for a gosync L not held). */
static int cond_unlock(native_lock kind, PyObject *L, PyObject *unlock)
{
    PyObject *r;
    switch (kind) {
    case NATIVE_MUTEX:
        r = gosync_py_mutex_unlock(L);
        break;
    case NATIVE_RWMUTEX:
        r = gosync_py_rwmutex_unlock(L);
        break;
    case NATIVE_RLOCKER:
        r = gosync_py_rwmutex_runlock(((gosync_py_rlocker *)L)->rw);
        break;
    default:
        r = PyObject_CallNoArgs(unlock);
    }
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* Locks a gosync L again with the GIL released, riding out signals: their
 * handlers run only once L is held (Python notes the signal; it stays
 * pending). Returns the core's final status: GOSYNC_OK, or GOSYNC_OVERFLOW
 * or GOSYNC_FAULT, with L not held. */
static int cond_relock_native(native_lock kind, PyObject *L)
{
    for (;;) {
        int rc;
        PyThreadState *saved = PyEval_SaveThread();
        switch (kind) {
        case NATIVE_MUTEX:
            rc = gosync_mutex_lock(gosync_py_mutex_of(L), GOSYNC_NO_DEADLINE);
            break;
        case NATIVE_RWMUTEX:
            rc = gosync_rwmutex_lock(gosync_py_rwmutex_of(L), GOSYNC_NO_DEADLINE);
            break;
        default:
            rc = gosync_rwmutex_rlock(gosync_py_rlocker_rwmutex_of(L), GOSYNC_NO_DEADLINE);
            break;
        }
        PyEval_RestoreThread(saved);
        if (rc != GOSYNC_INTERRUPTED)
            return rc;
    }
}

/* _wait(native, unlock, lock, deadline_ns): join, unlock L, sleep, lock L.
 * native is L itself for gosync's own lock types (see native_of), or None:
 * then unlock() and lock() are called. */
static PyObject *cond_wait(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    GOSYNC_PY_CHECK_OPEN(op);
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "_wait() takes native, unlock, lock and deadline_ns");
        return NULL;
    }
    PyObject *L = args[0];
    native_lock kind = native_of(L);
    int64_t deadline_ns;
    if (gosync_py_deadline(args[3], &deadline_ns) < 0)
        return NULL;
    cond_waiter waiter = {COND(op), 0};
    if (gosync_cond_add(waiter.c, &waiter.ticket) != GOSYNC_OK) {
        PyErr_SetString(PyExc_OverflowError, "gosync: Cond has too many waiters (16383)");
        return NULL;
    }
    if (cond_unlock(kind, L, args[1]) < 0) {
        /* L was not unlocked (not held, say): leave as if never here. */
        gosync_cond_cancel(waiter.c, waiter.ticket);
        return NULL;
    }
    int rc = gosync_py_block(op, cond_wait_call, &waiter, deadline_ns);
    if (rc < 0) /* a signal handler raised: leave, passing on any notification */
        gosync_cond_cancel(waiter.c, waiter.ticket);

    /* Lock L again in every case, as Go's Wait and Python's Condition do.
     * The first exception (from the wait) is kept. */
    PyObject *exc_type, *exc, *tb;
    PyErr_Fetch(&exc_type, &exc, &tb);
    if (kind != NATIVE_NONE) {
        /* The relock is a lock of L as Go's c.L.Lock() is: a wait for it is
         * a block event of L and contention charged to L's unlocker. */
        PyObject *owner = kind == NATIVE_RLOCKER ? ((gosync_py_rlocker *)L)->rw : L;
        gosync_contention *record =
            kind == NATIVE_MUTEX ? &((gosync_py_mutex *)owner)->contention : &((gosync_py_rwmutex *)owner)->contention;
        int64_t timed = gosync_py_contention_enter(record);
        int block_timed = gosync_py_profile_wait_begin();
        int relock = cond_relock_native(kind, L);
        if (timed)
            gosync_contention_leave(record, timed);
        if (block_timed)
            gosync_py_profile_block(owner, relock);
        if (relock != GOSYNC_OK) {
            /* L could not be locked again (too many readers, or the kernel
             * refused to wait): say so, with the wait's exception as its
             * context. */
            gosync_py_wait_result(relock, "gosync: RWMutex has too many readers (65535)");
            if (exc != NULL) {
                PyObject *t2, *e2, *tb2;
                PyErr_Fetch(&t2, &e2, &tb2);
                PyErr_NormalizeException(&t2, &e2, &tb2);
                PyErr_NormalizeException(&exc_type, &exc, &tb);
                PyException_SetContext(e2, exc); /* steals exc */
                Py_XDECREF(exc_type);
                Py_XDECREF(tb);
                PyErr_Restore(t2, e2, tb2);
            }
            return NULL;
        }
        if (exc_type != NULL) {
            /* A signal that came during the relock stays pending: its
             * handler runs as this exception propagates, and what it raises
             * is chained to this one. */
            PyErr_Restore(exc_type, exc, tb);
            return NULL;
        }
        /* L is held: now the handlers of signals that came meanwhile. */
        if (gosync_py_check_signals() < 0)
            return NULL;
        return gosync_py_wait_result(rc, "");
    }
    /* A foreign L: its own lock() may raise (a signal handler, say), and then
     * L is not held, as with threading.Condition; the docstring says so. */
    PyObject *r = PyObject_CallNoArgs(args[2]);
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
    GOSYNC_PY_CHECK_OPEN(op);
    (void)unused;
    gosync_cond_signal(COND(op));
    Py_RETURN_NONE;
}

static PyObject *cond_broadcast(PyObject *op, PyObject *unused)
{
    GOSYNC_PY_CHECK_OPEN(op);
    (void)unused;
    gosync_cond_broadcast(COND(op));
    Py_RETURN_NONE;
}

/* The fields of gosync.cond.CondState. Relaxed reads: a snapshot for tests
 * and repr. */
static PyObject *cond_debug_fields(PyObject *op, PyObject *unused)
{
    GOSYNC_PY_CHECK_OPEN(op);
    (void)unused;
    return Py_BuildValue("(II)", (unsigned int)gosync_cond_waiters(COND(op)),
                         (unsigned int)gosync_cond_pending(COND(op)));
}

static PyMethodDef cond_methods[] = {
    {"_wait", (PyCFunction)(void (*)(void))cond_wait, METH_FASTCALL,
     "_wait($self, native, unlock, lock, deadline_ns, /)\n--\n\nJoin the notify list, unlock L, sleep until notified or the\n"
     "absolute deadline (-1: never), then lock L again. native is L for gosync's\n"
     "own lock types (unlocked and relocked in C, signal handlers deferred until\n"
     "L is held), or None (unlock() and lock() are called). False means it timed out."},
    {"signal", cond_signal, METH_NOARGS,
     "signal($self, /)\n--\n\nSignal wakes the thread that has waited longest on the Cond, if there\n"
     "is any. The caller may, but need not, hold L."},
    {"broadcast", cond_broadcast, METH_NOARGS,
     "broadcast($self, /)\n--\n\nBroadcast wakes all threads waiting on the Cond now; threads that\n"
     "start waiting afterwards are not woken by it. The caller may, but need\nnot, hold L."},
    {"_debug_fields", cond_debug_fields, METH_NOARGS,
     "_debug_fields($self, /)\n--\n\nThe fields of gosync.cond.CondState: waiters, pending."},
    {NULL, NULL, 0, NULL},
};

/* L and the lock's methods are the Python layer's attributes (see
 * gosync/cond.py), kept here because the C type is the public class. */
static PyMemberDef cond_members[] = {
    GOSYNC_PY_WEAKREFS,
    GOSYNC_PY_LABEL,
    {"_L", T_OBJECT_EX, offsetof(gosync_py_cond, L), 0, NULL},
    {"_native", T_OBJECT_EX, offsetof(gosync_py_cond, native), 0, NULL},
    {"_unlock", T_OBJECT_EX, offsetof(gosync_py_cond, unlock), 0, NULL},
    {"_lock", T_OBJECT_EX, offsetof(gosync_py_cond, lock), 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

/* A Cond can be in a cycle through its lock (a lock object that refers to
 * the Cond), hence the collector's support. */
static int cond_traverse(PyObject *op, visitproc visit, void *arg)
{
    gosync_py_cond *c = (gosync_py_cond *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(c->L);
    Py_VISIT(c->native);
    Py_VISIT(c->unlock);
    Py_VISIT(c->lock);
    return 0;
}

static int cond_clear(PyObject *op)
{
    gosync_py_cond *c = (gosync_py_cond *)op;
    Py_CLEAR(c->L);
    Py_CLEAR(c->native);
    Py_CLEAR(c->unlock);
    Py_CLEAR(c->lock);
    return 0;
}

/* The dealloc also drops the reference to a gosync.shared mapping, if any,
 * and clears the weak references. */
static void cond_dealloc(PyObject *op)
{
    gosync_py_object_gc_dealloc(op, cond_clear);
}

/* The docstring is gosync/cond.py's. The signature is its __init__'s, also
 * here for CPython 3.9's inspect, which stops at a C __new__. */
static PyType_Slot cond_slots[] = {
    {Py_tp_dealloc, cond_dealloc},
    {Py_tp_traverse, cond_traverse},
    {Py_tp_clear, cond_clear},
    {Py_tp_new, cond_new},
    {Py_tp_doc, "Cond(L, *, name=None)\n--\n\nCond implements a condition variable."},
    {Py_tp_methods, cond_methods},
    {Py_tp_members, cond_members},
    {0, NULL},
};

PyType_Spec gosync_py_cond_spec =
    GOSYNC_PY_PUBLIC_SPEC("gosync.cond.Cond", sizeof(gosync_py_cond), Py_TPFLAGS_HAVE_GC, cond_slots);
