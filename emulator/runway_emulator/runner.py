"""Starting the emulator: as a coroutine, in a background thread, or in a child process.

The thread mode starts in milliseconds and suits most tests; the process mode gives a real,
separate process (for tests that kill things, and for benchmarks pinned to one core). Both
yield the same ``EmulatorHandle`` because it only speaks HTTP to the admin endpoints.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import subprocess as _subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from aiohttp import web

from runway_emulator.backend import EmulatorBackend
from runway_emulator.config import EmulatorConfig
from runway_emulator.handle import EmulatorHandle
from runway_emulator.routes import build_app

if TYPE_CHECKING:
    from runway_emulator.clock import Clock

READY_PREFIX = "Runway emulator ready:"
SHUTDOWN_GRACE_S = 1.0
_URL = re.compile(r"(http://\S+)")


class Emulator:
    """The emulator bound to one event loop: ``await start()``, ``await close()``."""

    def __init__(self, config: EmulatorConfig | None = None, clock: Clock = time.time) -> None:
        self.config = config or EmulatorConfig()
        self.backend = EmulatorBackend(self.config, clock)
        # No access log (the request log and --verbose cover it); a short grace period on
        # close because a request held by a ``slow`` fault must not delay shutdown.
        self._runner = web.AppRunner(build_app(self.backend), access_log=None, shutdown_timeout=SHUTDOWN_GRACE_S)

    @property
    def base_url(self) -> str:
        return self.backend.base_url

    async def start(self) -> str:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port, reuse_address=True, backlog=1024)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.backend.set_base_url(str(host), int(port))
        return self.backend.base_url

    async def close(self) -> None:
        await self._runner.cleanup()


class _ThreadRunner:
    """Runs an Emulator on its own event loop in a daemon thread."""

    def __init__(self, config: EmulatorConfig) -> None:
        self._emulator = Emulator(config)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="runway-emulator", daemon=True)

    def start(self, timeout: float) -> str:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("runway emulator thread did not start in time")
        if self._error is not None:
            raise RuntimeError(f"runway emulator failed to start: {self._error}") from self._error
        return self._emulator.base_url

    def _run(self) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._emulator.start())
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._emulator.close())
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    def stop(self) -> None:
        if self._thread.is_alive() and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)


class _ProcessRunner:
    """Runs ``python -m runway_emulator`` with the config on stdin."""

    def __init__(self, config: EmulatorConfig, cpu_affinity: Iterable[int] | None) -> None:
        self._config = config
        self._cpus = set(cpu_affinity) if cpu_affinity is not None else None
        self.proc: _subprocess.Popen[str] | None = None

    def start(self, timeout: float) -> str:
        cmd = [sys.executable, "-m", "runway_emulator", "--config-stdin"]
        self.proc = proc = _subprocess.Popen(cmd, stdin=_subprocess.PIPE, stdout=_subprocess.PIPE, text=True, bufsize=1)
        if self._cpus is not None:
            os.sched_setaffinity(proc.pid, self._cpus)
        assert proc.stdin is not None and proc.stdout is not None
        # The key travels on stdin, never on the command line where `ps` would show it.
        proc.stdin.write(json.dumps(self._config.to_json_dict()))
        proc.stdin.close()
        line = _readline(proc, timeout)
        match = _URL.search(line)
        if match is None:
            self.stop()
            raise RuntimeError(f"runway emulator process did not report readiness (got {line!r})")
        return match.group(1)

    def stop(self) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except _subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def _readline(proc: _subprocess.Popen[str], timeout: float) -> str:
    result: list[str] = []
    assert proc.stdout is not None
    reader = threading.Thread(target=lambda: result.append(proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    if not result:
        proc.kill()
        raise RuntimeError(f"runway emulator process did not start within {timeout:.0f}s")
    return result[0]


@contextlib.contextmanager
def run_emulator(
    config: EmulatorConfig | None = None,
    *,
    subprocess: bool = False,
    cpu_affinity: Iterable[int] | None = None,
    startup_timeout: float = 30.0,
    **overrides: Any,
) -> Iterator[EmulatorHandle]:
    """Start an emulator (on a free port unless ``config``/``port`` says otherwise) and stop it on exit.

    ``overrides`` are EmulatorConfig fields, e.g. ``run_emulator(generation_seconds=1)``.
    ``subprocess=True`` runs it in a child process (optionally pinned with ``cpu_affinity``).
    """
    cfg = (config or EmulatorConfig(port=0)).replace(overrides)
    if subprocess:
        runner: _ThreadRunner | _ProcessRunner = _ProcessRunner(cfg, cpu_affinity)
    else:
        if cpu_affinity is not None:
            raise ValueError("cpu_affinity needs subprocess=True")
        runner = _ThreadRunner(cfg)
    base_url = runner.start(startup_timeout)
    try:
        pid = runner.proc.pid if isinstance(runner, _ProcessRunner) and runner.proc else None
        yield EmulatorHandle(base_url, api_key=cfg.api_key, pid=pid)
    finally:
        runner.stop()
