"""The accessibility check of a draft: the course rule, videos from the media library, both languages; the panel."""

from __future__ import annotations

from sqlalchemy import select

from learning.db import db
from learning.roles import Role
from learning.training.accessibility import check_course, errors, warnings
from learning.training.authoring.publishing import check_draft, finding_kind
from learning.training.sync import CourseSpec, LessonSpec

VIDEO = "a" * 64
CAPTIONED = "b" * 64
TRANSCRIBED = "c" * 64


def spec(*bodies: str, english: str | None = None) -> CourseSpec:
    return CourseSpec(slug="pruefung", title="Prüfung", summary="", minutes=5, lessons=[
        LessonSpec(slug=f"l{n}", position=n, title=f"Lektion {n}", body=body,
                   title_en="Lesson" if english else None, body_en=english)
        for n, body in enumerate(bodies, start=1)])


def test_a_course_needs_a_lesson():
    assert [str(f) for f in check_course([])] == ["course.toml:1: the course has no lessons: add at least one"]
    assert check_course([object()]) == []


def test_the_check_names_each_kind_of_error_and_warning(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        found = check_draft(spec("## A\n\n![](/media/x.png)\n\n#### Tief\n\n[hier](https://example.org)\n\n"
                                 "|  |  |\n|--|--|\n| a | b |", ""))
        kinds = {finding_kind(f) for f in errors(found)}
        assert kinds == {"Image without alternative text", "Skipped heading level", "Table without a header row"}
        assert {finding_kind(f) for f in warnings(found)} == {"Link text that does not say where it leads"}
        assert found[0].error and not found[-1].error  # errors first
        no_title = check_draft(CourseSpec(slug="x", title="x", summary="", minutes=5,
                                          lessons=[LessonSpec(slug="ohne", position=1, title=" ", body="Text")]))
        assert [finding_kind(f) for f in no_title] == ["Lesson without a title"]
        assert [finding_kind(f) for f in check_draft(spec())] == ["Course without lessons"]


def test_videos_of_the_media_library_need_captions_or_a_transcript(app):
    from learning.media.models import MediaItem

    with app.test_request_context(headers={"Accept-Language": "en"}):
        db.session.add_all([
            MediaItem(sha256=CAPTIONED, kind="video", extension="mp4", size=10, name="Mit Untertiteln",
                      alt_text="Video", captions_sha256="d" * 64, captions_language="de"),
            MediaItem(sha256=TRANSCRIBED, kind="video", extension="webm", size=10, name="Mit Transkript",
                      alt_text="Video", transcript="Was gesagt wird."),
            MediaItem(sha256=VIDEO, kind="video", extension="mp4", size=10, name="Ohne", alt_text="Video"),
        ])
        db.session.flush()
        found = check_draft(spec(f"[Einführung](/media/{VIDEO}.mp4)", f"[Film](/media/{CAPTIONED}.mp4)",
                                 f"[Film](/media/{TRANSCRIBED}.webm)"))
        assert [(finding_kind(f), f.lesson) for f in errors(found)] == [("Video without captions or transcript", "l1")]
        db.session.rollback()


def test_the_english_text_is_checked_too(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        found = check_draft(spec("## Gut\n\nText.", english="## Fine\n\n![](/media/y.png)"))
        assert [(f.file, f.line, finding_kind(f)) for f in errors(found)] == [
            ("l1.en.md", 3, "Image without alternative text")]


def test_the_check_page_links_the_english_place(app, client, login, make_user, make_draft):
    from learning.training.authoring.documents import document_of

    author = make_user("pruefer", roles={Role.AUTHOR})
    draft = make_draft("englisch", editors=[author])
    with app.app_context():
        from learning.training.authoring.models import CourseDraft

        row = db.session.get(CourseDraft, draft.id)
        row.document = document_of(spec("## Gut\n\nText.", english="## Fine\n\n![](/media/y.png)"))
        db.session.commit()
    login(client, "pruefer")
    page = client.get("/learning/author/englisch/check").get_data(as_text=True)
    assert "(English), line 3" in page and "Image without alternative text" in page


def test_the_panel_shows_state_and_links(app, make_user, make_draft):
    from flask import render_template
    from flask_login import login_user

    from learning.org.models import User
    from learning.training.authoring.documents import draft_spec
    from learning.training.authoring.models import CourseDraft

    author = make_user("panel", roles={Role.AUTHOR})
    make_draft("tafel", editors=[author], published=True)
    with app.test_request_context("/learning/author/tafel/preview", headers={"Accept-Language": "en"}):
        login_user(db.session.get(User, author.id))
        draft = db.session.scalar(select(CourseDraft).where(CourseDraft.slug == "tafel"))
        html = render_template("training/publish/_panel.html", draft=draft, spec=draft_spec(draft),
                               course=draft.course, may_edit=True)
    assert "Version 1 of" in html and "Same as the published version" in html
    assert "/learning/author/tafel/preview" in html and "/learning/author/tafel/versions" in html
    assert "/learning/author/tafel/archive" in html and "Archive the course" in html
    assert "/learning/author/tafel/publish" not in html  # nothing to publish


def test_the_four_eyes_setting_is_on_the_settings_page(client, login, people):
    login(client, "admin")
    page = client.get("/admin/settings/").get_data(as_text=True)
    assert "Four-eyes rule for courses" in page and "courses__four_eyes" in page
