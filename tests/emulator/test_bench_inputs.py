"""The benchmarks' own requests stay valid as the emulator's checks follow the API."""

from __future__ import annotations

import importlib.util
import json
import urllib.request
from types import ModuleType

from runway_emulator import run_emulator

from tests.paths import ROOT

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _bench(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_emulator_throughput_bench_creates_its_task() -> None:
    bench = _bench("emulator_throughput")
    api_key = bench.HEADERS["Authorization"].removeprefix("Bearer ")
    with run_emulator(api_key=api_key) as emulator:
        request = urllib.request.Request(
            emulator.base_url + bench.CREATE_PATH,
            data=json.dumps(bench.CREATE_BODY).encode(),
            method="POST",
            headers={**bench.HEADERS, "Content-Type": "application/json"},
        )
        with _NO_PROXY.open(request, timeout=10) as response:
            assert response.status == 200
            assert json.loads(response.read())["id"]
