"""Markdown to sanitised HTML: the only way authored text reaches a page."""

from __future__ import annotations

import markdown
import nh3
from markupsafe import Markup

EXTENSIONS = ["tables", "fenced_code", "admonition", "toc", "sane_lists", "attr_list"]
EXTENSION_CONFIGS = {"toc": {"permalink": False, "toc_depth": "2-3"}}

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "s", "small",
    "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "*": {"id", "class", "lang", "title"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "th": {"scope", "colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
    "ol": {"start"},
}


def render_markdown(text: str, *, shift_headings: int = 0) -> Markup:
    """Render Markdown and sanitise the result with nh3 (no script, no event handlers, no styles)."""
    html = markdown.markdown(text or "", extensions=EXTENSIONS, extension_configs=EXTENSION_CONFIGS,
                             output_format="html")
    for level in range(6 - shift_headings, 0, -1) if shift_headings else ():
        html = html.replace(f"<h{level}", f"<h{level + shift_headings}").replace(
            f"</h{level}>", f"</h{level + shift_headings}>")
    clean = nh3.clean(
        html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
    return Markup(clean)
