# Everything else is in pyproject.toml; setuptools takes from here what it
# cannot say: the cffi build, and two things about what a wheel holds.
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py


class BuildPy(build_py):
    """Leaves the cffi build script out of the installed package: it runs at
    build time only (the sdist keeps it)."""

    def find_package_modules(self, package, package_dir):
        modules = super().find_package_modules(package, package_dir)
        return [m for m in modules if (m[0], m[1]) != ("gosync", "_build")]


class BuildExt(build_ext):
    """Links the compiled module stripped of its symbols on Linux: a tenth of
    its size, and nothing a user's traceback needs."""

    def build_extension(self, ext):
        if sys.platform.startswith("linux"):
            ext.extra_link_args = [*ext.extra_link_args, "-s"]
        super().build_extension(ext)


setup(
    cffi_modules=["gosync/_build.py:ffibuilder"],
    cmdclass={"build_py": BuildPy, "build_ext": BuildExt},
)
