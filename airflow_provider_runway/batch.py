"""Batches of pictures to videos: what to make (a folder, prefix glob or manifest) and what was made.

Used by ``dags/runway_batch_videos.py`` and reusable in users' own DAGs. Listing reads names
only (never image bytes: the mapped tasks read their own image); the summary is pure and
built from the ``runway_video`` outcome each mapped task leaves in XCom.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from airflow_provider_runway.budget import BatchEstimate, batch_estimate
from airflow_provider_runway.locations import describe, is_local, join, parent, storage_path
from airflow_provider_runway.records import CREATED, FAILED, SKIPPED

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
# manifest column -> operator parameter
MANIFEST_COLUMNS: dict[str, str] = {
    "image": "prompt_image",
    "prompt_text": "prompt_text",
    "seed": "seed",
    "ratio": "ratio",
    "duration": "duration",
    "model": "model",
    "watermark": "watermark",
}
ITEM_DEFAULTS = ("prompt_text", "model", "ratio", "duration", "seed", "watermark")
SUMMARY_NAME = "runway-batch-summary"
NO_RECORD = "NO_RECORD"
_GLOB = re.compile(r"[*?\[]")


def _split_glob(source: str) -> tuple[str, str]:
    """``s3://b/in/*/a*.png`` -> (``s3://b/in/``, ``*/a*.png``); a plain folder -> (folder, "")."""
    match = _GLOB.search(source)
    if match is None:
        return source, ""
    base = source[: match.start()].rpartition("/")[0] + "/"
    return base, source[len(base) :]


def list_images(source: str, conn_id: str | None = None) -> list[str]:
    """Image locations under a folder or prefix (by suffix), or matching a glob; sorted.

    ``dags/assets/`` or ``s3://bucket/in/`` lists the images directly inside; a glob such as
    ``s3://bucket/in/**/*.jpg`` lists what it matches (then the suffix is the user's choice).
    """
    base, pattern = _split_glob(source if _GLOB.search(source) else source.rstrip("/") + "/")
    wanted = pattern or "*"
    path = storage_path(base, conn_id)
    if is_local(base):
        found = [str(m) for m in path.glob(wanted) if m.is_file()]
    else:
        scheme, _, rest = base.partition("://")
        userinfo = rest.split("/", 1)[0].rpartition("@")[0]
        head = f"{scheme}://{userinfo + '@' if userinfo else ''}"
        entries = path.fs.glob(f"{path.path.rstrip('/')}/{wanted}", detail=True)
        found = [head + key for key, info in entries.items() if info.get("type") != "directory"]
    if not pattern:
        found = [loc for loc in found if loc.lower().endswith(IMAGE_SUFFIXES)]
    return sorted(found)


def _rows(text: str, location: str) -> list[tuple[int, dict[str, Any]]]:
    lowered = location.lower()
    as_json = lowered.endswith((".jsonl", ".ndjson", ".json")) or text.lstrip().startswith("{")
    if not as_json:
        reader = csv.DictReader(io.StringIO(text))
        return [(number + 2, dict(row)) for number, row in enumerate(reader)]
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as err:
            raise ValueError(f"manifest {location} line {number}: not JSON ({err})") from None
        if not isinstance(row, dict):
            raise ValueError(f"manifest {location} line {number}: expected a JSON object")
        rows.append((number, row))
    return rows


def read_manifest(location: str, conn_id: str | None = None) -> list[dict[str, Any]]:
    """Rows of a CSV or JSON-lines manifest as operator parameters (``image`` -> ``prompt_image``).

    Relative image paths are taken relative to the manifest's folder; empty cells mean "use
    the DAG's default". Unknown columns are refused, naming the line, so a typo never
    silently drops a prompt.
    """
    text = storage_path(location, conn_id).read_text()
    items = []
    for number, row in _rows(text, location):
        unknown = sorted(str(column) for column in set(row) - set(MANIFEST_COLUMNS))
        if unknown:
            known = ", ".join(MANIFEST_COLUMNS)
            raise ValueError(f"manifest {location} line {number}: unknown column(s) {unknown}; known: {known}")
        image = str(row.get("image") or "").strip()
        if not image:
            raise ValueError(f"manifest {location} line {number}: 'image' is empty")
        if "://" not in image and not image.startswith(("/", "~")) and not image.startswith("data:"):
            image = join(parent(location), image)
        item = {MANIFEST_COLUMNS[k]: v for k, v in row.items() if v not in (None, "")}
        items.append({**item, "prompt_image": image})
    return items


