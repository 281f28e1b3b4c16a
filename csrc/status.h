/* Status codes: what every call of the C core that can fail or block
 * returns. A header of its own, so that a primitive that never touches the
 * semaphore does not include it for these. */
#ifndef GOSYNC_STATUS_H
#define GOSYNC_STATUS_H

enum {
    GOSYNC_OK = 0,
    GOSYNC_TIMEDOUT = 1,    /* the deadline passed; nothing was taken or queued */
    GOSYNC_INTERRUPTED = 2, /* a signal arrived; nothing was taken or queued */
    GOSYNC_MISUSE = 3,      /* the call breaks the primitive's contract; no
                               state was changed */
    GOSYNC_OVERFLOW = 4,    /* a count would exceed its field; no state was
                               changed */
    GOSYNC_FAULT = 5,       /* the kernel refused a wait (errno says why:
                               EFAULT, EINVAL, ENOSYS, ...); handled as a
                               timeout, so nothing was taken or queued */
    /* The robust locks of gosync.shared (robust_mutex.h, robust_rwmutex.h): */
    GOSYNC_OWNERDEAD = 6,       /* the caller holds the lock; its previous
                                   owner died holding it: repair, then
                                   mark_consistent */
    GOSYNC_NOTRECOVERABLE = 7,  /* nothing held: the lock was unlocked after
                                   OWNERDEAD without mark_consistent */
    GOSYNC_BUSY = 8,            /* a try_ call: held by a live owner; nothing
                                   changed */
    GOSYNC_OWNERDEAD_WRITE = 9, /* an RLock that found a dead writer: the
                                   caller holds the WRITE lock, as
                                   OWNERDEAD */
};

#endif /* GOSYNC_STATUS_H */
