"""The quiz in files: true/false statements, feedback per answer, ``quiz_draw``; problems as FILE:LINE, round trip."""

from __future__ import annotations

import io

import pytest

from learning.training.exchange import course_for_exchange, export_course
from learning.training.models import CourseSource
from learning.training.sync import draw_problem, passing_count, read_courses, smallest_draw
from tests.training.test_exchange import course_zip, remove, snapshot, upload
from tests.training.test_sync import COURSE_TOML, QUIZ, problems_of, write_course

POOL_QUIZ = QUIZ + """
[[questions.answers]]
text = "Vielleicht"
feedback = "Eine Akte kennt kein Vielleicht."

[[questions]]
text = "Die E-Akte ersetzt die Papierakte."
kind = "truefalse"
correct = true
explanation = "Sie ist die führende Akte."
feedback_true = "Genau: die E-Akte führt."
feedback_false = "Doch: seit der Umstellung führt die E-Akte."

[[questions]]
text = "Welche Ablagen gibt es? (Mehrere richtig)"
kind = "multiple"

[[questions.answers]]
text = "Vorgang"
correct = true
feedback = "Ja, der Vorgang."

[[questions.answers]]
text = "Dokument"
correct = true

[[questions.answers]]
text = "Schublade"
"""
POOL_QUIZ_EN = """[[questions]]
text = "Question one?"

[[questions.answers]]
text = "Yes"

[[questions.answers]]
text = "No"

[[questions.answers]]
text = "Maybe"
feedback = "A file knows no maybe."

[[questions]]
text = "The e-file replaces the paper file."
feedback_false = "It does: since the switch the e-file leads."

[[questions]]
text = "Which levels are there?"

[[questions.answers]]
text = "Case"
feedback = "Yes, the case."

[[questions.answers]]
text = "Document"

[[questions.answers]]
text = "Drawer"
"""
POOL_META = COURSE_TOML.replace("mandatory = true", "mandatory = true\npass_mark = 50\nquiz_draw = 2")


def test_true_false_feedback_and_draw_are_read(tmp_path):
    write_course(tmp_path, meta=POOL_META, quiz=POOL_QUIZ)
    (tmp_path / "e-akte" / "quiz.en.toml").write_text(POOL_QUIZ_EN)
    (spec,), problems = read_courses(tmp_path, set())
    assert problems == []
    assert spec.quiz_draw == 2
    first, statement, multiple = spec.questions
    assert first.answers[2].feedback == "Eine Akte kennt kein Vielleicht."
    assert first.answers[2].feedback_en == "A file knows no maybe."
    assert statement.kind == "truefalse" and statement.text_en == "The e-file replaces the paper file."
    assert [(a.text, a.text_en, a.correct, a.feedback, a.feedback_en) for a in statement.answers] == [
        ("Richtig", "True", True, "Genau: die E-Akte führt.", None),
        ("Falsch", "False", False, "Doch: seit der Umstellung führt die E-Akte.",
         "It does: since the switch the e-file leads.")]
    assert multiple.answers[0].feedback_en == "Yes, the case."


TF = '[[questions]]\ntext = "Aussage."\nkind = "truefalse"\n'


