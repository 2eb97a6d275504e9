"""Just enough of PNG to look at a screenshot without a dependency: 8-bit RGB or RGBA, not interlaced."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {2: 3, 6: 4}  # colour type: RGB, RGBA


@dataclass(frozen=True)
class Image:
    width: int
    height: int
    channels: int
    rows: list[bytes]  # unfiltered, `width * channels` bytes each

    def pixels(self, every: int = 1):
        """(r, g, b) of every `every`-th pixel of every `every`-th row."""
        step = self.channels * every
        for row in self.rows[::every]:
            for start in range(0, len(row), step):
                yield tuple(row[start:start + 3])


def read_png(path: Path) -> Image:
    data = path.read_bytes()
    assert data.startswith(SIGNATURE), f"{path} is not a PNG"
    position, compressed = len(SIGNATURE), []
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in CHANNELS and not interlace, "only 8-bit RGB(A), not interlaced"
        elif kind == b"IDAT":
            compressed.append(body)
    channels = CHANNELS[colour]
    return Image(width, height, channels, unfilter(zlib.decompress(b"".join(compressed)), width * channels, height, channels))


def unfilter(raw: bytes, stride: int, height: int, channels: int) -> list[bytes]:
    rows, prior = [], bytes(stride)
    for index in range(height):
        start = index * (stride + 1)
        kind, line = raw[start], raw[start + 1:start + 1 + stride]
        if kind == 0:
            row = line
        elif kind == 2:
            row = bytes((value + above) & 255 for value, above in zip(line, prior))
        else:
            row = bytearray(line)
            for i in range(stride):
                left = row[i - channels] if i >= channels else 0
                corner = prior[i - channels] if i >= channels else 0
                row[i] = (row[i] + predict(kind, left, prior[i], corner)) & 255
            row = bytes(row)
        rows.append(row)
        prior = row
    return rows


def predict(kind: int, left: int, above: int, corner: int) -> int:
    if kind == 1:
        return left
    if kind == 3:
        return (left + above) // 2
    estimate = left + above - corner  # Paeth
    to_left, to_above, to_corner = abs(estimate - left), abs(estimate - above), abs(estimate - corner)
    if to_left <= to_above and to_left <= to_corner:
        return left
    return above if to_above <= to_corner else corner
