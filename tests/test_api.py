"""The public API as Python tools see it: inspect.signature on every public
method (the C ones too), the names in tracebacks, the exports, and what
mypy infers for user code."""

from __future__ import annotations

import inspect
import os
import site
import sys
import textwrap
import traceback
from pathlib import Path
from typing import Any, Iterator

import pytest

import gosync
import gosync.atomic
from conftest import pypy_cannot


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
    assert str(inspect.signature(gosync.Mutex)) == "()"
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
"""

# Each must be an error: the inferred types are precise, not Any.
WRONG_CODE = """
import gosync
from gosync.atomic import Int64

s: str = gosync.Pool(new=lambda: 1).get()
t: str = gosync.once_values(lambda: (1, 2))()[0]
u: str = gosync.Map[str, int]()["a"]
n = Int64()
n += "x"
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
    assert [int(line.split(":")[1]) for line in errors] == [5, 6, 7, 9], out
