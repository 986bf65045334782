"""Real image files for the tests: valid PNGs of any size (pure Python), and the bundled pictures."""

from __future__ import annotations

import os
import struct
import zlib

from tests.paths import ROOT

ASSETS = ROOT / "dags" / "assets"
CAT_PNG = (ASSETS / "demo_cat.png").read_bytes()
FRACTAL_JPEG = (ASSETS / "demo_fractal.jpg").read_bytes()
SUNSET_WEBP = (ASSETS / "demo_sunset.webp").read_bytes()
# The smallest valid GIF: 1x1, one colour.
GIF = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width: int, height: int, *, noise: bool = False) -> bytes:
    """An RGB PNG; ``noise`` makes it incompressible, so its size is about width * height * 3."""
    row = 3 * width
    if noise:
        raw = b"".join(b"\x00" + os.urandom(row) for _ in range(height))
        body = zlib.compress(raw, 0)
    else:
        raw = b"".join(b"\x00" + bytes((x * 255 // max(width - 1, 1)) % 256 for x in range(row)) for _ in range(height))
        body = zlib.compress(raw, 9)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def oversize_png() -> bytes:
    """A PNG whose data URI is over Runway's 5 MiB limit (about 4.2 MB of image)."""
    return png(1400, 1000, noise=True)
