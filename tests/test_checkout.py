"""Running from a source checkout whose compiled module is not built: the
import error says so and what to do, and `python -m pytest` from its root
tests the installed package instead."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import gosync

INSTALLED = Path(gosync.__file__).resolve().parent
TESTS = Path(__file__).resolve().parent


def unbuilt_checkout(root: Path) -> Path:
    """unbuilt_checkout lays out a checkout in root, as after `git clone`:
    the package's Python files without the compiled module, pyproject.toml
    and csrc/."""
    shutil.copytree(INSTALLED, root / "gosync", ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__"))
    (root / "csrc").mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'go-sync'\nversion = '0'\n")
    return root


def run(cwd: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, *argv], cwd=cwd, capture_output=True, text=True, timeout=120, env={**environ, **env}
    )


def assert_says_not_built(proc: subprocess.CompletedProcess[str], checkout: Path) -> None:
    assert proc.returncode == 1, proc.stdout + proc.stderr
    last = proc.stderr[proc.stderr.index("ImportError:") :]
    assert f"gosync was imported from {checkout / 'gosync'}, a source checkout" in last, last
    assert "is not built" in last and "`pip install -e .`" in last and "outside the checkout" in last, last
    assert "circular import" not in proc.stderr, proc.stderr


def test_import_from_an_unbuilt_checkout_says_what_to_do(tmp_path: Path) -> None:
    # -S: without site-packages, where an editable install's import hook
    # could hand the copy the compiled module of the tree it was built in.
    checkout = unbuilt_checkout(tmp_path)
    assert_says_not_built(run(checkout, "-S", "-c", "import gosync"), checkout)
    assert_says_not_built(run(checkout, "-S", "-m", "gosync", "race"), checkout)


def test_the_error_names_the_installed_package_it_shadows(tmp_path: Path) -> None:
    checkout = unbuilt_checkout(tmp_path)
    code = f"import sys; sys.path.append({str(INSTALLED.parent)!r}); import gosync"
    proc = run(checkout, "-S", "-c", code)
    assert_says_not_built(proc, checkout)
    assert f"It comes before the installed gosync ({INSTALLED})" in proc.stderr, proc.stderr


WHERE = """
from pathlib import Path

import gosync


def test_where() -> None:
    print("imported from", gosync.__file__)
    assert Path.cwd() not in Path(gosync.__file__).resolve().parents
    assert gosync.Mutex().try_lock()
"""


def test_python_m_pytest_from_an_unbuilt_checkout_tests_the_installed_package(tmp_path: Path) -> None:
    checkout = unbuilt_checkout(tmp_path)
    (checkout / "tests").mkdir()
    shutil.copy(TESTS / "conftest.py", checkout / "tests")
    (checkout / "tests" / "test_where.py").write_text(WHERE)
    # The built package is found through PYTHONPATH here, after the
    # current directory, as site-packages is after a normal install.
    proc = run(
        checkout, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "tests/test_where.py",
        PYTHONPATH=str(INSTALLED.parent),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"imported from {INSTALLED}" in proc.stdout, proc.stdout
