"""Markdown to sanitised HTML: the only way authored text reaches a page.

Authored text is rendered once, when it is saved, and the sanitised HTML is stored next to it
(``*_html`` columns and ``html_version``); pages show the stored HTML. ``RENDERER_VERSION`` is
raised whenever the output of ``render`` changes; ``flask content rerender`` then renders every
stored text again (see ``learning.content_store``).

Three profiles decide what a text may contain:

- ``STAFF`` (feedback, comments, reasons, survey texts, onboarding tasks): no images at all.
- ``EDITORIAL`` (announcements, phases, FAQ): images only from the platform's media store
  (paths under ``MEDIA_PATH``), never another URL of the app or of another host.
- ``COURSE`` (lessons from ``courses/`` files): images from the course folder (served by the
  platform) or the media store, and callouts (``!!! tip``).

In no profile does raw HTML, a ``class``, ``id`` or ``style`` written by the author reach the
page: raw HTML is shown as text, ``attr_list`` and ``toc`` are not loaded, the sanitiser drops
those attributes, and the only classes on the page are the renderer's own fixed ones (callouts,
external-link marker). Links to other hosts get ``rel="noopener noreferrer nofollow"`` and a
visible marker with a text for screen readers, in the language of the text.

Python-Markdown's inline link parser scans to the end of a paragraph for every ``[x](`` whose
parenthesis does not close, which is quadratic; ``BoundedLinkProcessor`` limits that scan, so the
longest text a form accepts (``MAX_SOURCE``) renders in well under 100 ms whatever it contains.
"""

from __future__ import annotations

import enum
import html as htmllib
import re
import threading
import xml.etree.ElementTree as etree
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import markdown
import nh3
from markdown.extensions import Extension
from markdown.inlinepatterns import IMAGE_LINK_RE, LINK_RE, ImageInlineProcessor, LinkInlineProcessor
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup

# Raised whenever the HTML that ``render`` makes for a text changes; stored HTML of an older version
# is rendered again by ``flask content rerender``.
RENDERER_VERSION = 3  # 3: headings never skip a level (issue 18)

# The longest Markdown text any form accepts (announcement bodies, phase texts); the renderer is
# measured against it (tests/test_content.py).
MAX_SOURCE = 20_000

# Python-Markdown spends some 10-20 microseconds on each block and inline element, so besides the
# length, a text may hold at most this many lines and formatting characters (each can start an
# element). Real texts stay far below; a text above is refused by ``check`` on saving, and
# rendered as plain paragraphs if it reaches the renderer anyway (old rows, imports).
MAX_LINES = 1_000
MAX_MARKUP = 3_000
MARKUP_RE = re.compile(r"[*_`\\\[\]<>&|#!~=]")

# Where the platform's media store serves its files.
MEDIA_PATH = "/media/"

# A link's destination and title may not be longer than this; a longer one is shown as text.
LINK_WINDOW = 2_000
# Characters the link parser may scan in one text in all; after that ``[x](`` stays text.
LINK_BUDGET = 100_000


class Profile(enum.StrEnum):
    STAFF = "staff"
    EDITORIAL = "editorial"
    COURSE = "course"


ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "s", "small",
    "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"scope", "colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
    "ol": {"start"},
}
# Callouts of course lessons: the renderer maps every ``!!! kind`` to one of these fixed kinds.
CALLOUT_KINDS = {"note": "note", "info": "note", "tip": "tip", "hint": "tip", "important": "warning",
                 "warning": "warning", "caution": "warning", "attention": "warning", "danger": "danger",
                 "error": "danger"}
CALLOUT_CLASSES = {"div": {"admonition", *CALLOUT_KINDS.values()}, "p": {"admonition-title"}}

