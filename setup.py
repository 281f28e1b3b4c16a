# Everything else is in pyproject.toml; setuptools takes the cffi build from here.
from setuptools import setup

setup(cffi_modules=["gosync/_build.py:ffibuilder"])
