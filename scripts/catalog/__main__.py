"""``python -m scripts.catalog [--check]``: write (or check) catalog.json and docs/models.md."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from airflow_provider_runway.runway.catalog import parse_catalog
from scripts.catalog import models_table
from scripts.catalog.drift import differences
from scripts.catalog.merge import load_overlay, merge
from scripts.catalog.schema import SdkSchema, read_schema
from scripts.catalog.writer import render_json

CATALOG = Path(__file__).resolve().parents[2] / "airflow_provider_runway" / "runway" / "catalog.json"


def generated(schema: SdkSchema) -> tuple[str, str]:
    """(catalog.json, docs/models.md) as the SDK installed here and the overlay give them."""
    text = render_json(merge(schema, load_overlay()))
    return text, models_table.render(parse_catalog(json.loads(text)))  # the table of exactly that file


def _stale(path: Path, text: str) -> bool:
    return not path.exists() or path.read_text(encoding="utf-8") != text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.catalog", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1, saying what differs, if either file is stale")
    args = parser.parse_args(argv)
    schema = read_schema()
    catalog, table = generated(schema)
    if args.check:
        problems = []
        if _stale(CATALOG, catalog):
            committed = json.loads(CATALOG.read_text(encoding="utf-8")) if CATALOG.exists() else {}
            problems += differences(committed, json.loads(catalog)) or [f"{CATALOG.name} is not in its generated form"]
        if _stale(models_table.DOC, table):
            problems.append(f"{models_table.DOC.name} is stale")
        for line in problems:
            print(line, file=sys.stderr)
        if problems:
            print("run `make catalog` and review the diff", file=sys.stderr)
        return 1 if problems else 0
    CATALOG.write_text(catalog, encoding="utf-8")
    models_table.DOC.write_text(table, encoding="utf-8")
    print(f"wrote {CATALOG} and {models_table.DOC}: {len(schema.pairs())} (endpoint, model) pairs")
    print(f"from runwayml {schema.version}, {len(schema.endpoints)} task endpoints")
    return 0


if __name__ == "__main__":
    sys.exit(main())
