/* The lost-update demo of `python -m gosync race` (gosync/_race.py): a
 * deliberately unsynchronised increment of a plain C int. Included by
 * _binding.c.
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

/* Waits with the GIL released until the gate's counter is zero, then adds
 * one to *counter `iterations` times, non-atomically. Returns GOSYNC_OK, or
 * GOSYNC_TIMEDOUT if the deadline passed first, with nothing added. Other
 * wait statuses come back unchanged; -1 (a signal handler raised) cannot
 * happen in the demo's threads, which run no signal handlers. The caller
 * keeps the counter alive and guards it from the overflow of its int. */
static int gosync_race_add_unsafe(int *counter, int64_t iterations, gosync_waitgroup *gate,
                                  int64_t deadline_ns)
{
    race_args args = {counter, iterations, gate};
    return gosync_py_block(race_after_gate, &args, deadline_ns);
}
