"""gosync.redis: Mutex, RWMutex and Semaphore on one Redis server, with
leases and fencing tokens.

    with gosync.redis.Session(url="redis://127.0.0.1:6379/0", ttl=10) as s:
        mu = s.Mutex("orders")
        with mu:
            store.write(data, token=mu.fencing_token)

A Session stands for one client: it holds a lease (a key that expires ttl
seconds after its last renewal) and renews it, and every claim it holds,
from a daemon thread every ttl/3 seconds. If a renewal finds the lease or a
claim gone (the process was paused past its ttl, the server restarted
without persistence), or none succeeded for ttl seconds, the lease is lost:
session.done() is closed, unlocking raises LeaseLost and changes nothing,
and the session takes no new locks.

Every acquisition is one Lua script: SET NX PX with a fresh random token
(or a member of a sorted set scored by its expiry, for readers and
semaphore holders), plus INCR of the name's fencing counter. Unlock and
renewal are scripts that check the token. A waiter registers in the name's
waiter set and blocks in BLPOP on the name's wake list, into which every
release pushes one element per registered waiter; the BLPOP timeout is
bounded by the holder's remaining time to live, so a holder that died is
noticed when its claim expires. Nothing sleeps or polls, and nothing needs
CONFIG SET or keyspace notifications.

The fencing counter (one integer key per name, never expiring) is seeded
from the server's clock in microseconds when it is missing, so it keeps
increasing across a restart that lost it, as long as the server's clock did
not go back.

A single Redis server is not a consensus system: if it restarts without
persistence, or fails over to a replica that had not received the latest
writes, two clients can hold the same lock. Fencing tokens, checked by the
store the lock protects, are what keeps such a store safe.

The client is redis-py; the connections are redis-py's, used one command
at a time with the socket timeout set to what is left of the caller's
timeout, so that an unreachable server raises ConnectionError in time.
"""

from __future__ import annotations

import builtins
import os
import socket
import threading
import time
from typing import Any, Callable, Optional

import redis as _redis
from redis.backoff import NoBackoff
from redis.connection import Connection as _RedisConnection
from redis.connection import parse_url as _redis_parse_url
from redis.exceptions import NoScriptError, ResponseError
from redis.retry import Retry

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

__all__ = ["Session", "Mutex", "RWMutex", "Semaphore", "RedisConnectionError", "LeaseLost"]


class RedisConnectionError(builtins.ConnectionError):
    """RedisConnectionError reports that the Redis server could not be
    reached, or did not answer within the caller's timeout."""


# redis-py's connection layer has no type hints: used through Any.
Connection: Any = _RedisConnection
parse_url: Callable[[str], dict[str, Any]] = _redis_parse_url

Mutex = DistLock
RWMutex = DistRWMutex
Semaphore = DistSemaphore

# --- Lua -------------------------------------------------------------------

_LIB = r"""
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function fence(k)
  if redis.call('EXISTS', k) == 0 then
    local t = redis.call('TIME')
    redis.call('SET', k, t[1] .. string.format('%06d', tonumber(t[2])))
  end
  return redis.call('INCR', k)
end
local function extend(k, ms)
  local cur = redis.call('PTTL', k)
  if cur < ms then redis.call('PEXPIRE', k, ms) end
end
-- register a waiter until now + ms (+ slack), so that releases wake it
local function register(w, id, now, ms)
  local exp = now + ms + 2000
  redis.call('ZADD', w, exp, id)
  extend(w, ms + 2000)
end
-- wake every registered waiter: one element each in the wake list
local function wake(w, q, now)
  redis.call('ZREMRANGEBYSCORE', w, '-inf', now)
  local n = redis.call('ZCARD', w)
  redis.call('DEL', q)
  if n > 0 then
    if n > 1000 then n = 1000 end
    local t = {}
    for i = 1, n do t[i] = '1' end
    redis.call('RPUSH', q, unpack(t))
    local top = redis.call('ZRANGE', w, -1, -1, 'WITHSCORES')
    redis.call('PEXPIRE', q, math.max(1, tonumber(top[2]) - now))
  end
end
local function bound(hint, ARGV4)
  local r = tonumber(ARGV4)
  if hint < 0 or hint > r then return r end
  return hint
end
"""

