"""Course files: every kind of problem is reported with file and line; sync is idempotent."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select, update

from learning.db import db, unit_of_work
from learning.training.models import Course, Lesson, LessonCompletion, Question
from learning.training.sync import known_phases, read_courses, sync_courses

ROOT = Path(__file__).resolve().parents[2]

COURSE_TOML = """title = "E-Akte"
summary = "Grundlagen."
minutes = 30
mandatory = true
due = "start+14"
tags = ["E-Akte"]

[en]
title = "Electronic files"
"""
QUIZ = """[[questions]]
text = "Frage eins?"
kind = "single"
explanation = "Weil."

[[questions.answers]]
text = "Ja"
correct = true

[[questions.answers]]
text = "Nein"
"""


def write_course(root: Path, slug: str = "e-akte", *, meta: str = COURSE_TOML, lessons=None, quiz: str | None = QUIZ,
                 files=None) -> Path:
    folder = root / slug
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "course.toml").write_text(meta)
    if lessons is None:
        lessons = {"01-start.md": "# Start\n\nText.", "02-mehr.md": "# Mehr\n\nMehr Text."}
    for name, text in lessons.items():
        (folder / name).write_text(text)
    if quiz is not None:
        (folder / "quiz.toml").write_text(quiz)
    for name, content in (files or {}).items():
        (folder / name).write_bytes(content)
    return folder


def problems_of(root: Path, phases=frozenset()) -> list[str]:
    return [str(p) for p in read_courses(root, set(phases))[1]]


def test_a_good_course_reads_cleanly(tmp_path):
    write_course(tmp_path, lessons={"01-start.md": "# Start\n\n![Plan](plan.png)", "01-start.en.md": "# Start EN",
                                    "02-mehr.md": "# Mehr"}, files={"plan.png": b"\x89PNG"})
    specs, problems = read_courses(tmp_path, set())
    assert problems == []
    (spec,) = specs
    assert spec.title_en == "Electronic files" and spec.due == "start+14"
    assert [(lesson.slug, lesson.title, lesson.title_en) for lesson in spec.lessons] == [
        ("01-start", "Start", "Start EN"), ("02-mehr", "Mehr", None)]


@pytest.mark.parametrize("meta, expected", [
    (COURSE_TOML.replace('title = "E-Akte"\n', ""), "course.toml:1: 'title' is missing"),
    (COURSE_TOML.replace("minutes = 30", "minutes = 0"), "course.toml:3: 'minutes' must be a whole number"),
    (COURSE_TOML.replace('due = "start+14"', 'due = "soon"'), "course.toml:5: due rule 'soon'"),
    (COURSE_TOML.replace('due = "start+14"', 'due = "golive-3"'), "course.toml:5: a 'golive' due rule needs a 'phase'"),
    (COURSE_TOML + 'colour = "red"\n', "course.toml:10: unknown key 'colour' in [en]"),
    (COURSE_TOML.replace("minutes = 30", "minutes = 30\nmax_attempts = 0"),
     "course.toml:4: 'max_attempts' must be a whole number from 1 to 100 or \"unlimited\""),
    (COURSE_TOML.replace("minutes = 30", 'minutes = 30\nmax_attempts = "viele"'), "course.toml:4: 'max_attempts'"),
    (COURSE_TOML.replace("minutes = 30", 'minutes = 30\nattempt_pause = "eine Stunde"'),
     "course.toml:4: 'attempt_pause' must be \"0\" or a number with m, h or d"),
    (COURSE_TOML.replace("minutes = 30", 'minutes = 30\nattempt_pause = "31d"'), "course.toml:4: 'attempt_pause'"),
    (COURSE_TOML.replace("minutes = 30", "minutes = 30\nattempt_pause = 60"), "course.toml:4: 'attempt_pause'"),
    (COURSE_TOML.replace("minutes = 30", 'minutes = 30\nshow_answers = "always"'),
     "course.toml:4: 'show_answers' must be \"never\", \"after_passing\" or \"after_last_attempt\""),
    (COURSE_TOML.replace("mandatory = true", "mandatory = 1"), "course.toml:4: 'mandatory' must be true or false"),
    ('title = "x\n', "course.toml:1: not valid TOML"),
])
def test_metadata_problems(tmp_path, meta, expected):
    write_course(tmp_path, meta=meta)
    assert any(expected in p for p in problems_of(tmp_path)), problems_of(tmp_path)


@pytest.mark.parametrize("lessons, expected", [
    ({"01-a.md": "# A", "01-b.md": "# B"}, "01-b.md:1: duplicate lesson number 1"),
    ({"01-a.md": "Kein Titel"}, "01-a.md:1: a lesson must start with its title"),
    ({"01-a.md": "# A\n\n![Bild](fehlt.png)"}, "01-a.md:3: broken image link 'fehlt.png'"),
    ({"01-a.md": "# A\n![](bild.png)"}, "01-a.md:2: image 'bild.png' needs an alternative text"),
    ({"01-a.md": "# A\n![x](https://cdn.example/x.png)"}, "01-a.md:2: image 'https://cdn.example/x.png' is on another"),
    ({"01-a.md": "# A\n![x](../../etc/passwd)"}, "01-a.md:2: broken image link"),
    ({"Intro.md": "# A"}, "Intro.md:1: a lesson file is named like 01-topic.md"),
    ({"01-a.md": "# A", "02-b.en.md": "# B"}, "02-b.en.md:1: English lesson without a German file"),
    ({}, "e-akte:1: the course has no lessons"),
])
def test_lesson_problems(tmp_path, lessons, expected):
    write_course(tmp_path, lessons=lessons, files={"bild.png": b"\x89PNG"})
    assert any(expected in p for p in problems_of(tmp_path)), problems_of(tmp_path)


@pytest.mark.parametrize("quiz, expected", [
    (QUIZ.replace("correct = true", "correct = false"), "quiz.toml:1: question 1 has no correct answer"),
    (QUIZ.replace('text = "Nein"', 'text = "Nein"\ncorrect = true'), "single choice but has 2 correct answers"),
    (QUIZ + '\n[[questions]]\ntext = "Zwei?"\n[[questions.answers]]\ntext = "A"\ncorrect = true\n',
     "quiz.toml:13: question 2 needs at least two answers"),
    (QUIZ.replace('kind = "single"', 'kind = "essay"'), "quiz.toml:3: question 1: 'kind' must be"),
    ("", "quiz.toml:1: the quiz has no [[questions]]"),
])
def test_quiz_problems(tmp_path, quiz, expected):
    write_course(tmp_path, quiz=quiz)
    assert any(expected in p for p in problems_of(tmp_path)), problems_of(tmp_path)


def test_every_problem_is_reported_at_once(tmp_path):
    write_course(tmp_path, "one", meta=COURSE_TOML.replace("minutes = 30", "minutes = -1"))
    write_course(tmp_path, "two", lessons={"01-a.md": "no title"})
    problems = problems_of(tmp_path)
    assert len(problems) == 2 and "one/course.toml" in problems[0] and "two/01-a.md" in problems[1]


def test_bundled_courses_are_valid():
    """The starter content in courses/ passes the same checks as any author's course."""
    phases = {line.split('"')[1] for path in (ROOT / "courses").glob("*/course.toml")
              for line in path.read_text().splitlines() if line.startswith("phase")}
    specs, problems = read_courses(ROOT / "courses", phases)
    assert [str(p) for p in problems] == []
    assert len(specs) >= 5
    for spec in specs:
        assert len(spec.lessons) >= 3 and len(spec.questions) >= 3, spec.slug


