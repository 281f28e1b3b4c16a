/* Binding of the channel: the C type gosync._gosync.ChanBase and the
 * module function _select.
 *
 * The ring's slots are the binding's: an array of `cap` tokens, each 0 or an
 * owned reference to a Python object, allocated with the object. The core
 * (csrc/chan.h) only moves tokens between a caller, the slots and the nodes
 * of parked waiters, under the channel's lock and without the GIL: moving a
 * reference needs no refcount change. A send takes a new reference to its
 * value first; that reference goes to the channel or to a receiver, or is
 * dropped here if the send did not happen (timeout, signal, closed). A
 * receive gets the reference that was sent. So a value is neither lost nor
 * delivered twice whatever ends the call.
 *
 * Every operation first tries once with the GIL held and without waiting for
 * the channel's lock (GOSYNC_CHAN_TRYLOCK): a ready case, or a failing
 * non-blocking one, costs no GIL switch. Only then does it release the GIL
 * (gosync_py_block), to wait for the lock or for a partner.
 */
#include "_binding.h"

#include "chan.h"

PyTypeObject *gosync_py_chan_type; /* set by gosync_py_add_types */

static inline gosync_py_chan *CH(PyObject *op)
{
    return (gosync_py_chan *)op;
}

static inline uint64_t token_of(PyObject *v)
{
    return (uint64_t)(uintptr_t)v;
}

static inline PyObject *object_of(uint64_t token)
{
    return (PyObject *)(uintptr_t)token;
}

static PyObject *chan_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"capacity", "name", NULL};
    PyObject *capacity = NULL, *name = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O$O:Chan", kwlist, &capacity, &name))
        return NULL;
    unsigned long long cap = 0;
    if (capacity != NULL) {
        if (!PyLong_Check(capacity) || PyBool_Check(capacity)) {
            PyErr_Format(PyExc_TypeError, "Chan capacity must be an int, not %.100s",
                         Py_TYPE(capacity)->tp_name);
            return NULL;
        }
        int overflow;
        long long c = PyLong_AsLongLongAndOverflow(capacity, &overflow);
        if (c == -1 && PyErr_Occurred())
            return NULL;
        if (overflow != 0 || c < 0 || (unsigned long long)c > GOSYNC_CHAN_MAX_CAP) {
            PyErr_SetString(PyExc_ValueError, "makechan: size out of range");
            return NULL;
        }
        cap = (unsigned long long)c;
    }
    PyObject *label = gosync_py_profile_label(type, name);
    if (label == NULL)
        return NULL;
    if (label == Py_None)
        Py_CLEAR(label);
    uint64_t *ring = NULL;
    if (cap > 0) {
        ring = PyMem_Calloc((size_t)cap, sizeof *ring);
        if (ring == NULL) {
            Py_XDECREF(label);
            return PyErr_NoMemory();
        }
    }
    PyObject *self = type->tp_alloc(type, 0);
    if (self == NULL) {
        Py_XDECREF(label);
        PyMem_Free(ring);
        return NULL;
    }
    CH(self)->head.state = &CH(self)->storage;
    CH(self)->head.label = label;
    CH(self)->ring = ring;
    gosync_chan_init(&CH(self)->storage, (uint32_t)cap);
    return self;
}

/* ---- The garbage collector ------------------------------------------------
 *
 * The values buffered in the ring are references the channel owns, so a
 * cycle through them (a value that refers to its own channel) is garbage
 * only the collector can find. The collector runs with the GIL held, while
 * other threads may be moving tokens in and out of the ring without it: the
 * traversal reads the ring under the channel's lock (gosync_chan_visit),
 * which no holder keeps while waiting for the GIL, so taking it with the
 * GIL held cannot deadlock. The ring is not visited while an operation is
 * in its GIL-released part (see chan_traverse). Blocked senders' values are
 * their own references, not the channel's, and are not visited. */

typedef struct {
    visitproc visit;
    void *arg;
} chan_visit_arg;

static int visit_value(uint64_t token, void *p)
{
    chan_visit_arg *a = p;
    return a->visit(object_of(token), a->arg);
}

