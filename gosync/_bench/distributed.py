"""The distributed measures of python -m gosync bench: gosync.redis and
gosync.etcd side by side with the Redis lock clients a user would pick
instead, on the same server in one run.

Which servers: only ones the user names, never a guess. `--redis URL` and
`--etcd HOST:PORT` use running servers (the bench's keys are named
gosync-bench-<random>; locks and leases go when it ends, but gosync.redis's
fencing counters stay, as they must outlive locks: a few keys a run);
`--start-servers` starts throw-away ones on
127.0.0.1 (free ports, temporary data directories, stopped by pid after the
measures), when redis-server and etcd are installed. A server on a default
port is never used unasked: it may be someone's real data. Without any of
these, or when an engine cannot be measured (no binary, no client library,
no answer), the report names each measure skipped and why.

The measures, each a median of RUNS runs with the contenders taking turns
(A B C, then C B A):

  - uncontended lock + unlock, one client: mean seconds per pair per run;
  - handoff latency: from the holder's unlock() to the return of a waiter
    (another client) blocked in lock(); percentiles over all runs' samples;
  - RWMutex read locks from 4 processes: the most readers inside at once.

benchmarks/distributed.py runs the same code from the command line.
"""

from __future__ import annotations

import importlib
import importlib.util
import multiprocessing
import socket
import statistics
import threading
import time
import uuid
from typing import Any, Callable, Dict, List, Optional, Tuple

from .servers import Server, start_etcd, start_redis, which

RUNS = 3  # each figure is a median of at least 3 runs
OPS = 300  # uncontended lock + unlock pairs per run (a fifth of it on etcd)
HANDOFFS = 40  # handoffs per run and contender
READERS = 4  # processes taking the read lock
READ_ROUNDS = 3  # read locks each, held 100 ms

ENGINES = ("redis", "etcd")
# The measures, by the names that --only matches and --list shows.
MEASURES = {
    "lock_unlock": "uncontended lock + unlock, against the clients' own locks",
    "handoff": "handoff latency, unlock to the waiter's return (median, p99)",
    "read_overlap": f"RWMutex read locks from {READERS} processes: readers inside at once",
}
BASELINE = {"redis": "redis-py Lock", "etcd": "gosync.etcd"}
HANDOFF_P99_MS = 10.0  # the target for gosync.redis
NO_SERVER = (
    "no server given: --redis URL or --etcd HOST:PORT to use a running server, or --start-servers to start"
    " throw-away ones on 127.0.0.1"
)

# A contender: make(name) -> (lock, unlock, close) for one client.
Client = Tuple[Callable[[], Any], Callable[[], Any], Callable[[], None]]
Maker = Callable[[str], Client]


def measure_names(engine: str) -> List[str]:
    """The names of one engine's measures: redis_lock_unlock, ..."""
    return [f"{engine}_{m}" for m in MEASURES]


def listing() -> List[Tuple[str, str]]:
    """(name, title) of every distributed measure, for --list."""
    return [(f"{e}_{m}", f"{e}: {title} (needs a server)") for e in ENGINES for m, title in MEASURES.items()]


# ---- contenders ---------------------------------------------------------------------------


def redis_contenders(url: str) -> Tuple[Dict[str, Maker], Dict[str, str]]:
    """gosync.redis, redis-py's Lock, and python-redis-lock and pottery when
    installed; and the missing ones, with the module each needs."""
    redis: Any = importlib.import_module("redis")
    import gosync.redis

    def gosync_make(name: str) -> Client:
        s = gosync.redis.Session(url=url, ttl=10)
        m = s.Mutex(name)
        return m.lock, m.unlock, s.close

    def redispy_make(name: str) -> Client:
        client = redis.Redis.from_url(url)
        lk = client.lock(name, timeout=10)
        return lk.acquire, lk.release, client.close

    out: Dict[str, Maker] = {"gosync.redis": gosync_make, "redis-py Lock": redispy_make}
    missing: Dict[str, str] = {}
    if importlib.util.find_spec("redis_lock") is not None:
        redis_lock: Any = importlib.import_module("redis_lock")

        def rl_make(name: str) -> Client:
            client = redis.Redis.from_url(url)
            lk = redis_lock.Lock(client, name, expire=10)
            return lk.acquire, lk.release, client.close

        out["python-redis-lock"] = rl_make
    else:
        missing["python-redis-lock"] = "python-redis-lock"
    if importlib.util.find_spec("pottery") is not None:
        pottery: Any = importlib.import_module("pottery")

        def pot_make(name: str) -> Client:
            client = redis.Redis.from_url(url)
            lk = pottery.Redlock(key=name, masters={client}, auto_release_time=10)
            return lk.acquire, lk.release, client.close

        out["pottery Redlock"] = pot_make
    else:
        missing["pottery Redlock"] = "pottery"
    return out, missing