def _sync(root: Path):
    specs, problems = read_courses(root, known_phases())
    assert problems == []
    with unit_of_work():
        return sync_courses(specs)


def test_sync_is_idempotent_and_keeps_progress(ctx, tmp_path, make_user):
    folder = write_course(tmp_path)
    first = _sync(tmp_path)
    assert first.created == ["e-akte"]
    assert _sync(tmp_path).unchanged == ["e-akte"]
    learner = make_user()
    lesson = db.session.scalar(select(Lesson).where(Lesson.slug == "01-start"))
    db.session.add(LessonCompletion(user_id=learner.id, lesson_id=lesson.id))
    db.session.commit()

    (folder / "01-start.md").write_text("# Start\n\nGeänderter Text.")
    assert _sync(tmp_path).updated == ["e-akte"]
    lesson = db.session.scalar(select(Lesson).where(Lesson.slug == "01-start"))
    assert "Geänderter" in lesson.body
    assert db.session.scalar(select(func.count()).select_from(LessonCompletion)) == 1

    (folder / "02-mehr.md").unlink()
    _sync(tmp_path)
    removed = db.session.scalar(select(Lesson).where(Lesson.slug == "02-mehr"))
    assert removed.archived_at is not None


def test_removed_course_is_archived_and_comes_back(ctx, tmp_path):
    write_course(tmp_path, "kurs-a")
    write_course(tmp_path, "kurs-b")
    _sync(tmp_path)
    shutil.rmtree(tmp_path / "kurs-b")
    assert _sync(tmp_path).archived == ["kurs-b"]
    assert db.session.scalar(select(Course).where(Course.slug == "kurs-b")).archived_at is not None
    write_course(tmp_path, "kurs-b")
    assert _sync(tmp_path).updated == ["kurs-b"]
    assert db.session.scalar(select(Course).where(Course.slug == "kurs-b")).archived_at is None


