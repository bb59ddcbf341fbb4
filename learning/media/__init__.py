"""The media store: images, PDF attachments and short videos, checked by content and served to their audience."""

from flask import Blueprint

# No prefix: files are served under ``learning.content.MEDIA_PATH`` (/media/), the library under /admin/media/.
bp = Blueprint("media", __name__)
