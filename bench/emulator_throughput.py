"""How many task polls per second the emulator answers on ONE core (target: >= 2,000/s).

The emulator runs in a child process pinned to one CPU; client processes pinned to the other
CPUs each hold one keep-alive connection and GET the same RUNNING task back to back with
stdlib http.client. Only 127.0.0.1 is ever contacted. Bounded by --seconds and --max-polls.

    .venv/bin/python bench/emulator_throughput.py [--seconds 5] [--workers 4]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import http.client
import json
import multiprocessing
import os
import re
import socket
import sys
import time
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_runway.emulator import run_emulator

_CONTENT_LENGTH = re.compile(r"(?im)^content-length:\s*(\d+)")
HEADERS = {"Authorization": "Bearer bench-key", "X-Runway-Version": "2024-11-06"}


class _RawConnection:
    """A minimal keep-alive HTTP/1.1 client on a socket: one GET, one Content-Length answer.

    http.client spends ~150 us per request parsing headers with the email package, which
    makes one client core the bottleneck; this costs a fraction and so measures the server.
    """

    def __init__(self, host: str, port: int, path: str) -> None:
        self._sock = socket.create_connection((host, port), timeout=10)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", *(f"{k}: {v}" for k, v in HEADERS.items())]
        self._request = ("\r\n".join(lines) + "\r\n\r\n").encode()
        self._buf = b""

    def get(self) -> int:
        self._sock.sendall(self._request)
        buf = self._buf
        while (end := buf.find(b"\r\n\r\n")) < 0:
            buf += self._recv()
        head = buf[:end].decode("latin-1")
        match = _CONTENT_LENGTH.search(head)
        if match is None:
            raise ConnectionError("answer without Content-Length")
        length = int(match.group(1))
        need = end + 4 + length
        while len(buf) < need:
            buf += self._recv()
        self._buf = buf[need:]
        return int(head[9:12])

    def _recv(self) -> bytes:
        chunk = self._sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        return chunk

    def close(self) -> None:
        self._sock.close()


class _StdlibConnection:
    def __init__(self, host: str, port: int, path: str) -> None:
        self._conn = http.client.HTTPConnection(host, port, timeout=10)
        self._path = path

    def get(self) -> int:
        self._conn.request("GET", self._path, headers=HEADERS)
        resp = self._conn.getresponse()
        resp.read()
        return resp.status

    def close(self) -> None:
        self._conn.close()


def _worker(
    client: str, host: str, port: int, path: str, start_at: float, seconds: float, max_polls: int, cpus: list[int]
) -> tuple[int, int]:
    """Poll until the window closes; returns (ok, errors)."""
    if cpus:
        os.sched_setaffinity(0, cpus)
    conn = _RawConnection(host, port, path) if client == "raw" else _StdlibConnection(host, port, path)
    for _ in range(50):  # warm up the connection and the server's code paths
        conn.get()
    while time.time() < start_at:
        time.sleep(0.001)
    ok = errors = 0
    deadline = start_at + seconds
    while ok + errors < max_polls:
        if conn.get() == 200:
            ok += 1
        else:
            errors += 1
        if (ok + errors) % 64 == 0 and time.time() >= deadline:
            break
    conn.close()
    return ok, errors


def _cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a process, from /proc (Linux)."""
    if pid is None:
        return 0.0
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _measure(
    client: str, host: str, port: int, path: str, args: argparse.Namespace, client_cpus: list[int], pid: int | None
) -> tuple[float, int, int, float]:
    """(polls/s, ok, errors, emulator CPU share) for one client kind."""
    cpu_before = _cpu_seconds(pid)
    per_worker = max(args.max_polls // args.workers, 1)
    start_at = time.time() + 1.5
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(args.workers, mp_context=ctx) as pool:
        futures = [
            pool.submit(_worker, client, host, port, path, start_at, args.seconds, per_worker, client_cpus)
            for _ in range(args.workers)
        ]
        results = [f.result() for f in futures]
    elapsed = time.time() - start_at
    busy = (_cpu_seconds(pid) - cpu_before) / elapsed  # includes warm-up: an upper bound
    ok, errors = sum(r[0] for r in results), sum(r[1] for r in results)
    return ok / elapsed, ok, errors, busy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measuring window per client kind")
    parser.add_argument("--workers", type=int, default=4, help="client processes, one connection each")
    parser.add_argument("--max-polls", type=int, default=500_000, help="total cap across workers")
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument(
        "--client",
        choices=("http.client", "raw", "both"),
        default="both",
        help="http.client (stdlib; one client core is the limit), raw (lean socket client: measures the server)",
    )
    args = parser.parse_args()

    available = sorted(os.sched_getaffinity(0))
    client_cpus = [c for c in available if c != args.server_cpu] or available
    if client_cpus == available:
        print("warning: only one CPU available; client and server share it", file=sys.stderr)
    kinds = ["http.client", "raw"] if args.client == "both" else [args.client]

    config: dict[str, Any] = {"pending_seconds": 0.0, "generation_seconds": 3600.0, "not_visible_seconds": 0.0}
    best = 0.0
    failed = False
    with run_emulator(subprocess=True, cpu_affinity={args.server_cpu}, **config) as emu:
        parts = urlsplit(emu.base_url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        assert host == "127.0.0.1", "the benchmark only talks to the loopback address"
        conn = http.client.HTTPConnection(host, port, timeout=10)
        body = json.dumps({"promptImage": "https://example.com/a.jpg", "model": "gen4_turbo", "ratio": "1280:720"})
        conn.request("POST", "/v1/image_to_video", body=body, headers={**HEADERS, "Content-Type": "application/json"})
        task_id = json.loads(conn.getresponse().read())["id"]
        conn.close()
        path = f"/v1/tasks/{task_id}"
        print(f"emulator pinned to CPU {args.server_cpu}; {args.workers} keep-alive clients on CPUs {client_cpus}")
        for kind in kinds:
            rate, ok, errors, busy = _measure(kind, host, port, path, args, client_cpus, emu.pid)
            best = max(best, rate)
            failed = failed or errors > 0
            print(f"  {kind:<11} {rate:>9,.0f} polls/s  ({ok:,} OK, {errors} errors; emulator CPU busy <= {busy:.0%})")
        served = emu.stats()["polls"]["count"]
    print(f"server counted {served:,} polls (warm-up included)")
    return 0 if not failed and best >= 2000 else 1


if __name__ == "__main__":
    sys.exit(main())
