"""Unit tests for the retry policy: backoff, jitter, Retry-After, and what may be retried."""

from __future__ import annotations

import random
from datetime import datetime, timezone
from email.utils import format_datetime, formatdate

import pytest

from airflow_provider_runway.runway.errors import (
    CreateOutcomeUnknownError,
    InvalidRequestError,
    MalformedResponseError,
    RunwayAPIError,
    RunwayAuthError,
    RunwayError,
    RunwayTaskNotFoundError,
    RunwayTaskNotVisibleError,
    RunwayTransportError,
)
from airflow_provider_runway.runway.retry_policy import (
    RetryPolicy,
    RetryState,
    create_outcome_unknown,
    is_retryable,
    parse_retry_after,
)

NO_JITTER = RetryPolicy(jitter=0.0)


def api_error(status: int) -> RunwayAPIError:
    return RunwayAPIError(status, "boom", method="GET", path="/v1/tasks/x")


# --------------------------------------------------------------------------- defaults and backoff


def test_default_policy_follows_runway_sdk_with_half_jitter() -> None:
    policy = RetryPolicy()
    assert policy.initial_delay == 0.5
    assert policy.max_delay == 8.0
    assert policy.max_retry_after == 60.0
    assert policy.jitter == 0.5
    assert policy.max_retries >= 2


@pytest.mark.parametrize(
    ("attempt", "expected"),
    [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (6, 8.0), (10, 8.0), (50, 8.0)],
)
def test_backoff_doubles_from_half_a_second_up_to_eight(attempt: int, expected: float) -> None:
    assert NO_JITTER.backoff(attempt) == expected


@pytest.mark.parametrize(("attempt", "expected"), [(1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (5, 5.0)])
def test_backoff_respects_a_custom_policy(attempt: int, expected: float) -> None:
    assert RetryPolicy(initial_delay=1.0, max_delay=5.0, jitter=0.0).backoff(attempt) == expected


@pytest.mark.parametrize(
    ("attempt", "retry_after", "expected"),
    [
        (1, 3.0, 3.0),  # Retry-After longer than the backoff: honoured
        (1, 0.0, 0.5),  # shorter: the backoff wins
        (3, 0.1, 2.0),
        (1, 59.9, 59.9),
        (1, 60.0, 60.0),
        (1, 60.1, 60.0),  # capped at max_retry_after
        (1, 3600.0, 60.0),
        (5, float("inf"), 60.0),
        (2, None, 1.0),
    ],
)
def test_backoff_honours_retry_after_up_to_the_cap(attempt: int, retry_after: float | None, expected: float) -> None:
    assert NO_JITTER.backoff(attempt, retry_after) == pytest.approx(expected)


def test_retry_after_cap_is_configurable() -> None:
    assert RetryPolicy(max_retry_after=10.0, jitter=0.0).backoff(1, 30.0) == 10.0


@pytest.mark.parametrize("attempt", [1, 2, 3, 4, 5, 8])
def test_jitter_adds_at_most_half_the_delay(attempt: int) -> None:
    policy = RetryPolicy()
    base = NO_JITTER.backoff(attempt)
    rng = random.Random(1234 + attempt)
    delays = [policy.backoff(attempt, rng=rng) for _ in range(500)]
    assert all(base <= d <= base * 1.5 for d in delays)
    # Real jitter: the samples spread over (almost) the whole allowed range.
    assert min(delays) < base * 1.05
    assert max(delays) > base * 1.45
    assert len(set(delays)) > 400


def test_jitter_applies_on_top_of_a_capped_retry_after() -> None:
    rng = random.Random(99)
    delays = [RetryPolicy().backoff(1, 120.0, rng) for _ in range(300)]
    assert all(60.0 <= d <= 90.0 for d in delays)
    assert max(delays) > 85.0


def test_jitter_is_reproducible_with_a_seeded_rng() -> None:
    policy = RetryPolicy()
    first = [policy.backoff(a, rng=random.Random(7)) for a in range(1, 6)]
    second = [policy.backoff(a, rng=random.Random(7)) for a in range(1, 6)]
    assert first == second
    expected_factor = 1 + random.Random(7).uniform(0, 0.5)
    assert policy.backoff(2, rng=random.Random(7)) == pytest.approx(1.0 * expected_factor)


def test_jitter_fraction_is_configurable() -> None:
    rng = random.Random(5)
    delays = [RetryPolicy(jitter=0.1).backoff(2, rng=rng) for _ in range(200)]
    assert all(1.0 <= d <= 1.1 for d in delays)


def test_backoff_without_an_rng_uses_the_module_random_within_bounds() -> None:
    delays = [RetryPolicy().backoff(3) for _ in range(50)]
    assert all(2.0 <= d <= 3.0 for d in delays)


# --------------------------------------------------------------------------- is_retryable


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (429, True),
        (502, True),
        (503, True),
        # A create may have gone through on these: never repeat it blindly (it costs credits).
        (408, False),
        (500, False),
        (504, False),
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (409, False),
        (422, False),
    ],
)
def test_create_is_retried_only_when_it_surely_created_nothing(status: int, expected: bool) -> None:
    assert is_retryable(api_error(status), is_create=True) is expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (408, True),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (504, True),
        # Spec: "Retry only 408, 429, 5xx" -- Cloudflare-style 52x answers from the proxy included.
        (520, True),
        (522, True),
        (524, True),
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (405, False),
        (409, False),
        (422, False),
    ],
)
def test_poll_is_retried_on_408_429_and_5xx(status: int, expected: bool) -> None:
    assert is_retryable(api_error(status), is_create=False) is expected


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504, 520, 599])
def test_poll_retry_agrees_with_the_error_retryable_flag(status: int) -> None:
    error = api_error(status)
    assert error.retryable
    assert is_retryable(error, is_create=False) is error.retryable


