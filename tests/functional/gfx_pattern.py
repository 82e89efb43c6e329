# SPDX-License-Identifier: MIT
"""Host-side twin of guest/pattern.h (drm-pattern, wl-pattern), and
screenshot readers.

pattern_pixel(x, y, w, h) is the test image the guest programs draw (keep the two
in step); pattern_rgb(w, h) is the whole image as raw RGB bytes, row-major,
three bytes a pixel, the layout read_ppm() and read_png() return, so a
screendump is checked with a plain comparison (compare() says where and
how it differs).  cursor_pixel() is drm-pattern's --cursor image.

Standard library only.
"""

import struct
import zlib

BARS = (0xFFFFFF, 0xFFFF00, 0x00FFFF, 0x00FF00,
        0xFF00FF, 0xFF0000, 0x0000FF, 0x000000)
CURSOR_SIZE = 64


def pattern_pixel(x, y, w, h):
    """The test image's pixel (x, y) as 0xRRGGBB (see drm-pattern.c)."""
    left, right, top, bottom = x == 0, x == w - 1, y == 0, y == h - 1
    if top and left:
        return 0xFF0000
    if top and right:
        return 0x00FF00
    if bottom and left:
        return 0x0000FF
    if bottom and right:
        return 0xFFFF00
    if top or bottom or left or right:
        return 0x000000 if (x + y) & 1 else 0xFFFFFF
    if y < h // 2:
        return BARS[x * 8 // w]
    if y < h * 3 // 4:
        v = x * 256 // w
        return v << 16 | v << 8 | v
    return ((x & 255) << 16 | (y & 255) << 8 |
            ((x >> 8) & 15) << 4 | ((y >> 8) & 15))


def pattern_rgb(w, h):
    """The test image as w*h*3 bytes of RGB, row-major."""
    out = bytearray(w * h * 3)
    i = 0
    for y in range(h):
        for x in range(w):
            p = pattern_pixel(x, y, w, h)
            out[i] = p >> 16
            out[i + 1] = (p >> 8) & 255
            out[i + 2] = p & 255
            i += 3
    return bytes(out)


def pattern_rows(w, h):
    """The test image as a list of rows of (r, g, b) tuples."""
    return rgb_rows(pattern_rgb(w, h), w, h)


def rgb_rows(data, w, h):
    """Raw RGB bytes -> list of rows of (r, g, b) tuples."""
    return [[tuple(data[(y * w + x) * 3:(y * w + x) * 3 + 3])
             for x in range(w)] for y in range(h)]


def cursor_pixel(x, y):
    """drm-pattern's 64x64 cursor pixel (x, y) as 0xAARRGGBB."""
    last = CURSOR_SIZE - 1
    if x in (0, last) or y in (0, last):
        return 0xFFFF0000
    if x == y:
        return 0xFF00FF00
    if x < 16 and y < 16:
        return 0xFF0000FF
    if 40 <= x < 56 and 40 <= y < 56:
        return 0x80FFFFFF
    return 0


class ImageError(Exception):
    """The file is not an image these readers understand."""


def read_ppm(path_or_bytes):
    """Read a binary PPM (P6, maxval 255): return (w, h, rgb_bytes)."""
    data = _bytes(path_or_bytes)
    fields, pos = [], 0
    while len(fields) < 4:
        while pos < len(data) and data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            while pos < len(data) and data[pos] not in b"\r\n":
                pos += 1
            continue
        start = pos
        while pos < len(data) and not data[pos:pos + 1].isspace():
            pos += 1
        if start == pos:
            raise ImageError("truncated PPM header")
        fields.append(data[start:pos])
    if fields[0] != b"P6":
        raise ImageError(f"not a binary PPM (magic {fields[0]!r})")
    try:
        w, h, maxval = (int(f) for f in fields[1:])
    except ValueError:
        raise ImageError("bad PPM header") from None
    if maxval != 255:
        raise ImageError(f"PPM maxval {maxval}, only 255 is supported")
    pos += 1  # exactly one whitespace byte ends the header
    pixels = data[pos:pos + w * h * 3]
    if len(pixels) != w * h * 3:
        raise ImageError(f"PPM has {len(pixels)} bytes of pixels, "
                         f"{w}x{h} needs {w * h * 3}")
    return w, h, bytes(pixels)


def read_png(path_or_bytes):
    """Read a non-interlaced 8-bit RGB or RGBA PNG: return (w, h, rgb).

    The alpha channel of RGBA is dropped (returned separately by
    read_png_alpha() for callers that care).
    """
    w, h, rgb, _ = _read_png(path_or_bytes)
    return w, h, rgb


def read_png_alpha(path_or_bytes):
    """Like read_png() but returns (w, h, rgb, alpha-or-None)."""
    return _read_png(path_or_bytes)


def _read_png(path_or_bytes):
    data = _bytes(path_or_bytes)
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ImageError("not a PNG")
    pos, ihdr, idat = 8, None, []
    while pos + 8 <= len(data):
        length, ctype = struct.unpack_from(">I4s", data, pos)
        body = data[pos + 8:pos + 8 + length]
        crc, = struct.unpack_from(">I", data, pos + 8 + length)
        if zlib.crc32(ctype + body) != crc:
            raise ImageError(f"PNG chunk {ctype!r}: bad CRC")
        pos += 12 + length
        if ctype == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif ctype == b"IDAT":
            idat.append(body)
        elif ctype == b"IEND":
            break
    if not ihdr:
        raise ImageError("PNG without IHDR")
    w, h, depth, ctype, comp, filt, interlace = ihdr
    if depth != 8 or ctype not in (2, 6) or comp or filt or interlace:
        raise ImageError(f"unsupported PNG (depth {depth}, colour type "
                         f"{ctype}, interlace {interlace}); need 8-bit "
                         f"RGB/RGBA, not interlaced")
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = w * bpp
    if len(raw) != h * (stride + 1):
        raise ImageError(f"PNG data is {len(raw)} bytes, {w}x{h} needs "
                         f"{h * (stride + 1)}")
    out = bytearray(h * stride)
    prev = bytearray(stride)
    for y in range(h):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        _unfilter(ftype, line, prev, bpp)
        out[y * stride:(y + 1) * stride] = line
        prev = line
    if bpp == 3:
        return w, h, bytes(out), None
    rgb = bytearray(w * h * 3)
    rgb[0::3] = out[0::4]
    rgb[1::3] = out[1::4]
    rgb[2::3] = out[2::4]
    return w, h, bytes(rgb), bytes(out[3::4])


def _unfilter(ftype, line, prev, bpp):
    n = len(line)
    if ftype == 0:
        return
    if ftype == 1:  # Sub
        for i in range(bpp, n):
            line[i] = (line[i] + line[i - bpp]) & 255
    elif ftype == 2:  # Up
        for i in range(n):
            line[i] = (line[i] + prev[i]) & 255
    elif ftype == 3:  # Average
        for i in range(n):
            a = line[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + ((a + prev[i]) >> 1)) & 255
    elif ftype == 4:  # Paeth
        for i in range(n):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
            line[i] = (line[i] + pred) & 255
    else:
        raise ImageError(f"PNG filter type {ftype}")


def read_image(path_or_bytes):
    """read_ppm() or read_png(), chosen by the file's magic."""
    data = _bytes(path_or_bytes)
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return read_png(data)
    return read_ppm(data)


def write_ppm(path, w, h, rgb):
    """Write raw RGB bytes as a binary PPM (for looking at a failure)."""
    with open(path, "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (w, h))
        f.write(rgb)


def compare(w, h, got, want, limit=10):
    """Compare two RGB byte strings of a w x h image.

    Returns (mismatching_pixel_count, [(x, y, got_rgb, want_rgb), ...]) with
    at most limit examples, first in row-major order.
    """
    if got == want:
        return 0, []
    bad, examples = 0, []
    n = min(len(got), len(want)) // 3
    for y in range(h):
        row = y * w * 3
        if got[row:row + w * 3] == want[row:row + w * 3]:
            continue
        for x in range(w):
            i = (y * w + x) * 3
            if i // 3 >= n:
                break
            if got[i:i + 3] != want[i:i + 3]:
                bad += 1
                if len(examples) < limit:
                    examples.append((x, y, tuple(got[i:i + 3]),
                                     tuple(want[i:i + 3])))
    bad += abs(len(got) - len(want)) // 3
    return bad, examples


def _bytes(path_or_bytes):
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        return bytes(path_or_bytes)
    with open(path_or_bytes, "rb") as f:
        return f.read()


if __name__ == "__main__":
    # gfx_pattern.py W H OUT.ppm: write the expected image, to look at.
    import sys
    if len(sys.argv) != 4:
        print("usage: gfx_pattern.py WIDTH HEIGHT OUT.ppm", file=sys.stderr)
        sys.exit(2)
    W, H = int(sys.argv[1]), int(sys.argv[2])
    write_ppm(sys.argv[3], W, H, pattern_rgb(W, H))