EXTERNAL_REL = "noopener noreferrer nofollow"
HEADING_RE = re.compile(r"<(/?)h([1-6])(?=[\s>])")
# nh3 writes attributes with double quotes and escapes the quote inside, so this finds a whole tag.
LINK_RE_HTML = re.compile(r'<a((?:\s+[a-z-]+="[^"]*")*)>(.*?)</a>', re.DOTALL)
HREF_RE = re.compile(r'\shref="([^"]*)"')
SAFE_MEDIA_RE = re.compile(r"^[A-Za-z0-9._~/-]+$")
COURSE_FILE_RE = re.compile(r"^[\w .~()+,-]+(?:/[\w .~()+,-]+)*$")  # a path in the course folder, any letters
SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
BRACKET_RE = re.compile(r"[\[\]]")


# The parser ---------------------------------------------------------------------------------

class BoundedLinkMixin:
    """``getText`` and ``getLink`` scanning at most ``LINK_WINDOW`` characters, ``LINK_BUDGET`` per text in all."""

    md: markdown.Markdown

    def getLink(self, data: str, index: int):  # noqa: N802  (Python-Markdown's name)
        budget = getattr(self.md, "link_budget", LINK_BUDGET)
        window = min(LINK_WINDOW, budget)
        if window <= 0:
            return "", None, index, False
        end = data.find(")", index, index + window)
        if end < 0:  # no closing parenthesis in reach: not a link, found without scanning in Python
            self.md.link_budget = budget - 1
            return "", None, index, False
        limited = data[:index + window]
        href, title, new_index, handled = super().getLink(limited, index)  # type: ignore[misc]
        self.md.link_budget = budget - ((new_index - index) if handled else window)
        return href, title, new_index, handled


    def getText(self, data: str, index: int):  # noqa: N802
        """The text between ``[`` and its ``]``, found by skipping to the next bracket (no table of all)."""
        budget = getattr(self.md, "link_budget", LINK_BUDGET)
        limit = min(len(data), index + LINK_WINDOW, index + max(budget, 0))
        depth, pos = 1, index
        while depth:
            found = BRACKET_RE.search(data, pos, limit)
            if found is None:
                self.md.link_budget = budget - (limit - index)
                return data[index:], len(data), False
            depth += 1 if found.group() == "[" else -1
            pos = found.end()
        self.md.link_budget = budget - (pos - index)
        return data[index:pos - 1], pos, True


class BoundedLinkProcessor(BoundedLinkMixin, LinkInlineProcessor):
    pass


class BoundedImageProcessor(BoundedLinkMixin, ImageInlineProcessor):
    pass


class AuthoredTreeprocessor(Treeprocessor):
    """Replace images the profile does not allow by their text; give callouts the renderer's own classes."""

    def __init__(self, md, image_src: Callable[[str], str | None]):
        super().__init__(md)
        self.image_src = image_src

    def run(self, root: etree.Element) -> None:
        for parent in root.iter():
            children = list(parent)
            for index in range(len(children) - 1, -1, -1):  # from the end: removing keeps earlier indices
                child = children[index]
                if child.tag == "img":
                    self._image(parent, index, child)
                elif child.tag == "div" and "admonition" in (child.get("class") or "").split():
                    self._callout(child)

    def _image(self, parent: etree.Element, index: int, img: etree.Element) -> None:
        src = self.image_src(img.get("src") or "")
        if src is not None:
            img.set("src", src)
            return
        # Not allowed: the alternative text stays, as text; no request is ever made for it.
        text = (img.get("alt") or "").strip()
        tail = img.tail or ""
        replacement = text + tail
        parent.remove(img)
        if index == 0:
            parent.text = (parent.text or "") + replacement
        else:
            previous = parent[index - 1]
            previous.tail = (previous.tail or "") + replacement

    @staticmethod
    def _callout(div: etree.Element) -> None:
        words = (div.get("class") or "").split()
        kind = next((CALLOUT_KINDS[word] for word in words if word in CALLOUT_KINDS), "note")
        div.attrib.clear()
        div.set("class", f"admonition {kind}")
        for child in div:
            if child.tag == "p" and "admonition-title" in (child.get("class") or ""):
                child.attrib.clear()
                child.set("class", "admonition-title")


