"""The API reference builds with every warning an error, and holds every
public name.

docs/build.sh runs Sphinx on the installed gosync. It needs the docs extra
(pip install ".[docs]"); without Sphinx these tests skip, unless
GOSYNC_REQUIRE_DOCS=1 (as in .ci/run), which makes the skip a failure.
"""

from __future__ import annotations

import html
import importlib
import importlib.util
import inspect
import os
import pkgutil
import re
import subprocess
import sys
import zlib
from pathlib import Path
from types import ModuleType
from typing import Dict, Iterator, Set, Tuple

import pytest

import gosync

DOCS = Path(__file__).resolve().parent.parent / "docs"

# Sphinx reads every docstring: seconds on an idle machine, more under load.
pytestmark = pytest.mark.timeout(600)


def _need_sphinx() -> None:
    if importlib.util.find_spec("sphinx") is None:
        reason = "the API reference needs Sphinx: pip install '.[docs]'"
        if os.environ.get("GOSYNC_REQUIRE_DOCS") == "1":
            pytest.fail(reason + " (GOSYNC_REQUIRE_DOCS=1 forbids skipping)")
        pytest.skip(reason)
    if not (DOCS / "build.sh").is_file():
        pytest.fail(f"{DOCS / 'build.sh'} is missing")


def read_inventory(path: Path) -> Dict[str, str]:
    """objects.inv (Sphinx's inventory, version 2) as {name: role}."""
    data = path.read_bytes()
    lines = data.split(b"\n", 4)
    assert lines[0] == b"# Sphinx inventory version 2", lines[0]
    body = zlib.decompress(lines[4]).decode()
    entries: Dict[str, str] = {}
    for line in body.splitlines():
        # name domain:role priority uri dispname; a name may hold spaces
        # only for labels, never for Python objects.
        name, role, _ = line.split(" ", 2)
        entries[name] = role
    return entries


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The HTML reference, built by docs/build.sh into a fresh folder."""
    _need_sphinx()
    out = tmp_path_factory.mktemp("docs") / "html"
    proc = subprocess.run(
        ["bash", str(DOCS / "build.sh"), str(out)],
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=540,
    )
    # -W makes a warning fail the build; a warning printed without failing
    # it would be a build that does not say what it checks.
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "WARNING" not in proc.stderr and "ERROR" not in proc.stderr, proc.stderr
    return out


@pytest.fixture(scope="module")
def inventory(built: Path) -> Dict[str, str]:
    return read_inventory(built / "objects.inv")


def public_names(module: ModuleType) -> Iterator[Tuple[str, object]]:
    for name in getattr(module, "__all__", ()):
        yield f"{module.__name__}.{name}", getattr(module, name)


def documented_objects(inventory: Dict[str, str]) -> Set[int]:
    """The ids of the modules, and of the objects of modules, that the
    reference holds an entry for (methods are not looked up)."""
    ids: Set[int] = set()
    for name, role in inventory.items():
        if not role.startswith("py:"):
            continue
        if role == "py:module":
            ids.add(id(importlib.import_module(name)))
            continue
        # By attribute, not by import: gosync.select is a function, though
        # gosync/select.py is a module of the same name.
        module_name, _, attr = name.rpartition(".")
        try:
            parent = importlib.import_module(module_name)
        except ImportError:
            continue  # a method or attribute of a class
        if hasattr(parent, attr):
            ids.add(id(getattr(parent, attr)))
    return ids


def test_the_reference_builds_with_warnings_as_errors(inventory: Dict[str, str]) -> None:
    assert inventory.get("gosync") == "py:module"


def test_every_public_name_is_in_the_reference(inventory: Dict[str, str]) -> None:
    documented = documented_objects(inventory)
    modules = [gosync] + [m for _, m in public_names(gosync) if inspect.ismodule(m)]
    modules += [importlib.import_module(n) for n, role in inventory.items() if role == "py:module"]
    missing = []
    for module in modules:
        for name, obj in public_names(module):
            if inspect.ismodule(obj):
                if inventory.get(obj.__name__) != "py:module":
                    missing.append(f"{name} (module {obj.__name__})")
            elif id(obj) not in documented:
                missing.append(name)
    assert not missing, f"public names the reference does not hold: {missing}"


def test_every_public_module_is_in_the_reference(inventory: Dict[str, str]) -> None:
    # A public module (gosync.X, no underscore) reaches users either through
    # what it defines and gosync itself exports (gosync.mutex: gosync.Mutex),
    # or as a module of its own, which then needs its line in
    # docs/reference/index.rst (gosync.etcd re-exports gosync.LeaseLost, but
    # defines Session, which gosync does not export).
    exported = {id(obj) for _, obj in public_names(gosync)}
    missing = []
    for info in pkgutil.iter_modules(gosync.__path__):
        if info.name.startswith("_"):
            continue
        qualified = f"gosync.{info.name}"
        try:
            module = importlib.import_module(qualified)
        except ImportError:
            continue  # an optional dependency (redis-py) is not installed
        if inventory.get(qualified) == "py:module":
            continue
        defined = [obj for _, obj in public_names(module) if getattr(obj, "__module__", None) == qualified]
        if not any(id(obj) in exported for obj in defined):
            missing.append(qualified)
    assert not missing, f"public modules with no entry in docs/reference/index.rst: {missing}"


def _words(text: str) -> str:
    return " ".join(text.split())


def test_docstrings_show_as_written(built: Path) -> None:
    # The docstrings are plain text (docs/reference/godoc.py): and_, *args or
    # a trailing underscore must reach the page as they are written, not be
    # read as reST markup and dropped. The first paragraph of every public
    # docstring, words only, must be in the page's text.
    page = (built / "index.html").read_text()
    text = _words(html.unescape(re.sub(r"<[^>]+>", " ", page)))
    text = re.sub(r" ([,.;:)]) ?", r"\1 ", text)  # a tag boundary may split words from punctuation
    objects = [obj for _, obj in public_names(gosync) if not inspect.ismodule(obj)]
    objects += [obj for _, obj in public_names(gosync.atomic)]
    missing = []
    for obj in objects:
        first = _words((inspect.getdoc(obj) or "").split("\n\n")[0])
        if first and first not in text:
            missing.append(first[:70])
    assert not missing, missing
    assert "and_(~flag) clears a flag" in text and "fn(*args, **kwargs)" in text
