"""Exceptions raised by the provider. Plain Python: no Airflow, no HTTP stack.

Every message is built from the API's answer and our own words only; the API key is never
part of any of them (request headers are never formatted into an error).
"""

from __future__ import annotations

import enum


class RunwayError(Exception):
    """Base class for everything this provider raises about Runway."""


class InvalidRequestError(RunwayError, ValueError):
    """A parameter would be refused by the API; raised before any paid call.

    ``field`` is the operator parameter (snake_case); the message also names the API field.
    """

    def __init__(self, field: str, message: str, *, label: str | None = None) -> None:
        self.field = field
        super().__init__(f"{label or field}: {message}")


class ConnectionConfigError(RunwayError, ValueError):
    """The Airflow connection cannot be used as configured.

    ``problem`` is the message without the connection id: Airflow's connection Test runs on a
    temporary, randomly named copy of the connection, whose id would only confuse the user.
    """

    def __init__(self, problem: str, *, conn_id: str | None = None) -> None:
        self.problem = problem
        self.conn_id = conn_id
        super().__init__(f"connection {conn_id!r}: {problem}" if conn_id else problem)


class RunwayAPIError(RunwayError):
    """The API answered with an error status.

    ``retryable`` means a later identical request may succeed (408/429/5xx).
    """

    prefix = ""

    def __init__(
        self,
        status_code: int,
        message: str,
        *,
        method: str = "",
        path: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.status_code = status_code
        self.retry_after = retry_after
        self.api_message = message
        self.method = method
        self.path = path
        where = f" {method} {path}" if method else ""
        super().__init__(f"Runway API error {status_code}{where}: {self.prefix}{message}")

    @property
    def retryable(self) -> bool:
        return self.status_code in (408, 429) or self.status_code >= 500


class RunwayAuthError(RunwayAPIError):
    """401/403: the API key is wrong or lacks access. ``api_message`` is the API's own words."""

    prefix = "API key rejected: "


class RunwayTaskNotVisibleError(RunwayAPIError):
    """CometAPI's ``task_not_exist``: right after create this means "not visible yet"."""


class RunwayTaskNotFoundError(RunwayAPIError):
    """404 for a task id: the task is unknown (or was deleted)."""


class OutputUnavailableError(RunwayAPIError):
    """403/404/410 from a signed output URL: it expired (24-48 h) or the output is gone."""


class TransportFailure(enum.Enum):
    """Why a request got no HTTP answer, decided from the exception's type, never its text.

    ``sent`` is False when the request surely never reached the server (no connection was
    made), which is what makes repeating a paid create safe.
    """

    DNS = ("cannot resolve host {host}", False)
    REFUSED = ("connection refused by {host}", False)
    UNREACHABLE = ("cannot connect to {host}", False)
    CONNECT_TIMEOUT = ("no connection to {host} within {connect_timeout:g} s", False)
    TLS = ("TLS handshake with {host} failed", False)
    READ_TIMEOUT = ("no answer within {timeout:g} s", True)
    LOST = ("connection lost", True)

    def __init__(self, template: str, sent: bool) -> None:
        self.template = template
        self.sent = sent


class RunwayTransportError(RunwayError):
    """The request did not get a usable HTTP answer (refused, reset, timed out)."""

    def __init__(
        self, message: str, *, sent: bool, failure: TransportFailure | None = None, reason: str | None = None
    ) -> None:
        # ``sent`` is False only when the request surely never reached the server.
        self.sent = sent
        self.failure = failure
        self.reason = reason or message  # what went wrong, without the request line
        super().__init__(message)

    @classmethod
    def of(
        cls,
        failure: TransportFailure,
        where: str,
        *,
        host: str,
        timeout: float,
        connect_timeout: float,
        detail: str = "",
    ) -> RunwayTransportError:
        """One wording for both HTTP stacks: ``GET /v1/tasks/x: cannot resolve host api.example``."""
        reason = failure.template.format(host=host, timeout=timeout, connect_timeout=connect_timeout)
        reason += f" ({detail})" if detail else ""
        return cls(f"{where}: {reason}", sent=failure.sent, failure=failure, reason=reason)


class MalformedResponseError(RunwayError):
    """The API answered 2xx with a body we cannot understand (HTML page, empty, truncated JSON)."""


class CreateOutcomeUnknownError(RunwayError):
    """A create request was sent but its answer was lost: a paid task may exist.

    Deliberately not retried: retrying could pay twice.
    """


class FlavorNotSupportedError(RunwayError):
    """The call exists only on the other flavor (e.g. uploads and usage: Runway direct only)."""
