"""The emulator's tunable behaviour, shared by the CLI, the admin endpoint and ``run_emulator``.

One frozen dataclass so that a configuration can be copied, compared, sent to a subprocess
as JSON and restored on ``/_emulator/reset`` without any hidden state.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runway_emulator.prices import PriceError, PriceTable

POLL_SHAPES = ("wrapped", "bare")
# How much of a failure CometAPI passes on (see shapes.py): all, the text only, the envelope only.
FAILURE_DETAILS = ("full", "no_code", "reason_only")

# Fields that only matter at startup; changing them at runtime is refused (faults have their own endpoint).
STARTUP_ONLY = frozenset({"host", "port", "faults"})


class ConfigError(ValueError):
    """A configuration value is missing, unknown or out of range."""


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything that shapes the emulator's answers (faults live in ``faults.py``)."""

    host: str = "127.0.0.1"
    port: int = 8765
    # None accepts any non-empty Bearer key; a string pins the single accepted key.
    api_key: str | None = None
    pending_seconds: float = 0.5
    generation_seconds: float = 3.0
    # CometAPI answers task_not_exist for this long after create.
    not_visible_seconds: float = 0.5
    comet_poll_shape: str = "wrapped"
    comet_delete_supported: bool = True
    comet_failure_detail: str = "full"
    max_concurrency: int = 2
    safety_words: tuple[str, ...] = ("forbidden",)
    # None: output URLs are valid for 48 h like Runway's; a number: they expire that fast.
    output_ttl_seconds: float | None = None
    # Creates per rolling 24 h before 429 (Runway's daily limit); None: unlimited.
    daily_limit: int | None = None
    credit_balance: int = 10_000
    # Base of output URLs; None derives it from the bound address.
    public_base_url: str | None = None
    seed: int = 0
    request_log_size: int = 200
    verbose: bool = False
    # Initial fault plan, as accepted by POST /_emulator/faults.
    faults: Mapping[str, Any] = field(default_factory=dict)
    # Price overrides laid over prices.json (same layout: endpoints, fallback, surcharges).
    prices: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view; never includes the pinned key itself."""
        data = dataclasses.asdict(self)
        data["safety_words"] = list(self.safety_words)
        data["faults"] = dict(self.faults)
        data["prices"] = dict(self.prices)
        data["api_key"] = None
        data["api_key_pinned"] = self.api_key is not None
        return data

    def to_json_dict(self) -> dict[str, Any]:
        """Full config including the key, for handing over to a subprocess (never logged)."""
        data = dataclasses.asdict(self)
        data["safety_words"] = list(self.safety_words)
        data["faults"] = dict(self.faults)
        data["prices"] = dict(self.prices)
        return data

    def replace(self, changes: Mapping[str, Any], *, runtime: bool = False) -> EmulatorConfig:
        """A copy with ``changes`` applied and validated; ``runtime`` refuses startup-only fields."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ConfigError(f"unknown config field(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        if runtime:
            frozen = sorted(set(changes) & STARTUP_ONLY)
            if frozen:
                raise ConfigError(f"{', '.join(frozen)} can only be set at startup")
        values = {name: _coerce(name, value) for name, value in changes.items()}
        try:
            return dataclasses.replace(self, **values)
        except TypeError as exc:
            raise ConfigError(str(exc)) from None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> EmulatorConfig:
        # Tolerate the read-only marker that to_dict() adds.
        return cls().replace({k: v for k, v in data.items() if k != "api_key_pinned"})


def _coerce(name: str, value: Any) -> Any:
    if name == "safety_words":
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, (list, tuple)) or not all(isinstance(w, str) for w in value):
            raise ConfigError("safety_words must be a list of strings")
        return tuple(value)
    if name in ("faults", "prices") and not isinstance(value, Mapping):
        raise ConfigError(f"{name} must be a JSON object")
    return value


def _number(name: str, value: Any, *, minimum: float = 0.0, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value!r}")


def _integer(name: str, value: Any, *, minimum: int, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _check(cfg: EmulatorConfig) -> None:
    if not isinstance(cfg.host, str) or not cfg.host:
        raise ConfigError("host must be a non-empty string")
    _integer("port", cfg.port, minimum=0)
    if cfg.port > 65535:
        raise ConfigError(f"port must be <= 65535, got {cfg.port}")
    if cfg.api_key is not None and (not isinstance(cfg.api_key, str) or not cfg.api_key):
        raise ConfigError("api_key must be a non-empty string or null")
    _number("pending_seconds", cfg.pending_seconds)
    _number("generation_seconds", cfg.generation_seconds, minimum=0.001)
    _number("not_visible_seconds", cfg.not_visible_seconds)
    if cfg.comet_poll_shape not in POLL_SHAPES:
        raise ConfigError(f"comet_poll_shape must be one of {', '.join(POLL_SHAPES)}, got {cfg.comet_poll_shape!r}")
    if cfg.comet_failure_detail not in FAILURE_DETAILS:
        raise ConfigError(
            f"comet_failure_detail must be one of {', '.join(FAILURE_DETAILS)}, got {cfg.comet_failure_detail!r}"
        )
    if not isinstance(cfg.comet_delete_supported, bool):
        raise ConfigError("comet_delete_supported must be true or false")
    _integer("max_concurrency", cfg.max_concurrency, minimum=1)
    if not isinstance(cfg.safety_words, tuple) or not all(isinstance(w, str) and w for w in cfg.safety_words):
        raise ConfigError("safety_words must be a list of non-empty strings")
    _number("output_ttl_seconds", cfg.output_ttl_seconds, optional=True)
    _integer("daily_limit", cfg.daily_limit, minimum=0, optional=True)
    _integer("credit_balance", cfg.credit_balance, minimum=0)
    if cfg.public_base_url is not None and not (
        isinstance(cfg.public_base_url, str) and cfg.public_base_url.startswith(("http://", "https://"))
    ):
        raise ConfigError("public_base_url must be an http(s):// URL or null")
    _integer("seed", cfg.seed, minimum=0)
    _integer("request_log_size", cfg.request_log_size, minimum=0)
    if not isinstance(cfg.verbose, bool):
        raise ConfigError("verbose must be true or false")
    if not isinstance(cfg.faults, Mapping):
        raise ConfigError("faults must be a JSON object")
    try:
        price_table(cfg.prices)
    except PriceError as exc:
        raise ConfigError(str(exc)) from None


def price_table(overrides: Mapping[str, Any]) -> PriceTable:
    """The emulator's prices (``prices.json``) with a config's overrides laid over them."""
    if not isinstance(overrides, Mapping):
        raise PriceError("prices must be a JSON object")
    return PriceTable.default().merged(overrides)
