/* The binding layer: the glue between Python and the C core. cffi compiles
 * this file into gosync._gosync, after Python.h and ahead of the wrappers it
 * generates for the functions declared in _cdef.h.
 *
 * GIL policy (docs/DESIGN.md, "The GIL and thread-state policy")
 * --------------------------------------------------------------
 * cffi wraps every call in Py_BEGIN_ALLOW_THREADS / Py_END_ALLOW_THREADS.
 * That costs about a third of a trivial call, and makes every call a point
 * where another thread can take the GIL. The functions in _cdef.h never
 * block, so they keep the GIL: the two macros become plain braces for every
 * wrapper cffi generates after this file.
 *
 * What can block releases the GIL itself, with the real calls, around the
 * core's slow path only (PyEval_SaveThread detaches the thread state on
 * free-threaded builds too). Nothing spins or sleeps while holding it: the
 * Mutex's spinning is inside its slow path.
 *
 * Lock types are Python types defined in C
 * ----------------------------------------
 * The interpreter may switch threads at the entry of every Python function
 * and after every call it makes, but not inside a `with` statement's calls
 * of a C __enter__ and __exit__. threading.Lock is safe for that reason: the
 * GIL never moves while a thread holds it inside `with`. A Python __exit__,
 * or a cffi call inside a Python __enter__, would add switch points while
 * the lock is held; under contention the GIL would then move to threads that
 * can only block on the lock, and throughput collapses into a convoy
 * (measured: 30-70 times more context switches than threading.Lock). So the
 * lock protocol of each lock type (__enter__, __exit__, unlock, try_lock) is
 * a method of a small type defined in the binding, which reaches the
 * primitive's C state through a pointer (_binding.h): into the object
 * itself, or, for gosync.shared, into a shared-memory mapping. The Python
 * classes in gosync/ subclass these types and add the rest: argument
 * validation, threading compatibility, docstrings. The debug views
 * (_debug_fields) are C methods too, so that no Python class knows a bit
 * layout.
 *
 * A blocking wait that a signal interrupts runs the Python signal handlers
 * (PyErr_CheckSignals) and, unless one raised, waits again until the same
 * absolute deadline. The primitive is untouched in between.
 *
 * The parts
 * ---------
 * This file is the module's text: cffi compiles it after Python.h and ahead
 * of the wrappers it generates for _cdef.h, so the glue that must precede
 * those wrappers is here, with the one table of types. Each other part is a
 * source of its own, sharing _binding.h:
 *
 *   _binding_common.c    creation of the lock types, the misuse error, the
 *                        blocking call and its Python result
 *   _binding_mutex.c     MutexBase
 *   _binding_rwmutex.c   RWMutexBase and RLockerBase
 *   _binding_waitgroup.c WaitGroupBase
 *   _binding_cond.c      CondBase, with the native relock of gosync's locks
 *   _binding_atomic.c    Int32Base, Uint32Base, Int64Base, Uint64Base, BoolBase
 *   _binding_pool.c      PoolLocal, a Pool's per-thread slots
 *   _binding_weighted.c  WeightedBase, semaphore.Weighted's word and fast paths
 *   _binding_chan.c      ChanBase, a channel's ring and queues, and _select
 *   _binding_race.c      the race demo's unsynchronised increment
 *   _binding_testing.c   TEST ONLY: probes for gosync's tests
 *   _binding_shared_mapping.c  Mapping, gosync.shared's arena memory
 *   _binding_shared_mutex.c    SharedMutexBase, on the robust mutex
 *   _binding_shared_rwmutex.c  SharedRWMutexBase, on the robust RWMutex
 */
#include "_binding.h"

#include <string.h>

/* The functions of _cdef.h never block (the lock types are not among them),
 * so their wrappers keep the GIL: from here on, for the wrappers cffi
 * generates after this text, the two macros are plain braces. */
#undef Py_BEGIN_ALLOW_THREADS
#undef Py_END_ALLOW_THREADS
#define Py_BEGIN_ALLOW_THREADS {
#define Py_END_ALLOW_THREADS }

/* Every type of the binding, each added to this module under `attr`.
 * `keep` is where the parts find a type that they check for, or NULL; the
 * module holds the reference. */
