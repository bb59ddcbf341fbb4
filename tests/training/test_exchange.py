"""Courses as zip files: round trip, hostile zips, files versus uploads, archive and restore, the page and the CLI."""

from __future__ import annotations

import io
import random
import stat
import zipfile
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import delete, func, inspect, select

from learning.db import db, unit_of_work
from learning.training.exchange import (
    CourseImportError,
    ZipLimits,
    course_for_exchange,
    export_course,
    import_course,
    media_path,
    set_course_archived,
)
from learning.training.models import (
    Assignment,
    Course,
    CourseCompletion,
    CourseFile,
    CourseSource,
    Lesson,
    LessonCompletion,
)
from learning.training.sync import known_phases, read_courses, sync_courses
from tests.training.test_sync import COURSE_TOML, QUIZ, write_course

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(40))
QUIZ_EN = """[[questions]]
text = "Question one?"
explanation = "Because."

[[questions.answers]]
text = "Yes"

[[questions.answers]]
text = "No"
"""
LESSONS = {
    "01-start.md": "# Start\n\nText mit Bild:\n\n![Der Aktenplan als Baum](images/plan.png)\n",
    "01-start.en.md": "# Start\n\nText with an image:\n\n![The file plan as a tree](images/plan.png)\n",
    "02-mehr.md": "# Mehr\n\n## Abschnitt\n\n| Spalte | Wert |\n|---|---|\n| a | 1 |\n",
}
LIMITS = ZipLimits(max_bytes=20 * 2**20, max_entries=50, max_unpacked=5 * 2**20, max_ratio=100)


