"""A cheap motion gate: skip frames in which nothing moved, so auto mode reads plates only when it may matter.

The rule. A frame is cut into a coarse grid of cells (32 x 18 by default). Each cell is summarised by the
mean green value of a few pixels in it: 4 columns on each of 2 rows, taken with one strided ``bytes``
slice per row, so the cost is about a thousand C-level slices per frame whatever the resolution and core
needs no numpy. Green alone stands in for luma: it carries most of it (0.59 of Rec. 601 luma) and costs
one channel instead of three.

The frame's cells are compared with the cells of the *reference*: the last frame the gate let through.
For each cell, the difference of means, minus the median difference over all cells, is its change; a cell
*moved* when its change exceeds ``threshold``; the frame *changed* when at least ``cell_fraction`` of the
cells (and at least one) moved. Why:

- Averaging a few pixels per cell and requiring several cells makes sensor and compression noise (a few
  levels per pixel, independent from pixel to pixel) harmless, while a vehicle, which covers many cells and
  differs from the road by tens of levels, is seen.
- Subtracting the median difference cancels a change of brightness that is the same everywhere (clouds,
  auto exposure), unless it clips at 0 or 255; a moving object covers a minority of cells and barely moves
  the median. A gain (multiplicative) change of exposure is only partly cancelled: a large one may count
  as motion, which costs one read.
- Comparing with the last frame let through, not the previous one, makes slow motion add up until it
  counts, while noise does not add up (each frame is compared with the same reference).

A frame is also let through when it is the first, when its size differs from the reference's, and when
``keepalive`` seconds of frame time (``Frame.captured_at``) passed since the last frame let through (or
frame time went backwards), so a vehicle that stopped in view is still read now and then.
"""

from __future__ import annotations

import math
from datetime import datetime

from .frames import Frame

__all__ = ["MotionGate"]

# Pixels summed per cell: this many columns on each of this many rows.
_COLUMNS_PER_CELL = 4
_ROWS_PER_CELL = 2  # _Layout.sample adds the slices of a cell in pairs: change both together
_GREEN = 1  # offset of the green byte in a packed RGB pixel


class _Layout:
    """Where to sample a frame of one size: one strided slice per sampled row of each cell, in cell order."""

    def __init__(self, width: int, height: int, grid: tuple[int, int]) -> None:
        columns, rows = min(grid[0], width), min(grid[1], height)
        self.size = (width, height)
        # _ROWS_PER_CELL slices per cell, consecutive; a band one pixel high samples its line twice, so
        # every cell has the same number of slices and :meth:`sample` can pair them without bookkeeping.
        self.slices: list[tuple[int, int, int]] = []
        self.inverse_counts: list[float] = []
        for row in range(rows):
            top, bottom = row * height // rows, (row + 1) * height // rows
            lines = [
                top + (2 * k + 1) * (bottom - top) // (2 * _ROWS_PER_CELL) for k in range(_ROWS_PER_CELL)
            ]
            for column in range(columns):
                left, right = column * width // columns, (column + 1) * width // columns
                step = max(1, (right - left) // _COLUMNS_PER_CELL)
                first = left + step // 2
                for line in lines:
                    self.slices.append(
                        ((line * width + first) * 3 + _GREEN, (line * width + right) * 3, step * 3)
                    )
                self.inverse_counts.append(1.0 / (_ROWS_PER_CELL * len(range(first, right, step))))

    def sample(self, rgb: bytes) -> list[float]:
        """Mean green value of each cell."""
        sums = [sum(rgb[start:stop:step]) for start, stop, step in self.slices]
        return [
            (upper + lower) * inverse
            for upper, lower, inverse in zip(sums[0::2], sums[1::2], self.inverse_counts, strict=True)
        ]


class MotionGate:
    """Says whether a frame is worth reading, by the rule in the module docstring. Not thread-safe."""

    def __init__(
        self,
        *,
        grid: tuple[int, int] = (32, 18),
        threshold: float = 6.0,
        cell_fraction: float = 0.01,
        keepalive: float | None = 2.0,
    ) -> None:
        """Set up a gate with no reference: the first frame it sees is let through.

        :param grid: cells across and down (fewer on a frame narrower or shorter than that). 32 x 18 cells
            are 40 x 40 pixels at 1280x720: a vehicle covers tens of them.
        :param threshold: how many green levels (0-255) a cell's mean must change by, beyond the median
            change of all cells, to count as moved.
        :param cell_fraction: the share of cells that must move for the frame to count as changed; 0.01 of
            576 cells is 6 cells, a patch of about 1 % of the picture.
        :param keepalive: seconds of frame time after which a frame is let through even without change;
            ``None`` never does.
        """
        if grid[0] < 1 or grid[1] < 1:
            raise ValueError(f"grid needs at least one cell each way, got {grid}")
        if threshold < 0:
            raise ValueError(f"threshold must not be negative, got {threshold}")
        if not 0 <= cell_fraction <= 1:
            raise ValueError(f"cell_fraction must be between 0 and 1, got {cell_fraction}")
        if keepalive is not None and keepalive <= 0:
            raise ValueError(f"keepalive must be positive or None, got {keepalive}")
        self.grid = grid
        self.threshold = threshold
        self.cell_fraction = cell_fraction
        self.keepalive = keepalive
        self._layout: _Layout | None = None
        self._reference: list[float] = []
        self._reference_at: datetime | None = None

    def reset(self) -> None:
        """Forget the reference, e.g. after the camera reconnected: the next frame is let through."""
        self._reference = []
        self._reference_at = None

    def changed(self, frame: Frame) -> bool:
        """Whether ``frame`` should be read; when it should, it becomes the reference."""
        if self._layout is None or self._layout.size != (frame.width, frame.height):
            self._layout = _Layout(frame.width, frame.height, self.grid)
            self._reference = []
        cells = self._layout.sample(frame.rgb)
        if not self._due(frame.captured_at) and not self._moved(cells):
            return False
        self._reference = cells
        self._reference_at = frame.captured_at
        return True

    def _due(self, at: datetime) -> bool:
        """Whether the frame is let through whatever it shows: no reference, or keepalive time is up."""
        if not self._reference or self._reference_at is None:
            return True
        if self.keepalive is None:
            return False
        elapsed = (at - self._reference_at).total_seconds()
        return elapsed >= self.keepalive or elapsed < 0

    def _moved(self, cells: list[float]) -> bool:
        differences = [now - before for now, before in zip(cells, self._reference, strict=True)]
        ordered = sorted(differences)
        middle = len(ordered) // 2
        median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
        needed = max(1, math.ceil(self.cell_fraction * len(cells)))
        moved = sum(1 for difference in differences if abs(difference - median) > self.threshold)
        return moved >= needed
