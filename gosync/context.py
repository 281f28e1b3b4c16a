"""context: Go's context package, for threads.

A Context carries a deadline, a cancellation signal and request-scoped
values across API boundaries and between threads. Derived contexts form a
tree: cancelling a context cancels every context derived from it, never
its parent. The functions with_cancel, with_deadline and with_timeout
return a derived context and a cancel function; call cancel as soon as the
work it governs is done, so that the parent lets go of the child.

done() returns a gosync.Chan that is closed when the context is cancelled,
so a thread can wait for cancellation with gosync.select beside its other
channels. Deadlines are served by one timer thread shared by every context
(gosync/_timer.py); no context has a thread of its own.

Deadlines are on the time.monotonic() clock, in seconds.
"""

from __future__ import annotations

import math
import numbers
import time
from typing import Any, Callable, Optional, Protocol, Tuple

from . import _timer
from ._nocopy import WEAKREF_SLOT
from .chan import Chan
from .goroutine import go
from .mutex import Mutex
from .once import Once
from .select import select

__all__ = [
    "Canceled",
    "CancelFunc",
    "CancelCauseFunc",
    "Context",
    "DeadlineExceeded",
    "after_func",
    "background",
    "cause",
    "todo",
    "with_cancel",
    "with_cancel_cause",
    "with_deadline",
    "with_deadline_cause",
    "with_timeout",
    "with_timeout_cause",
    "with_value",
    "without_cancel",
]


class Canceled(Exception):
    """Canceled is the error err() returns when the context was cancelled."""

    def __init__(self, message: str = "context canceled") -> None:
        super().__init__(message)


class DeadlineExceeded(Exception):
    """DeadlineExceeded is the error err() returns when the context's
    deadline passed."""

    def __init__(self, message: str = "context deadline exceeded") -> None:
        super().__init__(message)


class CancelFunc(Protocol):
    """A CancelFunc tells an operation to abandon its work. It does not wait
    for the work to stop. It may be called by several threads at once;
    after the first call, calls do nothing."""

    def __call__(self) -> None: ...


class CancelCauseFunc(Protocol):
    """A CancelCauseFunc is a CancelFunc that also records the cause of the
    cancellation, which cause(ctx) returns. None records err() itself."""

    def __call__(self, cause: Optional[BaseException] = None) -> None: ...


class Context:
    """A Context carries a deadline, a cancellation signal and values.

    This is the interface every context implements; a user's own context
    subclasses it and overrides all four methods. Its methods may be called
    by several threads at once.
    """

    __slots__ = ()

    def deadline(self) -> Tuple[Optional[float], bool]:
        """deadline returns (when, True), when being the time.monotonic()
        time at which the context will be cancelled, or (None, False) when
        it has no deadline."""
        raise NotImplementedError

    def done(self) -> Optional[Chan]:
        """done returns a channel that is closed when the context is
        cancelled, or None if it can never be cancelled. Successive calls
        return the same channel."""
        raise NotImplementedError

    def err(self) -> Optional[BaseException]:
        """err returns None while done() is not yet closed; after, a
        Canceled if the context was cancelled or a DeadlineExceeded if its
        deadline passed. Successive calls return the same object."""
        raise NotImplementedError

    def value(self, key: object) -> Any:
        """value returns the value associated with key by with_value on
        this context or an ancestor, or None."""
        raise NotImplementedError


# ---- the root contexts ---------------------------------------------------------------