# KEYS: lock, fence, waiters, lease. ARGV: token, ttl_ms, waiter id, wait_ms, register.
# Returns {1, fence} or {0, wait hint ms} or {-2, 0} when the lease is gone.
_MUTEX_TAKE = _LIB + r"""
if redis.call('EXISTS', KEYS[4]) == 0 then return {-2, 0} end
local now = now_ms()
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) or redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('ZREM', KEYS[3], ARGV[3])
  return {1, fence(KEYS[2])}
end
local hint = bound(redis.call('PTTL', KEYS[1]), ARGV[4])
if ARGV[5] == '1' then register(KEYS[3], ARGV[3], now, hint) end
return {0, hint}
"""

# KEYS: writer, readers, writer pending, fence, waiters, lease. ARGV as above.
_READ_TAKE = _LIB + r"""
if redis.call('EXISTS', KEYS[6]) == 0 then return {-2, 0} end
local now = now_ms()
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('EXISTS', KEYS[1]) == 0 and redis.call('EXISTS', KEYS[3]) == 0 then
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
  extend(KEYS[2], tonumber(ARGV[2]))
  redis.call('ZREM', KEYS[5], ARGV[3])
  return {1, fence(KEYS[4])}
end
local hint = redis.call('PTTL', KEYS[1])
if hint < 0 then hint = redis.call('PTTL', KEYS[3]) end
hint = bound(hint, ARGV[4])
if ARGV[5] == '1' then register(KEYS[5], ARGV[3], now, hint) end
return {0, hint}
"""

_WRITE_TAKE = _LIB + r"""
if redis.call('EXISTS', KEYS[6]) == 0 then return {-2, 0} end
local now = now_ms()
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local held = redis.call('EXISTS', KEYS[1]) == 1
if redis.call('GET', KEYS[1]) == ARGV[1] then held = false end  -- a repeated attempt
if not held and redis.call('ZCARD', KEYS[2]) == 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
  redis.call('ZREM', KEYS[5], ARGV[3])
  return {1, fence(KEYS[4])}
end
local hint
if held then
  hint = redis.call('PTTL', KEYS[1])
else
  local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
  hint = tonumber(last[2]) - now
end
hint = bound(hint, ARGV[4])
if ARGV[5] == '1' then
  if not held then
    -- a pending writer holds back new readers (Go's RWMutex)
    local p = redis.call('GET', KEYS[3])
    if not p or p == ARGV[1] then redis.call('SET', KEYS[3], ARGV[1], 'PX', hint + 2000) end
  end
  register(KEYS[5], ARGV[3], now, hint)
end
return {0, hint}
"""

# KEYS: holders, fence, waiters, lease. ARGV as above, then n.
_SEM_TAKE = _LIB + r"""
if redis.call('EXISTS', KEYS[4]) == 0 then return {-2, 0} end
local now = now_ms()
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[6]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
  extend(KEYS[1], tonumber(ARGV[2]))
  redis.call('ZREM', KEYS[3], ARGV[3])
  return {1, fence(KEYS[2])}
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local hint = bound(tonumber(first[2]) - now, ARGV[4])
if ARGV[5] == '1' then register(KEYS[3], ARGV[3], now, hint) end
return {0, hint}
"""

