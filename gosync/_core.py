"""Kept for the binding only: gosync/_binding.c looks SyncError up here, as
gosync._core.SyncError, to raise it. The Python layer imports it from
gosync._errors; drop this module once the binding looks there instead."""

from ._errors import SyncError

__all__ = ["SyncError"]
