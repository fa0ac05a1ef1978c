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


# -- charts of a student's run (grader.figures), drawn on numpy canvases --------------

SERIES_COLOURS = [(52, 101, 164), (204, 0, 0), (78, 154, 6), (245, 121, 0), (117, 80, 123), (193, 125, 17)]


def encode_canvas(canvas: "np.ndarray") -> bytes:
    """PNG bytes of an (H, W, 3) uint8 canvas."""
    import numpy as np

    canvas = np.ascontiguousarray(canvas, dtype=np.uint8)
    height, width = canvas.shape[:2]
    raw = b"".join(b"\x00" + canvas[row].tobytes() for row in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 9)) + \
        _chunk(b"IEND", b"")


def _digits(canvas, x: int, y: int, text: str, colour=AXIS, scale: int = 2) -> None:
    """Draw digits, '.', '-' and 'e' (others skipped) with their top-left corner at (x, y)."""
    extra = {".": "000000000000010", "-": "000000111000000", "e": "000111111100111"}
    for char in text:
        pattern = DIGITS.get(char) or extra.get(char)
        if pattern:
            for i, bit in enumerate(pattern):
                if bit == "1":
                    top, left = y + (i // 3) * scale, x + (i % 3) * scale
                    canvas[top:top + scale, left:left + scale] = colour
        x += 4 * scale


def _segment(canvas, x0: float, y0: float, x1: float, y1: float, colour) -> None:
    """A two-pixel-wide straight line from (x0, y0) to (x1, y1)."""
    import numpy as np

    steps = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
    xs = np.rint(np.linspace(x0, x1, steps)).astype(int)
    ys = np.rint(np.linspace(y0, y1, steps)).astype(int)
    height, width = canvas.shape[:2]
    for dy in (0, 1):
        inside = (ys + dy >= 0) & (ys + dy < height) & (xs >= 0) & (xs < width)
        canvas[ys[inside] + dy, xs[inside]] = colour


def _label(value: float) -> str:
    return f"{value:.3g}".replace("+", "")


def line_chart_png(series: list[tuple[str, list[float]]], *, width: int = 480, height: int = 300) -> bytes:
    """A line chart of each series against its index (epochs, say): y axis from the
    smallest to the largest value, its two ends labelled; one colour per series, in
    order (the legend is the figure's caption). Non-finite values leave gaps."""
    import numpy as np

    canvas = np.full((height, width, 3), 255, dtype=np.uint8)
    left, right, top, bottom = 70, 15, 15, 30
    finite = [v for _, values in series for v in values if np.isfinite(v)]
    low, high = (min(finite), max(finite)) if finite else (0.0, 1.0)
    if high - low < 1e-12:
        low, high = low - 0.5, high + 0.5
    longest = max([len(values) for _, values in series] + [2])
    canvas[height - bottom, left:width - right] = AXIS
    canvas[top:height - bottom + 1, left] = AXIS

    def place(index: int, value: float) -> tuple[float, float]:
        x = left + (width - left - right) * index / (longest - 1)
        y = (height - bottom) - (height - top - bottom) * (value - low) / (high - low)
        return x, y

    for number, (_, values) in enumerate(series):
        colour = SERIES_COLOURS[number % len(SERIES_COLOURS)]
        points = [place(i, v) if np.isfinite(v) else None for i, v in enumerate(values)]
        for a, b in zip(points, points[1:]):
            if a is not None and b is not None:
                _segment(canvas, *a, *b, colour)
        if len(points) == 1 and points[0] is not None:
            x, y = points[0]
            canvas[int(y) - 2:int(y) + 3, int(x) - 2:int(x) + 3] = colour
    _digits(canvas, 4, top, _label(high))
    _digits(canvas, 4, height - bottom - 10, _label(low))
    _digits(canvas, left, height - bottom + 8, "1")
    _digits(canvas, width - right - 4 * 2 * len(str(longest)), height - bottom + 8, str(longest))
    return encode_canvas(canvas)


def image_grid_png(images: list["np.ndarray"], *, columns: int = 5, scale: int = 4, gap: int = 4) -> bytes:
    """The images side by side, `columns` to a row, each min-max normalised on its own
    and magnified `scale` times (nearest neighbour). Each is (H, W) or (H, W, 3)."""
    import numpy as np

    tiles = []
    for image in images:
        array = np.asarray(image, dtype=np.float64)
        if array.ndim == 2:
            array = np.repeat(array[:, :, None], 3, axis=2)
        array = np.nan_to_num(array, nan=0.0, posinf=0.0, neginf=0.0)
        span = array.max() - array.min()
        array = (array - array.min()) / span if span > 0 else np.zeros_like(array)
        tile = np.rint(array * 255).astype(np.uint8)
        tiles.append(np.repeat(np.repeat(tile, scale, axis=0), scale, axis=1))
    tile_h, tile_w = max(t.shape[0] for t in tiles), max(t.shape[1] for t in tiles)
    rows = -(-len(tiles) // columns)
    canvas = np.full((gap + rows * (tile_h + gap), gap + min(columns, len(tiles)) * (tile_w + gap), 3), 255,
                     dtype=np.uint8)
    for index, tile in enumerate(tiles):
        row, column = divmod(index, columns)
        y, x = gap + row * (tile_h + gap), gap + column * (tile_w + gap)
        canvas[y:y + tile.shape[0], x:x + tile.shape[1]] = tile
    return encode_canvas(canvas)
