"""What a task costs on the emulated API: the emulator's own price table (``prices.json``).

The table is data, never the provider's estimator: the emulator prices what it actually makes
(the seconds it renders, the images it outputs), so a provider's estimate can be checked
against the API's figure instead of against itself. Prices are per endpoint and model
(``"*"`` for every model of an endpoint, e.g. a recipe), else the fallback of the output's
medium. A test replaces any part through ``EmulatorConfig(prices=...)``,
``run_emulator(prices=...)`` or ``configure(prices=...)`` (``/_emulator/config``); the
effective table is at ``GET /_emulator/prices``. The layout is described in ``prices.json``
(``units``).
"""

from __future__ import annotations

import copy
import functools
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

UNITS = ("second", "image", "character", "call")
ANY_MODEL = "*"


class PriceError(ValueError):
    """A price table entry is malformed; the message names the entry."""


@dataclass(frozen=True)
class Rate:
    when: tuple[tuple[str, tuple[Any, ...]], ...]
    credits: float

    def matches(self, value: Callable[[str], Any]) -> bool:
        return all(value(wire) in allowed for wire, allowed in self.when)


@dataclass(frozen=True)
class Price:
    per: str
    credits: float
    every: float | None = None
    minimum: float | None = None
    plus: float = 0.0
    rates: tuple[Rate, ...] = ()
    # ``duration: "auto"`` is estimated at the model's longest (when its docstring states none).
    auto_seconds: float | None = None


@dataclass(frozen=True)
class Surcharge:
    """Credits added per unit when the body matches (``outputFormat`` profiles), except on ``skip``."""

    rate: Rate
    per: str
    skip: tuple[str, ...] = ()


@dataclass(frozen=True)
class Quantities:
    """What the emulator makes for one task: seconds of output, images, characters of text."""

    seconds: float = 0.0
    images: int = 1
    characters: int = 0

    def of(self, unit: str) -> float:
        return {"second": self.seconds, "image": self.images, "character": self.characters}.get(unit, 1.0)