@pytest.mark.parametrize(
    "error",
    [
        RunwayAuthError(401, "bad key"),
        RunwayTaskNotVisibleError(400, "task_not_exist"),
        RunwayTaskNotFoundError(404, "not found"),
    ],
)
@pytest.mark.parametrize("is_create", [True, False])
def test_api_error_subclasses_with_client_statuses_are_not_retried(error: RunwayAPIError, is_create: bool) -> None:
    assert is_retryable(error, is_create=is_create) is False


@pytest.mark.parametrize(
    ("sent", "is_create", "expected"),
    [
        (False, True, True),  # connection refused: nothing reached the server
        (True, True, False),  # read timeout after sending: a paid task may exist
        (False, False, True),
        (True, False, True),  # a poll is free and idempotent
    ],
)
def test_transport_errors(sent: bool, is_create: bool, expected: bool) -> None:
    error = RunwayTransportError("timed out", sent=sent)
    assert is_retryable(error, is_create=is_create) is expected


@pytest.mark.parametrize(
    "error",
    [
        MalformedResponseError("<html>"),
        CreateOutcomeUnknownError("lost"),
        InvalidRequestError("seed", "bad"),
        RunwayError("generic"),
        ValueError("x"),
        TimeoutError("x"),
        ConnectionError("x"),
    ],
)
@pytest.mark.parametrize("is_create", [True, False])
def test_other_errors_are_not_retried(error: BaseException, is_create: bool) -> None:
    assert is_retryable(error, is_create=is_create) is False


# --------------------------------------------------------------------------- RetryState


def test_state_retries_up_to_max_retries_then_gives_up() -> None:
    state = RetryState(RetryPolicy(max_retries=3, jitter=0.0))
    delays = [state.next_delay(api_error(503)) for _ in range(5)]
    assert delays == [0.5, 1.0, 2.0, None, None]
    assert state.attempts == 5


def test_state_with_zero_retries_never_retries() -> None:
    assert RetryState(RetryPolicy(max_retries=0)).next_delay(api_error(503)) is None


def test_state_gives_up_at_once_on_a_non_retryable_error() -> None:
    state = RetryState(NO_JITTER)
    assert state.next_delay(api_error(503)) == 0.5
    assert state.next_delay(api_error(400)) is None


def test_create_state_never_retries_a_sent_request() -> None:
    state = RetryState(NO_JITTER, is_create=True)
    assert state.next_delay(RunwayTransportError("read timeout", sent=True)) is None


def test_create_state_retries_an_unsent_request_and_a_429() -> None:
    state = RetryState(NO_JITTER, is_create=True)
    assert state.next_delay(RunwayTransportError("connection refused", sent=False)) == 0.5
    assert state.next_delay(api_error(429)) == 1.0
    assert state.next_delay(api_error(500)) is None


def test_poll_state_honours_retry_after() -> None:
    state = RetryState(NO_JITTER)
    assert state.next_delay(api_error(429), retry_after=12.0) == 12.0
    assert state.next_delay(api_error(429), retry_after=500.0) == 60.0


