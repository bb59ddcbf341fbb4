"""Factories for training tests: courses with lessons and a quiz, assignments."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from learning.db import db, utcnow
from learning.phases.models import RolloutPhase
from learning.training.models import Answer, Assignment, Course, Lesson, Question


@pytest.fixture
def make_phase(app):
    def factory(slug: str | None = None, go_live: date | None = None, departments=(), **fields) -> RolloutPhase:
        from learning.org.models import Department

        with app.app_context():
            phase = RolloutPhase(slug=slug or f"phase-{uuid.uuid4().hex[:6]}", title=fields.pop("title", "E-Akte"),
                                 period=fields.pop("period", "2026-H1"), go_live=go_live, **fields)
            phase.departments = [db.session.get(Department, d.id) for d in departments]
            db.session.add(phase)
            db.session.commit()
            db.session.refresh(phase)
            db.session.expunge(phase)
            return phase

    return factory


@pytest.fixture
def make_course(app):
    """A course with ``lessons`` lessons and, unless ``quiz=False``, two questions.

    Question 1 (single): answer 1 is correct. Question 2 (multiple): answers 1 and 3 are correct.
    """

    def factory(slug: str | None = None, *, lessons: int = 3, quiz: bool = True, mandatory: bool = True,
                phase: RolloutPhase | None = None, pass_mark: int = 80, **fields) -> Course:
        slug = slug or f"course-{uuid.uuid4().hex[:6]}"
        with app.app_context():
            course = Course(
                slug=slug, title=fields.pop("title", f"Kurs {slug}"), title_en=fields.pop("title_en", None),
                summary=fields.pop("summary", "Worum es geht."), minutes=fields.pop("minutes", 30),
                mandatory=mandatory, pass_mark=pass_mark, phase_id=phase.id if phase else None,
                tags=fields.pop("tags", ["Grundlagen"]), content_hash=uuid.uuid4().hex, **fields,
            )
            for n in range(1, lessons + 1):
                course.lessons.append(Lesson(slug=f"0{n}-lektion", position=n, title=f"Lektion {n}",
                                             body=f"# Lektion {n}\n\nInhalt {n}.", content_hash=uuid.uuid4().hex))
            if quiz:
                single = Question(position=1, kind="single", text="Welche Antwort stimmt?", explanation="Weil.")
                single.answers = [Answer(position=1, text="Richtig", correct=True),
                                  Answer(position=2, text="Falsch")]
                multiple = Question(position=2, kind="multiple", text="Welche stimmen?", explanation="Darum.")
                multiple.answers = [Answer(position=1, text="Eins", correct=True), Answer(position=2, text="Zwei"),
                                    Answer(position=3, text="Drei", correct=True)]
                course.questions = [single, multiple]
            db.session.add(course)
            db.session.commit()
            course = db.session.get(Course, course.id)
            for lesson in course.lessons:
                db.session.refresh(lesson)
            for question in course.questions:
                db.session.refresh(question)
                for answer in question.answers:
                    db.session.refresh(answer)
            db.session.expunge_all()
            return course

    return factory


@pytest.fixture
def make_assignment(app):
    def factory(user, course, *, due_on: date | None = None, mandatory: bool = True, assigned_on: date | None = None,
                rule_id: int | None = None) -> Assignment:
        with app.app_context():
            assignment = Assignment(
                user_id=user.id, course_id=course.id, mandatory=mandatory, rule_id=rule_id,
                assigned_on=assigned_on or date.today() - timedelta(days=10), due_on=due_on,
                assigned_at=utcnow() - timedelta(days=10),
            )
            db.session.add(assignment)
            db.session.commit()
            db.session.refresh(assignment)
            db.session.expunge(assignment)
            return assignment

    return factory


@pytest.fixture
def make_draft(app):
    """A course in the browser's editor: its authoring record with ``lessons`` lessons and two questions.

    ``editors``: people named on it; ``published=True`` also publishes it as version 1 (a Course row, as
    the publishing service would leave it), else the course exists only as a draft.
    """
    from learning.training.authoring.documents import document_of
    from learning.training.authoring.models import CourseDraft, CourseEditor, CourseVersion
    from learning.training.models import CourseSource
    from learning.training.sync import AnswerSpec, CourseSpec, LessonSpec, QuestionSpec, apply_course

    def factory(slug: str | None = None, *, title: str | None = None, lessons: int = 2, editors=(),
                published: bool = False) -> CourseDraft:
        slug = slug or f"web-{uuid.uuid4().hex[:6]}"
        spec = CourseSpec(
            slug=slug, title=title or f"Webkurs {slug}", summary="Im Browser geschrieben.", minutes=20,
            lessons=[LessonSpec(slug=f"lektion-{n}", position=n, title=f"Lektion {n}",
                                body=f"## Abschnitt {n}\n\nInhalt {n}.") for n in range(1, lessons + 1)],
            questions=[QuestionSpec(kind="single", text="Welche Antwort stimmt?", explanation="Weil.",
                                    answers=[AnswerSpec(text="Richtig", correct=True),
                                             AnswerSpec(text="Falsch", correct=False)])],
        )
        with app.app_context():
            draft = CourseDraft(slug=slug, document=document_of(spec), revisions={})
            draft.editors = [CourseEditor(user_id=person.id) for person in editors]
            db.session.add(draft)
            if published:
                course = Course(slug=slug, source=CourseSource.WEB)
                apply_course(course, spec, None, utcnow())
                db.session.add(course)
                db.session.flush()
                draft.course_id, draft.document, draft.base_version = course.id, None, 1
                draft.versions = [CourseVersion(number=1, spec=document_of(spec), summary="Erste Fassung")]
            db.session.commit()
            draft_id = draft.id
            db.session.expunge_all()
            draft = db.session.get(CourseDraft, draft_id)
            db.session.expunge(draft)
            return draft

    return factory
