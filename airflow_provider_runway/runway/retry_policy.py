"""The one retry policy for every HTTP call the provider makes (sync hook and async trigger).

Decisions only, no I/O and no sleeping: the hook's two request loops ask ``RetryState`` what
to do after each failure, so sync and async calls retry identically.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

from airflow_provider_runway.runway.errors import (
    CreateOutcomeUnknownError,
    MalformedResponseError,
    RunwayAPIError,
    RunwayError,
    RunwayTransportError,
)

# A create answered with these surely created nothing, so it may be sent again.
CREATE_SAFE_STATUSES = frozenset({429, 502, 503})


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), else None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, honouring Retry-After up to a bound.

    Defaults follow Runway's own SDK (0.5 s doubling to 8 s, Retry-After up to 60 s) with a
    few more attempts, and Runway's request for up to 50 % random extra delay.
    """

    max_retries: int = 4
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    jitter: float = 0.5

    def backoff(self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
        """Delay before retry number ``attempt`` (1-based)."""
        base = min(self.max_delay, self.initial_delay * (2 ** (attempt - 1)))
        if retry_after is not None:
            base = max(base, min(retry_after, self.max_retry_after))
        return base * (1 + (rng or random).uniform(0, self.jitter))


def is_retryable(error: BaseException, *, is_create: bool) -> bool:
    """Whether repeating the request is both useful and safe.

    A create is repeated only when it surely created nothing: 429/502/503 or a connection
    that was never established. A read timeout or reset after sending may have created a
    paid task, so it is never repeated blindly.
    """
    if isinstance(error, RunwayAPIError):
        if is_create:
            return error.status_code in CREATE_SAFE_STATUSES
        return error.retryable  # 408, 429 and every 5xx (e.g. a proxy's 520-524), like the trigger
    if isinstance(error, RunwayTransportError):
        return not (is_create and error.sent)
    return False


def create_outcome_unknown(error: BaseException) -> bool:
    """Whether a failed create may still have created (and charged for) a task."""
    if isinstance(error, MalformedResponseError):
        return True
    if isinstance(error, RunwayTransportError):
        return error.sent
    # 500, 504, a proxy's 52x: the request may have been passed on before the failure.
    if not isinstance(error, RunwayAPIError):
        return False
    return error.status_code >= 500 and error.status_code not in CREATE_SAFE_STATUSES


def unknown_create_outcome(error: RunwayError) -> CreateOutcomeUnknownError:
    return CreateOutcomeUnknownError(
        f"The create request was sent but its answer was lost ({error}). A paid Runway task may exist; "
        "it was NOT retried automatically to avoid paying twice. Check your Runway/CometAPI dashboard "
        "(task list) before running this task again."
    )


@dataclass
class RetryState:
    """Tracks one call's attempts; ``next_delay`` returns seconds to wait, or None to give up."""

    policy: RetryPolicy
    is_create: bool = False
    attempts: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next_delay(self, error: RunwayError, retry_after: float | None = None) -> float | None:
        self.attempts += 1
        if self.attempts > self.policy.max_retries or not is_retryable(error, is_create=self.is_create):
            return None
        return self.policy.backoff(self.attempts, retry_after, self.rng)

    def delay_or_raise(self, error: RunwayError) -> float:
        """Seconds to wait before repeating the call, or raise: the one step both request loops take.

        A create whose outcome is unknown raises ``CreateOutcomeUnknownError`` (never paid twice);
        a call that should not or cannot be repeated again re-raises ``error``.
        """
        if self.is_create and create_outcome_unknown(error):
            raise unknown_create_outcome(error) from None
        delay = self.next_delay(error, getattr(error, "retry_after", None))
        if delay is None:
            raise error
        return delay
