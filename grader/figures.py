"""Figures a check draws from a student's run: the curves and pictures a lab asks
students to plot (loss and accuracy per epoch, learned weights as images).

A check calls `ctx.figure(...)`; the figure travels with the check's result,
is redacted with it when the check is hidden, is written as a PNG next to the
report (`grade --output FILE` puts FILE's stem-NAME.png beside FILE), and is
embedded in Gradescope's test output. Everything in a figure is data the judge
already holds; nothing is drawn in the sandbox.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from .pngplot import SERIES_COLOURS, image_grid_png, line_chart_png

NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
MAX_SERIES, MAX_POINTS = 6, 5000
MAX_IMAGES, MAX_SIDE = 20, 64
COLOUR_NAMES = ["blue", "red", "green", "orange", "purple", "brown"]
assert len(COLOUR_NAMES) == len(SERIES_COLOURS)


@dataclass(frozen=True)
class Figure:
    """A line chart (`series`: label -> values per step) or a grid of `images`."""

    name: str
    title: str
    series: tuple[tuple[str, tuple[float, ...]], ...] = ()
    images: tuple[np.ndarray, ...] = ()

    @property
    def caption(self) -> str:
        """The title, and which colour is which series."""
        if not self.series:
            return self.title
        legend = ", ".join(f"{label} ({COLOUR_NAMES[i % len(COLOUR_NAMES)]})"
                           for i, (label, _) in enumerate(self.series))
        return f"{self.title}: {legend}" if self.title else legend

    def png(self) -> bytes:
        """The figure as PNG bytes (deterministic for the same data)."""
        if self.series:
            return line_chart_png([(label, list(values)) for label, values in self.series])
        return image_grid_png(list(self.images))


def make_figure(name: str, title: str, lines: Mapping[str, Sequence[float]] | None = None,
                images: Sequence[np.ndarray] | None = None) -> Figure:
    """A checked Figure; ValueError (a bug in the check) for a bad name or shape.

    Values a student's run produced are made safe: non-numbers become gaps, long
    series are cut to MAX_POINTS, images to MAX_IMAGES of at most MAX_SIDE pixels.
    """
    if not NAME.match(name):
        raise ValueError(f"figure name {name!r}: lower-case letters, digits and underscores")
    if (lines is None) == (images is None):
        raise ValueError("a figure has either lines or images")
    if lines is not None:
        series = []
        for label, values in list(lines.items())[:MAX_SERIES]:
            cleaned = []
            for value in list(np.asarray(values, dtype=object).ravel())[:MAX_POINTS]:
                try:
                    number = float(value)
                except (TypeError, ValueError):
                    number = math.nan
                cleaned.append(number if math.isfinite(number) else math.nan)
            series.append((str(label)[:60], tuple(cleaned)))
        return Figure(name, title[:200], series=tuple(series))
    kept = []
    for image in list(images)[:MAX_IMAGES]:
        array = np.asarray(image, dtype=np.float64)
        if array.ndim == 3 and array.shape[0] == 3 and array.shape[2] != 3:
            array = np.transpose(array, (1, 2, 0))  # channels first, as torch keeps images
        if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] != 3):
            raise ValueError(f"an image must be (H, W) or (H, W, 3), got {array.shape}")
        kept.append(array[:MAX_SIDE, :MAX_SIDE].copy())
    if not kept:
        raise ValueError("a figure of images needs at least one image")
    return Figure(name, title[:200], images=tuple(kept))


def write_figures(figures: Sequence[Figure], report_path: Path) -> list[Path]:
    """Write each figure as STEM-NAME.png beside `report_path`; return the paths."""
    from .output import write_atomically_bytes

    written = []
    for figure in figures:
        path = report_path.with_name(f"{report_path.stem}-{figure.name}.png")
        write_atomically_bytes(path, figure.png())
        written.append(path)
    return written