class _EmptyCtx(Context):
    """background() and todo(): never cancelled, no deadline, no values."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def deadline(self) -> Tuple[Optional[float], bool]:
        return None, False

    def done(self) -> Optional[Chan]:
        return None

    def err(self) -> Optional[BaseException]:
        return None

    def value(self, key: object) -> Any:
        return None

    def __repr__(self) -> str:
        return self._name


_BACKGROUND = _EmptyCtx("context.Background")
_TODO = _EmptyCtx("context.TODO")


def background() -> Context:
    """background returns a non-nil, empty Context. It is never cancelled,
    has no values and no deadline. It is the top-level context of main,
    of initialisation and of tests."""
    return _BACKGROUND


def todo() -> Context:
    """todo returns a non-nil, empty Context, for code where it is unclear
    which context to use or none is available yet."""
    return _TODO


# ---- channels ----------------------------------------------------------------------


def _new_chan() -> Chan:
    ch: Chan = Chan()
    return ch


_closed_chan: Optional[Chan] = None


def _closed() -> Chan:
    """The one closed channel that done() returns for a context cancelled
    before anyone asked for its channel."""
    global _closed_chan
    ch = _closed_chan
    if ch is None:
        ch = _new_chan()
        ch.close()
        _closed_chan = ch  # a race makes two: harmless, both are closed
    return ch


# ---- cancellation --------------------------------------------------------------------

# value(_CANCEL_KEY) returns the nearest cancellable ancestor, through
# with_value layers; without_cancel answers None. This is Go's cancelCtxKey.
_CANCEL_KEY = object()


class _CancelCtx(Context):
    """A context that can be cancelled; cancelling it cancels its children.

    _mu guards _done's creation, _children, _err and _cause. _err and _done
    are read without it: each is one reference, written once under _mu.
    """

    __slots__ = ("_parent", "_mu", "_done", "_children", "_err", "_cause") + WEAKREF_SLOT

    def __init__(self, parent: Context) -> None:
        self._parent = parent
        self._mu = Mutex()
        self._done: Optional[Chan] = None
        self._children: Optional[dict[_CancelCtx, None]] = {}
        self._err: Optional[BaseException] = None
        self._cause: Optional[BaseException] = None

    def deadline(self) -> Tuple[Optional[float], bool]:
        return _deadline(self._parent)

    def value(self, key: object) -> Any:
        if key is _CANCEL_KEY:
            return self
        return _value(self._parent, key)

    def done(self) -> Optional[Chan]:
        d = self._done
        if d is not None:
            return d
        with self._mu:
            if self._done is None:
                self._done = _new_chan() if self._err is None else _closed()
            return self._done

    def err(self) -> Optional[BaseException]:
        return self._err

    def _cancel(self, remove_from_parent: bool, err: BaseException, cause: Optional[BaseException]) -> None:
        """_cancel closes done, cancels every descendant, and, if
        remove_from_parent, removes self from its parent's children. A
        second call does nothing.

        The subtree is walked with a list, not by recursion: a chain of
        contexts may be deeper than Python's recursion limit, and an error
        half-way would leave part of it uncancelled."""
        pending = [self]
        while pending:
            pending.extend(pending.pop()._cancel_node(err, cause))
        if remove_from_parent:
            _remove_child(self._parent, self)

    def _cancel_node(self, err: BaseException, cause: Optional[BaseException]) -> list[_CancelCtx]:
        """_cancel_node cancels self alone and returns the children it had;
        none if it was already cancelled. The children, whose parent is
        self, need not remove themselves: self has let go of them."""
        with self._mu:
            if self._err is not None:
                return []
            self._cause = cause if cause is not None else err
            self._err = err
            if self._done is not None:
                self._done.close()
            # else done() hands out the shared closed channel from now on.
            children, self._children = self._children, None
        self._cancelled()
        return list(children or ())

    def _cancelled(self) -> None:
        """_cancelled is what a kind of context does once, after it is
        cancelled: stop its timer, start its function."""

    def _propagate_cancel(self, parent: Context) -> None:
        """_propagate_cancel arranges for self to be cancelled with parent."""
        p = _parent_cancel_ctx(parent)
        if p is not None:
            with p._mu:
                if p._err is None:
                    assert p._children is not None
                    p._children[self] = None
                    return
            self._cancel(False, p._err, p._cause)
            return
        done = parent.done()
        if done is None:
            return  # the parent is never cancelled
        err = parent.err()
        if err is not None:
            self._cancel(False, err, cause(parent))
            return
        # A context of the user's own type: a thread waits for either side.
        # It ends when the child is cancelled, so it cannot outlive it.
        own = self.done()
        assert own is not None

        def wait() -> None:
            index, _, _ = select(done.recv, own.recv)
            if index == 0:
                perr = parent.err()
                self._cancel(False, perr if perr is not None else Canceled(), cause(parent))

        go(wait)

    def __repr__(self) -> str:
        return f"{self._parent!r}.WithCancel"


def _parent_cancel_ctx(parent: Context) -> Optional[_CancelCtx]:
    """_parent_cancel_ctx returns the cancellable context whose children
    parent's children may join, or None when parent is not built of this
    module's types (then its done() is not known to be that context's)."""
    while True:
        if isinstance(parent, _CancelCtx):
            return parent
        if isinstance(parent, _ValueCtx):
            parent = parent._parent
            continue
        return None


def _remove_child(parent: Context, child: _CancelCtx) -> None:
    p = _parent_cancel_ctx(parent)
    if p is None:
        return
    with p._mu:
        if p._children is not None:
            p._children.pop(child, None)


def _check_parent(parent: object) -> Context:
    if parent is None:
        raise TypeError("cannot create context from nil parent")
    if not isinstance(parent, Context):
        raise TypeError(f"parent must be a gosync.context.Context, not {type(parent).__name__}")
    return parent


def with_cancel(parent: Context) -> Tuple[Context, CancelFunc]:
    """with_cancel returns a copy of parent with a new done channel, and
    its cancel function. The channel is closed when cancel is called or
    when the parent's is, whichever happens first.

    Cancelling releases what the context holds, so call cancel as soon as
    the work running in it completes.
    """
    c = _CancelCtx(_check_parent(parent))
    c._propagate_cancel(parent)
    return c, lambda: c._cancel(True, Canceled(), None)


def with_cancel_cause(parent: Context) -> Tuple[Context, CancelCauseFunc]:
    """with_cancel_cause is with_cancel, but its cancel function takes a
    cause, which cause(ctx) then returns; err() is still a Canceled.
    cancel() or cancel(None) makes the cause the Canceled itself."""
    c = _CancelCtx(_check_parent(parent))
    c._propagate_cancel(parent)

    def cancel(cause: Optional[BaseException] = None) -> None:
        if cause is not None and not isinstance(cause, BaseException):
            raise TypeError(f"cause must be an exception or None, not {type(cause).__name__}")
        c._cancel(True, Canceled(), cause)

    return c, cancel


def cause(ctx: Context) -> Optional[BaseException]:
    """cause returns why ctx was cancelled: the cause given to the cancel
    function of with_cancel_cause (or of a _cause variant), else err().
    It is None while ctx is not cancelled. Cancelling a parent gives its
    cause to its children."""
    c = _check_parent(ctx).value(_CANCEL_KEY)
    if not isinstance(c, _CancelCtx):
        return ctx.err()
    with c._mu:
        return c._cause


# ---- deadlines ---------------------------------------------------------------------


class _TimerCtx(_CancelCtx):
    """A cancellable context whose deadline is a timer on the shared timer
    thread, stopped when the context is cancelled first."""

    __slots__ = ("_deadline", "_timer")

    def __init__(self, parent: Context, deadline: float) -> None:
        super().__init__(parent)
        self._deadline = deadline
        self._timer: Optional[_timer.Timer] = None

    def deadline(self) -> Tuple[Optional[float], bool]:
        return self._deadline, True

    def _cancelled(self) -> None:
        with self._mu:
            t, self._timer = self._timer, None
        if t is not None:
            t.stop()

    def __repr__(self) -> str:
        return f"{self._parent!r}.WithDeadline({self._deadline:.6f} [{self._deadline - time.monotonic():.6f}s])"


def _seconds(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{what} must be a number, not {type(value).__name__}")
    f = float(value)
    if math.isnan(f):
        raise ValueError(f"{what} must not be NaN")
    return f


def with_deadline(parent: Context, deadline: float) -> Tuple[Context, CancelFunc]:
    """with_deadline returns a copy of parent whose deadline is no later
    than deadline, a time.monotonic() time, and its cancel function. Its
    done channel is closed when the deadline passes (err() is then a
    DeadlineExceeded), when cancel is called, or when the parent's is,
    whichever happens first.

    A deadline already past gives a context that is already done. If the
    parent's deadline is earlier, the result is with_cancel(parent).
    """
    return _with_deadline(parent, _seconds(deadline, "deadline"), None)


def with_deadline_cause(parent: Context, deadline: float, cause: Optional[BaseException]) -> Tuple[Context, CancelFunc]:
    """with_deadline_cause is with_deadline, with cause as the cause when
    the deadline passes. The cancel function does not set the cause."""
    return _with_deadline(parent, _seconds(deadline, "deadline"), _check_cause(cause))


def with_timeout(parent: Context, timeout: float) -> Tuple[Context, CancelFunc]:
    """with_timeout is with_deadline(parent, time.monotonic() + timeout).

    A timeout of zero or less gives a context that is already done, as in
    Go: unlike the timeouts of gosync's blocking calls, a negative timeout
    is not an error here.
    """
    return _with_deadline(parent, time.monotonic() + _seconds(timeout, "timeout"), None)


def with_timeout_cause(parent: Context, timeout: float, cause: Optional[BaseException]) -> Tuple[Context, CancelFunc]:
    """with_timeout_cause is with_timeout, with cause as the cause when
    the timeout passes."""
    return _with_deadline(parent, time.monotonic() + _seconds(timeout, "timeout"), _check_cause(cause))


def _check_cause(c: object) -> Optional[BaseException]:
    if c is not None and not isinstance(c, BaseException):
        raise TypeError(f"cause must be an exception or None, not {type(c).__name__}")
    return c


def _with_deadline(parent: Context, d: float, why: Optional[BaseException]) -> Tuple[Context, CancelFunc]:
    _check_parent(parent)
    current, ok = parent.deadline()
    if ok and current is not None and current < d:
        return with_cancel(parent)  # the parent's deadline comes first
    c = _TimerCtx(parent, d)
    c._propagate_cancel(parent)
    if d <= time.monotonic():
        c._cancel(True, DeadlineExceeded(), why)
    else:
        with c._mu:
            if c._err is None:
                c._timer = _timer.at(d, lambda: c._cancel(True, DeadlineExceeded(), why))
    return c, lambda: c._cancel(True, Canceled(), None)


# ---- values ------------------------------------------------------------------------


class _ValueCtx(Context):
    """A context that carries one key-value pair and delegates the rest."""

    __slots__ = ("_parent", "_key", "_val")

    def __init__(self, parent: Context, key: object, val: object) -> None:
        self._parent = parent
        self._key = key
        self._val = val

    def deadline(self) -> Tuple[Optional[float], bool]:
        return _deadline(self._parent)

    def done(self) -> Optional[Chan]:
        return self._parent.done()

    def err(self) -> Optional[BaseException]:
        return self._parent.err()

    def value(self, key: object) -> Any:
        return _value(self, key)

    def __repr__(self) -> str:
        return f"{self._parent!r}.WithValue({self._key!r}, {self._val!r})"


def _deadline(ctx: Context) -> Tuple[Optional[float], bool]:
    """_deadline walks up the tree without recursion, as _value does."""
    while True:
        if isinstance(ctx, _TimerCtx):
            return ctx._deadline, True
        if isinstance(ctx, (_CancelCtx, _ValueCtx)):
            ctx = ctx._parent
        else:
            return ctx.deadline()


def _value(ctx: Context, key: object) -> Any:
    """_value walks up the tree without recursion: a chain of with_value
    layers can be deeper than Python's recursion limit."""
    while True:
        if isinstance(ctx, _ValueCtx):
            if ctx._key is key or ctx._key == key:
                return ctx._val
            ctx = ctx._parent
        elif isinstance(ctx, _CancelCtx):
            if key is _CANCEL_KEY:
                return ctx
            ctx = ctx._parent
        elif isinstance(ctx, _WithoutCancelCtx):
            if key is _CANCEL_KEY:
                return None
            ctx = ctx._parent
        elif isinstance(ctx, _EmptyCtx):
            return None
        else:
            return ctx.value(key)


