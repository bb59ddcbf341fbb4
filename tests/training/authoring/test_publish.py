"""Publishing a course written in the browser: first publication, new versions, progress, the check, the rights."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from learning.db import db, unit_of_work
from learning.roles import Role
from learning.training.authoring.documents import draft_spec, lesson_part, save_part
from learning.training.authoring.models import CourseDraft, CourseVersion
from learning.training.models import Course, CourseSource, Lesson, LessonCompletion


@pytest.fixture
def author(make_user):
    return make_user("autorin", roles={Role.AUTHOR}, first_name="Lena", last_name="Autorin")


def edit_lesson(app, slug: str, index: int, body: str, actor=None) -> None:
    """Save a lesson of the draft as the editor would (the per-part lock, the last saver)."""
    with app.app_context():
        with unit_of_work():
            draft = db.session.scalar(select(CourseDraft).where(CourseDraft.slug == slug))
            spec = draft_spec(draft)
            part = lesson_part(spec.lessons[index].slug)

            def change(spec):
                spec.lessons[index].body = body

            save_part(draft, part, int((draft.revisions or {}).get(part, 0)), change, actor)


def publish(client, slug: str, summary: str = "Neue Fristen", substantive: bool = False):
    data = {"summary": summary}
    if substantive:
        data["substantive"] = "y"
    return client.submit(f"/learning/author/{slug}/publish", data)


def test_first_publication_creates_a_web_course_in_the_catalogue(app, client, login, people, author, make_draft):
    make_draft("erstkurs", title="Reisekosten online", editors=[author])
    login(client, "autorin")
    page = client.get("/learning/author/erstkurs/publish")
    assert page.status_code == 200 and "What changed in this version" in page.get_data(as_text=True)
    response = publish(client, "erstkurs", "Erste Fassung")
    assert response.status_code == 302 and response.headers["Location"].endswith("/learning/author/erstkurs/versions")
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == "erstkurs"))
        assert course.source == CourseSource.WEB and course.title == "Reisekosten online"
        assert [lesson.slug for lesson in course.active_lessons] == ["lektion-1", "lektion-2"]
        assert "<h2>Abschnitt 1</h2>" in course.lessons[0].body_html  # rendered once, when published
        draft = db.session.scalar(select(CourseDraft).where(CourseDraft.slug == "erstkurs"))
        assert (draft.course_id, draft.document, draft.base_version) == (course.id, None, 1)
        version = db.session.scalar(select(CourseVersion).where(CourseVersion.draft_id == draft.id))
        assert (version.number, version.summary, version.substantive, version.published_by_id) == (
            1, "Erste Fassung", False, author.id)
        from learning.audit.models import AuditEntry

        assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.target_id == course.id,
                                                                 AuditEntry.target_type == "course")) == \
            "training.course_published"
    employee = app.test_client()
    login(employee, "employee")
    assert "Reisekosten online" in employee.get("/learning/courses").get_data(as_text=True)
    assert employee.get("/learning/courses/erstkurs/lessons/lektion-1").status_code == 200
    assert employee.get("/learning/author/erstkurs/versions").status_code == 403  # no authoring pages for them


def test_a_summary_is_required_and_nothing_is_published_without_one(app, client, login, author, make_draft):
    make_draft("ohnetext", editors=[author])
    login(client, "autorin")
    response = publish(client, "ohnetext", "   ")
    assert response.status_code == 200
    assert "Please describe what changed in this version." in response.get_data(as_text=True)
    too_long = publish(client, "ohnetext", "x" * 2001)
    assert too_long.status_code == 200 and "2000" in too_long.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Course.id).where(Course.slug == "ohnetext")) is None
        assert db.session.scalar(select(func.count()).select_from(CourseVersion)) == 0


def test_a_published_course_without_changes_is_not_published_again(app, client, login, author, make_draft):
    make_draft("gleich", editors=[author], published=True)
    login(client, "autorin")
    response = publish(client, "gleich", "Nichts")
    assert response.status_code == 200
    assert "There are no unpublished changes" in response.get_data(as_text=True)


def test_republication_keeps_progress_on_unchanged_lessons(app, client, login, people, author, make_draft):
    draft = make_draft("fortschritt", editors=[author], published=True)
    with app.app_context():
        lessons = db.session.scalars(select(Lesson).join(Course).where(Course.slug == "fortschritt")
                                     .order_by(Lesson.position)).all()
        ids = [lesson.id for lesson in lessons]
        for lesson_id in ids:
            db.session.add(LessonCompletion(user_id=people["employee"].id, lesson_id=lesson_id))
        db.session.commit()
    edit_lesson(app, "fortschritt", 1, "## Neu\n\nGeänderter Inhalt.", author)
    login(client, "autorin")
    assert publish(client, "fortschritt", "Tippfehler").status_code == 302
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == "fortschritt"))
        assert [lesson.id for lesson in course.active_lessons] == ids  # the same rows, changed in place
        assert "Geänderter Inhalt" in course.active_lessons[1].body_html
        done = set(db.session.scalars(select(LessonCompletion.lesson_id)
                                      .where(LessonCompletion.user_id == people["employee"].id)))
        assert done == set(ids)  # not substantive: nothing changes for learners
        versions = db.session.scalars(select(CourseVersion.number).where(CourseVersion.draft_id == draft.id)
                                      .order_by(CourseVersion.number)).all()
        assert versions == [1, 2]


def test_a_substantive_version_asks_learners_in_progress_only_for_the_changed_lesson(app, client, login, people,
                                                                                      author, make_draft):
    make_draft("teilweise", editors=[author], published=True)
    with app.app_context():
        ids = db.session.scalars(select(Lesson.id).join(Course).where(Course.slug == "teilweise")
                                 .order_by(Lesson.position)).all()
        for lesson_id in ids:
            db.session.add(LessonCompletion(user_id=people["employee"].id, lesson_id=lesson_id))
        db.session.commit()
    edit_lesson(app, "teilweise", 1, "## Neue Rechtslage\n\nAb sofort gilt die neue Frist.", author)
    login(client, "autorin")
    assert publish(client, "teilweise", "Neue Rechtslage", substantive=True).status_code == 302
    with app.app_context():
        done = set(db.session.scalars(select(LessonCompletion.lesson_id)
                                      .where(LessonCompletion.user_id == people["employee"].id)))
        assert done == {ids[0]}


def test_accessibility_errors_block_publishing_and_link_to_each_place(app, client, login, author, make_draft):
    make_draft("barrieren", editors=[author])
    edit_lesson(app, "barrieren", 1, "## Plan\n\n![](/media/plan.png)\n\n#### Zu tief\n\n|  |  |\n|--|--|\n| a | b |",
                author)
    login(client, "autorin")
    check = client.get("/learning/author/barrieren/check")
    page = check.get_data(as_text=True)
    assert check.status_code == 200
    assert "Image without alternative text" in page and "Skipped heading level" in page
    assert "Table without a header row" in page
    assert "/learning/author/barrieren/" in page and "lektion-2" in page
    response = publish(client, "barrieren", "Versuch")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "Publishing is blocked" in text and "Image without alternative text" in text
    with app.app_context():
        assert db.session.scalar(select(Course.id).where(Course.slug == "barrieren")) is None


def test_a_course_without_lessons_cannot_be_published(app, client, login, author, make_draft):
    make_draft("leer", editors=[author], lessons=0)
    login(client, "autorin")
    response = publish(client, "leer", "Leer")
    assert response.status_code == 200 and "Course without lessons" in response.get_data(as_text=True)


def test_warnings_do_not_block(app, client, login, author, make_draft):
    make_draft("warnung", editors=[author])
    edit_lesson(app, "warnung", 0, "## Formular\n\nDas Formular finden Sie [hier](https://example.org/formular).",
                author)
    login(client, "autorin")
    page = client.get("/learning/author/warnung/check").get_data(as_text=True)
    assert "Link text that does not say where it leads" in page and "No errors" in page
    assert publish(client, "warnung", "Mit Warnung").status_code == 302


def test_a_file_managed_course_is_not_published_from_the_browser(app, client, login, people, make_course):
    course = make_course("dateikurs")
    with app.app_context():
        db.session.add(CourseDraft(slug="dateikurs", course_id=course.id, revisions={},
                                   document={**_document(app, "dateikurs"), "title": "Geändert"}))
        db.session.commit()
    login(client, "projectgroup")
    response = publish(client, "dateikurs", "Versuch")
    assert response.status_code == 200 and "managed as files" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Course.title).where(Course.slug == "dateikurs")) != "Geändert"


def _document(app, slug):
    from learning.training.authoring.documents import document_of, spec_from_course

    with app.app_context():
        return document_of(spec_from_course(db.session.scalar(select(Course).where(Course.slug == slug))))


def test_archive_and_restore_keep_learners_records(app, client, login, people, author, make_draft):
    make_draft("archiv", editors=[author], published=True)
    with app.app_context():
        lesson_id = db.session.scalar(select(Lesson.id).join(Course).where(Course.slug == "archiv").limit(1))
        db.session.add(LessonCompletion(user_id=people["employee"].id, lesson_id=lesson_id))
        db.session.commit()
    login(client, "autorin")
    response = client.submit("/learning/author/archiv/archive", {"archived": "1"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Course.archived_at).where(Course.slug == "archiv")) is not None
        assert db.session.scalar(select(func.count()).select_from(LessonCompletion)) == 1
    client.submit("/learning/author/archiv/archive", {"archived": "0"})
    with app.app_context():
        assert db.session.scalar(select(Course.archived_at).where(Course.slug == "archiv")) is None


def test_versions_page_lists_versions_and_shows_one_read_only(app, client, login, author, make_draft):
    make_draft("verlauf", editors=[author], published=True)
    edit_lesson(app, "verlauf", 0, "## Zweite Fassung\n\nNeu.", author)
    login(client, "autorin")
    publish(client, "verlauf", "Zweite Fassung der Lektion 1")
    page = client.get("/learning/author/verlauf/versions").get_data(as_text=True)
    assert "Version 2" in page and "Zweite Fassung der Lektion 1" in page and "Lena Autorin" in page
    first = client.get("/learning/author/verlauf/versions?version=1").get_data(as_text=True)
    assert "Abschnitt 1" in first and "<textarea" not in first
    assert client.get("/learning/author/verlauf/versions?version=99").status_code == 404
    assert client.get("/learning/author/verlauf/versions?version=abc").status_code in {200, 400}


def test_pages_run_a_fixed_number_of_queries(app, client, login, author, make_draft, count_queries):
    make_draft("klein", editors=[author], lessons=1, published=True)
    make_draft("gross", editors=[author], lessons=8, published=True)
    for slug in ("klein", "gross"):
        edit_lesson(app, slug, 0, "## Neu\n\nText.", author)
    login(client, "autorin")
    for slug in ("klein", "gross"):
        publish(client, slug, "Zweite")
        edit_lesson(app, slug, 0, "## Neu\n\nText 3.", author)
    counts = {}
    for path in ("preview", "preview/lektion-1", "check", "publish", "review", "versions", "versions?version=1"):
        for slug in ("klein", "gross"):
            client.get(f"/learning/author/{slug}/{path}")  # warm caches
            with count_queries() as statements:
                assert client.get(f"/learning/author/{slug}/{path}").status_code == 200
            counts[(path, slug)] = len(statements)
        assert counts[(path, "klein")] == counts[(path, "gross")], path


def test_english_and_german_pages(app, client, login, author, make_draft):
    make_draft("sprachen", editors=[author])
    login(client, "autorin")
    german = client.get("/learning/author/sprachen/preview", headers={"Accept-Language": "de"})
    assert german.status_code == 200
    english = client.get("/learning/author/sprachen/preview").get_data(as_text=True)
    assert "Preview – not published" in english


def test_due_again_uses_the_courses_rule_from_today(app, make_user):
    from datetime import date

    from learning.training.authoring.publishing import due_again

    person = make_user("spaet", start_date=date(2020, 1, 1))
    today = date(2026, 6, 1)
    assert due_again(Course(default_due="assigned+14"), person, today) == today + timedelta(days=14)
    assert due_again(Course(default_due=None), person, today) == today + timedelta(days=30)
    # a rule whose day has passed (start+14 of someone who started years ago): 30 days from today
    assert due_again(Course(default_due="start+14"), person, today) == today + timedelta(days=30)
