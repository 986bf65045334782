"""How many task polls per second the emulator answers on ONE core, optionally against a baseline.

The triggerer benchmark runs 10,000 Runway waits polling every 10 s: 1,000 polls/s that the
emulator, pinned to its own core, must answer with room to spare (target here: >= 2,000/s).

Each emulator runs as ``python -m runway_emulator`` in a child process pinned
to one CPU; client processes pinned to the other CPUs keep ``--connections`` keep-alive
connections each with one GET in flight per connection, on a lean socket client (http.client
would make the client the bottleneck). ``--baseline-src`` points at another source checkout
(e.g. ``git worktree add /tmp/emu-main main``): its emulator is measured in the same run,
rounds interleaved so that load from other processes hits both alike, and the ratio printed.
Only 127.0.0.1 is ever contacted.

    .venv/bin/python bench/emulator_throughput.py [--seconds 5] [--rounds 3] [--baseline-src /tmp/emu-main]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import multiprocessing
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
TARGET = 2_000  # 2x the 1,000 polls/s of 10,000 triggers at a 10 s interval
_CONTENT_LENGTH = re.compile(rb"(?im)^content-length:\s*(\d+)")
HEADERS = {"Authorization": "Bearer bench-key", "X-Runway-Version": "2024-11-06"}
CONFIG = {"port": 0, "pending_seconds": 0.0, "generation_seconds": 3600.0, "not_visible_seconds": 0.0}
# A 1x1 PNG inline (a type the API accepts): a remote URL would only add a "not fetched" warning to the output.
TINY_IMAGE = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
# The one task every poll reads (flavor runway); tests/emulator/test_bench_inputs.py keeps it valid.
CREATE_PATH = "/v1/image_to_video"
CREATE_BODY = {"promptImage": TINY_IMAGE, "model": "gen4_turbo", "ratio": "1280:720"}
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class _RawConnection:
    """A minimal keep-alive HTTP/1.1 client on a socket: send one GET, read one Content-Length answer."""

    def __init__(self, host: str, port: int, path: str) -> None:
        self._sock = socket.create_connection((host, port), timeout=10)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", *(f"{k}: {v}" for k, v in HEADERS.items())]
        self._request = ("\r\n".join(lines) + "\r\n\r\n").encode()
        self._buf = b""

    def send(self) -> None:
        self._sock.sendall(self._request)

    def receive(self) -> int:
        buf = self._buf
        while (end := buf.find(b"\r\n\r\n")) < 0:
            buf += self._recv()
        match = _CONTENT_LENGTH.search(buf[:end])
        if match is None:
            raise ConnectionError("answer without Content-Length")
        need = end + 4 + int(match.group(1))
        while len(buf) < need:
            buf += self._recv()
        self._buf = buf[need:]
        return int(buf[9:12])

    def _recv(self) -> bytes:
        chunk = self._sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        return chunk

    def close(self) -> None:
        self._sock.close()


def _worker(
    host: str, port: int, path: str, connections: int, start_at: float, seconds: float, cpus: list[int]
) -> tuple[int, int]:
    """Keep one GET in flight per connection until the window closes; returns (ok, errors)."""
    if cpus:
        os.sched_setaffinity(0, cpus)
    conns = [_RawConnection(host, port, path) for _ in range(connections)]

    def round_trip() -> list[int]:
        for conn in conns:
            conn.send()
        return [conn.receive() for conn in conns]

    for _ in range(20):  # warm up the connections and the server's code paths
        round_trip()
    while time.time() < start_at:
        time.sleep(0.001)
    ok = errors = 0
    deadline = start_at + seconds
    while time.time() < deadline:
        for status in round_trip():
            if status == 200:
                ok += 1
            else:
                errors += 1
    for conn in conns:
        conn.close()
    return ok, errors


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (Linux)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Server:
    """One emulator process from the given source tree, pinned to one CPU, with a task to poll."""

    def __init__(self, name: str, src: Path, cpu: int) -> None:
        self.name = name
        env = {**os.environ, "PYTHONPATH": str(src)}
        cmd = [sys.executable, "-m", "runway_emulator", "--config-stdin"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        os.sched_setaffinity(self.proc.pid, {cpu})
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(CONFIG))
        self.proc.stdin.close()
        line = self.proc.stdout.readline()
        found = re.search(r"(http://\S+)", line)
        if found is None:
            self.stop()
            raise RuntimeError(f"{name} emulator did not start: {line!r}")
        self.base_url = found.group(1)
        parts = urlsplit(self.base_url)
        assert parts.hostname == "127.0.0.1", "the benchmark only talks to the loopback address"
        self.host, self.port = parts.hostname, parts.port or 80
        task = self._call("POST", CREATE_PATH, CREATE_BODY, {**HEADERS, "Content-Type": "application/json"})
        self.path = f"/v1/tasks/{task['id']}"

    def _call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers or {})
        with _OPENER.open(request, timeout=10) as response:
            return json.loads(response.read())

    def polls_counted(self) -> int:
        return int(self._call("GET", "/_emulator/stats")["polls"]["count"])

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def _measure(server: _Server, args: argparse.Namespace, client_cpus: list[int]) -> tuple[float, int, float]:
    """(polls/s, errors, emulator CPU seconds per second) over one window."""
    counted_before = server.polls_counted()
    start_at = time.time() + 1.0
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(args.workers, mp_context=ctx) as pool:
        futures = [
            pool.submit(
                _worker, server.host, server.port, server.path, args.connections, start_at, args.seconds, client_cpus
            )
            for _ in range(args.workers)
        ]
        time.sleep(max(start_at - time.time(), 0.0))
        cpu_before = _cpu_seconds(server.proc.pid)
        results = [f.result() for f in futures]
        cpu_after = _cpu_seconds(server.proc.pid)
    elapsed = time.time() - start_at
    ok, errors = sum(r[0] for r in results), sum(r[1] for r in results)
    # The server's own count must match what the clients saw (warm-up included).
    warmup = args.workers * args.connections * 20
    assert server.polls_counted() - counted_before == ok + errors + warmup, "server and clients disagree"
    return ok / elapsed, errors, (cpu_after - cpu_before) / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measuring window per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per emulator (interleaved with the baseline)")
    parser.add_argument("--workers", type=int, default=2, help="client processes")
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections per client process")
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--baseline-src", type=Path, default=None, help="source tree of the emulator to compare with")
    args = parser.parse_args()

    available = sorted(os.sched_getaffinity(0))
    client_cpus = [c for c in available if c != args.server_cpu] or available
    if client_cpus == available:
        print("warning: only one CPU available; client and server share it", file=sys.stderr)
    servers = [_Server("this tree", ROOT, args.server_cpu)]
    if args.baseline_src is not None:
        servers.append(_Server(f"baseline {args.baseline_src}", args.baseline_src.resolve(), args.server_cpu))
    print(
        f"emulator pinned to CPU {args.server_cpu}; {args.workers} client processes x {args.connections} "
        f"keep-alive connections on CPUs {client_cpus}; {args.rounds} x {args.seconds:g} s per emulator"
    )
    rates: dict[str, list[float]] = {s.name: [] for s in servers}
    # Polls per CPU-second of the emulator: what its one core sustains when saturated, even
    # when the clients (sharing the other core with whatever else runs) cannot saturate it.
    capacity: dict[str, list[float]] = {s.name: [] for s in servers}
    failed = False
    try:
        for round_no in range(1, args.rounds + 1):
            for server in servers if round_no % 2 else reversed(servers):
                rate, errors, busy = _measure(server, args, client_cpus)
                per_cpu_second = rate / busy if busy else 0.0
                rates[server.name].append(rate)
                capacity[server.name].append(per_cpu_second)
                failed = failed or errors > 0
                print(
                    f"  round {round_no} {server.name:<28} {rate:>7,.0f} polls/s, emulator CPU {busy:4.0%}, "
                    f"{per_cpu_second:>7,.0f} polls per CPU-second ({errors} errors)"
                )
    finally:
        for server in servers:
            server.stop()
    medians = {name: statistics.median(values) for name, values in capacity.items()}
    ours = medians[servers[0].name]
    print(
        f"this tree: {ours:,.0f} polls per emulator CPU-second (median) = {ours / 1000:.1f}x the 1,000 polls/s "
        f"of 10,000 triggers at 10 s; measured {statistics.median(rates[servers[0].name]):,.0f} polls/s"
    )
    if len(servers) > 1:
        base = medians[servers[1].name]
        print(
            f"baseline:  {base:,.0f} polls per emulator CPU-second (median); this tree / baseline = {ours / base:.2f}; "
            f"measured {statistics.median(rates[servers[1].name]):,.0f} polls/s"
        )
    return 0 if not failed and ours >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
