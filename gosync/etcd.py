"""gosync.etcd: Mutex, RWMutex and Semaphore on etcd v3, with leases and
fencing tokens, after etcd's clientv3/concurrency and recipes.

    with gosync.etcd.Session(endpoints=["127.0.0.1:2379"], ttl=10) as s:
        mu = s.Mutex("orders")
        with mu:
            store.write(data, token=mu.fencing_token)

A Session grants a lease of ttl seconds and keeps it alive from a daemon
thread (every ttl/3 seconds). Each acquisition puts a fresh key, attached to
the lease, under the lock's prefix:

  - Mutex: the key with the lowest create revision under the prefix holds
    the lock; each waiter watches only the deletion of the key just before
    its own (concurrency.Mutex).
  - RWMutex: a reader waits for the last writer key before its own, a
    writer for the last key of any kind before its own
    (recipes/rwmutex.go; "before" by create revision where the recipe
    uses the mod revision, the same for keys that are never modified). A
    waiting writer therefore holds back the readers that come after it,
    as Go's RWMutex does.
  - Semaphore(n): a key holds a place when fewer than n keys were created
    before it; a waiter watches the prefix for deletions.

The fencing token is the key's create revision: etcd's revisions only
grow, so every acquisition of a name has a larger token than all earlier
ones. If the lease expires (the process was paused past ttl, or could not
reach etcd for that long), etcd deletes its keys, session.done() is
closed, and unlock raises LeaseLost without touching what others hold.
etcd is a consensus system: while a majority of its members is up, no two
sessions hold the same lock at once, lease expiry aside.

The client is etcd's JSON gateway (the /v3/... HTTP endpoints that every
etcd v3 server serves) over the standard library's http.client, not a
package: etcd3 0.12.0 (its last release, 2020) fails to import with a
current protobuf (7.x: "Descriptors cannot be created directly"); aetcd is
asyncio-only; etcd3gw speaks this same gateway through requests. Talking
to the gateway directly adds no dependency, and gives what the contract
needs: each socket read is bounded by what is left of the caller's timeout,
and Ctrl-C interrupts any wait.
"""

from __future__ import annotations

import base64
import builtins
import http.client
import json
import os
import socket
import threading
import time
from typing import Any, Optional

from ._dist import (
    Claim,
    DistLock,
    DistRWMutex,
    DistSemaphore,
    Done,
    LeaseLost,
    remaining,
)
from ._dist import Session as SessionBase

__all__ = ["Session", "Mutex", "RWMutex", "Semaphore", "EtcdConnectionError", "LeaseLost"]

Mutex = DistLock
RWMutex = DistRWMutex
Semaphore = DistSemaphore

# The time a request may take when the caller has no (or a long) timeout.
_OP_TIMEOUT = 5.0


class EtcdConnectionError(builtins.ConnectionError):
    """EtcdConnectionError reports that no etcd endpoint could be reached,
    or none answered within the caller's timeout."""


class EtcdError(RuntimeError):
    """EtcdError is an error that etcd returned for a request."""


def _b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


def _unb64(s: str) -> str:
    return base64.b64decode(s).decode()


def _prefix_end(p: str) -> str:
    """The range end that selects every key starting with p."""
    b = bytearray(p.encode())
    b[-1] += 1
    return base64.b64encode(bytes(b)).decode()


