"""The recent-request log behind ``GET /_emulator/requests``, with the key never stored.

Tests assert on exact headers and bodies, so everything is kept as the client sent it except
``Authorization`` (and ``Proxy-Authorization``), which become ``Bearer <redacted:sha256:...>``:
enough to tell two keys apart or check one (``auth_matches_pinned_key``), useless to reuse.
Very large bodies (data URIs) keep their shape but long strings become a length and digest.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_runway.emulator.server import Request
    from airflow_provider_runway.emulator.state import EmulatorState

LOG_BODY_LIMIT = 64 * 1024  # bigger bodies get their long strings replaced by a digest
LONG_STRING = 4096
_SECRET_HEADERS = ("authorization", "proxy-authorization")


def fingerprint(value: str) -> str:
    """``"Bearer abc"`` -> ``"Bearer <redacted:sha256:ba7816bf8f01>"`` (digest of the credential only)."""
    scheme, _, secret = value.partition(" ")
    digest = hashlib.sha256(secret.strip().encode("utf-8")).hexdigest()[:12]
    return f"{scheme} <redacted:sha256:{digest}>"


def elide(value: Any) -> Any:
    if isinstance(value, str) and len(value) > LONG_STRING:
        digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]
        return f"<{len(value)} chars sha256:{digest}>"
    if isinstance(value, dict):
        return {k: elide(v) for k, v in value.items()}
    if isinstance(value, list):
        return [elide(v) for v in value]
    return value


class RequestLog:
    """Appends one entry per API request to ``state.request_log`` (a bounded deque)."""

    def __init__(self, state: EmulatorState) -> None:
        self._state = state
        self._fingerprints: dict[str, str] = {}  # polls repeat the same header: hash it once

    def _fingerprint(self, value: str) -> str:
        cached = self._fingerprints.get(value)
        if cached is None:
            if len(self._fingerprints) > 1000:
                self._fingerprints.clear()
            cached = self._fingerprints[value] = fingerprint(value)
        return cached

    def record(self, req: Request) -> dict[str, Any] | None:
        """Log ``req``; the returned entry gets its status and faults filled in later."""
        state = self._state
        if not state.request_log.maxlen:
            return None
        pinned = state.config.api_key
        matches: bool | None = None if pinned is None else False
        headers: dict[str, str] = {}
        for name, value in req.raw_headers:
            low = name.lower()
            if low in _SECRET_HEADERS:
                if low == "authorization" and pinned is not None:
                    scheme, _, key = value.partition(" ")
                    matches = scheme.lower() == "bearer" and hmac.compare_digest(key.strip().encode(), pinned.encode())
                value = self._fingerprint(value)
            headers[name] = value
        entry: dict[str, Any] = {
            "at": state.clock(),
            "method": req.method,
            "path": req.path,
            "query": req.query,
            "headers": headers,
            "auth_matches_pinned_key": matches,
            "body": None,
            "status": None,
            "faults": [],
            "connection": req.connection,  # same number: same TCP connection (keep-alive reuse)
        }
        if req.body:
            body, problem = req.json()
            if problem is None:
                entry["body"] = elide(body) if len(req.body) > LOG_BODY_LIMIT else body
            else:
                entry["body_text"] = req.body[:2000].decode("utf-8", "replace")
        state.request_log.append(entry)
        return entry