static const struct {
    PyType_Spec *spec;
    PyTypeObject **keep;
    const char *attr;
} types[] = {
    {&gosync_py_mutex_spec, &gosync_py_mutex_type, "MutexBase"},
    {&gosync_py_rwmutex_spec, &gosync_py_rwmutex_type, "RWMutexBase"},
    {&gosync_py_rlocker_spec, &gosync_py_rlocker_type, "RLockerBase"},
    {&gosync_py_waitgroup_spec, &gosync_py_waitgroup_type, "WaitGroupBase"},
    {&gosync_py_cond_spec, &gosync_py_cond_type, "CondBase"},
    {&gosync_py_int32_spec, &gosync_py_int32_type, "Int32Base"},
    {&gosync_py_uint32_spec, &gosync_py_uint32_type, "Uint32Base"},
    {&gosync_py_int64_spec, &gosync_py_int64_type, "Int64Base"},
    {&gosync_py_uint64_spec, &gosync_py_uint64_type, "Uint64Base"},
    {&gosync_py_bool_spec, &gosync_py_bool_type, "BoolBase"},
    {&gosync_py_pool_local_spec, NULL, "PoolLocal"},
    {&gosync_py_weighted_spec, NULL, "WeightedBase"},
    {&gosync_py_chan_spec, &gosync_py_chan_type, "ChanBase"},
    {&gosync_py_mapping_spec, NULL, "Mapping"},
    {&gosync_py_shared_mutex_spec, &gosync_py_shared_mutex_type, "SharedMutexBase"},
    {&gosync_py_shared_rwmutex_spec, &gosync_py_shared_rwmutex_type, "SharedRWMutexBase"},
};

#if PY_VERSION_HEX < 0x030A0000 && !defined(PYPY_VERSION)
/* CPython 3.9's PyType_FromSpec copies tp_doc without its first line
 * "Name(params)\n--\n\n", which is where inspect.signature reads a
 * constructor's parameters (3.10 keeps the line). Puts the spec's whole doc
 * back; the type frees tp_doc with PyObject_Free, as it would the copy. */
static int keep_text_signature(PyTypeObject *type, const PyType_Spec *spec)
{
    for (const PyType_Slot *slot = spec->slots; slot->slot != 0; slot++) {
        if (slot->slot != Py_tp_doc || slot->pfunc == NULL)
            continue;
        size_t size = strlen(slot->pfunc) + 1;
        char *doc = PyObject_Malloc(size);
        if (doc == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        memcpy(doc, slot->pfunc, size);
        PyObject_Free((void *)type->tp_doc);
        type->tp_doc = doc;
        PyType_Modified(type);
    }
    return 0;
}
#endif

/* Creates the types and module functions of the binding and adds them to
 * gosync._gosync. _native.py calls it once, at import. Returns 0, or -1 with
 * a Python exception set (cffi reports that as a SystemError carrying
 * it). */
int gosync_py_add_types(void)
{
    PyObject *module = PyImport_ImportModule("gosync._gosync");
    if (module == NULL)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof types / sizeof types[0]; i++) {
        PyObject *type = PyType_FromSpec(types[i].spec);
        if (type == NULL) {
            rc = -1;
            break;
        }
#if PY_VERSION_HEX < 0x030A0000 && !defined(PYPY_VERSION)
        if (keep_text_signature((PyTypeObject *)type, types[i].spec) < 0) {
            Py_DECREF(type);
            rc = -1;
            break;
        }
#endif
        rc = PyObject_SetAttrString(module, types[i].attr, type);
        if (rc == 0 && types[i].keep != NULL)
            *types[i].keep = (PyTypeObject *)type; /* alive as long as the module */
        Py_DECREF(type);
    }
    if (rc == 0)
        rc = PyModule_AddFunctions(module, gosync_py_race_functions);
    if (rc == 0)
        rc = PyModule_AddFunctions(module, gosync_py_chan_functions);
    if (rc == 0)
        rc = PyModule_AddFunctions(module, gosync_py_testing_functions);
    if (rc == 0)
        rc = PyModule_AddFunctions(module, gosync_py_profile_functions);
    Py_DECREF(module);
    return rc;
}
