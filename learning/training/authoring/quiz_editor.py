"""The quiz of a draft in the browser's editor: questions, their answers and feedback, the pool.

Every change goes through ``documents.save_part(draft, QUIZ, base_revision, ...)``: the whole quiz is one
part under the optimistic lock, so a second editor who saved the quiz meanwhile makes this save fail with
``EditConflict`` (both versions shown) instead of being overwritten. The content is the same
``QuestionSpec`` the course files produce (``learning.training.sync``), checked by the same rules, with
the messages in the editor's language. Services validate, change and flush; the view's unit of work commits.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext

from learning.errors import ServiceError
from learning.training.authoring.documents import QUIZ, draft_spec, revision, save_part
from learning.training.authoring.models import CourseDraft
from learning.training.models import QuestionKind
from learning.training.sync import CourseSpec, QuestionSpec, passing_count, smallest_draw

MAX_QUESTIONS = 200
MAX_ANSWERS = 10


class ReadOnlyQuiz(ServiceError):
    """The course is managed as files: the quiz is changed in its files, not here."""


def is_read_only(draft: CourseDraft) -> bool:
    """A course from ``courses/`` (managed as files) is read-only in the editor: the next sync would win."""
    return draft.course is not None and draft.course.managed_as_files


def quiz_revision(draft: CourseDraft) -> int:
    return revision(draft, QUIZ)


def question_problems(question: QuestionSpec) -> list[tuple[str, str]]:
    """What is wrong with a question, as (form field, message) pairs; empty when it may be saved."""
    problems = []
    if not question.text.strip():
        problems.append(("text", _("Please enter the question.") if question.kind != QuestionKind.TRUE_FALSE
                         else _("Please enter the statement.")))
    if question.kind not in {kind.value for kind in QuestionKind}:
        problems.append(("kind", _("Please choose the kind of question.")))
        return problems
    if question.kind == QuestionKind.TRUE_FALSE:
        return problems
    answers = question.answers
    if len(answers) < 2:
        problems.append(("answers", _("A question needs at least two answers.")))
    elif len(answers) > MAX_ANSWERS:
        problems.append(("answers", _("A question can have at most %(num)d answers.", num=MAX_ANSWERS)))
    correct = sum(1 for answer in answers if answer.correct)
    if question.kind == QuestionKind.SINGLE and len(answers) >= 2 and correct != 1:
        problems.append(("answers", _("A single-choice question needs exactly one correct answer.")))
    if question.kind == QuestionKind.MULTIPLE and len(answers) >= 2 and correct == 0:
        problems.append(("answers", _("A multiple-choice question needs at least one correct answer.")))
    return problems


def draw_message(draw: int | None, questions: int, pass_mark: int) -> str | None:
    """Why drawing ``draw`` of ``questions`` questions per attempt does not work under this pass mark, or None."""
    if draw is None:
        return None
    if draw < 1:
        return _("Draw at least one question per attempt.")
    if draw > questions:
        return ngettext("The quiz has only %(num)d question.", "The quiz has only %(num)d questions.", questions)
    if pass_mark < 100 and passing_count(draw, pass_mark) == draw:
        return _("With %(draw)d questions per attempt and a pass mark of %(mark)d%%, every question would have to "
                 "be answered correctly. Draw at least %(least)d questions, or set the pass mark to 100%%.",
                 draw=draw, mark=pass_mark, least=smallest_draw(pass_mark))
    return None


def _check_writable(draft: CourseDraft) -> None:
    if is_read_only(draft):
        raise ReadOnlyQuiz(_("This course is managed as files: change its quiz in the course files, or duplicate "
                             "the course as an editable copy."))


def _check_number(spec: CourseSpec, number: int, *, new_allowed: bool = False) -> None:
    last = len(spec.questions) + (1 if new_allowed else 0)
    if not 1 <= number <= last:
        raise ServiceError(_("This question does not exist (any more). Please open the quiz again."))


def summary(questions: list[QuestionSpec]) -> list[str]:
    """The quiz as short lines (for the conflict page)."""
    return [f"{n}. {question.text}" for n, question in enumerate(questions, start=1)]


def save_question(draft: CourseDraft, number: int, base_revision: int, question: QuestionSpec, actor) -> CourseSpec:
    """Replace question ``number`` (1-based), or add it when ``number`` is one past the last question."""
    _check_writable(draft)
    problems = question_problems(question)
    if problems:
        field, message = problems[0]
        raise ServiceError(message, field=field)
    current = draft_spec(draft)
    if quiz_revision(draft) == base_revision:
        _check_number(current, number, new_allowed=True)
        if number > len(current.questions) and len(current.questions) >= MAX_QUESTIONS:
            raise ServiceError(_("A quiz can have at most %(num)d questions.", num=MAX_QUESTIONS))

    def change(spec: CourseSpec) -> None:
        if number > len(spec.questions):
            spec.questions.append(question)
        else:
            spec.questions[number - 1] = question

    def theirs(spec: CourseSpec):
        return spec.questions[number - 1] if number <= len(spec.questions) else None

    return save_part(draft, QUIZ, base_revision, change, actor, current=theirs, mine=question)


def move_question(draft: CourseDraft, number: int, offset: int, base_revision: int, actor) -> CourseSpec:
    """Move question ``number`` one place up (``offset`` -1) or down (+1)."""
    _check_writable(draft)
    if offset not in (-1, 1):
        raise ServiceError(_("This question cannot be moved that way."))
    current = draft_spec(draft)
    if quiz_revision(draft) == base_revision:
        _check_number(current, number)
        if not 1 <= number + offset <= len(current.questions):
            raise ServiceError(_("This question cannot be moved that way."))

    def change(spec: CourseSpec) -> None:
        questions = spec.questions
        questions[number - 1], questions[number - 1 + offset] = questions[number - 1 + offset], questions[number - 1]

    mine = _("Move question %(number)d up", number=number) if offset < 0 else \
        _("Move question %(number)d down", number=number)
    return save_part(draft, QUIZ, base_revision, change, actor, current=lambda spec: summary(spec.questions),
                     mine=mine)


def remove_question(draft: CourseDraft, number: int, base_revision: int, actor) -> CourseSpec:
    _check_writable(draft)
    current = draft_spec(draft)
    if quiz_revision(draft) == base_revision:
        _check_number(current, number)
        left = len(current.questions) - 1
        if current.quiz_draw is not None and current.quiz_draw > left:
            raise ServiceError(_("Each attempt draws %(draw)d questions: lower that number before you remove a "
                                 "question.", draw=current.quiz_draw))

    def change(spec: CourseSpec) -> None:
        del spec.questions[number - 1]

    mine = _("Remove question %(number)d", number=number)
    return save_part(draft, QUIZ, base_revision, change, actor, current=lambda spec: summary(spec.questions),
                     mine=mine)


def set_draw(draft: CourseDraft, draw: int | None, base_revision: int, actor) -> CourseSpec:
    """The pool: ``draw`` questions drawn at random per attempt (None: every question, every time)."""
    _check_writable(draft)
    current = draft_spec(draft)
    message = draw_message(draw, len(current.questions), current.pass_mark)
    if message:
        raise ServiceError(message, field="draw")

    def change(spec: CourseSpec) -> None:
        spec.quiz_draw = draw

    mine = _("Draw %(draw)d questions per attempt", draw=draw) if draw else _("Ask every question in every attempt")
    return save_part(draft, QUIZ, base_revision, change, actor, current=lambda spec: summary(spec.questions),
                     mine=mine)


def blank_question(kind: str) -> QuestionSpec:
    """A new question of this kind, for the form (not stored until it is saved)."""
    return QuestionSpec(kind=kind, text="", explanation="", answers=[])


def quiz_problems(spec: CourseSpec) -> list[tuple[int | None, str]]:
    """Everything that would stop this draft's quiz from being published, as (question number or None, message).

    For the publishing check: the questions as the editor checks them, and the pool against the pass mark
    (which the course settings may have changed since the pool was set).
    """
    found: list[tuple[int | None, str]] = []
    for number, question in enumerate(spec.questions, start=1):
        found += [(number, message) for _field, message in question_problems(question)]
    message = draw_message(spec.quiz_draw, len(spec.questions), spec.pass_mark) if spec.quiz_draw else None
    if message:
        found.append((None, message))
    return found
