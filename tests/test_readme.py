"""Every Python example in README.md runs as written.

An example that uses a server at the default address (etcd on
127.0.0.1:2379, Redis at redis://127.0.0.1:6379/0) runs against a
throw-away one that this module starts on a free port, and skips without
the server binaries (unless GOSYNC_REQUIRE_SERVERS=1, as in .ci/run).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from dist_servers import Server, start_etcd, start_redis, which

README = Path(__file__).resolve().parent.parent / "README.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)

# The default address in the examples -> (engine, server binary).
SERVERS = {"127.0.0.1:2379": ("etcd", "etcd"), "redis://127.0.0.1:6379/0": ("redis", "redis-server")}


def test_readme_has_examples() -> None:
    assert EXAMPLES


@pytest.mark.parametrize("code", EXAMPLES)
def test_readme_example_runs(code: str, tmp_path: Path, servers: dict[str, Server]) -> None:
    for address, (kind, binary) in SERVERS.items():
        if address not in code:
            continue
        reason = ""
        if which(binary) is None:
            reason = f"the example needs {binary} (Debian package {binary.replace('etcd', 'etcd-server')})"
        elif kind == "redis" and importlib.util.find_spec("redis") is None:
            reason = "the example needs redis-py: pip install '.[redis]'"
        if reason:
            if os.environ.get("GOSYNC_REQUIRE_SERVERS") == "1":
                pytest.fail(reason + " (GOSYNC_REQUIRE_SERVERS=1 forbids skipping)")
            pytest.skip(reason)
        if kind not in servers:
            servers[kind] = start_etcd() if kind == "etcd" else start_redis()
        code = code.replace(address, servers[kind].address if kind == "etcd" else servers[kind].url)
    # Run from an empty folder so that the installed gosync is imported.
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
