"""Pure parts of stored videos: idempotency keys, names, sidecars, 'already done', MP4 duration."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest

from airflow_provider_runway.media.locations import as_url, parent, with_suffix
from airflow_provider_runway.media.sidecars import (
    check_output_path,
    idempotency_key,
    is_done,
    mp4_seconds,
    output_location,
    sidecar,
    sidecar_location,
)
from airflow_provider_runway.runway.bodies import build_image_to_video_body

IMAGE = [{"position": None, "sha256": "a" * 64}]


def key_for(image: list[dict[str, object]] = IMAGE, flavor: str = "cometapi", **params: object) -> str:
    # gen4_turbo at 1280:720 is valid through both flavors, so only the flavor differs
    params = {"model": "gen4_turbo", "ratio": "1280:720", **params}
    body = build_image_to_video_body(prompt_image="https://x.example/i.png", flavor=flavor, **params).body  # type: ignore[arg-type]
    return idempotency_key(body, image)


def test_key_depends_on_image_content_and_parameters_only() -> None:
    base = key_for(duration=5, seed=7, prompt_text="waves")
    assert key_for(duration="5", seed="7", prompt_text="waves") == base  # rendered templates are strings
    assert key_for(duration=5, seed=7, prompt_text="waves", flavor="runway") == base
    assert key_for(duration=10, seed=7, prompt_text="waves") != base
    assert key_for(duration=5, seed=8, prompt_text="waves") != base
    assert key_for(duration=5, seed=7, prompt_text="waves!") != base
    assert key_for([{"position": None, "sha256": "b" * 64}], duration=5, seed=7, prompt_text="waves") != base
    # the image reference itself is not part of the key: only its identity is
    inline = "data:image/png;base64,AAAA"
    params = {"model": "gen4_turbo", "ratio": "1280:720", "duration": 5, "seed": 7, "prompt_text": "waves"}
    assert idempotency_key(build_image_to_video_body(prompt_image=inline, **params).body, IMAGE) == base  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "output, key, task, expected",
    [
        ("s3://out/videos/", "f" * 64, "t1", "s3://out/videos/runway-" + "f" * 20 + ".mp4"),
        ("s3://out/videos", "f" * 64, "t1", "s3://out/videos"),
        ("/data/out/cat.mp4", "f" * 64, "t1", "/data/out/cat.mp4"),
        ("/data/out/", None, "t1", "/data/out/t1.mp4"),
    ],
)
def test_video_location_is_the_file_or_inside_the_folder(
    output: str, key: str | None, task: str, expected: str
) -> None:
    assert output_location(output, key, task) == expected


@pytest.mark.parametrize(
    "video, expected",
    [("s3://o/v/a.mp4", "s3://o/v/a.json"), ("/d/clip", "/d/clip.json"), ("/d/.hidden", "/d/.hidden.json")],
)
def test_sidecar_sits_beside_the_video(video: str, expected: str) -> None:
    assert sidecar_location(video) == expected == with_suffix(video, ".json")


def test_output_path_is_checked() -> None:
    assert check_output_path(" s3://o/v/ ") == "s3://o/v/"
    with pytest.raises(ValueError, match="sidecar"):
        check_output_path("/d/video.json")
    with pytest.raises(ValueError, match="non-empty"):
        check_output_path("")


def test_locations_helpers() -> None:
    assert parent("s3://b/a/c.mp4") == "s3://b/a/"
    assert parent("c.mp4") == "./"
    assert as_url("s3://b/c.mp4") == "s3://b/c.mp4"
    assert as_url("/tmp/c.mp4") == Path("/tmp/c.mp4").resolve().as_uri()


def test_already_done_needs_the_same_key_and_a_whole_video() -> None:
    meta = {"idempotency_key": "k", "bytes": 10}
    assert is_done(meta, "k", 10)
    assert not is_done(meta, "other", 10)
    assert not is_done(meta, "k", 9)  # torn write
    assert not is_done(meta, "k", None)  # sidecar without video
    assert not is_done(None, "k", 10)


def test_sidecar_never_carries_a_data_uri_and_has_every_field() -> None:
    request = {
        "body": {"model": "gen3a_turbo", "promptText": "waves", "seed": 3, "ratio": "1280:768", "duration": 5},
        "sources": [{"location": "s3://in/cat.png", "sha256": "a" * 64}],
        "idempotency_key": "k",
        "flavor": "cometapi",
    }
    task = {"id": "t1", "createdAt": "2026-01-01T00:00:00Z", "output": ["https://signed"]}
    meta = sidecar(
        request=request,
        task=task,
        video="s3://o/v.mp4",
        size=10,
        sha256="b" * 64,
        seconds=5.0,
        finished_at="2026-01-01T00:01:00Z",
        lineage={"dag_id": "d"},
    )
    for field in ("runway_task_id", "model", "prompt_text", "seed", "ratio", "duration", "source_image",
                  "created_at", "finished_at", "bytes", "sha256"):  # fmt: skip
        assert meta[field] is not None, field
    assert meta["source_image"] == "s3://in/cat.png"
    assert "https://signed" not in str(meta)  # signed URLs expire: not worth keeping


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


@pytest.mark.parametrize("version", [0, 1])
def test_mp4_seconds_reads_mvhd(version: int) -> None:
    if version == 0:
        mvhd = bytes([0, 0, 0, 0]) + struct.pack(">IIII", 0, 0, 1000, 5500) + b"\0" * 80
    else:
        mvhd = bytes([1, 0, 0, 0]) + struct.pack(">QQIQ", 0, 0, 600, 3000) + b"\0" * 80
    data = _box(b"ftyp", b"isom" + b"\0" * 4) + _box(b"mdat", b"\0" * 50) + _box(b"moov", _box(b"mvhd", mvhd))
    assert mp4_seconds(io.BytesIO(data)) == (5.5 if version == 0 else 5.0)
    assert mp4_seconds(io.BytesIO(b"not an mp4 at all")) is None


def test_mp4_seconds_of_a_real_video() -> None:
    video = pytest.importorskip("runway_emulator.video")
    pytest.importorskip("imageio_ffmpeg")
    data = video.render_mp4(None, label="x", ratio="1280:768", duration_s=2.0)
    assert mp4_seconds(io.BytesIO(data)) == pytest.approx(2.0, abs=0.11)


def test_key_covers_the_endpoint_and_each_fields_inputs() -> None:
    body = {"model": "upscale_v1"}
    video = {"videoUri": [{"sha256": "a" * 64}]}
    base = idempotency_key(body, video, "video_upscale")
    assert idempotency_key(body, video, "video_to_video") != base
    assert idempotency_key(body, {"videoUri": [{"sha256": "b" * 64}]}, "video_upscale") != base
    assert idempotency_key({"model": "other"}, video, "video_upscale") != base
    # the input's reference is not in the key, only its identity
    assert idempotency_key({**body, "videoUri": "data:video/mp4;base64,AAAA"}, video, "video_upscale") == base


def test_image_to_video_keeps_the_keys_earlier_versions_made() -> None:
    import hashlib
    import json

    body = {"model": "gen4_turbo", "ratio": "1280:720", "promptImage": "https://x.example/i.png"}
    first_layout = {"v": 1, "request": {"model": "gen4_turbo", "ratio": "1280:720"}, "images": IMAGE}
    expected = hashlib.sha256(json.dumps(first_layout, sort_keys=True).encode()).hexdigest()
    assert idempotency_key(body, IMAGE) == expected
    assert idempotency_key(body, {"promptImage": IMAGE}, "image_to_video") == expected


@pytest.mark.parametrize(
    "kind, media_type, suffix",
    [("image", "image/png", ".png"), ("image", "image/jpeg", ".jpg"), ("image", None, ".png"),
     ("video", "video/mp4", ".mp4"), ("audio", "audio/wav", ".wav"), ("audio", None, ".mp3")],
)  # fmt: skip
def test_output_suffix_follows_the_bytes_then_the_kind(kind: str, media_type: str | None, suffix: str) -> None:
    from airflow_provider_runway.media.sidecars import output_suffix

    assert output_suffix(kind, media_type) == suffix


def test_expected_sidecar_is_found_whatever_the_outputs_suffix() -> None:
    from airflow_provider_runway.media.sidecars import expected_sidecar, output_location

    key = "c" * 64
    for suffix in (".png", ".mp4", ".mp3"):
        assert sidecar_location(output_location("s3://o/out/", key, None, suffix)) == expected_sidecar(
            "s3://o/out/", key
        )
    assert expected_sidecar("/data/still.png", key) == "/data/still.json"
