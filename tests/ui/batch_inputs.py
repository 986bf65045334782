"""The batch every Runway-view check looks at: one video made, one refused by Runway, one refused before any call."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.paths import ROOT
from tests.storage.images import CAT_PNG, FRACTAL_JPEG, GIF

BATCH_DAG = ROOT / "dags" / "runway_batch_videos.py"
BATCH_DAG_ID = "runway_batch_videos"
SAFETY_PROMPT = "a forbidden scene"  # the emulator refuses it: SAFETY.INPUT.TEXT
MADE_PROMPT = "a cat turns its head"


def batch_conf(folder: Path) -> dict[str, Any]:
    """Pictures and a manifest under ``folder``; the DAG run's conf (videos go to ``folder/videos/``)."""
    pictures = folder / "pictures"
    pictures.mkdir(parents=True, exist_ok=True)
    (pictures / "cat.png").write_bytes(CAT_PNG)
    (pictures / "fractal.jpg").write_bytes(FRACTAL_JPEG)
    (pictures / "tiny.gif").write_bytes(GIF)
    rows = [
        {"image": "cat.png", "seed": 1, "prompt_text": MADE_PROMPT},
        {"image": "fractal.jpg", "prompt_text": SAFETY_PROMPT},
        {"image": "tiny.gif"},
    ]
    manifest = pictures / "manifest.jsonl"
    manifest.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    return {"manifest": str(manifest), "images": "", "output_path": f"{folder / 'videos'}/"}