static int chan_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op)); /* a heap type's instances own a reference to it */
    /* A collection traverses each object more than once (subtract_refs,
     * then move_unreachable) and needs the same references each time. While
     * an operation runs without the GIL it may take a token out of the ring
     * between two traversals: then the ring is not visited at all (its values
     * count as referenced from outside, and the channel is reachable from
     * that operation's thread anyway). unlocked_ops changes only with the
     * GIL held, so it is the same in every traversal of one collection. */
    if (CH(op)->ring == NULL || CH(op)->unlocked_ops != 0)
        return 0;
    chan_visit_arg a = {visit, arg};
    return gosync_chan_visit(&CH(op)->storage, CH(op)->ring, visit_value, &a);
}

/* Called only on a channel the collector found unreachable, so no thread is
 * inside an operation on it. Takes out the values buffered now, by
 * non-blocking receives, and drops them; at most that many, in case
 * dropping one runs code that sends again. */
static int chan_clear(PyObject *op)
{
    if (CH(op)->ring == NULL)
        return 0;
    for (uint32_t n = gosync_chan_len(&CH(op)->storage); n > 0; n--) {
        uint64_t token;
        uint32_t ok;
        if (gosync_chan_recv(&CH(op)->storage, CH(op)->ring, &token, &ok, 0, GOSYNC_NO_DEADLINE) != GOSYNC_OK ||
            !ok)
            break;
        Py_DECREF(object_of(token));
    }
    return 0;
}

/* Nobody can be inside an operation: each holds a reference. The values
 * still buffered are dropped, oldest first. */
static void chan_dealloc(PyObject *op)
{
    PyTypeObject *type = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    GOSYNC_PY_TRASHCAN_BEGIN(op, chan_dealloc)
    if (CH(op)->head.weakreflist != NULL)
        PyObject_ClearWeakRefs(op);
    gosync_chan *c = &CH(op)->storage;
    uint64_t *ring = CH(op)->ring;
    if (ring != NULL) {
        for (uint32_t i = 0, n = gosync_chan_len(c); i < n; i++) {
            uint32_t x = (uint32_t)(((uint64_t)c->recvx + i) % c->cap);
            Py_XDECREF(object_of(ring[x]));
        }
        PyMem_Free(ring);
    }
    Py_CLEAR(CH(op)->head.label);
    type->tp_free(op);
    Py_DECREF(type);
    GOSYNC_PY_TRASHCAN_END
}

/* ---- Timeouts ------------------------------------------------------------ */

/* The deadline for a timeout argument: NO_DEADLINE for None or absent, else
 * gosync._timeout.deadline_ns(timeout), which validates it as for every
 * primitive. Returns 0, or -1 with its exception. */
static int deadline_of(PyObject *timeout, int64_t *deadline_ns)
{
    if (timeout == NULL || timeout == Py_None) {
        *deadline_ns = GOSYNC_NO_DEADLINE;
        return 0;
    }
    /* The common timeouts are converted here, as deadline_ns would: a call
     * of Python code would be a point where the GIL can change hands. */
    double seconds = -1;
    if (PyFloat_CheckExact(timeout)) {
        seconds = PyFloat_AS_DOUBLE(timeout);
    } else if (PyLong_CheckExact(timeout)) {
        int overflow;
        long long t = PyLong_AsLongLongAndOverflow(timeout, &overflow);
        if (!overflow && t >= 0 && t <= 1000000000LL)
            seconds = (double)t;
    }
    if (seconds >= 0 && seconds <= 1e9) { /* not NaN, and far below TIMEOUT_MAX */
        *deadline_ns = gosync_now_ns() + (int64_t)(seconds * 1e9);
        return 0;
    }
    /* Anything else (errors included) as every primitive does it. */
    PyObject *mod = PyImport_ImportModule("gosync._timeout");
    if (mod == NULL)
        return -1;
    PyObject *d = PyObject_CallMethod(mod, "deadline_ns", "O", timeout);
    Py_DECREF(mod);
    if (d == NULL)
        return -1;
    int rc = gosync_py_deadline(d, deadline_ns);
    Py_DECREF(d);
    return rc;
}

/* Parses (args..., timeout=None) for a METH_FASTCALL|METH_KEYWORDS method
 * with `npos` leading positional arguments. */
