"""The distributed tests' servers: gosync._bench.servers (one helper for
the tests, benchmarks/distributed.py and `python -m gosync bench
--start-servers`), and a store that checks fencing tokens."""

from __future__ import annotations

from typing import Any

from gosync._bench.servers import Server, free_port, start_etcd, start_redis, which

__all__ = ["FencedStore", "Server", "free_port", "start_etcd", "start_redis", "which"]


class FencedStore:
    """A store that checks fencing tokens, in one file shared by processes:
    write(token, value) is accepted only if token is at least the highest
    token it has accepted, else rejected (returns False). The file lock
    (flock) makes each check-and-write atomic; it says nothing about the
    distributed lock, which is what the tests check."""

    def __init__(self, path: str) -> None:
        self.path = path

    def write(self, token: int, value: str) -> bool:
        import fcntl
        import json

        with open(self.path, "a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            f.seek(0)
            text = f.read()
            state: dict[str, Any] = json.loads(text) if text else {"token": -1, "values": []}
            if token < state["token"]:
                return False
            state["token"] = token
            state["values"].append([token, value])
            f.seek(0)
            f.truncate()
            f.write(json.dumps(state))
            return True

    def values(self) -> list[list[object]]:
        import json

        with open(self.path) as f:
            text = f.read()
        return list(json.loads(text)["values"]) if text else []