def etcd_contenders(address: str) -> Tuple[Dict[str, Maker], Dict[str, str]]:
    """gosync.etcd alone: its client is etcd's JSON gateway, which has no
    lock of its own to compare with."""
    import gosync.etcd

    def make(name: str) -> Client:
        s = gosync.etcd.Session(endpoints=[address], ttl=10)
        m = s.Mutex(name)
        return m.lock, m.unlock, s.close

    return {"gosync.etcd": make}, {}


# ---- the measures --------------------------------------------------------------------------


def uncontended(make: Maker, ops: int) -> float:
    """Mean seconds per lock + unlock pair, one client, no contention."""
    lock, unlock, close = make("gosync-bench-u-" + uuid.uuid4().hex[:8])
    try:
        for _ in range(min(10, ops)):  # warm up: connections, scripts
            lock()
            unlock()
        t0 = time.perf_counter()
        for _ in range(ops):
            lock()
            unlock()
        return (time.perf_counter() - t0) / ops
    finally:
        close()


def handoff(make: Maker, n: int) -> List[float]:
    """Seconds from the holder's unlock to the waiter's return, n times."""
    name = "gosync-bench-h-" + uuid.uuid4().hex[:8]
    hold, release, close_holder = make(name)
    wait, wait_release, close_waiter = make(name)
    go, back = threading.Semaphore(0), threading.Semaphore(0)
    got: List[float] = []

    def waiter() -> None:
        for _ in range(n):
            if not go.acquire(timeout=60):
                return
            wait()
            got.append(time.perf_counter())
            wait_release()
            back.release()

    t = threading.Thread(target=waiter, daemon=True)
    t.start()
    out = []
    try:
        for _ in range(n):
            hold()
            go.release()
            time.sleep(0.03)  # the waiter is blocked by now
            t0 = time.perf_counter()
            release()
            if not back.acquire(timeout=30):
                raise RuntimeError("the waiter did not get the lock within 30 s")
            out.append(got[-1] - t0)
        t.join(5)
    finally:
        close_holder()
        close_waiter()
    return out


def _reader(args: Tuple[str, str, str, int]) -> List[Tuple[float, float]]:
    """One process's read locks: (start, end) of each hold, wall clock."""
    kind, where, name, rounds = args
    s: Any
    if kind == "redis":
        import gosync.redis

        s = gosync.redis.Session(url=where, ttl=10)
    else:
        import gosync.etcd

        s = gosync.etcd.Session(endpoints=[where], ttl=10)
    rw = s.RWMutex(name)
    spans = []
    try:
        for _ in range(rounds):
            if not rw.rlock(timeout=30):
                raise RuntimeError("no read lock within 30 s")
            t0 = time.time()
            time.sleep(0.1)
            spans.append((t0, time.time()))
            rw.runlock()
    finally:
        s.close()
    return spans


def read_overlap(kind: str, where: str) -> Dict[str, Any]:
    """The most readers inside at once, with the wall time from the first
    read lock to the last unlock and the time held in all."""
    name = "gosync-bench-r-" + uuid.uuid4().hex[:8]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(READERS) as pool:
        results = pool.map(_reader, [(kind, where, name, READ_ROUNDS)] * READERS)
    spans = [s for r in results for s in r]
    events = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans])
    most = inside = 0
    for _, d in events:
        inside += d
        most = max(most, inside)
    first, last = min(a for a, _ in spans), max(b for _, b in spans)
    return {
        "processes": READERS,
        "rounds": READ_ROUNDS,
        "most_inside": most,
        "wall_s": last - first,
        "held_s": sum(b - a for a, b in spans),
    }


# ---- servers -------------------------------------------------------------------------------


def _reachable(host_port: Tuple[str, int]) -> Optional[str]:
    """None if a TCP connection opens within 2 s, else why not."""
    try:
        with socket.create_connection(host_port, timeout=2):
            return None
    except OSError as e:
        return e.strerror or str(e)


def _redis_host_port(url: str) -> Tuple[str, int]:
    from urllib.parse import urlsplit

    u = urlsplit(url)
    return u.hostname or "127.0.0.1", u.port or 6379