static int parse_timeout(const char *name, PyObject *const *args, Py_ssize_t nargs,
                         PyObject *kwnames, Py_ssize_t npos, PyObject **timeout)
{
    *timeout = NULL;
    Py_ssize_t nkw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    if (nargs < npos || nargs > npos + 1) {
        PyErr_Format(PyExc_TypeError, "Chan.%s() takes %zd positional argument%s (%zd given)", name,
                     npos + 1, npos == 0 ? "" : "s", nargs);
        return -1;
    }
    if (nargs == npos + 1)
        *timeout = args[npos];
    for (Py_ssize_t i = 0; i < nkw; i++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, i);
        if (!PyUnicode_Check(key) || !PyUnicode_CompareWithASCIIString(key, "timeout") == 0 || *timeout != NULL) {
            PyErr_Format(PyExc_TypeError, "Chan.%s() got an unexpected keyword argument %R", name,
                         key);
            return -1;
        }
        *timeout = args[nargs + i];
    }
    return 0;
}

/* ---- Send and receive ---------------------------------------------------- */

typedef struct {
    gosync_chan_case *cases;
    uint32_t n;
    uint32_t *scratch;
    uint32_t chosen;
    unsigned flags;
} select_call;

static gosync_py_chan *owner_of(gosync_chan *c)
{
    return (gosync_py_chan *)((char *)c - offsetof(gosync_py_chan, storage));
}

static int select_call_fn(void *p, int64_t deadline_ns)
{
    select_call *sc = p;
    return gosync_chan_select(sc->cases, sc->n, sc->scratch, sc->flags, deadline_ns, &sc->chosen);
}

/* Runs a select: once with the GIL and no waiting for a lock, then, if
 * needed, with the GIL released. Returns the core's status, or -1 with a
 * signal handler's exception. */
static int run_select(select_call *sc, bool block, int64_t deadline_ns)
{
    sc->flags = GOSYNC_CHAN_TRYLOCK;
    int rc = select_call_fn(sc, deadline_ns);
    if (rc != GOSYNC_CHAN_BUSY && (rc != GOSYNC_CHAN_NOTREADY || !block))
        return rc;
    /* Nothing ready and the deadline already passed (timeout=0): that is
     * the answer, without giving the GIL away. */
    if (rc == GOSYNC_CHAN_NOTREADY && deadline_ns != GOSYNC_NO_DEADLINE && gosync_now_ns() >= deadline_ns)
        return GOSYNC_TIMEDOUT;
    sc->flags = block ? GOSYNC_CHAN_BLOCK : 0;
    for (uint32_t i = 0; i < sc->n; i++)
        if (sc->cases[i].c != NULL)
            owner_of(sc->cases[i].c)->unlocked_ops++;
    /* The block profile names the channel of a send or receive; a select
     * is named by its call site alone (owner None), as in Go. */
    PyObject *owner = sc->n == 1 && sc->cases[0].c != NULL ? (PyObject *)owner_of(sc->cases[0].c) : NULL;
    rc = gosync_py_block(owner, select_call_fn, sc, deadline_ns);
    for (uint32_t i = 0; i < sc->n; i++)
        if (sc->cases[i].c != NULL)
            owner_of(sc->cases[i].c)->unlocked_ops--;
    return rc;
}

/* The exception for a status that is none of the expected ones. */
static PyObject *chan_error(int rc)
{
    switch (rc) {
    case GOSYNC_CHAN_CLOSED:
        return gosync_py_misuse("send on closed channel");
    case GOSYNC_OVERFLOW:
        PyErr_SetString(PyExc_OverflowError, "gosync: too many blocked channel operations (65535)");
        return NULL;
    default:
        return gosync_py_wait_result(rc, "");
    }
}

static PyObject *chan_send(PyObject *op, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *timeout;
    if (parse_timeout("send", args, nargs, kwnames, 1, &timeout) < 0)
        return NULL;
    int64_t deadline_ns;
    if (deadline_of(timeout, &deadline_ns) < 0)
        return NULL;
    PyObject *v = args[0];
    Py_INCREF(v);
    gosync_chan_case cs = {&CH(op)->storage, CH(op)->ring, GOSYNC_CHAN_SEND, 0, token_of(v)};
    uint32_t scratch[3];
    select_call sc = {&cs, 1, scratch, 0, 0};
    int rc = run_select(&sc, true, deadline_ns);
    if (rc == GOSYNC_OK)
        Py_RETURN_TRUE; /* the reference is the channel's or a receiver's */
    Py_DECREF(v);
    if (rc == GOSYNC_TIMEDOUT)
        Py_RETURN_FALSE;
    return rc < 0 ? NULL : chan_error(rc);
}

/* Receives into *value (a new reference; None once closed and drained) and
 * *ok. Returns 0, 1 on timeout, or -1 with an exception. */