# Release a claim if it is still ours. KEYS: claim, waiters, wake.
# ARGV: 's' (a string key holding the token) or 'z' (a sorted-set member
# scored by its expiry), token. Returns 1, or 0 when the claim is not ours.
_GIVE = _LIB + r"""
local now = now_ms()
if ARGV[1] == 's' then
  if redis.call('GET', KEYS[1]) ~= ARGV[2] then return 0 end
  redis.call('DEL', KEYS[1])
else
  local s = redis.call('ZSCORE', KEYS[1], ARGV[2])
  if not s or tonumber(s) <= now then return 0 end
  redis.call('ZREM', KEYS[1], ARGV[2])
end
wake(KEYS[2], KEYS[3], now)
return 1
"""

# Withdraw an attempt that timed out or was interrupted, whatever state it
# reached: the waiter registration, the claim if the script had taken it,
# a pending-writer mark. KEYS: claim, waiters, wake, pending (or the claim
# again). ARGV: kind, token, waiter id.
_WITHDRAW = _LIB + r"""
local now = now_ms()
redis.call('ZREM', KEYS[2], ARGV[3])
local freed = false
if ARGV[1] == 's' then
  if redis.call('GET', KEYS[1]) == ARGV[2] then redis.call('DEL', KEYS[1]); freed = true end
else
  if redis.call('ZREM', KEYS[1], ARGV[2]) == 1 then freed = true end
end
if KEYS[4] ~= KEYS[1] and redis.call('GET', KEYS[4]) == ARGV[2] then
  redis.call('DEL', KEYS[4]); freed = true
end
if freed then wake(KEYS[2], KEYS[3], now) end
return 1
"""

# Renew the lease and the claims. KEYS: lease, claims... ARGV: ttl_ms, then
# kind and token for each claim. Returns {lease alive, claim alive...}.
_RENEW = _LIB + r"""
local ttl = tonumber(ARGV[1])
local now = now_ms()
local out = {redis.call('PEXPIRE', KEYS[1], ttl)}
for i = 2, #KEYS do
  local kind, token = ARGV[2 * i - 2], ARGV[2 * i - 1]
  local ok = 0
  if kind == 's' then
    if redis.call('GET', KEYS[i]) == token then redis.call('PEXPIRE', KEYS[i], ttl); ok = 1 end
  else
    local s = redis.call('ZSCORE', KEYS[i], token)
    if s and tonumber(s) > now then
      redis.call('ZADD', KEYS[i], 'XX', now + ttl, token)
      extend(KEYS[i], ttl)
      ok = 1
    end
  end
  out[i] = ok
end
return out
"""

_SCRIPTS = {
    "mutex": _MUTEX_TAKE,
    "read": _READ_TAKE,
    "write": _WRITE_TAKE,
    "sem": _SEM_TAKE,
    "give": _GIVE,
    "withdraw": _WITHDRAW,
    "renew": _RENEW,
}

# The time a command may take when the caller has no (or a long) timeout.
_OP_TIMEOUT = 5.0


class _Keys:
    """The keys of one name and kind. The hash tag keeps them in one slot."""

    __slots__ = ("claim", "fence", "waiters", "wake", "pending", "kind")

    def __init__(self, name: str, kind: str) -> None:
        base = "gosync:{" + name + "}"
        self.fence = base + ":fence"
        if kind == "mutex":
            self.claim, self.kind, self.pending = base + ":m", "s", base + ":m"
            self.waiters, self.wake = base + ":mw", base + ":mq"
        elif kind in ("read", "write"):
            self.kind = "z" if kind == "read" else "s"
            self.claim = base + (":r" if kind == "read" else ":w")
            self.pending = base + ":wp" if kind == "write" else self.claim
            self.waiters, self.wake = base + ":rww", base + ":rwq"
        else:
            self.claim, self.kind, self.pending = base + ":s", "z", base + ":s"
            self.waiters, self.wake = base + ":sw", base + ":sq"


