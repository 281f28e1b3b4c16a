/* Process identity: who holds a lock of gosync.shared, and whether that
 * process is still alive.
 *
 * API (stable; the binding codes against these names):
 *
 *   uint64_t gosync_identity_self(void);
 *   bool     gosync_identity_alive(uint64_t id);
 *   uint64_t gosync_identity_of(uint32_t pid);
 *   GOSYNC_IDENTITY_PID(id), GOSYNC_IDENTITY_START(id), GOSYNC_IDENTITY_PID_MASK
 *
 * An identity is a 64-bit integer:
 *
 *   bits    field   meaning
 *   0..21   pid     getpid() (the thread group); Linux's PID_MAX_LIMIT is
 *                   2^22, so every pid fits
 *   22..31  0       (the locks keep their own flags here)
 *   32..63  start   field 22 of /proc/<pid>/stat: the clock tick since boot
 *                   at which the process started, modulo 2^32; 0 when it
 *                   could not be read
 *
 * A pid alone is not an identity: the kernel reuses pids. A pid together
 * with its start tick is, up to two limits that docs/DESIGN.md ("Robust
 * locks for gosync.shared") states:
 *
 *   - the processes share one PID namespace (a pid means the same process
 *     to all of them, and /proc shows that namespace);
 *   - the start tick wraps after 2^32 ticks (497 days at 100 Hz). A dead
 *     owner could look alive only if a new process got the same pid at the
 *     same tick modulo 2^32; a live owner never looks dead.
 *
 * exec() keeps both the pid and the start tick, so a process that execs
 * while holding a lock stays its holder.
 *
 * Every thread of a process has the same identity: the locks of
 * gosync.shared are owned by processes. A child made by fork() has its own
 * identity (its pid differs), so it is not the holder of its parent's locks.
 */
#ifndef GOSYNC_IDENTITY_H
#define GOSYNC_IDENTITY_H

#include <stdbool.h>
#include <stdint.h>

#define GOSYNC_IDENTITY_PID_BITS 22
#define GOSYNC_IDENTITY_PID_MASK ((UINT64_C(1) << GOSYNC_IDENTITY_PID_BITS) - 1)
#define GOSYNC_IDENTITY_PID(id) ((uint32_t)((id) & GOSYNC_IDENTITY_PID_MASK))
#define GOSYNC_IDENTITY_START(id) ((uint32_t)((id) >> 32))

/* The calling process's identity. Computed once and cached; a
 * pthread_atfork child handler forgets the cache, so a child computes its
 * own on first use. Never 0. */
uint64_t gosync_identity_self(void);

/* Whether the process named by id is alive:
 *   - /proc/<pid>/stat shows state 'Z' (zombie) or 'X' (dead): dead. A
 *     stopped process ('T', 't') is alive. A zombie thread-group leader whose
 *     other threads still run is alive.
 *   - its start tick differs from id's (the pid was reused): dead. A start
 *     of 0 in id means "unknown" and is not compared.
 *   - /proc cannot tell (no such file, no permission, no /proc, too many
 *     open files, a line it cannot parse): kill(pid, 0) decides, and only
 *     ESRCH means dead.
 * So a live process is never declared dead. id == 0 (no owner) is dead.
 * Costs one open/read/close of /proc (about 10 us); id == self costs none. */
bool gosync_identity_alive(uint64_t id);

/* The identity of the process with this pid as /proc shows it now, or 0 if
 * it cannot be read (no such process, ...). For tests and diagnostics. */
uint64_t gosync_identity_of(uint32_t pid);

#endif /* GOSYNC_IDENTITY_H */
