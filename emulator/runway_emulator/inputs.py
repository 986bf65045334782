"""A create body's media inputs and what the emulator can use of them, resolved once at create time.

Which fields hold media comes from the catalog: ``uri`` and ``frames`` fields, ``{type, uri}``
media objects, and lists or objects holding them (``referenceImages[].uri``,
``voice.audioUri``, ``keyframes[].uri``), in the catalog's field order. The emulator never
fetches a URL. What it can use:

- a ``data:`` URI: its bytes;
- one of its own output URLs (signed and current): that task's output, rendered now if nobody
  downloaded it yet. Runway takes its own (https) output URLs as inputs, so a chained DAG
  (text -> image -> video -> upscale) can feed each step's output to the next; the
  emulator's URLs are ``http://127.0.0.1``, which validation refuses, so while a body is
  validated they stand in as https URLs (``stand_in_own_outputs``);
- the ``runway://`` URI of an upload made to this emulator: the uploaded bytes.

Anything else (an https URL, a runway:// URI issued elsewhere) is not fetched: the output is
the marked placeholder. An own output URL or upload that no longer resolves (expired,
deleted, never filled) fails the task with ``ASSET.INVALID`` when PENDING ends, as Runway
fails a task whose input asset it cannot read.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from airflow_provider_runway.catalog import FieldSpec, load_catalog
from runway_emulator.media import OUTPUT_PREFIX, MediaUnavailableError, parse_output_name
from runway_emulator.state import TaskInputs, default_failure_message
from runway_emulator.task_endpoints import endpoint_named, output_count
from airflow_provider_runway.tasks import SUCCEEDED

if TYPE_CHECKING:
    from runway_emulator.backend import EmulatorBackend

ASSET_INVALID = "ASSET.INVALID"
REMOTE_INPUT_NOTE = "placeholder: remote URL not fetched"
FOREIGN_UPLOAD_NOTE = "placeholder: runway:// URI not uploaded to this emulator"
STAND_IN_PREFIX = "https://emulator-output.invalid/"
VISUAL = ("image", "video")


@dataclass(frozen=True)
class MediaRef:
    """One media input of a body: its kind (image, video, audio) and URI."""

    media: str
    uri: str


@dataclass(frozen=True)
class ResolvedInputs:
    """What ``state.create`` needs from a body's inputs, plus the URL to warn about (if any)."""

    inputs: TaskInputs
    notes: dict[str, str] = field(default_factory=dict)
    failure: tuple[str, str] | None = None
    unfetched: str | None = None


def _frames(value: list[Any]) -> list[str]:
    """Key frames' URIs, the ``first`` one first."""
    frames = [f for f in value if isinstance(f, Mapping) and isinstance(f.get("uri"), str)]
    frames.sort(key=lambda f: f.get("position") != "first")
    return [str(f["uri"]) for f in frames]


def _collect(value: Any, spec: FieldSpec, out: list[MediaRef]) -> None:
    kind = spec.kind
    if kind in ("uri", "frames") and isinstance(value, str):
        out.append(MediaRef(spec.media or "image", value))
    elif kind == "frames" and isinstance(value, list):
        out.extend(MediaRef(spec.media or "image", uri) for uri in _frames(value))
    elif kind == "media" and isinstance(value, Mapping) and isinstance(value.get("uri"), str):
        out.append(MediaRef(str(value.get("type") or (spec.kinds or ("image",))[0]), value["uri"]))
    elif kind == "object" and isinstance(value, Mapping):
        fields: dict[str, FieldSpec] = {}
        for shape in (spec, *spec.one_of):
            fields.update({wire: f for wire, f in shape.fields.items() if wire not in fields})
        for wire, sub in fields.items():
            _collect(value.get(wire), sub, out)
    elif kind == "list" and isinstance(value, list) and spec.items is not None:
        for item in value:
            _collect(item, spec.items, out)


def media_refs(endpoint: str, body: Mapping[str, Any]) -> list[MediaRef]:
    """Every media input of ``body``, in the catalog's field order (unknown models: any model's fields)."""
    spec = load_catalog().endpoint(endpoint)
    if spec is None:
        return []
    model = spec.models.get(str(body.get("model")))
    fields: dict[str, FieldSpec] = {}
    for known in [model] if model is not None else spec.models.values():
        fields.update({wire: f for wire, f in known.fields.items() if wire not in fields})
    out: list[MediaRef] = []
    for wire, spec_field in fields.items():
        _collect(body.get(wire), spec_field, out)
    return out