class Session(SessionBase):
    """A Session is one client's lease on etcd, and the factory of its
    locks.

    Session(endpoints=["127.0.0.1:2379"], ttl=10) grants a lease of ttl
    seconds (an int, at least 1; etcd may round it up to its minimum) and
    starts a daemon thread that keeps it alive. An unreachable server
    raises EtcdConnectionError (a ConnectionError) within connect_timeout
    seconds; endpoints are tried in turn.

    close() revokes the lease, which deletes every key the session holds and
    frees its locks at once. `with session:` closes it at the end. A Session
    and its locks may be used from any number of threads.
    """

    def __init__(self, endpoints: Optional[list[str]] = None, ttl: int = 10, *, connect_timeout: float = 5.0) -> None:
        if isinstance(ttl, bool) or not isinstance(ttl, int):
            raise TypeError(f"ttl must be an int number of seconds, not {type(ttl).__name__}")
        if ttl < 1:
            raise ValueError("ttl must be at least 1 second")
        eps = list(endpoints or ["127.0.0.1:2379"])
        self._endpoints: list[tuple[str, int]] = []
        for ep in eps:
            ep = ep.split("://", 1)[-1].rstrip("/")
            host, _, port = ep.rpartition(":")
            self._endpoints.append((host or "127.0.0.1", int(port)))
        self._ep = 0
        self._idle: list[http.client.HTTPConnection] = []
        self._idle_mu = threading.Lock()
        self._done = Done()
        self._closed = False
        self._orphans: list[str] = []
        self._orphans_mu = threading.Lock()
        # The keys of held claims and of attempts under way. Any other key
        # attached to the lease is an abandoned attempt: a put that etcd
        # applied after the caller gave up on it (the server was paused).
        self._live: set[str] = set()
        self._sweeps = 0  # keep-alive beats that still look for such keys
        self._seq = 0
        end = time.monotonic() + connect_timeout
        r = self._post(end, "/v3/lease/grant", {"TTL": str(ttl)})
        self._lease = int(r["ID"])
        self._ttl = int(r.get("TTL", ttl))
        self._last_ok = time.monotonic()
        self._start_keepalive(f"gosync.etcd keepalive {self._lease:x}")

    # --- the API ----------------------------------------------------------

    @property
    def ttl(self) -> int:
        """The lease's time to live in seconds, as granted."""
        return int(self._ttl)

    @property
    def lease(self) -> int:
        """The lease's ID."""
        return self._lease

    def close(self) -> None:
        """Close stops the keep-alive and revokes the lease, which deletes
        every key the session holds. Errors reaching etcd are ignored: the
        lease then expires within ttl. Calling it again does nothing."""
        if not self._stop_keepalive():
            return
        lost = self._done.closed
        self._done._close()
        if not lost:
            try:
                self._post(time.monotonic() + 2.0, "/v3/lease/revoke", {"ID": str(self._lease)})
            except (builtins.ConnectionError, EtcdError):
                pass
        with self._idle_mu:
            for c in self._idle:
                c.close()
            self._idle.clear()

    def __repr__(self) -> str:
        state = "lost" if self._done.closed else "live"
        return f"<gosync.etcd.Session lease={self._lease:x} ttl={self._ttl} {state}>"

    # --- the engine (called by the lock types) ----------------------------

    def take(self, kind: str, name: str, n: int, end: Optional[float]) -> Optional[Claim]:
        """Take puts a key for a claim of kind on name and waits until end
        (None: forever; past: no wait) for it to hold the lock. It returns
        the claim, or None on timeout with the key deleted."""
        self._check()
        if self._orphans:  # attempts that earlier calls could not delete
            with self._orphans_mu:
                orphans, self._orphans = self._orphans, []
            for k in orphans:
                self._withdraw(k)
        base = f"gosync/{name}/"
        pfx = {"mutex": base + "m/", "read": base + "rw/read/", "write": base + "rw/write/", "sem": base + "s/"}[kind]
        with self._idle_mu:
            self._seq += 1
            key = f"{pfx}{self._lease:016x}-{self._seq:x}-{os.urandom(4).hex()}"
        with self._orphans_mu:
            self._live.add(key)
        # try_lock (an end already past) gives its requests the usual time.
        rq = end if end is None or end > time.monotonic() else None
        ok = False
        try:
            # A transaction, as concurrency.Mutex does, so that a repeated
            # request finds the key it created and its create revision.
            k = _b64(key)
            r = self._post(rq, "/v3/kv/txn", {
                "compare": [{"key": k, "target": "CREATE", "result": "EQUAL", "create_revision": "0"}],
                "success": [{"request_put": {"key": k, "value": "", "lease": str(self._lease)}}],
                "failure": [{"request_range": {"key": k}}],
            })
            if r.get("succeeded"):
                rev = int(r["header"]["revision"])
            else:
                rev = int(r["responses"][0]["response_range"]["kvs"][0]["create_revision"])
            # What must be gone before this key holds the lock.
            wait_pfx = {"mutex": pfx, "read": base + "rw/write/", "write": base + "rw/", "sem": pfx}[kind]
            while True:
                if kind == "sem":
                    # (etcd's count ignores max_create_revision: count the keys.)
                    q = {"key": _b64(wait_pfx), "range_end": _prefix_end(wait_pfx),
                         "max_create_revision": str(rev - 1), "keys_only": True, "limit": n}
                    got = self._post(rq, "/v3/kv/range", q)
                    if len(got.get("kvs", [])) < n:
                        break
                    watch_key, watch_end = wait_pfx, _prefix_end(wait_pfx)
                else:
                    q = {"key": _b64(wait_pfx), "range_end": _prefix_end(wait_pfx),
                         "max_create_revision": str(rev - 1), "sort_order": "DESCEND",
                         "sort_target": "CREATE", "limit": 1, "keys_only": True}
                    got = self._post(rq, "/v3/kv/range", q)
                    kvs = got.get("kvs", [])
                    if not kvs:
                        break
                    watch_key, watch_end = _unb64(kvs[0]["key"]), ""
                    if self._abandoned(watch_key):
                        self._withdraw(watch_key)  # our own late put: not worth a wait
                        continue
                left = remaining(end)
                if left is not None and left <= 0:
                    return None  # the finally deletes the key
                since = int(got["header"]["revision"]) + 1
                self._wait_delete(watch_key, watch_end, since, end)
                self._check()
            # Our key must still exist: the lease may have expired meanwhile.
            mine = self._post(rq, "/v3/kv/range", {"key": _b64(key), "keys_only": True})
            kvs = mine.get("kvs", [])
            if not kvs or int(kvs[0]["create_revision"]) != rev:
                self._lost()
                raise LeaseLost("gosync: the session's lease is lost")
            ok = True
            return Claim(key, "", rev, kind)
        except EtcdConnectionError:
            self._sweeps = 3  # a request without an answer may yet be applied
            if rq is not None and time.monotonic() >= rq:
                return None  # no answer by the deadline: a timeout (the finally withdraws)
            raise
        except EtcdError as e:
            if "lease not found" in str(e):
                self._lost()
                raise LeaseLost("gosync: the session's lease is lost") from None
            raise
        finally:
            if not ok:  # timed out, Ctrl-C, a lost connection: leave no claim
                with self._orphans_mu:
                    self._live.discard(key)
                late = end is not None and time.monotonic() >= end
                self._withdraw(key, 0.2 if late else 0.5)

    def give(self, c: Claim) -> None:
        """Give deletes the claim's key if it is still the one this session
        created, or raises LeaseLost and changes nothing."""
        if self._done.closed:
            raise LeaseLost("gosync: the session's lease is lost; the lock may be held by another")
        k = _b64(c.key)
        try:
            r = self._post(None, "/v3/kv/txn", {
                "compare": [{"key": k, "target": "CREATE", "result": "EQUAL", "create_revision": str(c.fence)}],
                "success": [{"request_delete_range": {"key": k}}],
            })
        except builtins.ConnectionError:
            raise  # still held: unlock may be called again
        except BaseException:
            # Interrupted: the key may still be there, kept alive by the
            # lease; the keep-alive thread deletes it.
            with self._orphans_mu:
                self._live.discard(c.key)
                self._orphans.append(c.key)
            raise
        with self._orphans_mu:
            self._live.discard(c.key)
        if not r.get("succeeded"):
            self._lost()
            raise LeaseLost("gosync: the lock's key is gone (lease expired); it may be held by another")

    # --- internals --------------------------------------------------------

    def _check(self) -> None:
        if self._closed:
            raise LeaseLost("gosync: the session is closed")
        if self._done.closed:
            raise LeaseLost("gosync: the session's lease is lost")

    def _lost(self) -> None:
        self._done._close()
        self._stop.set()

    def _withdraw(self, key: str, within: float = 0.5) -> None:
        """Deletes an attempt's key; if etcd cannot be reached within that
        many seconds, the keep-alive thread tries again (the lease would
        keep the key alive)."""
        try:
            self._post(time.monotonic() + within, "/v3/kv/deleterange", {"key": _b64(key)})
        except (builtins.ConnectionError, EtcdError):
            with self._orphans_mu:
                self._orphans.append(key)
            self._sweeps = 3

    def _abandoned(self, key: str) -> bool:
        """Whether key is this session's and neither held nor being taken."""
        if f"/{self._lease:016x}-" not in key:
            return False
        with self._orphans_mu:
            return key not in self._live

    def _sweep(self) -> None:
        """Deletes the keys attached to the lease that are neither held nor
        being taken (the keep-alive thread, after a request went
        unanswered)."""
        r = self._post(time.monotonic() + self._ttl / 3, "/v3/lease/timetolive", {"ID": str(self._lease), "keys": True})
        for k in r.get("keys", []):
            key = _unb64(k)
            if self._abandoned(key):
                self._withdraw(key)

    def _beat(self) -> None:
        """One keep-alive of the lease (the keep-alive thread)."""
        sent = time.monotonic()
        try:
            r = self._post(sent + self._ttl / 3, "/v3/lease/keepalive", {"ID": str(self._lease)})
        except (builtins.ConnectionError, EtcdError, ValueError):
            if time.monotonic() - self._last_ok >= self._ttl:
                self._lost()
            return
        if self._closed:
            return
        if int(r.get("result", {}).get("TTL", 0)) <= 0:
            self._lost()  # etcd no longer has the lease: its keys are gone
            return
        self._last_ok = sent
        with self._orphans_mu:
            orphans, self._orphans = self._orphans, []
        for key in orphans:
            self._withdraw(key)
        if self._sweeps > 0:
            self._sweeps -= 1
            try:
                self._sweep()
            except (builtins.ConnectionError, EtcdError):
                self._sweeps = 3

    def _conn(self, t: float) -> tuple[http.client.HTTPConnection, bool]:
        """An idle connection (and True), or a new one (and False)."""
        with self._idle_mu:
            if self._idle:
                c = self._idle.pop()
                if c.sock is not None:
                    c.sock.settimeout(t)
                c.timeout = t
                return c, True
            host, port = self._endpoints[self._ep]
        return http.client.HTTPConnection(host, port, timeout=t), False

    def _post(self, end: Optional[float], path: str, body: dict[str, Any]) -> Any:
        """POSTs one JSON request and returns the decoded reply before end
        (at most _OP_TIMEOUT), raising EtcdConnectionError otherwise."""
        left = remaining(end)
        t = _OP_TIMEOUT if left is None else max(0.001, min(left, _OP_TIMEOUT))
        data = json.dumps(body).encode()
        c, reused = self._conn(t)
        try:
            c.request("POST", path, data, {"Content-Type": "application/json"})
            resp = c.getresponse()
            raw = resp.read()
        except (OSError, http.client.HTTPException) as e:
            c.close()
            stale = isinstance(e, (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError))
            if reused and stale and (end is None or time.monotonic() < end):
                # A pooled connection the server had closed: once more on a
                # new one (every request made here is safe to repeat).
                return self._post(end, path, body)
            with self._idle_mu:
                self._ep = (self._ep + 1) % len(self._endpoints)
            raise EtcdConnectionError(f"gosync.etcd: no answer from {c.host}:{c.port}: {e!r}") from None
        except BaseException:
            c.close()  # a reply may still be on its way: never reuse
            raise
        with self._idle_mu:
            self._idle.append(c)
        try:
            out = json.loads(raw)
        except ValueError:
            raise EtcdError(f"gosync.etcd: {path}: HTTP {resp.status}: {raw[:200]!r}") from None
        if resp.status != 200 or "error" in out:
            raise EtcdError(out.get("message") or out.get("error") or str(out))
        return out

    def _wait_delete(self, key: str, range_end: str, since: int, end: Optional[float]) -> None:
        """Watches key (or the range up to range_end) from revision since
        until a deletion, end, or ttl seconds (then the caller looks
        again: a liveness check while waiting forever). Ctrl-C interrupts
        the read."""
        left = remaining(end)
        t = float(self._ttl) if left is None else min(left, float(self._ttl))
        host, port = self._endpoints[self._ep]
        create: dict[str, Any] = {"key": _b64(key), "start_revision": str(since), "filters": ["NOPUT"]}
        if range_end:
            create["range_end"] = range_end
        c = http.client.HTTPConnection(host, port, timeout=min(t, _OP_TIMEOUT) + 0.05)
        try:
            c.request("POST", "/v3/watch", json.dumps({"create_request": create}).encode(),
                      {"Content-Type": "application/json"})
            resp = c.getresponse()
            if resp.status != 200:
                raise EtcdError(resp.read().decode(errors="replace"))
            stop = time.monotonic() + t
            while True:
                left = stop - time.monotonic()
                if left <= 0:
                    return
                if c.sock is not None:
                    c.sock.settimeout(left)
                try:
                    line = resp.readline()
                except (socket.timeout, TimeoutError):
                    return
                if not line:
                    raise EtcdConnectionError("gosync.etcd: the watch stream ended")
                msg = json.loads(line).get("result", {})
                if msg.get("canceled") or msg.get("compact_revision"):
                    return  # look again
                for ev in msg.get("events", []):
                    if ev.get("type") == "DELETE":
                        return
        except EtcdConnectionError:
            raise
        except (OSError, http.client.HTTPException) as e:
            raise EtcdConnectionError(f"gosync.etcd: watch failed: {e!r}") from None
        finally:
            c.close()
