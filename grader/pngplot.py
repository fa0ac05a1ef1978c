"""A tiny PNG bar chart (standard library only), for the score histogram.

Writing a handful of bars does not earn a plotting dependency: this draws
filled rectangles on an RGB canvas and encodes it with zlib.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

WHITE, BAR, AXIS = (255, 255, 255), (52, 101, 164), (40, 40, 40)
# 3x5 pixel digits for axis labels
DIGITS = {
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111", "3": "111001111001111",
    "4": "101101111001001", "5": "111100111001111", "6": "111100111101111", "7": "111001001001001",
    "8": "111101111101111", "9": "111101111001111",
}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_png(pixels: list[list[tuple[int, int, int]]]) -> bytes:
    """PNG bytes of an RGB image given as rows of (r, g, b) tuples."""
    height, width = len(pixels), len(pixels[0])
    raw = b"".join(b"\x00" + bytes(v for pixel in row for v in pixel) for row in pixels)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 9)) + \
        _chunk(b"IEND", b"")


def _text(canvas, x: int, y: int, text: str, scale: int = 2) -> None:
    for char in text:
        pattern = DIGITS.get(char)
        if pattern:
            for i, bit in enumerate(pattern):
                if bit == "1":
                    for dy in range(scale):
                        for dx in range(scale):
                            canvas[y + (i // 3) * scale + dy][x + (i % 3) * scale + dx] = AXIS
        x += 4 * scale


def bar_chart(counts: list[int], labels: list[str], path: Path, *, bar_width: int = 36,
              height: int = 240) -> None:
    """Write a histogram PNG: one bar per count, its count above, its label below."""
    margin, label_room = 20, 30
    width = margin * 2 + bar_width * len(counts)
    total_height = height + margin + label_room
    canvas = [[WHITE] * width for _ in range(total_height)]
    top = max(counts + [1])
    base = margin + height
    for i, count in enumerate(counts):
        bar = int(round((height - 20) * count / top))
        left = margin + i * bar_width + 3
        for y in range(base - bar, base):
            for x in range(left, left + bar_width - 6):
                canvas[y][x] = BAR
        if count:
            _text(canvas, left + 2, base - bar - 14, str(count))
        _text(canvas, left + 2, base + 6, labels[i])
    for x in range(margin - 2, width - margin + 2):
        canvas[base][x] = AXIS
    Path(path).write_bytes(encode_png(canvas))
