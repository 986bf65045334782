"""What a batch made: counts by outcome and failure code, seconds of video, credits, as JSON and Markdown.

Pure but for ``write_summary``: built from the outcome each item's task leaves in XCom.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from airflow_provider_runway.batch.ledger import NOT_STARTED
from airflow_provider_runway.media.locations import describe, is_local, join, storage_path
from airflow_provider_runway.media.sidecars import CREATED, FAILED, SKIPPED

SUMMARY_NAME = "runway-batch-summary"
NO_RECORD = "NO_RECORD"


def summarize(items: Sequence[Mapping[str, Any]], records: Sequence[Any]) -> dict[str, Any]:
    """Counts by outcome and failure code, seconds of video, credits, and where each video is.

    ``records`` are the outcomes the batch tasks pushed (``runway_outputs``, matched to items by
    ``picture``) or, from one mapped task per picture, ``runway_video`` (matched by ``map_index``).
    """
    found = [r for r in records if isinstance(r, Mapping)]
    by_picture = {str(r["picture"]): r for r in found if r.get("picture") is not None}
    by_index = {r.get("map_index"): r for r in found if r.get("picture") is None}
    rows = []
    for index, item in enumerate(items):
        record = (
            by_picture.get(str(item.get("prompt_image")))
            or by_index.get(index)
            or {
                "outcome": FAILED,
                "failure_code": NO_RECORD,
                "message": "the task left no outcome (it failed before or while creating); see its log",
            }
        )
        credits = record.get("credits") or {}
        rows.append(
            {
                "index": index,
                "image": describe(item.get("prompt_image")),
                "outcome": record.get("outcome"),
                "video": record.get("video") or record.get("output"),
                "sidecar": record.get("sidecar"),
                "seconds": record.get("seconds"),
                "runway_task_id": record.get("runway_task_id"),
                "credits_charged": credits.get("charged"),
                "credits_estimated": credits.get("estimated"),
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
        "outcomes": {kind: outcomes.get(kind, 0) for kind in (CREATED, SKIPPED, FAILED, NOT_STARTED)},
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
        f"{outcomes[FAILED]} failed, {outcomes.get(NOT_STARTED, 0)} not started (budget); "
        f"{summary['seconds_of_video_made']:.10g} s of video made, "
        f"{summary['seconds_of_video_stored']:.10g} s stored in all.",
        "",
        "| # | image | outcome | video | seconds | credits | Runway task | failure |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in summary["rows"]:
        failure = f"{row['failure_code']}: {row['message']}" if row["outcome"] == FAILED else ""
        outcome = "skipped, already done" if row["outcome"] == SKIPPED else row["outcome"]
        charged = row.get("credits_charged")
        cells = [
            row["index"],
            row["image"],
            outcome,
            row["video"],
            row["seconds"],
            charged,
            row["runway_task_id"],
            failure,
        ]
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
