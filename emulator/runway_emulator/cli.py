"""``runway-emulator``: run the local Runway/CometAPI emulator until SIGINT/SIGTERM.

Prints one line, ``Runway emulator ready: <base URL>``, once it accepts connections. Only
warnings after that (e.g. an input URL it does not fetch) unless ``--verbose`` (one access-log
line per API request on stderr, without headers). Fault flags set the startup fault plan;
``POST /_emulator/reset`` restores it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

from runway_emulator.config import FAILURE_DETAILS, POLL_SHAPES, ConfigError, EmulatorConfig
from runway_emulator.faults import MALFORMED_BODIES, ROUTES, WHEN, FaultConfigError, parse_plan
from runway_emulator.runner import READY_PREFIX, Emulator

API_KEY_ENV = "RUNWAY_EMULATOR_API_KEY"

# flag -> (fault kind, key, type, help)
_FAULT_FLAGS: dict[str, tuple[str, str, Any, str]] = {
    "--rate-limit": ("rate_limit", "count", int, "answer 429 (with Retry-After) to the next N matching requests"),
    "--rate-limit-rate": ("rate_limit", "rate", float, "answer 429 with this probability (0-1)"),
    "--rate-limit-route": ("rate_limit", "route", ROUTES, "route for 429s (default create)"),
    "--retry-after": ("rate_limit", "retry_after", float, "Retry-After seconds (default 1)"),
    "--server-error": ("server_error", "count", int, "answer 5xx to the next N matching requests"),
    "--server-error-rate": ("server_error", "rate", float, "answer 5xx with this probability"),
    "--server-error-status": ("server_error", "status", int, "5xx status (default 503)"),
    "--server-error-route": ("server_error", "route", ROUTES, "route for 5xx (default any)"),
    "--conn-reset": ("reset", "count", int, "reset the connection (TCP RST) on the next N requests"),
    "--conn-reset-rate": ("reset", "rate", float, "reset with this probability"),
    "--conn-reset-route": ("reset", "route", ROUTES, "route for resets (default any)"),
    "--conn-reset-when": ("reset", "when", WHEN, "before (nothing done) or after (work done, answer lost)"),
    "--slow": ("slow", "count", int, "delay the next N answers"),
    "--slow-rate": ("slow", "rate", float, "delay answers with this probability"),
    "--slow-delay": ("slow", "delay", float, "seconds of delay (default 2)"),
    "--slow-route": ("slow", "route", ROUTES, "route for delays (default any)"),
    "--slow-when": ("slow", "when", WHEN, "delay before or after doing the work"),
    "--malformed": ("malformed", "count", int, "replace the next N 200 bodies with garbage"),
    "--malformed-rate": ("malformed", "rate", float, "malformed bodies with this probability"),
    "--malformed-body": ("malformed", "body", MALFORMED_BODIES, "html, empty, truncated (JSON) or short"),
    "--malformed-route": ("malformed", "route", ROUTES, "route for malformed bodies (default any)"),
    "--unknown-status": ("unknown_status", "count", int, "report an unknown status on the next N polls"),
    "--unknown-status-value": ("unknown_status", "value", str, "the unknown status (default PROCESSING)"),
    "--throttle-extra": ("throttle_extra", "seconds", float, "extra seconds every new task sits THROTTLED"),
    "--cancel-after": ("external_cancel", "after_seconds", float, "cancel every new task N s after create"),
}


def _dest(flag: str) -> str:
    return "fault_" + flag.lstrip("-").replace("-", "_")


def build_parser() -> argparse.ArgumentParser:
    defaults = EmulatorConfig()
    parser = argparse.ArgumentParser(
        prog="runway-emulator",
        description="Local emulator of Runway's generation API (CometAPI proxy and Runway direct).",
    )
    add = parser.add_argument
    add("--host", default=defaults.host, help="bind address (default %(default)s)")
    add("--port", type=int, default=defaults.port, help="port, 0 for a free one (default %(default)s)")
    add("--api-key", default=None, help=f"the one accepted key (or env {API_KEY_ENV}); default: any key")
    add("--pending-seconds", type=float, default=defaults.pending_seconds)
    add("--generation-seconds", type=float, default=defaults.generation_seconds)
    add("--not-visible-seconds", type=float, default=defaults.not_visible_seconds)
    add("--comet-poll-shape", choices=POLL_SHAPES, default=defaults.comet_poll_shape)
    add("--no-comet-delete", action="store_true", help="answer 405 to DELETE on CometAPI paths")
    add(
        "--comet-failure-detail",
        choices=FAILURE_DETAILS,
        default=defaults.comet_failure_detail,
        help="what a CometAPI failure carries: full (failureCode), no_code, reason_only (no inner task)",
    )
    add("--max-concurrency", type=int, default=defaults.max_concurrency)
    add("--safety-word", action="append", dest="safety_words", metavar="WORD", help="repeatable")
    add("--output-ttl", type=float, default=None, help="output URLs expire after this many seconds")
    add("--daily-limit", type=int, default=None, help="creates per 24 h before 429")
    add("--credit-balance", type=int, default=defaults.credit_balance)
    add("--public-url", default=None, help="base of output URLs (default: the bound address)")
    add("--seed", type=int, default=defaults.seed, help="seed for fault rates")
    add("--request-log-size", type=int, default=defaults.request_log_size)
    add("--verbose", action="store_true", help="access log on stderr (never headers or keys)")
    add("--faults", default=None, metavar="JSON", help="fault plan as JSON (see faults.py)")
    add("--prices", default=None, metavar="JSON", help="price overrides laid over prices.json (same layout)")
    add("--config-stdin", action="store_true", help=argparse.SUPPRESS)
    group = parser.add_argument_group("fault injection")
    for flag, (_kind, _key, kind_type, text) in _FAULT_FLAGS.items():
        if isinstance(kind_type, tuple):
            group.add_argument(flag, dest=_dest(flag), choices=kind_type, default=None, help=text)
        else:
            group.add_argument(flag, dest=_dest(flag), type=kind_type, default=None, help=text)
    return parser


def _json_object(text: str | None, flag: str) -> dict[str, Any]:
    if not text:
        return {}
    try:
        loaded = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{flag} is not valid JSON: {exc}") from None
    if not isinstance(loaded, dict):
        raise ConfigError(f"{flag} must be a JSON object")
    return loaded


def faults_from_args(args: argparse.Namespace) -> dict[str, Any]:
    faults: dict[str, dict[str, Any]] = {}
    loaded = _json_object(args.faults, "--faults")
    faults.update({k: dict(v) if isinstance(v, dict) else v for k, v in loaded.items()})
    for flag, (kind, key, _type, _help) in _FAULT_FLAGS.items():
        value = getattr(args, _dest(flag))
        if value is not None:
            faults.setdefault(kind, {})[key] = value
    try:
        parse_plan(faults)
    except FaultConfigError as exc:
        raise ConfigError(str(exc)) from None
    return faults


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    if args.config_stdin:
        return EmulatorConfig.from_mapping(json.loads(sys.stdin.read()))
    changes: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "api_key": args.api_key or os.environ.get(API_KEY_ENV) or None,
        "pending_seconds": args.pending_seconds,
        "generation_seconds": args.generation_seconds,
        "not_visible_seconds": args.not_visible_seconds,
        "comet_poll_shape": args.comet_poll_shape,
        "comet_delete_supported": not args.no_comet_delete,
        "comet_failure_detail": args.comet_failure_detail,
        "max_concurrency": args.max_concurrency,
        "output_ttl_seconds": args.output_ttl,
        "daily_limit": args.daily_limit,
        "credit_balance": args.credit_balance,
        "public_base_url": args.public_url,
        "seed": args.seed,
        "request_log_size": args.request_log_size,
        "verbose": args.verbose,
        "faults": faults_from_args(args),
        "prices": _json_object(args.prices, "--prices"),
    }
    if args.safety_words is not None:
        changes["safety_words"] = tuple(args.safety_words)
    return EmulatorConfig().replace(changes)


async def serve(config: EmulatorConfig) -> None:
    """Run until SIGINT/SIGTERM; prints the ready line first."""
    emulator = Emulator(config)
    url = await emulator.start()
    print(f"{READY_PREFIX} {url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await emulator.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except (ConfigError, ValueError) as exc:
        parser.error(str(exc))
    logging.basicConfig(
        level=logging.INFO if config.verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    try:
        asyncio.run(serve(config))
    except OSError as exc:
        print(f"runway-emulator: cannot listen on {config.host}:{config.port}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