def with_value(parent: Context, key: object, val: object) -> Context:
    """with_value returns a copy of parent in which value(key) is val.

    Keys are compared with ==; key must not be None and must be hashable
    (Go's comparable). Use values for request-scoped data, not to pass
    optional parameters to functions; a key of a type of one's own avoids
    collisions between packages.
    """
    _check_parent(parent)
    if key is None:
        raise TypeError("nil key")
    try:
        hash(key)
    except TypeError:
        raise TypeError(f"key is not comparable: {type(key).__name__} is unhashable") from None
    return _ValueCtx(parent, key, val)


# ---- without_cancel and after_func ---------------------------------------------------


class _WithoutCancelCtx(Context):
    """A context with the parent's values but not its cancellation."""

    __slots__ = ("_parent",)

    def __init__(self, parent: Context) -> None:
        self._parent = parent

    def deadline(self) -> Tuple[Optional[float], bool]:
        return None, False

    def done(self) -> Optional[Chan]:
        return None

    def err(self) -> Optional[BaseException]:
        return None

    def value(self, key: object) -> Any:
        return _value(self, key)

    def __repr__(self) -> str:
        return f"{self._parent!r}.WithoutCancel"


def without_cancel(parent: Context) -> Context:
    """without_cancel returns a copy of parent that is not cancelled when
    parent is: it has parent's values, no deadline, a None done() and a
    None err(). cause() of it is None."""
    return _WithoutCancelCtx(_check_parent(parent))


