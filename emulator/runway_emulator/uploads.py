"""Runway's ephemeral uploads as the emulator keeps them. No I/O, no HTTP.

The flow (docs.dev.runwayml.com/assets/uploads; runwayml SDK 5.13 ``resources/uploads.py``):
``POST /v1/uploads {"filename", "type": "ephemeral"}`` answers ``{"uploadUrl", "fields",
"runwayUri"}``; the client then POSTs the file to ``uploadUrl`` as multipart/form-data (the
fields, then ``file``) with no API key (the SDK uses a fresh HTTP client for it), and uses the
``runway://`` URI as any task input. The docs say: URIs are valid for 24 hours; files must be
512 bytes to 200 MB.

The storage side is an S3 presigned POST: ``key``, a base64 ``policy`` and its signature. The
emulator signs with a per-store secret and refuses what S3 would (bad signature, expired form,
no file, too small or too big), with S3's error codes. Each storage POST is recorded,
including whether it carried an ``Authorization`` header: a client must never send its API
key to a storage host, and the emulator refuses one that does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, NamedTuple
from urllib.parse import quote

URI_TTL_SECONDS = 24 * 3600.0
# How long the presigned form stays valid: not documented by Runway; S3's usual hour.
FORM_TTL_SECONDS = 3600.0
MIN_BYTES = 512
MAX_BYTES = 200 * 1024 * 1024
URI_PREFIX = "runway://uploads/"
ALGORITHM = "AWS4-HMAC-SHA256"


class StorageRefusal(NamedTuple):
    """What S3 answers a storage POST it refuses: status, error code, message."""

    status: int
    code: str
    message: str


@dataclass
class Upload:
    """One upload slot, empty until its storage POST succeeds."""

    id: str
    filename: str
    created_at: float
    data: bytes | None = None
    content_type: str | None = None
    stored_at: float | None = None

    @property
    def key(self) -> str:
        return f"uploads/{self.id}/{self.filename}"

    @property
    def runway_uri(self) -> str:
        return f"{URI_PREFIX}{self.id}/{quote(self.filename)}"


def _amz_time(ts: float, layout: str) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime(layout)


def _refusal(
    upload: Upload | None,
    expected_signature: str,
    fields: Mapping[str, str],
    file: tuple[bytes, str | None] | None,
    authorization_sent: bool,
    now: float,
) -> StorageRefusal | None:
    """What S3 refuses of a storage POST, in the order it checks; None: the file is taken."""
    if authorization_sent:
        message = "Unsupported Authorization Type: a presigned POST takes no Authorization header"
        return StorageRefusal(400, "InvalidArgument", message)
    if upload is None or not hmac.compare_digest(fields.get("x-amz-signature", ""), expected_signature):
        return StorageRefusal(403, "SignatureDoesNotMatch", "The request signature we calculated does not match")
    if fields.get("key") != upload.key:
        return StorageRefusal(403, "AccessDenied", "Invalid according to Policy: Policy Condition failed: key")
    if now > upload.created_at + FORM_TTL_SECONDS:
        return StorageRefusal(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    if file is None:
        return StorageRefusal(400, "InvalidArgument", "POST requires exactly one file upload per request.")
    size = len(file[0])
    if size < MIN_BYTES:
        message = f"Your proposed upload is smaller than the minimum allowed size ({MIN_BYTES} B)"
        return StorageRefusal(400, "EntityTooSmall", message)
    if size > MAX_BYTES:
        return StorageRefusal(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
    return None


class UploadStore:
    """Upload slots, their stored files and every storage POST (event loop thread only)."""

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)
        self.slots: dict[str, Upload] = {}
        self.posts: list[dict[str, Any]] = []

    def open(self, filename: str, now: float) -> Upload:
        upload = Upload(id=str(uuid.uuid4()), filename=filename, created_at=now)
        self.slots[upload.id] = upload
        return upload

    def _signature(self, policy: str) -> str:
        return hmac.new(self._secret, policy.encode("ascii"), hashlib.sha256).hexdigest()

    def form_fields(self, upload: Upload) -> dict[str, str]:
        """The presigned form's fields, as S3 hands them out (all strings)."""
        expiration = _amz_time(upload.created_at + FORM_TTL_SECONDS, "%Y-%m-%dT%H:%M:%S.000Z")
        conditions = [{"key": upload.key}, ["content-length-range", MIN_BYTES, MAX_BYTES]]
        policy = base64.b64encode(json.dumps({"expiration": expiration, "conditions": conditions}).encode()).decode()
        day = _amz_time(upload.created_at, "%Y%m%d")
        return {
            "key": upload.key,
            "x-amz-algorithm": ALGORITHM,
            "x-amz-credential": f"EMULATOR/{day}/us-east-1/s3/aws4_request",
            "x-amz-date": _amz_time(upload.created_at, "%Y%m%dT%H%M%SZ"),
            "policy": policy,
            "x-amz-signature": self._signature(policy),
        }

    def receive(
        self,
        upload_id: str,
        fields: Mapping[str, str],
        file: tuple[bytes, str | None] | None,
        *,
        authorization_sent: bool,
        now: float,
    ) -> StorageRefusal | None:
        """Check and store one storage POST; record it either way. None: stored (S3 answers 204)."""
        upload = self.slots.get(upload_id)
        refusal = _refusal(upload, self._signature(fields.get("policy", "")), fields, file, authorization_sent, now)
        if refusal is None and upload is not None and file is not None:
            upload.data, upload.content_type = file
            upload.stored_at = now
        self.posts.append(
            {
                "upload_id": upload_id,
                "at": now,
                "status": refusal.status if refusal else 204,
                "authorization_sent": authorization_sent,
                "size": len(file[0]) if file else None,
            }
        )
        return refusal

    def find(self, uri: str, now: float) -> tuple[Upload | None, str | None]:
        """(upload, problem) for a ``runway://`` URI: (None, None) when this emulator never issued
        it; a problem when it did but the file cannot be used (expired, nothing uploaded)."""
        if not uri.startswith(URI_PREFIX):
            return None, None
        upload = self.slots.get(uri[len(URI_PREFIX) :].split("/", 1)[0])
        if upload is None:
            return None, None
        if now > upload.created_at + URI_TTL_SECONDS:
            return upload, "the runway:// upload has expired (uploads are valid for 24 hours)"
        if upload.data is None:
            return upload, "nothing was uploaded to this runway:// URI"
        return upload, None

    def view(self) -> dict[str, Any]:
        """What ``/_emulator/stats`` shows of uploads (never the file contents)."""
        items = [
            {
                "id": u.id,
                "filename": u.filename,
                "runway_uri": u.runway_uri,
                "created_at": u.created_at,
                "stored_at": u.stored_at,
                "size": len(u.data) if u.data is not None else None,
                "content_type": u.content_type,
            }
            for u in self.slots.values()
        ]
        return {
            "count": len(self.slots),
            "stored": sum(1 for u in self.slots.values() if u.data is not None),
            "items": items,
            "storage_posts": {
                "count": len(self.posts),
                "with_authorization": sum(1 for p in self.posts if p["authorization_sent"]),
                "items": list(self.posts),
            },
        }
