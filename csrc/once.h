/* Once: the done flag of Go's sync.Once.
 *
 * Go's Once is a done flag and a Mutex. Do loads the flag (acquire); only if
 * it is 0 does it take the Mutex, check the flag again, call f and then set
 * the flag (release), so that a caller that sees the flag set also sees
 * everything f did. The Mutex is gosync's Mutex; the call of f happens in
 * the layer above, which is where f lives.
 *
 * In one process the flag orders nothing that the Mutex does not already
 * order: the Python layer reads and writes it only with the Mutex held, and
 * keeps a Python attribute for the fast path. It is kept in C for the Once
 * of gosync.shared: there the flag, like the Mutex, lives in memory shared
 * between processes, where no Python attribute can be seen by another
 * process, and the acquire/release pair orders fn's effects across them.
 *
 * Flag word (uint32):
 *
 *   value  meaning
 *   0      f has not returned yet (or has not been called)
 *   1      f has returned or raised: the Once is done; never changes again
 */
#ifndef GOSYNC_ONCE_H
#define GOSYNC_ONCE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    _Atomic uint32_t done;
} gosync_once;

/* Whether f has completed; an acquire load. */
bool gosync_once_done(const gosync_once *o);

/* Marks f as completed; a release store. Call it with the Mutex held. */
void gosync_once_set_done(gosync_once *o);

#endif /* GOSYNC_ONCE_H */
