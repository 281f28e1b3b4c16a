/* Binding of gosync.atomic.
 *
 * Int32, Uint32, Int64, Uint64 and Bool are C types here: gosync._gosync's
 * Int32Base and friends, each holding its word inline and calling the typed
 * atomics of csrc/atomic.c. A cffi call of two arguments goes through
 * METH_VARARGS and a tuple (about a third of a trivial call), and a Python
 * method around it adds a frame (60-70 ns on the project's VM); a C method
 * with METH_O or METH_FASTCALL has neither. The Python classes in
 * gosync/atomic.py subclass these types for the constructor, repr and the
 * no-copy rule. The GIL is kept throughout: every
 * operation is one hardware atomic instruction.
 *
 * Arguments
 * ---------
 * A value given to store, swap or compare_and_swap must lie in the type's
 * range. The operand of add, and_ and or_ is a bit pattern of the type's
 * width w, taken modulo 2^w, so it may be written signed, unsigned or as
 * ~mask: anything from -2^w to 2^w - 1 (Uint32.add(-1) subtracts one, as
 * Go's AddUint32(&x, ^uint32(0)) does, and and_(~flag) clears a flag). Out of
 * range is OverflowError, and an object without __index__ is TypeError.
 * Every argument is converted before the word is touched, so an error
 * changes nothing.
 *
 * Each word is reached through a pointer, as the lock types' state is
 * (_binding.h): into the object itself, or into a gosync.shared arena's
 * mapping, whose closing every method checks (GOSYNC_PY_CHECK_OPEN).
 */
#include "_binding.h"

#include <limits.h>

/* ---- Integer arguments -------------------------------------------------- */

typedef struct {
    const char *name; /* the Python class: "Int32" */
    int bits;         /* 32 or 64 */
    int is_signed;
    const char *value_range; /* for messages */
    const char *bits_range;
} atomic_kind;

static const atomic_kind kind_int32 = {"Int32", 32, 1, "-2147483648 to 2147483647",
                                       "-4294967296 to 4294967295"};
static const atomic_kind kind_uint32 = {"Uint32", 32, 0, "0 to 4294967295",
                                        "-4294967296 to 4294967295"};
static const atomic_kind kind_int64 = {"Int64", 64, 1,
                                       "-9223372036854775808 to 9223372036854775807",
                                       "-18446744073709551616 to 18446744073709551615"};
static const atomic_kind kind_uint64 = {"Uint64", 64, 0, "0 to 18446744073709551615",
                                        "-18446744073709551616 to 18446744073709551615"};

enum {
    ARG_VALUE, /* within the type's own range */
    ARG_BITS,  /* a bit pattern of the type's width w: -2^w .. 2^w - 1, taken
                  modulo 2^w, so that it may be written signed, unsigned, or
                  as ~mask of an unsigned mask */
};

/* The range check of a 64-bit argument beyond a long long: cold, so done on
 * Python ints. Returns 1 if lo <= index <= hi, 0 if not, -1 on error. */
static int atomic_in_range(PyObject *index, const char *lo, const char *hi)
{
    PyObject *lo_obj = PyLong_FromString(lo, NULL, 10);
    PyObject *hi_obj = PyLong_FromString(hi, NULL, 10);
    int rc = -1;
    if (lo_obj != NULL && hi_obj != NULL) {
        rc = PyObject_RichCompareBool(lo_obj, index, Py_LE);
        if (rc == 1)
            rc = PyObject_RichCompareBool(index, hi_obj, Py_LE);
    }
    Py_XDECREF(lo_obj);
    Py_XDECREF(hi_obj);
    return rc;
}

/* Converts arg to the bit pattern of the integer it denotes, reduced modulo
 * 2^64 (the caller truncates to its width), after checking the range.
 * Returns 0, or -1 with TypeError or OverflowError set. */
