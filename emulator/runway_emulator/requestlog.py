"""The recent-request log behind ``GET /_emulator/requests``, with the key never stored.

Tests assert on exact headers and bodies, so everything is kept as the client sent it except
``Authorization`` (and ``Proxy-Authorization``), which become ``Bearer <redacted:sha256:...>``:
enough to tell two keys apart or check one (``auth_matches_pinned_key``), useless to reuse.
Very large bodies (data URIs) keep their shape but long strings become a length and digest.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterable
from typing import Any

from runway_emulator.auth import key_matches

LOG_BODY_LIMIT = 64 * 1024  # bigger bodies get their long strings replaced by a digest
LONG_STRING = 4096
_SECRET_HEADERS = (b"authorization", b"proxy-authorization")


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
    """A bounded list of the latest API requests (admin requests are never logged)."""

    def __init__(self, size: int) -> None:
        self.entries: deque[dict[str, Any]] = deque(maxlen=size)
        self._fingerprints: dict[str, str] = {}  # polls repeat the same header: hash it once

    def resize(self, size: int) -> None:
        if self.entries.maxlen != size:
            self.entries = deque(self.entries, maxlen=size)

    def clear(self) -> None:
        self.entries.clear()

    def _fingerprint(self, value: str) -> str:
        cached = self._fingerprints.get(value)
        if cached is None:
            if len(self._fingerprints) > 1000:
                self._fingerprints.clear()
            cached = self._fingerprints[value] = fingerprint(value)
        return cached

    def record(
        self,
        *,
        at: float,
        method: str,
        path: str,
        query: str,
        raw_headers: Iterable[tuple[bytes, bytes]],
        body: bytes,
        parsed: tuple[Any, str | None] | None,
        connection: int,
        pinned_key: str | None,
    ) -> dict[str, Any] | None:
        """Log one request; the returned entry gets its status and faults filled in later."""
        if not self.entries.maxlen:
            return None
        matches: bool | None = None if pinned_key is None else False
        headers: dict[str, str] = {}
        for raw_name, raw_value in raw_headers:
            name, value = raw_name.decode("latin-1"), raw_value.decode("utf-8", "replace")
            if raw_name.lower() in _SECRET_HEADERS:
                if pinned_key is not None and raw_name.lower() == b"authorization":
                    matches = key_matches(value, pinned_key)
                value = self._fingerprint(value)
            headers[name] = value
        entry: dict[str, Any] = {
            "at": at,
            "method": method,
            "path": path,
            "query": query,
            "headers": headers,
            "auth_matches_pinned_key": matches,
            "body": None,
            "status": None,
            "faults": [],
            "connection": connection,  # same number: same TCP connection (keep-alive reuse)
        }
        if parsed is not None:
            value, problem = parsed
            if problem is None:
                entry["body"] = elide(value) if len(body) > LOG_BODY_LIMIT else value
            else:
                entry["body_text"] = body[:2000].decode("utf-8", "replace")
        self.entries.append(entry)
        return entry