def plan_items(
    *,
    images: str | None,
    manifest: str | None,
    image_conn_id: str | None,
    defaults: Mapping[str, Any],
    shared: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """One dict of operator parameters per video (for ``expand_kwargs``): row values over defaults.

    Every item carries the same keys, so the mapped operator sees one shape; ``shared`` holds
    what is the same for all (output path, connections).
    """
    if bool(images) == bool(manifest):
        raise ValueError("give either images (a folder, prefix or glob) or manifest (a CSV or JSON-lines file)")
    rows = (
        read_manifest(manifest, image_conn_id)
        if manifest
        else [{"prompt_image": loc} for loc in list_images(images or "", image_conn_id)]
    )
    base = {name: defaults.get(name) for name in ITEM_DEFAULTS}
    return [{**base, **row, **shared} for row in rows]


def item_body(item: Mapping[str, Any], flavor: str) -> dict[str, Any]:
    """The image-to-video body an item's parameters make (unvalidated: for estimating its cost)."""
    from airflow_provider_runway.models import IMAGE_TO_VIDEO, WIRE_NAMES, compose_body

    named = {wire: item.get(name) for name, wire in WIRE_NAMES.items()}
    return compose_body(IMAGE_TO_VIDEO, named, flavor=flavor)


def estimate_batch(items: Sequence[Mapping[str, Any]], flavor: str) -> BatchEstimate:
    """Every item's estimated cost, labelled by its image, as one ``BatchEstimate``."""
    from airflow_provider_runway.credits import estimate_credits
    from airflow_provider_runway.models import IMAGE_TO_VIDEO

    return batch_estimate(
        [
            (str(describe(item.get("prompt_image"))), estimate_credits(IMAGE_TO_VIDEO, item_body(item, flavor), flavor))
            for item in items
        ]
    )


def check_batch_credits(
    items: Sequence[Mapping[str, Any]], budget_credits: Any, hook: Any, today: date
) -> dict[str, Any]:
    """Before the batch's first paid call: refuse it over ``budget_credits`` or (flavor runway) over the
    organization's ``creditBalance``; what the summary needs to report credits used.

    Raises ``AirflowFailException`` naming the estimate, the cap and the biggest items. The
    estimate counts every item, including ones an idempotent re-run will find already stored.
    """
    from airflow_provider_runway._compat import AirflowFailException
    from airflow_provider_runway.budget import batch_refusal, usage_window
    from airflow_provider_runway.models import RUNWAY

    flavor = hook.flavor
    batch = estimate_batch(items, flavor)
    models = sorted({str(item_body(item, flavor).get("model")) for item in items})
    record: dict[str, Any] = {
        "flavor": flavor,
        "estimated_total": batch.total,
        "item_credits": [estimate.credits for _, estimate in batch.items],
        "models": models,
        "balance": None,
        "usage_window": None,
        "usage_before": None,
    }
    if flavor == RUNWAY:
        record["balance"] = float(hook.get_organization().get("creditBalance"))
        record["usage_window"] = usage_window(today)
        record["usage_before"] = read_usage(hook, record)
    refusal = batch_refusal(batch, budget_credits, record["balance"])
    if refusal is not None:
        raise AirflowFailException(refusal)
    return record


def read_usage(hook: Any, record: Mapping[str, Any]) -> float | None:
    """Credits used on the batch's models over its usage window, or None when it cannot be read."""
    from airflow_provider_runway.budget import usage_credits
    from airflow_provider_runway.errors import RunwayError

    if not record.get("usage_window"):
        return None
    try:
        return usage_credits(hook.get_organization_usage(*record["usage_window"]), record["models"])
    except RunwayError as err:  # the summary falls back to the estimate, and says so
        hook.log.warning("Could not read the organization's usage: %s", err)
        return None


def summarize(items: Sequence[Mapping[str, Any]], records: Sequence[Any]) -> dict[str, Any]:
    """Counts by outcome and failure code, seconds of video, and where each video is."""
    by_index = {r.get("map_index"): r for r in records if isinstance(r, Mapping)}
    rows = []
    for index, item in enumerate(items):
        record = by_index.get(index) or {
            "outcome": FAILED,
            "failure_code": NO_RECORD,
            "message": "the task left no outcome (it failed before or while creating); see its log",
        }
        rows.append(
            {
                "index": index,
                "image": describe(item.get("prompt_image")),
                "outcome": record.get("outcome"),
                "video": record.get("video"),
                "sidecar": record.get("sidecar"),
                "seconds": record.get("seconds"),
                "runway_task_id": record.get("runway_task_id"),
                "failure_code": record.get("failure_code"),
                "message": record.get("message"),
            }
        )
    outcomes = Counter(str(row["outcome"]) for row in rows)
    codes = Counter(str(row["failure_code"]) for row in rows if row["outcome"] == FAILED)
    made = sum(float(row["seconds"] or 0) for row in rows if row["outcome"] == CREATED)
    stored = sum(float(row["seconds"] or 0) for row in rows if row["outcome"] in (CREATED, SKIPPED))
    return {
        "images": len(rows),
        "outcomes": {kind: outcomes.get(kind, 0) for kind in (CREATED, SKIPPED, FAILED)},
        "failure_codes": dict(sorted(codes.items())),
        "seconds_of_video_made": round(made, 3),
        "seconds_of_video_stored": round(stored, 3),
        "skipped_already_done": [row["image"] for row in rows if row["outcome"] == SKIPPED],
        "rows": rows,
    }


def _cell(value: Any) -> str:
    return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def summary_markdown(summary: Mapping[str, Any]) -> str:
    """The summary as a Markdown report: one line of totals, a table, the failure codes."""
    outcomes = summary["outcomes"]
    lines = [
        "# Runway batch summary",
        "",
        f"{summary['images']} image(s): {outcomes[CREATED]} created, {outcomes[SKIPPED]} skipped (already done), "
        f"{outcomes[FAILED]} failed; {summary['seconds_of_video_made']:.10g} s of video made, "
        f"{summary['seconds_of_video_stored']:.10g} s stored in all.",
        "",
        "| # | image | outcome | video | seconds | Runway task | failure |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in summary["rows"]:
        failure = f"{row['failure_code']}: {row['message']}" if row["outcome"] == FAILED else ""
        outcome = "skipped, already done" if row["outcome"] == SKIPPED else row["outcome"]
        cells = [row["index"], row["image"], outcome, row["video"], row["seconds"], row["runway_task_id"], failure]
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    if summary["failure_codes"]:
        lines += ["", "Failures by code: " + ", ".join(f"{k} x{v}" for k, v in summary["failure_codes"].items())]
    credits = summary.get("credits")
    if credits:
        used, source, note = credits["credits_used"], credits["credits_source"], credits["credits_note"]
        lines += ["", f"Credits used: {used:.10g} ({source}: {note})"]
    return "\n".join(lines) + "\n"


def write_summary(summary: Mapping[str, Any], folder: str, conn_id: str | None = None) -> tuple[str, str]:
    """Write ``runway-batch-summary.json`` and ``.md`` into the output folder; their locations."""
    json_at, md_at = join(folder, f"{SUMMARY_NAME}.json"), join(folder, f"{SUMMARY_NAME}.md")
    if is_local(folder):
        storage_path(folder).mkdir(parents=True, exist_ok=True)
    storage_path(json_at, conn_id).write_text(json.dumps(summary, indent=2) + "\n")
    storage_path(md_at, conn_id).write_text(summary_markdown(summary))
    return json_at, md_at
