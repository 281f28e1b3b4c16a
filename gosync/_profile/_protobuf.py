"""A minimal protocol buffers encoder: the wire format, nothing else.

Only what profile.proto needs: varints (wire type 0), length-delimited
fields (wire type 2) and packed repeated varints.
"""

from __future__ import annotations

from typing import Iterable

_VARINT = 0
_LEN = 2


def varint(n: int) -> bytes:
    """varint encodes n as a base-128 varint.

    A negative n is encoded as its 64-bit two's complement (10 bytes), as
    protobuf encodes a negative int64. n outside int64 and uint64 raises
    ValueError.
    """
    if n < -(1 << 63) or n >= 1 << 64:
        raise ValueError(f"gosync: {n} does not fit in 64 bits")
    n &= (1 << 64) - 1
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _key(field: int, wire_type: int) -> bytes:
    return varint(field << 3 | wire_type)


def int_field(field: int, n: int) -> bytes:
    """int_field encodes an int64 or uint64 field; 0, the default, is omitted."""
    if n == 0:
        return b""
    return _key(field, _VARINT) + varint(n)


def bytes_field(field: int, data: bytes) -> bytes:
    """bytes_field encodes a string, bytes or embedded message field.

    It is written even when empty: a repeated string's "" is an element.
    """
    return _key(field, _LEN) + varint(len(data)) + data


def packed_field(field: int, values: Iterable[int]) -> bytes:
    """packed_field encodes a repeated int64 or uint64 field, packed.

    An empty list is omitted.
    """
    body = b"".join(varint(v) for v in values)
    if not body:
        return b""
    return bytes_field(field, body)
