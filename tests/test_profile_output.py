"""The contention profile's store and its three outputs (gosync._profile):
the table, collapsed stacks and the gzipped pprof protobuf, which is read
back here by a decoder of the test's own, not by the encoder's code."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
from pathlib import Path
from typing import Dict, Iterator, List, Tuple, Union

import pytest
from conftest import run_threads

from gosync._profile import BLOCK, MUTEX, Frame, Store, collapsed, pprof, table
from gosync._profile._format import duration

MS = 1_000_000
START_NS = 1_700_000_000_123_456_789  # a wall-clock time: a 9-byte varint
END_NS = START_NS + 5_000 * MS

MAIN = Frame("main", "app.py", 40)
SERVE = Frame("serve", "app.py", 20)
HANDLE = Frame("handle", "app.py", 12)
FLUSH = Frame("flush", "store.py", 7)


def fixed_clock() -> Iterator[int]:
    yield START_NS
    while True:
        yield END_NS


def new_store() -> Store:
    return Store(clock=fixed_clock().__next__)


def three_sites() -> Store:
    """hot: 20ms over 10 waits on two stacks; warm: one 15ms wait; cold: one
    4ms wait sampled with weight 3 (12ms); plus a block event that the mutex
    profile must not show."""
    s = new_store()
    for i in range(10):
        stack = (HANDLE, SERVE, MAIN) if i % 2 else (FLUSH, MAIN)
        s.record(MUTEX, "hot.py:1", stack, 2 * MS)
    s.record(MUTEX, "warm.py:2", (SERVE, MAIN), 15 * MS)
    s.record(MUTEX, "cold.py:3", (MAIN,), 4 * MS, weight=3.0)
    s.record(BLOCK, "block.py:9", (MAIN,), 900 * MS)
    return s


def table_rows(text: str) -> List[List[str]]:
    lines = text.splitlines()
    assert lines[1].split() == ["site", "count", "total", "mean", "p99"]
    return [line.split() for line in lines[2:]]


def test_table_lists_primitives_by_total_wait_with_their_figures() -> None:
    text = table(three_sites().snapshot(MUTEX))
    assert text.splitlines()[0] == "mutex profile: top 3 of 3 primitives by total wait"
    assert table_rows(text) == [
        ["hot.py:1", "10", "20ms", "2ms", "2ms"],
        ["warm.py:2", "1", "15ms", "15ms", "15ms"],
        ["cold.py:3", "3", "12ms", "4ms", "4ms"],
    ]


def test_table_limit_keeps_the_largest() -> None:
    rows = table_rows(table(three_sites().snapshot(MUTEX), limit=2))
    assert [r[0] for r in rows] == ["hot.py:1", "warm.py:2"]
    with pytest.raises(ValueError):
        table(three_sites().snapshot(MUTEX), limit=0)


def test_the_block_profile_is_kept_apart() -> None:
    rows = table_rows(table(three_sites().snapshot(BLOCK)))
    assert rows == [["block.py:9", "1", "900ms", "900ms", "900ms"]]


def test_p99_ranks_the_waits() -> None:
    s = new_store()
    for _ in range(99):
        s.record(MUTEX, "a", (MAIN,), 1 * MS)
    s.record(MUTEX, "a", (MAIN,), 100 * MS)  # the 100th: above the 99th percentile
    for i in range(1, 1001):
        s.record(MUTEX, "b", (MAIN,), i * 1000)
    for _ in range(100):
        s.record(MUTEX, "c", (MAIN,), 600_000)
    s.record(MUTEX, "c", (MAIN,), 10 * MS)
    p99 = {r.site: r.p99_ns for r in s.snapshot(MUTEX).sites}
    # The histogram's buckets are at most 1/8 of their lower bound wide.
    assert 1 * MS <= p99["a"] <= 1.125 * MS
    assert 990_000 <= p99["b"] <= 990_000 * 1.125
    assert 600_000 <= p99["c"] <= 600_000 * 1.125


def test_duration_prints_like_go() -> None:
    assert [duration(n) for n in (0, 850, 1500, 2 * MS, 1_234_567, 2_000_000_000, 61_500_000_000)] == [
        "0ns",
        "850ns",
        "1.5µs",
        "2ms",
        "1.235ms",
        "2s",
        "61.5s",
    ]


def test_collapsed_stacks_are_root_first_with_the_primitive_as_leaf() -> None:
    s = three_sites()
    s.record(MUTEX, "odd;site", (Frame("a;b", "x.py", 1),), 7)
    assert collapsed(s.snapshot(MUTEX)) == (
        "a:b (x.py:1);[odd:site] 7\n"
        "main (app.py:40);[cold.py:3] 12000000\n"
        "main (app.py:40);flush (store.py:7);[hot.py:1] 10000000\n"
        "main (app.py:40);serve (app.py:20);[warm.py:2] 15000000\n"
        "main (app.py:40);serve (app.py:20);handle (app.py:12);[hot.py:1] 10000000\n"
    )
    assert collapsed(new_store().snapshot(MUTEX)) == ""


def test_bad_input_is_refused_and_records_nothing() -> None:
    s = new_store()
    for args in [("lock", "a", (MAIN,), 1, 1.0), (MUTEX, "a", (MAIN,), -1, 1.0), (MUTEX, "a", (MAIN,), 1, 0.0)]:
        with pytest.raises(ValueError):
            s.record(*args)
    with pytest.raises(ValueError):
        s.snapshot("lock")
    snap = s.snapshot(MUTEX)
    assert snap.sites == [] and snap.stacks == []


# A protobuf wire-format reader, written from the encoding spec, apart from
# the encoder under test. A message becomes {field number: [values]}: an int
# for a varint, bytes for a length-delimited field.
Message = Dict[int, List[Union[int, bytes]]]


def read_varint(data: bytes, i: int) -> Tuple[int, int]:
    n = shift = 0
    while True:
        b = data[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return n, i


def decode(data: bytes) -> Message:
    fields: Message = {}
    i = 0
    while i < len(data):
        key, i = read_varint(data, i)
        field, wire_type = key >> 3, key & 7
        value: Union[int, bytes]
        if wire_type == 0:
            value, i = read_varint(data, i)
        elif wire_type == 2:
            n, i = read_varint(data, i)
            value = data[i : i + n]
            assert len(value) == n, "truncated field"
            i += n
        else:
            raise AssertionError(f"unexpected wire type {wire_type} for field {field}")
        fields.setdefault(field, []).append(value)
    assert i == len(data)
    return fields


def ints(m: Message, field: int) -> List[int]:
    """A repeated integer field, packed (one bytes value) or not."""
    out: List[int] = []
    for v in m.get(field, []):
        if isinstance(v, bytes):
            j = 0
            while j < len(v):
                n, j = read_varint(v, j)
                out.append(n)
        else:
            out.append(v)
    return out


def one_int(m: Message, field: int) -> int:
    vs = m.get(field, [0])  # proto3: an absent scalar is 0
    assert len(vs) == 1 and isinstance(vs[0], int)
    return vs[0]


def messages(m: Message, field: int) -> List[Message]:
    return [decode(v) for v in m.get(field, []) if isinstance(v, bytes)]


def test_pprof_decodes_field_by_field() -> None:
    raw = gzip.decompress(pprof(three_sites().snapshot(MUTEX)))
    p = decode(raw)
    strings = [s.decode("utf-8") for s in p[6] if isinstance(s, bytes)]
    assert strings[0] == ""

    def text(index: int) -> str:
        assert 0 <= index < len(strings)
        return strings[index]

    def value_type(m: Message) -> Tuple[str, str]:
        return text(one_int(m, 1)), text(one_int(m, 2))

    assert [value_type(vt) for vt in messages(p, 1)] == [("contentions", "count"), ("delay", "nanoseconds")]
    assert [value_type(vt) for vt in messages(p, 11)] == [("contentions", "count")]
    assert one_int(p, 12) == 1
    assert one_int(p, 9) == START_NS
    assert one_int(p, 10) == END_NS - START_NS

    functions: Dict[int, Tuple[str, str]] = {}
    for f in messages(p, 5):
        fid = one_int(f, 1)
        assert fid != 0 and fid not in functions
        functions[fid] = (text(one_int(f, 2)), text(one_int(f, 4)))
    locations: Dict[int, Tuple[str, str, int]] = {}
    for loc in messages(p, 4):
        lid = one_int(loc, 1)
        assert lid != 0 and lid not in locations
        (line,) = messages(loc, 4)
        name, filename = functions[one_int(line, 1)]
        locations[lid] = (name, filename, one_int(line, 2))

    samples = []
    for sample in messages(p, 2):
        values = ints(sample, 2)
        assert len(values) == 2
        stack = tuple(locations[lid] for lid in ints(sample, 1))
        samples.append((stack, values[0], values[1]))
    assert sum(count for _, count, _ in samples) == 10 + 1 + 3
    assert sum(delay for _, _, delay in samples) == 20 * MS + 15 * MS + 12 * MS
    assert sorted(samples) == sorted(
        [
            ((("[cold.py:3]", "", 0), ("main", "app.py", 40)), 3, 12 * MS),
            ((("[hot.py:1]", "", 0), ("flush", "store.py", 7), ("main", "app.py", 40)), 5, 10 * MS),
            (
                (("[hot.py:1]", "", 0), ("handle", "app.py", 12), ("serve", "app.py", 20), ("main", "app.py", 40)),
                5,
                10 * MS,
            ),
            ((("[warm.py:2]", "", 0), ("serve", "app.py", 20), ("main", "app.py", 40)), 1, 15 * MS),
        ]
    )


def test_varints_read_back() -> None:
    from gosync._profile._protobuf import varint

    edges = [0, 1, 127, 128, 255, 300, 16383, 16384, (1 << 63) - 1, (1 << 64) - 1]
    for n in edges:
        data = varint(n)
        assert read_varint(data, 0) == (n, len(data))
    assert varint(-1) == varint((1 << 64) - 1)  # an int64 -1, as protobuf writes it
    with pytest.raises(ValueError):
        varint(1 << 64)


def test_pprof_of_an_empty_profile_has_types_and_no_samples() -> None:
    p = decode(gzip.decompress(pprof(new_store().snapshot(BLOCK))))
    assert 2 not in p and 4 not in p and 5 not in p
    assert len(p[1]) == 2 and p[6][0] == b""


@pytest.mark.timeout(120)
def test_concurrent_records_are_all_counted(fast_switching: None) -> None:
    threads, events = 8, 2000
    s = new_store()
    sites = ["a", "b", "c"]

    def recorder(t: int) -> None:
        # Every thread records the same new stacks at about the same time,
        # so that the threads also race to create each stack's sum.
        for i in range(events):
            s.record(MUTEX, sites[i % 3], (Frame("f", "t.py", i // 2),), i + t)

    run_threads(threads, recorder)
    snap = s.snapshot(MUTEX)
    want_total = sum(i + t for t in range(threads) for i in range(events))
    assert sum(r.contentions for r in snap.sites) == threads * events
    assert sum(r.total_ns for r in snap.sites) == want_total
    assert sum(r.contentions for r in snap.stacks) == threads * events
    assert sum(r.total_ns for r in snap.stacks) == want_total
    by_site = {r.site: r.contentions for r in snap.sites}
    assert by_site == {site: threads * len(range(k, events, 3)) for k, site in enumerate(sites)}


def go_tool_pprof(path: Path, *flags: str) -> str:
    """The output of go tool pprof on path. Without go the test skips,
    unless GOSYNC_REQUIRE_SERVERS=1 (as in .ci/run, which installs the
    distribution's golang-go), which makes the skip a failure."""
    if shutil.which("go") is None:
        reason = "go is not installed: the round trip needs go tool pprof (Debian package golang-go)"
        if os.environ.get("GOSYNC_REQUIRE_SERVERS") == "1":
            pytest.fail(reason + " (GOSYNC_REQUIRE_SERVERS=1 forbids skipping)")
        pytest.skip(reason)
    return subprocess.run(
        ["go", "tool", "pprof", *flags, str(path)],
        capture_output=True,
        text=True,
        timeout=100,
        check=True,
    ).stdout


@pytest.mark.timeout(120)
def test_go_tool_pprof_reads_the_profile(tmp_path: Path) -> None:
    path = tmp_path / "mutex.pb.gz"
    path.write_bytes(pprof(three_sites().snapshot(MUTEX)))
    out = go_tool_pprof(path, "-top", "-sample_index=delay")
    leaves = [line.split()[-1] for line in out.splitlines() if line.strip().endswith("]")]
    assert leaves[:3] == ["[hot.py:1]", "[warm.py:2]", "[cold.py:3]"], out


@pytest.mark.timeout(120)
def test_go_tool_pprof_names_module_code_and_lambdas(tmp_path: Path) -> None:
    # pprof reads a name wholly in angle brackets as C++ template arguments
    # and shows "<unknown>"; the encoder names them after their module.
    s = new_store()
    s.record(MUTEX, "m", (Frame("<lambda>", "pkg/app.py", 3), Frame("<module>", "pkg/app.py", 9)), MS)
    path = tmp_path / "mutex.pb.gz"
    path.write_bytes(pprof(s.snapshot(MUTEX)))
    out = go_tool_pprof(path, "-traces")
    assert "app.<lambda>" in out and "app.<module>" in out and "<unknown>" not in out, out
