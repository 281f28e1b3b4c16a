"""Each part of the binding (gosync/_binding*.c) compiles on its own against
this interpreter's headers: the parts share only _binding.h, not a unity
build's namespace."""

from __future__ import annotations

import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PARTS = sorted((REPO / "gosync").glob("_binding*.c"))
CC = shutil.which("cc") or shutil.which("gcc")


def test_the_parts_are_found() -> None:
    assert len(PARTS) >= 10, PARTS


@pytest.mark.skipif(CC is None, reason="no C compiler")
@pytest.mark.parametrize("part", PARTS, ids=[p.name for p in PARTS])
def test_part_compiles_alone(part: Path) -> None:
    assert CC is not None
    cmd = [
        CC, "-std=c11", "-fsyntax-only", "-Wall", "-Werror",
        "-I", str(REPO / "csrc"), "-I", str(REPO / "gosync"),
        "-I", sysconfig.get_paths()["include"], str(part),
    ]  # fmt: skip
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
