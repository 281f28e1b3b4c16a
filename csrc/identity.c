/* Process identity, see identity.h. */
#define _GNU_SOURCE
#include "identity.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

/* 0: not computed yet in this process. */
static _Atomic uint64_t self_cache;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void forget_self(void)
{
    atomic_store_explicit(&self_cache, 0, memory_order_relaxed);
}

static void register_atfork(void)
{
    pthread_atfork(NULL, NULL, forget_self);
}

typedef enum { PROC_ALIVE, PROC_DEAD, PROC_UNKNOWN } proc_verdict;

/* Reads /proc/<pid>/<file> into buf (NUL-terminated). Returns the length,
 * or -1 with errno set. */
static ssize_t read_proc(uint32_t pid, const char *file, char *buf, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%u/%s", pid, file);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n;
    do
        n = read(fd, buf, size - 1);
    while (n < 0 && errno == EINTR);
    int saved = errno;
    close(fd);
    errno = saved;
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return n;
}

/* Parses a /proc/<pid>/stat line: the state letter, field 20 (the
 * number of threads) and field 22 (start ticks). The command name (field
 * 2) is in parentheses and may itself hold ')' and spaces, so the fields
 * are counted from the LAST ')'. */
static bool parse_stat(char *line, ssize_t len, char *state, unsigned long long *threads,
                       unsigned long long *start)
{
    char *close = NULL;
    for (ssize_t i = len - 1; i >= 0; i--)
        if (line[i] == ')') {
            close = line + i;
            break;
        }
    if (!close || close[1] != ' ' || close[2] == '\0')
        return false;
    *state = close[2];
    /* Fields 3 (state) .. 22 (starttime): 19 more after the state. */
    char *p = close + 3;
    for (int field = 4; field <= 22; field++) {
        while (*p == ' ')
            p++;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(p, &end, 10);
        if (end == p || errno != 0)
            return false;
        if (field == 20)
            *threads = v;
        if (field == 22)
            *start = v;
        p = end;
    }
    return true;
}

static proc_verdict proc_look(uint32_t pid, uint32_t start, bool compare_start, uint32_t *start_out)
{
    char buf[1024];
    ssize_t n = read_proc(pid, "stat", buf, sizeof buf);
    if (n < 0)
        return PROC_UNKNOWN; /* ENOENT included: hidepid hides live pids */
    char state;
    unsigned long long threads = 0, ticks = 0;
    if (!parse_stat(buf, n, &state, &threads, &ticks))
        return PROC_UNKNOWN;
    if (start_out)
        *start_out = (uint32_t)ticks;
    if (compare_start && (uint32_t)ticks != start)
        return PROC_DEAD; /* the pid now names another process */
    /* A zombie thread-group leader whose other threads still run (its
     * main thread called pthread_exit) is alive: the stat line's thread
     * count says so, in the same read (the "Threads:" line of
     * /proc/<pid>/status may lie past any fixed buffer: it follows the
     * supplementary groups). */
    if (state == 'Z' || state == 'X' || state == 'x')
        return threads > 1 ? PROC_ALIVE : PROC_DEAD;
    return PROC_ALIVE;
}

uint64_t gosync_identity_of(uint32_t pid)
{
    uint32_t start = 0;
    if (pid == 0 || pid > GOSYNC_IDENTITY_PID_MASK)
        return 0;
    if (proc_look(pid, 0, false, &start) == PROC_UNKNOWN)
        return 0;
    return (uint64_t)start << 32 | pid;
}

uint64_t gosync_identity_self(void)
{
    uint64_t id = atomic_load_explicit(&self_cache, memory_order_relaxed);
    if (id != 0)
        return id;
    pthread_once(&atfork_once, register_atfork);
    uint32_t pid = (uint32_t)getpid();
    id = gosync_identity_of(pid);
    if (id == 0)
        id = pid; /* /proc unreadable: start 0, "unknown" (identity.h) */
    /* A race computes the same value twice. */
    atomic_store_explicit(&self_cache, id, memory_order_relaxed);
    return id;
}

bool gosync_identity_alive(uint64_t id)
{
    uint32_t pid = GOSYNC_IDENTITY_PID(id);
    uint32_t start = GOSYNC_IDENTITY_START(id);
    if (pid == 0)
        return false;
    if (id == gosync_identity_self())
        return true;
    proc_verdict v = proc_look(pid, start, start != 0, NULL);
    if (v != PROC_UNKNOWN)
        return v == PROC_ALIVE;
    /* /proc could not tell: only the kernel's "no such process" is death. */
    return !(kill((pid_t)pid, 0) != 0 && errno == ESRCH);
}
