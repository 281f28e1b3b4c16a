"""Side-by-side benchmark of gosync.redis and gosync.etcd (issue 15).

    python benchmarks/distributed.py [--runs 3] [--ops 300] [--handoffs 40]

Starts its own redis-server and etcd on 127.0.0.1 (free ports, throw-away
data directories; the Debian packages redis-server and etcd-server) and
measures, on the same servers in one run:

  - Redis, uncontended lock + unlock: gosync.redis.Mutex against redis-py's
    Lock, python-redis-lock and pottery's Redlock (those two when
    installed: the bench extra). Target: gosync no slower than redis-py
    (ratio <= 1.0).
  - Redis, handoff latency: from the holder's unlock() to the return of a
    waiter blocked in lock() (another client), median and p99. Target:
    gosync p99 <= 10 ms. redis-py's Lock sleep-polls (0.1 s by default).
  - etcd: uncontended lock + unlock, and handoff latency, for gosync.etcd
    (its client is etcd's JSON gateway, which has no lock of its own to
    compare with).
  - RWMutex read locks from 4 processes, both engines: the most readers
    inside at once (they must overlap) and the wall time against holding
    the read locks one after another.

Contenders take turns within each run (A B C, then C B A, ...). Uncontended
figures are the median over runs of each run's mean; handoff percentiles
are over the samples of all runs. The script exits 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from dist_servers import Server, start_etcd, start_redis, which  # noqa: E402

# A contender: make(name) -> (lock, unlock) callables for one client.
Maker = Callable[[str], "tuple[Callable[[], Any], Callable[[], Any]]"]


def redis_contenders(url: str) -> dict[str, Maker]:
    import redis

    import gosync.redis

    out: dict[str, Maker] = {}
    sessions: list[Any] = []

    def gosync_make(name: str) -> tuple[Callable[[], Any], Callable[[], Any]]:
        s = gosync.redis.Session(url=url, ttl=10)
        sessions.append(s)
        m = s.Mutex(name)
        return m.lock, m.unlock

    out["gosync.redis"] = gosync_make

    def redispy_make(name: str) -> tuple[Callable[[], Any], Callable[[], Any]]:
        lk = redis.Redis.from_url(url).lock(name, timeout=10)
        return lk.acquire, lk.release

    out["redis-py Lock"] = redispy_make
    try:
        import redis_lock  # type: ignore[import-untyped]

        def rl_make(name: str) -> tuple[Callable[[], Any], Callable[[], Any]]:
            lk = redis_lock.Lock(redis.Redis.from_url(url), name, expire=10)
            return lk.acquire, lk.release

        out["python-redis-lock"] = rl_make
    except ImportError:
        print("python-redis-lock: not installed, skipped")
    try:
        import pottery

        def pot_make(name: str) -> tuple[Callable[[], Any], Callable[[], Any]]:
            lk = pottery.Redlock(key=name, masters={redis.Redis.from_url(url)}, auto_release_time=10)
            return lk.acquire, lk.release

        out["pottery Redlock"] = pot_make
    except ImportError:
        print("pottery: not installed, skipped")
    return out


def etcd_contenders(address: str) -> dict[str, Maker]:
    import gosync.etcd

    def make(name: str) -> tuple[Callable[[], Any], Callable[[], Any]]:
        m = gosync.etcd.Session(endpoints=[address], ttl=10).Mutex(name)
        return m.lock, m.unlock

    return {"gosync.etcd": make}


def uncontended(make: Maker, ops: int) -> float:
    """Mean seconds per lock + unlock pair, one client, no contention."""
    lock, unlock = make("u-" + uuid.uuid4().hex[:8])
    for _ in range(10):  # warm up: connections, scripts
        lock()
        unlock()
    t0 = time.perf_counter()
    for _ in range(ops):
        lock()
        unlock()
    return (time.perf_counter() - t0) / ops


def handoff(make: Maker, n: int) -> list[float]:
    """Seconds from the holder's unlock to the waiter's return, n times."""
    name = "h-" + uuid.uuid4().hex[:8]
    hold, release = make(name)
    wait, wait_release = make(name)
    go, back = threading.Semaphore(0), threading.Semaphore(0)
    got: list[float] = []

    def waiter() -> None:
        for _ in range(n):
            go.acquire()
            wait()
            got.append(time.perf_counter())
            wait_release()
            back.release()

    t = threading.Thread(target=waiter, daemon=True)
    t.start()
    out = []
    for _ in range(n):
        hold()
        go.release()
        time.sleep(0.03)  # the waiter is blocked by now
        t0 = time.perf_counter()
        release()
        if not back.acquire(timeout=30):
            raise RuntimeError("the waiter did not get the lock")
        out.append(got[-1] - t0)
    t.join(5)
    return out


def _reader(args: tuple[str, str, str, int]) -> list[tuple[float, float]]:
    kind, where, name, rounds = args
    import gosync.etcd
    import gosync.redis

    s: Any = gosync.redis.Session(url=where, ttl=10) if kind == "redis" else gosync.etcd.Session(endpoints=[where])
    rw = s.RWMutex(name)
    spans = []
    for _ in range(rounds):
        assert rw.rlock(timeout=30)
        t0 = time.time()
        time.sleep(0.1)
        spans.append((t0, time.time()))
        rw.runlock()
    s.close()
    return spans


def read_overlap(kind: str, where: str, procs: int = 4, rounds: int = 3) -> tuple[int, float, float]:
    """(most readers at once, seconds from the first read lock to the last
    unlock, seconds the read locks were held in all)."""
    name = "r-" + uuid.uuid4().hex[:8]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(procs) as pool:
        spans = [s for r in pool.map(_reader, [(kind, where, name, rounds)] * procs) for s in r]
    events = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans])
    most = inside = 0
    for _, d in events:
        inside += d
        most = max(most, inside)
    first, last = min(a for a, _ in spans), max(b for _, b in spans)
    return most, last - first, sum(b - a for a, b in spans)


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--ops", type=int, default=300, help="lock+unlock pairs per uncontended run")
    ap.add_argument("--handoffs", type=int, default=40, help="handoffs per run and contender")
    args = ap.parse_args(argv)
    if args.runs < 3:
        ap.error("--runs must be at least 3 (medians of at least 3 runs)")
    servers: list[Server] = []
    missed: list[str] = []
    try:
        engines: list[tuple[str, str, dict[str, Maker]]] = []
        if which("redis-server"):
            r = start_redis()
            servers.append(r)
            engines.append(("redis", r.url, redis_contenders(r.url)))
        else:
            print("redis-server not installed: Redis part skipped")
        if which("etcd"):
            e = start_etcd()
            servers.append(e)
            engines.append(("etcd", e.address, etcd_contenders(e.address)))
        else:
            print("etcd not installed: etcd part skipped")
        for kind, where, cont in engines:
            names = list(cont)
            un: dict[str, list[float]] = {k: [] for k in names}
            ho: dict[str, list[float]] = {k: [] for k in names}
            for run in range(args.runs):
                order = names if run % 2 == 0 else names[::-1]
                for k in order:
                    un[k].append(uncontended(cont[k], args.ops if kind == "redis" else args.ops // 5))
                for k in order:
                    ho[k] += handoff(cont[k], args.handoffs)
            base = statistics.median(un[names[0]])
            print(f"\n{kind}: uncontended lock + unlock (median of {args.runs} runs)")
            for k in names:
                m = statistics.median(un[k])
                print(f"  {k:20s} {m * 1e6:9.1f} us/pair   {m / base:5.2f}x gosync")
            print(f"{kind}: handoff latency, unlock -> waiter returns ({len(ho[names[0]])} samples each)")
            for k in names:
                print(f"  {k:20s} median {statistics.median(ho[k]) * 1e3:8.2f} ms   p99 {pct(ho[k], 99) * 1e3:8.2f} ms")
            if kind == "redis":
                ratio = statistics.median(un["gosync.redis"]) / statistics.median(un["redis-py Lock"])
                p99 = pct(ho["gosync.redis"], 99) * 1e3
                verdict = "PASS" if ratio <= 1.0 else "MISS"
                print(f"  target uncontended gosync/redis-py <= 1.00: {ratio:.2f}  {verdict}")
                print(f"  target handoff p99 <= 10 ms: {p99:.2f} ms  {'PASS' if p99 <= 10 else 'MISS'}")
                if ratio > 1.0:
                    missed.append("redis uncontended")
                if p99 > 10:
                    missed.append("redis handoff p99")
            most, wall, serial = read_overlap(kind, where)
            print(f"{kind}: RWMutex read locks, 4 processes x 3 x 100 ms: up to {most} readers at once; "
                  f"{wall:.2f} s wall vs {serial:.2f} s held in all")
            if most < 2:
                missed.append(f"{kind} read overlap")
    finally:
        for s in servers:
            s.stop()
    if missed:
        print("\nMISSED:", ", ".join(missed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
