"""OpenLineage for Runway tasks: the stored media they read, the files they stored, the Runway task and its cost.

The OpenLineage provider's listener calls ``get_openlineage_facets_on_complete`` and
``..._on_failure`` (``RunwayLineageMixin``) when a task ends; they read what the task recorded in
XCom (its outcome records and the request it sent) and return an ``OperatorLineage``:

* inputs: every stored input the request named, per the OpenLineage naming conventions
  (``s3://bucket`` + key, ``gs://bucket`` + key, ``file`` + absolute path); an https input as
  its URL (``https://host`` + path). Data URIs and ``runway://`` uploads are not datasets.
* outputs: every stored file (a skipped item's too: it is what the task delivered).
* run facets: ``externalQuery`` (the Runway task id, when the task made one), ``errorMessage``
  (the failure code and message of what failed) and ``runway`` (``RunwayRunFacet``: endpoint,
  model, flavor, credits charged and estimated, and one entry per output).

OpenLineage is imported only inside these calls: without the provider (extra ``openlineage``)
nothing here is imported and nothing breaks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from airflow_provider_runway.execution.outcomes import (
    XCOM_OUTPUT_KEY,
    XCOM_OUTPUTS_KEY,
    XCOM_REQUEST_KEY,
    XCOM_VIDEO_KEY,
)
from airflow_provider_runway.media.sidecars import CREATED, FAILED, SKIPPED, stored_at, stored_files

SUBMITTED = "submitted"  # created and not waited for here: a sensor downstream stores it
RUNWAY_FACET = "runway"
# The facet's JSON schema ships as docs/openlineage/RunwayRunFacet.json (its ``$id``).
RUNWAY_FACET_SCHEMA_URL = "urn:airflow-provider-runway:openlineage:RunwayRunFacet:1#/$defs/RunwayRunFacet"


def dataset_name(location: Any) -> tuple[str, str] | None:
    """(namespace, name) of a stored location per OpenLineage's naming; None for what is not a dataset."""
    if not isinstance(location, str) or not location.strip():
        return None
    text = location.strip()
    lowered = text.lower()
    if lowered.startswith(("data:", "runway://")):
        return None  # an inline payload (recorded redacted) or an ephemeral upload
    if lowered.startswith("file://") or "://" not in text:
        path = unquote(urlsplit(text).path) if lowered.startswith("file://") else text
        return "file", str(PurePosixPath(path if path.startswith("/") else f"/{path}"))
    parts = urlsplit(text)
    scheme = "gs" if parts.scheme.lower() in ("gs", "gcs") else parts.scheme.lower()
    if scheme in ("http", "https"):
        return f"{scheme}://{parts.netloc}", parts.path or "/"
    return f"{scheme}://{parts.netloc}", parts.path.lstrip("/")


@dataclass
class LineageParts:
    """What one task instance's lineage says, as plain values (the OpenLineage objects are built from this)."""

    inputs: list[tuple[str, str]] = field(default_factory=list)
    outputs: list[tuple[str, str]] = field(default_factory=list)
    runway_task_ids: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    facet: dict[str, Any] = field(default_factory=dict)

    def add(self, bucket: list[tuple[str, str]], location: Any) -> None:
        name = dataset_name(location)
        if name is not None and name not in bucket:
            bucket.append(name)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _credits(record: Mapping[str, Any]) -> tuple[float | None, float | None]:
    credits = _mapping(record.get("credits"))
    return _number(credits.get("charged")), _number(credits.get("estimated"))


def lineage_parts(
    records: Sequence[Mapping[str, Any]], requests: Mapping[str, Mapping[str, Any]], flavor: str | None = None
) -> LineageParts:
    """Inputs, outputs and the Runway facet from outcome records and the requests behind them (by task id)."""
    parts = LineageParts()
    items: list[dict[str, Any]] = []
    charged = estimated = 0.0
    endpoints, models = set(), set()
    for record in records:
        task_id = record.get("runway_task_id")
        request = requests.get(str(task_id), {}) if task_id else {}
        body = _mapping(request.get("body"))
        sources = [s.get("location") for s in request.get("sources") or [] if isinstance(s, Mapping)]
        for location in sources or [record.get("image") or record.get("picture")]:
            parts.add(parts.inputs, location)
        if record.get("outcome") in (CREATED, SKIPPED):
            for location in stored_files(record):  # a task with several outputs stored several files
                parts.add(parts.outputs, location)
        if task_id and record.get("outcome") != SKIPPED and str(task_id) not in parts.runway_task_ids:
            parts.runway_task_ids.append(str(task_id))
        if record.get("outcome") == FAILED:
            parts.errors.append(f"{record.get('failure_code') or 'FAILED'}: {record.get('message') or ''}".strip())
        item_charged, item_estimated = _credits(record)
        if record.get("outcome") != SKIPPED:  # a skipped output was paid for by the run that made it
            charged += item_charged or 0.0
            estimated += item_estimated if item_charged is None and item_estimated is not None else 0.0
        endpoint = request.get("endpoint") or record.get("endpoint")
        model = body.get("model") or record.get("model")
        endpoints.add(endpoint)
        models.add(model)
        items.append(
            {
                "runwayTaskId": task_id,
                "outcome": record.get("outcome"),
                "output": stored_at(record),
                "model": model,
                "creditsCharged": item_charged,
                "creditsEstimated": item_estimated,
                "failureCode": record.get("failure_code"),
            }
        )
    endpoints.discard(None)
    models.discard(None)
    parts.facet = {
        "endpoint": next(iter(endpoints)) if len(endpoints) == 1 else None,
        "model": next(iter(models)) if len(models) == 1 else None,
        "flavor": flavor or next((r.get("flavor") for r in requests.values() if r.get("flavor")), None),
        "creditsCharged": charged,
        "creditsEstimatedWithoutCharge": estimated,
        "items": items,
    }
    return parts


