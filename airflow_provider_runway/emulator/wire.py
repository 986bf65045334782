"""Response bodies in each flavor's exact error format, built once where possible."""

from __future__ import annotations

import json
from typing import Any

from airflow_provider_runway.emulator.server import Response

COMET_ERROR_TYPE = "comet_api_error"

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def json_response(status: int, payload: Any, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, _dumps(payload).encode("utf-8"), "application/json", headers)


def runway_error(status: int, message: str, headers: list[tuple[str, str]] | None = None) -> Response:
    """Runway direct: ``{"error": "<human text>"}``."""
    return json_response(status, {"error": message}, headers)


def comet_error(
    status: int,
    message: str,
    *,
    code: str,
    param: str = "",
    error_type: str = COMET_ERROR_TYPE,
    headers: list[tuple[str, str]] | None = None,
) -> Response:
    """CometAPI: ``{"error": {"message", "type", "param", "code"}}``."""
    body = {"error": {"message": message, "type": error_type, "param": param, "code": code}}
    return json_response(status, body, headers)


def task_not_exist() -> Response:
    """CometAPI's answer for an unknown task or one not visible yet (seen as HTTP 400)."""
    return Response(400, b'{"code":"task_not_exist","message":"task_not_exist"}')


def flavor_error(
    flavor: str,
    status: int,
    message: str,
    *,
    code: str,
    param: str = "",
    headers: list[tuple[str, str]] | None = None,
) -> Response:
    if flavor != "cometapi":  # Runway's shape; also plain JSON errors for non-API routes (outputs)
        return runway_error(status, message, headers)
    error_type = "invalid_request_error" if status == 400 else COMET_ERROR_TYPE
    return comet_error(status, message, code=code, param=param, error_type=error_type, headers=headers)


HTML_404 = (
    b"<!DOCTYPE html><html><head><title>404 Not Found</title></head>"
    b"<body><h1>404 Not Found</h1><p>The requested URL was not found on this server.</p></body></html>"
)
HTML_ERROR_PAGE = (
    b"<!DOCTYPE html><html><head><title>Service Temporarily Unavailable</title></head>"
    b"<body><h1>Please wait</h1><p>Checking your browser before accessing the API...</p></body></html>"
)
EXPIRED_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
)
BAD_SIGNATURE_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b"<Error><Code>AccessDenied</Code><Message>Signature does not match</Message></Error>"
)
