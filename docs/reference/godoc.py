"""A Sphinx extension that reads gosync's docstrings as Go's doc comments.

gosync's docstrings are written in Go's doc style, not in reStructuredText:
paragraphs of plain prose, indented blocks of code, and lists whose items
start with "- " (or "1. "). Read as reST, plain prose breaks in places that
have nothing to do with the text: and_ is a link to a target "and", *args
opens an emphasis, an indented line is an error. So before autodoc parses a
docstring, this extension turns it into reST that shows exactly what is
written, the way godoc would:

- a paragraph's text is escaped, so that no character in it is markup;
- an indented block that does not start with a list marker is code (a
  literal block), up to the next unindented line, blank lines included;
- a block whose first line starts with a list marker is a list, whether
  indented or not; an item's continuation lines belong to it;
- a block that starts with ">>>" is an interactive example, kept as it is.

Nothing in gosync's docstrings is therefore ever reST markup, and a warning
under -W means that something else is wrong: a name that does not import, a
duplicate, a broken signature.
"""

from __future__ import annotations

import re
from typing import Any, List

LIST_ITEM = re.compile(r"^(\s*)([-*+]|\d+[.)])\s+")
# A line of one repeated punctuation character: a section underline or a
# transition in reST.
RULE = re.compile(r"^\s*([!-/:-@\[-`{-~])\1{3,}\s*$")
INLINE = re.compile(r"([\\*`_|\[\]<>])")
# Characters that make a block start something else in reST (a bullet or
# option list, a field list, a comment or directive, a doctest, a quote).
BLOCK_START = tuple("-+*:.>#=|@")
# An enumerated-list marker at a block's start: "A. ", "(1) ", "iv) ".
ENUMERATOR = re.compile(r"^\s*\(?[A-Za-z0-9#]+[.)]\s")


def escape(text: str) -> str:
    """text with every inline markup character escaped."""
    return INLINE.sub(r"\\\1", text)


def escape_line(line: str, first: bool) -> str:
    body = escape(line)
    starts_block = line.lstrip().startswith(BLOCK_START) or ENUMERATOR.match(line)
    if RULE.match(line) or (first and starts_block):
        indent = len(body) - len(body.lstrip())
        body = body[:indent] + "\\" + body[indent:]
    return body


def blocks(lines: List[str]) -> List[List[str]]:
    """lines split into blank-line-separated blocks; a block whose lines
    change indentation from unindented to indented is split there too."""
    out: List[List[str]] = []
    cur: List[str] = []
    for line in lines:
        if not line.strip():
            if cur:
                out.append(cur)
            cur = []
            continue
        if cur and not cur[0].startswith(" ") and line.startswith(" ") and not LIST_ITEM.match(cur[0]):
            out.append(cur)  # prose followed by an indented block, no blank line
            cur = []
        cur.append(line)
    if cur:
        out.append(cur)
    return out


def list_block(block: List[str]) -> List[str]:
    """A list: dedented, each item's continuation lines aligned with its text."""
    base = min(len(line) - len(line.lstrip()) for line in block)
    out: List[str] = []
    hang = 0
    for line in block:
        line = line[base:]
        m = LIST_ITEM.match(line)
        if m and not m.group(1):
            marker = line[: m.end()]
            hang = len(marker)
            out.append(marker + escape(line[m.end() :]))
        else:
            out.append(" " * hang + escape(line.lstrip()))
    return out


def godoc_to_rst(lines: List[str]) -> List[str]:
    """The reST that shows the Go-style docstring lines as they are written."""
    out: List[str] = []
    in_code = False
    for block in blocks(lines):
        first = block[0]
        if LIST_ITEM.match(first):
            in_code = False
            out += list_block(block)
        elif first.startswith(" "):
            if not in_code:
                out += ["::", ""]
            in_code = True
            out += ["    " + line for line in block]
        elif first.startswith(">>>"):
            in_code = False
            out += block
        else:
            in_code = False
            out += [escape_line(line, i == 0) for i, line in enumerate(block)]
        out.append("")
    return out


def process_docstring(app: Any, what: str, name: str, obj: Any, options: Any, lines: List[str]) -> None:
    lines[:] = godoc_to_rst(lines)


def setup(app: Any) -> dict[str, Any]:
    app.connect("autodoc-process-docstring", process_docstring)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
