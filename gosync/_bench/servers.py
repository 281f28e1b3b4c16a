"""Throw-away etcd and Redis servers on 127.0.0.1: free ports, a temporary
data directory, and stop() by pid (SIGKILL if SIGTERM is not enough).

`python -m gosync bench --start-servers` starts its servers with these, and
so do the distributed tests (tests/dist_servers.py) and
benchmarks/distributed.py: one helper, shipped in the package because the
bench command must work from an installed wheel, which has no tests/."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from typing import Optional

__all__ = ["Server", "free_port", "start_etcd", "start_redis", "which"]


def which(binary: str) -> Optional[str]:
    """The path of a server binary, looked up on PATH and in /usr/sbin."""
    return shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/usr/bin")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float, log: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}; log:\n{_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"server did not listen on {port} within {timeout}s; log:\n{_tail(log)}")


def _tail(path: str) -> str:
    try:
        with open(path, errors="replace") as f:
            return f.read()[-3000:]
    except OSError:
        return "(no log)"


class Server:
    """A server process the tests own: its pid, port, data dir and log."""

    def __init__(self, kind: str, argv: list[str], port: int, datadir: str, ready: float = 15.0) -> None:
        self.kind = kind
        self.argv = argv
        self.port = port
        self.datadir = datadir
        self.log = os.path.join(datadir, "server.log")
        self.proc: Optional[subprocess.Popen[bytes]] = None
        self.ready = ready
        self.start()

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                self.argv, cwd=self.datadir, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        try:
            _wait_port(self.port, self.proc, self.ready, self.log)
            if self.kind == "etcd":
                self._wait_etcd()
        except BaseException:
            self.kill()
            raise

    def _wait_etcd(self) -> None:
        import http.client

        end = time.monotonic() + self.ready
        while time.monotonic() < end:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                c.request("POST", "/v3/kv/range", b'{"key":"AA=="}')
                if c.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("etcd did not answer; log:\n" + _tail(self.log))

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def pause(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def kill(self) -> None:
        """Stops the server by pid: SIGCONT (it may be stopped), SIGTERM,
        then SIGKILL after 5 s."""
        p = self.proc
        if p is None or p.poll() is not None:
            return
        try:
            os.kill(p.pid, signal.SIGCONT)
            p.terminate()
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)
        except ProcessLookupError:
            pass

    def restart(self) -> None:
        self.kill()
        self.start()

    def stop(self) -> None:
        self.kill()
        shutil.rmtree(self.datadir, ignore_errors=True)


def start_redis(binary: Optional[str] = None) -> Server:
    """A redis-server on 127.0.0.1 without persistence (no RDB, no AOF)."""
    binary = binary or which("redis-server") or "redis-server"
    port = free_port()
    d = tempfile.mkdtemp(prefix="gosync-redis-")
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", d, "--save", "",
            "--appendonly", "no", "--protected-mode", "yes", "--daemonize", "no"]
    return Server("redis", argv, port, d)


def start_etcd(binary: Optional[str] = None) -> Server:
    """A one-member etcd on 127.0.0.1, its data in a temporary directory."""
    binary = binary or which("etcd") or "etcd"
    port, peer = free_port(), free_port()
    d = tempfile.mkdtemp(prefix="gosync-etcd-")
    client, peer_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{peer}"
    argv = [binary, "--name", "t", "--data-dir", os.path.join(d, "data"),
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
            "--initial-cluster", f"t={peer_url}", "--log-level", "warn"]
    return Server("etcd", argv, port, d)
