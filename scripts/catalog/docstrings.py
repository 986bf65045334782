"""Limits the SDK states only in prose: ranges, text lengths, list sizes, media kinds, defaults.

Each reader takes one field docstring and answers None (or False) when the prose does not say,
so a limit is only ever one the API wrote down. The phrasings are Stainless's renderings of
Runway's OpenAPI descriptions ("from 2 to 10", "up to 1000 characters (measured in UTF-16
code units)", "between 0.5 and 30 seconds", "(0-4294967295)", "An array of one to three images").
"""

from __future__ import annotations

import re

WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "sixteen": 16, "twenty": 20,
}  # fmt: skip
_NUM = r"-?\d[\d,]*(?:\.\d+)?"
_COUNT = r"\d+|" + "|".join(WORDS)
_DASH = r"\s*[-\u2013]\s*"  # a hyphen or an en dash
_RANGES = (
    re.compile(rf"\bfrom ({_NUM})(?: \([^)]*\))? to ({_NUM})\b"),
    re.compile(rf"\bbetween ({_NUM}) and ({_NUM})\b"),
    re.compile(rf"\(({_NUM}){_DASH}({_NUM})\)"),
    re.compile(rf"\[({_NUM}), ({_NUM})\]"),
)
_TEXT_LIMIT = re.compile(r"\bup to ([\d,]+) characters( \(measured in UTF-16 code units\))?", re.IGNORECASE)
_ITEMS_BETWEEN = (
    re.compile(rf"\b({_COUNT}) to ({_COUNT})\b(?= \w*\s*(?:images?|videos?|clips?|audios?|references?|items?))", re.I),
    re.compile(rf"\(({_COUNT}){_DASH}({_COUNT})(?: \w+)?\)", re.IGNORECASE),
)
_ITEMS_MAX = re.compile(rf"\bup to ({_COUNT})\b(?! (?:seconds|characters|MB))", re.IGNORECASE)
_DATA_URI = re.compile(r"data:(image|video|audio)/")
_ENCODED = re.compile(r"containing an encoded (image|video|audio)")
_BACKTICKED_POSITIONS = re.compile(r"position `(\w+)`((?:/`\w+`)*)")
_TAG = re.compile(r"Must be (\d+)-(\d+) characters, start with a letter, and use only letters, digits, and underscores")
_DEFAULT = re.compile(r"\bDefaults to `?([\w.:\- ]+?)`?(?: seconds)?(?=\.(?:\s|$)|,|;|$)")
_MARKED_DEFAULT = re.compile(r"(?:`([^`]+)`|\b(\w+)) \((?:the )?default\)")
_CONDITIONAL = re.compile(r"\bDefaults to [^.]*\b(?:when|if|otherwise)\b")


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _count(text: str) -> int:
    return WORDS[text.lower()] if text.lower() in WORDS else int(text)


def numeric_range(doc: str) -> tuple[float, float] | None:
    """The first closed range the prose gives ("from 2 to 10", "between 0 and 4294967295", "(0-1)")."""
    found = [(m.start(), m) for pattern in _RANGES for m in pattern.finditer(doc)]
    if not found:
        return None
    _, first = min(found, key=lambda pair: pair[0])
    low, high = _number(first.group(1)), _number(first.group(2))
    return (low, high) if low <= high else None


def text_limit(doc: str) -> tuple[int, str] | None:
    """(most characters, how they are counted: "utf16" or "characters")."""
    match = _TEXT_LIMIT.search(doc)
    if match is None:
        return None
    return int(match.group(1).replace(",", "")), "utf16" if match.group(2) else "characters"


def non_empty(doc: str) -> bool:
    return "non-empty" in doc.lower()


def item_count(doc: str) -> tuple[int | None, int | None]:
    """(fewest, most) items of a list ("one to three images", "(1-10)", "up to 9")."""
    for pattern in _ITEMS_BETWEEN:
        match = pattern.search(doc)
        if match:
            return _count(match.group(1)), _count(match.group(2))
    match = _ITEMS_MAX.search(doc)
    return (None, _count(match.group(1))) if match else (None, None)


def media_kind(doc: str) -> str | None:
    """image, video or audio, from the data URI example or "containing an encoded <kind>"."""
    match = _DATA_URI.search(doc) or _ENCODED.search(doc)
    return match.group(1) if match else None


def is_media_uri(doc: str) -> bool:
    return "HTTPS URL, Runway upload URI, or base64 data URI" in doc


def named_positions(doc: str) -> tuple[str, ...]:
    """Frame positions spelled out in backticks: "Use position `first`/`last` ..."."""
    match = _BACKTICKED_POSITIONS.search(doc)
    if match is None:
        return ()
    rest = re.findall(r"`(\w+)`", match.group(2))
    return (match.group(1), *rest)


def positions_exclusive(doc: str) -> bool:
    """Key frames (with a position) and references (without) may not be mixed."""
    return "cannot be mixed" in doc


def first_frame_needed(doc: str) -> bool:
    return "does not support generating with only a last frame" in doc or "last frame requires a first frame" in doc


def needs_prompt_text(doc: str) -> bool:
    return bool(re.search(r"\brequires? a text prompt\b", doc))


def tag_pattern(doc: str) -> str | None:
    """The regex for "Must be 3-16 characters, start with a letter, and use only letters, digits, and underscores"."""
    match = _TAG.search(doc)
    if match is None:
        return None
    low, high = int(match.group(1)), int(match.group(2))
    return f"^[A-Za-z][A-Za-z0-9_]{{{low - 1},{high - 1}}}$"


def stated_default(doc: str) -> str | None:
    """The value after "Defaults to" as written, unless the default depends on something else."""
    if _CONDITIONAL.search(doc):
        return None
    match = _DEFAULT.search(doc)
    if match:
        return match.group(1).strip()
    marked = _MARKED_DEFAULT.search(doc)
    return (marked.group(1) or marked.group(2)) if marked else None
