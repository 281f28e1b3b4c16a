"""The public API as Python tools see it: inspect.signature on every public
method (the C ones too), the names in tracebacks, the exports, and what
mypy infers for user code."""

from __future__ import annotations

import copy
import gc
import inspect
import os
import pickle
import pydoc
import re
import site
import sys
import textwrap
import traceback
import weakref
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

import gosync
import gosync.atomic
import gosync.context
import gosync.errgroup
import gosync.profile
import gosync.semaphore
import gosync.singleflight
import gosync.shared
import gosync.shared.atomic
from conftest import PYPY, pypy_cannot


def public_classes() -> Iterator[tuple[str, type]]:
    for module in (gosync, gosync.atomic):
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, type):
                yield f"{module.__name__}.{name}", obj


def gosync_methods(cls: type) -> Iterator[tuple[str, Any]]:
    """The public methods of cls that gosync defines (not those it inherits
    from object, BaseException or typing's Protocol), with the context
    manager pair."""
    for klass in cls.__mro__:
        if not klass.__module__.startswith("gosync"):
            continue
        for name, attr in vars(klass).items():
            if (name.startswith("_") and name not in ("__enter__", "__exit__")) or not callable(attr):
                continue
            yield name, getattr(cls, name)


@pytest.mark.parametrize("qualname, cls", list(public_classes()), ids=lambda x: x if isinstance(x, str) else "")
@pypy_cannot("inspect.signature reads no text signature of a C method")
def test_inspect_signature_works_on_every_public_method(qualname: str, cls: type) -> None:
    if not issubclass(cls, BaseException) and cls is not gosync.Locker:
        inspect.signature(cls)  # the constructor
    names = []
    for name, method in gosync_methods(cls):
        names.append(name)
        sig = inspect.signature(method)  # raises ValueError where a C method has no text signature
        assert "self" in sig.parameters or name == "__call__", (qualname, name, sig)
    if cls not in (gosync.SyncError, gosync.LeaseLost, gosync.Locker):
        assert names, qualname


@pypy_cannot("inspect.signature reads no text signature of a C method")
def test_c_method_signatures_say_what_they_take() -> None:
    assert str(inspect.signature(gosync.Mutex)) == "(*, name=None)"
    assert str(inspect.signature(gosync.Chan)) == "(capacity=0, *, name=None)"
    assert str(inspect.signature(gosync.Mutex.unlock)) == "(self, /)"
    assert str(inspect.signature(gosync.WaitGroup.add)) == "(self, delta=1, /)"
    assert str(inspect.signature(gosync.atomic.Int64.compare_and_swap)) == "(self, old, new, /)"
    assert str(inspect.signature(gosync.atomic.Bool.store)) == "(self, value, /)"
    assert str(inspect.signature(gosync.Mutex.__exit__)) == "(self, /, *exc_info)"
    assert str(inspect.signature(gosync.RWMutex().rlocker().try_lock)) == "()"
    assert list(inspect.signature(gosync.Once.do).parameters) == ["self", "fn", "timeout"]
    # The mixins' methods, copied into each class, show no private annotation.
    assert str(inspect.signature(gosync.Mutex.lock)) == "(self, timeout: 'float | None' = None) -> 'bool'"
    assert "_Word" not in str(inspect.signature(gosync.atomic.Int64.__init__))


def test_sync_error_shows_as_gosync_sync_error() -> None:
    try:
        gosync.Mutex().unlock()
    except gosync.SyncError as e:
        lines = traceback.format_exception_only(type(e), e)
    assert lines == ["gosync.SyncError: sync: unlock of unlocked mutex\n"]
    assert repr(gosync.SyncError) == "<class 'gosync.SyncError'>"
    assert gosync.LeaseLost.__module__ == "gosync"


def test_rlocker_is_exported() -> None:
    assert "RLocker" in gosync.__all__
    rl = gosync.RWMutex().rlocker()
    assert type(rl) is gosync.RLocker and isinstance(rl, gosync.Locker)


# ---- what help() shows --------------------------------------------------------------

HELP_MODULES = (
    gosync, gosync.atomic, gosync.context, gosync.errgroup, gosync.profile, gosync.semaphore, gosync.singleflight,
    gosync.shared, gosync.shared.atomic,
)  # fmt: skip


