"""What an uploaded file really is, decided by its content alone; images re-encoded clean.

Neither the file name nor the browser's Content-Type decides anything: the first bytes name the
type (PNG, JPEG, WebP, PDF, MP4, WebM), and the whole structure must agree with them, from the first
byte to the last. A file with bytes after its end (a PNG with a zip appended, a JPEG that is also a
PDF) is refused, as is a truncated one. Images are decoded in full by Pillow after their size in
pixels was checked against ``MEDIA_MAX_IMAGE_PIXELS`` (a decompression bomb is refused before it
is decoded), then written anew: without EXIF, XMP, ICC profiles or text chunks, scaled down to
``MEDIA_MAX_IMAGE_EDGE``. SVG is refused: it is a document that can carry scripts.

Every refusal is a ``ServiceError`` on the form field it concerns, in the person's language.
"""

from __future__ import annotations

import re
import struct
import warnings
from dataclasses import dataclass
from io import BytesIO
from typing import BinaryIO

from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from learning.errors import ServiceError

HEAD_BYTES = 64
THUMBNAIL_EDGE = 320
JPEG_QUALITY = 85
WEBP_QUALITY = 85

PILLOW_FORMATS = {"png": "PNG", "jpg": "JPEG", "webp": "WEBP"}
IMAGE_EXTENSIONS = frozenset(PILLOW_FORMATS)
VIDEO_EXTENSIONS = frozenset({"mp4", "webm"})
# ISO base media brands browsers play as video/mp4 (QuickTime's "qt  " is not among them).
MP4_BRANDS = frozenset({b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ",
                        b"dash", b"mmp4", b"MSNV", b"iso8", b"av01"})
MP4_MAX_BOXES = 10_000
# Another file hidden inside an image (a PDF in a JPEG comment, HTML in a PNG text chunk): the image is
# refused, though re-encoding would drop it anyway. Compressed image data holds these by chance with a
# probability far below one in a million.
FOREIGN_IN_IMAGE_RE = re.compile(rb"%PDF-|<(?:script|html|body|iframe|svg|object|embed)[\s>/]", re.IGNORECASE)
SVG_RE = re.compile(rb"<svg[\s>]|<\?xml|<!doctype\s+svg", re.IGNORECASE)
# Names of active content in a PDF: scripts, launching programs, embedded files, Flash.
PDF_ACTIVE_RE = re.compile(rb"/(?:JavaScript|JS|Launch|EmbeddedFiles?|RichMedia)(?![A-Za-z0-9#])")
PDF_ESCAPED_NAME_RE = re.compile(rb"/[A-Za-z0-9]*#[0-9A-Fa-f]{2}[A-Za-z0-9#]*")
PDF_SCAN_CHUNK = 1024 * 1024
PDF_TRAILER_BYTES = 1024
VTT_TIME = r"(?:\d{2,}:)?[0-5]\d:[0-5]\d\.\d{3}"
VTT_TIMING_RE = re.compile(rf"^{VTT_TIME}[ \t]+-->[ \t]+{VTT_TIME}(?:[ \t].*)?$", re.MULTILINE)
VTT_HEADER_RE = re.compile(r"WEBVTT(?:[ \t][^\r\n]*)?(?:\r\n|\r|\n|$)")
VTT_REFUSED_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def sniff(head: bytes) -> str | None:
    """The store's extension for the type the first bytes announce, or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head[4:8] == b"ftyp":
        return "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    return None


def looks_like_svg(head: bytes, filename: str) -> bool:
    """SVG (or a file named so): said apart from other unknown types only to give the right reason."""
    return bool(SVG_RE.search(head.lstrip(b"\xef\xbb\xbf \t\r\n"))) or filename.lower().endswith((".svg", ".svgz"))


def unsupported_type(head: bytes, filename: str) -> ServiceError:
    if looks_like_svg(head, filename):
        return ServiceError(_("SVG images are not accepted, because an SVG file can contain scripts. "
                              "Please save the image as PNG (or JPEG or WebP) and upload that."), field="file")
    return ServiceError(_("This file is not an image (PNG, JPEG, WebP), a PDF document or a video (MP4, WebM), "
                          "whatever its name says. Please choose another file."), field="file")


def _damaged() -> ServiceError:
    return ServiceError(_("The file is damaged or incomplete, or it contains more than its type allows "
                          "(for example a second file appended to it). Please save it again and upload it anew."),
                        field="file")


# Images ---------------------------------------------------------------------------------------

@dataclass
class CleanImage:
    data: bytes
    extension: str
    width: int
    height: int
    thumbnail: bytes


def _png_end(data: bytes) -> int | None:
    """Where a PNG's IEND chunk ends, or None if the chunks do not lead there."""
    pos = 8
    while pos + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        pos += 12 + length
        if kind == b"IEND":
            return pos if pos <= len(data) else None
    return None


