"""A lesson's stored HTML: its Markdown without the title line, images from the course folder, tables that scroll."""

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
    query = select(table.c.slug, table.c.language).where(table.c.id == row["course_id"])
    if "_connection" in row:
        slug, language = row["_connection"].execute(query).one()
    else:  # an ORM object given only its course_id
        from learning.db import db

        with db.session.no_autoflush:
            slug, language = db.session.execute(query).one()
    return slug, language or "de"


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

    return TABLE_RE.sub(scrollable_table, rendered)


def german_lesson_html(row: Mapping, text: str) -> str:
    return lesson_html(row, text)


def english_lesson_html(row: Mapping, text: str) -> str:
    return lesson_html(row, text, english=True)


german_lesson_html.columns = english_lesson_html.columns = ("course_id",)
