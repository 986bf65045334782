"""Runway's uploads over HTTP: ``POST /v1/uploads`` and the presigned storage POST it hands out.

``POST /v1/uploads {"filename", "type": "ephemeral"}`` (API key and version checked, as every
Runway call) answers ``{"uploadUrl", "fields", "runwayUri"}``; ``uploadUrl`` is this emulator's
``/_emulator/storage/{id}``, which, like the S3 bucket behind Runway's, takes no API key: the
form's policy and signature authorize it, and a request that carries an ``Authorization``
header is refused (400 ``InvalidArgument``) and counted in ``stats()["uploads"]``. A stored
file is then what a create body's ``runway://`` URI resolves to (``inputs.py``).
Rules and sources: ``uploads.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from runway_emulator.wire import json_response, no_content, runway_error, s3_error

if TYPE_CHECKING:
    from runway_emulator.gateway import ApiCall

STORAGE_PREFIX = "/_emulator/storage/"
UPLOAD_FIELDS = ("filename", "type")


def _upload_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "Request body must be a JSON object."
    unknown = sorted(set(body) - set(UPLOAD_FIELDS))
    if unknown:
        return f"Unknown field(s) {', '.join(unknown)}; allowed: {', '.join(UPLOAD_FIELDS)}"
    filename = body.get("filename")
    if not isinstance(filename, str) or not filename.strip() or "/" in filename or len(filename) > 255:
        return "filename is required: a file name such as 'frame.png' (no '/')"
    if body.get("type", "ephemeral") != "ephemeral":
        return f"type must be 'ephemeral', got {body.get('type')!r}"
    return None


async def create_upload(call: ApiCall) -> web.Response:
    """``POST /v1/uploads``: open an upload slot -> ``{"uploadUrl", "fields", "runwayUri"}``."""
    body, problem = call.json()
    problem = problem or _upload_problem(body)
    if problem is not None:
        return runway_error(400, problem)
    backend = call.backend
    uploads = backend.state.uploads
    upload = uploads.open(body["filename"], backend.state.clock())
    return json_response(
        200,
        {
            "uploadUrl": f"{backend.base_url}{STORAGE_PREFIX}{upload.id}",
            "fields": uploads.form_fields(upload),
            "runwayUri": upload.runway_uri,
        },
    )


async def receive_upload(call: ApiCall) -> web.Response:
    """The storage POST: multipart form fields plus ``file`` -> 204, or S3's XML error."""
    request, state = call.request, call.backend.state
    try:
        form = await request.post()
    except web.HTTPRequestEntityTooLarge:
        return s3_error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
    except ValueError:
        message = "The body of your POST request is not well-formed multipart/form-data."
        return s3_error(400, "MalformedPOSTRequest", message)
    fields = {name: value for name, value in form.items() if isinstance(value, str)}
    part = form.get("file")
    file, shown = None, None
    if isinstance(part, web.FileField):
        file = (part.file.read(), part.content_type)
        shown = {"filename": part.filename, "size": len(file[0]), "content_type": part.content_type}
    if call.entry is not None:  # the request log shows the form, never the file's bytes
        call.entry["body"] = {"fields": fields, "file": shown}
    refusal = state.uploads.receive(
        call.arg, fields, file, authorization_sent="Authorization" in request.headers, now=state.clock()
    )
    if refusal is not None:
        return s3_error(refusal.status, refusal.code, refusal.message)
    return no_content()
