"""A grey 8-bit PNG writer (stdlib only) for the end-to-end tests' image folders."""
import struct
import zlib


def write_png(path, pixels):
    """Writes a grey 8-bit PNG from a 2-D array of 0..255 (numpy uint8 or lists of ints)."""
    h, w = len(pixels), len(pixels[0])
    raw = b"".join(b"\x00" + bytes(row) for row in pixels)

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