def every_public_class() -> list[Any]:
    return [
        pytest.param(f"{module.__name__}.{name}", obj, id=f"{module.__name__}.{name}")
        for module in HELP_MODULES
        for name in module.__all__
        if isinstance(obj := getattr(module, name), type)
    ]


def _private(dotted: str) -> bool:
    """Whether dotted names something private of gosync's (pydoc leaves
    out the module of a class in the documented class's own). The standard
    library's own spelling is its affair (pickle.UnpicklingError, a base of
    gosync.shared.UnpicklingError, is _pickle.UnpicklingError)."""
    parts = dotted.split(".")
    if len(parts) == 1:
        return dotted.startswith("_")
    return parts[0] == "gosync" and any(part.startswith("_") for part in parts)


def _help_class_names(page: str) -> tuple[list[str], list[str]]:
    """The bases on help()'s first class line, and every class that its
    "Method resolution order" section and its "... inherited from X:"
    headings name."""
    lines = [line.lstrip(" |").rstrip() for line in page.splitlines()]
    first = next(line for line in lines if re.match(r"(\w+ = )?class \w+", line))
    bases = re.search(r"\((.*)\)$", first)
    named: list[str] = []
    if "Method resolution order:" in lines:
        at = lines.index("Method resolution order:") + 1
        while lines[at]:
            named.append(lines[at])
            at += 1
    named += [m.group(1) for line in lines if (m := re.match(r".* inherited from (\S+):$", line))]
    return ([] if bases is None else bases.group(1).split(", ")), named


@pytest.mark.parametrize("qualname, cls", every_public_class())
def test_help_shows_no_private_base(qualname: str, cls: type) -> None:
    page = pydoc.render_doc(cls, renderer=pydoc.plaintext)
    bases, named = _help_class_names(page)
    assert not [b for b in bases if _private(b)], (qualname, bases)
    assert not [n for n in named if _private(n)], (qualname, named)
    # The class itself is named as the user reached it, in a public module.
    assert cls.__qualname__ == qualname.rsplit(".", 1)[1] and not _private(cls.__module__)


def test_help_test_sees_private_bases() -> None:
    # What the test above reads, on a page of today's shape.
    class Shown(gosync.Mutex):
        pass

    page = f"""class Shown(gosync._gosync.MutexBase, gosync._timeout.TimedLock, builtins.object)
 |  Method resolution order:
 |      Shown
 |      gosync._timeout.TimedLock
 |      builtins.object
 |
 |  Methods inherited from gosync._nocopy.NoCopy:
"""
    bases, named = _help_class_names(page)
    assert bases == ["gosync._gosync.MutexBase", "gosync._timeout.TimedLock", "builtins.object"]
    assert named == ["Shown", "gosync._timeout.TimedLock", "builtins.object", "gosync._nocopy.NoCopy"]
    assert [_private(n) for n in named + ["_Mixin", "_pickle.UnpicklingError"]] == [
        False, True, False, True, True, False,
    ]  # fmt: skip
    assert _help_class_names(pydoc.render_doc(Shown, renderer=pydoc.plaintext))[0] == ["gosync.mutex.Mutex"]


def _weakly_referenced() -> list[tuple[str, Callable[[], object]]]:
    rw = gosync.RWMutex()
    made: list[tuple[str, Callable[[], object]]] = [
        ("Mutex", gosync.Mutex), ("RWMutex", gosync.RWMutex), ("WaitGroup", gosync.WaitGroup),
        ("Cond", lambda: gosync.Cond(gosync.Mutex())), ("Chan", gosync.Chan), ("Map", gosync.Map),
        ("Once", gosync.Once), ("Pool", gosync.Pool), ("Weighted", lambda: gosync.semaphore.Weighted(1)),
        ("Int32", gosync.atomic.Int32), ("Uint32", gosync.atomic.Uint32), ("Int64", gosync.atomic.Int64),
        ("Uint64", gosync.atomic.Uint64), ("Bool", gosync.atomic.Bool), ("Value", gosync.atomic.Value),
    ]  # fmt: skip
    if PYPY:  # every object, there
        made.append(("RLocker", rw.rlocker))
    return made


