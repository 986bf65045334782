"""Runway's ephemeral uploads: ``POST /v1/uploads``, the presigned storage POST (no API key), and
the ``runway://`` URI resolving to the uploaded bytes in a later task."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.emulator.flows import create, finish, poll
from tests.emulator.support import (
    RED,
    first_frame_mean_rgb,
    frame_size,
    headers,
    is_red,
    make_png,
    media_info,
)

if TYPE_CHECKING:
    import requests
    from runway_emulator import EmulatorHandle

    from tests.emulator.support import MediaInputs

pytestmark = pytest.mark.integration
# Runway takes files of 512 bytes or more (docs.dev.runwayml.com/assets/uploads): pad the tiny PNG.
PNG = make_png(96, 64, RED, comment=b"x" * 600)


def open_slot(http: requests.Session, emu: EmulatorHandle, filename: str = "frame.png") -> dict[str, Any]:
    resp = http.post(emu.url("/v1/uploads"), json={"filename": filename, "type": "ephemeral"}, headers=headers())
    assert resp.status_code == 200, resp.text
    slot: dict[str, Any] = resp.json()
    return slot


def store(
    http: requests.Session, slot: dict[str, Any], data: bytes, name: str = "frame.png", **extra: Any
) -> requests.Response:
    """The storage POST as the SDK makes it: the form's fields, then the file."""
    return http.post(slot["uploadUrl"], data=slot["fields"], files={"file": (name, data, "image/png")}, **extra)


def test_upload_round_trip(runway_emulator: EmulatorHandle, http: requests.Session, ffmpeg: str) -> None:
    slot = open_slot(http, runway_emulator)
    assert set(slot) == {"uploadUrl", "fields", "runwayUri"}
    assert slot["uploadUrl"].startswith(f"{runway_emulator.base_url}/_emulator/storage/")
    assert {"key", "policy", "x-amz-signature", "x-amz-algorithm"} <= set(slot["fields"])
    assert slot["runwayUri"].startswith("runway://") and slot["runwayUri"].endswith("/frame.png")
    stored = store(http, slot, PNG)
    assert (stored.status_code, stored.content) == (204, b"")

    uploads = runway_emulator.stats()["uploads"]
    assert (uploads["count"], uploads["stored"]) == (1, 1)
    [item] = uploads["items"]
    assert (item["runway_uri"], item["size"], item["content_type"]) == (slot["runwayUri"], len(PNG), "image/png")
    assert uploads["storage_posts"]["with_authorization"] == 0
    [logged] = [r for r in runway_emulator.requests() if r["path"].startswith("/_emulator/storage/")]
    assert "authorization" not in {name.lower() for name in logged["headers"]}
    assert logged["body"]["file"] == {"filename": "frame.png", "size": len(PNG), "content_type": "image/png"}
    assert logged["status"] == 204

    body = {"model": "gen4_turbo", "promptImage": slot["runwayUri"], "ratio": "1280:720", "duration": 2}
    task = finish(http, runway_emulator, "image_to_video", "runway", body)
    assert "emulator" not in task  # the uploaded picture itself
    assert is_red(first_frame_mean_rgb(ffmpeg, http.get(task["output"][0]).content))


def test_an_uploaded_video_feeds_video_to_video(
    runway_emulator: EmulatorHandle, http: requests.Session, ffmpeg: str, inputs: MediaInputs
) -> None:
    slot = open_slot(http, runway_emulator, "clip.mp4")
    assert store(http, slot, inputs.mp4, "clip.mp4").status_code == 204
    task = finish(http, runway_emulator, "video_to_video", "runway", {"model": "aleph2", "videoUri": slot["runwayUri"]})
    video = http.get(task["output"][0]).content
    assert frame_size(media_info(ffmpeg, video)) == (320, 180) and is_red(first_frame_mean_rgb(ffmpeg, video))


