"""A create body's media inputs and what the emulator can use of them, resolved once at create time.

Which fields hold media comes from the SDK's request types (``mediarefs.py``). The emulator
never fetches a URL. What it can use:

- a ``data:`` URI: its bytes;
- one of its own output URLs (signed and current): that task's output, rendered now if nobody
  downloaded it yet. Runway takes its own (https) output URLs as inputs, so a chained DAG
  (text -> image -> video -> upscale) can feed each step's output to the next; the
  emulator's URLs are ``http://127.0.0.1``, which the API's URI rule refuses, so while a body
  is checked they stand in as https URLs (``stand_in_own_outputs``);
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

from runway_emulator.media import OUTPUT_PREFIX, MediaUnavailableError, parse_output_name
from runway_emulator.mediarefs import media_refs
from runway_emulator.protocol import SUCCEEDED
from runway_emulator.state import TaskInputs, default_failure_message
from runway_emulator.task_endpoints import endpoint_named, outputs_of

if TYPE_CHECKING:
    from runway_emulator.backend import EmulatorBackend

ASSET_INVALID = "ASSET.INVALID"
REMOTE_INPUT_NOTE = "placeholder: remote URL not fetched"
FOREIGN_UPLOAD_NOTE = "placeholder: runway:// URI not uploaded to this emulator"
STAND_IN_PREFIX = "https://emulator-output.invalid/"
VISUAL = ("image", "video")


@dataclass(frozen=True)
class ResolvedInputs:
    """What ``state.create`` needs from a body's inputs, plus the URL to warn about (if any)."""

    inputs: TaskInputs
    notes: dict[str, str] = field(default_factory=dict)
    failure: tuple[str, str] | None = None
    unfetched: str | None = None


def _map_strings(value: Any, change: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, Mapping):
        return {key: _map_strings(item, change) for key, item in value.items()}
    if isinstance(value, list):
        return [_map_strings(item, change) for item in value]
    return value


def stand_in_own_outputs(body: Any, base_url: str) -> Any:
    """``body`` with this emulator's output URLs replaced by https stand-ins (for the URI check only:
    the task keeps the body as sent)."""
    prefix = base_url + OUTPUT_PREFIX
    count = 0

    def stand_in(text: str) -> str:
        nonlocal count
        if not text.startswith(prefix):
            return text
        count += 1
        return f"{STAND_IN_PREFIX}{count}"

    return _map_strings(body, stand_in)


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
    if parsed[1] >= outputs_of(task):
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


async def resolve_inputs(
    backend: EmulatorBackend, endpoint: str, flavor: str, body: Mapping[str, Any]
) -> ResolvedInputs:
    """The picture and timing inputs of an accepted body, resolved without any network fetch."""
    refs = media_refs(endpoint, flavor, body)
    timing_kinds = endpoint_named(endpoint).timing
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