class AuthoredExtension(Extension):
    """No raw HTML, bounded link parsing, and the profile's rules for images and callouts."""

    def __init__(self, image_src: Callable[[str], str | None]):
        super().__init__()
        self.image_src = image_src

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.inlinePatterns.register(BoundedLinkProcessor(LINK_RE, md), "link", 160)
        md.inlinePatterns.register(BoundedImageProcessor(IMAGE_LINK_RE, md), "image_link", 150)
        md.treeprocessors.register(AuthoredTreeprocessor(md, self.image_src), "authored", 5)


# Images -------------------------------------------------------------------------------------

def media_src(src: str) -> str | None:
    """A path in the platform's media store, or None: never another URL of the app or another host."""
    decoded = unquote(htmllib.unescape(src or "")).strip()
    if not decoded.startswith(MEDIA_PATH) or not SAFE_MEDIA_RE.match(decoded):
        return None
    if any(part in (".", "..") for part in decoded.split("/")) or "//" in decoded:
        return None
    return decoded


def no_image(src: str) -> None:
    return None


def course_image(media_url: Callable[[str], str]) -> Callable[[str], str | None]:
    """Images of a lesson: a file of the course folder (served by the platform) or from the media store."""

    def resolve(src: str) -> str | None:
        found = media_src(src)
        if found is not None:
            return found
        name = unquote(htmllib.unescape(src or "")).strip().removeprefix("./")
        if (not name or name.startswith(("/", "#")) or SCHEME_RE.match(name) or "\\" in name
                or any(part in ("", ".", "..") for part in name.split("/")) or not COURSE_FILE_RE.match(name)):
            return None
        return media_url(name)

    return resolve


# Rendering ----------------------------------------------------------------------------------

_parsers = threading.local()


def _parser(profile: Profile, image_src: Callable[[str], str | None]) -> markdown.Markdown:
    extensions: list = ["tables", "fenced_code", "sane_lists", AuthoredExtension(image_src)]
    if profile == Profile.COURSE:  # callouts; and the image rule differs per course: a parser per call
        return markdown.Markdown(extensions=[*extensions, "admonition"], output_format="html")
    cache = _parsers.__dict__
    if profile not in cache:
        cache[profile] = markdown.Markdown(extensions=extensions, output_format="html")
    return cache[profile]


def _shift_headings(html: str, top: int | None) -> str:
    """Fit the text's headings below the page's own: the highest becomes ``top``, none skips a level.

    A text that starts at ``###`` is lifted to ``top`` as well (a lesson's headings once followed the
    page's h1 as h3), and a jump such as ``##`` → ``####`` becomes one level; never deeper than h6.
    """
    if top is None:
        return html
    levels = [int(level) for closing, level in HEADING_RE.findall(html) if not closing]
    if not levels:
        return html
    lowest, previous, opened = min(levels), top - 1, [top]

    def level(match: re.Match) -> str:
        nonlocal previous
        if match.group(1):  # the closing tag of the heading just opened (headings do not nest)
            return f"</h{opened[-1]}"
        new = max(top, min(6, top + int(match.group(2)) - lowest, previous + 1))
        previous = new
        opened.append(new)
        return f"<h{new}"

    return HEADING_RE.sub(level, html)


def _is_external(href: str, own_host: str | None) -> bool:
    target = htmllib.unescape(href).strip().replace("\\", "/")
    if target.startswith("//"):
        target = "https:" + target
    parts = urlsplit(target)
    if parts.scheme.lower() not in ("http", "https"):
        return False
    return not own_host or (parts.hostname or "").lower() != own_host.lower()


def _mark_links(html: str, own_host: str | None, marker: str) -> str:
    """Links to other hosts: ``rel`` against tab-napping and referrer leaks, and a visible marker."""

    def mark(match: re.Match) -> str:
        attributes, inner = match.group(1), match.group(2)
        href = HREF_RE.search(attributes)
        if href is None or not _is_external(href.group(1), own_host):
            return match.group(0)
        return (f'<a{attributes} rel="{EXTERNAL_REL}" class="external-link">{inner}'
                f'<span class="external-link__marker" aria-hidden="true"> \u2197</span>'
                f'<span class="visually-hidden"> ({htmllib.escape(marker)})</span></a>')

    return LINK_RE_HTML.sub(mark, html)


