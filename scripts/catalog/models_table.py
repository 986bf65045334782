"""docs/models.md, the per-model limits table, rendered from the catalog.

``python -m scripts.catalog`` (``make catalog``) writes it together with catalog.json; on its own:

    .venv/bin/python -m scripts.catalog.models_table          # rewrite docs/models.md
    .venv/bin/python -m scripts.catalog.models_table --check  # exit 1 if docs/models.md is stale

A unit test runs the check, so the committed table always matches catalog.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from airflow_provider_runway.runway.catalog import (
    Catalog,
    EndpointSpec,
    FieldSpec,
    ModellessSpec,
    ModelSpec,
    Price,
    load_catalog,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "models.md"
LONG_ENUM = 8  # enums longer than this are summarised by their size


def _num(value: float | None) -> str:
    return "" if value is None else str(int(value)) if float(value).is_integer() else f"{value:g}"


def _values(values: tuple[object, ...]) -> str:
    return ", ".join(json.dumps(v) if isinstance(v, bool) else str(v) for v in values)


def _range(spec: FieldSpec) -> str:
    if spec.values:
        return _values(spec.values)
    if spec.minimum is not None and spec.maximum is not None:
        also = f" or {_values(spec.also)}" if spec.also else ""
        return f"{_num(spec.minimum)}-{_num(spec.maximum)}{also}"
    return "any" + (f" or {_values(spec.also)}" if spec.also else "")


def _describe(wire: str, spec: FieldSpec, seed_max: int | None, text_max: int | None) -> str:
    name = wire + ("*" if spec.required else "")
    if spec.kind == "text":
        limits = (
            [f"<= {spec.max_length} {'UTF-16 units' if spec.count == 'utf16' else 'chars'}"] if spec.max_length else []
        )
        if text_max is not None and wire == "promptText" and not (spec.max_length and spec.max_length <= text_max):
            limits.append(f"<= {text_max} chars (flavor)")
        return f"{name} (text{', ' + ', '.join(limits) if limits else ''})"
    if spec.kind == "integer":
        top = min(int(spec.maximum), seed_max) if wire == "seed" and seed_max and spec.maximum else spec.maximum
        shown = FieldSpec(kind="integer", minimum=spec.minimum, maximum=top, also=spec.also)
        return f"{name} ({_range(shown)})"
    if spec.kind == "number":
        return f"{name} ({_range(spec)})"
    if spec.kind == "enum":
        values = f"{len(spec.values)} values" if len(spec.values) > LONG_ENUM else _values(spec.values)
        return f"{name} ({values})"
    if spec.kind == "frames":
        mode = "/".join(spec.positions) or "(positions not documented)"
        mode += " or unpositioned references, not mixed" if spec.exclusive_modes else ""
        return f"{name} ({spec.media} URI or frames {mode})"
    if spec.kind == "uri":
        return f"{name} ({spec.media} URI)"
    if spec.kind == "media":
        return f"{name} ({'/'.join(spec.kinds)} {{type, uri}})"
    if spec.kind == "list":
        count = f", <= {spec.max_items}" if spec.max_items else ""
        count = f", {spec.min_items}-{spec.max_items}" if spec.min_items and spec.max_items else count
        return f"{name} (list{count})"
    return f"{name} ({spec.kind})"


def _credits(price: Price | None) -> str:
    if price is None or price.credits is None:
        return f"not verified{': ' + price.note if price and price.note else ''}"
    unit = {"second": "/s", "image": "/image", "call": "/call", "input": "/s of output (length follows the input)"}
    text = f"{_num(price.credits)}{unit.get(price.per, '')}"
    if price.per == "characters":
        text = f"{_num(price.credits)} per {price.per_characters} characters"
    for rate in price.rates:
        when = "; ".join(
            f"{k}={_values(v)}" if len(v) <= 2 else f"{k} in {len(v)} values" for k, v in rate.when.items()
        )
        text += f"; {_num(rate.credits)} when {when}"
    if price.minimum:
        text += f"; minimum {_num(price.minimum)}"
    if price.extra_per_call:
        text += f"; +{_num(price.extra_per_call)} per call"
    return f"{text} ({price.status})"


def _row(spec: EndpointSpec, model: ModelSpec, flavor: str, catalog: Catalog) -> str:
    if not model.offered_by(flavor):
        why = model.not_offered.get(flavor, "not offered")
        return f"| {model.name} | {flavor} | not offered: {why} | | | | {model.checked} |"
    rules = spec.rules(flavor)
    fields = {**model.fields, **rules.extra_fields}
    ratio, duration = fields.get("ratio"), fields.get("duration")
    ratios = _range(ratio) if ratio else "-"
    durations = _range(duration) if duration else "-"
    seed_max = rules.seed_max or catalog.flavors[flavor].seed_max
    others = [
        _describe(w, f, seed_max, rules.prompt_text_max) for w, f in fields.items() if w not in ("ratio", "duration")
    ]
    required = f"; required here: {', '.join(rules.require)}" if rules.require else ""
    return (
        f"| {model.name} | {flavor} | {ratios}{'*' if ratio and ratio.required else ''} "
        f"| {durations}{'*' if duration and duration.required else ''} | {'; '.join(others)}{required} "
        f"| {_credits(model.price)} | {model.checked} |"
    )


def _endpoint(spec: EndpointSpec, catalog: Catalog) -> list[str]:
    lines = [f"## {spec.name}", ""]
    for flavor in catalog.flavors:
        if spec.offered_by(flavor):
            lines.append(
                f"- **{flavor}**: `POST {spec.paths[flavor]}`, default model `{spec.defaults.get(flavor, '-')}`"
            )
        else:
            lines.append(f"- **{flavor}**: not offered. {spec.not_offered.get(flavor, '')}".rstrip())
    for flavor, rules in spec.flavor_rules.items():
        lines.append(f"- {flavor}'s own rules: {rules.note} (source: {rules.source})")
    lines.append(f"- checked {spec.checked} against: {spec.source}")
    lines += [
        "",
        "| model | flavor | ratios | durations (s) | other fields | credits | checked |",
        "|---|---|---|---|---|---|---|",
    ]
    for model in spec.models.values():
        flavors = [f for f in catalog.flavors if spec.offered_by(f) and (model.offered_by(f) or f in model.not_offered)]
        lines += [_row(spec, model, flavor, catalog) for flavor in flavors]
    lines += ["", "Sources per model:", ""]
    lines += [
        f"- `{m.name}`: {m.source}" + (f"; price: {m.price.source}" if m.price else "") for m in spec.models.values()
    ]
    return [*lines, ""]


def _modelless(spec: ModellessSpec, catalog: Catalog) -> list[str]:
    lines = [f"### {spec.name}", ""]
    for flavor in catalog.flavors:
        if spec.offered_by(flavor):
            lines.append(f"- **{flavor}**: `POST {spec.paths[flavor]}` ({spec.output})")
        else:
            lines.append(f"- **{flavor}**: not offered. {spec.not_offered.get(flavor, '')}".rstrip())
    shapes = spec.body.one_of or (spec.body,)
    for index, shape in enumerate(shapes, start=1):
        label = f"body {index} of {len(shapes)}" if len(shapes) > 1 else "body"
        lines.append(f"- {label}: " + "; ".join(_describe(w, f, None, None) for w, f in shape.fields.items()))
    lines.append(f"- checked {spec.checked} against: {spec.source}")
    return [*lines, ""]


def _without_models(catalog: Catalog) -> list[str]:
    if not catalog.modelless and not catalog.left_out:
        return []
    lines = [
        "## Task endpoints without a model",
        "",
        "The Model Router (`generate/*`, a saved router `configId` picks the model) and recipes take a",
        "body that names no model. The catalog holds their shape; the operators send such a body as",
        "given (with a warning), unchecked.",
        "",
    ]
    for spec in catalog.modelless.values():
        lines += _modelless(spec, catalog)
    if catalog.left_out:
        lines += ["## Left out", ""]
        lines += [f"- `{name}`: {why}" for name, why in catalog.left_out.items()]
        lines.append("")
    return lines


def render(catalog: Catalog) -> str:
    lines = [
        "# Models, limits and credits",
        "",
        "<!-- Generated by `make catalog` (scripts/catalog) with runway/catalog.json; do not edit. -->",
        "",
        f"Catalog checked {catalog.checked}. `*` marks a required field. Credits are Runway credits",
        "(US$0.01 each); through CometAPI they are Runway's list price, CometAPI bills its own.",
        "Price status: verified (a first-party source), secondary (a dated copy of Runway's pricing page),",
        "not verified (no figure we could check).",
        "",
        "Sources:",
        "",
        *[f"- {name}: {source}" for name, source in catalog.sources.items()],
        f"- inputs: {catalog.inputs_source}",
        "",
    ]
    for spec in catalog.endpoints.values():
        lines += _endpoint(spec, catalog)
    lines += _without_models(catalog)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str]) -> int:
    text = render(load_catalog())
    if "--check" in argv:
        current = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
        if current != text:
            print(f"{DOC} is stale: run `make catalog`", file=sys.stderr)
            return 1
        return 0
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
