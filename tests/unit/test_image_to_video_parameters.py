"""A bad image-to-video parameter is refused naming it: the decision the operator makes before any request.

``build_image_to_video_body`` is the pure half of the operator's checks (its parameters are the
operator's); ``tests/integration/test_operator.py`` runs the same inputs through Airflow.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_runway.runway.bodies import build_image_to_video_body
from airflow_provider_runway.runway.errors import InvalidRequestError

CAT = "https://cdn.britannica.com/70/234870-050-D4D024BB/Orange-colored-cat-yawns-displaying-teeth.jpg"
# task id -> (the one bad parameter, the field the error must name)
BAD_PARAMETERS: dict[str, tuple[dict[str, Any], str]] = {
    "ratio": ({"ratio": "1:1"}, "ratio"),
    "duration": ({"duration": 7}, "duration"),
    "seed": ({"seed": 1_000_000_000}, "seed"),
    "prompt_text": ({"prompt_text": "x" * 513}, "prompt_text"),
    "plain_http_image": ({"prompt_image": "http://example.com/cat.jpg"}, "prompt_image"),
    "private_address_image": ({"prompt_image": "https://10.0.0.1/cat.jpg"}, "prompt_image"),
    "watermark": ({"watermark": "maybe"}, "watermark"),
    "extra_body_shadowing_seed": ({"extra_body": {"seed": 3}}, "extra_body"),
}


@pytest.mark.parametrize("params, field", BAD_PARAMETERS.values(), ids=BAD_PARAMETERS)
def test_a_bad_parameter_is_refused_naming_it(params: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        build_image_to_video_body(**{"prompt_image": CAT, **params})
    assert caught.value.field == field
    assert str(caught.value).startswith(field)
