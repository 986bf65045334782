"""HTTP answers in each flavor's exact format: JSON errors, CometAPI's web pages, S3-like XML.

Runway direct: ``{"error": "<human text>"}``. CometAPI: ``{"error": {"message", "type",
"param", "code"}}``, ``task_not_exist`` as a 400 with its own small body, and an HTML page for
paths it does not know (runway-api.md, "Errors").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

from aiohttp import web

from runway_emulator.protocol import COMETAPI

COMET_ERROR_TYPE = "comet_api_error"
JSON = "application/json"
HTML = "text/html"
XML = "application/xml"

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

HTML_404 = (
    b"<!DOCTYPE html><html><head><title>404 Not Found</title></head>"
    b"<body><h1>404 Not Found</h1><p>The requested URL was not found on this server.</p></body></html>"
)
HTML_ERROR_PAGE = (
    b"<!DOCTYPE html><html><head><title>Service Temporarily Unavailable</title></head>"
    b"<body><h1>Please wait</h1><p>Checking your browser before accessing the API...</p></body></html>"
)


def s3_error_xml(code: str, message: str) -> bytes:
    """The XML error document an S3 bucket answers with."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
    ).encode()


EXPIRED_XML = s3_error_xml("AccessDenied", "Request has expired")
BAD_SIGNATURE_XML = s3_error_xml("AccessDenied", "Signature does not match")
_TASK_NOT_EXIST = b'{"code":"task_not_exist","message":"task_not_exist"}'


def raw_response(
    status: int, body: bytes, content_type: str | None, headers: Mapping[str, str] | None = None
) -> web.Response:
    """Bytes as given; a text content type gets ``charset=utf-8`` as web servers send it."""
    if content_type is None:
        return web.Response(status=status, body=body or None, headers=headers)
    charset = "utf-8" if content_type == HTML else None
    return web.Response(status=status, body=body, content_type=content_type, charset=charset, headers=headers)


def json_response(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=_dumps(payload).encode("utf-8"), content_type=JSON, headers=headers)


def runway_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    """Runway direct: ``{"error": "<human text>"}``."""
    return json_response(status, {"error": message}, headers)


def comet_error(
    status: int,
    message: str,
    *,
    code: str,
    param: str = "",
    error_type: str = COMET_ERROR_TYPE,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """CometAPI: ``{"error": {"message", "type", "param", "code"}}``."""
    body = {"error": {"message": message, "type": error_type, "param": param, "code": code}}
    return json_response(status, body, headers)


def flavor_error(
    flavor: str,
    status: int,
    message: str,
    *,
    code: str,
    param: str = "",
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """The flavor's error shape; anything but CometAPI (outputs, admin) gets Runway's plain one."""
    if flavor != COMETAPI:
        return runway_error(status, message, headers)
    error_type = "invalid_request_error" if status == 400 else COMET_ERROR_TYPE
    return comet_error(status, message, code=code, param=param, error_type=error_type, headers=headers)


def s3_error(status: int, code: str, message: str) -> web.Response:
    """A storage host's (S3's) error answer."""
    return raw_response(status, s3_error_xml(code, message), XML)


def task_not_exist() -> web.Response:
    """CometAPI's answer for an unknown task or one not visible yet (seen as HTTP 400)."""
    return web.Response(status=400, body=_TASK_NOT_EXIST, content_type=JSON)


def no_content() -> web.Response:
    return web.Response(status=204)