def _map_strings(value: Any, change: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, Mapping):
        return {key: _map_strings(item, change) for key, item in value.items()}
    if isinstance(value, list):
        return [_map_strings(item, change) for item in value]
    return value


def stand_in_own_outputs(body: Any, base_url: str) -> tuple[Any, dict[str, str]]:
    """``body`` with this emulator's output URLs replaced by https stand-ins, and the stand-ins' originals."""
    prefix = base_url + OUTPUT_PREFIX
    originals: dict[str, str] = {}

    def stand_in(text: str) -> str:
        if not text.startswith(prefix):
            return text
        name = f"{STAND_IN_PREFIX}{len(originals)}"
        originals[name] = text
        return name

    return _map_strings(body, stand_in), originals


def restore_own_outputs(body: Any, originals: Mapping[str, str]) -> Any:
    return _map_strings(body, lambda text: originals.get(text, text)) if originals else body


@dataclass(frozen=True)
class _Source:
    data: bytes | None = None
    remote: str | None = None  # the note to show: the input was not fetched
    problem: str | None = None  # why an asset of this emulator cannot be used


async def _own_output(backend: EmulatorBackend, uri: str) -> _Source:
    parts = urlsplit(uri)
    name = parts.path[len(OUTPUT_PREFIX) :]
    query = parse_qs(parts.query)
    exp, sig = query.get("exp", [""])[0], query.get("sig", [""])[0]
    state = backend.state
    problem = backend.media.verify(name, exp, sig, state.clock())
    if problem is not None:
        return _Source(problem=f"the emulator output URL {'has expired' if problem == 'expired' else 'is not genuine'}")
    parsed = parse_output_name(name)
    task = state.tasks.get(parsed[0]) if parsed is not None else None
    if parsed is None or task is None or task.deleted or state.status_now(task)[0] != SUCCEEDED:
        return _Source(problem="the emulator output URL names an output that is gone")
    if parsed[1] >= output_count(task.body):
        return _Source(problem="the emulator output URL names an output that does not exist")
    try:
        return _Source(data=await backend.media.output(task, parsed[1]))
    except MediaUnavailableError:
        return _Source()  # nothing renders here: the output gets the generated picture


async def _source(backend: EmulatorBackend, uri: str) -> _Source:
    if uri.startswith("data:"):
        try:
            return _Source(data=base64.b64decode(uri.partition(",")[2], validate=True))
        except (binascii.Error, ValueError):
            return _Source()
    if uri.startswith(backend.base_url + OUTPUT_PREFIX):
        return await _own_output(backend, uri)
    if uri.startswith("runway://"):
        upload, problem = backend.state.uploads.find(uri, backend.state.clock())
        if upload is None:
            return _Source(remote=FOREIGN_UPLOAD_NOTE)
        return _Source(problem=problem) if problem else _Source(data=upload.data)
    return _Source(remote=REMOTE_INPUT_NOTE)


async def resolve_inputs(backend: EmulatorBackend, endpoint: str, body: Mapping[str, Any]) -> ResolvedInputs:
    """The picture and timing inputs of a validated body, resolved without any network fetch."""
    refs = media_refs(endpoint, body)
    timing_kinds = ("video",) if endpoint_named(endpoint).output != "audio" else ("audio", "video")
    picture = next((ref for ref in refs if ref.media in VISUAL), None)
    timing = next((ref for ref in refs if ref.media in timing_kinds), None)
    sources: dict[str, _Source] = {}
    for ref in (picture, timing):
        if ref is not None and ref.uri not in sources:
            sources[ref.uri] = await _source(backend, ref.uri)
    problems = [s.problem for s in sources.values() if s.problem]
    failure = (ASSET_INVALID, f"{default_failure_message(ASSET_INVALID)} ({problems[0]})") if problems else None
    remote = next(((uri, s.remote) for uri, s in sources.items() if s.remote), None)
    shown = sources.get(picture.uri) if picture is not None else None
    inputs = TaskInputs(
        picture=shown.data if shown is not None else None,
        timing=sources[timing.uri].data if timing is not None else None,
        placeholder=shown is not None and shown.remote is not None,
    )
    return ResolvedInputs(
        inputs=inputs,
        notes={"input": remote[1]} if remote else {},
        failure=failure,
        unfetched=remote[0] if remote else None,
    )