def test_quiz_change_rebuilds_questions(ctx, tmp_path):
    folder = write_course(tmp_path)
    _sync(tmp_path)
    (folder / "quiz.toml").write_text(QUIZ.replace("Frage eins?", "Frage neu?"))
    _sync(tmp_path)
    assert db.session.scalars(select(Question.text)).all() == ["Frage neu?"]


def test_cli_sync_reports_problems_and_writes_nothing(app, runner, tmp_path):
    write_course(tmp_path, "gut")
    write_course(tmp_path, "schlecht", meta=COURSE_TOML.replace("minutes = 30", "minutes = 9999"))
    result = runner.invoke(args=["courses", "sync", str(tmp_path)])
    assert result.exit_code != 0
    assert f"{tmp_path}/schlecht/course.toml:3: 'minutes' must be a whole number" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Course)) == 0


def test_cli_sync_and_check(app, runner, tmp_path):
    write_course(tmp_path, "gut")
    checked = runner.invoke(args=["courses", "sync", str(tmp_path), "--check"])
    assert checked.exit_code == 0 and "1 course(s)" in checked.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Course)) == 0
    first = runner.invoke(args=["courses", "sync", str(tmp_path)])
    assert "created: 1, updated: 0, unchanged: 0, archived: 0" in first.output
    second = runner.invoke(args=["courses", "sync", str(tmp_path)])
    assert "created: 0, updated: 0, unchanged: 1, archived: 0" in second.output