static int chan_receive(PyObject *op, PyObject *timeout, PyObject **value, bool *ok)
{
    int64_t deadline_ns;
    if (deadline_of(timeout, &deadline_ns) < 0)
        return -1;
    gosync_chan_case cs = {&CH(op)->storage, CH(op)->ring, GOSYNC_CHAN_RECV, 0, 0};
    uint32_t scratch[3];
    select_call sc = {&cs, 1, scratch, 0, 0};
    int rc = run_select(&sc, true, deadline_ns);
    if (rc == GOSYNC_TIMEDOUT)
        return 1;
    if (rc != GOSYNC_OK) {
        if (rc >= 0)
            chan_error(rc);
        return -1;
    }
    *ok = cs.ok != 0;
    if (cs.ok) {
        *value = object_of(cs.elem); /* the sender's reference */
    } else {
        *value = Py_None;
        Py_INCREF(Py_None);
    }
    return 0;
}

static PyObject *timeout_error(void)
{
    PyErr_SetString(PyExc_TimeoutError, "gosync: Chan receive timed out");
    return NULL;
}

static PyObject *chan_recv(PyObject *op, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *timeout, *value;
    bool ok;
    if (parse_timeout("recv", args, nargs, kwnames, 0, &timeout) < 0)
        return NULL;
    int rc = chan_receive(op, timeout, &value, &ok);
    if (rc != 0)
        return rc > 0 ? timeout_error() : NULL;
    return value;
}

static PyObject *chan_recv_ok(PyObject *op, PyObject *const *args, Py_ssize_t nargs,
                              PyObject *kwnames)
{
    PyObject *timeout, *value;
    bool ok;
    if (parse_timeout("recv_ok", args, nargs, kwnames, 0, &timeout) < 0)
        return NULL;
    int rc = chan_receive(op, timeout, &value, &ok);
    if (rc != 0)
        return rc > 0 ? timeout_error() : NULL;
    PyObject *r = PyTuple_New(2);
    if (r == NULL) {
        Py_DECREF(value);
        return NULL;
    }
    PyTuple_SET_ITEM(r, 0, value);
    PyTuple_SET_ITEM(r, 1, PyBool_FromLong(ok));
    return r;
}

/* __next__: the next value, until closed and drained (StopIteration). */
static PyObject *chan_next(PyObject *op)
{
    PyObject *value;
    bool ok;
    if (chan_receive(op, NULL, &value, &ok) != 0)
        return NULL;
    if (!ok) {
        Py_DECREF(value);
        return NULL; /* no exception set: StopIteration */
    }
    return value;
}

static PyObject *chan_close(PyObject *op, PyObject *unused)
{
    (void)unused;
    int rc;
    GOSYNC_WITHOUT_GIL(rc, gosync_chan_close(&CH(op)->storage));
    if (rc == GOSYNC_MISUSE)
        return gosync_py_misuse("close of closed channel");
    Py_RETURN_NONE;
}

static Py_ssize_t chan_len(PyObject *op)
{
    return (Py_ssize_t)gosync_chan_len(&CH(op)->storage);
}

static PyObject *chan_cap(PyObject *op, void *unused)
{
    (void)unused;
    return PyLong_FromUnsignedLong(CH(op)->storage.cap);
}

/* The fields of gosync.chan.ChanState: len, cap, closed, receivers and
 * senders queued (stale select nodes included), nodes in use process-wide. */
static PyObject *chan_debug_fields(PyObject *op, PyObject *unused)
{
    (void)unused;
    gosync_chan *c = &CH(op)->storage;
    uint32_t receivers, senders;
    GOSYNC_WITHOUT_GIL(receivers, (gosync_chan_waiters(c, &receivers, &senders), receivers));
    return Py_BuildValue("(IIOIII)", gosync_chan_len(c), c->cap,
                         gosync_chan_is_closed(c) ? Py_True : Py_False, receivers, senders,
                         gosync_chan_nodes_in_use());
}

/* ---- Select ---------------------------------------------------------------- */

/* The case kinds select accepts. */
#if defined(PYPY_VERSION)
/* PyPy's cpyext hands out its own bound-method objects, not PyCFunctions:
 * m is ch.<name> if binding the Chan type's own <name> to m.__self__
 * gives an equal method. An error in the lookups reads as "not a case". */
