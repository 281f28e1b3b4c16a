"""The misuse error of every primitive."""

from __future__ import annotations

__all__ = ["OwnerDied", "SyncError"]


class SyncError(RuntimeError):
    """SyncError reports misuse of a primitive, with Go's message.

    Go treats these as fatal errors. In gosync the failed call changes no
    state, so the primitive stays usable and the error can be caught.
    """


class OwnerDied(SyncError):
    """OwnerDied reports that the process that held a gosync.shared lock
    died holding it (or died after getting OwnerDied itself, before
    mark_consistent).

    It is raised by the call that acquired the lock, which holds the lock
    when it raises: the data the lock guards may be half-updated. Repair it,
    call the lock's mark_consistent(), then unlock. Unlocking without
    mark_consistent() makes the lock unrecoverable: every later acquire
    raises SyncError("sync: mutex not recoverable"). These are the semantics
    of glibc's robust mutexes (EOWNERDEAD, pthread_mutex_consistent).
    """
