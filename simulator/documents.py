"""Delivery documents as real files: a signature image (PNG) and a proof-of-delivery letter
(PDF), drawn from the shipment alone so the same shipment always gives the same bytes.

No imaging library is needed: the PNG is grey-scale rows deflated with :mod:`zlib`, and the
PDF embeds the same rows (a PNG predictor stream is what PDF's FlateDecode reads) beside
its text in the built-in Helvetica font.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Sequence
from functools import cache

from simulator.seeding import seed_int

SIGNATURE_SIZE = (160, 48)
"""Width and height of a signature image, in pixels."""


def _signature_rows(signer: str, width: int, height: int) -> bytes:
    """PNG-filtered grey rows (filter byte 0, then one byte a pixel) of a scribble that
    depends on the signer's name: a few sine strokes whose phases come from the name."""
    h = seed_int("signature", signer)
    waves = [((h >> (8 * i)) & 0xFF) / 255 for i in range(6)]
    ink = [[False] * width for _ in range(height)]
    mid = height / 2
    for x in range(width // 10, width - width // 10):
        t = x / width * math.tau
        y = mid + (height / 3) * (
            0.6 * math.sin(t * (2 + 3 * waves[0]) + waves[1] * math.tau)
            + 0.4 * math.sin(t * (5 + 4 * waves[2]) + waves[3] * math.tau)
        )
        for dy in (-1, 0, 1):
            row = int(y) + dy
            if 0 <= row < height:
                ink[row][x] = True
    # An underline, as signatures on a delivery pad have.
    line = height - 4
    for x in range(width // 12, width - width // 12):
        ink[line][x] = True
    return b"".join(b"\x00" + bytes(0 if px else 255 for px in row) for row in ink)


@cache
def signature_png(signer: str) -> bytes:
    """A valid grey-scale PNG of the signer's signature (deterministic per name)."""
    width, height = SIGNATURE_SIZE

    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(_signature_rows(signer, width, height)))
        + chunk(b"IEND", b"")
    )


def _pdf_text(text: str) -> str:
    # PDF literal strings: backslash, parentheses escaped; Helvetica's standard encoding
    # covers Latin-1 closely enough, other characters become '?'.
    safe = text.encode("latin-1", "replace").decode("latin-1")
    return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


@cache
def proof_of_delivery_pdf(title: str, lines: Sequence[str], signer: str) -> bytes:
    """A one-page PDF letter: a title, text lines and the signer's signature image."""
    width, height = SIGNATURE_SIZE
    image = zlib.compress(_signature_rows(signer, width, height))
    text = ["BT", "/F1 16 Tf", "72 740 Td", f"({_pdf_text(title)}) Tj", "/F1 11 Tf"]
    for line in lines:
        text += ["0 -20 Td", f"({_pdf_text(line)}) Tj"]
    text += ["0 -30 Td", "(Signature:) Tj", "ET"]
    y = 740 - 20 * len(lines) - 30 - 10 - height * 1.5
    content = "\n".join(text).encode("latin-1") + (
        f"\nq {width * 1.5:.0f} 0 0 {height * 1.5:.0f} 72 {y:.0f} cm /Sig Do Q".encode()
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> /XObject << /Sig 6 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Filter /FlateDecode "
        b"/DecodeParms << /Predictor 15 /Colors 1 /BitsPerComponent 8 /Columns %d >> "
        b"/Length %d >>\nstream\n" % (width, height, width, len(image)) + image + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