def _number(value: Any, where: str, *, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise PriceError(f"{where} must be a number >= 0, got {value!r}")
    return float(value)


def _when(value: Any, where: str) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    if not isinstance(value, Mapping) or not all(isinstance(v, list) for v in value.values()):
        raise PriceError(f"{where} must be an object of field -> list of values")
    return tuple((str(wire), tuple(values)) for wire, values in value.items())


def parse_price(raw: Any, where: str) -> Price:
    if not isinstance(raw, Mapping):
        raise PriceError(f"{where} must be an object such as {{'per': 'second', 'credits': 5}}")
    per = raw.get("per")
    if per not in UNITS:
        raise PriceError(f"{where}.per must be one of {', '.join(UNITS)}, got {per!r}")
    rates = raw.get("rates", [])
    if not isinstance(rates, list):
        raise PriceError(f"{where}.rates must be a list")
    every = _number(raw.get("every"), f"{where}.every", optional=True)
    if every == 0:
        raise PriceError(f"{where}.every must be > 0")
    return Price(
        per=per,
        credits=_number(raw.get("credits"), f"{where}.credits") or 0.0,
        every=every,
        minimum=_number(raw.get("minimum"), f"{where}.minimum", optional=True),
        plus=_number(raw.get("plus", 0), f"{where}.plus") or 0.0,
        auto_seconds=_number(raw.get("auto_seconds"), f"{where}.auto_seconds", optional=True),
        rates=tuple(_rate(rate, f"{where}.rates[{index}]") for index, rate in enumerate(rates)),
    )


def _rate(raw: Any, where: str) -> Rate:
    if not isinstance(raw, Mapping):
        raise PriceError(f"{where} must be an object such as {{'when': {{'audio': [false]}}, 'credits': 20}}")
    return Rate(_when(raw.get("when"), f"{where}.when"), _number(raw.get("credits"), f"{where}.credits") or 0.0)


def parse_surcharge(raw: Any, where: str) -> Surcharge:
    price = parse_price(raw, where)
    skip = raw.get("except", [])
    if not isinstance(skip, list):
        raise PriceError(f"{where}.except must be a list of endpoints")
    return Surcharge(Rate(_when(raw.get("when"), f"{where}.when"), price.credits), price.per, tuple(skip))


class PriceTable:
    """A parsed price table; ``merged`` lays overrides over it (tests' prices)."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = copy.deepcopy(dict(raw))
        endpoints = self.raw.get("endpoints", {})
        fallback = self.raw.get("fallback", {})
        surcharges = self.raw.get("surcharges", [])
        if not isinstance(endpoints, Mapping) or not all(isinstance(m, Mapping) for m in endpoints.values()):
            raise PriceError("prices.endpoints must be an object of endpoint -> {model: price}")
        if not isinstance(fallback, Mapping) or not isinstance(surcharges, list):
            raise PriceError("prices.fallback must be an object (medium -> price), prices.surcharges a list")
        self._prices = {
            (endpoint, model): parse_price(raw_price, f"prices.endpoints.{endpoint}.{model}")
            for endpoint, models in endpoints.items()
            for model, raw_price in models.items()
        }
        self._fallback = {medium: parse_price(p, f"prices.fallback.{medium}") for medium, p in fallback.items()}
        self._surcharges = [parse_surcharge(p, f"prices.surcharges[{i}]") for i, p in enumerate(surcharges)]

    @staticmethod
    def default() -> PriceTable:
        """The emulator's own table, ``prices.json``."""
        return _default_table()

    def merged(self, overrides: Mapping[str, Any]) -> PriceTable:
        """This table with ``overrides`` (same layout) laid over it: a model's or medium's price is
        replaced as a whole, ``surcharges`` as a list."""
        if not overrides:
            return self
        unknown = sorted(set(overrides) - {"endpoints", "fallback", "surcharges"})
        if unknown:
            raise PriceError(f"unknown price table key(s) {', '.join(unknown)}; known: endpoints, fallback, surcharges")
        raw = copy.deepcopy(self.raw)
        for endpoint, models in dict(overrides.get("endpoints", {})).items():
            if not isinstance(models, Mapping):
                raise PriceError(f"prices.endpoints.{endpoint} must be an object of model -> price")
            raw.setdefault("endpoints", {}).setdefault(endpoint, {}).update(models)
        raw.setdefault("fallback", {}).update(dict(overrides.get("fallback", {})))
        if "surcharges" in overrides:
            raw["surcharges"] = overrides["surcharges"]
        return PriceTable(raw)

    def price_for(self, endpoint: str, model: str | None, medium: str) -> Price:
        found = self._prices.get((endpoint, model or "")) or self._prices.get((endpoint, ANY_MODEL))
        if found is None:
            found = self._fallback.get(medium)
        if found is None:
            raise PriceError(f"prices.fallback.{medium} is missing: no price for {endpoint} {model or ''}".rstrip())
        return found

    def estimate(
        self, endpoint: str, model: str | None, medium: str, made: Quantities, value: Callable[[str], Any]
    ) -> float:
        """The credits one task costs; ``value(wire)`` reads the body (or a documented default)."""
        price = self.price_for(endpoint, model, medium)
        credits = next((rate.credits for rate in price.rates if rate.matches(value)), price.credits)
        units = made.of(price.per)
        if price.every:
            units = math.ceil(round(units / price.every, 9))
        amount = credits * units + price.plus
        for surcharge in self._surcharges:
            if endpoint not in surcharge.skip and surcharge.rate.matches(value):
                amount += surcharge.rate.credits * made.of(surcharge.per)
        if price.minimum is not None:
            amount = max(amount, price.minimum)
        return round(amount, 6)


@functools.cache
def _default_table() -> PriceTable:
    return PriceTable(
        json.loads(resources.files("runway_emulator").joinpath("prices.json").read_text(encoding="utf-8"))
    )


def charge(estimate: float) -> int:
    """Whole credits charged for an estimate (the API's ``cost.credits`` is an integer)."""
    return math.ceil(round(estimate, 6))
