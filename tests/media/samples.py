"""Files for the media tests, made in the test: honest ones and hostile ones."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from PIL import ExifTags, Image


def png(size=(40, 30), color=(200, 30, 30), mode="RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg(size=(64, 48), color=(30, 120, 200), exif=None) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG", **({"exif": exif} if exif is not None else {}))
    return buffer.getvalue()


def webp(size=(50, 50)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", size, (10, 200, 10, 128)).save(buffer, "WEBP")
    return buffer.getvalue()


def jpeg_with_gps(orientation: int | None = None) -> bytes:
    """A photo as a phone writes it: camera, time and the place it was taken (GPS) in its EXIF."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Fotohandy"
    exif[ExifTags.Base.DateTime] = "2026:05:04 10:11:12"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 31.0, 12.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (13.0, 24.0, 36.0)
    return jpeg(size=(80, 40), exif=exif)


def zip_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.html", "<script>alert(1)</script>")
    return buffer.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width=30000, height=30000) -> bytes:
    """A tiny PNG that claims to unpack to ``width`` × ``height`` pixels (a decompression bomb)."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1 bit grey
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(200)) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


SVG_WITH_SCRIPT = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
                   b'<script>fetch("/admin/people")</script><rect width="10" height="10"/></svg>')
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


def pdf(body: bytes = b"") -> bytes:
    objects = (b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
               b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n" + body)
    return (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + objects + b"xref\n0 3\ntrailer << /Root 1 0 R /Size 3 >>\n"
            b"startxref\n0\n%%EOF\n")


def pdf_with_javascript() -> bytes:
    return pdf(b"3 0 obj << /S /JavaScript /JS (app.alert('hi')) >> endobj\n")


def _box(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", 8 + len(data)) + kind + data


def mp4(payload: int = 4000) -> bytes:
    """The boxes of an MP4 (ftyp, moov, mdat) with filler media data: enough for the checks and for ranges."""
    return (_box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2avc1mp41") + _box(b"moov", _box(b"mvhd", b"\x00" * 100))
            + _box(b"mdat", bytes(range(256)) * (payload // 256)))


def _ebml(element_id: bytes, data: bytes) -> bytes:
    return element_id + bytes([0x01]) + struct.pack(">Q", len(data))[1:] + data  # 8-byte size


def webm(payload: int = 2000) -> bytes:
    header = _ebml(b"\x42\x86", b"\x01") + _ebml(b"\x42\x82", b"webm")
    return _ebml(b"\x1a\x45\xdf\xa3", header) + _ebml(b"\x18\x53\x80\x67", b"\x00" * payload)


CAPTIONS = (b"WEBVTT\n\n00:00:00.000 --> 00:00:02.500\nGuten Tag und willkommen.\n\n"
            b"00:00:02.500 --> 00:00:05.000\nSo finden Sie eine Akte.\n")
SRT = b"1\n00:00:00,000 --> 00:00:02,500\nGuten Tag.\n"


def jpeg_with_pdf_inside() -> bytes:
    """A JPEG/PDF polyglot: the PDF sits in a comment segment right after the start, where PDF readers look."""
    image, document = jpeg(), pdf()
    return image[:2] + b"\xff\xfe" + struct.pack(">H", len(document) + 2) + document + image[2:]


def png_with_html_chunk() -> bytes:
    image = png()
    return image[:33] + _chunk(b"tEXt", b"Comment\x00<html><script>alert(1)</script></html>") + image[33:]
