"""The organisation's logo: checked by its content, re-encoded, kept in the instance folder, served to everyone.

Only PNG, JPEG and WebP are accepted, recognised by Pillow from the bytes (the file name and the
browser's content type are not trusted); SVG is refused because it can carry scripts. The image is
decoded and written anew as PNG (at most 600 × 200 pixels), so nothing but pixels reaches the
visitors; its file name carries a hash of the content, so browsers may keep it for a long time.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from learning.db import after_commit
from learning.errors import ServiceError
from learning.settings.services import current_settings, save_settings

ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP")
MAX_BYTES = 2 * 1024 * 1024
MAX_PIXELS = 25_000_000  # larger images are refused before decoding (decompression bombs)
BOX = (600, 200)


def logo_folder() -> Path:
    return Path(current_app.instance_path) / "organisation"


def logo_path(name: str) -> Path | None:
    """The stored logo file of that name, if it is the current one (no other file is ever served)."""
    if not name or name != current_settings()["organisation.logo"]:
        return None
    path = logo_folder() / name
    return path if path.is_file() else None


def _png(data: bytes) -> bytes:
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_BYTES:
        raise ServiceError(_("The logo may be at most 2 MB."), "logo")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ACCEPTED_FORMATS:
                raise ServiceError(_("Please upload the logo as PNG, JPEG or WebP (SVG is not accepted)."), "logo")
            if probe.width * probe.height > MAX_PIXELS:
                raise ServiceError(_("The logo image is too large; please upload a smaller one."), "logo")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            image = image.convert("RGBA")
            image.thumbnail(BOX)
            out = io.BytesIO()
            image.save(out, format="PNG", optimize=True)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ServiceError(_("Please upload the logo as PNG, JPEG or WebP (SVG is not accepted)."), "logo") from None


def save_logo(data: bytes, actor) -> str:
    """Check and store an uploaded logo, make it the current one (audited); returns its file name. Flushed.

    The file is written before the caller's commit (a rolled-back change leaves an unused file);
    older logo files are removed only after the commit.
    """
    png = _png(data)
    name = f"logo-{hashlib.sha256(png).hexdigest()[:16]}.png"
    folder = logo_folder()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(png)
    save_settings({"organisation.logo": name}, actor)
    after_commit(lambda: _remove_others(keep=name))
    return name


def remove_logo(actor) -> None:
    save_settings({"organisation.logo": ""}, actor)
    after_commit(lambda: _remove_others(keep=None))


def _remove_others(keep: str | None) -> None:
    folder = logo_folder()
    if folder.is_dir():
        for path in folder.glob("logo-*.png"):
            if path.name != keep:
                path.unlink(missing_ok=True)
