"""Prompt images from local files: type sniffing, size limits per flavor, data URIs, redaction."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from airflow_provider_runway.media.inputs import (
    MAX_UPLOAD_BYTES,
    UPLOAD_PLACEHOLDER,
    data_uri_chars,
    resolve_prompt_image,
    size_problem_for,
    sniff_type,
)
from airflow_provider_runway.media.locations import describe, is_storage_location, redact_data_uri
from airflow_provider_runway.runway.bodies import MAX_DATA_URI_CHARS
from airflow_provider_runway.runway.errors import InvalidRequestError
from tests.storage.images import CAT_PNG, FRACTAL_JPEG, GIF, SUNSET_WEBP, oversize_png, png


@pytest.mark.parametrize(
    "data, expected",
    [
        (CAT_PNG, ("image/png", "PNG")),
        (FRACTAL_JPEG, ("image/jpeg", "JPEG")),
        (SUNSET_WEBP, ("image/webp", "WebP")),
        (GIF, ("image/gif", "GIF")),
        (b"BM" + b"\0" * 30, ("image/bmp", "BMP")),
        (b"\0\0\0\x18ftypheic" + b"\0" * 20, ("image/heic", "HEIC")),
        (b"\0\0\0\x18ftypisom" + b"\0" * 20, ("video/mp4", "MP4/QuickTime video")),
        (b"%PDF-1.7\n", ("application/pdf", "PDF document")),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", ("image/svg+xml", "SVG/XML text")),
        (b"hello world", None),
        (b"", None),
    ],
)
def test_sniff_type_reads_the_bytes(data: bytes, expected: tuple[str, str] | None) -> None:
    assert sniff_type(data[:32]) == expected


@pytest.mark.parametrize(
    "value, stored",
    [
        ("/data/cat.png", True),
        ("cat.png", True),
        ("file:///data/cat.png", True),
        ("s3://bucket/cat.png", True),
        ("gs://bucket/cat.png", True),
        ("https://example.com/cat.png", False),
        ("HTTP://example.com/cat.png", False),
        ("data:image/png;base64,AAAA", False),
        ("runway://abc", False),
        ("", False),
        (None, False),
    ],
)
def test_which_references_are_read_in_the_worker(value: object, stored: bool) -> None:
    assert is_storage_location(value) is stored


def test_data_uri_payload_is_never_shown() -> None:
    uri = "data:image/png;base64," + "A" * 123456
    assert redact_data_uri(uri) == "data:image/png;base64,<123456 chars>"
    frames = [{"uri": uri, "position": "first"}, {"uri": "s3://b/k.png", "position": "last"}]
    assert "AAAA" not in str(describe(frames))
    assert describe(frames)[1]["uri"] == "s3://b/k.png"


@pytest.mark.parametrize(
    "data, media_type", [(CAT_PNG, "image/png"), (FRACTAL_JPEG, "image/jpeg"), (SUNSET_WEBP, "image/webp")]
)
def test_a_local_image_becomes_a_data_uri_of_its_sniffed_type(tmp_path: Path, data: bytes, media_type: str) -> None:
    path = tmp_path / "picture.bin"  # the name says nothing: the bytes decide
    path.write_bytes(data)
    for reference in (str(path), path.as_uri()):
        resolved = resolve_prompt_image(reference, flavor="cometapi")
        uri = resolved.value()
        assert uri.startswith(f"data:{media_type};base64,")
        assert base64.b64decode(uri.partition(",")[2]) == data
        assert len(uri) == data_uri_chars(len(data), media_type)
        [source] = resolved.sources()
        assert source == {
            "location": reference,
            "sha256": hashlib.sha256(data).hexdigest(),
            "content_type": media_type,
            "bytes": len(data),
        }


def test_api_references_pass_through_untouched() -> None:
    url = "https://images.example.com/cat.jpg"
    assert resolve_prompt_image(url, flavor="cometapi").value() == url
    inline = "data:image/png;base64," + base64.b64encode(CAT_PNG).decode()
    resolved = resolve_prompt_image(inline, flavor="cometapi")
    assert resolved.value() == inline
    # the same bytes inline or in a file are the same image
    assert resolved.identities() == [{"position": None, "sha256": hashlib.sha256(CAT_PNG).hexdigest()}]
    assert "base64,<" in resolved.sources()[0]["location"]


def test_frames_are_resolved_one_by_one(tmp_path: Path) -> None:
    first = tmp_path / "first.png"
    first.write_bytes(CAT_PNG)
    frames = [{"uri": str(first), "position": "first"}, {"uri": "https://example.com/end.jpg", "position": "last"}]
    value = resolve_prompt_image(frames, flavor="cometapi").value()
    assert value[0]["position"] == "first" and value[0]["uri"].startswith("data:image/png;base64,")
    assert value[1] == {"uri": "https://example.com/end.jpg", "position": "last"}


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "cat.png"
    with pytest.raises(InvalidRequestError) as caught:
        resolve_prompt_image(str(missing), flavor="cometapi")
    assert caught.value.field == "prompt_image"
    assert str(missing) in str(caught.value) and "FileNotFoundError" in str(caught.value)


@pytest.mark.parametrize("data, named", [(GIF, "GIF file (image/gif)"), (b"just text", "not a recognisable image")])
def test_wrong_type_is_refused_naming_file_and_type(tmp_path: Path, data: bytes, named: str) -> None:
    path = tmp_path / "cat.png"
    path.write_bytes(data)
    with pytest.raises(InvalidRequestError, match="Runway accepts JPEG, PNG, WebP images") as caught:
        resolve_prompt_image(str(path), flavor="runway")
    assert f"{path} is " in str(caught.value) and named in str(caught.value)


def test_oversize_image_with_cometapi_says_size_limit_and_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    data = oversize_png()
    path.write_bytes(data)
    assert data_uri_chars(len(data), "image/png") > MAX_DATA_URI_CHARS
    with pytest.raises(InvalidRequestError) as caught:
        resolve_prompt_image(str(path), flavor="cometapi")
    message = str(caught.value)
    assert str(path) in message
    assert f"{len(data):,} bytes" in message
    assert f"{MAX_DATA_URI_CHARS:,} characters" in message
    assert "flavor 'runway'" in message and "https://" in message


def test_oversize_image_with_runway_waits_for_an_upload(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    data = oversize_png()
    path.write_bytes(data)
    resolved = resolve_prompt_image(str(path), flavor="runway")
    assert resolved.value() == UPLOAD_PLACEHOLDER  # no uploader: validation sees a runway:// URI
    calls: list[tuple[str, int, str]] = []

    def upload(filename: str, payload: bytes, content_type: str) -> str:
        calls.append((filename, len(payload), content_type))
        return "runway://uploaded/big.png"

    assert resolved.value(upload) == "runway://uploaded/big.png"
    assert calls == [("big.png", len(data), "image/png")]


@pytest.mark.parametrize("flavor", ["cometapi", "runway"])
def test_size_limit_is_exact_at_the_boundary(flavor: str) -> None:
    judge = size_problem_for(flavor)
    prefix = len("data:image/png;base64,")
    largest = (MAX_DATA_URI_CHARS - prefix) // 4 * 3
    assert data_uri_chars(largest, "image/png") <= MAX_DATA_URI_CHARS < data_uri_chars(largest + 1, "image/png")
    assert judge(largest, "image/png") is None
    over = judge(largest + 1, "image/png")
    assert (over is None) if flavor == "runway" else ("CometAPI" in str(over))
    assert judge(MAX_UPLOAD_BYTES + 1, "image/png") is not None


def test_an_image_under_the_limit_stays_inline(tmp_path: Path) -> None:
    small = png(400, 300, noise=True)
    path = tmp_path / "ok.png"
    path.write_bytes(small)
    for flavor in ("cometapi", "runway"):
        assert resolve_prompt_image(str(path), flavor=flavor).value().startswith("data:image/png;base64,")


def test_media_fields_come_from_the_catalog_with_their_kind() -> None:
    from airflow_provider_runway.runway.catalog import media_fields

    assert dict(media_fields("video_upscale")) == {"videoUri": "video"}
    assert media_fields("text_to_image")["referenceImages"] == "image"
    assert dict(media_fields("character_performance")) == {"character": "image", "reference": "video"}
    assert dict(media_fields("no_such_endpoint")) == {}


def test_stored_files_are_read_in_lists_and_objects_keeping_their_other_keys(tmp_path: Path) -> None:
    from airflow_provider_runway.media.inputs import resolve_media

    picture = tmp_path / "cat.png"
    picture.write_bytes(CAT_PNG)
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\0\0\0\x18ftypisom" + b"\0" * 64)
    body = {
        "referenceImages": [{"uri": str(picture), "tag": "cat"}, "https://example.com/dog.png"],
        "reference": {"type": "video", "uri": str(clip)},
        "promptText": "kept",
    }
    fields = {"referenceImages": "image", "reference": "video"}
    resolved = resolve_media(body, fields, flavor="cometapi")
    sent = resolved.apply(body)
    assert sent["referenceImages"][0]["tag"] == "cat" and sent["referenceImages"][0]["uri"].startswith("data:image/png")
    assert sent["referenceImages"][1] == "https://example.com/dog.png"
    assert sent["reference"]["type"] == "video" and sent["reference"]["uri"].startswith("data:video/mp4;base64,")
    assert sent["promptText"] == "kept"
    sources = resolved.sources()
    assert [s["field"] for s in sources] == ["referenceImages", "referenceImages", "reference"]
    assert sources[2]["kind"] == "video" and sources[0]["sha256"] == hashlib.sha256(CAT_PNG).hexdigest()


def test_a_stored_file_of_the_wrong_kind_is_refused_naming_the_field(tmp_path: Path) -> None:
    from airflow_provider_runway.media.inputs import resolve_media

    picture = tmp_path / "cat.png"
    picture.write_bytes(CAT_PNG)
    with pytest.raises(InvalidRequestError, match=r"^video_uri \(videoUri\): .*cat.png is a PNG file") as caught:
        resolve_media({"videoUri": str(picture)}, {"videoUri": "video"}, flavor="runway")
    assert caught.value.field == "video_uri" and "videos here" in str(caught.value)
