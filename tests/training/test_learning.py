"""My learning, the catalogue, course and lesson pages, lesson completion, media and query counts."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from learning.db import db, utcnow
from learning.errors import NotFound, ServiceError
from learning.org.models import User
from learning.training.models import (
    Assignment,
    Course,
    CourseCompletion,
    Lesson,
    LessonCompletion,
)
from learning.training.services import (
    Status,
    catalogue,
    complete_lesson,
    course_progress,
    enroll,
    my_learning,
)

TODAY = date(2026, 3, 10)
NOON = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)  # 12:00 in Berlin


def _get(model, id_):
    return db.session.get(model, id_)


def _done_lessons(app, user, course, count: int) -> None:
    with app.app_context():
        for lesson in course.lessons[:count]:
            db.session.add(LessonCompletion(user_id=user.id, lesson_id=lesson.id))
        db.session.commit()


def _archive(app, course) -> None:
    with app.app_context():
        _get(Course, course.id).archived_at = utcnow()
        db.session.commit()


def _complete(app, user, course, code: str) -> None:
    with app.app_context():
        db.session.add(CourseCompletion(user_id=user.id, course_id=course.id, verification_code=code))
        assignment = db.session.scalar(select(Assignment).where(Assignment.user_id == user.id,
                                                                Assignment.course_id == course.id))
        if assignment:
            assignment.completed_at = utcnow()
        db.session.commit()


# My learning ------------------------------------------------------------------------------

def test_my_learning_orders_by_due_date_with_undated_last(app, ctx, people, make_course, make_assignment):
    employee = people["employee"]
    later = make_course(title="Later")
    undated = make_course(title="Undated")
    soon = make_course(title="Soon")
    finished = make_course(title="Finished")
    make_assignment(employee, later, due_on=TODAY + timedelta(days=30))
    make_assignment(employee, undated, due_on=None)
    make_assignment(employee, soon, due_on=TODAY + timedelta(days=2))
    make_assignment(employee, finished, due_on=TODAY - timedelta(days=1))
    _complete(app, employee, finished, "ABCDEFGHJK")

    items = my_learning(_get(User, employee.id), TODAY)
    assert [i.course.title for i in items] == ["Soon", "Later", "Undated", "Finished"]
    assert items[-1].status == Status.DONE and items[-1].completion.verification_code == "ABCDEFGHJK"


def test_my_learning_status_and_progress(app, ctx, people, make_course, make_assignment):
    employee = people["employee"]
    fresh, started, late, due_today = (make_course(title=t) for t in ("Fresh", "Started", "Late", "Today"))
    make_assignment(employee, fresh, due_on=TODAY + timedelta(days=3))
    make_assignment(employee, started, due_on=TODAY + timedelta(days=3))
    make_assignment(employee, late, due_on=TODAY - timedelta(days=2))
    make_assignment(employee, due_today, due_on=TODAY)
    _done_lessons(app, employee, started, 2)
    _done_lessons(app, employee, late, 1)

    items = {i.course.title: i for i in my_learning(_get(User, employee.id), TODAY)}
    assert items["Fresh"].status == Status.NOT_STARTED
    assert items["Started"].status == Status.IN_PROGRESS
    assert (items["Started"].done_lessons, items["Started"].total_lessons) == (2, 3)
    assert items["Late"].status == Status.OVERDUE and items["Late"].done_lessons == 1
    assert items["Today"].status == Status.NOT_STARTED  # due today is not overdue yet


def test_archived_lessons_do_not_count(app, ctx, people, make_course, make_assignment):
    employee = people["employee"]
    course = make_course()
    make_assignment(employee, course)
    _done_lessons(app, employee, course, 1)
    _get(Lesson, course.lessons[0].id).archived_at = utcnow()
    db.session.commit()
    item = my_learning(_get(User, employee.id), TODAY)[0]
    assert (item.done_lessons, item.total_lessons) == (0, 2)


@time_machine.travel(NOON, tick=False)
def test_my_learning_page_shows_due_words_sections_and_certificates(app, client, people, login, make_course,
                                                                    make_assignment):
    employee = people["employee"]
    make_assignment(employee, make_course(title="Three days"), due_on=TODAY + timedelta(days=3))
    make_assignment(employee, make_course(title="One day"), due_on=TODAY + timedelta(days=1))
    make_assignment(employee, make_course(title="Due now"), due_on=TODAY)
    make_assignment(employee, make_course(title="Two late"), due_on=TODAY - timedelta(days=2))
    make_assignment(employee, make_course(title="Self chosen"), due_on=None, mandatory=False)
    done = make_course(title="All done")
    make_assignment(employee, done, due_on=TODAY - timedelta(days=20))
    _complete(app, employee, done, "ZXCVBNMQWE")

    login(client, "employee")
    page = client.get("/learning/").get_data(as_text=True)
    assert "(in 3 days)" in page and "(in 1 day)" in page
    assert "(due today)" in page and "(2 days overdue)" in page
    assert "No due date" in page and "Voluntary" in page and "Overdue" in page
    todo, completed = page.split('id="done-heading"')
    assert todo.index("Two late") < todo.index("Due now") < todo.index("One day") < todo.index("Three days")
    assert todo.index("Three days") < todo.index("Self chosen")
    assert "All done" not in todo and "All done" in completed
    assert "/learning/certificates/ZXCVBNMQWE" in completed
    assert "<progress" in page and "style=" not in page


def test_my_learning_is_empty_for_a_new_person(client, people, login):
    login(client, "employee")
    page = client.get("/learning/").get_data(as_text=True)
    assert "Nothing to do right now." in page and "You have not completed a course yet." in page


# The catalogue ----------------------------------------------------------------------------

def test_catalogue_filters_and_search(app, ctx, people, make_course, make_phase):
    phase = make_phase(slug="e-akte")
    make_course(title="E-Akte Grundlagen", phase=phase, tags=["E-Akte"], tags_en=["Electronic file"])
    make_course(title="Datenschutz", summary="Über Übermittlungen", mandatory=False, tags=["Recht"])
    make_course(title="Alt", tags=["Recht"], archived_at=utcnow())
    user = _get(User, people["employee"].id)

    def titles(**filters):
        return [e.course.title for e in catalogue(user, TODAY, locale="de", **filters).entries]

    assert titles() == ["Datenschutz", "E-Akte Grundlagen"]
    assert titles(phase="e-akte") == ["E-Akte Grundlagen"]
    assert titles(tag="Recht") == ["Datenschutz"]
    assert titles(tag="Electronic file") == ["E-Akte Grundlagen"]
    assert titles(mandatory=True) == ["E-Akte Grundlagen"]
    assert titles(mandatory=False) == ["Datenschutz"]
    assert titles(q="übermittlung") == ["Datenschutz"]  # case-insensitive with umlauts, on every database
    assert titles(q="nothing like it") == []
    result = catalogue(user, TODAY, locale="en")
    assert result.tags == ["Electronic file", "Recht"] and [p.slug for p in result.phases] == ["e-akte"]


def test_catalogue_page_shows_course_facts_and_status(client, people, login, make_course, make_assignment,
                                                      make_phase):
    phase = make_phase(title="E-Akte", period="2026-H1")
    course = make_course(title="Kurs A", title_en="Course A", summary="Kurz gesagt.", summary_en="In short.",
                         minutes=45, phase=phase)
    make_course(title="Kurs B", mandatory=False)
    make_assignment(people["employee"], course, due_on=date.today() + timedelta(days=5))
    login(client, "employee")
    page = client.get("/learning/courses").get_data(as_text=True)
    assert "Course A" in page and "In short." in page and "about 45 minutes" in page
    assert "Mandatory" in page and "E-Akte" in page and "Not started" in page
    filtered = client.get("/learning/courses?mandatory=no").get_data(as_text=True)
    assert "Kurs B" in filtered and "Course A" not in filtered
    assert "1 course" in filtered


# Course page, enrolment, visibility -------------------------------------------------------

def test_course_page_shows_lessons_progress_and_enrol_button(app, client, people, login, make_course):
    course = make_course(title="Offener Kurs")
    _done_lessons(app, people["employee"], course, 1)
    login(client, "employee")
    page = client.get(f"/learning/courses/{course.slug}").get_data(as_text=True)
    assert "Offener Kurs" in page and "Lektion 1" in page and "Lektion 3" in page
    assert f'action="/learning/courses/{course.slug}/enroll"' in page
    assert 'value="1"' in page and "Take the quiz" in page


def test_enrol_is_voluntary_and_idempotent(app, client, people, login, make_course):
    course = make_course(mandatory=True)
    login(client, "employee")
    for _ in range(2):
        response = client.submit(f"/learning/courses/{course.slug}/enroll")
        assert response.status_code == 302
    with app.app_context():
        assignments = db.session.scalars(select(Assignment)).all()
        assert len(assignments) == 1
        assert (assignments[0].rule_id, assignments[0].mandatory, assignments[0].due_on) == (None, False, None)
    page = client.get(f"/learning/courses/{course.slug}").get_data(as_text=True)
    assert "/enroll" not in page and "Voluntary" in page
    assert course.title in client.get("/learning/").get_data(as_text=True)


def test_enrol_in_a_withdrawn_course_is_refused(app, ctx, people, make_course, make_assignment):
    course = make_course()
    make_assignment(people["employee"], course)
    _archive(app, course)
    with pytest.raises(ServiceError):
        enroll(_get(User, people["manager"].id), _get(Course, course.id))


def test_withdrawn_course_is_hidden_unless_the_person_had_it(app, client, people, login, make_course,
                                                             make_assignment):
    course = make_course(title="Zurückgezogen")
    make_assignment(people["employee"], course)
    _archive(app, course)
    lesson = course.lessons[0].slug
    login(client, "manager")
    assert client.get(f"/learning/courses/{course.slug}").status_code == 404
    assert client.get(f"/learning/courses/{course.slug}/lessons/{lesson}").status_code == 404
    assert client.submit(f"/learning/courses/{course.slug}/lessons/{lesson}/done").status_code == 404
    assert "Zurückgezogen" not in client.get("/learning/courses").get_data(as_text=True)

    other = app.test_client()
    login(other, "employee")
    page = other.get(f"/learning/courses/{course.slug}").get_data(as_text=True)
    assert "This course has been withdrawn" in page and "/enroll" not in page
    assert "Withdrawn" in other.get("/learning/").get_data(as_text=True)


def test_unknown_course_and_lesson_are_404(client, people, login, make_course):
    course = make_course()
    login(client, "employee")
    assert client.get("/learning/courses/no-such-course").status_code == 404
    assert client.get(f"/learning/courses/{course.slug}/lessons/99-nope").status_code == 404


# Lessons ----------------------------------------------------------------------------------

def test_complete_lesson_is_idempotent_and_starts_the_assignment(app, ctx, people, make_course, make_assignment):
    course = make_course()
    make_assignment(people["employee"], course)
    user, lesson = _get(User, people["employee"].id), _get(Lesson, course.lessons[0].id)
    assert complete_lesson(user, lesson) is None
    started = db.session.scalar(select(Assignment.started_at))
    assert started is not None
    assert complete_lesson(user, lesson) is None
    assert db.session.scalar(select(func.count(LessonCompletion.id))) == 1
    assert db.session.scalar(select(Assignment.started_at)) == started


def test_complete_lesson_without_assignment_enrols(app, ctx, people, make_course):
    course = make_course(quiz=False, lessons=1)
    user = _get(User, people["employee"].id)
    completion = complete_lesson(user, _get(Lesson, course.lessons[0].id))
    assignment = db.session.scalar(select(Assignment))
    assert assignment.rule_id is None and assignment.mandatory is False and assignment.started_at
    assert completion is not None and assignment.completed_at is not None  # no quiz: the last lesson completes


def test_complete_lesson_is_refused_for_withdrawn_courses_and_lessons(app, ctx, people, make_course,
                                                                      make_assignment):
    course = make_course()
    make_assignment(people["employee"], course)
    user = _get(User, people["employee"].id)
    lesson = _get(Lesson, course.lessons[1].id)
    lesson.archived_at = utcnow()
    db.session.commit()
    with pytest.raises(ServiceError):
        complete_lesson(user, lesson)
    _get(Course, course.id).archived_at = utcnow()
    db.session.commit()
    with pytest.raises(ServiceError):
        complete_lesson(user, _get(Lesson, course.lessons[0].id))
    assert db.session.scalar(select(func.count(LessonCompletion.id))) == 0


def test_complete_lesson_is_refused_for_hidden_courses(app, ctx, people, make_course):
    course = make_course()
    course_row = _get(Course, course.id)
    course_row.archived_at = utcnow()
    db.session.commit()
    with pytest.raises(ServiceError) as refused:
        complete_lesson(_get(User, people["employee"].id), _get(Lesson, course.lessons[0].id))
    assert isinstance(refused.value, ServiceError)
    with pytest.raises(NotFound):
        from learning.training.services import course_for

        course_for(_get(User, people["employee"].id), course.slug)


def test_withdrawn_course_refuses_marking_done_in_the_view(app, client, people, login, make_course,
                                                           make_assignment):
    course = make_course()
    make_assignment(people["employee"], course)
    _archive(app, course)
    login(client, "employee")
    response = client.submit(f"/learning/courses/{course.slug}/lessons/{course.lessons[0].slug}/done")
    assert response.status_code == 302
    assert "withdrawn" in client.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(LessonCompletion.id))) == 0


def test_marking_done_goes_to_the_next_lesson_then_the_course(app, client, people, login, make_course):
    course = make_course(lessons=2)
    first, second = (lesson.slug for lesson in course.lessons)
    login(client, "employee")
    response = client.submit(f"/learning/courses/{course.slug}/lessons/{first}/done")
    assert response.headers["Location"].endswith(f"/learning/courses/{course.slug}/lessons/{second}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "is marked as done" in page and re.search(r"Previous: <span[^>]*>Lektion 1<", page)
    response = client.submit(f"/learning/courses/{course.slug}/lessons/{second}/done")
    assert response.headers["Location"].endswith(f"/learning/courses/{course.slug}")
    with app.app_context():
        assert db.session.scalar(select(func.count(LessonCompletion.id))) == 2


def test_lesson_page_renders_markdown_without_the_title_line(app, client, people, login, make_course):
    course = make_course(lessons=2)
    with app.app_context():
        lesson = _get(Lesson, course.lessons[0].id)
        lesson.body = "# Lektion 1\n\n## Abschnitt\n\nText mit **Fett**.\n\n![Der Aktenplan](aktenplan.png)\n" \
                      "![extern](https://example.org/x.png)\n\n| Papier | E-Akte |\n|---|---|\n| Schrank | überall |\n"
        lesson.body_en = "# Lesson 1\n\n## Section\n\nEnglish text."
        lesson.title_en = "Lesson 1"
        db.session.commit()
    login(client, "employee")
    url = f"/learning/courses/{course.slug}/lessons/{course.lessons[0].slug}"
    page = client.get(url, headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert page.count("<h1") == 1 and '<h1 class="kern-heading-large">Lektion 1</h1>' in page
    assert "<h2>Abschnitt</h2>" in page and "<strong>Fett</strong>" in page  # right below the h1
    assert f'src="/learning/courses/{course.slug}/media/aktenplan.png"' in page
    assert 'src="https://example.org/x.png"' not in page and "extern" in page  # only the platform's images
    assert re.search(r'<div class="table-scroll" role="region" aria-label="[^"]+" tabindex="0">\s*<table>', page)
    assert 'class="lesson-body" lang="de"' in page
    english = client.get(url).get_data(as_text=True)
    assert "English text." in english and "Lesson 1 of 2" in english and 'class="lesson-body" lang="en"' in english
    assert re.search(r"Next: <span lang=\"de\">Lektion 2<", english) and "Mark as done and continue" in english


def test_lesson_markdown_cannot_inject_script(app, client, people, login, make_course):
    course = make_course()
    with app.app_context():
        _get(Lesson, course.lessons[0].id).body = (
            "# Titel\n\n<script>alert('x')</script>\n\n<img src=x onerror=\"alert('y')\">\n\n"
            "[klick](javascript:alert('z'))\n\n<a href=\"#\" onclick=\"alert('w')\">a</a>\n\n"
            "<div style=\"position:fixed\">styled</div>"
        )
        db.session.commit()
    login(client, "employee")
    page = client.get(f"/learning/courses/{course.slug}/lessons/{course.lessons[0].slug}").get_data(as_text=True)
    body = page.split('class="lesson-body"')[1].split("</article>")[0]
    markup = " ".join(re.findall(r"<[^>]+>", body))  # raw HTML is shown as text: look at the real tags
    assert "<script" not in body and "onerror" not in markup and "onclick" not in markup
    assert "javascript:" not in markup and "style=" not in markup and "&lt;script&gt;" in body


# Media ----------------------------------------------------------------------------------

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")


@pytest.fixture
def course_dir(app, tmp_path, make_course):
    course = make_course(slug="bilder")
    folder = tmp_path / "courses" / "bilder"
    (folder / "img").mkdir(parents=True)
    (folder / "aktenplan.png").write_bytes(PNG)
    (folder / "img" / "nested.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    (folder / "course.toml").write_text('title = "x"')
    (tmp_path / "courses" / "secret.png").write_bytes(PNG)
    (tmp_path / "secret.png").write_bytes(PNG)
    app.config["COURSES_DIR"] = str(tmp_path / "courses")
    return course


def test_media_serves_images_of_the_course(client, people, login, course_dir):
    login(client, "employee")
    response = client.get("/learning/courses/bilder/media/aktenplan.png")
    assert response.status_code == 200 and response.mimetype == "image/png" and response.data == PNG
    assert client.get("/learning/courses/bilder/media/img/nested.svg").mimetype == "image/svg+xml"


@pytest.mark.parametrize("path", [
    "course.toml", "../secret.png", "..%2Fsecret.png", "img/../../secret.png", "../../secret.png",
    "%2E%2E/secret.png", "missing.png", "/etc/passwd.png",
])
def test_media_refuses_traversal_and_other_files(client, people, login, course_dir, path):
    login(client, "employee")
    assert client.get(f"/learning/courses/bilder/media/{path}", follow_redirects=True).status_code == 404


def test_media_needs_a_visible_course(app, client, people, login, course_dir):
    login(client, "employee")
    assert client.get("/learning/courses/unknown/media/aktenplan.png").status_code == 404
    _archive(app, course_dir)
    assert client.get("/learning/courses/bilder/media/aktenplan.png").status_code == 404


def test_media_needs_sign_in(client, course_dir):
    response = client.get("/learning/courses/bilder/media/aktenplan.png")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# Progress service -------------------------------------------------------------------------

def test_course_progress_knows_next_lesson_and_attempts(app, ctx, people, make_course, make_assignment):
    course = make_course()
    make_assignment(people["employee"], course, due_on=TODAY + timedelta(days=1))
    _done_lessons(app, people["employee"], course, 1)
    progress = course_progress(_get(User, people["employee"].id), _get(Course, course.id), TODAY)
    assert (progress.done, progress.total) == (1, 3)
    assert progress.next_lesson.slug == course.lessons[1].slug
    assert progress.status == Status.IN_PROGRESS and not progress.passed and progress.open_attempt is None


# Query counts -----------------------------------------------------------------------------

def _learner_with_courses(app, user, make_course, make_assignment, count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        course = make_course(title=f"Kurs {n:02d}", lessons=2 + n % 3)
        make_assignment(user, course, due_on=TODAY + timedelta(days=n) if n % 2 else None)
        _done_lessons(app, user, course, 1)
        if n % 3 == 0:
            _complete(app, user, course, f"CODE{n:06d}")


def _count(client, count_queries, url: str) -> int:
    with count_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200
    return len(statements)


@pytest.mark.parametrize("url", ["/learning/", "/learning/courses", "/learning/courses?q=kurs&mandatory=yes"])
def test_learning_pages_run_a_fixed_number_of_queries(app, client, people, login, make_course, make_assignment,
                                                      make_phase, count_queries, url):
    employee = people["employee"]
    _learner_with_courses(app, employee, make_course, make_assignment, 2)
    make_course(title="Nicht zugewiesen", phase=make_phase())
    login(client, "employee")
    client.get(url)  # warm up: first request of the session
    few = _count(client, count_queries, url)
    _learner_with_courses(app, employee, make_course, make_assignment, 7, start=2)
    make_course(title="Noch einer", phase=make_phase())
    many = _count(client, count_queries, url)
    assert few == many, f"{url}: {few} queries with 3 courses, {many} with 11"
    assert many <= 12


def test_course_and_lesson_pages_run_a_fixed_number_of_queries(app, client, people, login, make_course,
                                                               count_queries):
    small, large = make_course(lessons=2), make_course(lessons=9)
    login(client, "employee")
    for kind in ("course", "lesson"):
        counts = []
        for course in (small, large):
            url = f"/learning/courses/{course.slug}"
            if kind == "lesson":
                url += f"/lessons/{course.lessons[1].slug}"
            client.get(url)
            counts.append(_count(client, count_queries, url))
        assert counts[0] == counts[1], kind


def test_pages_have_no_inline_styles_or_scripts(app, client, people, login, make_course, make_assignment):
    course = make_course()
    make_assignment(people["employee"], course, due_on=date.today())
    login(client, "employee")
    for url in ("/learning/", "/learning/courses", f"/learning/courses/{course.slug}",
                f"/learning/courses/{course.slug}/lessons/{course.lessons[0].slug}",
                f"/learning/courses/{course.slug}/quiz"):
        page = client.get(url).get_data(as_text=True)
        assert "style=" not in page and "<script" not in page, url
        assert not re.search(r"\son[a-z]+=", page), url