def _external_marker(language: str | None) -> str:
    """The screen-reader text of the marker, in the language of the text (not of the reader)."""
    from flask import current_app, has_app_context
    from flask_babel import force_locale, gettext

    if not has_app_context():
        return "external link"
    language = language or current_app.config.get("DEFAULT_LOCALE", "de")
    with force_locale(language):
        return gettext("external link")


def _own_host() -> str | None:
    from flask import current_app, has_app_context

    if not has_app_context():
        return None
    return urlsplit(current_app.config.get("BASE_URL") or "").hostname


def too_complex(text: str) -> bool:
    """Whether a text has more lines or formatting characters than the renderer takes."""
    return text.count("\n") >= MAX_LINES or len(MARKUP_RE.findall(text)) > MAX_MARKUP


def complexity_message() -> str:
    from flask_babel import gettext as _

    return _("The text has too many lines or formatting characters (at most %(lines)d lines and "
             "%(marks)d characters such as * _ [ ] # |). Please shorten it or split it up.",
             lines=MAX_LINES, marks=MAX_MARKUP)


def check(text: str | None, max_length: int) -> str | None:
    """Why an authored Markdown text cannot be saved (translated), or None when it can."""
    from flask_babel import gettext as _

    text = text or ""
    if len(text) > max_length:
        return _("The text may have at most %(max)d characters (it has %(length)d).", max=max_length,
                 length=len(text))
    if too_complex(text):
        return complexity_message()
    return None


def _plain(text: str) -> str:
    """A text the renderer does not take, as escaped paragraphs: no formatting, no links, no cost."""
    paragraphs = [part.strip() for part in re.split(r"\n\s*\n", text[:MAX_SOURCE]) if part.strip()]
    return "".join(f"<p>{htmllib.escape(part)}</p>" for part in paragraphs)


def render(text: str | None, profile: Profile = Profile.STAFF, *, top_heading: int | None = None,
           language: str | None = None, image_src: Callable[[str], str | None] | None = None) -> str:
    """Render authored Markdown into sanitised HTML (a str, to be stored).

    ``top_heading``: the level the text's highest heading becomes, so that it fits below the page's
    own headings. ``language``: the language of the text (the external-link marker is written in it).
    ``image_src``: for ``COURSE``, how an image path becomes a URL.
    """
    text = (text or "").replace("\x00", "")
    if not text.strip():
        return ""
    if profile != Profile.COURSE and (len(text) > MAX_SOURCE or too_complex(text)):
        return _plain(text)
    if image_src is None or profile != Profile.COURSE:
        image_src = {Profile.STAFF: no_image, Profile.EDITORIAL: media_src}.get(profile, media_src)
    parser = _parser(profile, image_src)
    parser.reset()
    parser.link_budget = LINK_BUDGET
    html = parser.convert(text)
    html = _shift_headings(html, top_heading)
    clean = nh3.clean(
        html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes={"http", "https", "mailto"},
        link_rel=None, allowed_classes=CALLOUT_CLASSES if profile == Profile.COURSE else None,
        strip_comments=True,
    )
    return _mark_links(clean, _own_host(), _external_marker(language))


def render_markdown(text: str | None, profile: Profile = Profile.STAFF, *, top_heading: int | None = None,
                    language: str | None = None) -> Markup:
    """``render`` as Markup, for a preview shown before saving."""
    return Markup(render(text, profile, top_heading=top_heading, language=language))


# Stored HTML --------------------------------------------------------------------------------
#
# A model with Markdown fields declares them in ``__rendered__`` ({source column: Rendering}) and
# has a ``<source>_html`` column for each and one ``html_version`` column. Whenever a row is
# flushed with a changed source (or an older ``html_version``), ``render_fields`` stores the HTML:
# every service, the demo loader and the course sync get it without calling anything. Bulk
# inserts (``insert(Model)`` with dicts) call ``rendered_values``; ``rerender`` renders every row
# of an older renderer version again (``flask content rerender``, and migration 0013).

