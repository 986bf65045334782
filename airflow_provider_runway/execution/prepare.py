"""Before the paid call: the body built, stored inputs read, validated, keyed, the output checked.

The operator calls ``prepare_request`` before any paid call and ``PreparedRequest.remember``
once the task id is known. With ``idempotent`` and an output plus sidecar for the same key
already stored, the create is skipped (nothing is paid) and the stored output is reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_runway.execution.outcomes import (
    INVALID_INPUT,
    XCOM_REQUEST_KEY,
    emit_asset_events,
    map_index_of,
    push_outcome,
    push_xcom,
    record_failure,
)
from airflow_provider_runway.media.inputs import ResolvedMedia, resolve_body_media
from airflow_provider_runway.media.locations import describe, is_folder, parent
from airflow_provider_runway.media.outputs import probe_writable, read_sidecar, stored_size
from airflow_provider_runway.media.sidecars import (
    SKIPPED,
    VIDEO,
    check_output_path,
    expected_sidecar,
    further_outputs,
    idempotency_key,
    is_done,
    stored_at,
    stored_outcome,
)
from airflow_provider_runway.runway.bodies import validate_body
from airflow_provider_runway.runway.catalog import media_fields
from airflow_provider_runway.runway.errors import InvalidRequestError

if TYPE_CHECKING:
    from airflow_provider_runway.runway.bodies import ValidatedBody


def check_output_writable(op: Any) -> None:
    """For a wait that will store its video: fail now, not after the paid work is done."""
    if op.output_path:
        probe_writable(check_output_path(op.output_path), op.output_conn_id)


@dataclass
class PreparedRequest:
    """A request whose body was built, whose stored inputs were read and whose output was checked."""

    endpoint: str
    flavor: str
    body: dict[str, Any]  # as composed, media references as the user gave them
    media: ResolvedMedia
    checked: ValidatedBody  # validated; uploads still placeholders
    lenient: bool
    request: dict[str, Any]
    done: str | None = None  # the Runway task id of the output already stored at the target
    credits: dict[str, Any] | None = None  # ``runway.credits.task_credits`` once created

    def validated(self, hook: Any) -> ValidatedBody:
        """The body to send: stored inputs inline, or uploaded first when too large (flavor runway)."""
        if not self.media.needs_upload:
            return self.checked
        body = self.media.apply(self.body, hook.upload_ephemeral)
        return validate_body(body, self.flavor, self.endpoint, lenient=self.lenient)

    def remember(self, context: Mapping[str, Any], runway_task_id: str) -> None:
        """Keep what the sidecar needs (across deferral, and for a downstream sensor) in XCom."""
        remembered = {**self.request, "runway_task_id": runway_task_id}
        if self.credits is not None:
            remembered["credits"] = self.credits
        push_xcom(context, XCOM_REQUEST_KEY, remembered)


def prepare_request(op: Any, context: Mapping[str, Any], hook: Any) -> PreparedRequest:
    """Build the body, read stored inputs, validate, key the request, check the output; before any paid call.

    ``op`` provides ``endpoint``, ``request_fields()`` (the named API fields), ``request_body(flavor)``,
    ``input_conn_id``, ``lenient``, ``output_path``, ``output_conn_id`` and ``idempotent``. With
    ``op.idempotent`` and an output plus sidecar for the same key already stored, ``done`` is set
    and the caller skips the create.
    """
    endpoint = op.endpoint
    try:
        flavor = hook.flavor
        body = op.request_body(flavor)
        media = resolve_body_media(endpoint, body, flavor=flavor, conn_id=op.input_conn_id)
        checked = validate_body(media.apply(body), flavor, endpoint, lenient=op.lenient)  # uploads as placeholders
        key = idempotency_key(checked.body, media.identities_by_field(), endpoint)
        shown = {k: v for k, v in checked.body.items() if k not in media.shapes}
        request = {
            "endpoint": endpoint,
            "body": describe(shown),
            "sources": media.sources(),
            "idempotency_key": key,
            "flavor": flavor,
        }
        prepared = PreparedRequest(endpoint, flavor, body, media, checked, op.lenient, request)
        if op.output_path:
            output = check_output_path(op.output_path)
            if op.idempotent and _already_stored(op, context, prepared, output, key):
                return prepared
            probe_writable(output, op.output_conn_id)
    except (InvalidRequestError, ValueError) as err:
        first = _first_input(op.request_fields(), endpoint)
        record_failure(op, context, INVALID_INPUT, str(err), endpoint=endpoint, image=first)
        raise
    return prepared


def _first_input(fields: Mapping[str, Any], endpoint: str) -> Any:
    """The first media reference the request names, safe to show (for a failure's ``image``)."""
    for wire in media_fields(endpoint):
        value = fields.get(wire)
        value = value[0] if isinstance(value, list) and value else value
        if value is not None:
            return describe(value.get("uri") if isinstance(value, Mapping) else value)
    return None


def _stored_sidecar(op: Any, sidecar_at: str, output: str, key: str) -> dict[str, Any] | None:
    """The sidecar of a whole output made from this request, if there is one where it would be."""
    try:
        meta = read_sidecar(sidecar_at, op.output_conn_id)
        if meta is None:
            return None
        stored = stored_at(meta)
        here = stored is not None and (stored == output or (is_folder(output) and parent(stored) == output))
        if (
            here
            and is_done(meta, key, stored_size(str(stored), op.output_conn_id))
            and all(stored_size(where, op.output_conn_id) == size for where, size in further_outputs(meta))
        ):
            return meta
    except Exception as err:  # unreadable output: the write probe that follows says why
        op.log.warning("Could not check %s for an earlier output: %s: %s", sidecar_at, type(err).__name__, err)
        return None
    op.log.info("%s exists but was made from other inputs or is incomplete; making it again", sidecar_at)
    return None


def _already_stored(op: Any, context: Mapping[str, Any], prepared: PreparedRequest, output: str, key: str) -> bool:
    sidecar_at = expected_sidecar(output, key)
    meta = _stored_sidecar(op, sidecar_at, output, key)
    if meta is None:
        return False
    prepared.done = str(meta.get("runway_task_id"))
    record = stored_outcome(SKIPPED, meta, sidecar_at, map_index_of(context))
    op.log.info(
        "Skipped, already done: %s (Runway task %s) is stored with its sidecar for these inputs; no paid call made",
        stored_at(meta),
        prepared.done,
    )
    push_outcome(context, record, meta.get("output_kind") or VIDEO)
    emit_asset_events(op, context, record, meta)
    return True