@cache
def runway_run_facet_class() -> type:
    """``RunwayRunFacet``, defined on first use (OpenLineage's classes are imported only then)."""
    import attr
    from airflow.providers.common.compat.openlineage.facet import RunFacet

    @attr.define
    class RunwayRunFacet(RunFacet):
        """What Runway did for this run: endpoint, model, flavor, credits (the API's charge), one entry per output."""

        endpoint: str | None = attr.field(default=None)
        model: str | None = attr.field(default=None)
        flavor: str | None = attr.field(default=None)
        creditsCharged: float = attr.field(default=0.0)  # OpenLineage facets are camelCase
        creditsEstimatedWithoutCharge: float = attr.field(default=0.0)
        items: list[dict[str, Any]] = attr.field(factory=list)

        @staticmethod
        def _get_schema() -> str:
            return RUNWAY_FACET_SCHEMA_URL

    return RunwayRunFacet


def operator_lineage(parts: LineageParts) -> Any:
    """The ``OperatorLineage`` the OpenLineage provider sends, from plain ``parts``."""
    from airflow.providers.common.compat.openlineage.facet import (
        Dataset,
        ErrorMessageRunFacet,
        ExternalQueryRunFacet,
    )
    from airflow.providers.openlineage.extractors import OperatorLineage

    run_facets: dict[str, Any] = {RUNWAY_FACET: runway_run_facet_class()(**parts.facet)}
    if len(parts.runway_task_ids) == 1:
        source = f"runway:{parts.facet.get('flavor') or 'api'}"
        run_facets["externalQuery"] = ExternalQueryRunFacet(externalQueryId=parts.runway_task_ids[0], source=source)
    if parts.errors:
        run_facets["errorMessage"] = ErrorMessageRunFacet(message="; ".join(parts.errors), programmingLanguage="python")
    return OperatorLineage(
        inputs=[Dataset(namespace=ns, name=name) for ns, name in parts.inputs],
        outputs=[Dataset(namespace=ns, name=name) for ns, name in parts.outputs],
        run_facets=run_facets,
    )


def _pull(task_instance: Any, task_ids: Any, key: str, map_index: Any) -> Any:
    try:
        return task_instance.xcom_pull(task_ids=task_ids, key=key, map_indexes=map_index)
    except Exception:  # lineage is best effort: a value that cannot be read is left out
        return None


def recorded(op: Any, task_instance: Any) -> tuple[list[Mapping[str, Any]], dict[str, Mapping[str, Any]]]:
    """This task instance's outcome records, and the requests behind them (a sensor's are its upstream's).

    A create that did not wait has no outcome but its request: it read its inputs and made a Runway task.
    """
    map_index = getattr(task_instance, "map_index", -1)
    task_id = task_instance.task_id
    batch = _pull(task_instance, task_id, XCOM_OUTPUTS_KEY, map_index)
    single = _pull(task_instance, task_id, XCOM_OUTPUT_KEY, map_index) or _pull(
        task_instance, task_id, XCOM_VIDEO_KEY, map_index
    )
    records = [r for r in batch if isinstance(r, Mapping)] if isinstance(batch, list) else []
    if not records and isinstance(single, Mapping):
        records = [single]
    task_ids = [task_id, *sorted(getattr(op, "upstream_task_ids", ()) or ())] if records else [task_id]
    pulled = _pull(task_instance, task_ids, XCOM_REQUEST_KEY, map_index)
    found = pulled if isinstance(pulled, list) else [pulled]
    requests = {str(r["runway_task_id"]): r for r in found if isinstance(r, Mapping) and r.get("runway_task_id")}
    if not records:
        records = [{"outcome": SUBMITTED, "runway_task_id": runway_task_id} for runway_task_id in requests]
    return records, requests


class RunwayLineageMixin:
    """OpenLineage facets for a task that records Runway outcomes (create operators, the sensor, batches)."""

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        records, requests = recorded(self, task_instance)
        return operator_lineage(lineage_parts(records, requests))

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> Any:
        return self.get_openlineage_facets_on_complete(task_instance)