@pytest.mark.parametrize("meta, quiz, expected", [
    (COURSE_TOML, TF, "quiz.toml:1: question 1 is true/false: say whether the statement is right with 'correct"),
    (COURSE_TOML, TF + 'correct = "ja"\n', "quiz.toml:4: question 1 is true/false: say whether"),
    (COURSE_TOML, TF + "correct = true\n\n[[questions.answers]]\ntext = \"Ja\"\n",
     "quiz.toml:3: question 1 is true/false: it has no [[questions.answers]]"),
    (COURSE_TOML, TF + 'correct = false\nfeedback_true = ""\n', "quiz.toml:5: question 1: 'feedback_true' must be"),
    (COURSE_TOML, QUIZ.replace('kind = "single"', 'kind = "ja-nein"'),
     "quiz.toml:3: question 1: 'kind' must be \"single\", \"multiple\" or \"truefalse\""),
    (COURSE_TOML, QUIZ + "feedback = 3\n", "quiz.toml:12: question 1, answer 2: 'feedback' must be a non-empty text"),
    (COURSE_TOML, QUIZ + "colour = 3\n", "quiz.toml:12: question 1, answer 2: unknown key 'colour'"),
    (COURSE_TOML, QUIZ.replace('kind = "single"', 'kind = "single"\ncorrect = true'),
     "quiz.toml:4: question 1: 'correct' belongs to a true/false question"),
    (COURSE_TOML.replace("mandatory = true", "mandatory = true\nquiz_draw = 0"), QUIZ,
     "course.toml:5: 'quiz_draw' must be a whole number of at least 1"),
    (COURSE_TOML.replace("mandatory = true", "mandatory = true\nquiz_draw = true"), QUIZ,
     "course.toml:5: 'quiz_draw' must be a whole number of at least 1"),
    (COURSE_TOML.replace("mandatory = true", "mandatory = true\nquiz_draw = 2"), QUIZ,
     "course.toml:5: 'quiz_draw' is 2, but the quiz has only 1 questions"),
    (COURSE_TOML.replace("mandatory = true", "mandatory = true\nquiz_draw = 1"), None,
     "course.toml:5: 'quiz_draw' needs a quiz"),
    (POOL_META.replace("pass_mark = 50", "pass_mark = 80"), POOL_QUIZ,
     "course.toml:6: with 2 questions per attempt a pass mark of 80% means every question must be right; draw at "
     "least 5 questions (add questions to the quiz) or set pass_mark = 100"),
])
def test_quiz_problems_name_file_and_line(tmp_path, meta, quiz, expected):
    write_course(tmp_path, meta=meta, quiz=quiz)
    found = problems_of(tmp_path)
    assert any(expected in problem for problem in found), found


def test_english_true_false_takes_feedback_not_answers(tmp_path):
    write_course(tmp_path, quiz=TF + "correct = true\n")
    (tmp_path / "e-akte" / "quiz.en.toml").write_text(
        '[[questions]]\ntext = "Statement."\n\n[[questions.answers]]\ntext = "Yes"\n')
    assert any("quiz.en.toml:1: question 1 is true/false: give its English feedback" in p
               for p in problems_of(tmp_path))


def test_the_pass_mark_arithmetic_of_a_draw():
    assert passing_count(5, 80) == 4 and passing_count(3, 80) == 3 and passing_count(4, 75) == 3
    assert smallest_draw(80) == 5 and smallest_draw(50) == 2 and smallest_draw(1) == 2
    assert draw_problem(4, 10, 75) is None and draw_problem(1, 10, 100) is None
    assert draw_problem(11, 10, 50) == "'quiz_draw' is 11, but the quiz has only 10 questions"


def test_a_pool_with_true_false_and_feedback_round_trips(ctx):
    upload(course_zip(meta=POOL_META, quiz=POOL_QUIZ, **{"quiz.en.toml": POOL_QUIZ_EN}))
    before = snapshot("e-akte")
    assert before["course"]["quiz_draw"] == 2 and before["course"]["source"] == CourseSource.UPLOAD
    assert [q["kind"] for q in before["questions"]] == ["single", "truefalse", "multiple"]
    exported = export_course(course_for_exchange("e-akte"))
    remove("e-akte")
    assert upload(io.BytesIO(exported)).created
    assert snapshot("e-akte") == before
    assert upload(io.BytesIO(exported)).unchanged
    assert export_course(course_for_exchange("e-akte")) == exported


def test_a_changed_draw_is_a_changed_quiz(ctx):
    upload(course_zip(meta=POOL_META, quiz=POOL_QUIZ))
    result = upload(course_zip(meta=POOL_META.replace("quiz_draw = 2", "quiz_draw = 3"), quiz=POOL_QUIZ))
    assert result.quiz_changed and not result.unchanged
    assert snapshot("e-akte")["course"]["quiz_draw"] == 3


def test_a_true_false_quiz_without_english_exports_no_english_file(ctx):
    import zipfile
    upload(course_zip(quiz=TF + "correct = false\n"))
    with zipfile.ZipFile(io.BytesIO(export_course(course_for_exchange("e-akte")))) as archive:
        names = archive.namelist()
        quiz = archive.read("e-akte/quiz.toml").decode()
    assert "e-akte/quiz.en.toml" not in names
    assert 'kind = "truefalse"' in quiz and "correct = false" in quiz and "answers" not in quiz
