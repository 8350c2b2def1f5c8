"""Draws the mobile key app's icons (192 and 512 px PNG) with the standard library only.

Run once; the PNGs are committed under src/securelogin/entrypoints/keyapp/static/:
    python3 scripts/make_key_app_icons.py
A dark blue square (maskable: the key stays inside the middle 80 %) with a white key.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src/securelogin/entrypoints/keyapp/static"
BACKGROUND = (0x0B, 0x3D, 0x91)
KEY = (0xFF, 0xFF, 0xFF)


def inside_key(x: float, y: float) -> bool:
    """The key in unit coordinates (0..1): a ring head on the left, a shaft with teeth."""
    hx, hy = 0.36, 0.5
    r = ((x - hx) ** 2 + (y - hy) ** 2) ** 0.5
    if 0.07 <= r <= 0.15:
        return True
    if 0.49 <= x <= 0.74 and 0.465 <= y <= 0.535:
        return True
    return (0.62 <= x <= 0.66 or 0.69 <= x <= 0.74) and 0.535 <= y <= 0.62


def png(size: int) -> bytes:
    rows = []
    for py in range(size):
        row = bytearray([0])
        for px in range(size):
            colour = KEY if inside_key((px + 0.5) / size, (py + 0.5) / size) else BACKGROUND
            row.extend(colour)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    for size in (192, 512):
        (OUT / f"icon-{size}.png").write_bytes(png(size))


if __name__ == "__main__":
    main()