def _etcd_host_port(address: str) -> Tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host or "127.0.0.1", int(port) if port.isdigit() else 2379


class _Engine:
    """One engine to measure: where its server is, and whether we own it."""

    def __init__(self, kind: str, where: str, server: Optional[Server]) -> None:
        self.kind = kind
        self.where = where
        self.server = server

    def describe(self) -> str:
        if self.server is not None:
            return f"started by the bench on {self.server.address}, pid {self.server.pid}"
        return f"given: {self.where}"


def _prepare(
    kind: str, given: Optional[str], start: bool, started: List[Server]
) -> Tuple[Optional[_Engine], Optional[str]]:
    """The engine to measure, or None and why it is skipped."""
    if kind == "redis" and importlib.util.find_spec("redis") is None:
        return None, "redis-py is not installed: pip install 'go-sync[redis]'"
    if given is not None:
        try:
            host_port = _redis_host_port(given) if kind == "redis" else _etcd_host_port(given)
        except ValueError as e:
            return None, f"bad address {given!r}: {e}"
        why = _reachable(host_port)
        if why is not None:
            return None, f"cannot reach {given}: {why}"
        return _Engine(kind, given, None), None
    if not start:
        return None, NO_SERVER
    binary = "redis-server" if kind == "redis" else "etcd"
    if which(binary) is None:
        package = "redis-server" if kind == "redis" else "etcd-server"
        return None, f"--start-servers: {binary} is not installed (Debian package {package})"
    try:
        server = start_redis() if kind == "redis" else start_etcd()
    except (OSError, RuntimeError) as e:
        return None, f"--start-servers: {binary} did not start: {str(e).splitlines()[0]}"
    started.append(server)
    return _Engine(kind, server.url if kind == "redis" else server.address, server), None