static bool bound_to_chan_by_name(PyObject *m, const char *name, PyObject **chan)
{
    PyObject *self = PyObject_GetAttrString(m, "__self__");
    if (self == NULL) {
        PyErr_Clear();
        return false;
    }
    bool same = false;
    if (PyObject_TypeCheck(self, gosync_py_chan_type)) {
        PyObject *descr = PyObject_GetAttrString((PyObject *)gosync_py_chan_type, name);
        PyObject *bound = descr ? PyObject_CallMethod(descr, "__get__", "O", self) : NULL;
        /* Same type first: an object of another type with an __eq__ that
         * says yes (and a __self__ of its own making) is not a case. */
        int eq = bound == NULL ? -1
                 : Py_TYPE(bound) != Py_TYPE(m) ? 0
                                                 : PyObject_RichCompareBool(bound, m, Py_EQ);
        Py_XDECREF(bound);
        Py_XDECREF(descr);
        if (eq < 0)
            PyErr_Clear();
        same = eq == 1;
    }
    Py_DECREF(self); /* the method still holds self */
    if (same)
        *chan = self;
    return same;
}
#endif

static bool bound_to_chan(PyObject *m, PyCFunction fn, PyObject **chan)
{
#if defined(PYPY_VERSION)
    return bound_to_chan_by_name(m, fn == (PyCFunction)(void (*)(void))chan_recv ? "recv" : "send", chan);
#else
    if (!PyCFunction_Check(m) || PyCFunction_GET_FUNCTION(m) != fn)
        return false;
    PyObject *self = PyCFunction_GET_SELF(m);
    /* gosync.Chan is this type itself (gosync/_public.py), so the check's
     * exact-type test answers without walking an MRO. */
    if (self == NULL || !PyObject_TypeCheck(self, gosync_py_chan_type))
        return false;
    *chan = self;
    return true;
#endif
}

/* Fills cases[i] from the Python case; a send case's value gets a new
 * reference. Returns 0, or -1 with TypeError. */
static int parse_case(PyObject *py, Py_ssize_t i, gosync_chan_case *cs)
{
    PyObject *chan;
    cs->c = NULL;
    cs->ring = NULL;
    cs->ok = 0;
    cs->elem = 0;
    if (py == Py_None)
        return 0;
    if (bound_to_chan(py, (PyCFunction)(void (*)(void))chan_recv, &chan)) {
        cs->dir = GOSYNC_CHAN_RECV;
    } else if (PyTuple_Check(py) && PyTuple_GET_SIZE(py) == 2 &&
               bound_to_chan(PyTuple_GET_ITEM(py, 0), (PyCFunction)(void (*)(void))chan_send,
                             &chan)) {
        cs->dir = GOSYNC_CHAN_SEND;
        PyObject *v = PyTuple_GET_ITEM(py, 1);
        Py_INCREF(v);
        cs->elem = token_of(v);
    } else {
        PyErr_Format(PyExc_TypeError,
                     "select case %zd must be ch.recv, (ch.send, value) or None, not %.100s", i,
                     Py_TYPE(py)->tp_name);
        return -1;
    }
    cs->c = &CH(chan)->storage;
    cs->ring = CH(chan)->ring;
    return 0;
}

/* The common case, ch.recv of a gosync.Chan itself, recognised in a few
 * loads (the same tests as bound_to_chan, with the exact types first);
 * false sends the case to parse_case, which decides everything else. */
static inline bool recv_case(PyObject *py, gosync_chan_case *cs)
{
#if defined(PYPY_VERSION)
    (void)py;
    (void)cs;
    return false;
#else
    if (!Py_IS_TYPE(py, &PyCFunction_Type) ||
        PyCFunction_GET_FUNCTION(py) != (PyCFunction)(void (*)(void))chan_recv)
        return false;
    PyObject *self = PyCFunction_GET_SELF(py);
    if (self == NULL || !Py_IS_TYPE(self, gosync_py_chan_type))
        return false;
    cs->c = &CH(self)->storage;
    cs->ring = CH(self)->ring;
    cs->dir = GOSYNC_CHAN_RECV;
    cs->ok = 0;
    cs->elem = 0;
    return true;
#endif
}

/* Drops the references of the send cases' values, except case `keep`'s. */
static void release_sends(gosync_chan_case *cases, Py_ssize_t n, Py_ssize_t keep)
{
    for (Py_ssize_t i = 0; i < n; i++)
        if (cases[i].c != NULL && cases[i].dir == GOSYNC_CHAN_SEND && i != keep)
            Py_DECREF(object_of(cases[i].elem));
}