def test_state_with_seeded_rng_is_reproducible_and_bounded() -> None:
    policy = RetryPolicy(max_retries=4)
    a = RetryState(policy, rng=random.Random(42))
    b = RetryState(policy, rng=random.Random(42))
    seq_a = [a.next_delay(api_error(502)) for _ in range(4)]
    seq_b = [b.next_delay(api_error(502)) for _ in range(4)]
    assert seq_a == seq_b
    reference = random.Random(42)
    expected = [base * (1 + reference.uniform(0, 0.5)) for base in (0.5, 1.0, 2.0, 4.0)]
    assert seq_a == pytest.approx(expected)


def test_states_get_independent_default_rngs() -> None:
    a, b = RetryState(RetryPolicy()), RetryState(RetryPolicy())
    assert isinstance(a.rng, random.Random)
    assert a.rng is not b.rng


# --------------------------------------------------------------------------- creates: never pay twice


@pytest.mark.parametrize(
    ("error", "unknown"),
    [
        (RunwayTransportError("read timeout", sent=True), True),
        (RunwayTransportError("refused", sent=False), False),
        (MalformedResponseError("<html>"), True),
        (api_error(500), True),
        (api_error(504), True),
        (api_error(520), True),
        (api_error(502), False),
        (api_error(503), False),
        (api_error(429), False),
        (api_error(400), False),
        (RunwayAuthError(401, "bad key"), False),
        (ValueError("x"), False),
    ],
)
def test_create_outcome_unknown(error: BaseException, unknown: bool) -> None:
    assert create_outcome_unknown(error) is unknown


@pytest.mark.parametrize(
    "error", [RunwayTransportError("reset", sent=True), api_error(500), MalformedResponseError("x")]
)
def test_delay_or_raise_turns_an_unknown_create_outcome_into_its_own_error(error: RunwayError) -> None:
    with pytest.raises(CreateOutcomeUnknownError, match="NOT retried automatically to avoid paying twice"):
        RetryState(NO_JITTER, is_create=True).delay_or_raise(error)


def test_delay_or_raise_waits_for_what_surely_created_nothing_then_gives_up() -> None:
    state = RetryState(RetryPolicy(max_retries=2, jitter=0.0), is_create=True)
    assert state.delay_or_raise(api_error(503)) == 0.5
    assert state.delay_or_raise(RunwayTransportError("refused", sent=False)) == 1.0
    last = api_error(502)
    with pytest.raises(RunwayAPIError) as caught:
        state.delay_or_raise(last)
    assert caught.value is last


def test_delay_or_raise_on_a_poll_retries_what_a_create_would_not() -> None:
    state = RetryState(NO_JITTER)
    assert state.delay_or_raise(RunwayTransportError("read timeout", sent=True)) == 0.5
    assert state.delay_or_raise(api_error(500)) == 1.0
    not_retryable = api_error(400)
    with pytest.raises(RunwayAPIError) as caught:
        state.delay_or_raise(not_retryable)
    assert caught.value is not_retryable


# --------------------------------------------------------------------------- parse_retry_after


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("0", 0.0),
        ("5", 5.0),
        (" 7 ", 7.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("120", 120.0),
        ("soon", None),
        ("5 seconds", None),
    ],
)
def test_parse_retry_after_seconds(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date_relative_to_now() -> None:
    when = datetime(2015, 10, 21, 7, 28, tzinfo=timezone.utc)
    header = format_datetime(when, usegmt=True)
    assert header == "Wed, 21 Oct 2015 07:28:00 GMT"
    assert parse_retry_after(header, now=when.timestamp() - 30) == pytest.approx(30.0)
    assert parse_retry_after(header, now=when.timestamp()) == 0.0


def test_parse_retry_after_http_date_in_the_past_is_zero() -> None:
    when = datetime(2015, 10, 21, 7, 28, tzinfo=timezone.utc)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=when.timestamp() + 100) == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # real clock: long past


def test_parse_retry_after_http_date_uses_the_real_clock_by_default() -> None:
    import time

    header = formatdate(time.time() + 120, usegmt=True)
    value = parse_retry_after(header)
    assert value is not None
    assert 100 <= value <= 121


@pytest.mark.parametrize("value", ["Wed, 99 Foo 2015 07:28:00 GMT", "Wed, 21 Oct", "tomorrow"])
def test_parse_retry_after_garbage_dates_are_ignored(value: str) -> None:
    assert parse_retry_after(value) is None
