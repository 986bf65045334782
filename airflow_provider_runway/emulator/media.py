"""Output media: signed, expiring URLs and the rendered bytes behind them.

Runway's output URLs are pre-signed and expire (24-48 h); a client that stores the URL
instead of downloading it breaks later. The emulator signs ``exp`` with a per-process secret
(so a test cannot extend a URL by editing it); each poll hands out a fresh URL, as Runway does.

The media comes from ``video.py`` (ffmpeg, CPU-bound): rendered once per task in a worker
thread, never on the event loop, and cached; concurrent downloads share one render.

The emulator never fetches a remote URL (tests run offline). A task whose input is an
``https://`` or ``runway://`` URL gets a conspicuous placeholder picture instead, a warning in
the log and a note in its task object, so nobody mistakes the result for their image.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import hashlib
import hmac
import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_runway.catalog import FieldSpec, load_catalog
from airflow_provider_runway.emulator import video
from airflow_provider_runway.emulator.task_endpoints import PNG, endpoint_named

if TYPE_CHECKING:
    from airflow_provider_runway.emulator.state import Task

OUTPUT_PREFIX = "/_emulator/outputs/"
DEFAULT_TTL_SECONDS = 48 * 3600.0
REMOTE_INPUT_NOTE = "placeholder: remote URL not fetched"
PLACEHOLDER_CAPTION = "EMULATOR PLACEHOLDER - remote image not fetched"
DEFAULT_RATIO = "1280:720"
DEFAULT_DURATION = 5


class MediaUnavailableError(Exception):
    """The media cannot be produced here (the 'video' extra is missing or ffmpeg failed)."""


def input_image(body: Mapping[str, Any]) -> str | None:
    """The URI of the (first) prompt image in a validated body."""
    value = body.get("promptImage")
    if isinstance(value, list):
        frames = [f for f in value if isinstance(f, Mapping)]
        first = next((f for f in frames if f.get("position") == "first"), frames[0] if frames else None)
        return str(first["uri"]) if first is not None else None
    return value if isinstance(value, str) else None


def remote_input(body: Mapping[str, Any]) -> str | None:
    """The input URL the emulator will not fetch (anything but an inline data URI), if any."""
    uri = input_image(body)
    return uri if uri and not uri.startswith("data:") else None


@dataclass(frozen=True)
class RenderInputs:
    """What a renderer needs for one task; ``caption`` marks a placeholder picture."""

    image: bytes | None
    label: str
    ratio: str
    duration_s: float
    caption: str | None


def _default(field: FieldSpec | None, fallback: Any) -> Any:
    """What the API uses when a field is omitted: its documented default, else ``fallback``
    brought within the allowed values or range."""
    if field is None:
        return fallback
    if field.default is not None:
        return field.default
    if field.values:
        return fallback if fallback in field.values else field.values[0]
    low = fallback if field.minimum is None else field.minimum
    high = fallback if field.maximum is None else field.maximum
    return min(max(fallback, low), high)


def render_inputs(task: Task) -> RenderInputs:
    """The picture, size and length to render for ``task``; never fetches a URL.

    Without ``ratio`` or ``duration`` the model's documented default applies (catalog.json),
    so the output has the shape and length the API would give; unknown models get 1280:720, 5 s.
    """
    uri = input_image(task.body)
    image: bytes | None = None
    caption = None
    if uri and uri.startswith("data:"):
        try:
            image = base64.b64decode(uri.partition(",")[2], validate=True)
        except (binascii.Error, ValueError):
            image = None
    elif uri:
        caption = PLACEHOLDER_CAPTION
    endpoint = load_catalog().endpoint(task.endpoint)
    model = endpoint.models.get(task.model) if endpoint is not None else None
    fields = model.fields if model is not None else {}
    ratio = task.body.get("ratio")
    if not isinstance(ratio, str):
        ratio = _default(fields.get("ratio"), DEFAULT_RATIO)
    duration = task.body.get("duration")
    if not (isinstance(duration, int) and not isinstance(duration, bool) and duration > 0):
        duration = _default(fields.get("duration"), DEFAULT_DURATION)
    return RenderInputs(image=image, label=task.id, ratio=str(ratio), duration_s=float(duration), caption=caption)


def _render(task: Task) -> bytes:
    """Blocking: the task's output file, from ``video.py``."""
    inputs = render_inputs(task)
    try:
        if endpoint_named(task.endpoint).output == PNG:
            return video.render_png(inputs.image, label=inputs.label, ratio=inputs.ratio, caption=inputs.caption)
        return video.render_mp4(
            inputs.image, label=inputs.label, ratio=inputs.ratio, duration_s=inputs.duration_s, caption=inputs.caption
        )
    except video.VideoUnavailableError as exc:
        raise MediaUnavailableError(f"MP4 rendering is not available: {exc}") from exc
    except ValueError as exc:
        raise MediaUnavailableError(f"rendering failed: {exc}") from exc


class MediaStore:
    """Output URL signing and the per-task media cache (event loop thread only)."""

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)
        self._cache: dict[str, bytes] = {}
        self._inflight: dict[str, asyncio.Future[bytes]] = {}

    def clear(self) -> None:
        self._cache.clear()
        self._inflight.clear()

    def evict(self, task_id: str) -> None:
        """Forget a deleted task's media, as Runway deletes a deleted task's output."""
        self._cache.pop(task_id, None)

    def _sign(self, name: str, exp: int) -> str:
        return hmac.new(self._secret, f"{name}:{exp}".encode(), hashlib.sha256).hexdigest()[:32]

    def url(self, base_url: str, task: Task, now: float, ttl: float | None) -> str:
        exp = math.ceil(now + (DEFAULT_TTL_SECONDS if ttl is None else ttl))
        name = f"{task.id}.{endpoint_named(task.endpoint).output}"
        return f"{base_url}{OUTPUT_PREFIX}{name}?exp={exp}&sig={self._sign(name, exp)}"

    def verify(self, name: str, exp_text: str, sig: str, now: float) -> str | None:
        """None if the URL is genuine and current, else "signature" or "expired"."""
        if not exp_text.isdigit() or not hmac.compare_digest(sig, self._sign(name, int(exp_text))):
            return "signature"
        return "expired" if now > int(exp_text) else None

    def cached(self, task_id: str) -> bytes | None:
        return self._cache.get(task_id)

    async def render(self, task: Task) -> bytes:
        """The task's media, rendered once in a worker thread; raises MediaUnavailableError."""
        future = self._inflight.get(task.id)
        if future is None:
            loop = asyncio.get_running_loop()
            future = asyncio.ensure_future(loop.run_in_executor(None, functools.partial(_render, task)))
            self._inflight[task.id] = future
        try:
            data = await asyncio.shield(future)
        finally:
            if future.done():
                self._inflight.pop(task.id, None)
        if not task.deleted:
            self._cache[task.id] = data
        return data
