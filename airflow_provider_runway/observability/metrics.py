"""What the provider counts, through Airflow's own ``Stats``: StatsD or OpenTelemetry, as the deployment set it up.

Airflow adds its prefix (``[metrics] statsd_prefix`` / ``otel_prefix``, ``airflow`` by default)
and applies ``[metrics] metrics_allow_list``/``metrics_block_list``; tags reach StatsD with
``statsd_influxdb_enabled`` or ``statsd_datadog_enabled``, and OpenTelemetry as attributes.

======================== ======= ====================================================== ==================
name                     kind    what                                                   tags
======================== ======= ====================================================== ==================
runway.tasks_created     counter a Runway task created (a paid call)                    endpoint, model,
                                                                                        flavor
runway.credits_charged   counter credits charged, the API's final ``cost`` of a task    endpoint, status
                                 whose wait ended
runway.task_failures     counter an outcome that made nothing, by failure code          code, endpoint
                                 (Runway's, e.g. ``SAFETY.INPUT.TEXT``, or the
                                 provider's: ``INVALID_INPUT``, ``CREDIT_LIMIT``,
                                 ``STORE_FAILED``, ``TIMEOUT``, ...)
runway.wait_seconds      timer   from the Runway task's creation to the end of the wait status, endpoint
runway.download_retries  counter an output URL that had expired, fetched again          status
======================== ======= ====================================================== ==================

A leaf of the package: it imports nothing of it, so the hook and the execution glue both count
through it. A metrics backend that fails never fails the task.
"""

from __future__ import annotations

import importlib
import logging
from datetime import timedelta
from typing import Any

TASKS_CREATED = "runway.tasks_created"
CREDITS_CHARGED = "runway.credits_charged"
TASK_FAILURES = "runway.task_failures"
WAIT_SECONDS = "runway.wait_seconds"
DOWNLOAD_RETRIES = "runway.download_retries"

log = logging.getLogger(__name__)


# Airflow >= 3.2 has Stats in the task SDK (``airflow.stats`` is a deprecated shim there); 3.1 in core.
STATS_MODULES = ("airflow.sdk.observability.stats", "airflow.stats")


def _stats() -> Any:
    for name in STATS_MODULES:
        try:
            return importlib.import_module(name).Stats
        except ImportError:
            continue
    raise ImportError(f"none of {STATS_MODULES} is importable")


def tags_of(**tags: Any) -> dict[str, str]:
    """Tags as metrics backends take them: strings, the unknown ones left out."""
    return {name: str(value) for name, value in tags.items() if value is not None and str(value) != ""}


def _amount(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)


def _send(kind: str, name: str, *args: Any, tags: dict[str, str]) -> None:
    try:
        getattr(_stats(), kind)(name, *args, tags=tags)
    except Exception as err:  # counting must never fail the work it counts
        log.debug("Could not emit metric %s: %s", name, err)


def count_task_created(endpoint: str, model: Any, flavor: str) -> None:
    _send("incr", TASKS_CREATED, tags=tags_of(endpoint=endpoint, model=model, flavor=flavor))


def count_credits_charged(credits: float, *, endpoint: str | None, status: str | None) -> None:
    if credits > 0:
        _send("incr", CREDITS_CHARGED, _amount(credits), tags=tags_of(endpoint=endpoint, status=status))


def count_failure(code: str | None, *, endpoint: str | None) -> None:
    _send("incr", TASK_FAILURES, tags=tags_of(code=code or "UNKNOWN", endpoint=endpoint))


def time_wait(seconds: float, *, endpoint: str | None, status: str | None) -> None:
    if seconds >= 0:
        _send("timing", WAIT_SECONDS, timedelta(seconds=seconds), tags=tags_of(endpoint=endpoint, status=status))


def count_download_retry(status: int | None) -> None:
    _send("incr", DOWNLOAD_RETRIES, tags=tags_of(status=status))
