"""``GET /_emulator/outputs/{id}.{mp4|mov|zip|png|jpg|webp|mp3|wav|ogg|flac}?exp=..&sig=..``: output media.

Signed URLs need no API key, like a CDN's. A tampered or expired URL gets the S3-like 403
XML a real bucket answers; a task that is gone (deleted, or not SUCCEEDED) gets 404; without
the ``video`` extra the answer is a 503 that says so. Each file is served with its media type
(``formats.MEDIA_TYPES``: video/mp4, video/quicktime, application/zip, image/png...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runway_emulator.formats import MEDIA_TYPES
from runway_emulator.media import MediaUnavailableError, parse_output_name
from runway_emulator.protocol import SUCCEEDED
from runway_emulator.task_endpoints import outputs_of
from runway_emulator.wire import BAD_SIGNATURE_XML, EXPIRED_XML, XML, raw_response, runway_error

if TYPE_CHECKING:
    from aiohttp import web

    from runway_emulator.gateway import ApiCall


async def serve_output(call: ApiCall) -> web.Response:
    name = call.arg
    parsed = parse_output_name(name)
    query, backend = call.request.query, call.backend
    state = backend.state
    problem = backend.media.verify(name, query.get("exp", ""), query.get("sig", ""), state.clock())
    if problem is not None or parsed is None or parsed[2] not in MEDIA_TYPES:
        return raw_response(403, EXPIRED_XML if problem == "expired" else BAD_SIGNATURE_XML, XML)
    task_id, index, extension = parsed
    task = state.tasks.get(task_id)
    if task is None or task.deleted or state.status_now(task)[0] != SUCCEEDED or index >= outputs_of(task):
        return runway_error(404, "Output not found.")
    try:
        data = await backend.media.output(task, index)
    except MediaUnavailableError as exc:
        return runway_error(503, str(exc))
    return raw_response(200, data, MEDIA_TYPES[extension])
