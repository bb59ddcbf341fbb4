"""Authored Markdown is rendered richly and never carries script into a page."""

import re

import pytest

from learning.content import render_markdown

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<iframe src=\"https://evil.example\"></iframe>",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<svg onload=alert(1)>",
    "![x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<form action=\"https://evil.example\"><input name=a></form>",
    "paragraph\n{: onclick=\"alert(1)\" style=\"color:red\" }",
]
TAG = re.compile(r"<[^>]+>")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_xss_payloads_are_neutralised(payload):
    html = " ".join(TAG.findall(str(render_markdown(payload)).lower()))  # only markup, not escaped text
    for bad in ["<script", "onerror", "onload", "onclick", "javascript:", "<iframe", "style=", "<form",
                "<input", "data:text"]:
        assert bad not in html, (payload, html)


def test_rich_markdown_survives():
    html = str(render_markdown(
        "# Titel\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n!!! tip \"Gut zu wissen\"\n    Hinweis\n\n"
        "```\ncode\n```\n\n[Link](https://example.org)"
    ))
    assert "<table>" in html and "<td>1</td>" in html
    assert 'class="admonition tip"' in html and "Gut zu wissen" in html
    assert "<pre><code>code" in html
    assert 'href="https://example.org"' in html and 'rel="noopener noreferrer"' in html


def test_headings_can_be_shifted_below_the_page_title():
    assert "<h2" in str(render_markdown("# Title", shift_headings=1))
