"""RunwayHook: the only place the provider speaks HTTP.

Sync calls share one pooled ``requests.Session`` per hook; async calls (used by the trigger)
share one ``httpx.AsyncClient`` per event loop across every trigger in the triggerer, so a
poll never pays a new TLS handshake. Both paths go through the same response reading and the
same retry decisions (``airflow_provider_runway.retry``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
import requests
from airflow.sdk import BaseHook

from airflow_provider_runway.connection_form import conn_fields, ui_field_behaviour
from airflow_provider_runway.errors import (
    CreateOutcomeUnknownError,
    MalformedResponseError,
    RunwayAPIError,
    RunwayAuthError,
    RunwayError,
    RunwayTaskNotFoundError,
    RunwayTaskNotVisibleError,
    RunwayTransportError,
)
from airflow_provider_runway.models import RUNWAY, ValidatedBody, validate_body
from airflow_provider_runway.retry import CREATE_SAFE_STATUSES, RetryPolicy, RetryState, parse_retry_after
from airflow_provider_runway.settings import ClientSettings, settings_from_connection
from airflow_provider_runway.tasks import (
    RunwayTask,
    decode_json,
    error_message,
    is_task_not_exist,
    parse_created_id,
    parse_task,
)

if TYPE_CHECKING:
    from airflow.sdk import Connection

# One pooled async client per event loop, shared by all triggers running on that loop.
_ASYNC_CLIENTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = weakref.WeakKeyDictionary()
_CREATE_PATH = "image_to_video"


def _shared_async_client() -> httpx.AsyncClient:
    loop = asyncio.get_running_loop()
    client = _ASYNC_CLIENTS.get(loop)
    if client is None or client.is_closed:
        client = httpx.AsyncClient(
            follow_redirects=False,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )
        _ASYNC_CLIENTS[loop] = client
    return client


def _task_path(task_id: str) -> str:
    if not isinstance(task_id, str) or not task_id.strip():
        raise ValueError(f"runway_task_id must be a non-empty string, got {task_id!r}")
    return f"tasks/{quote(task_id.strip(), safe='')}"


def read_response(status: int, text: str, headers: Mapping[str, str], method: str, path: str) -> Any:
    """Turn one HTTP answer into JSON or the matching RunwayError (shared by sync and async)."""
    if 200 <= status < 300:
        return decode_json(text) if status != 204 else None
    message = error_message(text)
    kwargs: dict[str, Any] = {"method": method, "path": path}
    if is_task_not_exist(status, text):
        raise RunwayTaskNotVisibleError(status, message, **kwargs)
    if status in (401, 403):
        raise RunwayAuthError(status, f"API key rejected: {message}", **kwargs)
    if 300 <= status < 400:
        where = headers.get("location", "elsewhere")
        raise RunwayAPIError(status, f"redirected to {where}: wrong host or flavor?", **kwargs)
    if status == 404 and path.rsplit("/", 2)[-2:-1] == ["tasks"] and text.lstrip().startswith("{"):
        # Only the API's own JSON 404 means "no such task"; an HTML 404 page is a wrong host.
        raise RunwayTaskNotFoundError(status, message, **kwargs)
    raise RunwayAPIError(status, message, retry_after=parse_retry_after(headers.get("retry-after")), **kwargs)


def _create_outcome_unknown(error: RunwayError) -> bool:
    """Whether a failed create may still have created (and charged for) a task."""
    if isinstance(error, MalformedResponseError):
        return True
    if isinstance(error, RunwayTransportError):
        return error.sent
    # 500, 504, a proxy's 52x: the request may have been passed on before the failure.
    if not isinstance(error, RunwayAPIError):
        return False
    return error.status_code >= 500 and error.status_code not in CREATE_SAFE_STATUSES


def _unknown_create_outcome(error: RunwayError) -> CreateOutcomeUnknownError:
    return CreateOutcomeUnknownError(
        f"The create request was sent but its answer was lost ({error}). A paid Runway task may exist; "
        "it was NOT retried automatically to avoid paying twice. Check your Runway/CometAPI dashboard "
        "(task list) before running this task again."
    )


def _write_stream(target: str, chunks: Any) -> int:
    if "://" in target:
        from airflow.sdk import ObjectStoragePath

        path: Any = ObjectStoragePath(target)
    else:
        from pathlib import Path

        path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with path.open("wb") as handle:
        for chunk in chunks:
            handle.write(chunk)
            written += len(chunk)
    return written


class RunwayHook(BaseHook):
    """Talk to Runway's image-to-video API through CometAPI (default) or Runway directly.

    :param runway_conn_id: connection of type ``runway``: password = API key; extra ``flavor``
        (``cometapi``|``runway``), ``runway_version``, ``timeout``; optional host.
    :param retry_policy: backoff for transient failures; one policy for every call.
    """

    conn_name_attr = "runway_conn_id"
    default_conn_name = "runway_default"
    conn_type = "runway"
    hook_name = "Runway"

    def __init__(self, runway_conn_id: str = default_conn_name, retry_policy: RetryPolicy | None = None) -> None:
        super().__init__()
        self.runway_conn_id = runway_conn_id
        self.retry_policy = retry_policy or RetryPolicy()
        self._settings: ClientSettings | None = None
        self._session: requests.Session | None = None

    # -- connection ---------------------------------------------------------------------------

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Hidden fields, labels and placeholders as Airflow 3.1 reads them (``hidden_fields`` spelling)."""
        return ui_field_behaviour()

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """The extra fields as wtforms fields, for Airflow 3.1 (3.2+ reads ``conn-fields`` instead).

        Airflow 3.1's API server substitutes stand-ins for wtforms and flask_appbuilder, turning
        label, description, default and an ``any_of`` validator into the field's JSON schema.
        """
        try:
            from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
            from wtforms import StringField
            from wtforms.validators import Optional, any_of
        except ImportError:  # no web UI in this process: nothing reads the widgets
            return {}
        widgets: dict[str, Any] = {}
        for name, spec in conn_fields().items():
            schema = spec["schema"]
            validators = [Optional()]
            if "enum" in schema:
                validators.append(any_of(schema["enum"]))
            widgets[name] = StringField(
                spec["label"],
                validators=validators,
                widget=BS3TextFieldWidget(),
                description=spec["description"],
                default=schema.get("default"),
            )
        return widgets

    @staticmethod
    def _settings_from(conn: Connection) -> ClientSettings:
        if conn.password:
            # Airflow masks passwords it reads itself; this also covers hooks built from other sources.
            from airflow.sdk.log import mask_secret

            mask_secret(conn.password)
        return settings_from_connection(
            conn.conn_id,
            host=conn.host,
            password=conn.password,
            extra=conn.extra,
            schema=conn.schema,
            port=conn.port,
        )

    @property
    def settings(self) -> ClientSettings:
        if self._settings is None:
            self._settings = self._settings_from(self.get_connection(self.runway_conn_id))
        return self._settings

    async def aget_settings(self) -> ClientSettings:
        if self._settings is None:
            self._settings = self._settings_from(await self.aget_connection(self.runway_conn_id))
        return self._settings

    @property
    def flavor(self) -> str:
        return self.settings.flavor.name

    def get_conn(self) -> requests.Session:
        """The pooled session (created once per hook)."""
        if self._session is None:
            self._session = requests.Session()
            adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
            self._session.mount("https://", adapter)
            self._session.mount("http://", adapter)
        return self._session

    # -- sync calls -----------------------------------------------------------------------------

    def _send(self, method: str, suffix: str, body: Mapping[str, Any] | None) -> Any:
        settings = self.settings
        url = settings.url(suffix)
        path = settings.flavor.path(suffix)
        timeout = (min(10.0, settings.timeout), settings.timeout)
        try:
            response = self.get_conn().request(
                method,
                url,
                headers=settings.headers(with_body=body is not None),
                data=None if body is None else json.dumps(body),
                timeout=timeout,
                allow_redirects=False,
            )
        except (requests.exceptions.ConnectTimeout, requests.exceptions.SSLError) as exc:
            raise RunwayTransportError(
                f"cannot connect to {settings.base_url}: {type(exc).__name__}", sent=False
            ) from None
        except requests.exceptions.ConnectionError as exc:
            refused = "NewConnectionError" in repr(exc) or "NameResolutionError" in repr(exc)
            raise RunwayTransportError(
                f"{method} {path}: connection {'refused' if refused else 'lost'} ({type(exc).__name__})",
                sent=not refused,
            ) from None
        except requests.exceptions.Timeout:
            raise RunwayTransportError(f"{method} {path}: no answer within {settings.timeout:g} s", sent=True) from None
        return read_response(response.status_code, response.text, response.headers, method, path)

    def _request(self, method: str, suffix: str, body: Mapping[str, Any] | None = None) -> Any:
        is_create = method == "POST" and suffix == _CREATE_PATH
        state = RetryState(self.retry_policy, is_create=is_create)
        while True:
            try:
                return self._send(method, suffix, body)
            except (RunwayAPIError, RunwayTransportError, MalformedResponseError) as err:
                if is_create and _create_outcome_unknown(err):
                    raise _unknown_create_outcome(err) from None
                delay = state.next_delay(err, getattr(err, "retry_after", None))
                if delay is None:
                    raise
                self.log.warning(
                    "Runway %s %s failed (%s); retry %d in %.1f s", method, suffix, err, state.attempts, delay
                )
                time.sleep(delay)

    def submit_image_to_video(self, body: Mapping[str, Any] | ValidatedBody) -> str:
        """Create an image-to-video task (a paid call) and return its Runway task id.

        The body (camelCase, as the API documents it) is validated first, so bad input never
        costs a request.
        """
        validated = body if isinstance(body, ValidatedBody) else validate_body(body, self.flavor)
        for warning in validated.warnings:
            self.log.warning("%s", warning)
        task_id = parse_created_id(self._request("POST", _CREATE_PATH, validated.body))
        self.log.info("Created Runway task %s (model %s)", task_id, validated.body.get("model"))
        return task_id

    def get_task(self, task_id: str) -> RunwayTask:
        """One poll of a task, normalised whatever shape (bare or CometAPI envelope) came back."""
        return parse_task(self._request("GET", _task_path(task_id)), task_id)

    def cancel_task(self, task_id: str) -> bool:
        """Cancel a running task (or delete a finished one). False when the API cannot or it is gone."""
        try:
            self._request("DELETE", _task_path(task_id))
        except RunwayAPIError as err:
            return self._cancel_declined(task_id, err)
        self.log.info("Cancelled Runway task %s", task_id)
        return True

    def _cancel_declined(self, task_id: str, err: RunwayAPIError) -> bool:
        """404/405/task_not_exist: nothing to cancel (or CometAPI cannot); anything else is an error."""
        if err.status_code in (404, 405) or isinstance(err, RunwayTaskNotVisibleError):
            self.log.warning("Runway task %s was not cancelled: %s", task_id, err)
            return False
        raise err

    def get_organization(self) -> dict[str, Any]:
        """Account details (credit balance, limits). Runway flavor only."""
        if self.flavor != RUNWAY:
            raise RunwayError("get_organization needs flavor 'runway': CometAPI has no account endpoint")
        result = self._request("GET", "organization")
        return dict(result) if isinstance(result, Mapping) else {}

    def download_output(self, url: str, target: str, chunk_size: int = 1 << 20) -> int:
        """Stream a task's output video to ``target`` (a local path or any fsspec URL such as s3://).

        Output URLs are pre-signed and expire within 24-48 h; no API key is sent with them.
        Returns the number of bytes written.
        """
        try:
            response = self.get_conn().get(url, stream=True, timeout=(10.0, self.settings.timeout))
        except requests.exceptions.RequestException as exc:
            raise RunwayTransportError(f"download of the output failed: {type(exc).__name__}", sent=True) from None
        with response:
            if response.status_code in (403, 404, 410):
                raise RunwayAPIError(response.status_code, "output URL expired or not found; outputs live 24-48 h")
            if response.status_code >= 400:
                raise RunwayAPIError(response.status_code, "output download failed")
            return _write_stream(target, response.iter_content(chunk_size))

    def test_connection(self) -> tuple[bool, str]:
        """Call the API for real and say plainly what is wrong: key, host or flavor."""
        try:
            settings = self.settings
            if settings.flavor.name == RUNWAY:
                org = self.get_organization()
                return (
                    True,
                    f"Connected to Runway at {settings.base_url}; credit balance {org.get('creditBalance')}",
                )
            # A made-up id must come back as "not found": then key and path are right.
            with contextlib.suppress(RunwayTaskNotVisibleError, RunwayTaskNotFoundError):
                self.get_task("00000000-0000-0000-0000-000000000000")
            return True, f"Connected to CometAPI at {settings.base_url}"
        except RunwayAuthError as err:
            return False, f"The API key was rejected ({err.status_code}): {err.api_message}"
        except RunwayAPIError as err:
            hint = "wrong host or flavor?" if err.status_code in (301, 302, 404, 405) else "API error"
            return False, f"{hint} {err}"
        except MalformedResponseError as err:
            return False, f"The host did not answer like the Runway API (wrong host or flavor?): {err}"
        except (RunwayError, ValueError) as err:
            return False, str(err)

    # -- async calls (trigger) ----------------------------------------------------------------

    async def _asend(self, method: str, suffix: str) -> Any:
        settings = await self.aget_settings()
        path = settings.flavor.path(suffix)
        timeout = httpx.Timeout(settings.timeout, connect=min(10.0, settings.timeout))
        try:
            response = await _shared_async_client().request(
                method, settings.url(suffix), headers=settings.headers(), timeout=timeout
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise RunwayTransportError(f"{method} {path}: cannot connect ({type(exc).__name__})", sent=False) from None
        except httpx.TimeoutException:
            raise RunwayTransportError(f"{method} {path}: no answer within {settings.timeout:g} s", sent=True) from None
        except httpx.TransportError as exc:
            raise RunwayTransportError(f"{method} {path}: connection lost ({type(exc).__name__})", sent=True) from None
        return read_response(response.status_code, response.text, response.headers, method, path)

    async def _arequest(self, method: str, suffix: str) -> Any:
        state = RetryState(self.retry_policy)
        while True:
            try:
                return await self._asend(method, suffix)
            except (RunwayAPIError, RunwayTransportError) as err:
                delay = state.next_delay(err, getattr(err, "retry_after", None))
                if delay is None:
                    raise
                self.log.warning(
                    "Runway %s %s failed (%s); retry %d in %.1f s", method, suffix, err, state.attempts, delay
                )
                await asyncio.sleep(delay)

    async def aget_task(self, task_id: str) -> RunwayTask:
        """Async poll for the trigger; same normalisation as ``get_task``."""
        return parse_task(await self._arequest("GET", _task_path(task_id)), task_id)

    async def acancel_task(self, task_id: str) -> bool:
        try:
            await self._arequest("DELETE", _task_path(task_id))
        except RunwayAPIError as err:
            return self._cancel_declined(task_id, err)
        self.log.info("Cancelled Runway task %s", task_id)
        return True
