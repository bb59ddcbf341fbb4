"""The course editor: my courses, a new course, the course hub with its settings, editors, duplicating a course
managed as files, and who may do what."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from learning.db import db
from learning.roles import Role


@pytest.fixture
def author(make_user):
    return make_user("autorin", roles={Role.AUTHOR}, first_name="Lena", last_name="Berg")


@pytest.fixture
def group(make_user):
    return make_user("gruppe", roles={Role.PROJECT_GROUP}, first_name="Paul", last_name="Projekt")


def _draft(app, slug):
    from learning.training.authoring.models import CourseDraft

    with app.app_context():
        draft = db.session.scalar(select(CourseDraft).where(CourseDraft.slug == slug))
        if draft is not None:
            draft.editors  # noqa: B018
            db.session.expunge(draft)
        return draft


def _spec(app, slug):
    from learning.training.authoring.documents import draft_spec
    from learning.training.authoring.models import CourseDraft

    with app.app_context():
        return draft_spec(db.session.scalar(select(CourseDraft).where(CourseDraft.slug == slug)))


def _audit(app, action):
    from learning.audit.models import AuditEntry

    with app.app_context():
        return db.session.scalars(select(AuditEntry.summary).where(AuditEntry.action == action)).all()


def _settings(spec, **changes):
    data = {"revision": "0", "title": spec.title, "summary": spec.summary or "Worum es geht.", "phase": "",
            "tags": ", ".join(spec.tags), "minutes": str(spec.minutes), "due-days": "", "due-direction": "after",
            "due-anchor": "start", "due-date": "", "pass_mark": str(spec.pass_mark),
            "max_attempts": str(spec.max_attempts or ""), "attempt_pause": "0", "pause_unit": "minutes",
            "show_answers": spec.show_answers, "title_en": "", "summary_en": "", "tags_en": ""}
    data.update(changes)
    return data


# My courses and a new one -------------------------------------------------------------------

def test_an_author_creates_a_course_and_becomes_its_editor(app, client, login, author):
    login(client, "autorin")
    response = client.submit("/learning/author/_new", {"title": "Die neue E-Akte: Grundlagen", "slug": ""})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/learning/author/die-neue-e-akte-grundlagen")
    draft = _draft(app, "die-neue-e-akte-grundlagen")
    assert draft.course_id is None and draft.document["title"] == "Die neue E-Akte: Grundlagen"
    assert [editor.user_id for editor in draft.editors] == [author.id]
    assert _audit(app, "training.draft_created") == ["Die neue E-Akte: Grundlagen"]
    page = client.get("/learning/author/").get_data(as_text=True)
    assert "Die neue E-Akte: Grundlagen" in page and "Draft, never published" in page


def test_a_derived_short_name_that_is_taken_gets_a_number(app, client, login, author, make_course):
    make_course("fristen")
    login(client, "autorin")
    response = client.submit("/learning/author/_new", {"title": "Fristen"})
    assert response.headers["Location"].endswith("/learning/author/fristen-2")


@pytest.mark.parametrize("data, message", [
    ({"title": "", "slug": ""}, "Please enter a title."),
    ({"title": "   ", "slug": ""}, "Please enter a title."),
    ({"title": "Fristen", "slug": "fristen"}, "A course with this short name exists already."),
    ({"title": "Fristen", "slug": "web-kurs"}, "A course with this short name exists already."),
    ({"title": "Fristen", "slug": "Nicht Gut!"}, "Use 2 to 80 lower-case letters"),
    ({"title": "x" * 201, "slug": ""}, "Field cannot be longer than 200 characters."),
])
def test_a_new_course_with_bad_input_is_refused_with_a_message(app, client, login, author, make_course, make_draft,
                                                                data, message):
    from learning.training.authoring.models import CourseDraft

    make_course("fristen")
    make_draft("web-kurs")
    login(client, "autorin")
    response = client.submit("/learning/author/_new", data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CourseDraft)) == 1


def test_the_start_page_names_each_state_in_german(app, client, login, group, make_draft, make_course):
    from learning.training.authoring.models import CourseDraft, ReviewState

    make_draft("entwurf", title="Nur ein Entwurf")
    make_draft("fertig", title="Veröffentlicht", published=True)
    make_draft("geaendert", title="Geändert", published=True)
    make_draft("pruefung", title="In Prüfung")
    make_course("dateikurs", title="Aus Dateien")
    with app.app_context():
        changed = db.session.scalar(select(CourseDraft).where(CourseDraft.slug == "geaendert"))
        changed.document = {**changed.versions[0].spec, "title": "Geändert"}
        review = db.session.scalar(select(CourseDraft).where(CourseDraft.slug == "pruefung"))
        review.review_state = ReviewState.IN_REVIEW
        db.session.commit()
    login(client, "gruppe")
    page = client.get("/learning/author/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Kurse schreiben" in page and "Neuer Kurs" in page
    assert "Entwurf, nie veröffentlicht" in page
    assert "Veröffentlicht (Version 1)" in page
    assert "Unveröffentlichte Änderungen" in page
    assert "Zur Prüfung" in page
    assert "als Dateien verwaltet" in page and "Als bearbeitbare Kopie duplizieren" in page
    assert "Aus Dateien" in page


def test_an_author_sees_only_the_courses_naming_them(app, client, login, author, make_draft, make_course):
    make_draft("meiner", title="Mein Kurs", editors=[author])
    make_draft("fremder", title="Fremder Kurs")
    make_course("dateikurs", title="Aus Dateien")
    login(client, "autorin")
    page = client.get("/learning/author/").get_data(as_text=True)
    assert "Mein Kurs" in page
    assert "Fremder Kurs" not in page and "Aus Dateien" not in page


def test_the_start_page_runs_a_fixed_number_of_statements(app, client, login, group, make_draft, make_course,
                                                           count_queries):
    login(client, "gruppe")

    def count() -> int:
        with count_queries() as statements:
            assert client.get("/learning/author/").status_code == 200
        return len(statements)

    make_draft(published=True)
    make_course()
    few = count()
    for _ in range(4):
        make_draft(published=True)
        make_draft()
        make_course()
    assert count() == few


def test_the_navigation_offers_the_editor_to_authors_and_the_project_group_only(client, login, author, group,
                                                                                make_user):
    make_user("beschaeftigt")
    for username, shown in (("autorin", True), ("gruppe", True), ("beschaeftigt", False)):
        login(client, username)
        page = client.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
        assert ('href="/learning/author/"' in page) is shown, username
        client.post("/logout", data={"csrf_token": client.csrf_token()})


def test_manage_courses_links_to_the_editor(client, login, group):
    login(client, "gruppe")
    assert 'href="/learning/author/"' in client.get("/learning/manage/courses").get_data(as_text=True)


# Permissions --------------------------------------------------------------------------------

EDITOR_PAGES = ["/learning/author/{slug}", "/learning/author/{slug}/lessons/lektion-1",
                "/learning/author/{slug}/editors", "/learning/author/{slug}/editors/search?q=be"]
EDITOR_ACTIONS = ["/learning/author/{slug}", "/learning/author/{slug}/add-lesson",
                  "/learning/author/{slug}/move-lesson", "/learning/author/{slug}/remove-lesson",
                  "/learning/author/{slug}/lessons/lektion-1", "/learning/author/{slug}/editors",
                  "/learning/author/{slug}/duplicate"]


def test_an_author_not_named_on_a_course_gets_403_everywhere_and_changes_nothing(app, client, login, author,
                                                                               make_draft):
    make_draft("fremd", title="Fremder Kurs")
    before = _spec(app, "fremd")
    login(client, "autorin")
    for url in EDITOR_PAGES:
        assert client.get(url.format(slug="fremd")).status_code == 403, url
    for url in EDITOR_ACTIONS:
        response = client.submit(url.format(slug="fremd"), {"title": "Gekapert", "lesson_title": "Neu",
                                                            "lesson": "lektion-1", "direction": "down",
                                                            "revision": "0", "body": "Weg"})
        assert response.status_code == 403, url
    assert _spec(app, "fremd") == before


def test_employees_and_admins_get_403_on_every_editor_page(app, client, login, make_user, make_draft):
    make_draft("kurs")
    make_user("beschaeftigt")
    make_user("verwaltung", roles={Role.ADMIN})
    for username in ("beschaeftigt", "verwaltung"):
        login(client, username)
        assert client.get("/learning/author/").status_code == 403
        for url in EDITOR_PAGES:
            assert client.get(url.format(slug="kurs")).status_code == 403, url
        assert client.submit("/learning/author/_new", {"title": "Neu"}).status_code == 403
        assert client.submit("/learning/author/_preview", {"text": "# x"}).status_code == 403
        client.post("/logout", data={"csrf_token": client.csrf_token()})


def test_an_author_cannot_open_a_course_managed_as_files(client, login, author, make_course):
    make_course("dateikurs")
    login(client, "autorin")
    assert client.get("/learning/author/dateikurs").status_code == 403


def test_an_unknown_course_or_lesson_is_404(client, login, group, make_draft):
    make_draft("kurs")
    login(client, "gruppe")
    assert client.get("/learning/author/gibt-es-nicht").status_code == 404
    assert client.get("/learning/author/kurs/lessons/gibt-es-nicht").status_code == 404


def test_employees_never_see_a_draft_in_the_catalogue_or_as_a_course(app, client, login, make_user, make_draft):
    from learning.training.authoring.models import CourseDraft

    make_draft("nur-entwurf", title="Geheimer Entwurf")
    make_draft("veroeffentlicht", title="Öffentlicher Kurs", published=True)
    with app.app_context():  # unpublished changes of a published course
        draft = db.session.scalar(select(CourseDraft).where(CourseDraft.slug == "veroeffentlicht"))
        draft.document = {**draft.versions[0].spec, "title": "Noch nicht freigegeben"}
        db.session.commit()
    make_user("beschaeftigt")
    login(client, "beschaeftigt")
    catalogue = client.get("/learning/courses").get_data(as_text=True)
    assert "Öffentlicher Kurs" in catalogue
    assert "Geheimer Entwurf" not in catalogue and "Noch nicht freigegeben" not in catalogue
    assert client.get("/learning/courses/nur-entwurf").status_code == 404
    assert "Noch nicht freigegeben" not in client.get("/learning/courses/veroeffentlicht").get_data(as_text=True)


# Settings -----------------------------------------------------------------------------------

def test_the_settings_are_saved_into_the_draft(app, client, login, author, make_draft, make_phase):
    make_phase("e-akte")
    make_draft("kurs", editors=[author])
    login(client, "autorin")
    page = client.get("/learning/author/kurs").get_data(as_text=True)
    assert "start+" not in page and 'name="revision" type="hidden" value="0"' in page
    data = _settings(_spec(app, "kurs"), title="Fristen im Griff", summary="Alles über Fristen.", phase="e-akte",
                     tags="Fristen, E-Akte", minutes="25", mandatory="y", **{"due-days": "14"}, pass_mark="70",
                     max_attempts="", attempt_pause="2", pause_unit="hours", show_answers="never",
                     title_en="Deadlines", summary_en="All about deadlines.", tags_en="deadlines")
    response = client.submit("/learning/author/kurs", data)
    assert response.status_code == 302
    spec = _spec(app, "kurs")
    assert (spec.title, spec.summary, spec.phase, spec.tags, spec.minutes, spec.mandatory, spec.due) == (
        "Fristen im Griff", "Alles über Fristen.", "e-akte", ["Fristen", "E-Akte"], 25, True, "start+14")
    assert (spec.pass_mark, spec.max_attempts, spec.attempt_pause, spec.show_answers) == (70, None, 120, "never")
    assert (spec.title_en, spec.summary_en, spec.tags_en) == ("Deadlines", "All about deadlines.", ["deadlines"])
    assert len(spec.lessons) == 2  # the lessons are untouched
    page = client.get("/learning/author/kurs").get_data(as_text=True)
    assert 'name="revision" type="hidden" value="1"' in page
    assert 'value="2"' in page and '<option selected value="hours">' in page


@pytest.mark.parametrize("changes, message", [
    ({"title": ""}, "Please enter a title."),
    ({"summary": ""}, "Please describe in a sentence or two"),
    ({"minutes": "0"}, "Number must be between 1 and 600."),
    ({"minutes": "viele"}, "Please enter a whole number."),
    ({"pass_mark": "101"}, "Number must be between 1 and 100."),
    ({"phase": "gibt-es-nicht"}, "Please choose a rollout phase from the list."),
    ({"due-days": "7", "due-anchor": "golive"}, "A due date counted from go-live needs a rollout phase."),
    ({"due-days": "7", "due-date": "2027-01-01"}, "Enter either a number of days or a fixed date, not both."),
    ({"summary": "x" * 2001}, "Field cannot be longer than 2000 characters."),
    ({"tags": ", ".join(f"t{n}" for n in range(21))}, "Please use at most 20 tags."),
])
def test_bad_settings_are_refused_on_the_form_and_change_nothing(app, client, login, author, make_draft, changes,
                                                                  message):
    make_draft("kurs", editors=[author])
    before = _spec(app, "kurs")
    login(client, "autorin")
    response = client.submit("/learning/author/kurs", _settings(before, **changes))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _spec(app, "kurs") == before


def test_a_second_save_of_the_settings_is_refused_with_409_and_keeps_the_entries(app, client, login, author,
                                                                                  make_draft):
    make_draft("kurs", editors=[author])
    spec = _spec(app, "kurs")
    login(client, "autorin")
    assert client.submit("/learning/author/kurs", _settings(spec, title="Erste Fassung")).status_code == 302
    response = client.submit("/learning/author/kurs", _settings(spec, title="Zweite Fassung"))
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Someone else saved this part while you were editing it." in page
    assert "Erste Fassung" in page and 'value="Zweite Fassung"' in page
    assert 'name="revision" type="hidden" value="1"' in page  # saving again now overwrites, knowingly
    assert _spec(app, "kurs").title == "Erste Fassung"
    assert client.submit("/learning/author/kurs", _settings(spec, title="Zweite Fassung", revision="1")
                         ).status_code == 302
    assert _spec(app, "kurs").title == "Zweite Fassung"


def test_the_hub_shows_the_due_rule_as_words_never_as_code(app, client, login, author, make_draft):
    make_draft("kurs", editors=[author])
    login(client, "autorin")
    client.submit("/learning/author/kurs", _settings(_spec(app, "kurs"), **{"due-days": "7",
                                                                            "due-direction": "before"}))
    assert _spec(app, "kurs").due == "start-7"
    page = client.get("/learning/author/kurs").get_data(as_text=True)
    assert "start-7" not in page
    assert 'name="due-days" value="7"' in page and '<option value="before" selected>' in page


def test_the_hub_runs_a_fixed_number_of_statements(app, client, login, author, make_draft, count_queries):
    small = make_draft(lessons=1, editors=[author], published=True)
    large = make_draft(lessons=12, editors=[author], published=True)
    login(client, "autorin")

    def count(slug) -> int:
        with count_queries() as statements:
            assert client.get(f"/learning/author/{slug}").status_code == 200
        return len(statements)

    assert count(small.slug) == count(large.slug)


# A course managed as files ------------------------------------------------------------------

def test_the_project_group_sees_a_course_managed_as_files_read_only(app, client, login, group, make_course):
    make_course("dateikurs", title="Aus Dateien")
    login(client, "gruppe")
    response = client.get("/learning/author/dateikurs", headers={"Accept-Language": "de"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Aus Dateien" in page and "Als bearbeitbare Kopie duplizieren" in page
    assert 'name="title"' not in page
    lesson = client.get("/learning/author/dateikurs/lessons/01-lektion").get_data(as_text=True)
    assert "Inhalt 1." in lesson and "<textarea" not in lesson
    for url in ("/learning/author/dateikurs", "/learning/author/dateikurs/add-lesson",
                "/learning/author/dateikurs/lessons/01-lektion", "/learning/author/dateikurs/editors"):
        response = client.submit(url, {"title": "Geändert", "lesson_title": "Neu", "body": "Neu"})
        assert response.status_code == 302, url
    with app.app_context():
        from learning.training.authoring.models import CourseDraft
        from learning.training.models import Course

        assert db.session.scalar(select(Course.title).where(Course.slug == "dateikurs")) == "Aus Dateien"
        assert db.session.scalar(select(func.count()).select_from(CourseDraft)) == 0


def test_duplicating_a_course_managed_as_files_copies_lessons_quiz_and_images(app, client, login, group, tmp_path):
    from io import BytesIO

    from PIL import Image

    from learning.training.models import Course, CourseSource, Lesson

    buffer = BytesIO()
    Image.new("RGB", (40, 30), "blue").save(buffer, "PNG")
    folder = tmp_path / "courses" / "dateikurs" / "bilder"
    folder.mkdir(parents=True)
    (folder / "plan.png").write_bytes(buffer.getvalue())
    (folder / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    app.config["COURSES_DIR"] = str(tmp_path / "courses")
    with app.app_context():
        course = Course(slug="dateikurs", title="Aus Dateien", summary="Vom Server.", minutes=10, content_hash="x",
                        source=CourseSource.FILES, tags=["Fristen"])
        course.lessons = [
            Lesson(slug="01-start", position=1, title="Start", content_hash="a",
                   body="# Start\n\nDer Plan:\n\n![Der Plan der Einführung](bilder/plan.png)\n\n"
                        "![Logo](bilder/logo.svg)"),
            Lesson(slug="02-ende", position=2, title="Ende", content_hash="b", body="# Ende\n\n## Fertig\n\nGut.",
                   title_en="End", body_en="# End\n\n![The plan](bilder/plan.png)")]
        db.session.add(course)
        db.session.commit()
    login(client, "gruppe")
    response = client.submit("/learning/author/dateikurs/duplicate")
    assert response.status_code == 302 and response.headers["Location"].endswith("/learning/author/dateikurs-kopie")
    spec = _spec(app, "dateikurs-kopie")
    assert spec.title == "Aus Dateien (copy)" and spec.summary == "Vom Server." and spec.tags == ["Fristen"]
    assert [lesson.title for lesson in spec.lessons] == ["Start", "Ende"]
    assert spec.lessons[1].body == "## Fertig\n\nGut." and spec.lessons[1].body_en.startswith("![The plan](/media/")
    found = re.search(r"!\[Der Plan der Einführung\]\((/media/[0-9a-f]{64}\.png)\)", spec.lessons[0].body)
    assert found, spec.lessons[0].body
    assert "![Logo](bilder/logo.svg)" in spec.lessons[0].body  # not accepted by the library: kept, and named
    assert client.get(found.group(1)).status_code == 200
    draft = _draft(app, "dateikurs-kopie")
    assert draft.course_id is None and [e.user_id for e in draft.editors] == [group.id]
    assert _audit(app, "training.course_duplicated") == ["Aus Dateien → Aus Dateien (copy)"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "bilder/logo.svg" in page and "1 image has been copied into the media library." in page
    assert client.submit("/learning/author/dateikurs/duplicate").headers["Location"].endswith("dateikurs-kopie-2")


def test_a_web_course_cannot_be_duplicated_as_files(app, client, login, group, make_draft):
    make_draft("webkurs")
    login(client, "gruppe")
    response = client.submit("/learning/author/webkurs/duplicate")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Only a course managed as files can be duplicated here." in page
    assert _draft(app, "webkurs-kopie") is None


# Editors ------------------------------------------------------------------------------------

def test_editors_are_added_and_removed_with_audit_entries(app, client, login, author, group, make_user, make_draft):
    other = make_user("zweite", roles={Role.AUTHOR}, first_name="Zora", last_name="Zweit")
    make_draft("kurs", title="Fristen", editors=[author])
    login(client, "autorin")
    page = client.get("/learning/author/kurs/editors").get_data(as_text=True)
    assert "Lena Berg" in page
    found = client.get("/learning/author/kurs/editors/search?q=zwe").get_json()
    assert [person["name"] for person in found["people"]] == ["Zora Zweit"]
    response = client.submit("/learning/author/kurs/editors", {"editor_ids": str(other.id)})
    assert response.status_code == 302
    assert {e.user_id for e in _draft(app, "kurs").editors} == {author.id, other.id}
    assert _audit(app, "training.editor_added") == ["Zora Zweit: Fristen"]
    response = client.submit("/learning/author/kurs/editors", {"remove": str(author.id)})
    assert response.status_code == 302
    assert {e.user_id for e in _draft(app, "kurs").editors} == {other.id}
    assert _audit(app, "training.editor_removed") == ["Lena Berg: Fristen"]
    assert client.get("/learning/author/kurs").status_code == 403  # no longer an editor


def test_only_authors_and_the_project_group_can_be_named_editors(app, client, login, author, make_user, make_draft):
    employee = make_user("beschaeftigt", first_name="Emil", last_name="Einfach")
    make_draft("kurs", editors=[author])
    login(client, "autorin")
    assert client.get("/learning/author/kurs/editors/search?q=einf").get_json() == {"people": []}
    response = client.submit("/learning/author/kurs/editors", {"editor_ids": str(employee.id)})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Please choose a person from the list." in page or "Only people with the role" in page
    assert {e.user_id for e in _draft(app, "kurs").editors} == {author.id}


def test_the_service_refuses_an_editor_without_the_role_with_a_message(app, ctx, author, make_user, make_draft):
    from learning.errors import ServiceError
    from learning.org.models import User
    from learning.training.authoring.drafts import add_editors
    from learning.training.authoring.models import CourseDraft

    employee = make_user("beschaeftigt", first_name="Emil", last_name="Einfach")
    make_draft("kurs", editors=[author])
    draft = db.session.scalar(select(CourseDraft).where(CourseDraft.slug == "kurs"))
    with pytest.raises(ServiceError, match="Only people with the role “Author” or “Project group”.*Emil Einfach"):
        add_editors(draft, [employee.id], db.session.get(User, author.id))


def test_the_last_editor_stays(app, client, login, author, make_draft):
    make_draft("kurs", editors=[author])
    login(client, "autorin")
    response = client.submit("/learning/author/kurs/editors", {"remove": str(author.id)}, follow_redirects=True)
    assert "A course keeps at least one editor." in response.get_data(as_text=True)
    assert [e.user_id for e in _draft(app, "kurs").editors] == [author.id]


def test_the_editors_page_runs_a_fixed_number_of_statements(app, client, login, group, make_user, make_draft,
                                                            count_queries):
    few = make_draft(editors=[make_user(roles={Role.AUTHOR})])
    many = make_draft(editors=[make_user(roles={Role.AUTHOR}) for _ in range(6)])
    login(client, "gruppe")

    def count(slug) -> int:
        with count_queries() as statements:
            assert client.get(f"/learning/author/{slug}/editors").status_code == 200
        return len(statements)

    assert count(few.slug) == count(many.slug)


def test_the_hub_and_the_editors_page_speak_german(app, client, login, author, make_draft):
    make_draft("kurs", editors=[author])
    login(client, "autorin")
    german = {"Accept-Language": "de"}
    hub = client.get("/learning/author/kurs", headers=german).get_data(as_text=True)
    for words in ("Kurseditor", "Einstellungen speichern", "Standardfrist", "Versuche für das Quiz",
                  "Wann die richtigen Antworten gezeigt werden", "Englische Fassung (optional)", "Lektion hinzufügen",
                  "Nach unten verschieben: Lektion 1", "Entfernen: Lektion 2", "Zurück zu „Kurse schreiben“"):
        assert words in hub, words
    editors = client.get("/learning/author/kurs/editors", headers=german).get_data(as_text=True)
    for words in ("Bearbeitende von „Webkurs kurs“", "Lena Berg als bearbeitende Person entfernen",
                  "Als Bearbeitende hinzufügen", "Zurück zum Kurs"):
        assert words in editors, words
