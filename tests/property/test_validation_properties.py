"""Property tests: the operator's request validation agrees with the documented API and with the emulator.

Strategies draw the operator's parameters -- ``prompt_image`` as https URLs (up to the 2048
character limit), ``data:image/...;base64`` URIs, ``runway://`` URIs, frame lists, IP and http
URLs; known and unknown models; ``prompt_text`` of ASCII and astral (surrogate-pair) characters
around each flavor's limit (CometAPI 512 characters, Runway 1000 UTF-16 units); ratios; durations
as int or str; seeds in and out of each flavor's range, as str and as bools; watermark;
content_moderation; ``extra_body``; flavor cometapi or runway. The limits below are written from
README.md and /work/shared/runway-api.md, not imported from ``models.py``: the code is checked
against the documented contract. Combinations the documents leave open (e.g. a ``last`` frame for
gen4_turbo through CometAPI) are never generated.

Properties:

1. An invalid combination (one parameter made invalid) is refused by
   ``build_image_to_video_body`` with an ``InvalidRequestError`` naming that parameter; the
   operator run against the emulator fails the same way and the emulator sees no request at
   all; the same body posted unvalidated is refused by the emulator with a 400 naming the field.
2. A valid combination is accepted by the validator (a warning only for an unknown model) and
   the body it produces, posted over HTTP to the matching flavor's create endpoint, gets 200 and
   a task id: validator and emulator agree.

The numbers of examples tried are counted and printed at the end of the module (and are visible
as hypothesis events with ``--hypothesis-show-statistics``).
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from airflow_provider_runway.errors import InvalidRequestError
from airflow_provider_runway.models import build_image_to_video_body

pytestmark = pytest.mark.integration

COMETAPI, RUNWAY = "cometapi", "runway"
FLAVORS = (COMETAPI, RUNWAY)
CONN_IDS = {COMETAPI: "runway_prop_cometapi", RUNWAY: "runway_prop_runway"}
CREATE_PATHS = {COMETAPI: "/runwayml/v1/image_to_video", RUNWAY: "/v1/image_to_video"}
WIRE = {
    "prompt_image": "promptImage",
    "model": "model",
    "prompt_text": "promptText",
    "ratio": "ratio",
    "duration": "duration",
    "seed": "seed",
    "watermark": "watermark",
    "content_moderation": "contentModeration",
}
PARAMS = (*WIRE, "extra_body")
API_KEY = "property-test-key"  # not a secret: only the local emulator sees it

# -- the documented contract (README.md, runway-api.md) -----------------------------------------

COMET_RATIOS = ("1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672", "1280:768", "768:1280")
COMET_DURATIONS = (5, 10)
GEN4_RATIOS = ("1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672")
VEO_RATIOS = ("1280:720", "720:1280", "1080:1920", "1920:1080")
ALL_RATIOS = tuple(dict.fromkeys(COMET_RATIOS + GEN4_RATIOS + VEO_RATIOS))
SEED_MAX = {COMETAPI: 999_999_999, RUNWAY: 4_294_967_295}
MAX_URL = 2048
MAX_DATA_URI = 5 * 1024 * 1024


@dataclass(frozen=True)
class DocModel:
    ratios: tuple[str, ...]
    durations: tuple[int, ...]
    last_frame: bool = False
    text_required: bool = False
    audio: bool = False


DOC_MODELS = {
    "gen3a_turbo": DocModel(("1280:768", "768:1280"), (5, 10), last_frame=True),
    "gen4_turbo": DocModel(GEN4_RATIOS, tuple(range(2, 11))),
    "gen4.5": DocModel(GEN4_RATIOS, tuple(range(2, 11)), text_required=True),
    "veo3": DocModel(VEO_RATIOS, (8,)),
    "veo3.1": DocModel(VEO_RATIOS, (4, 6, 8), audio=True),
    "veo3.1_fast": DocModel(VEO_RATIOS, (4, 6, 8), audio=True),
}


def allowed(flavor: str, spec: DocModel | None) -> tuple[tuple[str, ...] | None, tuple[int, ...] | None]:
    """(ratios, durations) that apply; None: not validated (an unknown model through Runway)."""
    if flavor == COMETAPI:
        return COMET_RATIOS, COMET_DURATIONS
    if spec is None:
        return None, None
    return spec.ratios, spec.durations


def text_size(flavor: str, text: str) -> int:
    """CometAPI counts characters, Runway UTF-16 code units (an astral character counts 2)."""
    return len(text) if flavor == COMETAPI else len(text.encode("utf-16-le")) // 2


def text_max(flavor: str) -> int:
    return 512 if flavor == COMETAPI else 1000


# -- building blocks -----------------------------------------------------------------------------

LABEL = st.from_regex(r"[a-z][a-z0-9-]{0,14}[a-z0-9]", fullmatch=True)
DOMAIN = st.builds(lambda labels, tld: ".".join([*labels, tld]), st.lists(LABEL, min_size=1, max_size=3), LABEL)
PATH = st.from_regex(r"(/[A-Za-z0-9._~-]{1,24}){0,3}", fullmatch=True)
ASTRAL = st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF)  # emoji: surrogate pairs in UTF-16
BMP = st.characters(min_codepoint=0x20, max_codepoint=0xD7FF)


@st.composite
def https_urls(draw: st.DrawFn, *, too_long: bool = False) -> str:
    base = f"https://{draw(DOMAIN)}{draw(PATH)}/"
    room = MAX_URL - len(base) - len(".jpg")
    # too long by a little, or short, or exactly 2048 characters
    pad = draw(st.integers(room + 1, room + 64) if too_long else st.one_of(st.integers(1, 16), st.just(room)))
    return base + "a" * pad + ".jpg"


@st.composite
def data_uris(draw: st.DrawFn) -> str:
    subtype = draw(st.sampled_from(["png", "jpeg", "webp", "gif", "svg+xml"]))
    payload = base64.b64encode(draw(st.binary(min_size=1, max_size=300))).decode()
    return f"data:image/{subtype};base64,{payload}"


RUNWAY_URIS = st.from_regex(r"runway://[a-z0-9]{8,24}", fullmatch=True)


def image_uris(flavor: str) -> st.SearchStrategy[str]:
    choices = [https_urls(), data_uris()]
    if flavor == RUNWAY:
        choices.append(RUNWAY_URIS)
    return st.one_of(choices)


@st.composite
def frame_lists(draw: st.DrawFn, flavor: str, *, last_ok: bool) -> list[dict[str, str]]:
    positions = draw(
        st.sampled_from([["first"], ["first", "last"], ["last", "first"], ["last"]] if last_ok else [["first"]])
    )
    return [{"uri": draw(image_uris(flavor)), "position": p} for p in positions]


def texts(flavor: str, *, min_size: int, max_size: int) -> st.SearchStrategy[str]:
    """Mixed ASCII/BMP/astral text whose documented size lies in [min_size, max_size].

    A short drawn motif is repeated up to the target size (drawing up to 1000 characters one by
    one would make every example slow); ``max_size`` itself is always a likely target.
    """
    alphabet = st.one_of(st.characters(min_codepoint=0x20, max_codepoint=0x7E), BMP, ASTRAL)

    @st.composite
    def build(draw: st.DrawFn) -> str:
        target = draw(st.one_of(st.integers(min_size, min(max_size, min_size + 40)), st.just(max_size)))
        motif = draw(st.text(alphabet, min_size=1, max_size=12))
        chars: list[str] = []
        size = 0
        while size < target:
            ch = motif[len(chars) % len(motif)]
            step = text_size(flavor, ch)
            if size + step > target:
                ch, step = "a", 1
            chars.append(ch)
            size += step
        return "".join(chars)

    return build()


def int_forms(values: st.SearchStrategy[int]) -> st.SearchStrategy[Any]:
    """An integer as Python int, as its decimal string (templated fields render to str), or padded."""
    return values.flatmap(lambda n: st.sampled_from([n, str(n), f" {n} "]))


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


KNOWN_MODELS = st.sampled_from(sorted(DOC_MODELS))
UNKNOWN_MODELS = st.from_regex(r"[a-z][a-z0-9_.]{1,12}", fullmatch=True).filter(lambda m: m not in DOC_MODELS)
ANY_MODEL = st.one_of(KNOWN_MODELS, UNKNOWN_MODELS)
BOOL_STRINGS = st.sampled_from(["true", "false", "True", "FALSE", " true "])


@dataclass(frozen=True)
class Case:
    flavor: str
    params: dict[str, Any]
    offending: str | None = None  # the parameter (or API field) the validator must name


@st.composite
def valid_cases(
    draw: st.DrawFn,
    flavors: tuple[str, ...] = FLAVORS,
    models: st.SearchStrategy[str] = ANY_MODEL,
) -> Case:
    flavor = draw(st.sampled_from(flavors))
    model = draw(models)
    spec = DOC_MODELS.get(model)
    ratios, durations = allowed(flavor, spec)
    last_ok = spec is None or spec.last_frame
    text_min = 1 if spec is not None and spec.text_required else 0
    text = texts(flavor, min_size=max(text_min, 1), max_size=text_max(flavor))
    params: dict[str, Any] = {
        "prompt_image": draw(st.one_of(image_uris(flavor), frame_lists(flavor, last_ok=last_ok))),
        "model": model,
        "prompt_text": draw(text if text_min else optional(text)),
        "ratio": draw(optional(st.sampled_from(ratios) if ratios else st.sampled_from([*ALL_RATIOS, "1:1"]))),
        "duration": draw(optional(int_forms(st.sampled_from(durations) if durations else st.integers(1, 60)))),
        "seed": draw(optional(int_forms(st.integers(0, SEED_MAX[flavor])))),
        "watermark": draw(optional(st.one_of(st.booleans(), BOOL_STRINGS))),
        "content_moderation": draw(
            optional(st.sampled_from(["auto", "low"]).map(lambda t: {"publicFigureThreshold": t}))
        ),
        "extra_body": None,
    }
    if spec is None or spec.audio:
        params["extra_body"] = draw(optional(st.booleans().map(lambda a: {"audio": a})))
    return Case(flavor, params)


def invalid_values(case: Case) -> dict[str, st.SearchStrategy[Any]]:
    """For each parameter that can be made invalid in this context, a strategy of invalid values."""
    flavor, model = case.flavor, case.params["model"]
    spec = DOC_MODELS.get(model)
    ratios, durations = allowed(flavor, spec)
    ips = st.one_of(
        st.ip_addresses(v=4).map(lambda ip: f"https://{ip}/cat.jpg"),
        st.ip_addresses(v=6).map(lambda ip: f"https://[{ip}]/cat.jpg"),
    )
    good_frame = image_uris(flavor).map(lambda uri: {"uri": uri, "position": "first"})
    bad_images = [
        DOMAIN.map(lambda d: f"http://{d}/cat.jpg"),
        ips,
        https_urls(too_long=True),
        DOMAIN.map(lambda d: f"ftp://{d}/cat.jpg"),
        DOMAIN.map(lambda d: f"{d}/cat.jpg"),
        st.sampled_from(
            ["data:image/png;base64,@@not base64@@", "data:image/png;base64,abc", "data:text/plain;base64,aGk="]
        ),
        st.sampled_from(["", [], 42, {"uri": "https://images.example.com/cat.jpg"}]),
        st.lists(good_frame, min_size=3, max_size=4),  # more than 2 frames
        st.tuples(good_frame, good_frame).map(list),  # the same position twice
        good_frame.map(lambda f: [{**f, "position": "middle"}]),
        good_frame.map(lambda f: [{"uri": f["uri"]}]),
        good_frame.map(lambda f: [{**f, "extra": "x"}]),
        DOMAIN.map(lambda d: [{"uri": f"http://{d}/cat.jpg", "position": "first"}]),
    ]
    if flavor == COMETAPI:
        bad_images.append(RUNWAY_URIS)  # runway:// uploads exist only on Runway's own API
    elif spec is not None and not spec.last_frame:
        bad_images.append(image_uris(flavor).map(lambda uri: [{"uri": uri, "position": "last"}]))

    too_long = text_max(flavor) + 1
    bad_texts = [
        texts(flavor, min_size=too_long, max_size=too_long + 30),
        st.sampled_from([42, ["text"]]),
        # A lone surrogate is not Unicode: no API can receive it as text.
        st.sampled_from(["\ud83d", "cat \udc00 yawns"]),
    ]
    if flavor == RUNWAY:
        # Fits 512 characters but not 1000 UTF-16 units: the surrogate-pair trap.
        bad_texts.append(st.integers(501, 512).map(lambda n: "\U0001f408" * n))
    if spec is not None and spec.text_required:
        bad_texts.append(st.sampled_from([None, ""]))

    not_integers = st.sampled_from(["five", "5.0", "", 5.5, True, False, [5], "0x5"])
    out: dict[str, st.SearchStrategy[Any]] = {
        "prompt_image": st.one_of(bad_images),
        "model": st.sampled_from(["", "   ", None, 42]),
        "prompt_text": st.one_of(bad_texts),
        "duration": not_integers,
        "seed": st.one_of(
            st.booleans(),
            int_forms(st.integers(max_value=-1)),
            int_forms(st.integers(min_value=SEED_MAX[flavor] + 1)),
            st.sampled_from([1.0, "abc", "", "1e3"]),
        ),
        "watermark": st.sampled_from(["yes", "no", "1", "0", 1, 0, "", 1.5, ["true"]]),
        "content_moderation": st.one_of(
            st.text(max_size=8).filter(lambda t: t not in ("auto", "low")).map(lambda t: {"publicFigureThreshold": t}),
            st.sampled_from(
                [
                    {"publicFigureThreshold": "AUTO"},
                    {"other": "low"},
                    {"publicFigureThreshold": "low", "x": 1},
                    "auto",
                    ["low"],
                    1,
                ]
            ),
        ),
        "extra_body": st.one_of(
            st.sampled_from(["audio", ["audio"], 1]),
            st.sampled_from(list(WIRE.values())).map(lambda wire: {wire: "x"}),
        ),
    }
    if ratios is not None:
        out["ratio"] = st.one_of(
            st.sampled_from([r for r in (*ALL_RATIOS, "1:1", "16:9", "1280x720", "") if r not in ratios]),
            st.integers(1, 2000),
        )
    if durations is not None:
        out["duration"] = st.one_of(not_integers, int_forms(st.integers(-20, 30).filter(lambda d: d not in durations)))
    if flavor == RUNWAY and spec is not None and not spec.audio:
        out["audio"] = st.booleans().map(lambda a: {"audio": a})
    return out


# The parameter to spoil -> the contexts where it can be spoilt (Runway checks no ratio, duration
# or audio option for a model it does not know, and only a known non-audio model refuses audio).
KNOWN_NON_AUDIO = st.sampled_from(sorted(name for name, spec in DOC_MODELS.items() if not spec.audio))
SPOILABLE: dict[str, st.SearchStrategy[Case]] = {
    **{field: valid_cases() for field in PARAMS},
    "ratio": st.one_of(valid_cases(flavors=(COMETAPI,)), valid_cases(models=KNOWN_MODELS)),
    "audio": valid_cases(flavors=(RUNWAY,), models=KNOWN_NON_AUDIO),
}


@st.composite
def invalid_cases(draw: st.DrawFn, field: str) -> Case:
    """A valid case with exactly one parameter (or, for ``audio``, one extra_body field) made invalid."""
    case = draw(SPOILABLE[field])
    params = dict(case.params)
    params["extra_body" if field == "audio" else field] = draw(invalid_values(case)[field])
    return Case(case.flavor, params, offending=field)


# -- fixtures ---------------------------------------------------------------------------------

COUNTS: Counter[str] = Counter()


@pytest.fixture(scope="module")
def emulator(runway_emulator_session: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """One emulator for the module (hypothesis cannot use function-scoped fixtures) and both connections."""
    handle = runway_emulator_session
    handle.reset()
    with pytest.MonkeyPatch.context() as mp:
        for flavor, conn_id in CONN_IDS.items():
            conn = {"conn_type": "runway", "password": API_KEY, "host": handle.base_url, "extra": {"flavor": flavor}}
            mp.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        yield handle
    handle.reset()
    summary = "validation properties, examples tried: " + ", ".join(f"{k}={v}" for k, v in sorted(COUNTS.items()))
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        print(summary)
        return
    with capture.global_and_fixture_disabled():  # our own line in the terminal, even under capture
        reporter.write_line("")
        reporter.write_line(summary)


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.trust_env = False  # 127.0.0.1 only, never through a proxy
        yield session


def post_create(http: requests.Session, emulator: Any, flavor: str, body: dict[str, Any]) -> requests.Response:
    headers = {
        "Authorization": f"Bearer {API_KEY}",
        "X-Runway-Version": "2024-11-06",
        "Content-Type": "application/json",
    }
    return http.post(emulator.url(CREATE_PATHS[flavor]), data=json.dumps(body), headers=headers, timeout=10)


class FakeTI:
    dag_id, run_id, task_id, map_index = "property_dag", "property_run", "submit", -1

    def xcom_push(self, key: str, value: Any) -> None:
        pass


class FakeStateStore(dict):  # type: ignore[type-arg]
    def set(self, key: str, value: Any) -> None:
        self[key] = value


def run_operator(case: Case) -> Any:
    """The operator's own execute(), with a context complete enough that a valid body would be sent."""
    from airflow_provider_runway.operators.runway import RunwayImageToVideoOperator

    operator = RunwayImageToVideoOperator(task_id="submit", runway_conn_id=CONN_IDS[case.flavor], **case.params)
    return operator.execute({"ti": FakeTI(), "task_state_store": FakeStateStore()})  # type: ignore[arg-type]


