"""Field docstrings of the SDK's request types, and the limits they state.

A TypedDict's field docstrings do not exist at runtime (they are bare string expressions after
each annotation), so they are read from the module's source with ``ast``. The SDK writes its
limits in a handful of fixed phrasings, parsed here:

- numbers: "from 2 to 10", "from 0 (none) to 100", "between 0.5 and 30", "(4-15)",
  "(0.7-1.2)" (also with an en dash), "[0.0, 1.0]";
- strings: "non-empty", "up to 1000 characters (measured in UTF-16 code units)",
  "Must be 3-16 characters, start with a letter, and use only letters, digits, and
  underscores", "six-digit hex values";
- arrays: "(up to 10)", "Up to 5 keyframes", "up to three", "(1-10)", "(3-5 shots)",
  "1 to 4 images";
- media URIs: "A HTTPS URL, Runway upload URI, or base64 data URI (e.g.
  `data:image/png;base64,...`, up to 5MB)";
- defaults: "Defaults to `1280:720`", "Defaults to 10 seconds", "`hdr10` (default)".

Which of them apply depends on the field's type (a range on a string says something about the
media behind it, not the string), so the reader (``reader.py``) keeps only the fitting ones.
"""

from __future__ import annotations

import ast
import functools
import re
import sys
from pathlib import Path
from typing import Any

from runway_emulator.oracle.nodes import Limits

MIB = 1024 * 1024
URI_DOC = "A HTTPS URL, Runway upload URI, or base64 data URI"
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_NUM = r"(-?\d[\d,]*(?:\.\d+)?)"
_DASH = "[-\u2013]"  # a hyphen or an en dash, as the SDK writes both
_COUNT = r"(\d+|" + "|".join(_WORDS) + r")"
_RANGES = (
    re.compile(rf"\bfrom {_NUM}(?: \([^)]*\))? to {_NUM}(?!\w|\.\d)"),
    re.compile(rf"\bbetween {_NUM} and {_NUM}(?!\w|\.\d)"),
    re.compile(rf"\({_NUM}\s*{_DASH}\s*{_NUM}\)"),
    re.compile(rf"\[{_NUM},\s*{_NUM}\]"),
)
_ITEM_MAX = re.compile(rf"\bup to {_COUNT}\b(?! ?(?:characters|MB|seconds|credits))", re.IGNORECASE)
_ITEM_RANGES = (
    re.compile(rf"\((\d+)\s*{_DASH}\s*(\d+)(?: [a-z]+)?\)"),
    re.compile(r"\b(\d+) to (\d+) [a-z]+"),
)
_MAX_CHARS = re.compile(r"up to ([\d,]+) characters", re.IGNORECASE)
_CHAR_RANGE = re.compile(r"Must be (\d+)\s*-\s*(\d+) characters")
_LETTER_START = "start with a letter, and use only letters, digits, and underscores"
_DATA_MEDIA = re.compile(r"data:(image|video|audio)/")
_DATA_SIZE = re.compile(r"up to (\d+)\s*MB")
_DEFAULTS = (
    re.compile(r"\bdefaults to `([^`]+)`", re.IGNORECASE),
    re.compile(r"\bdefault is `([^`]+)`", re.IGNORECASE),
    re.compile(r"`([^`]+)` \(default\)"),
    re.compile(r"\bdefaults to (-?\d+(?:\.\d+)?|true|false|\d+p)\b", re.IGNORECASE),
)
_NAME_MEDIA = (("image", "image"), ("frame", "image"), ("video", "video"), ("audio", "audio"))


@functools.cache
def _module_docs(module_name: str) -> dict[str, dict[str, str]]:
    """{class name: {python field name: docstring}} of one SDK module, from its source."""
    path = getattr(sys.modules.get(module_name), "__file__", None)
    if path is None or not path.endswith(".py"):
        return {}
    docs: dict[str, dict[str, str]] = {}
    for node in ast.parse(Path(path).read_text(encoding="utf-8")).body:
        if not isinstance(node, ast.ClassDef):
            continue
        fields = docs.setdefault(node.name, {})
        for statement, following in zip(node.body, node.body[1:], strict=False):
            if (
                isinstance(statement, ast.AnnAssign)
                and isinstance(statement.target, ast.Name)
                and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                fields[statement.target.id] = " ".join(following.value.value.split())
    return docs


def field_doc(cls: type, python_name: str) -> str:
    """The docstring of field ``python_name`` of TypedDict ``cls`` ("" when it has none)."""
    return _module_docs(cls.__module__).get(cls.__name__, {}).get(python_name, "")


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _count(text: str) -> int:
    return _WORDS.get(text.lower()) or int(text)


def _value(text: str) -> Any:
    """A default as written in a docstring: a number, a boolean or the text itself."""
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d+", text):
        return float(text)
    return {"true": True, "false": False}.get(text.lower(), text)


def number_range(doc: str) -> tuple[float, float] | None:
    for pattern in _RANGES:
        match = pattern.search(doc)
        if match:
            return _number(match.group(1)), _number(match.group(2))
    return None


def item_range(doc: str) -> tuple[int | None, int | None]:
    for pattern in _ITEM_RANGES:
        match = pattern.search(doc)
        if match:
            return int(match.group(1)), int(match.group(2))
    match = _ITEM_MAX.search(doc)
    return (None, _count(match.group(1))) if match else (None, None)


def media_of(doc: str, wire: str) -> str | None:
    """The kind of media a string field holds: from the URI docstring, else from its name."""
    if doc.startswith(URI_DOC):
        match = _DATA_MEDIA.search(doc)
        return match.group(1) if match else "image"
    lowered = wire.lower()
    return next((media for word, media in _NAME_MEDIA if word in lowered), None)


def default_of(doc: str) -> Any:
    """The first default the docstring states (an outputFormat's text may name a profile's default later)."""
    found = [match for pattern in _DEFAULTS if (match := pattern.search(doc))]
    return _value(min(found, key=lambda match: match.start()).group(1)) if found else None


def limits_for(doc: str, wire: str, *, numeric: bool, text: bool, array: bool) -> Limits:
    """The docstring's limits that fit a field of these JSON types."""
    minimum = maximum = None
    if numeric and (found := number_range(doc)):
        minimum, maximum = found
    min_items = max_items = None
    if array:
        min_items, max_items = item_range(doc)
    min_length = max_length = None
    pattern = None
    media = data_uri_max = None
    if text:
        if "non-empty" in doc:
            min_length = 1
        if chars := _MAX_CHARS.search(doc):
            max_length = int(chars.group(1).replace(",", ""))
        if between := _CHAR_RANGE.search(doc):
            min_length, max_length = int(between.group(1)), int(between.group(2))
        if _LETTER_START in doc:
            pattern = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
        elif "six-digit hex" in doc:
            pattern = re.compile(r"#[0-9A-Fa-f]{6}")
        media = media_of(doc, wire)
        if media is not None and (size := _DATA_SIZE.search(doc)):
            data_uri_max = int(size.group(1)) * MIB
    return Limits(
        minimum=minimum,
        maximum=maximum,
        min_length=min_length,
        max_length=max_length,
        utf16="UTF-16" in doc,
        pattern=pattern,
        min_items=min_items,
        max_items=max_items,
        media=media,
        data_uri_max=data_uri_max,
        default=default_of(doc),
    )