@pytest.mark.parametrize("name, make", _weakly_referenced(), ids=lambda x: x if isinstance(x, str) else "")
def test_public_classes_can_be_weakly_referenced(name: str, make: Callable[[], object]) -> None:
    obj = make()
    died: list[object] = []
    ref = weakref.ref(obj, died.append)
    assert ref() is obj
    del obj
    gc.collect()  # PyPy frees at its collector's choice
    assert ref() is None and died == [ref], name


@pypy_cannot("cpyext does not traverse a C object's references, so such a cycle is PyPy's to leak")
def test_a_cond_or_semaphore_in_a_cycle_is_collected() -> None:
    # Their Python attributes are members of the C type, which the
    # collector must see through (tp_traverse).
    class Holder:
        cond: Any = None

        def lock(self) -> None:
            pass

        def unlock(self) -> None:
            pass

    holder = Holder()
    holder.cond = gosync.Cond(holder)  # holder -> cond -> cond._L is holder
    sem = gosync.semaphore.Weighted(1)
    sem._waiters.append(sem)  # sem -> its queue -> sem
    refs = [weakref.ref(holder.cond), weakref.ref(sem)]
    del holder, sem
    gc.collect()
    assert [r() for r in refs] == [None, None]


def test_users_subclass_the_public_lock_types() -> None:
    class Named(gosync.Mutex):
        def __init__(self, name: str) -> None:
            self.name = name

    m = Named("m")
    assert isinstance(m, gosync.Mutex) and type(m).__mro__ == (Named, gosync.Mutex, object)
    assert m.lock() and m.locked() and not m.try_lock()
    m.unlock()
    with m:
        assert m.locked()
    assert m.lock(timeout=0.01) and not m.lock(timeout=0.01)
    m.release()
    assert repr(m) == "<gosync.Mutex unlocked waiters=0>" and m.name == "m"
    ref = weakref.ref(m)
    with pytest.raises(TypeError, match=r"test_api.*Named must not be copied or pickled"):
        pickle.dumps(m)
    with pytest.raises(TypeError, match=r"test_api.*Named must not be copied or pickled"):
        copy.copy(m)
    del m
    gc.collect()
    assert ref() is None
    assert isinstance(gosync.Mutex(), gosync.Mutex) and not isinstance(gosync.RWMutex(), gosync.Mutex)

    class Waiting(gosync.WaitGroup):
        pass

    wg = Waiting()
    wg.go(lambda: None).join()
    assert wg.wait(timeout=1) and repr(wg) == "<gosync.WaitGroup counter=0 waiters=0>"
    rw = gosync.RWMutex()
    rl = rw.rlocker()
    with rl:
        assert not rw.try_lock() and rl.rwmutex is rw


def test_public_refuses_what_a_c_type_cannot_carry() -> None:
    from gosync._public import public

    before = dict(vars(gosync.Mutex))

    def refused(body: dict[str, Any], fragment: str) -> None:
        cls = type("Mutex", (gosync.Mutex,), {"__module__": "gosync.mutex", "__slots__": (), **body})
        with pytest.raises(TypeError, match=fragment):
            public(cls)

    class Uses:
        def f(self) -> object:
            return super().__repr__()

    refused({"f": Uses.f}, "uses super")

    class NewMixin:
        __slots__ = ()

        def __new__(cls) -> Any:
            return None

    with pytest.raises(TypeError, match="must not define __new__"):
        public(type("Mutex", (gosync.Mutex, NewMixin), {"__module__": "gosync.mutex", "__slots__": ()}))
    refused({"__slots__": ("x",)}, "empty __slots__")
    with pytest.raises(TypeError, match="first base"):
        public(type("Mutex", (gosync.Mutex,), {"__slots__": ()}))  # another module
    assert dict(vars(gosync.Mutex)) == before


# ---- what mypy --strict infers for user code ------------------------------------------