def _jpeg_end(data: bytes) -> int | None:
    """Where a JPEG's end-of-image marker ends, following its segments and entropy-coded data."""
    pos = 2
    size = len(data)
    while pos + 2 <= size:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:
            return pos + 2
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            pos += 2
            continue
        if pos + 4 > size:
            return None
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if length < 2:
            return None
        pos += 2 + length
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next marker that is not a restart
            while True:
                pos = data.find(b"\xff", pos)
                if pos < 0 or pos + 1 >= size:
                    return None
                following = data[pos + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                    pos += 1 if following == 0xFF else 2
                    continue
                break
    return None


def _webp_end(data: bytes) -> int | None:
    if len(data) < 12:
        return None
    riff_size = struct.unpack("<I", data[4:8])[0]
    return 8 + riff_size + (riff_size & 1)


def _ends_where_it_should(data: bytes, extension: str) -> bool:
    end = {"png": _png_end, "jpg": _jpeg_end, "webp": _webp_end}[extension](data)
    if end is None:
        return False
    if extension == "webp" and end == len(data) + 1:  # the RIFF pad byte may be left out
        return True
    return end == len(data)


def clean_image(data: bytes, extension: str, *, max_pixels: int, max_edge: int) -> CleanImage:
    """Check an image fully and return it re-encoded without metadata, scaled to ``max_edge``."""
    if not _ends_where_it_should(data, extension) or FOREIGN_IN_IMAGE_RE.search(data):
        raise _damaged()
    expected = PILLOW_FORMATS[extension]
    # Pillow's guard against decompression bombs, at our limit; its warning (between one and two times
    # the limit) is a refusal here too, so every image above the limit is refused before it is decoded.
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(BytesIO(data), formats=[expected])
        with probe:
            width, height = probe.size
            if probe.format != expected:
                raise _damaged()
            if width * height > max_pixels:
                raise _too_many_pixels(width, height, max_pixels)
            if getattr(probe, "n_frames", 1) > 1:
                raise ServiceError(_("Animated images are not accepted. Please upload a still image, "
                                     "or the animation as a video with captions."), field="file")
            probe.verify()  # checksums (PNG), before anything is decoded
        with Image.open(BytesIO(data), formats=[expected]) as image:
            image.load()
            return _reencode(image, extension, max_edge)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(0, 0, max_pixels) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, struct.error):
        raise _damaged() from None


def _too_many_pixels(width: int, height: int, max_pixels: int) -> ServiceError:
    return ServiceError(_("The image has too many pixels (at most %(megapixels)d megapixels). Please scale it "
                          "down before uploading it.", megapixels=max_pixels // 1_000_000), field="file")


def _reencode(image: Image.Image, extension: str, max_edge: int) -> CleanImage:
    image = ImageOps.exif_transpose(image)  # the orientation EXIF gave is kept in the pixels, as EXIF goes
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode == "P" and "transparency" in image.info)
    if extension == "jpg" or not has_alpha:
        mode = "L" if image.mode in ("1", "L", "I", "I;16", "F") else "RGB"
    else:
        mode = "RGBA"
    clean = image.convert(mode)
    if max(clean.size) > max_edge:
        clean.thumbnail((max_edge, max_edge), Image.Resampling.LANCZOS)
    clean.info = {}  # no EXIF, XMP, ICC profile, comments or text chunks travel along
    output = BytesIO()
    if extension == "png":
        clean.save(output, "PNG", optimize=True)
    elif extension == "jpg":
        clean.save(output, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    else:
        clean.save(output, "WEBP", quality=WEBP_QUALITY, method=4)
    thumbnail = clean.convert("RGBA" if mode == "RGBA" else "RGB")
    thumbnail.thumbnail((THUMBNAIL_EDGE, THUMBNAIL_EDGE), Image.Resampling.LANCZOS)
    small = BytesIO()
    thumbnail.save(small, "WEBP", quality=80, method=4)
    return CleanImage(output.getvalue(), extension, clean.width, clean.height, small.getvalue())


# PDF ------------------------------------------------------------------------------------------

def check_pdf(file: BinaryIO, size: int) -> None:
    """A PDF from its header to its ``%%EOF``, without scripts, launch actions or embedded files."""
    file.seek(0)
    if not re.match(rb"%PDF-[12]\.\d", file.read(8)):
        raise _damaged()
    file.seek(max(0, size - PDF_TRAILER_BYTES))
    tail = file.read()
    end = tail.rfind(b"%%EOF")
    if end < 0 or tail[end + 5:].strip(b"\r\n \t\x00"):
        raise _damaged()
    file.seek(0)
    carry = b""
    while chunk := file.read(PDF_SCAN_CHUNK):
        window = carry + chunk
        if PDF_ACTIVE_RE.search(window) or any(
                PDF_ACTIVE_RE.fullmatch(_unescape_name(name)) for name in PDF_ESCAPED_NAME_RE.findall(window)):
            raise ServiceError(_("This PDF contains scripts, actions that start programs or embedded files, which "
                                 "are not accepted. Please export it again as a plain PDF (e.g. PDF/A)."),
                               field="file")
        carry = window[-64:]


def _unescape_name(name: bytes) -> bytes:
    return re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), name)


