"""The misuse error of every primitive."""

from __future__ import annotations

__all__ = ["SyncError"]


class SyncError(RuntimeError):
    """SyncError reports misuse of a primitive, with Go's message.

    Go treats these as fatal errors. In gosync the failed call changes no
    state, so the primitive stays usable and the error can be caught.
    """


# Tracebacks and reprs name an exception's class by its module: the one
# users import it from, not this private one.
SyncError.__module__ = "gosync"