static int atomic_arg(PyObject *arg, const atomic_kind *k, int range, const char *method,
                      uint64_t *out)
{
    PyObject *index;
    if (PyLong_Check(arg)) {
        Py_INCREF(arg);
        index = arg;
    } else if (PyIndex_Check(arg)) {
        index = PyNumber_Index(arg);
        if (index == NULL)
            return -1;
    } else {
        PyErr_Format(PyExc_TypeError, "%s.%s() argument must be an int, not %.200s", k->name,
                     method, Py_TYPE(arg)->tp_name);
        return -1;
    }
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(index, &overflow);
    if (v == -1 && PyErr_Occurred()) {
        Py_DECREF(index);
        return -1;
    }
    int ok;
    if (overflow == 0) {
        /* Fits in a long long: the common case. */
        long long lo, hi;
        if (k->bits == 64) {
            /* Any long long is a 64-bit pattern, and a signed value. */
            lo = range == ARG_BITS || k->is_signed ? LLONG_MIN : 0;
            hi = LLONG_MAX;
        } else if (range == ARG_BITS) {
            lo = -(1LL << 32);
            hi = (1LL << 32) - 1;
        } else {
            lo = k->is_signed ? INT32_MIN : 0;
            hi = k->is_signed ? INT32_MAX : (long long)UINT32_MAX;
        }
        ok = lo <= v && v <= hi;
        *out = (uint64_t)v;
    } else if (k->bits == 64 && (range == ARG_BITS || (!k->is_signed && overflow > 0))) {
        /* Beyond a long long: a Uint64 value, or a 64-bit pattern. */
        if (range == ARG_BITS)
            ok = atomic_in_range(index, "-18446744073709551616", "18446744073709551615");
        else
            ok = atomic_in_range(index, "0", "18446744073709551615");
        *out = PyLong_AsUnsignedLongLongMask(index);
        if (ok < 0 || (*out == (uint64_t)-1 && PyErr_Occurred())) {
            Py_DECREF(index);
            return -1;
        }
    } else {
        ok = 0;
    }
    Py_DECREF(index);
    if (!ok) {
        if (range == ARG_BITS)
            PyErr_Format(PyExc_OverflowError,
                         "%s.%s() argument out of range: a %d-bit pattern is from %s", k->name,
                         method, k->bits, k->bits_range);
        else
            PyErr_Format(PyExc_OverflowError, "%s.%s() argument out of range: it must be from %s",
                         k->name, method, k->value_range);
        return -1;
    }
    return 0;
}

/* ---- Python's number protocols ------------------------------------------ */

/* An atomic takes part in bool(), int(), operator.index() and comparisons as
 * the value it holds at that instant: each reads the word once. Comparing
 * is delegated to that value, so an atomic compares with ints, floats,
 * Fractions, ... as an int (or a bool) does, and with another atomic by
 * value. The types stay unhashable (tp_hash is PyObject_HashNotImplemented):
 * the value changes, so no hash could agree with ==. */
static PyObject *atomic_richcompare(PyObject *value, PyObject *other, int op)
{
    if (value == NULL)
        return NULL;
    PyObject *result = PyObject_RichCompare(value, other, op);
    Py_DECREF(value);
    return result;
}

/* The in-place operators +=, -=, &= and |= are one atomic add, add of the
 * negation, and or or each, and leave the name bound to the same atomic
 * (they return self). The types have no binary +, so nothing can fall back
 * to rebinding the name to a plain int.
 *
 * An operand without __index__ raises Python's own "unsupported operand"
 * TypeError here, rather than returning NotImplemented: for a Python
 * subclass, CPython would call __iadd__ a second time through the sequence
 * slot sq_inplace_concat and then bind the name to NotImplemented. */
enum { IOP_ADD, IOP_SUB, IOP_AND, IOP_OR };

static const char *const iop_names[] = {"__iadd__", "__isub__", "__iand__", "__ior__"};
static const char *const iop_symbols[] = {"+=", "-=", "&=", "|="};

static PyObject *atomic_unsupported(PyObject *op, PyObject *arg, int iop)
{
    return PyErr_Format(PyExc_TypeError, "unsupported operand type(s) for %s: '%.100s' and '%.100s'",
                        iop_symbols[iop], Py_TYPE(op)->tp_name, Py_TYPE(arg)->tp_name);
}

/* ---- Int32, Uint32, Int64, Uint64 --------------------------------------- */

/* The word of an atomic: head.state, typed. */
#define WORD_OF(op, T) ((_Atomic T *)((gosync_py_object *)(op))->state)

