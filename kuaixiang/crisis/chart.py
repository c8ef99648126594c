"""A small bar chart as a PNG (pure Python: zlib + struct), for the special report's hourly series.

No plotting library is installed and the report must render without network, so this draws
bars, a baseline, horizontal grid lines and digit labels (a 3×5 pixel font, scaled) itself.
Words (titles, hour labels) go in the Word table next to the picture.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

_DIGITS = {
    "0": ("111", "101", "101", "101", "111"),
    "1": ("010", "110", "010", "010", "111"),
    "2": ("111", "001", "111", "100", "111"),
    "3": ("111", "001", "111", "001", "111"),
    "4": ("101", "101", "111", "001", "001"),
    "5": ("111", "100", "111", "001", "111"),
    "6": ("111", "100", "111", "101", "111"),
    "7": ("111", "001", "010", "010", "010"),
    "8": ("111", "101", "111", "101", "111"),
    "9": ("111", "101", "111", "001", "111"),
}
WHITE = (255, 255, 255)
GRID = (225, 228, 232)
AXIS = (90, 96, 104)
BAR = (200, 48, 48)
TEXT = (60, 64, 70)


class Canvas:
    def __init__(self, width: int, height: int):
        self.width, self.height = width, height
        self.rows = [bytearray(WHITE * width) for _ in range(height)]

    def rect(self, x0: int, y0: int, x1: int, y1: int, colour: tuple[int, int, int]) -> None:
        """Fill [x0, x1) × [y0, y1), clipped to the canvas."""
        x0, x1 = max(0, x0), min(self.width, x1)
        y0, y1 = max(0, y0), min(self.height, y1)
        if x0 >= x1:
            return
        run = bytes(colour) * (x1 - x0)
        for y in range(y0, y1):
            self.rows[y][x0 * 3 : x1 * 3] = run

    def text(self, x: int, y: int, digits: str, scale: int = 2, colour: tuple[int, int, int] = TEXT) -> None:
        for ch in digits:
            glyph = _DIGITS.get(ch)
            if glyph:
                for gy, line in enumerate(glyph):
                    for gx, bit in enumerate(line):
                        if bit == "1":
                            self.rect(
                                x + gx * scale, y + gy * scale, x + (gx + 1) * scale, y + (gy + 1) * scale, colour
                            )
            x += 4 * scale

    def png(self) -> bytes:
        raw = b"".join(b"\x00" + bytes(row) for row in self.rows)

        def chunk(kind: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
        )


def text_width(digits: str, scale: int = 2) -> int:
    return len(digits) * 4 * scale


def bar_chart_png(values: Sequence[int], *, width: int = 900, height: int = 360) -> bytes:
    """A PNG bar chart of ``values`` (non-negative counts, left to right), labelled with each bar's
    value when there is room, and the scale's maximum at the top-left."""
    canvas = Canvas(width, height)
    top = max(max(values, default=0), 1)
    left, right, upper, lower = 48, 12, 16, 24
    plot_w, plot_h = width - left - right, height - upper - lower
    for i in range(5):
        y = upper + plot_h * i // 4
        canvas.rect(left, y, width - right, y + 1, GRID)
        label = str(round(top * (4 - i) / 4))
        canvas.text(left - 6 - text_width(label), y - 5, label)
    n = max(len(values), 1)
    slot = plot_w / n
    bar_w = max(1, int(slot * 0.7))
    for i, value in enumerate(values):
        x = left + int(i * slot + (slot - bar_w) / 2)
        h = round(plot_h * max(value, 0) / top)
        canvas.rect(x, upper + plot_h - h, x + bar_w, upper + plot_h, BAR)
        label = str(value)
        if value and text_width(label) <= slot:
            canvas.text(x + (bar_w - text_width(label)) // 2, upper + plot_h - h - 13, label)
    canvas.rect(left, upper + plot_h, width - right, upper + plot_h + 2, AXIS)
    canvas.rect(left - 1, upper, left + 1, upper + plot_h, AXIS)
    return canvas.png()
