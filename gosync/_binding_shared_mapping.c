/* Binding of gosync.shared's memory: the C type gosync._gosync.Mapping, an
 * arena's file mapped MAP_SHARED, and the objects placed in it.
 *
 * Mapping(fd, size) maps the first `size` bytes of fd; the Python layer
 * (gosync/shared/_arena.py) has checked the file's header and size first.
 * mapping.at(type, offset, fresh) makes an instance of one of the binding's
 * types that can live in shared memory whose C state is the mapping's
 * memory at offset, and which holds a reference to the mapping.
 *
 * Closing sets a flag that every method of those types checks (one load,
 * _binding.h): using a primitive of a closed arena raises ValueError, as a
 * closed file does. The memory is unmapped only when the mapping's last
 * reference goes, so a thread still blocked inside a call (which holds a
 * reference to its object, which holds one to the mapping) never touches
 * unmapped memory.
 */
#include "_binding.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "robust_mutex.h"
#include "robust_rwmutex.h"


PyObject *gosync_py_closed_error(void)
{
    PyErr_SetString(PyExc_ValueError, "operation on a closed arena");
    return NULL;
}

void gosync_py_object_dealloc(PyObject *op)
{
    PyTypeObject *type = Py_TYPE(op);
    if (((gosync_py_object *)op)->weakreflist != NULL)
        PyObject_ClearWeakRefs(op);
    Py_CLEAR(((gosync_py_object *)op)->mapping);
    Py_CLEAR(((gosync_py_object *)op)->label);
    type->tp_free(op);
    Py_DECREF(type);
}

void gosync_py_object_gc_dealloc(PyObject *op, inquiry clear)
{
    PyObject_GC_UnTrack(op);
    /* Weak references before the members, as subtype_dealloc orders it: no
     * member is dropped while a weak reference could still reach the
     * object. */
    if (((gosync_py_object *)op)->weakreflist != NULL)
        PyObject_ClearWeakRefs(op);
    (void)clear(op);
    gosync_py_object_dealloc(op);
}

int gosync_py_placed_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((gosync_py_placed *)op)->arena);
    Py_VISIT(((gosync_py_placed *)op)->slot);
    return 0;
}

int gosync_py_placed_clear(PyObject *op)
{
    Py_CLEAR(((gosync_py_placed *)op)->arena);
    Py_CLEAR(((gosync_py_placed *)op)->slot);
    return 0;
}

/* Also drops the reference to the mapping and clears the weak references. */
void gosync_py_placed_dealloc(PyObject *op)
{
    gosync_py_object_gc_dealloc(op, gosync_py_placed_clear);
}

#define MAP(op) ((gosync_py_mapping *)(op))

/* Checks a METH_FASTCALL method's argument count. */
static int mapping_nargs(const char *name, Py_ssize_t nargs, Py_ssize_t want)
{
    if (nargs == want)
        return 0;
    PyErr_Format(PyExc_TypeError, "Mapping.%s() takes %zd arguments, %zd given", name, want, nargs);
    return -1;
}

static PyObject *mapping_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"fd", "size", NULL};
    int fd;
    Py_ssize_t size;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "in:Mapping", kwlist, &fd, &size))
        return NULL;
    if (size <= 0) {
        PyErr_SetString(PyExc_ValueError, "Mapping size must be positive");
        return NULL;
    }
    void *base;
    Py_BEGIN_ALLOW_THREADS
    base = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    Py_END_ALLOW_THREADS
    if (base == MAP_FAILED)
        return PyErr_SetFromErrno(PyExc_OSError);
    PyObject *self = type->tp_alloc(type, 0);
    if (self == NULL) {
        munmap(base, (size_t)size);
        return NULL;
    }
    MAP(self)->base = base;
    MAP(self)->size = (size_t)size;
    return self;
}

static void mapping_dealloc(PyObject *op)
{
    PyTypeObject *type = Py_TYPE(op);
    if (MAP(op)->base != NULL)
        munmap(MAP(op)->base, MAP(op)->size);
    type->tp_free(op);
    Py_DECREF(type);
}

static PyObject *mapping_close(PyObject *op, PyObject *unused)
{
    (void)unused;
    MAP(op)->closed = 1;
    Py_RETURN_NONE;
}

static PyObject *mapping_get_closed(PyObject *op, void *unused)
{
    (void)unused;
    return PyBool_FromLong(MAP(op)->closed);
}

