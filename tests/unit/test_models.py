"""Unit tests for the pure request model: flavors, per-model limits, validation, the wire body."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_runway.errors import InvalidRequestError
from airflow_provider_runway.models import (
    COMETAPI,
    COMETAPI_RATIOS,
    DEFAULT_MODEL,
    FLAVORS,
    MAX_DATA_URI_CHARS,
    MAX_URL_CHARS,
    MODELS,
    RUNWAY,
    ValidatedBody,
    build_image_to_video_body,
    check_image_uri,
    flavor_spec,
    validate_body,
)

URL = "https://images.example.com/cat.png"
SMALL_DATA_URI = "data:image/png;base64,iVBORw0KGgo="
GRIN = "\U0001f600"  # outside the BMP: one code point, two UTF-16 code units

# The published CometAPI contract and Runway's per-model limits, copied from runway-api.md so the
# tables in models.py are checked against the document rather than against themselves.
DOC_COMETAPI_RATIOS = (
    "1280:720",
    "720:1280",
    "1104:832",
    "832:1104",
    "960:960",
    "1584:672",
    "1280:768",
    "768:1280",
)
DOC_GEN4_RATIOS = ("1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672")
DOC_VEO_RATIOS = ("1280:720", "720:1280", "1080:1920", "1920:1080")
DOC_MODELS: dict[str, dict[str, Any]] = {
    "gen3a_turbo": {"ratios": ("1280:768", "768:1280"), "durations": (5, 10), "last": True, "audio": False},
    "gen4_turbo": {"ratios": DOC_GEN4_RATIOS, "durations": tuple(range(2, 11)), "last": False, "audio": False},
    "gen4.5": {"ratios": DOC_GEN4_RATIOS, "durations": tuple(range(2, 11)), "last": False, "audio": False},
    "veo3": {"ratios": DOC_VEO_RATIOS, "durations": (8,), "last": False, "audio": False},
    "veo3.1": {"ratios": DOC_VEO_RATIOS, "durations": (4, 6, 8), "last": False, "audio": True},
    "veo3.1_fast": {"ratios": DOC_VEO_RATIOS, "durations": (4, 6, 8), "last": False, "audio": True},
}
ALL_RATIOS = sorted(set(DOC_COMETAPI_RATIOS) | set(DOC_VEO_RATIOS))


def make_body(model: str = "gen3a_turbo", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "promptImage": URL}
    if model == "gen4.5":
        body["promptText"] = "a cat walks"
    body.update(fields)
    return body


def rejected(body: dict[str, Any], flavor: str) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as info:
        validate_body(body, flavor)
    return info.value


def data_uri_of_length(total: int) -> str:
    """A syntactically valid base64 image data URI of exactly ``total`` characters."""
    prefix = "data:image/x-xbitmap;base64,"  # 28 characters: keeps the payload a multiple of 4
    payload_len = total - len(prefix)
    assert payload_len % 4 == 0
    return prefix + "A" * payload_len


# --------------------------------------------------------------------------- flavors


def test_cometapi_flavor_spec_matches_the_doc() -> None:
    spec = flavor_spec(COMETAPI)
    assert spec.name == "cometapi"
    assert spec.default_host == "https://api.cometapi.com"
    assert spec.path_prefix == "/runwayml/v1"
    assert spec.seed_max == 999_999_999
    assert spec.prompt_text_max == 512
    assert spec.ratios == DOC_COMETAPI_RATIOS
    assert spec.durations == (5, 10)
    assert spec.allows_runway_uri is False


def test_runway_flavor_spec_matches_the_doc() -> None:
    spec = flavor_spec(RUNWAY)
    assert spec.name == "runway"
    assert spec.default_host == "https://api.dev.runwayml.com"
    assert spec.path_prefix == "/v1"
    assert spec.seed_max == 4_294_967_295
    assert spec.prompt_text_max == 1000
    # Runway's ratio/duration limits are per model, not per flavor.
    assert spec.ratios is None
    assert spec.durations is None
    assert spec.allows_runway_uri is True


def test_flavors_table_holds_exactly_the_two_flavors() -> None:
    assert set(FLAVORS) == {"cometapi", "runway"}
    assert COMETAPI_RATIOS == DOC_COMETAPI_RATIOS
    assert DEFAULT_MODEL == "gen3a_turbo"


@pytest.mark.parametrize("name", ["openai", "", "CometAPI", "runwayml"])
def test_unknown_flavor_is_refused_listing_the_allowed_ones(name: str) -> None:
    with pytest.raises(ValueError, match="unknown flavor") as info:
        flavor_spec(name)
    assert "cometapi, runway" in str(info.value)


def test_validate_body_refuses_an_unknown_flavor() -> None:
    with pytest.raises(ValueError, match="allowed: cometapi, runway"):
        validate_body(make_body(), "nope")


@pytest.mark.parametrize(
    ("flavor", "suffix", "expected"),
    [
        (COMETAPI, "image_to_video", "/runwayml/v1/image_to_video"),
        (COMETAPI, "/tasks/abc", "/runwayml/v1/tasks/abc"),
        (RUNWAY, "image_to_video", "/v1/image_to_video"),
        (RUNWAY, "//tasks/abc", "/v1/tasks/abc"),
    ],
)
def test_flavor_path_joins_prefix_and_suffix(flavor: str, suffix: str, expected: str) -> None:
    assert flavor_spec(flavor).path(suffix) == expected


# --------------------------------------------------------------------------- model table


@pytest.mark.parametrize("model", sorted(DOC_MODELS))
def test_model_table_matches_the_doc(model: str) -> None:
    spec = MODELS[model]
    doc = DOC_MODELS[model]
    assert spec.ratios == doc["ratios"]
    assert spec.durations == doc["durations"]
    assert spec.last_frame is doc["last"]
    assert spec.audio is doc["audio"]
    assert spec.prompt_text_required is (model == "gen4.5")


def test_model_table_has_no_undocumented_models() -> None:
    assert set(MODELS) == set(DOC_MODELS)


# --------------------------------------------------------------------------- required fields


@pytest.mark.parametrize("flavor", [COMETAPI, RUNWAY])
def test_minimal_valid_body_passes_unchanged_without_warnings(flavor: str) -> None:
    result = validate_body({"model": "gen3a_turbo", "promptImage": URL}, flavor)
    assert isinstance(result, ValidatedBody)
    assert result.body == {"model": "gen3a_turbo", "promptImage": URL}
    assert result.warnings == ()


@pytest.mark.parametrize("model", [None, "", "   ", 42, ["gen3a_turbo"]])
def test_model_is_required_and_error_lists_known_models(model: Any) -> None:
    body = {"promptImage": URL}
    if model is not None:
        body["model"] = model
    err = rejected(body, COMETAPI)
    assert str(err).startswith("model:")
    assert "required" in str(err)
    for known in DOC_MODELS:
        assert known in str(err)


@pytest.mark.parametrize("prompt_image", ["<absent>", None, "", []])
@pytest.mark.parametrize("flavor", [COMETAPI, RUNWAY])
def test_prompt_image_is_required(prompt_image: Any, flavor: str) -> None:
    body: dict[str, Any] = {"model": "gen3a_turbo"}
    if prompt_image != "<absent>":
        body["promptImage"] = prompt_image
    err = rejected(body, flavor)
    assert "prompt_image" in str(err)
    assert "promptImage" in str(err)
    assert "required" in str(err)


def test_validate_body_does_not_mutate_its_input_and_normalises_types() -> None:
    body = make_body(duration="10", seed="42", watermark="TRUE")
    snapshot = dict(body)
    result = validate_body(body, COMETAPI)
    assert body == snapshot
    assert result.body["duration"] == 10
    assert type(result.body["duration"]) is int
    assert result.body["seed"] == 42
    assert type(result.body["seed"]) is int
    assert result.body["watermark"] is True


@pytest.mark.parametrize("flavor", [COMETAPI, RUNWAY])
def test_unknown_extra_fields_pass_through_untouched(flavor: str) -> None:
    extra = {"futureOption": {"nested": [1, 2]}, "anotherFlag": "x"}
    result = validate_body(make_body(**extra), flavor)
    assert result.body["futureOption"] == {"nested": [1, 2]}
    assert result.body["anotherFlag"] == "x"


# --------------------------------------------------------------------------- unknown model


@pytest.mark.parametrize("flavor", [COMETAPI, RUNWAY])
def test_unknown_model_passes_with_a_warning_naming_it(flavor: str) -> None:
    result = validate_body({"model": "gen9_hyper", "promptImage": URL}, flavor)
    assert result.body["model"] == "gen9_hyper"
    assert len(result.warnings) == 1
    assert "gen9_hyper" in result.warnings[0]
    assert "unvalidated" in result.warnings[0]


def test_unknown_model_on_runway_skips_ratio_and_duration_checks() -> None:
    result = validate_body(
        {"model": "gen9_hyper", "promptImage": URL, "ratio": "1:1", "duration": "7", "audio": True},
        RUNWAY,
    )
    assert result.body["ratio"] == "1:1"
    assert result.body["duration"] == 7  # still coerced from the templated string
    assert result.body["audio"] is True


def test_unknown_model_on_runway_still_needs_an_integer_duration() -> None:
    err = rejected({"model": "gen9_hyper", "promptImage": URL, "duration": "seven"}, RUNWAY)
    assert str(err).startswith("duration:")
    assert "integer" in str(err)


def test_unknown_model_on_cometapi_is_checked_against_cometapi_list() -> None:
    body = {"model": "gen9_hyper", "promptImage": URL}
    assert validate_body({**body, "ratio": "768:1280", "duration": 10}, COMETAPI).body["duration"] == 10
    err = rejected({**body, "ratio": "1:1"}, COMETAPI)
    assert "flavor cometapi" in str(err)
    err = rejected({**body, "duration": 7}, COMETAPI)
    assert "allowed: 5, 10" in str(err)


@pytest.mark.parametrize("flavor", [COMETAPI, RUNWAY])
def test_unknown_model_accepts_a_last_frame(flavor: str) -> None:
    frames = [{"uri": URL, "position": "first"}, {"uri": URL, "position": "last"}]
    result = validate_body({"model": "gen9_hyper", "promptImage": frames}, flavor)
    assert result.body["promptImage"] == frames


# --------------------------------------------------------------------------- seed


@pytest.mark.parametrize(
    ("flavor", "seed", "ok"),
    [
        (COMETAPI, 0, True),
        (COMETAPI, 1, True),
        (COMETAPI, 999_999_999, True),
        (COMETAPI, 1_000_000_000, False),
        (COMETAPI, -1, False),
        (RUNWAY, 0, True),
        (RUNWAY, 1_000_000_000, True),
        (RUNWAY, 4_294_967_295, True),
        (RUNWAY, 4_294_967_296, False),
        (RUNWAY, -1, False),
    ],
)
def test_seed_range_per_flavor(flavor: str, seed: int, ok: bool) -> None:
    if ok:
        assert validate_body(make_body(seed=seed), flavor).body["seed"] == seed
        return
    err = rejected(make_body(seed=seed), flavor)
    assert str(err).startswith("seed:")
    assert f"between 0 and {FLAVORS[flavor].seed_max}" in str(err)
    assert str(seed) in str(err)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("42", 42), (" 7 ", 7), ("+5", 5), ("0", 0), ("999999999", 999_999_999)],
)
def test_seed_decimal_strings_are_coerced(raw: str, expected: int) -> None:
    result = validate_body(make_body(seed=raw), COMETAPI)
    assert result.body["seed"] == expected
    assert type(result.body["seed"]) is int


@pytest.mark.parametrize("raw", ["1000000000", "-1"])
def test_seed_strings_are_range_checked_after_coercion(raw: str) -> None:
    err = rejected(make_body(seed=raw), COMETAPI)
    assert "between 0 and 999999999" in str(err)


@pytest.mark.parametrize("seed", [True, False, 4.0, "4.2", "abc", "", [1], {"v": 1}])
@pytest.mark.parametrize("flavor", [COMETAPI, RUNWAY])
def test_seed_must_be_an_integer_and_bool_is_not_one(flavor: str, seed: Any) -> None:
    err = rejected(make_body(seed=seed), flavor)
    assert str(err).startswith("seed:")
    assert "must be an integer" in str(err)


def test_seed_none_is_left_out_of_the_check() -> None:
    assert validate_body(make_body(seed=None), COMETAPI).body["seed"] is None


# --------------------------------------------------------------------------- promptText


@pytest.mark.parametrize(
    ("flavor", "text", "ok"),
    [
        (COMETAPI, "a" * 512, True),
        (COMETAPI, "a" * 513, False),
        (COMETAPI, "", True),
        # CometAPI's limit is in characters: 512 astral characters are 512 characters.
        (COMETAPI, GRIN * 512, True),
        (COMETAPI, GRIN * 513, False),
        (RUNWAY, "a" * 1000, True),
        (RUNWAY, "a" * 1001, False),
        (RUNWAY, "\u00e9" * 1000, True),  # BMP: one UTF-16 unit each
        (RUNWAY, GRIN * 500, True),  # exactly 1000 UTF-16 units
        (RUNWAY, GRIN * 501, False),  # 501 characters but 1002 units
        (RUNWAY, "a" * 999 + GRIN, False),  # 1000 characters but 1001 units
    ],
)
def test_prompt_text_length_per_flavor(flavor: str, text: str, ok: bool) -> None:
    if ok:
        assert validate_body(make_body(promptText=text), flavor).body["promptText"] == text
        return
    err = rejected(make_body(promptText=text), flavor)
    assert "prompt_text" in str(err)
    assert "promptText" in str(err)
    assert f"at most {FLAVORS[flavor].prompt_text_max} allowed" in str(err)


def test_runway_prompt_text_error_reports_utf16_units() -> None:
    err = rejected(make_body(promptText="a" * 999 + GRIN), RUNWAY)
    assert "is 1001 characters" in str(err)


@pytest.mark.parametrize("text", [42, ["a"], {"t": "a"}, b"bytes"])
def test_prompt_text_must_be_a_string(text: Any) -> None:
    err = rejected(make_body(promptText=text), COMETAPI)
    assert "promptText" in str(err)
    assert "must be a string" in str(err)


@pytest.mark.parametrize("flavor", [COMETAPI, RUNWAY])
@pytest.mark.parametrize("text", ["<absent>", None, ""])
def test_gen45_requires_prompt_text(flavor: str, text: Any) -> None:
    body: dict[str, Any] = {"model": "gen4.5", "promptImage": URL}
    if text != "<absent>":
        body["promptText"] = text
    err = rejected(body, flavor)
    assert "promptText" in str(err)
    assert "required for model gen4.5" in str(err)


@pytest.mark.parametrize("flavor", [COMETAPI, RUNWAY])
def test_gen45_with_prompt_text_passes(flavor: str) -> None:
    result = validate_body({"model": "gen4.5", "promptImage": URL, "promptText": "x"}, flavor)
    assert result.body["promptText"] == "x"


@pytest.mark.parametrize("model", [m for m in DOC_MODELS if m != "gen4.5"])
def test_other_models_do_not_require_prompt_text(model: str) -> None:
    assert "promptText" not in validate_body({"model": model, "promptImage": URL}, RUNWAY).body


# --------------------------------------------------------------------------- ratio


@pytest.mark.parametrize("model", [*sorted(DOC_MODELS), "gen9_hyper"])
def test_cometapi_accepts_its_eight_ratios_for_every_model(model: str) -> None:
    for ratio in DOC_COMETAPI_RATIOS:
        assert validate_body(make_body(model, ratio=ratio), COMETAPI).body["ratio"] == ratio


@pytest.mark.parametrize("model", sorted(DOC_MODELS))
@pytest.mark.parametrize("ratio", ["1080:1920", "1920:1080", "1:1", "1280x720", ""])
def test_cometapi_refuses_ratios_outside_its_list_for_every_model(model: str, ratio: str) -> None:
    err = rejected(make_body(model, ratio=ratio), COMETAPI)
    assert str(err).startswith("ratio:")
    assert "flavor cometapi" in str(err)
    assert "allowed: " + ", ".join(DOC_COMETAPI_RATIOS) in str(err)


@pytest.mark.parametrize("model", sorted(DOC_MODELS))
@pytest.mark.parametrize("ratio", ALL_RATIOS)
def test_runway_checks_ratio_per_model(model: str, ratio: str) -> None:
    allowed = DOC_MODELS[model]["ratios"]
    if ratio in allowed:
        assert validate_body(make_body(model, ratio=ratio), RUNWAY).body["ratio"] == ratio
        return
    err = rejected(make_body(model, ratio=ratio), RUNWAY)
    assert str(err).startswith("ratio:")
    assert f"model {model}" in str(err)
    assert "allowed: " + ", ".join(allowed) in str(err)
    assert repr(ratio) in str(err)


@pytest.mark.parametrize("ratio", [1280, ["1280:768"], ("1280", "768")])
@pytest.mark.parametrize("flavor", [COMETAPI, RUNWAY])
def test_non_string_ratio_is_refused(flavor: str, ratio: Any) -> None:
    err = rejected(make_body(ratio=ratio), flavor)
    assert str(err).startswith("ratio:")


# --------------------------------------------------------------------------- duration


@pytest.mark.parametrize("model", [*sorted(DOC_MODELS), "gen9_hyper"])
@pytest.mark.parametrize(("duration", "ok"), [(5, True), (10, True), (2, False), (4, False), (8, False), (11, False)])
def test_cometapi_duration_is_5_or_10_for_every_model(model: str, duration: int, ok: bool) -> None:
    if ok:
        assert validate_body(make_body(model, duration=duration), COMETAPI).body["duration"] == duration
        return
    err = rejected(make_body(model, duration=duration), COMETAPI)
    assert str(err).startswith("duration:")
    assert "flavor cometapi" in str(err)
    assert "allowed: 5, 10" in str(err)


@pytest.mark.parametrize("model", sorted(DOC_MODELS))
@pytest.mark.parametrize("duration", range(0, 12))
def test_runway_checks_duration_per_model(model: str, duration: int) -> None:
    allowed = DOC_MODELS[model]["durations"]
    if duration in allowed:
        assert validate_body(make_body(model, duration=duration), RUNWAY).body["duration"] == duration
        return
    err = rejected(make_body(model, duration=duration), RUNWAY)
    assert str(err).startswith("duration:")
    assert f"{duration} is not allowed for model {model}" in str(err)
    assert "allowed: " + ", ".join(str(d) for d in allowed) in str(err)


@pytest.mark.parametrize(("raw", "expected"), [("5", 5), (" 10 ", 10), ("+5", 5)])
@pytest.mark.parametrize("flavor", [COMETAPI, RUNWAY])
def test_duration_string_is_coerced(flavor: str, raw: str, expected: int) -> None:
    result = validate_body(make_body(duration=raw), flavor)
    assert result.body["duration"] == expected
    assert type(result.body["duration"]) is int


def test_duration_string_is_checked_after_coercion() -> None:
    err = rejected(make_body(duration="7"), COMETAPI)
    assert "7 is not allowed" in str(err)


@pytest.mark.parametrize("duration", [True, False, 5.0, "5s", "five", "", [5]])
@pytest.mark.parametrize("flavor", [COMETAPI, RUNWAY])
def test_duration_must_be_an_integer(flavor: str, duration: Any) -> None:
    err = rejected(make_body(duration=duration), flavor)
    assert str(err).startswith("duration:")
    assert "must be an integer" in str(err)


# --------------------------------------------------------------------------- watermark


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(True, True), (False, False), ("true", True), ("TRUE", True), (" False ", False), ("false", False)],
)
def test_watermark_accepts_bools_and_bool_strings(raw: Any, expected: bool) -> None:
    assert validate_body(make_body(watermark=raw), COMETAPI).body["watermark"] is expected


@pytest.mark.parametrize("raw", ["yes", "1", "", 1, 0, 2, ["true"]])
def test_watermark_refuses_other_values(raw: Any) -> None:
    err = rejected(make_body(watermark=raw), COMETAPI)
    assert str(err).startswith("watermark:")
    assert "must be true or false" in str(err)


# --------------------------------------------------------------------------- promptImage: URLs


@pytest.mark.parametrize(
    "uri",
    [
        URL,
        "https://example.com",
        "https://example.com:8443/a.png?x=1#frag",
        "https://sub.domain.example.co.uk/path/to/image.jpeg",
    ],
)
@pytest.mark.parametrize("flavor", [COMETAPI, RUNWAY])
def test_https_domain_urls_are_accepted(flavor: str, uri: str) -> None:
    assert validate_body(make_body(promptImage=uri), flavor).body["promptImage"] == uri


@pytest.mark.parametrize(
    "uri",
    [
        "http://example.com/a.png",
        "ftp://example.com/a.png",
        "example.com/a.png",
        "//example.com/a.png",
        "https:///a.png",
        "https://",
        "file:///etc/passwd",
        "HTTP://example.com/a.png",
    ],
)
@pytest.mark.parametrize("flavor", [COMETAPI, RUNWAY])
def test_non_https_urls_are_refused(flavor: str, uri: str) -> None:
    err = rejected(make_body(promptImage=uri), flavor)
    assert str(err).startswith("prompt_image (promptImage):")
    assert "https://" in str(err)


@pytest.mark.parametrize(
    "uri",
    [
        "https://192.168.0.10/a.png",
        "https://127.0.0.1/a.png",
        "https://8.8.8.8:443/a.png",
        "https://[::1]/a.png",
        "https://[2001:db8::1]:8443/a.png",
    ],
)
@pytest.mark.parametrize("flavor", [COMETAPI, RUNWAY])
def test_ip_address_urls_are_refused(flavor: str, uri: str) -> None:
    err = rejected(make_body(promptImage=uri), flavor)
    assert "promptImage" in str(err)
    assert "domain name, not an IP address" in str(err)


@pytest.mark.parametrize("uri", ["https://[::1/a.png", "https://[not-an-ip]/a.png"])
def test_malformed_urls_are_refused_naming_the_field(uri: str) -> None:
    err = rejected(make_body(promptImage=uri), COMETAPI)
    assert str(err).startswith("prompt_image (promptImage):")


def _url_of_length(total: int) -> str:
    base = "https://example.com/"
    return base + "a" * (total - len(base))


@pytest.mark.parametrize("flavor", [COMETAPI, RUNWAY])
def test_url_of_exactly_2048_characters_is_accepted(flavor: str) -> None:
    uri = _url_of_length(MAX_URL_CHARS)
    assert len(uri) == 2048
    assert validate_body(make_body(promptImage=uri), flavor).body["promptImage"] == uri


@pytest.mark.parametrize("flavor", [COMETAPI, RUNWAY])
def test_url_of_2049_characters_is_refused(flavor: str) -> None:
    uri = _url_of_length(MAX_URL_CHARS + 1)
    err = rejected(make_body(promptImage=uri), flavor)
    assert "promptImage" in str(err)
    assert "2049 characters; at most 2048 allowed" in str(err)


# --------------------------------------------------------------------------- promptImage: runway:// and data URIs


def test_runway_uri_is_accepted_for_runway_flavor() -> None:
    uri = "runway://uploads/abc123"
    assert validate_body(make_body(promptImage=uri), RUNWAY).body["promptImage"] == uri


def test_runway_uri_is_refused_for_cometapi_flavor() -> None:
    err = rejected(make_body(promptImage="runway://uploads/abc123"), COMETAPI)
    assert "promptImage" in str(err)
    assert "only with flavor 'runway'" in str(err)


@pytest.mark.parametrize("flavor", [COMETAPI, RUNWAY])
def test_small_data_uri_is_accepted(flavor: str) -> None:
    assert validate_body(make_body(promptImage=SMALL_DATA_URI), flavor).body["promptImage"] == SMALL_DATA_URI


@pytest.mark.parametrize("flavor", [COMETAPI, RUNWAY])
def test_data_uri_of_exactly_5_mib_is_accepted(flavor: str) -> None:
    uri = data_uri_of_length(5 * 1024 * 1024)
    assert MAX_DATA_URI_CHARS == 5 * 1024 * 1024
    assert len(uri) == MAX_DATA_URI_CHARS
    assert validate_body(make_body(promptImage=uri), flavor).body["promptImage"] is uri


@pytest.mark.parametrize("flavor", [COMETAPI, RUNWAY])
def test_data_uri_over_5_mib_is_refused_even_when_valid_base64(flavor: str) -> None:
    uri = data_uri_of_length(5 * 1024 * 1024 + 4)
    err = rejected(make_body(promptImage=uri), flavor)
    assert "promptImage" in str(err)
    assert f"{5 * 1024 * 1024 + 4} characters; at most {5 * 1024 * 1024} (5 MiB) allowed" in str(err)


def test_data_uri_one_character_over_5_mib_is_refused() -> None:
    uri = data_uri_of_length(5 * 1024 * 1024) + "A"
    err = rejected(make_body(promptImage=uri), COMETAPI)
    assert "5242881 characters" in str(err)


@pytest.mark.parametrize(
    ("uri", "fragment"),
    [
        ("data:text/plain;base64,AAAA", "data:image/<type>;base64"),
        ("data:image/png,AAAA", "data:image/<type>;base64"),
        ("data:;base64,AAAA", "data:image/<type>;base64"),
        ("data:image/png;base64,@@@@", "not valid base64"),
        ("data:image/png;base64,AAA", "not valid base64"),
        ("data:image/png;base64,AA AA", "not valid base64"),
    ],
)
def test_bad_data_uris_are_refused(uri: str, fragment: str) -> None:
    err = rejected(make_body(promptImage=uri), RUNWAY)
    assert "promptImage" in str(err)
    assert fragment in str(err)


@pytest.mark.parametrize("value", [123, {"uri": URL}, ("https://example.com/a.png",), b"https://example.com/a.png"])
def test_prompt_image_of_wrong_type_is_refused(value: Any) -> None:
    err = rejected(make_body(promptImage=value), RUNWAY)
    assert "promptImage" in str(err)
    assert "non-empty string" in str(err)


def test_check_image_uri_labels_errors_with_the_given_wire_name() -> None:
    with pytest.raises(InvalidRequestError, match=r"^someField: must be an https:// URL"):
        check_image_uri("http://example.com/a.png", FLAVORS[COMETAPI], wire="someField")
    check_image_uri(URL, FLAVORS[COMETAPI])  # does not raise


# --------------------------------------------------------------------------- promptImage: frame lists


def frame(position: str, uri: str = URL) -> dict[str, str]:
    return {"uri": uri, "position": position}


@pytest.mark.parametrize("flavor", [COMETAPI, RUNWAY])
@pytest.mark.parametrize(
    "frames",
    [
        [frame("first")],
        [frame("last")],
        [frame("first"), frame("last")],
        [frame("last"), frame("first")],
        [frame("first", SMALL_DATA_URI), frame("last")],
    ],
)
def test_gen3a_turbo_accepts_first_and_last_frames(flavor: str, frames: list[dict[str, str]]) -> None:
    assert validate_body(make_body(promptImage=frames), flavor).body["promptImage"] == frames


@pytest.mark.parametrize("model", ["gen4_turbo", "gen4.5", "veo3", "veo3.1", "veo3.1_fast"])
@pytest.mark.parametrize("flavor", [COMETAPI, RUNWAY])
def test_last_frame_only_for_models_that_allow_it(model: str, flavor: str) -> None:
    assert validate_body(make_body(model, promptImage=[frame("first")]), flavor).body["promptImage"]
    for frames in ([frame("last")], [frame("first"), frame("last")]):
        err = rejected(make_body(model, promptImage=frames), flavor)
        assert "promptImage" in str(err)
        assert "does not accept a 'last' frame" in str(err)


@pytest.mark.parametrize(
    ("frames", "fragment"),
    [
        ([frame("first"), frame("last"), frame("first")], "1 or 2 frames, got 3"),
        ([frame("first"), frame("first")], "each position may appear once"),
        ([frame("last"), frame("last")], "each position may appear once"),
        ([frame("middle")], "position must be one of: first, last"),
        ([frame("FIRST")], "position must be one of: first, last"),
        ([{"uri": URL}], "each frame must be"),
        ([{"position": "first"}], "each frame must be"),
        ([{"uri": URL, "position": "first", "extra": 1}], "each frame must be"),
        ([URL], "each frame must be"),
        ([frame("first", "http://example.com/a.png")], "https://"),
        ([frame("first", "https://10.0.0.1/a.png")], "not an IP address"),
        ([frame("first", "")], "non-empty string"),
    ],
)
@pytest.mark.parametrize("flavor", [COMETAPI, RUNWAY])
def test_bad_frame_lists_are_refused(flavor: str, frames: list[Any], fragment: str) -> None:
    err = rejected(make_body(promptImage=frames), flavor)
    assert str(err).startswith("prompt_image (promptImage):")
    assert fragment in str(err)


def test_frame_with_runway_uri_depends_on_flavor() -> None:
    frames = [frame("first", "runway://uploads/abc")]
    assert validate_body(make_body(promptImage=frames), RUNWAY).body["promptImage"] == frames
    err = rejected(make_body(promptImage=frames), COMETAPI)
    assert "only with flavor 'runway'" in str(err)


# --------------------------------------------------------------------------- contentModeration and audio


@pytest.mark.parametrize("value", [{"publicFigureThreshold": "auto"}, {"publicFigureThreshold": "low"}, {}])
@pytest.mark.parametrize("flavor", [COMETAPI, RUNWAY])
def test_content_moderation_accepted(flavor: str, value: dict[str, str]) -> None:
    assert validate_body(make_body(contentModeration=value), flavor).body["contentModeration"] == value


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ({"publicFigureThreshold": "high"}, "publicFigureThreshold must be one of: auto, low"),
        ({"publicFigureThreshold": "AUTO"}, "publicFigureThreshold must be one of: auto, low"),
        ({"publicFigureThreshold": "auto", "other": 1}, '"publicFigureThreshold": "auto"|"low"'),
        ({"threshold": "low"}, '"publicFigureThreshold": "auto"|"low"'),
        ("auto", '"publicFigureThreshold": "auto"|"low"'),
        (["auto"], '"publicFigureThreshold": "auto"|"low"'),
    ],
)
def test_content_moderation_refused(value: Any, fragment: str) -> None:
    err = rejected(make_body(contentModeration=value), RUNWAY)
    assert str(err).startswith("content_moderation (contentModeration):")
    assert fragment in str(err)


@pytest.mark.parametrize("model", ["veo3.1", "veo3.1_fast"])
def test_audio_accepted_for_veo31(model: str) -> None:
    assert validate_body(make_body(model, audio=True), RUNWAY).body["audio"] is True


@pytest.mark.parametrize("model", ["gen3a_turbo", "gen4_turbo", "gen4.5", "veo3"])
@pytest.mark.parametrize("flavor", [COMETAPI, RUNWAY])
def test_audio_refused_for_models_without_it(model: str, flavor: str) -> None:
    err = rejected(make_body(model, audio=False), flavor)
    assert str(err).startswith("audio:")
    assert f"model {model} does not take an audio option" in str(err)


# --------------------------------------------------------------------------- error field naming


@pytest.mark.parametrize(
    ("overrides", "param", "wire"),
    [
        ({"promptImage": "http://example.com/a.png"}, "prompt_image", "promptImage"),
        ({"promptText": "a" * 513}, "prompt_text", "promptText"),
        ({"ratio": "1:1"}, "ratio", "ratio"),
        ({"duration": 3}, "duration", "duration"),
        ({"seed": -1}, "seed", "seed"),
        ({"watermark": "maybe"}, "watermark", "watermark"),
        ({"contentModeration": {"publicFigureThreshold": "x"}}, "content_moderation", "contentModeration"),
        ({"model": ""}, "model", "model"),
    ],
)
def test_errors_name_the_operator_parameter_and_the_api_field(overrides: dict[str, Any], param: str, wire: str) -> None:
    err = rejected(make_body(**overrides), COMETAPI)
    assert isinstance(err, ValueError)  # operators may catch plain ValueError
    # errors.InvalidRequestError documents ``field`` as the operator parameter (snake_case).
    assert err.field == param
    assert str(err).startswith(param)
    assert wire in str(err)


# --------------------------------------------------------------------------- build_image_to_video_body


def test_build_minimal_body_uses_the_default_model_and_cometapi() -> None:
    result = build_image_to_video_body(prompt_image=URL)
    assert result.body == {"promptImage": URL, "model": "gen3a_turbo"}
    assert result.warnings == ()
    # Default flavor is CometAPI: runway:// is refused.
    with pytest.raises(InvalidRequestError, match="only with flavor 'runway'"):
        build_image_to_video_body(prompt_image="runway://uploads/x")


def test_build_maps_every_parameter_to_its_camel_case_field_and_normalises() -> None:
    result = build_image_to_video_body(
        prompt_image=URL,
        model="gen3a_turbo",
        prompt_text="a cat",
        ratio="1280:768",
        duration="10",
        seed="7",
        watermark="false",
        content_moderation={"publicFigureThreshold": "low"},
    )
    assert result.body == {
        "promptImage": URL,
        "model": "gen3a_turbo",
        "promptText": "a cat",
        "ratio": "1280:768",
        "duration": 10,
        "seed": 7,
        "watermark": False,
        "contentModeration": {"publicFigureThreshold": "low"},
    }


def test_build_leaves_out_parameters_that_are_none() -> None:
    result = build_image_to_video_body(prompt_image=URL, prompt_text=None, ratio=None, seed=None, watermark=None)
    assert set(result.body) == {"promptImage", "model"}


def test_build_keeps_falsy_but_set_values() -> None:
    result = build_image_to_video_body(prompt_image=URL, seed=0, watermark=False, prompt_text="")
    assert result.body["seed"] == 0
    assert result.body["watermark"] is False
    assert result.body["promptText"] == ""


def test_build_honours_the_flavor() -> None:
    assert build_image_to_video_body(prompt_image=URL, seed=4_294_967_295, flavor=RUNWAY).body["seed"] == 4_294_967_295
    with pytest.raises(InvalidRequestError, match="between 0 and 999999999"):
        build_image_to_video_body(prompt_image=URL, seed=4_294_967_295)
    # Runway checks per model: gen3a_turbo has no 1280:720, CometAPI's list has it.
    assert build_image_to_video_body(prompt_image=URL, ratio="1280:720").body["ratio"] == "1280:720"
    with pytest.raises(InvalidRequestError, match="model gen3a_turbo"):
        build_image_to_video_body(prompt_image=URL, ratio="1280:720", flavor=RUNWAY)


def test_build_merges_extra_body() -> None:
    result = build_image_to_video_body(
        prompt_image=URL, model="veo3.1", flavor=RUNWAY, extra_body={"audio": True, "newThing": [1]}
    )
    assert result.body["audio"] is True
    assert result.body["newThing"] == [1]


def test_build_validates_fields_from_extra_body() -> None:
    with pytest.raises(InvalidRequestError, match="does not take an audio option"):
        build_image_to_video_body(prompt_image=URL, model="gen4_turbo", extra_body={"audio": True})


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"promptText": "x"}, "promptText"),
        ({"seed": 1}, "seed"),
        ({"promptImage": URL}, "promptImage"),
        ({"ratio": "1280:768", "duration": 5, "ok": 1}, "duration, ratio"),
    ],
)
def test_build_refuses_extra_body_that_shadows_a_parameter(extra: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        build_image_to_video_body(prompt_image=URL, extra_body=extra)
    assert info.value.field == "extra_body"
    assert str(info.value).startswith("extra_body:")
    assert f"sets {named}," in str(info.value)


@pytest.mark.parametrize("extra", [["audio"], "audio=true", 5])
def test_build_refuses_extra_body_that_is_not_a_dict(extra: Any) -> None:
    with pytest.raises(InvalidRequestError, match=r"^extra_body: must be a dict"):
        build_image_to_video_body(prompt_image=URL, extra_body=extra)


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"prompt_image": "http://example.com/a.png"}, "prompt_image"),
        ({"prompt_image": URL, "seed": True}, "seed"),
        ({"prompt_image": URL, "duration": "6"}, "duration"),
        ({"prompt_image": URL, "model": "gen4.5"}, "prompt_text"),
        ({"prompt_image": URL, "content_moderation": {"publicFigureThreshold": "high"}}, "content_moderation"),
    ],
)
def test_build_errors_name_the_operator_parameter(kwargs: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        build_image_to_video_body(**kwargs)
    assert str(info.value).startswith(param)


def test_build_with_unknown_model_returns_the_warning() -> None:
    result = build_image_to_video_body(prompt_image=URL, model="gen5_preview", flavor=RUNWAY, ratio="21:9")
    assert result.body["model"] == "gen5_preview"
    assert result.body["ratio"] == "21:9"
    assert any("gen5_preview" in warning for warning in result.warnings)
