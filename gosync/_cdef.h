/* The cffi cdef: what Python sees of the C core and of the binding.
 *
 * Structs are opaque here ("...;"): their layout is the C compiler's. The
 * lock types themselves are Python types defined in the binding (see
 * _binding.c why); what is declared here is called with the GIL held and
 * never blocks: constants, the clock, the core's accessors (for tests and
 * tools; the Python classes use the types' own methods), Once's flag, and
 * one test probe. */

#define GOSYNC_OK ...
#define GOSYNC_TIMEDOUT ...
#define GOSYNC_INTERRUPTED ...
#define GOSYNC_MISUSE ...
#define GOSYNC_NO_DEADLINE ...
#define GOSYNC_MUTEX_LOCKED ...
#define GOSYNC_MUTEX_WOKEN ...
#define GOSYNC_MUTEX_STARVING ...
#define GOSYNC_MUTEX_WAITER_SHIFT ...

typedef struct { ...; } gosync_sema;
typedef struct { ...; gosync_sema sema; } gosync_mutex;

int64_t gosync_now_ns(void);
int gosync_ncpu(void);

uint32_t gosync_sema_tokens(const gosync_sema *s);
uint32_t gosync_sema_waiters(const gosync_sema *s);
int32_t gosync_mutex_state(const gosync_mutex *m);

/* RWMutex, WaitGroup and Cond: debug views. */
typedef struct { ...; gosync_mutex w; } gosync_rwmutex;
uint32_t gosync_rwmutex_readers(const gosync_rwmutex *rw);
uint32_t gosync_rwmutex_reader_wait(const gosync_rwmutex *rw);
bool gosync_rwmutex_writer(const gosync_rwmutex *rw);

typedef struct { ...; } gosync_waitgroup;
int32_t gosync_waitgroup_counter(const gosync_waitgroup *wg);
uint32_t gosync_waitgroup_waiters(const gosync_waitgroup *wg);

typedef struct { ...; } gosync_cond;
uint32_t gosync_cond_waiters(const gosync_cond *c);
uint32_t gosync_cond_pending(const gosync_cond *c);

/* Adds the binding's types (MutexBase, RWMutexBase, RLockerBase,
 * WaitGroupBase, CondBase, ...) and module functions to this module; called
 * once by _native.py. */
int gosync_py_add_types(void);

/* TEST ONLY (_binding_testing.c, reached through gosync/_testing.py): whether
 * the calling thread holds the GIL while a cffi wrapper runs. */
int gosync_py_gil_held(void);
