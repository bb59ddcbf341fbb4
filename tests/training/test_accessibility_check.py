"""The accessibility check of course content: each finding with file and line, errors against warnings, in the sync."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from learning.db import db
from learning.training.accessibility import Finding, check_lesson, errors, warnings
from learning.training.models import Course
from learning.training.sync import read_courses
from tests.training.test_sync import write_course

ROOT = Path(__file__).resolve().parents[2]


def findings(body: str, title: str | None = "Titel", files=()) -> list[str]:
    return [str(finding) for finding in check_lesson("01-start.md", title, body, lesson="01-start",
                                                     course_files=files)]


def test_a_clean_lesson_has_no_findings():
    body = """# Titel

Einleitung mit [Formular Reisekosten](https://example.org/reise) und ![Der Aktenplan als Baum](plan.png).

## Abschnitt

### Unterabschnitt

| Spalte | Wert |
|--------|------|
| a      | 1    |

## Noch ein Abschnitt

[Film zur E-Akte](film.mp4) mit [Transkript](film.txt)

```
# kein Titel, sondern Code
#### auch nicht
```
"""
    assert findings(body) == []


@pytest.mark.parametrize("body, expected", [
    ("# T\n\n![](plan.png)\n", "01-start.md:3: image 'plan.png' has no alternative text"),
    ("# T\n\n### Tief\n", "01-start.md:3: heading level 3 follows level 1: a level is skipped (use ##)"),
    ("# T\n\n## A\n\n#### Tiefer\n", "01-start.md:5: heading level 4 follows level 2"),
    ("# T\n\n##\n", "01-start.md:3: an empty heading"),
    ("# T\n\n| | |\n|---|---|\n| a | b |\n", "01-start.md:3: the table has no header row"),
    ("# T\n\n[Video](film.mp4)\n", "01-start.md:3: the video 'film.mp4' has no captions: add 'film.vtt'"),
    ("# T\n\n![Film zur E-Akte](media/film.webm)\n", "01-start.md:3: the video 'media/film.webm' has no captions: "
                                                      "add 'media/film.vtt'"),
    ("# T\n\n<video src=\"film.mp4\"></video>\n", "01-start.md:3: the video '<video>' has no captions"),
    ("# T\n\n[](https://example.org)\n", "01-start.md:3: the link to 'https://example.org' has no text"),
])
def test_errors(body, expected):
    found = findings(body)
    assert any(line.startswith(expected) for line in found), found
    assert all(": warning: " not in line for line in found)


def test_a_lesson_without_a_title_is_an_error():
    (finding,) = check_lesson("02-x.md", "", "Kein Titel\n")
    assert finding.error and str(finding) == "02-x.md:1: the lesson has no title: start it with '# Title'"
    assert finding.lesson is None


@pytest.mark.parametrize("text", ["hier", "Here", "klicken Sie hier", "Klicken Sie hier.", "mehr", "**hier**",
                                  "click here", "Read more"])
def test_vague_link_texts_are_warnings(text):
    (line,) = findings(f"# T\n\nDas Formular finden Sie [{text}](https://example.org/f).\n")
    assert line.startswith("01-start.md:3: warning: the link text ") and "does not say where the link leads" in line


@pytest.mark.parametrize("body", ["# T\n\n[https://example.org/f](https://example.org/f)\n",
                                  "# T\n\n[www.example.org](https://www.example.org)\n",
                                  "# T\n\nSiehe <https://example.org/f>.\n"])
def test_a_bare_address_as_link_text_is_a_warning(body):
    (line,) = findings(body)
    assert line.startswith("01-start.md:3: warning: the link text is a bare address")


@pytest.mark.parametrize("alt", ["Bild", "image", "plan.png", "Screenshot"])
def test_an_alternative_text_that_says_nothing_is_a_warning(alt):
    (line,) = findings(f"# T\n\n![{alt}](plan.png)\n")
    assert line.startswith("01-start.md:3: warning: the alternative text")


@pytest.mark.parametrize("body, files", [
    ("# T\n\n[Film zur E-Akte](film.mp4)\n", ["film.vtt"]),
    ("# T\n\n[Film zur E-Akte](videos/film.mp4)\n", ["videos/film.vtt"]),
    ("# T\n\n[Film](film.mp4) und [Untertitel](film-de.vtt)\n", []),
    ("# T\n\n[Film](film.mp4)\n\nDas [Transkript des Films](film.pdf) zum Nachlesen.\n", []),
    ("# T\n\n<video src=\"film.mp4\"><track kind=\"captions\" src=\"film.vtt\"></video>\n", []),
])
def test_videos_with_captions_or_a_transcript_pass(body, files):
    assert findings(body, files=files) == []


def test_findings_split_into_errors_and_warnings():
    found = check_lesson("01-a.md", "T", "# T\n\n![](a.png)\n\n[hier](https://example.org)\n", lesson="01-a")
    assert [f.line for f in errors(found)] == [3] and [f.line for f in warnings(found)] == [5]
    assert all(isinstance(f, Finding) and f.lesson == "01-a" for f in found)


# In the course files and the sync ---------------------------------------------------------------

def test_the_bundled_courses_pass_the_check():
    phases = {line.split('"')[1] for path in (ROOT / "courses").glob("*/course.toml")
              for line in path.read_text().splitlines() if line.startswith("phase")}
    found: list = []
    specs, problems = read_courses(ROOT / "courses", phases, found)
    assert problems == [] and found == [] and len(specs) >= 6


def test_errors_stop_the_course_and_warnings_are_reported(tmp_path):
    write_course(tmp_path, lessons={"01-start.md": "# Start\n\n### Zu tief\n",
                                    "01-start.en.md": "# Start\n\n![](plan.png)\n"}, files={"plan.png": b"\x89PNG"})
    write_course(tmp_path, "zweiter-kurs", lessons={"01-a.md": "# A\n\nMehr dazu [hier](https://example.org).\n"})
    found: list = []
    specs, problems = read_courses(tmp_path, set(), found)
    assert [spec.slug for spec in specs] == ["zweiter-kurs"]
    lines = [str(problem).removeprefix(f"{tmp_path}/") for problem in problems]
    assert lines == [
        "e-akte/01-start.en.md:3: image 'plan.png' needs an alternative text: ![what it shows](plan.png)",
    ]
    write_course(tmp_path, lessons={"01-start.md": "# Start\n\n### Zu tief\n", "01-start.en.md": "# Start\n"})
    specs, problems = read_courses(tmp_path, set(), found)
    assert [str(problem).removeprefix(f"{tmp_path}/") for problem in problems] == [
        "e-akte/01-start.md:3: accessibility: heading level 3 follows level 1: a level is skipped (use ##)"]
    assert [str(w).removeprefix(f"{tmp_path}/") for w in found][-1] == (
        "zweiter-kurs/01-a.md:3: warning: accessibility: the link text 'hier' does not say where the link leads; "
        "name the target (e.g. 'Formular Reisekosten')")


def test_sync_check_reports_accessibility_errors_and_writes_nothing(app, runner, tmp_path):
    write_course(tmp_path, lessons={"01-start.md": "# Start\n\n| | |\n|---|---|\n| a | b |\n"})
    checked = runner.invoke(args=["courses", "sync", str(tmp_path), "--check"])
    assert checked.exit_code == 1
    assert "e-akte/01-start.md:3: accessibility: the table has no header row" in checked.output
    assert "1 problem(s)" in checked.output and "nothing was written" in checked.output
    synced = runner.invoke(args=["courses", "sync", str(tmp_path)])
    assert synced.exit_code == 1 and "nothing was written" in synced.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Course)) == 0


def test_sync_shows_warnings_and_loads_the_course(app, runner, tmp_path):
    write_course(tmp_path, lessons={"01-start.md": "# Start\n\n[https://example.org](https://example.org)\n"})
    synced = runner.invoke(args=["courses", "sync", str(tmp_path)])
    assert synced.exit_code == 0, synced.output
    assert "e-akte/01-start.md:3: warning: accessibility: the link text is a bare address" in synced.output
    assert "created: 1" in synced.output
