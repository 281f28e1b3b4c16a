/* The lost-update demo of `python -m gosync race` (gosync/_race.py): a
 * deliberately unsynchronised increment of a plain C int, as the module
 * function gosync._gosync._race_add_unsafe.
 *
 * It exists to be wrong. It is the control group of the demo: what many
 * threads lose when they increment one int with no atomic instruction and
 * no lock, in parallel on several CPUs. For the same reason it is not part
 * of the C harness in csrc/tests: ThreadSanitizer would report its data
 * race, rightly, and nothing else in the core may have one.
 *
 * The threads wait for the start gate (a WaitGroup whose counter is one)
 * and increment with the GIL released, in one stretch, so that once the
 * gate opens nothing serialises them: each thread re-takes the GIL only
 * after its last increment.
 */
#include "_binding.h"

typedef struct {
    volatile int *counter;
    int64_t iterations;
    gosync_waitgroup *gate;
} race_args;

/* volatile makes each iteration one load and one store of memory: the
 * compiler may neither keep the counter in a register nor turn the loop
 * into a single add. Another thread's store between the two is lost. C11
 * calls such a data race undefined behaviour; volatile is what keeps the
 * compiler to the plain instructions (load, add, store: checked with
 * objdump on x86-64, GCC 12, -O2). */
static void race_increment(volatile int *counter, int64_t iterations)
{
    for (int64_t i = 0; i < iterations; i++) {
        int value = *counter;
        *counter = value + 1;
    }
}

/* A gosync_blocking_call: a signal during the gate's wait makes it return
 * before any increment, so gosync_py_block can call it again. */
static int race_after_gate(void *args, int64_t deadline_ns)
{
    race_args *a = args;
    int rc = gosync_waitgroup_wait(a->gate, deadline_ns);
    if (rc == GOSYNC_OK)
        race_increment(a->counter, a->iterations);
    return rc;
}

/* _race_add_unsafe(counter_address, iterations, gate, deadline_ns) -> int
 *
 * Waits with the GIL released until the gate's counter is zero (gate: a
 * gosync.WaitGroup), then adds one to the C int at counter_address
 * `iterations` times, non-atomically. Returns GOSYNC_OK, or GOSYNC_TIMEDOUT
 * if the deadline passed first, with nothing added; other wait statuses
 * come back unchanged, and a signal handler's exception is raised. The
 * caller keeps the counter alive (a cffi "int *") and guards it from the
 * overflow of its int. */
static PyObject *race_add_unsafe(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError,
                        "_race_add_unsafe() takes counter_address, iterations, gate and deadline_ns");
        return NULL;
    }
    if (!PyObject_TypeCheck(args[2], gosync_py_waitgroup_type)) {
        PyErr_Format(PyExc_TypeError, "_race_add_unsafe() needs a gosync.WaitGroup gate, not %.100s",
                     Py_TYPE(args[2])->tp_name);
        return NULL;
    }
    race_args a;
    a.counter = PyLong_AsVoidPtr(args[0]);
    if (a.counter == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "_race_add_unsafe() needs a counter address");
        return NULL;
    }
    long long iterations = PyLong_AsLongLong(args[1]);
    if (iterations == -1 && PyErr_Occurred())
        return NULL;
    a.iterations = iterations;
    a.gate = gosync_py_waitgroup_of(args[2]);
    int64_t deadline_ns;
    if (gosync_py_deadline(args[3], &deadline_ns) < 0)
        return NULL;
    /* The gate is kept alive by the caller's reference to it (args). */
    int rc = gosync_py_block_untimed(race_after_gate, &a, deadline_ns);
    if (rc < 0)
        return NULL;
    return PyLong_FromLong(rc);
}

PyMethodDef gosync_py_race_functions[] = {
    {"_race_add_unsafe", (PyCFunction)(void (*)(void))race_add_unsafe, METH_FASTCALL,
     "_race_add_unsafe(counter_address, iterations, gate, deadline_ns) -> int\n\n"
     "The race demo's unsynchronised increment (gosync/_race.py): wait for the\n"
     "gate (a WaitGroup) with the GIL released, then add one to the C int at\n"
     "counter_address `iterations` times, non-atomically. Returns a status code."},
    {NULL, NULL, 0, NULL},
};
