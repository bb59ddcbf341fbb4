"""The Atom 1.0 feed of one person's announcements, for mail clients and intranet portals."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

from learning.announcements.services import AnnouncementItem

ATOM = "http://www.w3.org/2005/Atom"
FEED_LIMIT = 50


def _timestamp(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def entry_id(base_url: str, item: AnnouncementItem) -> str:
    """A tag URI (RFC 4151) that stays the same across edits of the announcement."""
    host = urlsplit(base_url).hostname or "localhost"
    announcement = item.announcement
    return f"tag:{host},{announcement.created_at:%Y-%m-%d}:announcement/{announcement.id}"


def entry_updated(item: AnnouncementItem) -> datetime:
    """Publication, or the last change of the text after it (settings such as pinning do not count)."""
    announcement = item.announcement
    return max([announcement.publish_at, *(v.changed_at for v in announcement.versions)])


def build_feed(*, title: str, subtitle: str, author: str, base_url: str, feed_url: str, page_url: str,
               owner_id: int, items: list[AnnouncementItem], link_for: Callable[[int], str],
               language: str) -> bytes:
    """Serialise the items as an Atom document; HTML content is the sanitised rendering, escaped as text."""
    ET.register_namespace("", ATOM)

    def sub(parent, tag: str, text: str | None = None, **attributes) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", {k: v for k, v in attributes.items()})
        if text is not None:
            element.text = text
        return element

    items = sorted(items, key=lambda i: i.announcement.publish_at, reverse=True)[:FEED_LIMIT]
    feed = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": language})
    sub(feed, "id", f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{base_url}/announcements/feed/{owner_id}')}")
    sub(feed, "title", title)
    sub(feed, "subtitle", subtitle)
    newest = max((entry_updated(i) for i in items), default=None)
    sub(feed, "updated", _timestamp(newest) if newest else "1970-01-01T00:00:00+00:00")
    sub(feed, "link", rel="self", type="application/atom+xml", href=feed_url)
    sub(feed, "link", rel="alternate", type="text/html", href=page_url)
    sub(sub(feed, "author"), "name", author)
    sub(feed, "generator", "Lernplattform")
    for item in items:
        announcement = item.announcement
        entry = sub(feed, "entry")
        sub(entry, "id", entry_id(base_url, item))
        sub(entry, "title", announcement.title)
        sub(entry, "published", _timestamp(announcement.publish_at))
        sub(entry, "updated", _timestamp(entry_updated(item)))
        sub(entry, "link", rel="alternate", type="text/html", href=link_for(announcement.id))
        if announcement.created_by is not None:
            sub(sub(entry, "author"), "name", announcement.created_by.full_name)
        if announcement.phase is not None:
            sub(entry, "category", term=announcement.phase.slug, label=announcement.phase.title)
        sub(entry, "content", announcement.body_html, type="html")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
