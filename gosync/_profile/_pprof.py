"""The pprof output: a gzipped profile.proto that go tool pprof opens."""

from __future__ import annotations

import gzip
import os
from typing import Dict, List, Tuple

from ._collapsed import site_frame
from ._protobuf import bytes_field, int_field, packed_field
from ._store import Snapshot

# Field numbers of github.com/google/pprof proto/profile.proto
# (package perftools.profiles).
# Profile:
_SAMPLE_TYPE = 1  # repeated ValueType
_SAMPLE = 2  # repeated Sample
_LOCATION = 4  # repeated Location
_FUNCTION = 5  # repeated Function
_STRING_TABLE = 6  # repeated string; string_table[0] must be ""
_TIME_NANOS = 9  # int64
_DURATION_NANOS = 10  # int64
_PERIOD_TYPE = 11  # ValueType
_PERIOD = 12  # int64
# ValueType:
_VT_TYPE = 1  # int64, index into string_table
_VT_UNIT = 2  # int64, index into string_table
# Sample:
_S_LOCATION_ID = 1  # repeated uint64, leaf at location_id[0]
_S_VALUE = 2  # repeated int64, one per sample_type
# Location:
_L_ID = 1  # uint64, nonzero
_L_LINE = 4  # repeated Line
# Line:
_LN_FUNCTION_ID = 1  # uint64
_LN_LINE = 2  # int64
# Function:
_F_ID = 1  # uint64, nonzero
_F_NAME = 2  # int64, index into string_table
_F_SYSTEM_NAME = 3  # int64, index into string_table
_F_FILENAME = 4  # int64, index into string_table


class _Strings:
    def __init__(self) -> None:
        self.table: List[str] = [""]
        self._index: Dict[str, int] = {"": 0}

    def __call__(self, s: str) -> int:
        i = self._index.get(s)
        if i is None:
            i = self._index[s] = len(self.table)
            self.table.append(s)
        return i


def _value_type(strings: _Strings, type_: str, unit: str) -> bytes:
    return int_field(_VT_TYPE, strings(type_)) + int_field(_VT_UNIT, strings(unit))


def function_name(function: str, filename: str) -> str:
    """function_name is how pprof shows a frame's function.

    go tool pprof reads a name wholly in angle brackets as a C++ template
    argument list and shows "<unknown>": a module's code ("<module>") or a
    lambda is named after its file's module ("app.<module>"), as Go names
    a function after its package.
    """
    if function.startswith("<"):
        return f"{os.path.splitext(os.path.basename(filename))[0]}.{function}"
    return function


def pprof(snap: Snapshot) -> bytes:
    """pprof returns snap as a gzipped profile.proto, as Go's runtime/pprof
    writes its block and mutex profiles.

    Each sample has two values, contentions (count) and delay
    (nanoseconds), already scaled for sampling, so the period is 1. Its
    locations are its stack, leaf first, under a leaf location that names
    the primitive's site. Samples are in snap's order; the gzip header has
    no time in it, so equal snapshots give equal bytes.
    """
    strings = _Strings()
    functions: Dict[Tuple[str, str], int] = {}
    locations: Dict[Tuple[int, int], int] = {}
    function_msgs: List[bytes] = []
    location_msgs: List[bytes] = []

    def location(function: str, filename: str, line: int) -> int:
        fkey = (function, filename)
        fid = functions.get(fkey)
        if fid is None:
            fid = functions[fkey] = len(functions) + 1
            name = strings(function)
            function_msgs.append(
                int_field(_F_ID, fid)
                + int_field(_F_NAME, name)
                + int_field(_F_SYSTEM_NAME, name)
                + int_field(_F_FILENAME, strings(filename))
            )
        lkey = (fid, line)
        lid = locations.get(lkey)
        if lid is None:
            lid = locations[lkey] = len(locations) + 1
            line_msg = int_field(_LN_FUNCTION_ID, fid) + int_field(_LN_LINE, line)
            location_msgs.append(int_field(_L_ID, lid) + bytes_field(_L_LINE, line_msg))
        return lid

    out = bytearray()
    out += bytes_field(_SAMPLE_TYPE, _value_type(strings, "contentions", "count"))
    out += bytes_field(_SAMPLE_TYPE, _value_type(strings, "delay", "nanoseconds"))
    for r in snap.stacks:
        ids = [location(site_frame(r.site), "", 0)]
        ids += [location(function_name(f.function, f.filename), f.filename, f.line) for f in r.stack]
        values = [round(r.contentions), round(r.total_ns)]
        out += bytes_field(_SAMPLE, packed_field(_S_LOCATION_ID, ids) + packed_field(_S_VALUE, values))
    for msg in location_msgs:
        out += bytes_field(_LOCATION, msg)
    for msg in function_msgs:
        out += bytes_field(_FUNCTION, msg)
    # period_type's strings must be in the table before it is written.
    period_type = _value_type(strings, "contentions", "count")
    for s in strings.table:
        out += bytes_field(_STRING_TABLE, s.encode("utf-8"))
    out += int_field(_TIME_NANOS, snap.start_ns)
    out += int_field(_DURATION_NANOS, snap.end_ns - snap.start_ns)
    out += bytes_field(_PERIOD_TYPE, period_type)
    out += int_field(_PERIOD, 1)
    return gzip.compress(bytes(out), mtime=0)