#define SELECT_STACK 8

/* (index, value, ok): a new tuple (Py_BuildValue parses its format at every
 * call, which is a third of a select's cost). value is a reference handed
 * over: a receive's value goes into the tuple without an incref and a
 * decref around it.
 *
 * The tuple stays tracked by the collector even when no item has GC
 * support: untracking it here (CPython's _PyTuple_MaybeUntrack would, at
 * the next collection) measured 20 instructions more per select and no
 * collection fewer, as a size-3 tuple comes from and returns to the tuple
 * free list without counting as an allocation. */
static PyObject *select_result(Py_ssize_t index, PyObject *value, bool ok)
{
    PyObject *i = PyLong_FromSsize_t(index);
    PyObject *r = i == NULL ? NULL : PyTuple_New(3);
    if (r == NULL) {
        Py_XDECREF(i);
        Py_DECREF(value);
        return NULL;
    }
    PyObject *b = ok ? Py_True : Py_False;
    Py_INCREF(b);
    PyTuple_SET_ITEM(r, 0, i);
    PyTuple_SET_ITEM(r, 1, value);
    PyTuple_SET_ITEM(r, 2, b);
    return r;
}

/* select(*cases, block=True, timeout=None) -> (index, value, ok) */
static PyObject *chan_select(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                             PyObject *kwnames)
{
    (void)module;
    int block = 1;
    PyObject *timeout = NULL;
    Py_ssize_t nkw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    for (Py_ssize_t i = 0; i < nkw; i++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, i);
        PyObject *val = args[nargs + i];
        if (PyUnicode_CompareWithASCIIString(key, "block") == 0) {
            block = PyObject_IsTrue(val);
            if (block < 0)
                return NULL;
        } else if (PyUnicode_CompareWithASCIIString(key, "timeout") == 0) {
            timeout = val;
        } else {
            PyErr_Format(PyExc_TypeError, "select() got an unexpected keyword argument %R", key);
            return NULL;
        }
    }
    if (nargs > 0xffff) {
        PyErr_SetString(PyExc_ValueError, "select: too many cases (65535 at most)");
        return NULL;
    }
    int64_t deadline_ns = GOSYNC_NO_DEADLINE;
    if (timeout != NULL && deadline_of(timeout, &deadline_ns) < 0)
        return NULL;

    gosync_chan_case stack_cases[SELECT_STACK];
    uint32_t stack_scratch[3 * SELECT_STACK];
    gosync_chan_case *cases = stack_cases;
    uint32_t *scratch = stack_scratch;
    if (nargs > SELECT_STACK) {
        cases = PyMem_Malloc((size_t)nargs * sizeof *cases);
        scratch = PyMem_Malloc((size_t)nargs * 3 * sizeof *scratch);
        if (cases == NULL || scratch == NULL) {
            PyMem_Free(cases);
            PyMem_Free(scratch);
            return PyErr_NoMemory();
        }
    }
    PyObject *result = NULL;
    Py_ssize_t parsed = 0;
    bool sends = false; /* a send case holds a reference to release */
    for (; parsed < nargs; parsed++) {
        if (recv_case(args[parsed], &cases[parsed]))
            continue;
        if (parse_case(args[parsed], parsed, &cases[parsed]) < 0)
            goto out;
        sends |= cases[parsed].c != NULL && cases[parsed].dir == GOSYNC_CHAN_SEND;
    }

    select_call sc = {cases, (uint32_t)nargs, scratch, 0, 0};
    int rc = run_select(&sc, block != 0, deadline_ns);
    if (rc == GOSYNC_OK) {
        gosync_chan_case *won = &cases[sc.chosen];
        if (won->dir == GOSYNC_CHAN_SEND) {
            release_sends(cases, nargs, sc.chosen);
            sends = false; /* released */
            Py_INCREF(Py_None);
            result = select_result(sc.chosen, Py_None, true);
        } else if (won->ok) {
            result = select_result(sc.chosen, object_of(won->elem), true);
        } else {
            Py_INCREF(Py_None);
            result = select_result(sc.chosen, Py_None, false);
        }
    } else if (rc == GOSYNC_CHAN_NOTREADY || rc == GOSYNC_TIMEDOUT) {
        Py_INCREF(Py_None);
        result = select_result(-1, Py_None, false);
    } else if (rc >= 0) {
        chan_error(rc);
    }
