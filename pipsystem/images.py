"""The size of an image read from its header, before any pixel is decoded: a PNG a few kilobytes
long can hold a picture of billions of pixels, which decoding, scaling or printing would then
hold in memory."""

from __future__ import annotations

import struct

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: Bytes of a PNG up to the end of its IHDR chunk's width and height.
PNG_HEADER_BYTES = 24


class NotAPng(ValueError):
    """The bytes do not start like a PNG image."""


def png_dimensions(head: bytes) -> tuple[int, int]:
    """(width, height) from the first bytes of a PNG (at least PNG_HEADER_BYTES of them).
    Raises NotAPng when they are not the start of a PNG image."""
    if len(head) < PNG_HEADER_BYTES or not head.startswith(PNG_MAGIC) or head[12:16] != b"IHDR":
        raise NotAPng("not a PNG image")
    width, height = struct.unpack(">II", head[16:24])
    if width == 0 or height == 0:
        raise NotAPng("a PNG image without pixels")
    return width, height
