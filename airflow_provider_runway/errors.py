"""Exceptions raised by the provider. Plain Python: no Airflow, no HTTP stack.

Every message is built from the API's answer and our own words only; the API key is never
part of any of them (request headers are never formatted into an error).
"""

from __future__ import annotations


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
    """The Airflow connection cannot be used as configured."""


class RunwayAPIError(RunwayError):
    """The API answered with an error status.

    ``retryable`` means a later identical request may succeed (408/429/5xx).
    """

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
        super().__init__(f"Runway API error {status_code}{where}: {message}")

    @property
    def retryable(self) -> bool:
        return self.status_code in (408, 429) or self.status_code >= 500


class RunwayAuthError(RunwayAPIError):
    """401/403: the API key is wrong or lacks access."""


class RunwayTaskNotVisibleError(RunwayAPIError):
    """CometAPI's ``task_not_exist``: right after create this means "not visible yet"."""


class RunwayTaskNotFoundError(RunwayAPIError):
    """404 for a task id: the task is unknown (or was deleted)."""


class RunwayTransportError(RunwayError):
    """The request did not get a usable HTTP answer (refused, reset, timed out)."""

    def __init__(self, message: str, *, sent: bool) -> None:
        # ``sent`` is False only when the request surely never reached the server.
        self.sent = sent
        super().__init__(message)


class MalformedResponseError(RunwayError):
    """The API answered 2xx with a body we cannot understand (HTML page, empty, truncated JSON)."""


class CreateOutcomeUnknownError(RunwayError):
    """A create request was sent but its answer was lost: a paid task may exist.

    Deliberately not retried: retrying could pay twice.
    """
