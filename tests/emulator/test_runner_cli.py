"""Ways to start the emulator: CLI process, run_emulator (thread and subprocess), pytest fixtures."""

from __future__ import annotations

import importlib.metadata
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from runway_emulator import EmulatorConfig, EmulatorHandle, run_emulator
from runway_emulator.cli import build_parser, config_from_args
from runway_emulator.pytest_plugin import CONN_ENV, TEST_API_KEY, RunwayTestConnection

from tests.emulator.support import RUNWAY, headers, runway_body

pytestmark = pytest.mark.integration


def test_cli_flags_build_config_and_faults() -> None:
    args = build_parser().parse_args(
        [
            "--port", "0", "--generation-seconds", "1.5", "--comet-poll-shape", "bare", "--no-comet-delete",
            "--comet-failure-detail", "reason_only",
            "--safety-word", "bad", "--safety-word", "worse", "--output-ttl", "60", "--max-concurrency", "3",
            "--rate-limit", "2", "--retry-after", "5", "--server-error", "3", "--server-error-status", "502",
            "--server-error-route", "poll", "--conn-reset", "1", "--conn-reset-when", "after",
            "--slow", "1", "--slow-delay", "0.5", "--malformed", "1", "--malformed-body", "html",
            "--unknown-status", "2", "--throttle-extra", "4", "--cancel-after", "9",
            "--prices", '{"fallback": {"video": {"per": "call", "credits": 2}}}',
        ]
    )  # fmt: skip
    config = config_from_args(args)
    assert (config.port, config.generation_seconds, config.comet_poll_shape) == (0, 1.5, "bare")
    assert (config.comet_delete_supported, config.safety_words) == (False, ("bad", "worse"))
    assert config.comet_failure_detail == "reason_only"
    assert (config.output_ttl_seconds, config.max_concurrency) == (60, 3)
    assert config.prices == {"fallback": {"video": {"per": "call", "credits": 2}}}
    assert config.faults == {
        "rate_limit": {"count": 2, "retry_after": 5.0},
        "server_error": {"count": 3, "status": 502, "route": "poll"},
        "reset": {"count": 1, "when": "after"},
        "slow": {"count": 1, "delay": 0.5},
        "malformed": {"count": 1, "body": "html"},
        "unknown_status": {"count": 2},
        "throttle_extra": {"seconds": 4.0},
        "external_cancel": {"after_seconds": 9.0},
    }


@pytest.mark.parametrize(
    ("flag", "value", "says"),
    [
        ("--faults", '{"explode": {}}', "unknown fault kind"),
        ("--prices", '{"fallback": {"video": {"per": "minute"}}}', "per"),
    ],
)
def test_cli_rejects_bad_fault_or_price_json(
    capsys: pytest.CaptureFixture[str], flag: str, value: str, says: str
) -> None:
    from runway_emulator.cli import main

    with pytest.raises(SystemExit) as caught:
        main([flag, value])
    assert caught.value.code == 2
    assert says in capsys.readouterr().err


