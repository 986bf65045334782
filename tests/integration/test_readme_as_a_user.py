"""The README followed as a new user would: the built wheels installed with pip into a fresh virtualenv
beside Airflow, then the README's "Try it offline" commands run as written, in a shell.

Only the package registries are reached (to install Airflow, pinned to the versions ``uv.lock``
holds, as Airflow's constraint files pin theirs); the emulator listens on 127.0.0.1. The
commands come from the README itself, so a command that stops working fails here.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.paths import ROOT
from tests.wheels import build, uv

pytestmark = pytest.mark.slow


def readme_block(heading: str) -> list[str]:
    """The command lines of the first bash block under ``heading`` (comments dropped)."""
    section = (ROOT / "README.md").read_text().split(f"## {heading}", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.split("   #", 1)[0].rstrip() for line in block.splitlines() if line.strip()]


def lock_group() -> str:
    """The dependency group of pyproject.toml that pins the Airflow this suite runs (3.3 or 3.1)."""
    wanted = f'["apache-airflow=={version("apache-airflow")}"]'
    [group] = re.findall(rf"^(airflow-\w+) = {re.escape(wanted)}$", (ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    return group


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def user_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the two wheels and the Airflow this suite runs, installed with pip."""
    base = tmp_path_factory.mktemp("user")
    provider = build(ROOT, base / "provider").filename
    emulator = build(ROOT / "emulator", base / "emulator").filename
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    pins = base / "constraints.txt"
    exported = subprocess.run(
        [uv(), "export", "--frozen", "--no-default-groups", "--no-hashes", "--no-emit-project", "--no-emit-workspace",
         "--all-extras", "--group", lock_group()],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    pins.write_text(exported)
    venv = base / "venv"
    subprocess.run([uv(), "venv", "--quiet", "--python", sys.executable, str(venv)], env=env, check=True)
    subprocess.run(
        [uv(), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), "-c", str(pins),
         f"apache-airflow=={version('apache-airflow')}", f"{provider}[emulator]", str(emulator)],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return venv


def test_try_it_offline_as_the_readme_says(user_venv: Path, tmp_path: Path) -> None:
    lines = readme_block("Try it offline")
    assert lines[0].startswith("pip install") and "[emulator]" in lines[0]  # done by the fixture, with the wheels
    port = str(free_port())
    script = ["set -euo pipefail", "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT"]
    for line in lines[1:]:
        script.append(line.replace("8000", port))
        if line.startswith("runway-emulator"):  # a person waits for it to listen; so does the script
            listening = f"(exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null"
            script.append(f"for _ in $(seq 100); do {listening} && break; sleep 0.2; done")
    home, videos = tmp_path / "airflow", tmp_path / "videos"
    env = {
        "PATH": f"{user_venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "AIRFLOW_HOME": str(home),
        "RUNWAY_OUTPUT_DIR": str(videos),
        "RUNWAY_POLL_INTERVAL": "1",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    run = subprocess.run(["bash", "-c", "\n".join(script)], env=env, cwd=tmp_path, capture_output=True, text=True,
                         timeout=900)  # fmt: skip
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert sorted(p.name for p in (home / "dags").glob("*.py")) == sorted(p.name for p in (ROOT / "dags").glob("*.py"))
    sidecars = [json.loads(p.read_text()) for p in videos.glob("*.json") if not p.name.startswith("runway-batch")]
    pictures = sorted(p.name for p in (ROOT / "dags" / "assets").iterdir())
    made = sorted(Path(s["source_image"]).name for s in sidecars if s["endpoint"] == "image_to_video")
    assert len(list(videos.glob("*.mp4"))) == len(pictures) + 1  # the cat, then every bundled picture
    assert [name for name in made if name in pictures] == pictures
    summary = json.loads((videos / "runway-batch-summary.json").read_text())
    assert summary["outcomes"]["created"] == len(pictures) and summary["outcomes"]["failed"] == 0
