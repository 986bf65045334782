"""``runway-example-dags DIR``: copy the example DAGs, and the pictures they use, into a DAGs folder.

The wheel carries them as ``airflow_provider_runway/example_dags`` (the repository's ``dags/``).
Airflow never loads them from the package by itself: a DAG runs once it is in a DAGs folder.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def example_dags_folder() -> Path:
    """Where the example DAGs are: in the installed wheel, else (a checkout) the repository's ``dags/``."""
    for folder in (PACKAGE / "example_dags", PACKAGE.parent / "dags"):
        if (folder / "runway_batch_videos.py").is_file():
            return folder
    raise FileNotFoundError("no example DAGs here: install airflow-provider-runway from its wheel")


def copy_example_dags(target: Path, *, overwrite: bool = False) -> list[Path]:
    """Copy every example DAG and its ``assets/`` into ``target``; existing files are kept unless ``overwrite``."""
    source = example_dags_folder()
    copied: list[Path] = []
    for path in sorted(source.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        destination = target / path.relative_to(source)
        if destination.exists() and not overwrite:
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)
        copied.append(destination)
    return copied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="runway-example-dags", description=__doc__.splitlines()[0])
    parser.add_argument("dags_folder", type=Path, help="e.g. $AIRFLOW_HOME/dags")
    parser.add_argument("--overwrite", action="store_true", help="replace files that are already there")
    args = parser.parse_args(argv)
    copied = copy_example_dags(args.dags_folder, overwrite=args.overwrite)
    for path in copied:
        print(path)
    print(f"{len(copied)} file(s) copied into {args.dags_folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