class _AfterFuncCtx(_CancelCtx):
    """The node after_func adds under ctx: cancelling it runs f once."""

    __slots__ = ("_f", "_once", "_inline")

    def __init__(self, parent: Context, f: Callable[[], object], inline: bool) -> None:
        super().__init__(parent)
        self._f = f
        self._once = Once()
        self._inline = inline

    def _cancelled(self) -> None:
        self._once.do(self._run)

    def _run(self) -> None:
        if self._inline:
            self._f()
        else:
            go(self._f)


def after_func(ctx: Context, f: Callable[[], object]) -> Callable[[], bool]:
    """after_func arranges to call f in a new thread (gosync.go) after ctx
    is done, and returns a stop function.

    If ctx is already done, f starts at once. f is called at most once.
    stop() stops the association: it returns True if it kept f from being
    started, False if f had already been started or stop was already
    called. stop does not wait for f to finish.
    """
    if not callable(f):
        raise TypeError(f"after_func() needs a callable, not {type(f).__name__}")
    return _after(_check_parent(ctx), f, inline=False)


def _after(ctx: Context, f: Callable[[], object], inline: bool) -> Callable[[], bool]:
    """after_func, and for gosync's own waits (inline=True) the same with f
    called in the cancelling thread: f must then be quick and must not
    block."""
    a = _AfterFuncCtx(ctx, f, inline)
    a._propagate_cancel(ctx)

    def stop() -> bool:
        stopped = False

        def mark() -> None:
            nonlocal stopped
            stopped = True

        a._once.do(mark)
        if stopped:
            a._cancel(True, Canceled(), None)
        return stopped

    return stop
