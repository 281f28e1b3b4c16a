/* TEST ONLY: probes of the binding's insides, for gosync's own tests (see
 * gosync/_testing.py, their one Python entry point). Nothing in the
 * package's code calls them; they are what Go keeps in export_test.go.
 * Being compiled into the module is their only cost: none of them is
 * reachable from the public API.
 */
#include "_binding.h"

/* Declared in _cdef.h, so that cffi generates its wrapper after the glue in
 * _binding.c: whether the calling thread holds the GIL while a cffi entry
 * point runs. With cffi's own Py_BEGIN_ALLOW_THREADS this would be 0. */
int gosync_py_gil_held(void)
{
    return PyGILState_Check();
}

/* _state_address(obj) -> int: the address of a lock's C state (head.state,
 * see _binding.h), for tests that read or set its words through cffi. */
static PyObject *state_address(PyObject *module, PyObject *obj)
{
    PyTypeObject *const *types[] = {&gosync_py_mutex_type, &gosync_py_rwmutex_type,
                                    &gosync_py_waitgroup_type, &gosync_py_cond_type};
    (void)module;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (PyObject_TypeCheck(obj, *types[i]))
            return PyLong_FromVoidPtr(((gosync_py_object *)obj)->state);
    }
    PyErr_Format(PyExc_TypeError, "_state_address() needs a gosync lock, not %.100s",
                 Py_TYPE(obj)->tp_name);
    return NULL;
}

PyMethodDef gosync_py_testing_functions[] = {
    {"_state_address", state_address, METH_O,
     "_state_address(lock) -> int\n\nTEST ONLY: the address of the C state of a Mutex, RWMutex,\n"
     "WaitGroup or Cond."},
    {NULL, NULL, 0, NULL},
};
