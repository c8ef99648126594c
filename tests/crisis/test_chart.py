"""The pure-Python PNG bar chart used in the special report."""

import struct
import zlib

from hypothesis import given, settings
from hypothesis import strategies as st

from kuaixiang.crisis.chart import bar_chart_png


def _decode(png: bytes) -> tuple[int, int, bytes]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, size = 8, b"", None
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + data) & 0xFFFFFFFF
        if kind == b"IHDR":
            size = struct.unpack(">II", data[:8])
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    width, height = size
    return width, height, zlib.decompress(idat)


def test_taller_bars_paint_more_red_pixels():
    width, height, raw = _decode(bar_chart_png([1, 10], width=200, height=120))
    assert len(raw) == height * (1 + 3 * width)
    rows = [raw[y * (1 + 3 * width) + 1 : (y + 1) * (1 + 3 * width)] for y in range(height)]

    def red_in(x0, x1):
        return sum(1 for row in rows for x in range(x0, x1) if row[3 * x : 3 * x + 3] == bytes((200, 48, 48)))

    middle = 48 + (200 - 60) // 2
    assert red_in(middle, 200) > 5 * red_in(48, middle) > 0


@settings(max_examples=25)
@given(st.lists(st.integers(0, 10_000), max_size=200))
def test_any_series_gives_a_valid_png(values):
    width, height, raw = _decode(bar_chart_png(values, width=300, height=100))
    assert (width, height) == (300, 100) and len(raw) == 100 * (1 + 900)
