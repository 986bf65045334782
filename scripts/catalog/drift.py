"""Where a committed catalog differs from the one the SDK and the overlay give now, in words."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scripts.catalog.mapping import Json

SHOWN = 120  # characters of a value shown in a message


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= SHOWN else text[: SHOWN - 3] + "..."


def _walk(committed: Any, generated: Any, path: str, out: list[str]) -> None:
    if isinstance(committed, dict) and isinstance(generated, dict):
        for key in sorted(set(committed) | set(generated)):
            where = f"{path}.{key}" if path else str(key)
            if key not in committed:
                out.append(f"{where}: the SDK/overlay give {_shown(generated[key])}; the catalog lacks it")
            elif key not in generated:
                out.append(f"{where}: in the catalog, but neither the SDK nor the overlay has it now")
            else:
                _walk(committed[key], generated[key], where, out)
    elif committed != generated:
        out.append(f"{path}: the catalog says {_shown(committed)}; the SDK/overlay give {_shown(generated)}")


def differences(committed: Json, generated: Json) -> list[str]:
    """Every place the two differ, as ``endpoints.image_to_video.models.kling_4: ...`` lines."""
    out: list[str] = []
    _walk(committed, generated, "", out)
    return out
