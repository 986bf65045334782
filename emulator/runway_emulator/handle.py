"""A client for the admin endpoints, the same whether the emulator runs in a thread or a process.

Plain urllib (stdlib) with proxies disabled: the admin API is always on the loopback
address, and an ``http_proxy`` in the environment must never divert it elsewhere.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from runway_emulator.requestlog import fingerprint

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class EmulatorAdminError(RuntimeError):
    """An admin endpoint refused the call (bad fault JSON, unknown config field, unknown task)."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(f"emulator admin error {status}: {message}")


class EmulatorHandle:
    """What ``run_emulator`` yields: the base URL plus admin calls over HTTP."""

    def __init__(self, base_url: str, *, api_key: str | None = None, pid: int | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        # The pinned key (None: any key is accepted). Test-only value; never a real credential.
        self.api_key = api_key
        self.pid = pid

    def __repr__(self) -> str:
        return f"EmulatorHandle(base_url={self.base_url!r}, pid={self.pid!r})"

    @staticmethod
    def fingerprint(api_key: str, scheme: str = "Bearer") -> str:
        """How the request log shows ``Authorization: <scheme> <api_key>``."""
        return fingerprint(f"{scheme} {api_key}")

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def _call(self, method: str, path: str, body: Any = None, timeout: float = 10.0) -> Any:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.url(path), data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with _OPENER.open(request, timeout=timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                message = json.loads(raw).get("error", raw.decode("utf-8", "replace"))
            except (ValueError, AttributeError):
                message = raw.decode("utf-8", "replace")
            raise EmulatorAdminError(exc.code, str(message)) from None

    def health(self, timeout: float = 10.0) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/_emulator/health", timeout=timeout)
        return result

    def stats(self) -> dict[str, Any]:
        """Creates, polls, cancels, faults fired and every task's status (see admin.py)."""
        result: dict[str, Any] = self._call("GET", "/_emulator/stats")
        return result

    def requests(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Recent API requests, oldest first, with the Authorization header fingerprinted."""
        suffix = "" if limit is None else f"?limit={int(limit)}"
        result: list[dict[str, Any]] = self._call("GET", "/_emulator/requests" + suffix)["requests"]
        return result

    def clear_requests(self) -> None:
        self._call("DELETE", "/_emulator/requests")

    def faults(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/_emulator/faults")["faults"]
        return result

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        """Merge faults, e.g. ``set_faults(server_error={"count": 2, "status": 502, "route": "poll"})``."""
        result: dict[str, Any] = self._call("POST", "/_emulator/faults", faults)["faults"]
        return result

    def clear_faults(self) -> None:
        self._call("DELETE", "/_emulator/faults")

    def reset(self) -> None:
        """Forget tasks, stats and requests; restore the startup config and faults."""
        self._call("POST", "/_emulator/reset")

    def config(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/_emulator/config")["config"]
        return result

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change config at runtime, e.g. ``configure(generation_seconds=1, comet_poll_shape="bare")``."""
        result: dict[str, Any] = self._call("POST", "/_emulator/config", changes)["config"]
        return result

    def prices(self) -> dict[str, Any]:
        """The price table in force (``prices.json`` with any overrides laid over it)."""
        result: dict[str, Any] = self._call("GET", "/_emulator/prices")["prices"]
        return result

    def set_prices(self, overrides: dict[str, Any]) -> dict[str, Any]:
        """Lay price overrides over ``prices.json`` (replacing earlier overrides); returns the table
        in force. E.g. ``set_prices({"endpoints": {"image_to_video": {"gen4_turbo": {"per":
        "second", "credits": 7}}}})``; ``set_prices({})`` goes back to ``prices.json``."""
        result: dict[str, Any] = self._call("POST", "/_emulator/prices", overrides)["prices"]
        return result

    def cancel(self, task_id: str) -> dict[str, Any]:
        """Cancel a task from outside (as the web UI would); the API then reports CANCELLED."""
        return self._task_command(task_id, "cancel")

    def complete(self, task_id: str) -> dict[str, Any]:
        """Make a task SUCCEEDED now, whatever its generation time (409 if it already finished)."""
        return self._task_command(task_id, "complete")

    def fail(self, task_id: str, code: str, message: str | None = None) -> dict[str, Any]:
        """Make a task FAILED now with a Runway failure code (and ``failure`` text, else a default one)."""
        body: dict[str, Any] = {"code": code}
        if message is not None:
            body["message"] = message
        return self._task_command(task_id, "fail", body)

    def _task_command(self, task_id: str, command: str, body: Any = None) -> dict[str, Any]:
        """``{"task_id", "status_before", "status"}``; 404 unknown task, 409 already finished."""
        path = f"/_emulator/tasks/{urllib.parse.quote(task_id, safe='')}/{command}"
        result: dict[str, Any] = self._call("POST", path, body)
        return result

    def advance(self, seconds: float) -> dict[str, Any]:
        """Move the emulator's clock forward: tasks progress, output URLs age. ``{"now", "offset"}``."""
        result: dict[str, Any] = self._call("POST", "/_emulator/clock/advance", {"seconds": seconds})
        return result

    def clock(self) -> dict[str, Any]:
        """The emulator's time now and its offset from wall time: ``{"now", "offset"}``."""
        result: dict[str, Any] = self._call("GET", "/_emulator/clock")
        return result
