"""``GET /_emulator/outputs/{id}.{mp4|png|mp3|wav|ogg}?exp=..&sig=..``: the media behind output URLs.

Signed URLs need no API key, like a CDN's. A tampered or expired URL gets the S3-like 403
XML a real bucket answers; a task that is gone (deleted, or not SUCCEEDED) gets 404; without
the ``video`` extra the answer is a 503 that says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runway_emulator.media import MediaUnavailableError, parse_output_name
from runway_emulator.task_endpoints import MEDIA_TYPES, output_count
from runway_emulator.wire import BAD_SIGNATURE_XML, EXPIRED_XML, XML, raw_response, runway_error
from airflow_provider_runway.tasks import SUCCEEDED

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
    if task is None or task.deleted or state.status_now(task)[0] != SUCCEEDED or index >= output_count(task.body):
        return runway_error(404, "Output not found.")
    try:
        data = await backend.media.output(task, index)
    except MediaUnavailableError as exc:
        return runway_error(503, str(exc))
    return raw_response(200, data, MEDIA_TYPES[extension])
