"""Authored Markdown: rendered richly, never carrying script, requests, impersonation or seconds of CPU into a page."""

import re

import pytest

from bench.rendering import CALL_BUDGET, PATHOLOGICAL, WITHIN_LIMITS, python_calls
from learning.content import (
    MAX_LINES,
    MAX_MARKUP,
    MAX_SOURCE,
    Profile,
    check,
    course_image,
    render,
    render_markdown,
    too_complex,
)

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
# The only classes on rendered text are the renderer's own.
OWN_CLASSES = {"external-link", "external-link__marker", "visually-hidden"}


def tags(html: str) -> str:
    """Only the markup, not the (escaped) text."""
    return " ".join(TAG.findall(str(html)))


@pytest.mark.parametrize("profile", list(Profile))
@pytest.mark.parametrize("payload", PAYLOADS)
def test_xss_payloads_are_neutralised(payload, profile):
    html = tags(render(payload, profile)).lower()
    for bad in ["<script", "onerror", "onload", "onclick", "javascript:", "<iframe", "style=", "<form",
                "<input", "data:text", "<svg"]:
        assert bad not in html, (payload, html)


def test_rich_markdown_survives():
    html = render(
        "# Titel\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```\ncode\n```\n\n- eins\n- zwei\n\n**fett** und *kursiv*",
        Profile.EDITORIAL,
    )
    assert "<h1>Titel</h1>" in html
    assert "<table>" in html and "<td>1</td>" in html
    assert "<pre><code>code" in html
    assert "<li>eins</li>" in html and "<strong>fett</strong>" in html and "<em>kursiv</em>" in html


def test_headings_move_below_the_page_headings():
    assert "<h3>Title</h3>" in render("# Title\n\n## Sub", top_heading=3)
    assert "<h4>Sub</h4>" in render("# Title\n\n## Sub", top_heading=3)
    assert "<h2>Only</h2>" in render("## Only", top_heading=2)
    assert "<h5>Deep</h5>" in render("# A\n\n###### Deep", top_heading=4)  # never skips a level
    assert "<h2>Third</h2>" in render("### Third", top_heading=2)  # lifted to the top level
    html = render("## A\n\n#### B\n\n## C\n\n### D\n\n###### E", top_heading=2)
    assert [h[:4] for h in html.split("<")[1:] if h.startswith("h")] == ["h2>A", "h3>B", "h2>C", "h3>D", "h4>E"]


# §2: no requests from staff Markdown; editorial images only from the media store ----------------

APP_URLS = [
    "/learning/courses/datenschutz/quiz",
    "/learning/certificates/ABC123",
    "/metrics/team",
    "/learning/rules/1/people",
    "http://localhost/learning/courses/datenschutz/quiz",
    "https://evil.example/pixel.png",
    "//evil.example/pixel.png",
]


@pytest.mark.parametrize("src", [*APP_URLS, "/media/ok.png", "bild.png"])
def test_staff_markdown_renders_no_images(src):
    html = render(f"Vorher ![Ein Bild]({src}) nachher", Profile.STAFF)
    assert "<img" not in html
    assert "Vorher Ein Bild nachher" in html  # the alternative text stays, as text


@pytest.mark.parametrize("src", [
    *APP_URLS,
    "/media/../learning/courses/datenschutz/quiz",
    "/media/%2e%2e/learning/courses/datenschutz/quiz",
    "/media/..%2flearning/courses/datenschutz/quiz",
    "/media/x.png?next=/learning/courses/datenschutz/quiz",
    "/media//evil.example/x.png",
    "/media\\..\\learning",
    "https://localhost/media/x.png",
    "media/x.png",
])
def test_editorial_markdown_renders_no_image_outside_the_media_store(src):
    html = render(f"![Bild]({src})", Profile.EDITORIAL)
    assert "<img" not in html and "Bild" in html


def test_editorial_markdown_renders_media_store_images():
    html = render("![Der Aktenplan](/media/ab12cd/aktenplan.png)", Profile.EDITORIAL)
    assert '<img alt="Der Aktenplan" src="/media/ab12cd/aktenplan.png">' in html


def test_course_images_come_from_the_course_folder_or_the_media_store():
    resolve = course_image(lambda name: f"/learning/courses/kurs/media/{name}")
    html = render("![a](bild.png) ![b](/media/x.png) ![c](/learning/courses/kurs/quiz) ![d](../geheim.png)",
                  Profile.COURSE, image_src=resolve)
    assert 'src="/learning/courses/kurs/media/bild.png"' in html and 'src="/media/x.png"' in html
    assert html.count("<img") == 2


# §8: no class, id or style from authors; external links marked ------------------------------

IMPERSONATION = [
    '<span class="kern-badge kern-badge--success">Offizielle Antwort der Projektgruppe</span>',
    "Offizielle Antwort\n{: .kern-badge .kern-badge--success #main-content style=\"color:red\" }",
    "[Jetzt anmelden](https://evil.example/login){: .kern-btn .kern-btn--primary }",
    "# Main content\n\n## Überschrift mit id",
    "!!! kern-badge \"Offizielle Antwort der Projektgruppe\"\n    Text",
    "```kern-btn\ncode\n```",
    "| a |\n|:-:|\n| b |",
    '<p id="x" class="kern-alert" style="display:none">x</p>',
]