def test_sync_stores_the_lessons_html_and_a_new_renderer_renders_it_again(ctx, tmp_path, monkeypatch):
    from learning import content
    from learning.content import RENDERER_VERSION, rerender

    write_course(tmp_path, lessons={
        "01-start.md": "# Start\n\n## Teil\n\n![Plan](plan.png)\n\n"
                       "!!! tip \"Gut zu wissen\"\n    Hinweis",
        "01-start.en.md": "# Start\n\n[Link](https://example.org)",
        "02-mehr.md": "# Mehr\n\nMehr Text.",
    }, files={"plan.png": b"\x89PNG\r\n\x1a\n"})
    _sync(tmp_path)
    lesson = db.session.scalar(select(Lesson).where(Lesson.slug == "01-start"))
    assert lesson.html_version == RENDERER_VERSION
    assert "<h2>Teil</h2>" in lesson.body_html and "Start" not in lesson.body_html  # the title line is the page's
    assert '<img alt="Plan" src="/learning/courses/e-akte/media/plan.png">' in lesson.body_html
    assert '<div class="admonition tip">' in lesson.body_html
    assert "(external link)" in lesson.body_en_html

    db.session.execute(update(Lesson).values(body_html="alt", body_en_html="alt"))
    db.session.commit()
    monkeypatch.setattr(content, "RENDERER_VERSION", RENDERER_VERSION + 1)
    with db.engine.begin() as connection:
        assert rerender(connection)["lesson"] == 2
    db.session.expire_all()
    lesson = db.session.scalar(select(Lesson).where(Lesson.slug == "01-start"))
    assert 'src="/learning/courses/e-akte/media/plan.png"' in lesson.body_html
    assert lesson.html_version == RENDERER_VERSION + 1


# Quiz attempt rules ----------------------------------------------------------------------------

@pytest.mark.parametrize("lines, expected", [
    ("", (3, 0, "after_passing")),  # the documented defaults
    ('max_attempts = 5\nattempt_pause = "30m"\nshow_answers = "never"', (5, 30, "never")),
    ('max_attempts = "unlimited"\nattempt_pause = "2h"\nshow_answers = "after_last_attempt"',
     (None, 120, "after_last_attempt")),
    ('max_attempts = 1\nattempt_pause = "1d"', (1, 1440, "after_passing")),
    ('attempt_pause = "0"', (3, 0, "after_passing")),
])
def test_quiz_rules_are_read_and_synced(ctx, tmp_path, lines, expected):
    write_course(tmp_path, meta=COURSE_TOML.replace("minutes = 30", f"minutes = 30\n{lines}"))
    specs, problems = read_courses(tmp_path, set())
    assert problems == []
    assert (specs[0].max_attempts, specs[0].attempt_pause, specs[0].show_answers) == expected
    with unit_of_work():
        sync_courses(specs)
    course = db.session.scalar(select(Course))
    assert (course.max_attempts or None, course.attempt_pause_minutes, course.show_answers) == expected


def test_changed_quiz_rules_update_the_course(ctx, tmp_path):
    folder = write_course(tmp_path)
    _sync(tmp_path)
    (folder / "course.toml").write_text(COURSE_TOML.replace("minutes = 30", "minutes = 30\nmax_attempts = 1"))
    assert _sync(tmp_path).updated == ["e-akte"]
    assert db.session.scalar(select(Course.max_attempts)) == 1


def test_the_format_documentation_names_every_quiz_rule():
    readme = (ROOT / "courses" / "README.md").read_text()
    for text in ("max_attempts", "attempt_pause", "show_answers", '"never"', '"after_passing"',
                 '"after_last_attempt"', '"unlimited"'):
        assert text in readme, text


# Rollout phases the database does not know ---------------------------------------------------

def test_unknown_phase_is_a_warning_and_the_course_loads_without_the_link(ctx, tmp_path, make_phase):
    write_course(tmp_path, meta='phase = "nope"\n' + COURSE_TOML)
    warnings = []
    specs, problems = read_courses(tmp_path, known_phases(), warnings)
    assert problems == []
    assert [str(w) for w in warnings] == [
        f"{tmp_path}/e-akte/course.toml:1: warning: unknown rollout phase 'nope': "
        "the course is loaded without a phase link"]
    with unit_of_work():
        assert sync_courses(specs).created == ["e-akte"]
    assert db.session.scalar(select(Course.phase_id)) is None
    # Once the phase exists, the next sync links it although no file changed.
    phase = make_phase("nope")
    assert _sync(tmp_path).updated == ["e-akte"]
    assert db.session.scalar(select(Course.phase_id)) == phase.id
    assert _sync(tmp_path).unchanged == ["e-akte"]