def test_console_script_prints_url_and_stops_on_sigint() -> None:
    script = os.path.join(os.path.dirname(sys.executable), "runway-emulator")
    secret = "cli-key-never-printed"
    env = {**os.environ, "RUNWAY_EMULATOR_API_KEY": secret}
    proc = subprocess.Popen(
        [script, "--port", "0", "--verbose", "--generation-seconds", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 20)
        assert ready, "no ready line within 20 s"
        line = proc.stdout.readline()
        assert line.startswith("Runway emulator ready: http://127.0.0.1:")
        base_url = line.split()[-1]
        with requests.Session() as http:
            http.trust_env = False
            assert http.get(f"{base_url}/v1/organization", headers=headers("other")).status_code == 401
            assert http.get(f"{base_url}/v1/organization", headers=headers(secret)).status_code == 200
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert "GET /v1/organization -> 200" in err  # --verbose access log
    assert secret not in out + err and "Bearer" not in err


def test_module_entry_point_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "runway_emulator", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0
    assert "--throttle-extra" in result.stdout and "--comet-poll-shape" in result.stdout


def test_pytest_plugin_is_opt_in() -> None:
    # Installing the provider must not load the emulator into other projects' pytest runs.
    plugins = {ep.value for ep in importlib.metadata.entry_points(group="pytest11")}
    assert not any(value.startswith("airflow_provider_runway") for value in plugins), plugins


@pytest.mark.slow
def test_pytest_plugin_opt_in_with_p(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(
        "def test_uses_fixture(runway_connection):\n"
        "    assert runway_connection.emulator.stats()['creates']['count'] == 0\n"
    )
    base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path)]
    without = subprocess.run(base, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert without.returncode != 0 and "fixture 'runway_connection' not found" in without.stdout
    opted_in = subprocess.run(
        [*base, "-p", "runway_emulator.pytest_plugin"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert opted_in.returncode == 0, opted_in.stdout + opted_in.stderr


def test_run_emulator_in_a_subprocess() -> None:
    with run_emulator(subprocess=True, api_key="sub-key", generation_seconds=10, pending_seconds=0) as emu:
        assert emu.pid is not None and emu.pid != os.getpid()
        with requests.Session() as http:
            http.trust_env = False
            resp = http.post(emu.url(f"{RUNWAY}/image_to_video"), json=runway_body(), headers=headers("sub-key"))
            task_id = resp.json()["id"]
            emu.set_faults(server_error={"count": 1, "route": "poll"})
            assert http.get(emu.url(f"/v1/tasks/{task_id}"), headers=headers("sub-key")).status_code == 503
            emu.advance(11)  # the child's clock: done, without waiting
            task = http.get(emu.url(f"/v1/tasks/{task_id}"), headers=headers("sub-key")).json()
        assert task["status"] == "SUCCEEDED"
        assert emu.stats()["creates"]["count"] == 1
        assert emu.requests()[0]["auth_matches_pinned_key"] is True
        pid = emu.pid
    with pytest.raises(ProcessLookupError):
        for _ in range(50):
            os.kill(pid, 0)  # gone (reaped) once the context exits
            time.sleep(0.1)


def test_run_emulator_thread_mode_with_explicit_config() -> None:
    config = EmulatorConfig(port=0, comet_poll_shape="bare", faults={"rate_limit": {"count": 1}})
    with run_emulator(config) as emu:
        assert emu.pid is None
        assert emu.faults()["rate_limit"]["remaining"] == 1
        emu.clear_faults()
        emu.reset()  # restores the startup faults
        assert emu.faults()["rate_limit"]["remaining"] == 1


def test_runway_connection_default_is_cometapi(runway_connection: RunwayTestConnection) -> None:
    value = json.loads(os.environ[CONN_ENV])
    assert value == {
        "conn_type": "runway",
        "password": TEST_API_KEY,
        "host": runway_connection.base_url,
        "extra": {"flavor": "cometapi"},
    }
    assert runway_connection.emulator.stats()["creates"]["count"] == 0


@pytest.mark.parametrize("runway_connection", ["runway", {"flavor": "runway", "timeout": 5}], indirect=True)
def test_runway_connection_parametrised(runway_connection: RunwayTestConnection) -> None:
    extra = json.loads(os.environ[CONN_ENV])["extra"]
    assert extra["flavor"] == "runway" == runway_connection.flavor


@pytest.mark.runway_connection(flavor="runway", runway_version="2024-11-06")
def test_runway_connection_marker(runway_connection: RunwayTestConnection) -> None:
    assert json.loads(os.environ[CONN_ENV])["extra"] == {"flavor": "runway", "runway_version": "2024-11-06"}


def test_each_test_starts_clean(runway_emulator: EmulatorHandle) -> None:
    stats = runway_emulator.stats()
    assert stats["tasks"] == {} and runway_emulator.requests() == [] and stats["faults"] == {}