@dataclass(frozen=True)
class Rendering:
    """How one Markdown field is rendered: profile, top heading level, language of the text."""

    profile: Profile
    top_heading: int | None = None
    language: str | None = None  # None: the organisation's language
    # For course lessons: (row as a mapping, text) -> HTML, instead of ``render``.
    custom: Callable[[Mapping, str], str] | None = None

    def html(self, row: Mapping, text: str | None) -> str:
        if self.custom is not None:
            return self.custom(row, text or "")
        return render(text, self.profile, top_heading=self.top_heading, language=self.language)


class _RowView(Mapping):
    """An ORM object read like a row mapping (what ``Rendering.custom`` gets)."""

    def __init__(self, obj):
        self.obj = obj

    def __getitem__(self, key):
        try:
            return getattr(self.obj, key)
        except AttributeError:
            raise KeyError(key) from None

    def __iter__(self):
        return iter(())

    def __len__(self):
        return 0


def render_fields(obj) -> None:
    """Store the HTML of every Markdown field of an ORM object, with the current renderer."""
    for source, rendering in type(obj).__rendered__.items():
        setattr(obj, f"{source}_html", rendering.html(_RowView(obj), getattr(obj, source)))
    obj.html_version = RENDERER_VERSION


def rendered_values(model, values: dict) -> dict:
    """A row for a bulk ``insert(model)`` with its HTML columns filled in."""
    out = dict(values)
    for source, rendering in model.__rendered__.items():
        out[f"{source}_html"] = rendering.html(values, values.get(source))
    out["html_version"] = RENDERER_VERSION
    return out


def rendered_models() -> list:
    """Every mapped model with Markdown fields."""
    from learning.db import db

    return sorted((mapper.class_ for mapper in db.Model.registry.mappers
                   if getattr(mapper.class_, "__rendered__", None)), key=lambda model: model.__tablename__)


def _render_changed(session, flush_context, instances) -> None:
    from sqlalchemy import inspect

    for obj in (*session.new, *session.dirty):
        spec = getattr(type(obj), "__rendered__", None)
        if not spec:
            continue
        state = inspect(obj)
        if (obj in session.new or obj.html_version != RENDERER_VERSION
                or any(state.attrs[source].history.has_changes() for source in spec)):
            render_fields(obj)


def listen() -> None:
    """Render Markdown fields on every flush (called once by ``create_app``)."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    if not event.contains(Session, "before_flush", _render_changed):
        event.listen(Session, "before_flush", _render_changed)


def rerender(connection, *, everything: bool = False, batch: int = 500,
             tables: set[str] | None = None) -> dict[str, int]:
    """Render stored texts again: those of an older renderer version, or all (``everything``).

    Works on table columns only (no ORM objects), so a migration can call it too.
    Returns the number of rows rendered per table.
    """
    from sqlalchemy import bindparam, select, update

    counts: dict[str, int] = {}
    for model in rendered_models():
        table = model.__table__
        if tables is not None and table.name not in tables:
            continue
        spec = model.__rendered__
        needed = {"id", *spec, *(name for r in spec.values() for name in getattr(r.custom, "columns", ()))}
        columns = [table.c[name] for name in sorted(needed)]
        statement = update(table).where(table.c.id == bindparam("row_id")).values(
            {f"{source}_html": bindparam(f"new_{source}") for source in spec} | {"html_version": RENDERER_VERSION})
        last_id, done = 0, 0
        while True:
            query = select(*columns).where(table.c.id > last_id).order_by(table.c.id).limit(batch)
            if not everything:
                query = query.where(table.c.html_version != RENDERER_VERSION)
            rows = connection.execute(query).mappings().all()
            if not rows:
                break
            connection.execute(statement, [
                {"row_id": row["id"], **{f"new_{source}": rendering.html({**row, "_connection": connection},
                                                                         row[source])
                                         for source, rendering in spec.items()}}
                for row in rows])
            last_id, done = rows[-1]["id"], done + len(rows)
        counts[table.name] = done
    return counts
