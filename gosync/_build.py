"""The cffi build script: compiles the C core and the binding into gosync._gosync.

setuptools runs it through ``cffi_modules`` in setup.py. The cdef lives in
_cdef.h and the glue in _binding.c, so no C hides in Python strings; the
core's C files are named in csrc/sources.txt, which the C harness reads too;
every C file is listed in ``depends`` so that editing a header rebuilds the
module.
"""

import os
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent
CSRC = HERE.parent / "csrc"
# The one list of the core's C files, shared with csrc/tests/run.sh.
SOURCES_TXT = CSRC / "sources.txt"
CORE_SOURCES = [
    line.strip() for line in SOURCES_TXT.read_text().splitlines() if line.strip() and not line.startswith("#")
]


def _rel(path: Path) -> str:
    # setuptools wants source paths relative to the project, which is the
    # working directory when it runs this script.
    return os.path.relpath(path)


ffibuilder = FFI()
ffibuilder.cdef((HERE / "_cdef.h").read_text())
ffibuilder.set_source(
    "gosync._gosync",
    (HERE / "_binding.c").read_text(),
    # _binding.c is the module's text; the other parts of the binding
    # (_binding_*.c, sharing _binding.h) are sources of their own.
    sources=[_rel(CSRC / name) for name in CORE_SOURCES]
    + [_rel(p) for p in sorted(HERE.glob("_binding_*.c"))],
    include_dirs=[_rel(CSRC), _rel(HERE)],
    depends=[_rel(p) for p in sorted(CSRC.glob("*.[ch]")) + sorted(HERE.glob("_binding*.[ch]")) + [SOURCES_TXT]],
    extra_compile_args=["-std=c11", "-O2", "-Wall"],
    # The lock types in _binding.c use the full C API (METH_FASTCALL and
    # friends, for Python 3.9 too), so the module is built per CPython
    # version instead of for the stable ABI.
    define_macros=[("_CFFI_NO_LIMITED_API", None)],
    py_limited_api=False,
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