def test_phases_not_checked_without_a_database(tmp_path):
    write_course(tmp_path, meta='phase = "nope"\n' + COURSE_TOML)
    warnings = []
    specs, problems = read_courses(tmp_path, None, warnings)
    assert (len(specs), problems, warnings) == (1, [], [])


def test_bundled_courses_load_on_a_database_without_their_phases(app, runner):
    """A freshly upgraded production database has no demo phases: every starter course is still loaded."""
    result = runner.invoke(args=["courses", "sync", str(ROOT / "courses")])
    assert result.exit_code == 0, result.output
    assert "unknown rollout phase 'e-akte': the course is loaded without a phase link" in result.output
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Course))
    assert count == len([p for p in (ROOT / "courses").iterdir() if (p / "course.toml").is_file()])


# The CLI on a database without the schema, or without any database ---------------------------

def test_check_on_an_empty_database_validates_the_files(make_app, database_without_schema, tmp_path):
    write_course(tmp_path / "courses", "gut", meta='phase = "nope"\n' + COURSE_TOML)
    app = make_app(SQLALCHEMY_DATABASE_URI=database_without_schema)
    result = app.test_cli_runner().invoke(args=["courses", "sync", str(tmp_path / "courses"), "--check"])
    assert result.exit_code == 0, result.output
    assert "1 course(s)" in result.output and "Rollout phase references were not checked" in result.output
    assert "Traceback" not in result.output


def test_check_without_a_database_creates_none(make_app, tmp_path):
    write_course(tmp_path / "courses", "gut")
    write_course(tmp_path / "courses", "schlecht", meta=COURSE_TOML.replace("minutes = 30", "minutes = 9999"))
    missing = tmp_path / "nowhere" / "learning.db"
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{missing}")
    result = app.test_cli_runner().invoke(args=["courses", "sync", str(tmp_path / "courses"), "--check"])
    assert result.exit_code == 1
    assert "schlecht/course.toml:3: 'minutes' must be a whole number" in result.output
    assert not missing.exists() and not missing.parent.exists()


def test_check_with_an_unreachable_database(make_app, tmp_path):
    write_course(tmp_path / "courses", "gut", meta='phase = "nope"\n' + COURSE_TOML)
    app = make_app(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/nothing")
    result = app.test_cli_runner().invoke(args=["courses", "sync", str(tmp_path / "courses"), "--check"])
    assert result.exit_code == 0, result.output
    assert "1 course(s)" in result.output and "Rollout phase references were not checked" in result.output


def test_check_with_a_database_checks_phases(app, runner, tmp_path, make_phase):
    make_phase("e-akte")
    write_course(tmp_path, "gut", meta='phase = "e-akte"\n' + COURSE_TOML)
    write_course(tmp_path, "anders", meta='phase = "nope"\n' + COURSE_TOML)
    result = runner.invoke(args=["courses", "sync", str(tmp_path), "--check"])
    assert result.exit_code == 0, result.output
    assert "anders/course.toml:1: warning: unknown rollout phase 'nope'" in result.output
    assert "gut/course.toml" not in result.output and "not checked" not in result.output
    assert "2 course(s)" in result.output and "1 warning(s)" in result.output


@pytest.fixture
def database_without_schema(database_url, tmp_path):
    """A reachable database of the test run's kind with no tables: an empty SQLite file or PostgreSQL schema."""
    if not database_url.startswith("postgresql"):
        empty = tmp_path / "empty.db"
        empty.touch()
        yield f"sqlite:///{empty}"
        return
    schema = f"empty_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    yield f"{database_url}?options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.mark.parametrize("args", [["courses", "sync"], ["courses", "assign"], ["outbox", "status"], ["scheduler"],
                                  ["courses", "allow-attempts", "anna", "e-akte"]])
def test_cli_on_a_database_without_schema_says_to_upgrade(make_app, database_without_schema, args):
    app = make_app(SQLALCHEMY_DATABASE_URI=database_without_schema)
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 1, result.output
    assert "run `flask db upgrade`" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