def zip_of(files: dict[str, bytes | str], slug: str | None = "e-akte") -> io.BytesIO:
    """A zip with ``files`` below the folder ``slug`` (None: as given)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(f"{slug}/{name}" if slug else name, content)
    buffer.seek(0)
    return buffer


def course_zip(slug: str = "e-akte", lessons=None, meta: str = COURSE_TOML, quiz: str | None = QUIZ,
               **extra) -> io.BytesIO:
    files: dict[str, bytes | str] = {"course.toml": meta, **(lessons or LESSONS), "images/plan.png": PNG}
    if quiz is not None:
        files["quiz.toml"] = quiz
    files.update(extra)
    return zip_of(files, slug)


def upload(data: io.BytesIO, **kwargs):
    with unit_of_work():
        return import_course(data, limits=kwargs.pop("limits", LIMITS), **kwargs)


def snapshot(slug: str) -> dict:
    """Every stored field of a course, its lessons, quiz and media (bytes), without ids and times."""
    db.session.expire_all()
    course = course_for_exchange(slug)

    def columns(row, skip=()):
        return {attr.key: getattr(row, attr.key) for attr in inspect(row).mapper.column_attrs
                if attr.key not in {"id", "course_id", "question_id", "created_at", "updated_at", *skip}}

    return {
        "course": columns(course),
        "lessons": [columns(lesson) for lesson in course.lessons],
        "questions": [{**columns(q), "answers": [columns(a) for a in q.answers]} for q in course.questions],
        "media": {item.path: media_path(item.sha256).read_bytes() for item in course.files},
    }


def courses_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Course))


def remove(slug: str) -> None:
    db.session.execute(delete(Course).where(Course.slug == slug))
    db.session.commit()


# Round trip -------------------------------------------------------------------------------------

def test_export_then_import_gives_the_identical_course(ctx):
    result = upload(course_zip(**{"quiz.en.toml": QUIZ_EN}))
    assert result.created and result.lessons_added == ["01-start", "02-mehr"]
    before = snapshot("e-akte")
    assert before["course"]["source"] == CourseSource.UPLOAD and before["media"] == {"images/plan.png": PNG}
    assert before["questions"][0]["text_en"] == "Question one?"
    exported = export_course(course_for_exchange("e-akte"))
    remove("e-akte")
    again = upload(io.BytesIO(exported))
    assert again.created
    assert snapshot("e-akte") == before
    # And importing the same export over the course changes nothing.
    assert upload(io.BytesIO(exported)).unchanged
    assert export_course(course_for_exchange("e-akte")) == exported


def test_bundled_courses_survive_the_round_trip(ctx, tmp_path, make_phase):
    """Every starter course exported from the database reads as the folder it came from, and imports identically."""
    for slug in {line.split('"')[1] for path in (ROOT / "courses").glob("*/course.toml")
                 for line in path.read_text().splitlines() if line.startswith("phase")}:
        make_phase(slug)
    specs, problems = read_courses(ROOT / "courses", known_phases())
    assert problems == []
    with unit_of_work():
        sync_courses(specs)
    originals = {spec.slug: spec.content_hash for spec in specs}
    for slug in originals:
        exported = export_course(course_for_exchange(slug))
        before = snapshot(slug)
        with zipfile.ZipFile(io.BytesIO(exported)) as archive:
            archive.extractall(tmp_path / "exported")
        (spec,), found = read_courses(tmp_path / "exported", known_phases())
        assert found == [] and spec.content_hash == originals[slug], slug
        remove(slug)
        upload(io.BytesIO(exported))
        after = snapshot(slug)
        assert after["course"].pop("source") == CourseSource.UPLOAD
        before["course"].pop("source")
        assert after == before, slug
        (tmp_path / "exported" / slug).rename(tmp_path / f"done-{slug}")


def test_a_course_with_unlimited_attempts_a_pause_and_english_settings_round_trips(ctx):
    meta = COURSE_TOML.replace('mandatory = true', 'mandatory = true\nmax_attempts = "unlimited"\n'
                               'attempt_pause = "90m"\nshow_answers = "never"\npass_mark = 70')
    meta += 'summary = "Basics, \\"quoted\\" and\\nwith a line break."\ntags = ["E-file", "Basics"]\n'
    upload(course_zip(meta=meta))
    before = snapshot("e-akte")
    assert before["course"]["max_attempts"] == 0 and before["course"]["attempt_pause_minutes"] == 90
    exported = export_course(course_for_exchange("e-akte"))
    remove("e-akte")
    upload(io.BytesIO(exported))
    assert snapshot("e-akte") == before


# Hostile zips -----------------------------------------------------------------------------------

def _symlink_zip() -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in {"course.toml": COURSE_TOML, "01-start.md": "# Start\n"}.items():
            archive.writestr(f"e-akte/{name}", content)
        link = zipfile.ZipInfo("e-akte/images/plan.png")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    buffer.seek(0)
    return buffer


def _raw_zip(names: list[str], content: bytes = b"x") -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            info = zipfile.ZipInfo(name)
            archive.writestr(info, content)
    buffer.seek(0)
    return buffer


def _duplicate_zip() -> io.BytesIO:
    buffer = io.BytesIO()
    with pytest.warns(UserWarning), zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("e-akte/course.toml", COURSE_TOML)
        archive.writestr("e-akte/01-start.md", "# Start\n")
        archive.writestr("e-akte/01-start.md", "# Anders\n")
    buffer.seek(0)
    return buffer


def _bomb(size: int) -> io.BytesIO:
    return zip_of({"course.toml": COURSE_TOML, "01-start.md": "# Start\n", "images/plan.png": PNG + bytes(size)})


def _incompressible(size: int) -> io.BytesIO:
    noise = random.Random(1).randbytes(size)
    return zip_of({"course.toml": COURSE_TOML, "01-start.md": "# Start\n", "images/plan.png": PNG + noise})


HOSTILE = {
    "traversal": (lambda: _raw_zip(["e-akte/course.toml", "e-akte/../../evil.md"]), "leading out of the folder"),
    "traversal at the top": (lambda: _raw_zip(["../evil/course.toml"]), "leading out of the folder"),
    "absolute path": (lambda: _raw_zip(["/etc/e-akte/course.toml"]), "an absolute path"),
    "drive letter": (lambda: _raw_zip(["C:/e-akte/course.toml"]), "an absolute path"),
    "backslash": (lambda: _raw_zip(["e-akte\\..\\evil.md"]), "backslash"),
    "symlink": (_symlink_zip, "a link (symlink)"),
    "duplicate name": (_duplicate_zip, "appears twice"),
    "bomb by ratio": (lambda: _bomb(3 * 2**20), "times larger than it is packed"),
    "bomb by total size": (lambda: _incompressible(6 * 2**20), "unpacks to 7 MB; at most 5 MB"),
    "too many entries": (lambda: zip_of({f"{n:02d}-lektion.md": f"# L {n}\n" for n in range(1, 60)}),
                         "entries; at most 50"),
    "not a zip": (lambda: io.BytesIO(b"PK\x03\x04 but not really a zip"), "not a zip archive"),
    "empty file": (lambda: io.BytesIO(b""), "not a zip archive"),
    "two course folders": (lambda: _raw_zip(["a/course.toml", "b/course.toml"]), "exactly one course folder"),
    "files at the top": (lambda: _raw_zip(["course.toml", "01-start.md"]), "exactly one course folder"),
    "hidden folder": (lambda: _raw_zip([".e-akte/course.toml"]), "exactly one course folder"),
}


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_zips_are_refused_and_nothing_is_stored(ctx, app, kind):
    make, message = HOSTILE[kind]
    with pytest.raises(CourseImportError) as refused:
        upload(make())
    assert message in " ".join([str(refused.value), *refused.value.problems])
    assert courses_count() == 0
    assert not (Path(app.config["MEDIA_DIR"])).exists()


def test_zip_limits_come_from_the_configuration(make_app):
    app = make_app(COURSE_ZIP_MAX_ENTRIES=7, COURSE_ZIP_MAX_UNPACKED_MB=3, COURSE_ZIP_MAX_RATIO=20,
                   COURSE_ZIP_MAX_MB=2)
    assert ZipLimits.from_config(app.config) == ZipLimits(max_bytes=2 * 2**20, max_entries=7,
                                                          max_unpacked=3 * 2**20, max_ratio=20)


def test_packing_leftovers_are_skipped(ctx):
    data = course_zip(**{".DS_Store": b"junk", "images/._plan.png": b"junk"})
    buffer = io.BytesIO(data.getvalue())
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("__MACOSX/e-akte/._course.toml", b"junk")
    buffer.seek(0)
    assert upload(buffer).created


@pytest.mark.parametrize("change, expected", [
    ({"course.toml": COURSE_TOML.replace("minutes = 30", "minutes = 0")},
     "e-akte/course.toml:3: 'minutes' must be a whole number from 1 to 600"),
    ({"02-mehr.md": "Kein Titel\n"}, "e-akte/02-mehr.md:1: a lesson must start with its title"),
    ({"01-start.md": "# Start\n\n![Plan](images/fehlt.png)\n"}, "e-akte/01-start.md:3: broken image link"),
    ({"images/plan.png": b"not a png at all"}, "e-akte/images/plan.png:1: the content is not PNG"),
    ({"images/logo.svg": b"<svg onload='alert(1)'/>"}, "e-akte/images/logo.svg:1: SVG images are not accepted"),
    ({"tool.exe": b"MZ"}, "e-akte/tool.exe:1: files of this kind are not accepted"),
    ({"texte/03-x.md": "# X\n"}, "e-akte/texte/03-x.md:1: lessons belong directly in the course folder"),
    ({"02-mehr.md": "# Mehr\n\n#### Tief\n"}, "e-akte/02-mehr.md:3: accessibility: heading level 4 follows level 1"),
    ({"02-mehr.md": "# Mehr\n\n[Film](film.mp4)\n"}, "e-akte/02-mehr.md:3: accessibility: the video 'film.mp4' has "
                                                     "no captions"),
])
def test_problems_are_reported_as_file_line_reason_and_nothing_is_stored(ctx, app, change, expected):
    files = {"course.toml": COURSE_TOML, **LESSONS, "images/plan.png": PNG, "quiz.toml": QUIZ, **change}
    with pytest.raises(CourseImportError) as refused:
        upload(zip_of(files))
    assert any(problem.startswith(expected) for problem in refused.value.problems), refused.value.problems
    assert "nothing was stored" in str(refused.value)
    assert courses_count() == 0
    assert not Path(app.config["MEDIA_DIR"]).exists()


def test_accessibility_warnings_do_not_stop_an_upload(ctx):
    lessons = {**LESSONS, "02-mehr.md": "# Mehr\n\nDas Formular finden Sie [hier](https://example.org/f).\n"}
    result = upload(course_zip(lessons=lessons))
    assert result.created
    assert result.warnings == ["e-akte/02-mehr.md:3: warning: accessibility: the link text 'hier' does not say "
                               "where the link leads; name the target (e.g. 'Formular Reisekosten')"]


def test_a_video_with_captions_beside_it_is_accepted(ctx):
    lessons = {**LESSONS, "02-mehr.md": "# Mehr\n\n[Film zur E-Akte](film.mp4)\n"}
    result = upload(course_zip(lessons=lessons, **{"film.mp4": b"\0\0\0\x18ftypmp42", "film.vtt": "WEBVTT\n"}))
    assert result.created and result.media_added == ["film.mp4", "film.vtt", "images/plan.png"]


# Files and uploads ------------------------------------------------------------------------------

def test_an_upload_never_overwrites_a_course_managed_as_files(ctx, tmp_path):
    write_course(tmp_path / "courses")
    specs, _ = read_courses(tmp_path / "courses", known_phases())
    with unit_of_work():
        sync_courses(specs)
    before = snapshot("e-akte")
    with pytest.raises(CourseImportError, match="“e-akte” is managed as files on the server"):
        upload(course_zip(lessons={"01-start.md": "# Neu\n"}))
    assert snapshot("e-akte") == before
    assert db.session.scalar(select(func.count()).select_from(CourseFile)) == 0


def test_a_sync_never_touches_an_uploaded_course(ctx, tmp_path):
    upload(course_zip())
    before = snapshot("e-akte")
    # A folder of the same name is skipped; a sync without it does not archive the uploaded course.
    write_course(tmp_path / "courses", lessons={"01-start.md": "# Ganz anders\n"})
    write_course(tmp_path / "courses", "datei-kurs")
    specs, problems = read_courses(tmp_path / "courses", known_phases())
    assert problems == []
    with unit_of_work():
        result = sync_courses(specs)
    assert result.skipped == ["e-akte"] and result.created == ["datei-kurs"]
    assert snapshot("e-akte") == before
    with unit_of_work():
        result = sync_courses([spec for spec in specs if spec.slug == "datei-kurs"])
    assert result.archived == [] and snapshot("e-akte") == before


def test_sync_still_archives_courses_managed_as_files(ctx, tmp_path, make_course):
    make_course("alt")
    upload(course_zip())
    write_course(tmp_path / "courses", "datei-kurs")
    with unit_of_work():
        result = sync_courses(read_courses(tmp_path / "courses", known_phases())[0])
    assert result.archived == ["alt"]


def test_cli_sync_reports_a_skipped_folder(app, runner, tmp_path):
    with app.test_request_context():
        upload(course_zip())
    write_course(tmp_path / "courses")
    result = runner.invoke(args=["courses", "sync", str(tmp_path / "courses")])
    assert result.exit_code == 0, result.output
    assert "'e-akte' was uploaded in the browser and is not managed as files" in result.output
    assert "skipped (uploaded in the browser): 1" in result.output


def test_an_update_reports_what_changed_and_keeps_progress(ctx, make_user):
    upload(course_zip(**{"03-ende.md": "# Ende\n"}))
    learner = make_user()
    kept = db.session.scalar(select(Lesson).where(Lesson.slug == "01-start"))
    db.session.add(LessonCompletion(user_id=learner.id, lesson_id=kept.id))
    db.session.commit()
    lessons = {"01-start.md": LESSONS["01-start.md"], "01-start.en.md": LESSONS["01-start.en.md"],
               "02-mehr.md": "# Mehr\n\nNeuer Text.\n", "04-neu.md": "# Neu\n"}
    result = upload(course_zip(lessons=lessons, quiz=QUIZ.replace("Frage eins?", "Frage zwei?"),
                               **{"images/plan.png": PNG + b"v2"}))
    assert (result.created, result.unchanged) == (False, False)
    assert result.lessons_added == ["04-neu"] and result.lessons_changed == ["02-mehr"]
    assert result.lessons_archived == ["03-ende"] and result.quiz_changed and not result.settings_changed
    assert result.media_changed == ["images/plan.png"]
    assert db.session.scalar(select(func.count()).select_from(LessonCompletion)) == 1
    assert snapshot("e-akte")["media"] == {"images/plan.png": PNG + b"v2"}


def test_the_media_of_an_uploaded_course_are_served(client, app, people, login):
    with app.test_request_context():
        upload(course_zip())
    login(client, "employee")
    page = client.get("/learning/courses/e-akte/lessons/01-start")
    assert page.status_code == 200 and b'src="/learning/courses/e-akte/media/images/plan.png"' in page.data
    image = client.get("/learning/courses/e-akte/media/images/plan.png")
    assert image.status_code == 200 and image.data == PNG and image.mimetype == "image/png"
    assert client.get("/learning/courses/e-akte/media/images/other.png").status_code == 404


# Archive and restore ----------------------------------------------------------------------------

def test_archive_and_restore_keep_learners_records(ctx, make_user):
    upload(course_zip())
    learner = make_user()
    course = db.session.scalar(select(Course).where(Course.slug == "e-akte"))
    lesson = course.lessons[0]
    db.session.add_all([
        Assignment(user_id=learner.id, course_id=course.id, assigned_on=date(2026, 1, 5), mandatory=True),
        LessonCompletion(user_id=learner.id, lesson_id=lesson.id),
        CourseCompletion(user_id=learner.id, course_id=course.id, verification_code="ABC123"),
    ])
    db.session.commit()

    def records():
        return [db.session.scalar(select(func.count()).select_from(model))
                for model in (Assignment, LessonCompletion, CourseCompletion, Lesson)]

    before = records()
    with unit_of_work():
        assert set_course_archived(course_for_exchange("e-akte"), True)
    assert course_for_exchange("e-akte").archived_at is not None and records() == before
    with unit_of_work():
        assert set_course_archived(course_for_exchange("e-akte"), False)
    assert course_for_exchange("e-akte").archived_at is None and records() == before


def test_a_course_managed_as_files_is_not_archived_here(ctx, make_course):
    course = make_course("datei-kurs")
    with pytest.raises(Exception, match="managed as files"), unit_of_work():
        set_course_archived(course_for_exchange(course.slug), True)


# The page ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("method, path", [
    ("get", "/learning/manage/courses"),
    ("post", "/learning/manage/courses/upload"),
    ("get", "/learning/manage/courses/e-akte/export"),
    ("post", "/learning/manage/courses/e-akte/archive"),
])
def test_only_the_project_group_and_admins_manage_courses(client, people, login, make_course, method, path):
    make_course("e-akte")

    def send():
        return client.get(path) if method == "get" else client.submit(path, {"archived": "1"})

    anonymous = send()
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    login(client, "employee")
    assert send().status_code == 403


@pytest.mark.parametrize("username", ["projectgroup", "admin"])
def test_the_page_lists_courses_with_source_and_actions(client, people, login, make_course, username):
    make_course("datei-kurs", title="Dateikurs")
    with client.application.test_request_context():
        upload(course_zip())
    login(client, username)
    page = client.get("/learning/manage/courses")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Dateikurs" in text and "as files on the server" in text and "by upload" in text
    assert 'action="/learning/manage/courses/e-akte/archive"' in text
    assert 'action="/learning/manage/courses/datei-kurs/archive"' not in text
    assert 'href="/learning/manage/courses/datei-kurs/export" download' in text


def test_the_page_in_german(client, people, login):
    login(client, "projectgroup")
    text = client.get("/learning/manage/courses", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Kurse verwalten" in text and "Kurs hochladen (ZIP)" in text


def test_upload_through_the_page(client, people, login):
    login(client, "projectgroup")
    response = client.submit("/learning/manage/courses/upload", {"file": (course_zip(), "e-akte.zip")})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "has been published as a new course with 2 lessons" in page
    lessons = {**LESSONS, "02-mehr.md": "# Mehr anders\n\nMehr [hier](https://example.org).\n"}
    response = client.submit("/learning/manage/courses/upload", {"file": (course_zip(lessons=lessons), "v2.zip")},
                             follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "has been updated: 0 lessons added, 1 lesson changed, 0 lessons archived" in page
    assert "Warning: e-akte/02-mehr.md:3: warning: accessibility: the link text" in page


def test_refused_upload_shows_every_problem_on_the_form(client, people, login):
    login(client, "projectgroup")
    bad = course_zip(meta=COURSE_TOML.replace("minutes = 30", "minutes = 0"),
                     lessons={**LESSONS, "02-mehr.md": "# Mehr\n\n![](images/plan.png)\n"})
    response = client.submit("/learning/manage/courses/upload", {"file": (bad, "e-akte.zip")})
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "e-akte/course.toml:3: &#39;minutes&#39; must be a whole number" in text
    assert "e-akte/02-mehr.md:3: image &#39;images/plan.png&#39; needs an alternative text" in text
    assert "The course has 2 problems; nothing was stored." in text
    assert 'aria-invalid="true"' in text
    with client.application.app_context():
        assert courses_count() == 0


def test_upload_needs_a_zip_and_the_csrf_token(client, people, login):
    login(client, "projectgroup")
    assert client.submit("/learning/manage/courses/upload", {}).status_code == 200
    text = client.submit("/learning/manage/courses/upload",
                         {"file": (io.BytesIO(b"a;b"), "people.csv")}).get_data(as_text=True)
    assert "Please choose a ZIP file." in text
    response = client.post("/learning/manage/courses/upload", data={"file": (course_zip(), "e-akte.zip")})
    assert response.status_code == 400
    with client.application.app_context():
        assert courses_count() == 0


def test_export_download_and_archive_through_the_page(client, people, login):
    with client.application.test_request_context():
        upload(course_zip())
    login(client, "admin")
    response = client.get("/learning/manage/courses/e-akte/export")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"] == 'attachment; filename="e-akte.zip"'
    assert "e-akte/course.toml" in zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert client.get("/learning/manage/courses/unknown/export").status_code == 404
    page = client.submit("/learning/manage/courses/e-akte/archive", {"archived": "1"}, follow_redirects=True)
    assert "has been archived" in page.get_data(as_text=True)
    assert 'href="/learning/courses/e-akte"' not in page.get_data(as_text=True)  # learners no longer see it
    page = client.submit("/learning/manage/courses/e-akte/archive", {"archived": "0"}, follow_redirects=True)
    assert "has been restored" in page.get_data(as_text=True)


def test_the_list_runs_a_fixed_number_of_queries(client, people, login, make_course, count_queries):
    login(client, "projectgroup")
    make_course()
    client.get("/learning/manage/courses")
    with count_queries() as one:
        client.get("/learning/manage/courses")
    for _ in range(4):
        make_course()
    with count_queries() as five:
        assert client.get("/learning/manage/courses").status_code == 200
    assert len(one) == len(five)


# The command line -------------------------------------------------------------------------------

def test_cli_export_and_import(app, runner, tmp_path, make_course):
    with app.test_request_context():
        upload(course_zip())
    target = tmp_path / "out.zip"
    result = runner.invoke(args=["courses", "export", "e-akte", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "exported to" in result.output and zipfile.is_zipfile(target)
    again = runner.invoke(args=["courses", "import", str(target)])
    assert again.exit_code == 0 and "e-akte: unchanged" in again.output
    assert runner.invoke(args=["courses", "export", "unknown"]).exit_code == 1

    bad = tmp_path / "bad.zip"
    bad.write_bytes(course_zip("neu", meta=COURSE_TOML.replace("minutes = 30", "minutes = 0")).getvalue())
    refused = runner.invoke(args=["courses", "import", str(bad)])
    assert refused.exit_code == 1
    assert "neu/course.toml:3: 'minutes' must be a whole number" in refused.output
    assert "nothing was stored" in refused.output

    make_course("datei-kurs")
    files = runner.invoke(args=["courses", "export", "datei-kurs", "-o", str(tmp_path / "d.zip")])
    assert files.exit_code == 0
    refused = runner.invoke(args=["courses", "import", str(tmp_path / "d.zip")])
    assert refused.exit_code == 1 and "“datei-kurs” is managed as files" in refused.output



def test_export_of_a_course_managed_as_files_holds_the_files_its_lessons_use(make_app, tmp_path):
    root = tmp_path / "courses"
    write_course(root, lessons={"01-start.md": "# Start\n\n![Der Plan](bilder/plan.png)\n\n[Film](film.mp4) und "
                                               "[Merkblatt](merkblatt.pdf)\n"},
                 files={"unbenutzt.png": PNG, "film.mp4": b"\0\0\0\x18ftypmp42", "film.vtt": b"WEBVTT\n",
                        "merkblatt.pdf": b"%PDF-1.7"})
    (root / "e-akte" / "bilder").mkdir()
    (root / "e-akte" / "bilder" / "plan.png").write_bytes(PNG)
    app = make_app(COURSES_DIR=str(root))
    with app.test_request_context():
        specs, problems = read_courses(root, known_phases())
        assert problems == []
        with unit_of_work():
            sync_courses(specs)
        exported = zipfile.ZipFile(io.BytesIO(export_course(course_for_exchange("e-akte"))))
        assert sorted(exported.namelist()) == [
            "e-akte/01-start.md", "e-akte/bilder/plan.png", "e-akte/course.toml", "e-akte/film.mp4", "e-akte/film.vtt",
            "e-akte/merkblatt.pdf", "e-akte/quiz.toml"]
        assert exported.read("e-akte/bilder/plan.png") == PNG
        assert exported.read("e-akte/01-start.md") == (root / "e-akte" / "01-start.md").read_bytes()


def test_a_course_zip_may_be_larger_than_other_uploads_up_to_its_own_limit(make_app, people, login):
    app = make_app(MAX_CONTENT_LENGTH=2000, COURSE_ZIP_MAX_MB=1)
    client = app.test_client()
    login(client, "projectgroup")
    big = course_zip(**{"images/gross.png": PNG + random.Random(2).randbytes(50_000)})
    response = client.submit("/learning/manage/courses/upload", {"file": (big, "e-akte.zip")})
    assert response.status_code == 302
    too_big = course_zip("zu-gross", **{"images/gross.png": PNG + random.Random(3).randbytes(2 * 2**20)})
    assert client.submit("/learning/manage/courses/upload", {"file": (too_big, "z.zip")}).status_code == 413
    assert client.submit("/account/password", {"x": "y" * 5000}).status_code == 413  # other forms keep theirs


def test_the_service_refuses_a_zip_over_the_size_limit(ctx):
    limits = ZipLimits(max_bytes=2**20, max_entries=50, max_unpacked=5 * 2**20, max_ratio=100)
    with pytest.raises(CourseImportError, match="The zip is 2 MB; at most 1 MB are allowed."):
        upload(_incompressible(3 * 2**19), limits=limits)
