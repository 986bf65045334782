"""What a batch of pictures is to make: the items of a folder, a prefix glob or a manifest.

Used by ``dags/runway_batch_videos.py`` and reusable in users' own DAGs. Listing reads names
only, never image bytes: each item's task reads its own image.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from airflow_provider_runway.media.locations import is_local, join, parent, storage_path

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
    from airflow_provider_runway.runway.bodies import WIRE_NAMES, compose_body
    from airflow_provider_runway.runway.flavors import IMAGE_TO_VIDEO

    named = {wire: item.get(name) for name, wire in WIRE_NAMES.items()}
    return compose_body(IMAGE_TO_VIDEO, named, flavor=flavor)


def chunk_items(items: Sequence[Mapping[str, Any]], chunk_size: int) -> list[list[dict[str, Any]]]:
    """The pictures in chunks of at most ``chunk_size``, in order: one batch task each.

    10,000 pictures in chunks of 100 are 100 task instances, far under ``[core] max_map_length``.
    """
    if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a whole number >= 1, got {chunk_size!r}")
    return [[dict(item) for item in items[start : start + chunk_size]] for start in range(0, len(items), chunk_size)]
