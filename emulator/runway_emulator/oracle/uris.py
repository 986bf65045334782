"""What a media URI in a request must look like (docs.dev.runwayml.com/assets/inputs).

- an ``https://`` URL on a domain name (not an IP address), at most 2048 characters;
- a base64 ``data:`` URI of the field's media (``data:image/png;base64,...``): images as JPEG,
  PNG or WebP; at most the size the field's docstring states ("up to 5MB": 5 MiB of
  characters), 5 MiB when it states none;
- a ``runway://`` URI of an upload (Runway direct only: CometAPI cannot see Runway's uploads).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from runway_emulator.oracle.check import Refusal
from runway_emulator.oracle.docstrings import MIB

if TYPE_CHECKING:
    from runway_emulator.oracle.nodes import Limits

URL_MAX_CHARS = 2048
DEFAULT_DATA_URI_MAX = 5 * MIB
IMAGE_TYPES = ("jpeg", "jpg", "png", "webp")
_DATA_URI = re.compile(r"^data:(?P<media>[a-z]+)/(?P<subtype>[A-Za-z0-9.+-]+);base64,(?P<payload>.*)$", re.DOTALL)


def _data_uri(uri: str, path: str, limits: Limits) -> None:
    media = limits.media or "image"
    match = _DATA_URI.match(uri)
    if match is None or match.group("media") != media:
        raise Refusal(path, f"{path}: a data URI here must look like data:{media}/<type>;base64,<data>")
    subtype = match.group("subtype").lower()
    if media == "image" and subtype not in IMAGE_TYPES:
        allowed = ", ".join(f"image/{kind}" for kind in IMAGE_TYPES)
        raise Refusal(path, f"{path}: data URI type image/{subtype} is not accepted; allowed: {allowed}")
    limit = limits.data_uri_max or DEFAULT_DATA_URI_MAX
    if len(uri) > limit:
        raise Refusal(path, f"{path}: data URI is {len(uri)} characters; at most {limit} ({limit // MIB} MB)")
    try:
        base64.b64decode(match.group("payload"), validate=True)
    except (binascii.Error, ValueError):
        raise Refusal(path, f"{path}: data URI payload is not valid base64") from None


def _https_url(uri: str, path: str) -> None:
    if len(uri) > URL_MAX_CHARS:
        raise Refusal(path, f"{path}: URL is {len(uri)} characters; at most {URL_MAX_CHARS}")
    try:
        parts = urlsplit(uri)
        host = parts.hostname
    except ValueError:  # e.g. an unbalanced "[" in the host
        raise Refusal(path, f"{path} is not a valid URL: {uri[:80]!r}") from None
    if parts.scheme != "https" or not host:
        raise Refusal(path, f"{path} must be an https:// URL, a base64 data URI or a runway:// URI; got {uri[:80]!r}")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return
    raise Refusal(path, f"{path}: the URL must use a domain name, not an IP address ({host})")


def uri_check(allows_runway_uri: bool) -> Callable[[str, str, Limits], None]:
    """The URI rule of one flavor: Runway direct takes ``runway://`` upload URIs, CometAPI does not."""

    def check(uri: str, path: str, limits: Limits) -> None:
        if not uri:
            raise Refusal(path, f"{path} must not be empty")
        if uri.startswith("data:"):
            _data_uri(uri, path, limits)
        elif uri.startswith("runway://"):
            if not allows_runway_uri:
                raise Refusal(path, f"{path}: runway:// upload URIs are only accepted by Runway's own API")
        else:
            _https_url(uri, path)

    return check