@pytest.mark.parametrize("profile", [Profile.STAFF, Profile.EDITORIAL])
@pytest.mark.parametrize("text", IMPERSONATION)
def test_no_class_id_or_style_from_authors_reaches_the_page(text, profile):
    html = tags(render(text, profile))
    assert " id=" not in html and " style=" not in html
    classes = {name for value in re.findall(r' class="([^"]*)"', html) for name in value.split()}
    assert classes <= OWN_CLASSES, html


def test_course_callouts_get_only_the_renderers_fixed_classes():
    html = render("!!! kern-badge \"Titel\"\n    Text\n\n!!! warning\n    Achtung", Profile.COURSE)
    classes = set(re.findall(r' class="([^"]*)"', html))
    assert classes == {"admonition note", "admonition warning", "admonition-title"}, html


def test_links_to_other_hosts_are_marked_as_external(app):
    with app.app_context():  # BASE_URL http://localhost is the platform itself
        html = render("[Anmelden](https://evil.example/login) und [intern](/feedback/) und "
                      "[auch intern](http://localhost/learning/) und [ohne Schema](//evil.example/x)", Profile.STAFF)
    external = re.findall(r'<a href="([^"]*)" rel="noopener noreferrer nofollow" class="external-link">', html)
    assert external == ["https://evil.example/login", "//evil.example/x"]
    assert '<a href="/feedback/">intern</a>' in html and '<a href="http://localhost/learning/">auch intern</a>' in html
    assert html.count('<span class="external-link__marker" aria-hidden="true"> ↗</span>') == 2


def test_the_external_marker_is_read_in_the_language_of_the_text(app):
    with app.app_context():
        german = render("[x](https://example.org)")
        english = render("[x](https://example.org)", language="en")
    assert '<span class="visually-hidden"> (externer Link)</span>' in german
    assert '<span class="visually-hidden"> (external link)</span>' in english


def test_a_preview_is_markup_of_the_same_rendering():
    assert str(render_markdown("**a**", Profile.EDITORIAL)) == render("**a**", Profile.EDITORIAL)


# §3: bounded cost ------------------------------------------------------------------------------

@pytest.mark.parametrize("profile", [Profile.STAFF, Profile.EDITORIAL])
@pytest.mark.parametrize("name", list(PATHOLOGICAL))
def test_pathological_input_of_the_maximum_size_stays_within_the_call_budget_and_grows_linearly(name, profile):
    """Counted in function calls, the same on every machine (bench/rendering.py prints the CPU times)."""
    text, half = PATHOLOGICAL[name](MAX_SOURCE), PATHOLOGICAL[name](MAX_SOURCE // 2)
    assert MAX_SOURCE * 0.9 <= len(text) <= MAX_SOURCE + 10
    calls = python_calls(text, profile)
    assert calls <= CALL_BUDGET, name
    assert calls <= 2.2 * python_calls(half, profile) + 100, name  # twice the text, at most about twice the work


@pytest.mark.parametrize("name", list(WITHIN_LIMITS))
def test_the_most_formatting_a_form_accepts_is_rendered_within_the_call_budget(name):
    text = WITHIN_LIMITS[name](MAX_SOURCE)
    assert check(text, MAX_SOURCE) is None  # really rendered as Markdown, not refused
    html = render(text, Profile.EDITORIAL)
    assert "<p>" in html or "<h" in html or "<li>" in html or "<table>" in html or "<blockquote>" in html
    calls = python_calls(text, Profile.EDITORIAL)
    assert calls <= CALL_BUDGET, name
    assert calls <= 2.2 * python_calls(WITHIN_LIMITS[name](MAX_SOURCE // 2), Profile.EDITORIAL) + 100, name


def test_a_text_over_the_limits_costs_next_to_nothing():
    """What a form refuses and still reaches the renderer (old rows, imports) becomes plain paragraphs."""
    text = "- *a* [b](c) `d`\n" * 1000
    assert too_complex(text)
    assert "<li>" not in render(text, Profile.EDITORIAL)
    assert python_calls(text, Profile.EDITORIAL) < 100


def test_text_beyond_the_limits_is_refused_with_a_reason(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert check("a" * 5001, 5000) == "The text may have at most 5000 characters (it has 5001)."
        assert "too many lines or formatting characters" in check("*" * (MAX_MARKUP + 1), MAX_SOURCE)
        assert "too many lines" in check("a\n" * MAX_LINES, MAX_SOURCE)
        assert check("Ein *normaler* Text\n" * 100, MAX_SOURCE) is None


def test_text_the_renderer_does_not_take_is_shown_as_plain_paragraphs():
    text = "**a** " * (MAX_MARKUP // 4 + 1) + "\n\n<script>x</script>"
    assert too_complex(text)
    html = render(text, Profile.STAFF)
    assert "<strong>" not in html and "<script" not in html and html.startswith("<p>**a**")


def test_a_lesson_follows_its_page_title_without_skipping_a_level():
    from learning.training.lesson_html import lesson_html

    class Course:
        slug, language = "kurs", "de"

    text = "# Titel\n\n### Erster Abschnitt\n\nText\n\n#### Unterpunkt\n\n### Zweiter"
    html = lesson_html({"course": Course()}, text)
    assert "Titel" not in html
    assert "<h2>Erster Abschnitt</h2>" in html and "<h3>Unterpunkt</h3>" in html and "<h2>Zweiter</h2>" in html