def raw_body(params: dict[str, Any]) -> dict[str, Any]:
    body = {WIRE[name]: value for name, value in params.items() if name in WIRE and value is not None}
    if isinstance(params.get("extra_body"), dict):
        body.update(params["extra_body"])
    return body


PROPERTY_SETTINGS = settings(
    max_examples=600,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
INVALID_SETTINGS = settings(PROPERTY_SETTINGS, max_examples=120)  # per spoilt parameter (10 of them)


# -- properties -------------------------------------------------------------------------------


@pytest.mark.parametrize("field", sorted(SPOILABLE))
@INVALID_SETTINGS
@given(data=st.data())
def test_invalid_parameters_are_refused_before_any_request(
    field: str, data: st.DataObject, emulator: Any, http: requests.Session
) -> None:
    case = data.draw(invalid_cases(field), label="case")
    COUNTS["invalid"] += 1
    COUNTS[f"invalid:{case.offending}"] += 1
    event(f"invalid {case.offending} ({case.flavor})")
    offending = case.offending
    assert offending is not None

    with pytest.raises(InvalidRequestError) as caught:
        build_image_to_video_body(**case.params, flavor=case.flavor)
    assert caught.value.field == offending, caught.value
    assert str(caught.value).startswith(offending), caught.value

    emulator.clear_requests()
    with pytest.raises(InvalidRequestError) as through_operator:
        run_operator(case)
    assert through_operator.value.field == offending
    assert emulator.requests() == [], "an invalid request reached the API"

    if offending != "extra_body":  # a malformed extra_body has no wire form of its own
        response = post_create(http, emulator, case.flavor, raw_body(case.params))
        assert response.status_code == 400, (response.status_code, response.text[:300])
        assert WIRE.get(offending, offending) in response.text, response.text[:300]


@PROPERTY_SETTINGS
@given(case=valid_cases())
def test_valid_parameters_are_accepted_by_the_emulator(case: Case, emulator: Any, http: requests.Session) -> None:
    COUNTS["valid"] += 1
    COUNTS[f"valid:{case.flavor}"] += 1
    model_known = case.params["model"] in DOC_MODELS
    event(f"valid {case.flavor} {'known' if model_known else 'unknown'} model")

    validated = build_image_to_video_body(**case.params, flavor=case.flavor)
    # Only an unknown model is worth a warning; it is still sent, never refused.
    assert bool(validated.warnings) is not model_known, validated.warnings
    response = post_create(http, emulator, case.flavor, validated.body)
    assert response.status_code == 200, (case.flavor, validated.body, response.text[:500])
    task_id = response.json()["id"]
    assert isinstance(task_id, str) and task_id


# -- fixed boundaries and a check that the "no request" assertion can fail ---------------------


def test_a_valid_case_through_the_operator_does_reach_the_emulator(emulator: Any) -> None:
    """The invalid-case property checks the emulator saw nothing; with valid input it sees the create."""
    emulator.clear_requests()
    case = Case(COMETAPI, {"prompt_image": "https://images.example.com/cat.jpg", "model": "gen3a_turbo"})
    task_id = run_operator(case)
    creates = [r for r in emulator.requests() if r["method"] == "POST"]
    assert len(creates) == 1 and creates[0]["status"] == 200
    assert isinstance(task_id, str) and task_id


@pytest.mark.parametrize("flavor", FLAVORS)
def test_data_uri_size_limit(flavor: str, emulator: Any, http: requests.Session) -> None:
    prefix = "data:image/x-png;base64,"
    assert len(prefix) % 4 == 0  # so that a valid base64 payload can end exactly at the limit
    at_limit = prefix + "A" * (MAX_DATA_URI - len(prefix))
    validated = build_image_to_video_body(prompt_image=at_limit, flavor=flavor)
    response = post_create(http, emulator, flavor, validated.body)
    assert response.status_code == 200, response.text[:300]
    over = at_limit + "AAAA"
    with pytest.raises(InvalidRequestError, match=r"^prompt_image \(promptImage\): data URI is"):
        build_image_to_video_body(prompt_image=over, flavor=flavor)
    assert (
        post_create(http, emulator, flavor, raw_body({"prompt_image": over, "model": "gen3a_turbo"})).status_code == 400
    )