USER_CODE = """
import threading
from typing import NamedTuple, Optional
from typing_extensions import assert_type

import gosync
from gosync.atomic import Bool, Int64

# A Mutex is a lock for threading.Condition.
cond = threading.Condition(gosync.Mutex())

# Pool(new=f).get() has f's return type; without new, get may return None.
pool = gosync.Pool(new=lambda: bytearray(16))
assert_type(pool.get(), bytearray)
bare: gosync.Pool[Optional[bytes]] = gosync.Pool()
assert_type(bare.get(), Optional[bytes])

# once_values keeps the tuple's type; once_value its value's.
class Pair(NamedTuple):
    a: int
    b: str

def two() -> tuple[int, str]:
    return 1, "a"

def many() -> list[int]:
    return [1]

assert_type(gosync.once_values(two)(), tuple[int, str])
assert_type(gosync.once_values(lambda: Pair(1, "x"))(), Pair)
assert_type(gosync.once_values(many)(), tuple[int, ...])
assert_type(gosync.once_value(lambda: 3)(), int)

class Config:
    @gosync.once_value
    def port(self) -> int:
        return 1

    @gosync.once_values
    def pair(self) -> tuple[int, str]:
        return 1, ""

assert_type(Config().port(), int)
assert_type(Config().pair(), tuple[int, str])

# The atomics' protocols.
n = Int64(1)
n += 1
n -= 1
n &= 3
n |= 4
assert_type(n, Int64)
if Bool():
    pass
x: int = int(n) + [1, 2][n]
ok: bool = n < 3 and n == 2 and n >= 1.5

# Map's container protocols.
m: gosync.Map[str, int] = gosync.Map()
m["a"] = 1
del m["a"]
assert_type(m["a"], int)
assert_type(m.get("a"), Optional[int])
assert_type(m.get("a", "none"), "int | str")
assert_type(list(m.items()), list[tuple[str, int]])
assert_type("a" in m, bool)

rl: gosync.RLocker = gosync.RWMutex().rlocker()
assert_type(gosync.Once().do(lambda: None, timeout=1), bool)

# The contention profiles.
import gosync.profile
assert_type(gosync.profile.set_mutex_profile_fraction(-1), int)
with gosync.profile.profiling(mutex_fraction=100, block_rate=10_000):
    db = gosync.Mutex(name="db")
assert_type(gosync.profile.table("mutex", limit=5), str)
"""

# Each must be an error: the inferred types are precise, not Any.
WRONG_CODE = """
import gosync
import gosync.profile
from gosync.atomic import Int64

s: str = gosync.Pool(new=lambda: 1).get()
t: str = gosync.once_values(lambda: (1, 2))()[0]
u: str = gosync.Map[str, int]()["a"]
n = Int64()
n += "x"
gosync.profile.set_block_profile_rate(0.5)
"""


def _mypy(tmp_path: Path, code: str) -> tuple[str, int]:
    api = pytest.importorskip("mypy.api", reason="mypy is not installed (.ci/run installs it)")
    path = tmp_path / "user_code.py"
    path.write_text(textwrap.dedent(code))
    env_path = os.environ.get("MYPYPATH")
    # An editable install is not found by mypy: point it at the package
    # imported here, unless that is in site-packages, which mypy finds.
    package_root = str(Path(gosync.__file__).resolve().parent.parent)
    site_dirs = {str(Path(p).resolve()) for p in site.getsitepackages() + [site.getusersitepackages()]}
    try:
        if package_root not in site_dirs:
            os.environ["MYPYPATH"] = package_root
        args = ["--strict", "--no-incremental", "--cache-dir", os.devnull, "--python-executable", sys.executable]
        out, err, status = api.run([*args, str(path)])
    finally:
        if env_path is None:
            os.environ.pop("MYPYPATH", None)
        else:
            os.environ["MYPYPATH"] = env_path
    return out + err, status


@pytest.mark.timeout(300)
def test_mypy_strict_accepts_user_code_and_infers_precise_types(tmp_path: Path) -> None:
    out, status = _mypy(tmp_path, USER_CODE)
    assert status == 0, out


@pytest.mark.timeout(300)
def test_mypy_strict_rejects_wrong_types(tmp_path: Path) -> None:
    out, status = _mypy(tmp_path, WRONG_CODE)
    assert status == 1, out
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert [int(line.split(":")[1]) for line in errors] == [6, 7, 8, 10, 11], out
