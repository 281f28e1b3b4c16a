"""Sphinx configuration of gosync's API reference (docs/build.sh runs it).

The reference is generated from the docstrings of the gosync that is
installed: nothing here puts the checkout on sys.path, so what is
documented is what a user imports.
"""

import sys
from pathlib import Path

# The extension beside this file (godoc.py), and nothing else of the
# checkout: gosync is imported from where it is installed.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import gosync  # noqa: E402

project = "gosync"
author = "the gosync authors"
release = gosync.__version__
version = release

# godoc: the docstrings are Go-style plain text, not reST (see godoc.py).
extensions = ["sphinx.ext.autodoc", "godoc"]

# Members in source order (for a module with __all__: the order of __all__),
# their signatures from the code, and type hints in the descriptions rather
# than in long signatures. Inherited members are shown, since a lock's
# unlock, try_lock and with are C methods of its private base
# (gosync._gosync.MutexBase), but not those of the builtin exceptions or
# object.
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {
    "members": True,
    "inherited-members": "BaseException,Exception,OSError,RuntimeError,object",
}

# A type hint that names a class only by its last part (an annotation of a
# name imported under TYPE_CHECKING stays a string, such as "Int32") links
# to the class of that name; where two modules have one (gosync.atomic.Int32
# and gosync.shared.atomic.Int32), Sphinx warns that the link is ambiguous.
# That warning says nothing about the text, so it is not an error here.
suppress_warnings = ["ref.python"]

# Quotes as written: Go's, not Go’s.
smartquotes = False
html_theme = "alabaster"
html_title = f"gosync {release}"