def test_an_api_key_sent_to_storage_is_refused_and_counted(
    runway_emulator: EmulatorHandle, http: requests.Session
) -> None:
    slot = open_slot(http, runway_emulator)
    leaked = store(http, slot, PNG, headers=headers())
    assert leaked.status_code == 400 and b"<Code>InvalidArgument</Code>" in leaked.content
    posts = runway_emulator.stats()["uploads"]["storage_posts"]
    assert (posts["count"], posts["with_authorization"]) == (1, 1)
    assert runway_emulator.stats()["uploads"]["stored"] == 0
    # Nothing was stored, so a task using the URI cannot read it.
    task_id = create(
        http,
        runway_emulator,
        "image_to_video",
        "runway",
        {"model": "gen4_turbo", "promptImage": slot["runwayUri"], "ratio": "1280:720"},
    )
    runway_emulator.advance(1)
    task = poll(http, runway_emulator, "runway", task_id)
    assert (task["status"], task["failureCode"]) == ("FAILED", "ASSET.INVALID")
    assert "nothing was uploaded" in task["failure"]


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        (lambda slot: store_args(slot, data=b"\x89PNG" + b"\x00" * 100), 400, "EntityTooSmall"),
        (
            lambda slot: store_args(slot, fields={**slot["fields"], "x-amz-signature": "0" * 64}),
            403,
            "SignatureDoesNotMatch",
        ),
        (lambda slot: store_args(slot, fields={**slot["fields"], "key": "uploads/other/x.png"}), 403, "AccessDenied"),
        (lambda slot: store_args(slot, files=None), 400, "InvalidArgument"),
    ],
    ids=["too-small", "bad-signature", "other-key", "no-file"],
)
def test_storage_refuses_what_s3_refuses(
    runway_emulator: EmulatorHandle, http: requests.Session, change: Any, status: int, code: str
) -> None:
    slot = open_slot(http, runway_emulator)
    resp = http.post(slot["uploadUrl"], **change(slot))
    assert resp.status_code == status and f"<Code>{code}</Code>".encode() in resp.content
    assert runway_emulator.stats()["uploads"]["stored"] == 0


def store_args(slot: dict[str, Any], *, data: bytes = PNG, fields: Any = None, files: Any = "file") -> dict[str, Any]:
    form = slot["fields"] if fields is None else fields
    if files is None:  # no file part: still multipart, as a form without its file
        return {"files": {name: (None, value) for name, value in form.items()}}
    return {"data": form, "files": {"file": ("frame.png", data, "image/png")}}


def test_the_form_and_the_uri_expire(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    late = open_slot(http, runway_emulator)
    runway_emulator.advance(3601)  # the presigned form is good for an hour
    resp = store(http, late, PNG)
    assert resp.status_code == 403 and b"Policy expired" in resp.content

    slot = open_slot(http, runway_emulator)
    assert store(http, slot, PNG).status_code == 204
    runway_emulator.advance(24 * 3600 + 1)  # runway:// URIs are valid for 24 hours
    task_id = create(
        http,
        runway_emulator,
        "image_upscale",
        "runway",
        {"model": "magnific_precision_upscaler_v2", "imageUri": slot["runwayUri"]},
    )
    runway_emulator.advance(1)
    task = poll(http, runway_emulator, "runway", task_id)
    assert task["failureCode"] == "ASSET.INVALID" and "expired" in task["failure"]


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({"type": "ephemeral"}, "filename"),
        ({"filename": "a/b.png", "type": "ephemeral"}, "filename"),
        ({"filename": "b.png", "type": "permanent"}, "type"),
        ({"filename": "b.png", "size": 3}, "size"),
    ],
)
def test_bad_upload_requests_are_400(
    runway_emulator: EmulatorHandle, http: requests.Session, body: dict[str, Any], names: str
) -> None:
    resp = http.post(runway_emulator.url("/v1/uploads"), json=body, headers=headers())
    assert resp.status_code == 400 and names in resp.json()["error"]
    assert runway_emulator.stats()["uploads"]["count"] == 0


def test_uploads_need_the_api_key_and_version(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    body = {"filename": "frame.png", "type": "ephemeral"}
    assert http.post(runway_emulator.url("/v1/uploads"), json=body).status_code == 401
    assert http.post(runway_emulator.url("/v1/uploads"), json=body, headers=headers(version=None)).status_code == 400