out:
    if (sends)
        release_sends(cases, parsed, -1);
    if (cases != stack_cases) {
        PyMem_Free(cases);
        PyMem_Free(scratch);
    }
    return result;
}

PyMethodDef gosync_py_chan_functions[] = {
    {"select", (PyCFunction)(void (*)(void))chan_select, METH_FASTCALL | METH_KEYWORDS,
     "select(*cases, block=True, timeout=None)\n--\n\n"
     "Select performs one of the channel operations given as cases and returns\n"
     "(index, value, ok).\n\n"
     "A case is ch.recv (receive from ch), (ch.send, v) (send v on ch), or None (a\n"
     "nil channel: never ready). If several cases are ready, one is chosen uniformly\n"
     "at random. A receive returns (index, value, True), or (index, None, False) when\n"
     "its channel is closed and drained; a send returns (index, None, True), and\n"
     "raises SyncError(\"send on closed channel\") when chosen on a closed channel.\n\n"
     "With block=False (Go's default case), or when the timeout in seconds passes, it\n"
     "returns (-1, None, False) having done nothing. With no case and no timeout it\n"
     "waits for ever, as Go's select {} does; Ctrl-C interrupts it. Anything else as\n"
     "a case raises TypeError before anything is done."},
    {NULL, NULL, 0, NULL},
};

static PyMethodDef chan_methods[] = {
    {"send", (PyCFunction)(void (*)(void))chan_send, METH_FASTCALL | METH_KEYWORDS,
     "send($self, v, /, timeout=None)\n--\n\nSend sends v on the channel, waiting until a receiver takes it (unbuffered)\n"
     "or there is room in the buffer, and returns True. With a timeout in seconds it\n"
     "gives up after that long and returns False; v was then not sent. Sending on a\n"
     "closed channel raises SyncError(\"send on closed channel\"), also for a sender\n"
     "blocked when the channel is closed."},
    {"recv", (PyCFunction)(void (*)(void))chan_recv, METH_FASTCALL | METH_KEYWORDS,
     "recv($self, /, timeout=None)\n--\n\nRecv receives a value, waiting until one is sent. Once the channel is closed\n"
     "and drained it returns None at once. With a timeout in seconds it raises\n"
     "TimeoutError after that long, having received nothing."},
    {"recv_ok", (PyCFunction)(void (*)(void))chan_recv_ok, METH_FASTCALL | METH_KEYWORDS,
     "recv_ok($self, /, timeout=None)\n--\n\nRecvOK is recv that also says whether a value was sent: ok is False (and\n"
     "value None) once the channel is closed and drained. Timeouts as recv."},
    {"close", chan_close, METH_NOARGS,
     "close($self, /)\n--\n\nClose closes the channel: receivers drain the buffered values, then get None\n"
     "(ok False); blocked and later senders raise SyncError(\"send on closed channel\").\n"
     "Closing a closed channel raises SyncError(\"close of closed channel\")."},
    {"_debug_fields", chan_debug_fields, METH_NOARGS,
     "_debug_fields($self, /)\n--\n\nThe fields of gosync.chan.ChanState."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef chan_getset[] = {
    {"cap", chan_cap, NULL, "The capacity of the channel's buffer (0: unbuffered).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef chan_members[] = {
    GOSYNC_PY_WEAKREFS,
    GOSYNC_PY_LABEL,
    {NULL, 0, 0, 0, NULL},
};

/* The docstring after the signature is gosync/chan.py's. */
static PyType_Slot chan_slots[] = {
    {Py_tp_new, chan_new},
    {Py_tp_dealloc, chan_dealloc},
    {Py_tp_traverse, chan_traverse},
    {Py_tp_clear, chan_clear},
    {Py_tp_doc, "Chan(capacity=0, *, name=None)\n--\n\nA Chan is Go's channel: a FIFO of values between threads."},
    {Py_tp_methods, chan_methods},
    {Py_tp_members, chan_members},
    {Py_tp_getset, chan_getset},
    {Py_tp_iternext, chan_next},
    {Py_tp_iter, PyObject_SelfIter},
    {Py_sq_length, chan_len},
    {0, NULL},
};

PyType_Spec gosync_py_chan_spec =
    GOSYNC_PY_PUBLIC_SPEC("gosync.chan.Chan", sizeof(gosync_py_chan), Py_TPFLAGS_HAVE_GC, chan_slots);