static PyObject *mapping_get_size(PyObject *op, void *unused)
{
    (void)unused;
    return PyLong_FromSize_t(MAP(op)->size);
}

/* Checks that [offset, offset + n) lies in the mapping. Returns 0, or -1
 * with ValueError (also for a closed mapping). */
static int mapping_range(PyObject *op, Py_ssize_t offset, Py_ssize_t n)
{
    if (MAP(op)->closed) {
        gosync_py_closed_error();
        return -1;
    }
    if (offset < 0 || n < 0 || (size_t)offset > MAP(op)->size || (size_t)n > MAP(op)->size - (size_t)offset) {
        PyErr_Format(PyExc_ValueError, "offset %zd (+%zd bytes) is outside the arena (%zu bytes)", offset,
                     n, MAP(op)->size);
        return -1;
    }
    return 0;
}

static PyObject *mapping_read(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t offset, n;
    if (mapping_nargs("read", nargs, 2) < 0)
        return NULL;
    if ((offset = PyLong_AsSsize_t(args[0])) == -1 && PyErr_Occurred())
        return NULL;
    if ((n = PyLong_AsSsize_t(args[1])) == -1 && PyErr_Occurred())
        return NULL;
    if (mapping_range(op, offset, n) < 0)
        return NULL;
    return PyBytes_FromStringAndSize(MAP(op)->base + offset, n);
}

static PyObject *mapping_write(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t offset;
    Py_buffer data;
    if (mapping_nargs("write", nargs, 2) < 0)
        return NULL;
    if ((offset = PyLong_AsSsize_t(args[0])) == -1 && PyErr_Occurred())
        return NULL;
    if (PyObject_GetBuffer(args[1], &data, PyBUF_SIMPLE) < 0)
        return NULL;
    int rc = mapping_range(op, offset, data.len);
    if (rc == 0)
        memcpy(MAP(op)->base + offset, data.buf, (size_t)data.len);
    PyBuffer_Release(&data);
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* The types whose instances at() may place, the size of their C state,
 * where their park_flags are (-1: none; the robust locks always park
 * shared), and whether they can block (then they carry a profile label:
 * their creation site, while a profile is on). */
typedef struct {
    PyTypeObject **type;
    size_t size;
    Py_ssize_t park_flags;
    int named;
    int record; /* a lock with a contention record before its state */
} placeable;

static const placeable placeables[] = {
    {&gosync_py_waitgroup_type, sizeof(gosync_waitgroup), offsetof(gosync_waitgroup, park_flags), 1, 0},
    {&gosync_py_cond_type, sizeof(gosync_cond), offsetof(gosync_cond, park_flags), 1, 0},
    {&gosync_py_int32_type, sizeof(int32_t), -1, 0, 0},
    {&gosync_py_uint32_type, sizeof(uint32_t), -1, 0, 0},
    {&gosync_py_int64_type, sizeof(int64_t), -1, 0, 0},
    {&gosync_py_uint64_type, sizeof(uint64_t), -1, 0, 0},
    {&gosync_py_bool_type, sizeof(uint32_t), -1, 0, 0},
    {&gosync_py_shared_mutex_type, sizeof(gosync_robust_mutex), -1, 1, 1},
    {&gosync_py_shared_rwmutex_type, sizeof(gosync_robust_rwmutex), -1, 1, 1},
};

/* The placeable entry of type, or NULL with TypeError. */
static const placeable *placeable_of(PyObject *arg)
{
    if (!PyType_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "a type is needed, not %.100s", Py_TYPE(arg)->tp_name);
        return NULL;
    }
    PyTypeObject *type = (PyTypeObject *)arg;
    for (size_t i = 0; i < sizeof placeables / sizeof placeables[0]; i++) {
        if (*placeables[i].type != NULL && PyType_IsSubtype(type, *placeables[i].type))
            return &placeables[i];
    }
    PyErr_Format(PyExc_TypeError, "a %.100s cannot be placed in shared memory", type->tp_name);
    return NULL;
}

/* state_size(type) -> int: the bytes of C state of an instance of type. */
static PyObject *mapping_state_size(PyObject *cls, PyObject *arg)
{
    (void)cls;
    const placeable *p = placeable_of(arg);
    return p == NULL ? NULL : PyLong_FromSize_t(p->size);
}

