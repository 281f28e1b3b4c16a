/* The cffi cdef: what Python sees of the C core and of _binding.c.
 *
 * Structs are opaque here ("...;"): their layout is the C compiler's, and
 * Python only allocates them with ffi.new and passes pointers. Functions
 * named gosync_py_* live in _binding.c and decide the GIL policy; the others
 * are core functions that never block, called with the GIL held. */

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
typedef struct { ...; } gosync_mutex;

int64_t gosync_now_ns(void);
int gosync_ncpu(void);

uint32_t gosync_sema_tokens(const gosync_sema *s);
uint32_t gosync_sema_waiters(const gosync_sema *s);

/* Mutex */
int gosync_py_mutex_lock(gosync_mutex *m, int64_t deadline_ns);
bool gosync_mutex_try_lock(gosync_mutex *m);
int gosync_mutex_unlock(gosync_mutex *m);
int32_t gosync_mutex_state(const gosync_mutex *m);
gosync_sema *gosync_py_mutex_sema(gosync_mutex *m);

/* For tests of the GIL policy: whether the calling thread holds the GIL
 * while a non-blocking entry point runs. */
int gosync_py_gil_held(void);