# Video ----------------------------------------------------------------------------------------

def check_video(file: BinaryIO, size: int, extension: str) -> None:
    (_check_mp4 if extension == "mp4" else _check_webm)(file, size)


def _check_mp4(file: BinaryIO, size: int) -> None:
    """ISO base media boxes that cover the file exactly: ``ftyp`` first with a known brand, ``moov`` and media."""
    kinds: list[bytes] = []
    pos = 0
    while pos < size:
        file.seek(pos)
        header = file.read(8)
        if len(header) < 8:
            raise _damaged()
        box_size, kind = struct.unpack(">I4s", header)
        header_size = 8
        if box_size == 1:
            large = file.read(8)
            if len(large) < 8:
                raise _damaged()
            box_size = struct.unpack(">Q", large)[0]
            header_size = 16
        elif box_size == 0:
            box_size = size - pos
        if box_size < header_size or pos + box_size > size or not re.fullmatch(rb"[A-Za-z0-9 \xa9_-]{4}", kind):
            raise _damaged()
        if not kinds:
            if kind != b"ftyp" or box_size < 16 or file.read(4) not in MP4_BRANDS:
                raise _not_a_video()
        kinds.append(kind)
        if len(kinds) > MP4_MAX_BOXES:
            raise _damaged()
        pos += box_size
    if b"moov" not in kinds or not ({b"mdat", b"moof"} & set(kinds)):
        raise _damaged()


def _read_vint(file: BinaryIO, *, keep_marker: bool) -> tuple[int, int, bool]:
    """An EBML variable-length integer: (value, length in bytes, whether all value bits are set)."""
    first = file.read(1)
    if not first:
        raise _damaged()
    byte = first[0]
    length = 1
    mask = 0x80
    while length <= 8 and not byte & mask:
        mask >>= 1
        length += 1
    if length > 8:
        raise _damaged()
    rest = file.read(length - 1)
    if len(rest) < length - 1:
        raise _damaged()
    value = byte if keep_marker else byte & (mask - 1)
    for extra in rest:
        value = (value << 8) | extra
    all_ones = not keep_marker and value == (1 << (7 * length)) - 1
    return value, length, all_ones


def _check_webm(file: BinaryIO, size: int) -> None:
    """An EBML header with DocType ``webm``, then one Segment that (when its size is known) ends the file."""
    file.seek(0)
    element, _length, _ = _read_vint(file, keep_marker=True)
    header_size, _length, unknown = _read_vint(file, keep_marker=False)
    if element != 0x1A45DFA3 or unknown or header_size > 4096:
        raise _damaged()
    body_start = file.tell()
    doc_type = None
    while file.tell() < body_start + header_size:
        child, _length, _ = _read_vint(file, keep_marker=True)
        child_size, _length, _ = _read_vint(file, keep_marker=False)
        value = file.read(child_size)
        if len(value) < child_size:
            raise _damaged()
        if child == 0x4282:
            doc_type = value.rstrip(b"\x00")
    if file.tell() != body_start + header_size:
        raise _damaged()
    if doc_type != b"webm":
        raise _not_a_video()
    segment, _length, _ = _read_vint(file, keep_marker=True)
    segment_size, _length, unknown = _read_vint(file, keep_marker=False)
    if segment != 0x18538067 or (not unknown and file.tell() + segment_size != size):
        raise _damaged()


def _not_a_video() -> ServiceError:
    return ServiceError(_("This video format is not accepted. Please upload an MP4 (H.264) or a WebM video."),
                        field="file")


# Captions -------------------------------------------------------------------------------------

def check_captions(data: bytes, max_bytes: int) -> bytes:
    """A WebVTT file in UTF-8 with at least one cue; returned without a byte order mark."""
    if len(data) > max_bytes:
        raise ServiceError(_("The captions file is too large (at most %(kb)d KB).", kb=max_bytes // 1024),
                           field="captions")
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ServiceError(_("The captions file is not saved as UTF-8. Please save it as UTF-8 and upload it "
                             "again."), field="captions") from None
    if not VTT_HEADER_RE.match(text) or not VTT_TIMING_RE.search(text) or VTT_REFUSED_RE.search(text):
        raise ServiceError(_("The captions file is not a WebVTT file: it must begin with the line WEBVTT and "
                             "contain cues with times such as 00:00:01.000 --> 00:00:04.000."), field="captions")
    return data
