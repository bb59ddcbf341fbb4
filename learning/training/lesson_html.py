"""A lesson's stored HTML: its Markdown without the title line, images from the course folder, tables that scroll,
videos of the media library in a player with their captions and transcript."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from itertools import count

from flask import current_app, has_app_context
from flask_babel import force_locale
from flask_babel import gettext as _

from learning.content import Profile, course_image, render

TABLE_RE = re.compile(r"<table\b[^>]*>.*?</table>", re.S)
# A video of the media library written as an image (``![Title](/media/<hash>.mp4)``, what the editor inserts),
# alone in its paragraph or not: the renderer has made it an <img>, which becomes the player.
VIDEO_IMG_RE = re.compile(r'(<p>)?<img (?=[^>]*\bsrc="/media/([0-9a-f]{64})\.(mp4|webm)")[^>]*>(?(1)</p>)')
ALT_RE = re.compile(r'\balt="([^"]*)"')


def _media_url(slug: str):
    def url(filename: str) -> str:
        if has_app_context():
            adapter = current_app.url_map.bind("localhost", script_name=current_app.config.get("APPLICATION_ROOT", "/"))
            return adapter.build("training.media", {"slug": slug, "filename": filename})
        return f"/learning/courses/{slug}/media/{filename}"

    return url


def _course_of(row: Mapping) -> tuple[str, str]:
    """Slug and language of the lesson's course: from the ORM object, or looked up (``rerender``)."""
    course = row.get("course")
    if course is not None:
        return course.slug, course.language or "de"
    from sqlalchemy import select

    from learning.training.models import Course

    table = Course.__table__
    slug, language = _execute(row, select(table.c.slug, table.c.language).where(table.c.id == row["course_id"])).one()
    return slug, language or "de"


def _execute(row: Mapping, query):
    """Run a read of the lesson's neighbours on the rerender's connection, or in the ORM session without flushing
    (rendering happens while the lesson is being flushed)."""
    if "_connection" in row:
        return row["_connection"].execute(query)
    from learning.db import db

    with db.session.no_autoflush:
        return db.session.execute(query)


def lesson_html(row: Mapping, text: str, *, english: bool = False) -> str:
    """Render a lesson body (German or English) for storing; the page shows it as it is."""
    if not text:
        return ""
    slug, language = _course_of(row)
    language = "en" if english else language
    lines = text.lstrip("\ufeff").splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    if lines and lines[0].startswith("# "):
        lines.pop(0)
    rendered = render("\n".join(lines), Profile.COURSE, top_heading=2, language=language,
                      image_src=course_image(_media_url(slug)))
    tables = count(1)

    def scrollable_table(match: re.Match) -> str:
        # Wide tables scroll inside a focusable region instead of squeezing words apart on a phone.
        with force_locale(language):
            label = html.escape(_("Table %(number)d", number=next(tables)), quote=True)
        return f'<div class="table-scroll" role="region" aria-label="{label}" tabindex="0">{match.group(0)}</div>'

    return _video_players(row, TABLE_RE.sub(scrollable_table, rendered), language)


def _video_players(row: Mapping, rendered: str, language: str) -> str:
    """Each video of the media library in the lesson as the library's player (captions track, transcript); a
    path that is no video of the library stays as the renderer left it (one query, none without videos)."""
    hashes = {match.group(2) for match in VIDEO_IMG_RE.finditer(rendered)}
    if not hashes or not has_app_context():
        return rendered
    from flask import get_template_attribute
    from sqlalchemy import select

    from learning.content import MEDIA_PATH
    from learning.media.models import MediaItem, MediaKind
    from learning.media.services import VideoPlayer

    table = MediaItem.__table__
    query = (select(table.c.sha256, table.c.extension, table.c.captions_sha256, table.c.captions_language,
                    table.c.transcript)
             .where(table.c.sha256.in_(hashes), table.c.kind == MediaKind.VIDEO.value).order_by(table.c.id))
    found = _execute(row, query).all()
    videos = {}
    for sha256, extension, captions, captions_language, transcript in found:
        videos.setdefault(sha256, (extension, captions, captions_language, transcript))
    macro = get_template_attribute("media/_macros.html", "video")

    def player(match: re.Match) -> str:
        if match.group(2) not in videos:
            return match.group(0)
        extension, captions, captions_language, transcript = videos[match.group(2)]
        title = html.unescape(ALT_RE.search(match.group(0)).group(1)) if ALT_RE.search(match.group(0)) else ""
        with force_locale(language):
            return str(macro(VideoPlayer(
                f"{MEDIA_PATH}{match.group(2)}.{extension}", f"video/{extension}", title,
                f"{MEDIA_PATH}{captions}.vtt" if captions else None, captions_language, transcript)))

    return VIDEO_IMG_RE.sub(player, rendered)


def german_lesson_html(row: Mapping, text: str) -> str:
    return lesson_html(row, text)


def english_lesson_html(row: Mapping, text: str) -> str:
    return lesson_html(row, text, english=True)


german_lesson_html.columns = english_lesson_html.columns = ("course_id",)
