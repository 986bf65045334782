"""Signed, expiring output URLs and the MP4 bytes behind them.

Runway's output URLs are pre-signed and expire (24-48 h); a client that stores the URL
instead of downloading it breaks later. The emulator signs ``exp`` with a per-process secret
(so a test cannot extend a URL by editing it) and answers 403 with an S3-like XML body once
it has passed. Each poll hands out a fresh URL, as Runway does.

The video comes from ``video.render_mp4`` (ffmpeg, CPU-bound): rendered once per task in a
worker thread, never on the event loop, and cached; concurrent downloads share one render.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import hashlib
import hmac
import logging
import math
import secrets
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from airflow_provider_runway.emulator.server import HandlerResult, Request, Response
from airflow_provider_runway.emulator.state import Task, input_image
from airflow_provider_runway.emulator.wire import BAD_SIGNATURE_XML, EXPIRED_XML, runway_error
from airflow_provider_runway.models import COMETAPI, MODELS
from airflow_provider_runway.tasks import SUCCEEDED

if TYPE_CHECKING:
    from airflow_provider_runway.emulator.routes import App

log = logging.getLogger("airflow_provider_runway.emulator")

OUTPUT_PREFIX = "/_emulator/outputs/"
DEFAULT_TTL_SECONDS = 48 * 3600.0
_XML = "application/xml"


def render_params(task: Task) -> tuple[bytes | None, str, str, float]:
    """(image bytes or None, label, ratio, duration) for ``render_mp4``; never fetches a URL."""
    uri = input_image(task.body)
    image: bytes | None = None
    label = task.id
    if uri and uri.startswith("data:"):
        try:
            image = base64.b64decode(uri.partition(",")[2], validate=True)
        except (binascii.Error, ValueError):
            image = None
    elif uri:
        label = uri  # https:// or runway:// : not fetched, a picture is generated from the URL
    ratio = task.body.get("ratio")
    if not isinstance(ratio, str):
        spec = MODELS.get(task.model)
        ratio = "1280:720" if task.flavor == COMETAPI or spec is None else spec.ratios[0]
    duration = task.body.get("duration")
    return image, label, ratio, float(duration) if isinstance(duration, int) and duration > 0 else 5.0


class Outputs:
    """Output URL signing and the per-task MP4 cache."""

    def __init__(self, app: App) -> None:
        self._app = app
        self._secret = secrets.token_bytes(32)
        self._cache: dict[str, bytes] = {}
        self._inflight: dict[str, asyncio.Future[bytes]] = {}

    def clear(self) -> None:
        self._cache.clear()
        self._inflight.clear()

    def _sign(self, task_id: str, exp: int) -> str:
        return hmac.new(self._secret, f"{task_id}:{exp}".encode(), hashlib.sha256).hexdigest()[:32]

    def url(self, task: Task, now: float) -> str:
        ttl = self._app.config.output_ttl_seconds
        exp = math.ceil(now + (DEFAULT_TTL_SECONDS if ttl is None else ttl))
        return f"{self._app.base_url}{OUTPUT_PREFIX}{task.id}.mp4?exp={exp}&sig={self._sign(task.id, exp)}"

    def serve(self, req: Request, _flavor: str, name: str) -> HandlerResult:
        task_id = name[:-4] if name.endswith(".mp4") else ""
        query = parse_qs(req.query)
        exp_text, sig = query.get("exp", [""])[0], query.get("sig", [""])[0]
        if not task_id or not exp_text.isdigit():
            return Response(403, BAD_SIGNATURE_XML, _XML)
        exp = int(exp_text)
        if not hmac.compare_digest(sig, self._sign(task_id, exp)):
            return Response(403, BAD_SIGNATURE_XML, _XML)
        state = self._app.state
        if state.clock() > exp:
            return Response(403, EXPIRED_XML, _XML)
        task = state.tasks.get(task_id)
        if task is None or task.deleted or state.status_now(task)[0] != SUCCEEDED:
            return runway_error(404, "Output not found.")
        cached = self._cache.get(task_id)
        if cached is not None:
            return Response(200, cached, "video/mp4")
        return self._render(task)

    async def _render(self, task: Task) -> Response:
        future = self._inflight.get(task.id)
        if future is None:
            future = asyncio.ensure_future(self._run_render(task))
            self._inflight[task.id] = future
        try:
            data = await asyncio.shield(future)
        except _Unavailable as exc:
            return runway_error(503, str(exc))
        finally:
            if future.done():
                self._inflight.pop(task.id, None)
        return Response(200, data, "video/mp4")

    async def _run_render(self, task: Task) -> bytes:
        image, label, ratio, duration = render_params(task)
        try:
            from airflow_provider_runway.emulator.video import VideoUnavailableError, render_mp4
        except ImportError as exc:  # the module ships separately; be explicit if it is missing
            raise _Unavailable(f"MP4 rendering is not available: {exc}") from exc
        call = functools.partial(render_mp4, image, label=label, ratio=ratio, duration_s=duration)
        try:
            data = await asyncio.get_running_loop().run_in_executor(None, call)
        except VideoUnavailableError as exc:
            raise _Unavailable(f"MP4 rendering is not available: {exc}") from exc
        except ValueError as exc:
            raise _Unavailable(f"MP4 rendering failed: {exc}") from exc
        self._cache[task.id] = data
        return data


class _Unavailable(Exception):
    """render_mp4 cannot produce a video here (missing extra or ffmpeg failure)."""
