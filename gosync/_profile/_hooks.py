"""The two functions the primitives' C hooks call while a profile is on.

on_event records one sampled contention event with the current thread's
stack; creation_label names a primitive created without name= by where it
was created. See docs/DESIGN.md, "Profiling contention".
"""

from __future__ import annotations

import os
import sys
import threading
from types import CodeType, FrameType
from typing import Dict, List, Optional, Tuple

from ._store import BLOCK, MUTEX, Frame, Stack, record

__all__ = [
    "MAX_STACK",
    "check_name",
    "creation_label",
    "dropped",
    "hide_files",
    "on_event",
    "short_path",
    "site_of",
    "stack",
]

# MAX_STACK is Go's maxStack: the deepest stack a profile keeps, leaf first.
MAX_STACK = 32

# The event kinds as the C hooks pass them.
_KIND_NAMES = (BLOCK, MUTEX)

_GOSYNC_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep

# Frames in these files are left out of stacks and labels: gosync's own
# (the user called a lock method; how gosync implements it is not theirs)
# and importlib's (a primitive created at import is named by the import
# line). hide_files adds to them.
_hidden: Tuple[str, ...] = (_GOSYNC_DIR, "<frozen importlib.")

_drop_lock = threading.Lock()
_dropped = 0


def hide_files(*prefixes: str) -> None:
    """hide_files leaves frames whose file name starts with one of prefixes
    out of the stacks and creation sites recorded from now on.

    python -m gosync profile hides runpy's frames with it, which would
    otherwise be the root of every stack of the script it runs.
    """
    global _hidden
    _hidden = _hidden + tuple(p for p in prefixes if p not in _hidden)
    _frames.clear()


def short_path(filename: str) -> str:
    """short_path returns filename relative to the current directory if it
    is inside it, else filename as it is (a pseudo-file such as "<stdin>"
    too)."""
    if not os.path.isabs(filename):
        return filename
    try:
        cwd = os.getcwd()
    except OSError:
        return filename
    if filename.startswith(cwd.rstrip(os.sep) + os.sep):
        return os.path.relpath(filename, cwd)
    return filename


# The Frame of each (code, line) seen, or None for a hidden one: a stack is
# then mostly dictionary lookups. A file's path is made relative to the
# directory that was current when its first frame was recorded. Bounded:
# past _MAX_FRAMES entries, frames are made afresh each time.
_frames: Dict[Tuple[CodeType, int], Optional[Frame]] = {}
_MAX_FRAMES = 1 << 16


def _frame(code: CodeType, line: int) -> Optional[Frame]:
    filename = code.co_filename
    if filename.startswith(_hidden):
        return None
    return Frame(str(getattr(code, "co_qualname", code.co_name)), short_path(filename), line)


def stack(frame: Optional[FrameType]) -> Stack:
    """stack returns the call stack from frame outwards, leaf first: at most
    MAX_STACK frames, gosync's own and hidden ones left out."""
    out: List[Frame] = []
    frames = _frames
    while frame is not None and len(out) < MAX_STACK:
        key = (frame.f_code, frame.f_lineno or 0)  # None while a frame starts, on 3.11+
        try:
            f = frames[key]
        except KeyError:
            f = _frame(*key)
            if len(frames) < _MAX_FRAMES:
                frames[key] = f
        if f is not None:
            out.append(f)
        frame = frame.f_back
    return tuple(out)


def site_of(owner: object) -> str:
    """site_of names the primitive owner as the profiles show it: its
    _profile_label (its name= or creation site), else its type and address;
    None, the owner of a select's wait, is "select"."""
    if owner is None:
        return "select"
    label = getattr(owner, "_profile_label", None)
    if isinstance(label, str):
        return label
    return f"{type(owner).__name__} at {id(owner):#x}"


def on_event(kind: int, owner: object, delay_ns: int, weight: float) -> None:
    """on_event records one sampled event of profile kind (0 block, 1
    mutex) that delayed threads by delay_ns, standing for weight events, on
    the primitive owner, charged to the current thread's stack.

    The C hooks call it from inside a lock or unlock call, so it never
    raises: an event it cannot record (a bad argument) is counted in
    dropped() instead.
    """
    global _dropped
    try:
        record(_KIND_NAMES[kind], site_of(owner), stack(sys._getframe(1)), delay_ns, weight)
    except Exception:
        with _drop_lock:
            _dropped += 1


def dropped() -> int:
    """dropped returns how many events on_event could not record."""
    return _dropped


def creation_label(type_: type) -> str:
    """creation_label names a primitive of type type_ that is being created
    without name=: "Type file:line", with the first frame outside gosync
    (its file relative to the current directory when inside it).

    A primitive that gosync creates for one of its own (the Mutex of a
    Once, the lock of a shared Chan) is named after that one, found by the
    __init__ or __new__ of it that runs at the boundary: "Once app.py:12".
    With no frame outside gosync, the label is the type's name alone.
    """
    try:
        hidden = _hidden
        name = type_.__name__
        frame: Optional[FrameType] = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename.startswith(hidden):
            code = frame.f_code
            if code.co_filename.startswith(_GOSYNC_DIR):
                name = type_.__name__
                if code.co_name in ("__init__", "__new__") and code.co_argcount > 0:
                    first = frame.f_locals[code.co_varnames[0]]  # self, or cls
                    name = first.__name__ if isinstance(first, type) else type(first).__name__
            frame = frame.f_back
        if frame is None:
            return name
        return f"{name} {short_path(frame.f_code.co_filename)}:{frame.f_lineno}"
    except Exception:
        return getattr(type_, "__name__", "primitive")


def check_name(type_: type, name: Optional[str]) -> None:
    """check_name raises TypeError, as the binding's constructors do, if
    name, a primitive's name= for the profiles, is neither None nor a str.
    Makers check it before they allocate, so that a bad name costs
    nothing."""
    if name is not None and not isinstance(name, str):
        raise TypeError(f"{type_.__name__} name must be a str, not {type(name).__name__}")