class Session(SessionBase):
    """A Session is one client's lease on a Redis server, and the factory
    of its locks.

    Session(url="redis://127.0.0.1:6379/0", ttl=10) connects, creates the
    lease (a key that expires ttl seconds after its last renewal) and starts
    a daemon thread that renews it, and every lock the session holds, every
    ttl/3 seconds. An unreachable server raises RedisConnectionError (a
    ConnectionError) within connect_timeout seconds.

    close() deletes the lease and every claim the session still holds,
    which frees those locks at once; `with session:` closes it at the end.
    A Session and its locks may be used from any number of threads.
    """

    def __init__(self, url: str = "redis://127.0.0.1:6379/0", ttl: float = 10, *, connect_timeout: float = 5.0) -> None:
        if isinstance(ttl, bool) or not isinstance(ttl, (int, float)):
            raise TypeError(f"ttl must be a number of seconds, not {type(ttl).__name__}")
        if not ttl >= 1:
            raise ValueError("ttl must be at least 1 second")
        self._ttl = float(ttl)
        self._ttl_ms = int(ttl * 1000)
        kwargs = parse_url(url)
        self._conn_class: Any = kwargs.pop("connection_class", Connection)  # rediss:// and unix://
        self._conn_kwargs: dict[str, Any] = kwargs
        self._idle: list[Any] = []
        self._idle_mu = threading.Lock()
        self._sha: dict[str, str] = {}
        self._id = os.urandom(12).hex()
        self._lease = "gosync:lease:" + self._id
        self._claims: dict[int, Claim] = {}
        self._claims_mu = threading.Lock()
        self._orphans: list[tuple[Claim, str]] = []
        self._done = Done()
        self._closed = False
        self._last_ok = time.monotonic()
        end = time.monotonic() + connect_timeout
        self._call(end, "SET", self._lease, "1", "PX", self._ttl_ms)
        self._start_keepalive(f"gosync.redis keepalive {self._id[:8]}")

    # --- the API ----------------------------------------------------------

    @property
    def ttl(self) -> float:
        """The lease's time to live in seconds."""
        return self._ttl

    def close(self) -> None:
        """Close stops the renewals and deletes the lease and every claim
        the session holds, so that others can take them at once. Errors
        reaching the server are ignored: the claims then expire within ttl.
        Calling it again does nothing."""
        if not self._stop_keepalive():
            return
        with self._claims_mu:
            claims = list(self._claims.values())
            self._claims.clear()
        lost = self._done.closed
        self._done._close()
        if not lost:
            end = time.monotonic() + 2.0
            try:
                for c in claims:
                    self._withdraw(c, "", end)
                self._call(end, "DEL", self._lease)
            except builtins.ConnectionError:
                pass
        with self._idle_mu:
            for conn in self._idle:
                conn.disconnect()
            self._idle.clear()

    def __repr__(self) -> str:
        state = "lost" if self._done.closed else "live"
        return f"<gosync.redis.Session {self._id[:8]} ttl={self._ttl:g} {state}>"

    # --- the engine (called by the lock types) ----------------------------

    def take(self, kind: str, name: str, n: int, end: Optional[float]) -> Optional[Claim]:
        """Take waits until end (None: forever; past: one attempt) for a
        claim of kind on name, and returns it, or None on timeout. Whatever
        ends it other than success (a timeout, Ctrl-C, a lost connection)
        withdraws the attempt, so that it leaves no claim behind."""
        self._check()
        self._flush_orphans()
        keys = _Keys(name, kind)
        c = Claim(keys.claim, os.urandom(16).hex(), 0, keys.kind)
        if kind == "mutex" or kind == "sem":
            skeys = [keys.claim, keys.fence, keys.waiters, self._lease]
        else:
            w, r = _Keys(name, "write"), _Keys(name, "read")
            skeys = [w.claim, r.claim, w.pending, keys.fence, keys.waiters, self._lease]
        wait = end is None or end > time.monotonic()
        rq = end if wait else None  # try_lock gives its requests the usual time
        ok = missed = False
        try:
            got = self._attempts(c, keys.wake, kind, skeys, n, end, rq, wait)
            ok = got is not None
            missed = not ok and not wait  # try_lock's script registered nothing
            return got
        except RedisConnectionError:
            if rq is not None and time.monotonic() >= rq:
                return None  # no answer by the deadline: a timeout
            raise
        finally:
            if not ok and not missed:
                late = end is not None and time.monotonic() >= end
                self._withdraw(c, keys.pending, time.monotonic() + (0.2 if late else 0.5), keys)

    def _attempts(self, c: Claim, wake: str, kind: str, skeys: list[str], n: int,
                  end: Optional[float], rq: Optional[float], wait: bool) -> Optional[Claim]:
        """The attempts of take: each runs the kind's script once, then
        blocks in BLPOP on the wake list until a release pushes, the
        holder's claim may have expired (the script's hint), or end."""
        while True:
            left = remaining(end)
            wait_ms = self._ttl_ms if left is None else int(left * 1000)
            r = self._script(rq, kind, skeys, c.token, self._ttl_ms, c.token, wait_ms, int(wait), n)
            if r[0] == -2:
                self._lost()
                raise LeaseLost("gosync: the session's lease is lost")
            if r[0] == 1:
                c.fence = int(r[1])
                with self._claims_mu:
                    self._claims[id(c)] = c
                return c
            left = remaining(end)
            if not wait or (left is not None and left <= 0):
                return None
            t = max(0.001, int(r[1]) / 1000.0)
            if left is not None:
                t = min(t, left)
            self._blpop(wake, t, end)
            self._check()

    def give(self, c: Claim) -> None:
        """Give releases a claim, or raises LeaseLost (changing nothing) if
        the server no longer has it as ours."""
        if self._done.closed:
            raise LeaseLost("gosync: the session's lease is lost; the lock may be held by another")
        keys = self._keys_of(c)
        # Renewals stop first: if this call is interrupted before the
        # script runs, the claim expires within ttl.
        with self._claims_mu:
            self._claims.pop(id(c), None)
        try:
            r = self._script(None, "give", [c.key, keys.waiters, keys.wake], c.kind, c.token)
        except builtins.ConnectionError:
            with self._claims_mu:
                self._claims[id(c)] = c  # still held: unlock may be called again
            raise
        if r != 1:
            self._lost()
            raise LeaseLost("gosync: the lock's claim expired; it may be held by another")

    # --- internals --------------------------------------------------------

    @staticmethod
    def _keys_of(c: Claim) -> _Keys:
        base, _, suffix = c.key.rpartition(":")
        name = base[len("gosync:{") : -1]
        kind = {"m": "mutex", "r": "read", "w": "write", "s": "sem"}[suffix]
        return _Keys(name, kind)

    def _check(self) -> None:
        if self._closed:
            raise LeaseLost("gosync: the session is closed")
        if self._done.closed:
            raise LeaseLost("gosync: the session's lease is lost")

    def _lost(self) -> None:
        self._done._close()

    def _withdraw(self, c: Claim, pending: str, end: Optional[float], keys: Optional[_Keys] = None) -> None:
        """Withdraws an attempt or a claim, whatever state it reached. If
        the server cannot be reached, the keep-alive thread tries again (the
        claim expires within ttl meanwhile, as it is not renewed)."""
        keys = keys or self._keys_of(c)
        if end is None:
            end = time.monotonic() + 0.5  # short: a timed-out lock must return in time
        try:
            self._script(end, "withdraw", [c.key, keys.waiters, keys.wake, pending or c.key], c.kind, c.token, c.token)
        except builtins.ConnectionError:
            with self._claims_mu:
                self._orphans.append((c, pending))

    def _beat(self) -> None:
        """One renewal of the lease and the claims (the keep-alive thread)."""
        with self._claims_mu:
            claims = list(self._claims.values())
            orphans, self._orphans = self._orphans, []
        sent = time.monotonic()
        args: list[Any] = [self._ttl_ms]
        for c in claims:
            args += [c.kind, c.token]
        try:
            r = self._script(sent + self._ttl / 3, "renew", [self._lease] + [c.key for c in claims], *args)
        except builtins.ConnectionError:
            if time.monotonic() - self._last_ok >= self._ttl:
                self._lost()  # the server may have expired everything by now
            with self._claims_mu:
                self._orphans += orphans
            return
        except Exception:
            return
        if self._closed:
            return
        if r[0] != 1 or not all(x == 1 for x in r[1:]):
            self._lost()
            self._stop.set()
            return
        self._last_ok = sent
        for c, pending in orphans:
            self._withdraw(c, pending, None)

    def _flush_orphans(self) -> None:
        """Withdraws the attempts that earlier calls could not (the server
        did not answer then), before a new attempt competes with them."""
        if not self._orphans:
            return
        with self._claims_mu:
            orphans, self._orphans = self._orphans, []
        for c, pending in orphans:
            self._withdraw(c, pending, None)

    def _conn(self) -> tuple[Any, bool]:
        """An idle connection (and True), or a new one (and False)."""
        with self._idle_mu:
            if self._idle:
                return self._idle.pop(), True
        return self._conn_class(retry=Retry(NoBackoff(), 0), **self._conn_kwargs), False

    def _call(self, end: Optional[float], *args: Any, wait: Optional[float] = None) -> Any:
        """Sends one command and reads its reply before end, or within wait
        seconds when given (for BLPOP), raising RedisConnectionError if the
        server does not answer in time."""
        left = remaining(end)
        t = _OP_TIMEOUT if left is None else max(0.001, min(left, _OP_TIMEOUT))
        if wait is not None:
            t = wait
        conn, reused = self._conn()
        try:
            conn.socket_connect_timeout = t
            conn.socket_timeout = t
            conn.connect()
            sock = conn._sock
            if sock is not None:
                sock.settimeout(t)
            conn.send_command(*args)
            reply = conn.read_response()
        except ResponseError:
            self._put(conn)
            raise
        except (_redis.ConnectionError, _redis.TimeoutError, OSError, socket.timeout) as e:
            conn.disconnect()
            if reused and isinstance(e, _redis.ConnectionError) and not isinstance(e, _redis.TimeoutError):
                # A pooled connection the server had closed (it restarted):
                # once more on a new one. Every script is safe to repeat.
                left = remaining(end)
                if left is None or left > 0:
                    return self._call(end, *args, wait=wait)
            raise RedisConnectionError(f"gosync.redis: no answer from the server: {e}") from None
        except BaseException:
            conn.disconnect()  # a reply may still be on its way: never reuse
            raise
        self._put(conn)
        return reply

    def _put(self, conn: Any) -> None:
        with self._idle_mu:
            self._idle.append(conn)

    def _script(self, end: Optional[float], name: str, keys: list[str], *args: Any) -> Any:
        src = _SCRIPTS[name]
        sha = self._sha.get(name)
        if sha is not None:
            try:
                return self._call(end, "EVALSHA", sha, len(keys), *keys, *args)
            except NoScriptError:
                pass  # the server restarted, or flushed its scripts
        sha = self._call(end, "SCRIPT", "LOAD", src)
        self._sha[name] = sha.decode() if isinstance(sha, bytes) else str(sha)
        return self._call(end, "EVALSHA", self._sha[name], len(keys), *keys, *args)

    def _blpop(self, key: str, t: float, end: Optional[float]) -> None:
        """Blocks in BLPOP for at most t seconds (the socket allows a little
        more, for the reply to arrive). Ctrl-C interrupts the read."""
        # Redis checks blocking timeouts about every 100 ms (hz 10), so the
        # reply may come that late; past the caller's end, the caller takes
        # a silent socket as a timeout.
        w = t + 0.25
        left = remaining(end)
        if left is not None:
            w = min(w, left + 0.05)
        self._call(None, "BLPOP", key, f"{t:.3f}", wait=w)