def run_distributed(
    wanted: List[str],
    redis: Optional[str],
    etcd: Optional[str],
    start: bool,
    quick: bool,
    step: Callable[[str], None],
) -> Dict[str, Any]:
    """Runs the wanted measures (names from measure_names) on the engines
    that can be measured, and returns the JSON-ready results: each engine's
    raw figures, and the skipped ones with the reason. Servers it started
    are stopped by pid before it returns, also on failure."""
    ops, handoffs = (OPS // 5, HANDOFFS // 4) if quick else (OPS, HANDOFFS)
    out: Dict[str, Any] = {"runs": RUNS, "ops": ops, "handoffs": handoffs, "engines": [], "skipped": []}
    started: List[Server] = []
    try:
        for kind in ENGINES:
            measures = [m for m in MEASURES if f"{kind}_{m}" in wanted]
            if not measures:
                continue
            engine, why = _prepare(kind, redis if kind == "redis" else etcd, start, started)
            if engine is None:
                out["skipped"].append({"engine": kind, "measures": measures, "why": why})
                continue
            try:
                out["engines"].append(_measure(engine, measures, ops, handoffs, step))
            except Exception as e:  # a server that dies or misbehaves: said in the report
                why = f"failed while measuring on {engine.describe()}: {type(e).__name__}: {e}"
                out["skipped"].append({"engine": kind, "measures": measures, "why": why})
    finally:
        for server in started:
            server.stop()
    return out


def _measure(
    engine: _Engine, measures: List[str], ops: int, handoffs: int, step: Callable[[str], None]
) -> Dict[str, Any]:
    kind = engine.kind
    contenders, missing = (redis_contenders if kind == "redis" else etcd_contenders)(engine.where)
    names = list(contenders)
    result: Dict[str, Any] = {
        "engine": kind,
        "server": engine.describe(),
        "server_pid": engine.server.pid if engine.server is not None else None,
        "contenders": names,
        "baseline": BASELINE[kind],
        "missing": missing,
        "measures": measures,
    }
    if "lock_unlock" in measures:
        un: Dict[str, List[float]] = {k: [] for k in names}
        for run in range(RUNS):
            for k in names if run % 2 == 0 else names[::-1]:
                un[k].append(uncontended(contenders[k], ops if kind == "redis" else max(1, ops // 5)))
            step(f"{kind}_lock_unlock")
        result["lock_unlock_s"] = un
    if "handoff" in measures:
        ho: Dict[str, List[float]] = {k: [] for k in names}
        for run in range(RUNS):
            for k in names if run % 2 == 0 else names[::-1]:
                ho[k] += handoff(contenders[k], handoffs)
            step(f"{kind}_handoff")
        result["handoff_s"] = ho
    if "read_overlap" in measures:
        result["read_overlap"] = read_overlap(kind, engine.where)
        step(f"{kind}_read_overlap")
    return result


def units(wanted: List[str]) -> int:
    """Progress steps that run_distributed takes at most for wanted."""
    return sum(RUNS if not name.endswith("read_overlap") else 1 for name in wanted)


# ---- the report ----------------------------------------------------------------------------


def pct(xs: List[float], p: float) -> float:
    """The p-th percentile of xs, nearest rank."""
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def target_rows(dist: Dict[str, Any]) -> List[Tuple[str, str, str, Optional[bool]]]:
    """(what, target, measured, met) for the distributed targets; met is
    None, and measured says why, for a target that was not measured."""
    rows: List[Tuple[str, str, str, Optional[bool]]] = []
    for e in dist["engines"]:
        kind = e["engine"]
        if kind == "redis" and "lock_unlock_s" in e:
            mine = statistics.median(e["lock_unlock_s"]["gosync.redis"])
            other = statistics.median(e["lock_unlock_s"]["redis-py Lock"])
            ratio = mine / other
            what = "redis_lock_unlock: gosync.redis vs redis-py Lock"
            rows.append((what, "<= 1x the time", f"{ratio:.2f}x", ratio <= 1.0))
        if kind == "redis" and "handoff_s" in e:
            p99 = pct(e["handoff_s"]["gosync.redis"], 99) * 1e3
            what = "redis_handoff: gosync.redis p99"
            rows.append((what, f"<= {HANDOFF_P99_MS:g} ms", f"{p99:.2f} ms", p99 <= HANDOFF_P99_MS))
        if "read_overlap" in e:
            most = e["read_overlap"]["most_inside"]
            what = f"{kind}_read_overlap: gosync.{kind}.RWMutex readers at once"
            rows.append((what, ">= 2 (they overlap)", str(most), most >= 2))
    for s in dist["skipped"]:
        kind, why = s["engine"], f"not run: {s['engine']} was skipped (see above)"
        if kind == "redis" and "lock_unlock" in s["measures"]:
            rows.append(("redis_lock_unlock: gosync.redis vs redis-py Lock", "<= 1x the time", why, None))
        if kind == "redis" and "handoff" in s["measures"]:
            rows.append(("redis_handoff: gosync.redis p99", f"<= {HANDOFF_P99_MS:g} ms", why, None))
        if "read_overlap" in s["measures"]:
            what = f"{kind}_read_overlap: gosync.{kind}.RWMutex readers at once"
            rows.append((what, ">= 2 (they overlap)", why, None))
    return rows


def render_lines(dist: Dict[str, Any]) -> List[str]:
    """The report's section on the distributed measures, within 80 columns."""
    out = ["Across machines (gosync.redis, gosync.etcd):"]
    for e in dist["engines"]:
        kind, names = e["engine"], e["contenders"]
        medians = f"; medians of {dist['runs']} runs" if "lock_unlock_s" in e or "handoff_s" in e else ""
        out += ["", f"{kind}: server {e['server']}{medians}"]
        if "lock_unlock_s" in e:
            base = statistics.median(e["lock_unlock_s"][e["baseline"]])
            out.append(f"  uncontended lock + unlock    us/pair  vs {e['baseline']}")
            for k in names:
                m = statistics.median(e["lock_unlock_s"][k])
                out.append(f"    {k:<24} {m * 1e6:9.1f}  {m / base:6.2f}x")
        if "handoff_s" in e:
            n = len(e["handoff_s"][names[0]])
            out.append(f"  handoff, unlock -> waiter returns ({n} samples each)")
            for k in names:
                xs = e["handoff_s"][k]
                out.append(f"    {k:<24} median {statistics.median(xs) * 1e3:8.2f} ms  p99 {pct(xs, 99) * 1e3:8.2f} ms")
        if "read_overlap" in e:
            r = e["read_overlap"]
            out.append(
                f"  RWMutex read locks, {r['processes']} processes x {r['rounds']} x 100 ms: up to"
                f" {r['most_inside']} readers at once; {r['wall_s']:.2f} s wall, {r['held_s']:.2f} s held in all"
            )
        for k, module in e["missing"].items():
            out.append(f"  {k} not measured: `pip install {module}` to include it")
    for s in dist["skipped"]:
        names = ", ".join(f"{s['engine']}_{m}" for m in s["measures"])
        out += ["", f"{s['engine']}: skipped ({names}): {s['why']}"]
    return out
