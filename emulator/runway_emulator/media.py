"""Output media: signed, expiring URLs and the rendered bytes behind them.

Runway's output URLs are pre-signed and expire (24-48 h); a client that stores the URL
instead of downloading it breaks later. The emulator signs ``exp`` with a per-process secret
(so a test cannot extend a URL by editing it); each poll hands out a fresh URL, as Runway does.
A task has one output, or ``outputCount``/``numVariants`` of them (models that make several).

The media comes from ``rendering.py`` (ffmpeg, CPU-bound): rendered once per output in a
worker thread, never on the event loop, and cached; concurrent downloads share one render.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import math
import re
import secrets
from typing import TYPE_CHECKING

from runway_emulator import rendering, video
from runway_emulator.task_endpoints import output_facts

if TYPE_CHECKING:
    from runway_emulator.state import Task

OUTPUT_PREFIX = "/_emulator/outputs/"
DEFAULT_TTL_SECONDS = 48 * 3600.0
# "<task id>.<ext>" for the first output, "<task id>_<n>.<ext>" for the others.
_OUTPUT_NAME = re.compile(r"^(?P<task>[0-9a-f-]{36})(?:_(?P<index>[1-9]\d?))?\.(?P<ext>[a-z0-9]{2,4})$")


class MediaUnavailableError(Exception):
    """The media cannot be produced here (the 'video' extra is missing or ffmpeg failed)."""


def output_name(task: Task, index: int) -> str:
    suffix = f"_{index}" if index else ""
    return f"{task.id}{suffix}.{output_facts(task)[0]}"


def parse_output_name(name: str) -> tuple[str, int, str] | None:
    """(task id, output index, extension) of an output file name, or None if it is not one."""
    match = _OUTPUT_NAME.match(name)
    if match is None:
        return None
    return match["task"], int(match["index"] or 0), match["ext"]


def _render(task: Task, index: int) -> bytes:
    """Blocking: the task's output file ``index``."""
    try:
        return rendering.render(task, index)
    except video.VideoUnavailableError as exc:
        raise MediaUnavailableError(f"MP4 rendering is not available: {exc}") from exc
    except ValueError as exc:
        raise MediaUnavailableError(f"rendering failed: {exc}") from exc


class MediaStore:
    """Output URL signing and the per-task media cache (event loop thread only)."""

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)
        self._cache: dict[str, dict[int, bytes]] = {}
        self._inflight: dict[tuple[str, int], asyncio.Future[bytes]] = {}

    def clear(self) -> None:
        self._cache.clear()
        self._inflight.clear()

    def evict(self, task_id: str) -> None:
        """Forget a deleted task's media, as Runway deletes a deleted task's output."""
        self._cache.pop(task_id, None)

    def _sign(self, name: str, exp: int) -> str:
        return hmac.new(self._secret, f"{name}:{exp}".encode(), hashlib.sha256).hexdigest()[:32]

    def url(self, base_url: str, task: Task, index: int, now: float, ttl: float | None) -> str:
        exp = math.ceil(now + (DEFAULT_TTL_SECONDS if ttl is None else ttl))
        name = output_name(task, index)
        return f"{base_url}{OUTPUT_PREFIX}{name}?exp={exp}&sig={self._sign(name, exp)}"

    def verify(self, name: str, exp_text: str, sig: str, now: float) -> str | None:
        """None if the URL is genuine and current, else "signature" or "expired"."""
        if not exp_text.isdigit() or not hmac.compare_digest(sig, self._sign(name, int(exp_text))):
            return "signature"
        return "expired" if now > int(exp_text) else None

    def cached(self, task_id: str, index: int = 0) -> bytes | None:
        return self._cache.get(task_id, {}).get(index)

    async def render(self, task: Task, index: int = 0) -> bytes:
        """The task's output ``index``, rendered once in a worker thread; raises MediaUnavailableError."""
        key = (task.id, index)
        future = self._inflight.get(key)
        if future is None:
            loop = asyncio.get_running_loop()
            future = asyncio.ensure_future(loop.run_in_executor(None, functools.partial(_render, task, index)))
            self._inflight[key] = future
        try:
            data = await asyncio.shield(future)
        finally:
            if future.done():
                self._inflight.pop(key, None)
        if not task.deleted:
            self._cache.setdefault(task.id, {})[index] = data
        return data

    async def output(self, task: Task, index: int = 0) -> bytes:
        """The cached output, else rendered now; raises MediaUnavailableError."""
        data = self.cached(task.id, index)
        return data if data is not None else await self.render(task, index)
