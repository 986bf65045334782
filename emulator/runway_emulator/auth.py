"""The checks an API request passes before its endpoint runs: API key, then API version.

``Authorization: Bearer <key>`` on every API call (401; any non-empty key unless one is pinned,
compared in constant time). ``X-Runway-Version: YYYY-MM-DD`` on every create and every Runway
direct call (400 naming the header); CometAPI polls go without it. Pure: the gateway turns a
``Refusal`` into the flavor's error answer.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from typing import NamedTuple

from runway_emulator.protocol import RUNWAY

_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Refusal(NamedTuple):
    status: int
    message: str
    code: str
    param: str = ""


def bearer_key(authorization: str) -> str:
    """The key of ``Bearer <key>``, or "" for any other scheme or an empty key."""
    scheme, _, key = authorization.partition(" ")
    return key.strip() if scheme.lower() == "bearer" else ""


def key_matches(authorization: str, pinned_key: str) -> bool:
    """Whether an ``Authorization`` header carries exactly the pinned key (constant time)."""
    return hmac.compare_digest(bearer_key(authorization).encode(), pinned_key.encode())


def refusal(headers: Mapping[str, str], route: str, flavor: str, pinned_key: str | None) -> Refusal | None:
    """Why a request fails a check, or None when it may proceed."""
    authorization = headers.get("Authorization", "")
    if not bearer_key(authorization):
        return Refusal(401, "Missing API key: send the header 'Authorization: Bearer <API key>'.", "missing_api_key")
    if pinned_key is not None and not key_matches(authorization, pinned_key):
        return Refusal(401, "Invalid API key.", "invalid_api_key")
    if route == "create" or flavor == RUNWAY:
        version = headers.get("X-Runway-Version")
        if not version:
            message = "Missing required header X-Runway-Version (an API version date such as 2024-11-06)."
            return Refusal(400, message, "missing_header", "X-Runway-Version")
        if not _VERSION.match(version):
            message = f"Invalid X-Runway-Version header {version[:40]!r}: expected a date such as 2024-11-06."
            return Refusal(400, message, "invalid_header", "X-Runway-Version")
    return None