/* One definition for the four types; `from_c` builds the Python int. */
#define GOSYNC_PY_ATOMIC_INT(type, pyname, T, from_c, kind)                                          \
    typedef struct {                                                                         \
        gosync_py_object head;                                                               \
        _Atomic T storage; /* zeroed by tp_alloc; unused when head.state is shared */        \
    } gosync_py_##type;                                                                      \
                                                                                             \
    PyTypeObject *gosync_py_##type##_type; /* set by gosync_py_add_types */                  \
                                                                                             \
    static PyObject *type##_new(PyTypeObject *t, PyObject *args, PyObject *kwds)             \
    {                                                                                        \
        return gosync_py_new(t, args, kwds, offsetof(gosync_py_##type, storage), 0);            \
    }                                                                                        \
                                                                                             \
    static PyObject *type##_load(PyObject *op, PyObject *unused)                             \
    {                                                                                        \
        GOSYNC_PY_CHECK_OPEN(op);                                                            \
        (void)unused;                                                                        \
        return from_c(gosync_atomic_load_##type(WORD_OF(op, T)));                            \
    }                                                                                        \
                                                                                             \
    static PyObject *type##_store(PyObject *op, PyObject *arg)                               \
    {                                                                                        \
        GOSYNC_PY_CHECK_OPEN(op);                                                            \
        uint64_t v;                                                                          \
        if (atomic_arg(arg, &kind, ARG_VALUE, "store", &v) < 0)                              \
            return NULL;                                                                     \
        gosync_atomic_store_##type(WORD_OF(op, T), (T)v);                                    \
        Py_RETURN_NONE;                                                                      \
    }                                                                                        \
                                                                                             \
    static PyObject *type##_swap(PyObject *op, PyObject *arg)                                \
    {                                                                                        \
        GOSYNC_PY_CHECK_OPEN(op);                                                            \
        uint64_t v;                                                                          \
        if (atomic_arg(arg, &kind, ARG_VALUE, "swap", &v) < 0)                               \
            return NULL;                                                                     \
        return from_c(gosync_atomic_swap_##type(WORD_OF(op, T), (T)v));                      \
    }                                                                                        \
                                                                                             \
    static PyObject *type##_cas(PyObject *op, PyObject *const *args, Py_ssize_t nargs)       \
    {                                                                                        \
        GOSYNC_PY_CHECK_OPEN(op);                                                            \
        uint64_t old, new_;                                                                  \
        if (nargs != 2) {                                                                    \
            PyErr_Format(PyExc_TypeError,                                                    \
                         "%s.compare_and_swap() takes 2 arguments (old, new), %zd given",    \
                         kind.name, nargs);                                                  \
            return NULL;                                                                     \
        }                                                                                    \
        if (atomic_arg(args[0], &kind, ARG_VALUE, "compare_and_swap", &old) < 0 ||           \
            atomic_arg(args[1], &kind, ARG_VALUE, "compare_and_swap", &new_) < 0)            \
            return NULL;                                                                     \
        return PyBool_FromLong(                                                              \
            gosync_atomic_cas_##type(WORD_OF(op, T), (T)old, (T)new_));                      \
    }                                                                                        \
                                                                                             \
    static PyObject *type##_add(PyObject *op, PyObject *arg)                                 \
    {                                                                                        \
        GOSYNC_PY_CHECK_OPEN(op);                                                            \
        uint64_t d;                                                                          \
        if (atomic_arg(arg, &kind, ARG_BITS, "add", &d) < 0)                                 \
            return NULL;                                                                     \
        return from_c(gosync_atomic_add_##type(WORD_OF(op, T), (T)d));                       \
    }                                                                                        \
                                                                                             \
    static PyObject *type##_and(PyObject *op, PyObject *arg)                                 \
    {                                                                                        \
        GOSYNC_PY_CHECK_OPEN(op);                                                            \
        uint64_t m;                                                                          \
        if (atomic_arg(arg, &kind, ARG_BITS, "and_", &m) < 0)                                \
            return NULL;                                                                     \
        return from_c(gosync_atomic_and_##type(WORD_OF(op, T), (T)m));                       \
    }                                                                                        \
                                                                                             \
    static PyObject *type##_or(PyObject *op, PyObject *arg)                                  \
    {                                                                                        \
        GOSYNC_PY_CHECK_OPEN(op);                                                            \
        uint64_t m;                                                                          \
        if (atomic_arg(arg, &kind, ARG_BITS, "or_", &m) < 0)                                 \
            return NULL;                                                                     \
        return from_c(gosync_atomic_or_##type(WORD_OF(op, T), (T)m));                        \
    }                                                                                        \
                                                                                             \
    static int type##_nb_bool(PyObject *op)                                                  \
    {                                                                                        \
        if (gosync_py_closed(op)) {                                                          \
            gosync_py_closed_error();                                                        \
            return -1;                                                                       \
        }                                                                                    \
        return gosync_atomic_load_##type(WORD_OF(op, T)) != 0;                               \
    }                                                                                        \
                                                                                             \
    static PyObject *type##_nb_index(PyObject *op) { return type##_load(op, NULL); }         \
                                                                                             \
    static PyObject *type##_richcompare(PyObject *op, PyObject *other, int cmp)              \
    {                                                                                        \
        return atomic_richcompare(type##_load(op, NULL), other, cmp);                        \
    }                                                                                        \
                                                                                             \
    static PyObject *type##_inplace(PyObject *op, PyObject *arg, int iop)                    \
    {                                                                                        \
        uint64_t d;                                                                          \
        GOSYNC_PY_CHECK_OPEN(op);                                                            \
        if (!PyLong_Check(arg) && !PyIndex_Check(arg))                                       \
            return atomic_unsupported(op, arg, iop);                                         \
        if (atomic_arg(arg, &kind, ARG_BITS, iop_names[iop], &d) < 0)                        \
            return NULL;                                                                     \
        _Atomic T *w = WORD_OF(op, T);                                                       \
        switch (iop) {                                                                       \
        case IOP_ADD: gosync_atomic_add_##type(w, (T)d); break;                              \
        case IOP_SUB: gosync_atomic_add_##type(w, (T)(0 - d)); break;                        \
        case IOP_AND: gosync_atomic_and_##type(w, (T)d); break;                              \
        default: gosync_atomic_or_##type(w, (T)d); break;                                    \
        }                                                                                    \
        Py_INCREF(op);                                                                       \
        return op;                                                                           \
    }                                                                                        \
    static PyObject *type##_iadd(PyObject *op, PyObject *a) { return type##_inplace(op, a, IOP_ADD); } \
    static PyObject *type##_isub(PyObject *op, PyObject *a) { return type##_inplace(op, a, IOP_SUB); } \
    static PyObject *type##_iand(PyObject *op, PyObject *a) { return type##_inplace(op, a, IOP_AND); } \
    static PyObject *type##_ior(PyObject *op, PyObject *a) { return type##_inplace(op, a, IOP_OR); }   \
                                                                                             \
    static PyMethodDef type##_methods[] = {                                                  \
        {"load", type##_load, METH_NOARGS,                                                   \
         "load($self, /)\n--\n\nLoad atomically loads and returns the value."},                   \
        {"store", type##_store, METH_O,                                                      \
         "store($self, value, /)\n--\n\nStore atomically stores value.\n\n"                        \
         "A value outside the type's range raises OverflowError, a non-int\n"                \
         "TypeError; nothing is stored then."},                                              \
        {"swap", type##_swap, METH_O,                                                        \
         "swap($self, new, /)\n--\n\nSwap atomically stores new and returns the previous value.\n\n" \
         "Out of range is OverflowError and a non-int TypeError, as for store."},            \
        {"compare_and_swap", (PyCFunction)(void (*)(void))type##_cas, METH_FASTCALL,         \
         "compare_and_swap($self, old, new, /)\n--\n\nCompareAndSwap executes the compare-and-swap " \
         "operation: if the\nvalue is old, it becomes new. It reports whether it did.\n\n"   \
         "Either argument out of the type's range raises OverflowError."},                   \
        {"add", type##_add, METH_O,                                                          \
         "add($self, delta, /)\n--\n\nAdd atomically adds delta and returns the new value.\n\n"     \
         "The sum wraps around modulo 2**width, as in Go. delta is taken modulo\n"          \
         "2**width, so it may be written signed or unsigned: add(-1) subtracts\n"           \
         "one from an unsigned type too. Outside -2**width .. 2**width - 1 it\n"            \
         "raises OverflowError, and nothing changes."},                                      \
        {"and_", type##_and, METH_O,                                                         \
         "and_($self, mask, /)\n--\n\nAnd atomically performs a bitwise AND with mask and returns\n" \
         "the old value. mask is taken modulo 2**width, as add's delta, so\n"               \
         "and_(~flag) clears a flag of an unsigned type too."},                              \
        {"or_", type##_or, METH_O,                                                           \
         "or_($self, mask, /)\n--\n\nOr atomically performs a bitwise OR with mask and returns\n"   \
         "the old value. mask is taken modulo 2**width, as for and_."},                      \
        {NULL, NULL, 0, NULL},                                                               \
    };                                                                                       \
                                                                                             \
    static PyMemberDef type##_members[] = {                                                  \
        GOSYNC_PY_WEAKREFS,                                                                  \
        {NULL, 0, 0, 0, NULL},                                                               \
    };                                                                                       \
                                                                                             \
    /* The docstring is gosync/atomic.py's. The signature is its __init__'s,        \
     * also here for CPython 3.9's inspect, which stops at a C __new__. */                   \
    static PyType_Slot type##_slots[] = {                                                    \
        {Py_tp_new, type##_new},                                                             \
        {Py_tp_dealloc, gosync_py_object_dealloc},                                           \
        {Py_tp_doc, pyname "(value=0)\n--\n\nAn atomic integer of gosync.atomic."},             \
        {Py_tp_methods, type##_methods},                                                     \
        {Py_tp_members, type##_members},                                                     \
        {Py_tp_richcompare, type##_richcompare},                                             \
        {Py_tp_hash, PyObject_HashNotImplemented},                                           \
        {Py_nb_bool, type##_nb_bool},                                                        \
        {Py_nb_int, type##_nb_index},                                                        \
        {Py_nb_index, type##_nb_index},                                                      \
        {Py_nb_inplace_add, type##_iadd},                                                    \
        {Py_nb_inplace_subtract, type##_isub},                                               \
        {Py_nb_inplace_and, type##_iand},                                                    \
        {Py_nb_inplace_or, type##_ior},                                                      \
        {0, NULL},                                                                           \
    };

GOSYNC_PY_ATOMIC_INT(int32, "Int32", int32_t, PyLong_FromLong, kind_int32)
GOSYNC_PY_ATOMIC_INT(uint32, "Uint32", uint32_t, PyLong_FromUnsignedLong, kind_uint32)
GOSYNC_PY_ATOMIC_INT(int64, "Int64", int64_t, PyLong_FromLongLong, kind_int64)
GOSYNC_PY_ATOMIC_INT(uint64, "Uint64", uint64_t, PyLong_FromUnsignedLongLong, kind_uint64)

/* ---- Bool: a uint32 word holding 0 or 1 --------------------------------- */

typedef struct {
    gosync_py_object head;
    _Atomic uint32_t storage;
} gosync_py_bool;

PyTypeObject *gosync_py_bool_type; /* set by gosync_py_add_types */

#define BOOL_WORD(op) ((_Atomic uint32_t *)((gosync_py_object *)(op))->state)

static PyObject *bool_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    return gosync_py_new(type, args, kwds, offsetof(gosync_py_bool, storage), 0);
}

static int bool_arg(PyObject *arg, const char *method, uint32_t *out)
{
    if (arg == Py_True || arg == Py_False) {
        *out = arg == Py_True;
        return 0;
    }
    PyErr_Format(PyExc_TypeError, "Bool.%s() argument must be a bool, not %.200s", method,
                 Py_TYPE(arg)->tp_name);
    return -1;
}

static PyObject *bool_load(PyObject *op, PyObject *unused)
{
    GOSYNC_PY_CHECK_OPEN(op);
    (void)unused;
    return PyBool_FromLong(gosync_atomic_load_uint32(BOOL_WORD(op)));
}

static PyObject *bool_store(PyObject *op, PyObject *arg)
{
    GOSYNC_PY_CHECK_OPEN(op);
    uint32_t v;
    if (bool_arg(arg, "store", &v) < 0)
        return NULL;
    gosync_atomic_store_uint32(BOOL_WORD(op), v);
    Py_RETURN_NONE;
}

static PyObject *bool_swap(PyObject *op, PyObject *arg)
{
    GOSYNC_PY_CHECK_OPEN(op);
    uint32_t v;
    if (bool_arg(arg, "swap", &v) < 0)
        return NULL;
    return PyBool_FromLong(gosync_atomic_swap_uint32(BOOL_WORD(op), v));
}

static PyObject *bool_cas(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    GOSYNC_PY_CHECK_OPEN(op);
    uint32_t old, new_;
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError,
                     "Bool.compare_and_swap() takes 2 arguments (old, new), %zd given", nargs);
        return NULL;
    }
    if (bool_arg(args[0], "compare_and_swap", &old) < 0 ||
        bool_arg(args[1], "compare_and_swap", &new_) < 0)
        return NULL;
    return PyBool_FromLong(gosync_atomic_cas_uint32(BOOL_WORD(op), old, new_));
}

static int bool_nb_bool(PyObject *op)
{
    if (gosync_py_closed(op)) {
        gosync_py_closed_error();
        return -1;
    }
    return gosync_atomic_load_uint32(BOOL_WORD(op)) != 0;
}

/* int(b) and operator.index(b) are 0 or 1, exact ints, as int(True) is. */
static PyObject *bool_nb_index(PyObject *op)
{
    GOSYNC_PY_CHECK_OPEN(op);
    return PyLong_FromLong(gosync_atomic_load_uint32(BOOL_WORD(op)) != 0);
}

static PyObject *bool_richcompare(PyObject *op, PyObject *other, int cmp)
{
    return atomic_richcompare(bool_load(op, NULL), other, cmp);
}

static PyMethodDef bool_methods[] = {
    {"load", bool_load, METH_NOARGS, "load($self, /)\n--\n\nLoad atomically loads and returns the value."},
    {"store", bool_store, METH_O,
     "store($self, value, /)\n--\n\nStore atomically stores value, which must be True or False\n"
     "(anything else is TypeError, and nothing is stored)."},
    {"swap", bool_swap, METH_O,
     "swap($self, new, /)\n--\n\nSwap atomically stores new and returns the previous value."},
    {"compare_and_swap", (PyCFunction)(void (*)(void))bool_cas, METH_FASTCALL,
     "compare_and_swap($self, old, new, /)\n--\n\nCompareAndSwap executes the compare-and-swap operation "
     "for the\nboolean value: if it is old, it becomes new. It reports whether it did."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef bool_members[] = {
    GOSYNC_PY_WEAKREFS,
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot bool_slots[] = {
    {Py_tp_new, bool_new},
    {Py_tp_dealloc, gosync_py_object_dealloc},
    {Py_tp_doc, "Bool(value=False)\n--\n\nAn atomic bool of gosync.atomic."},
    {Py_tp_methods, bool_methods},
    {Py_tp_members, bool_members},
    {Py_tp_richcompare, bool_richcompare},
    {Py_tp_hash, PyObject_HashNotImplemented},
    {Py_nb_bool, bool_nb_bool},
    {Py_nb_int, bool_nb_index},
    {Py_nb_index, bool_nb_index},
    {0, NULL},
};

/* ---- The specs: the public classes of gosync.atomic (gosync/_public.py) -- */

PyType_Spec gosync_py_int32_spec =
    GOSYNC_PY_PUBLIC_SPEC("gosync.atomic.Int32", sizeof(gosync_py_int32), 0, int32_slots);
PyType_Spec gosync_py_uint32_spec =
    GOSYNC_PY_PUBLIC_SPEC("gosync.atomic.Uint32", sizeof(gosync_py_uint32), 0, uint32_slots);
PyType_Spec gosync_py_int64_spec =
    GOSYNC_PY_PUBLIC_SPEC("gosync.atomic.Int64", sizeof(gosync_py_int64), 0, int64_slots);
PyType_Spec gosync_py_uint64_spec =
    GOSYNC_PY_PUBLIC_SPEC("gosync.atomic.Uint64", sizeof(gosync_py_uint64), 0, uint64_slots);
PyType_Spec gosync_py_bool_spec =
    GOSYNC_PY_PUBLIC_SPEC("gosync.atomic.Bool", sizeof(gosync_py_bool), 0, bool_slots);
