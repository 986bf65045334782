"""The two distributions as users install them: built wheels, what each carries, and that the provider's
never carries the emulator."""

from __future__ import annotations

import email
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.paths import ROOT
from tests.wheels import build

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, zipfile.ZipFile]:
    base = tmp_path_factory.mktemp("wheels")
    return {"provider": build(ROOT, base / "provider"), "emulator": build(ROOT / "emulator", base / "emulator")}


def metadata(wheel: zipfile.ZipFile) -> email.message.Message:
    [name] = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    return email.message_from_bytes(wheel.read(name))


def test_the_provider_wheel_carries_no_emulator_and_its_extra_installs_it(wheels: dict[str, zipfile.ZipFile]) -> None:
    names = wheels["provider"].namelist()
    assert not [n for n in names if "emulator" in n]
    assert "airflow_provider_runway/runway/catalog.json" in names
    assert all(n.startswith(("airflow_provider_runway/", "airflow_provider_runway-")) for n in names)
    requires = metadata(wheels["provider"]).get_all("Requires-Dist") or []
    assert any(r.startswith("runway-emulator") and "extra == 'emulator'" in r for r in requires), requires


def test_the_emulator_wheel_carries_its_own_oracle_data_and_console_script(wheels: dict[str, zipfile.ZipFile]) -> None:
    names = wheels["emulator"].namelist()
    assert "runway_emulator/prices.json" in names and "runway_emulator/pytest_plugin.py" in names
    assert not [n for n in names if n.startswith("airflow_provider_runway")]
    [entry_points] = [n for n in names if n.endswith("entry_points.txt")]
    assert "runway-emulator = runway_emulator.cli:main" in wheels["emulator"].read(entry_points).decode()
    requires = metadata(wheels["emulator"]).get_all("Requires-Dist") or []
    assert any(r.startswith("runwayml") for r in requires) and not any("airflow" in r for r in requires)


def test_the_emulator_imports_without_the_provider_or_airflow() -> None:
    code = "import sys, runway_emulator; print(sorted(m for m in sys.modules if m.startswith('airflow')))"
    found = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.strip()
    assert found == "[]"


def test_the_provider_wheel_ships_the_example_dags_and_copies_them(
    wheels: dict[str, zipfile.ZipFile], tmp_path: Path
) -> None:
    """``runway-example-dags DIR`` from the installed wheel puts every example DAG and its pictures in DIR."""
    wheel = wheels["provider"]
    shipped = sorted(n for n in wheel.namelist() if n.startswith("airflow_provider_runway/example_dags/"))
    in_repo = sorted(
        f"airflow_provider_runway/example_dags/{p.relative_to(ROOT / 'dags').as_posix()}"
        for p in (ROOT / "dags").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    assert shipped == in_repo and "airflow_provider_runway/example_dags/assets/demo_cat.png" in shipped
    [entry_points] = [n for n in wheel.namelist() if n.endswith("entry_points.txt")]
    assert "runway-example-dags = airflow_provider_runway.examples:main" in wheel.read(entry_points).decode()

    installed, dags = tmp_path / "site", tmp_path / "dags"
    copy_examples = "from airflow_provider_runway.examples import main; raise SystemExit(main())"
    wheel.extractall(installed)
    run = subprocess.run(
        [sys.executable, "-c", copy_examples, str(dags)],
        env={"PYTHONPATH": str(installed), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    )
    assert run.stdout.strip().endswith(f"{len(in_repo)} file(s) copied into {dags}")
    for name in in_repo:
        relative = name.removeprefix("airflow_provider_runway/example_dags/")
        assert (dags / relative).read_bytes() == (ROOT / "dags" / relative).read_bytes()