/* at(type, offset, fresh) -> object: an instance of type (a subclass of one
 * of the placeable types) whose state is at offset in the mapping. Its
 * tp_new and __init__ are not called: the state is the arena's. fresh: the
 * state was just allocated and nobody else can see it yet, so its
 * park_flags are set to GOSYNC_PARK_SHARED here. */
static PyObject *mapping_at(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    if (mapping_nargs("at", nargs, 3) < 0)
        return NULL;
    const placeable *p = placeable_of(args[0]);
    if (p == NULL)
        return NULL;
    PyTypeObject *type = (PyTypeObject *)args[0];
    Py_ssize_t offset = PyLong_AsSsize_t(args[1]);
    if (offset == -1 && PyErr_Occurred())
        return NULL;
    int fresh = PyObject_IsTrue(args[2]);
    if (fresh < 0)
        return NULL;
    if (mapping_range(op, offset, (Py_ssize_t)p->size) < 0)
        return NULL;
    if (offset % (p->size < 8 ? 4 : 8) != 0) {
        PyErr_Format(PyExc_ValueError, "offset %zd is not aligned", offset);
        return NULL;
    }
    char *state = MAP(op)->base + offset;
    /* Every allocation set them before publishing its kind; any other value
     * is a corrupt segment, whose waits would use the private futex and
     * never hear a wake from another process (an untimed wait: a hang). */
    if (!fresh && p->park_flags >= 0 && *(uint32_t *)(state + p->park_flags) != GOSYNC_PARK_SHARED) {
        PyErr_Format(PyExc_ValueError, "offset %zd holds a corrupt %.100s (park flags %u)", offset,
                     type->tp_name, *(uint32_t *)(state + p->park_flags));
        return NULL;
    }
    PyObject *label = NULL;
    if (p->named) {
        label = gosync_py_profile_label(type, NULL);
        if (label == NULL)
            return NULL;
        if (label == Py_None)
            Py_CLEAR(label);
    }
    PyObject *self = type->tp_alloc(type, 0);
    if (self == NULL) {
        Py_XDECREF(label);
        return NULL;
    }
    ((gosync_py_object *)self)->label = label;
    if (p->record && (offset == GOSYNC_PY_DIRECTORY_LOCK || offset >= GOSYNC_PY_ARENA_HEADER + 64))
        ((gosync_py_placed *)self)->contention = (gosync_contention *)(state - GOSYNC_PY_SLOT_CONTENTION);
    if (fresh && p->park_flags >= 0)
        *(uint32_t *)(state + p->park_flags) = GOSYNC_PARK_SHARED;
    ((gosync_py_object *)self)->state = state;
    Py_INCREF(op);
    ((gosync_py_object *)self)->mapping = op;
    return self;
}

static PyMethodDef mapping_methods[] = {
    {"close", mapping_close, METH_NOARGS,
     "close() -> None\n\nMark the mapping closed: every object placed in it then raises\n"
     "ValueError. The memory stays mapped while any object refers to it."},
    {"read", (PyCFunction)(void (*)(void))mapping_read, METH_FASTCALL,
     "read(offset, n) -> bytes\n\nA copy of n bytes at offset."},
    {"write", (PyCFunction)(void (*)(void))mapping_write, METH_FASTCALL,
     "write(offset, data) -> None\n\nCopy data to offset."},
    {"state_size", mapping_state_size, METH_O | METH_CLASS,
     "state_size(type) -> int\n\nThe size in bytes of the C state of an instance of type."},
    {"at", (PyCFunction)(void (*)(void))mapping_at, METH_FASTCALL,
     "at(type, offset, fresh) -> object\n\nAn instance of type whose C state is at offset in the mapping."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef mapping_getset[] = {
    {"closed", mapping_get_closed, NULL, "Whether close() was called.", NULL},
    {"size", mapping_get_size, NULL, "The size of the mapping in bytes.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot mapping_slots[] = {
    {Py_tp_new, mapping_new},
    {Py_tp_dealloc, mapping_dealloc},
    {Py_tp_doc, "Mapping(fd, size): a file mapped MAP_SHARED, the memory of a gosync.shared arena."},
    {Py_tp_methods, mapping_methods},
    {Py_tp_getset, mapping_getset},
    {0, NULL},
};

PyType_Spec gosync_py_mapping_spec = {"gosync._gosync.Mapping", (int)sizeof(gosync_py_mapping), 0,
                                      Py_TPFLAGS_DEFAULT, mapping_slots};
