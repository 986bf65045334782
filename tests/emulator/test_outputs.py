"""Output URLs: signed, expiring, and serving a real MP4 when the 'video' extra is installed."""

from __future__ import annotations

import base64
import importlib.util
import struct
import time
import zlib
from typing import TYPE_CHECKING

import pytest

from tests.emulator.conftest import RUNWAY, headers, runway_body, wait_for

if TYPE_CHECKING:
    import requests

    from airflow_provider_runway.emulator import EmulatorHandle

pytestmark = pytest.mark.integration
HAS_FFMPEG = importlib.util.find_spec("imageio_ffmpeg") is not None
needs_ffmpeg = pytest.mark.skipif(
    not HAS_FFMPEG, reason="imageio_ffmpeg is not installed (optional 'video' extra): no MP4 rendering"
)


def tiny_png(width: int = 4, height: int = 4) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes([200, 40, 40]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def succeeded_output(http: requests.Session, emu: EmulatorHandle, **body: object) -> tuple[str, str]:
    emu.configure(pending_seconds=0, generation_seconds=0.1)
    resp = http.post(emu.url(f"{RUNWAY}/image_to_video"), json=runway_body(**body), headers=headers())
    task_id = str(resp.json()["id"])

    def output() -> str | None:
        task = http.get(emu.url(f"{RUNWAY}/tasks/{task_id}"), headers=headers()).json()
        return str(task["output"][0]) if task["status"] == "SUCCEEDED" else None

    return task_id, wait_for(output)


def test_expired_output_url_is_403(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    runway_emulator.configure(output_ttl_seconds=0.5)
    _task_id, url = succeeded_output(http, runway_emulator)
    exp = int(url.split("exp=")[1].split("&")[0])
    time.sleep(max(exp - time.time(), 0) + 0.1)
    resp = http.get(url)
    assert resp.status_code == 403
    assert b"Request has expired" in resp.content


def test_tampered_output_url_is_403(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    _task_id, url = succeeded_output(http, runway_emulator)
    exp = url.split("exp=")[1].split("&")[0]
    resp = http.get(url.replace(f"exp={exp}", f"exp={int(exp) + 3600}"))
    assert resp.status_code == 403 and b"Signature" in resp.content


def test_output_of_deleted_task_is_gone(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    task_id, url = succeeded_output(http, runway_emulator)
    assert http.delete(runway_emulator.url(f"{RUNWAY}/tasks/{task_id}"), headers=headers()).status_code == 204
    assert http.get(url).status_code == 404


@needs_ffmpeg
def test_output_is_an_mp4(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    _task_id, url = succeeded_output(http, runway_emulator)
    resp = http.get(url)  # no Authorization: signed URLs need no key
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "video/mp4"
    assert resp.content[4:8] == b"ftyp"
    started = time.monotonic()
    again = http.get(url)
    assert again.content == resp.content
    assert time.monotonic() - started < 0.5  # cached: rendered once per task
    head = http.head(url)
    assert head.status_code == 200 and int(head.headers["Content-Length"]) == len(resp.content)


@needs_ffmpeg
def test_output_from_data_uri_image(runway_emulator: EmulatorHandle, http: requests.Session) -> None:
    uri = "data:image/png;base64," + base64.b64encode(tiny_png()).decode()
    _task_id, url = succeeded_output(http, runway_emulator, promptImage=uri, ratio="960:960", duration=2)
    resp = http.get(url)
    assert resp.status_code == 200 and resp.content[4:8] == b"ftyp"


def test_output_without_video_extra_is_503(
    runway_emulator: EmulatorHandle, http: requests.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_runway.emulator import video

    def unavailable(*_args: object, **_kwargs: object) -> bytes:
        raise video.VideoUnavailableError("MP4 rendering needs the optional 'video' extra")

    # The server runs in this process (thread mode) and imports render_mp4 at call time.
    monkeypatch.setattr(video, "render_mp4", unavailable)
    _task_id, url = succeeded_output(http, runway_emulator)
    resp = http.get(url)
    assert resp.status_code == 503 and "'video' extra" in resp.json()["error"]
