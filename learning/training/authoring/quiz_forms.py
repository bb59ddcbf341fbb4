"""Forms of the quiz editor: one question with its answers (German and English), the pool, the list's buttons.

Without JavaScript a question's form has a fixed number of answer rows (the existing ones and empty ones up
to ``ANSWER_ROWS``); an empty row is no answer. A true/false statement has no answer rows: which side is
right, and feedback for each.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, HiddenField, IntegerField, RadioField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from learning.training.authoring.quiz_editor import MAX_ANSWERS
from learning.training.models import QuestionKind
from learning.training.sync import AnswerSpec, QuestionSpec, true_false_answers

TEXT_MAX = 1000
ANSWER_MAX = 500
EXPLANATION_MAX = 2000
ANSWER_ROWS = 4  # answer rows shown at least; one more than the answers when there are more


def _too_long(limit: int):
    return Length(max=limit, message=_l("At most %(max)d characters, please."))


def _clean(value: str | None) -> str | None:
    return (value or "").strip() or None


class AnswerForm(Form):
    """One answer row (a sub-form: the question's form carries the CSRF token)."""

    text = TextAreaField(_l("Answer"), validators=[_too_long(ANSWER_MAX)], render_kw={"rows": 2})
    correct = BooleanField(_l("This answer is correct"))
    feedback = TextAreaField(_l("Feedback when this answer is chosen"), validators=[_too_long(TEXT_MAX)],
                             render_kw={"rows": 2})
    text_en = TextAreaField(_l("Answer in English"), validators=[_too_long(ANSWER_MAX)], render_kw={"rows": 2})
    feedback_en = TextAreaField(_l("Feedback in English"), validators=[_too_long(TEXT_MAX)], render_kw={"rows": 2})

    @property
    def is_empty(self) -> bool:
        return not any(_clean(self[name].data) for name in ("text", "feedback", "text_en", "feedback_en"))


class QuestionForm(FlaskForm):
    base_revision = HiddenField()
    kind = HiddenField()
    text = TextAreaField(_l("Question"), validators=[_too_long(TEXT_MAX)], render_kw={"rows": 3})
    explanation = TextAreaField(
        _l("Explanation"), validators=[_too_long(EXPLANATION_MAX)], render_kw={"rows": 3},
        description=_l("Shown with the result: why the correct answer is correct."))
    text_en = TextAreaField(_l("Question in English"), validators=[_too_long(TEXT_MAX)], render_kw={"rows": 3})
    explanation_en = TextAreaField(_l("Explanation in English"), validators=[_too_long(EXPLANATION_MAX)],
                                   render_kw={"rows": 3})
    answers = FieldList(FormField(AnswerForm), label=_l("Answers"), min_entries=ANSWER_ROWS, max_entries=MAX_ANSWERS)
    # A true/false statement
    statement = RadioField(_l("The statement is"), choices=[("true", _l("True")), ("false", _l("False"))],
                           validate_choice=False)
    feedback_true = TextAreaField(_l("Feedback for “True”"), validators=[_too_long(TEXT_MAX)], render_kw={"rows": 2})
    feedback_false = TextAreaField(_l("Feedback for “False”"), validators=[_too_long(TEXT_MAX)],
                                   render_kw={"rows": 2})
    feedback_true_en = TextAreaField(_l("Feedback for “True” in English"), validators=[_too_long(TEXT_MAX)],
                                     render_kw={"rows": 2})
    feedback_false_en = TextAreaField(_l("Feedback for “False” in English"), validators=[_too_long(TEXT_MAX)],
                                      render_kw={"rows": 2})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.answer_errors: list[str] = []  # about the answers together (too few, no correct one)

    def problems(self) -> list[tuple[str | None, str, str]]:
        """Every problem of the form for the summary above it: (id to link to, label, message)."""
        found = [(None, "", message) for message in self.form_errors]
        found += [("answers", str(self.answers.label.text), message) for message in self.answer_errors]
        for field in self:
            if field.name in ("csrf_token", "answers"):
                continue
            found += [(field.id, str(field.label.text), message) for message in field.errors]
        for number, row in enumerate(self.answers, start=1):
            for sub in row.form:
                found += [(sub.id, f"{sub.label.text} ({number})", message) for message in sub.errors]
        return found

    def fill(self, question: QuestionSpec, base_revision: int) -> None:
        """Put a stored question into the form (GET)."""
        self.base_revision.data = str(base_revision)
        self.kind.data = question.kind
        for name in ("text", "explanation", "text_en", "explanation_en"):
            self[name].data = getattr(question, name) or ""
        if question.kind == QuestionKind.TRUE_FALSE:
            if len(question.answers) != 2:  # a new statement: nothing chosen yet
                return
            true, false = question.answers
            self.statement.data = "true" if true.correct else "false"
            self.feedback_true.data, self.feedback_true_en.data = true.feedback or "", true.feedback_en or ""
            self.feedback_false.data, self.feedback_false_en.data = false.feedback or "", false.feedback_en or ""
            return
        while len(self.answers.entries):
            self.answers.pop_entry()
        rows = min(MAX_ANSWERS, max(ANSWER_ROWS, len(question.answers) + 1))
        for index in range(rows):
            answer = question.answers[index] if index < len(question.answers) else None
            texts = {name: (getattr(answer, name) or "") if answer else ""
                     for name in ("text", "feedback", "text_en", "feedback_en")}
            self.answers.append_entry({**texts, "correct": bool(answer and answer.correct)})

    def question(self, kind: str) -> QuestionSpec:
        """The question as entered (``kind`` from the stored question or the page's address, not the form)."""
        question = QuestionSpec(kind=kind, text=(self.text.data or "").strip(),
                                explanation=(self.explanation.data or "").strip(), answers=[],
                                text_en=_clean(self.text_en.data), explanation_en=_clean(self.explanation_en.data))
        if kind == QuestionKind.TRUE_FALSE:
            question.answers = true_false_answers(
                self.statement.data == "true", _clean(self.feedback_true.data), _clean(self.feedback_false.data),
                _clean(self.feedback_true_en.data), _clean(self.feedback_false_en.data))
            return question
        question.answers = [
            AnswerSpec(text=(row.form.text.data or "").strip(), correct=bool(row.form.correct.data),
                       text_en=_clean(row.form.text_en.data), feedback=_clean(row.form.feedback.data),
                       feedback_en=_clean(row.form.feedback_en.data))
            for row in self.answers if not row.form.is_empty]
        return question

    def row_problems(self) -> list[tuple[str, str]]:
        """Answer rows with feedback or English but no German text."""
        return [(row.form.text.id, _("Please enter the answer's text, or empty the whole row."))
                for row in self.answers if not row.form.is_empty and not (row.form.text.data or "").strip()]


def statement_required(form: QuestionForm) -> list[tuple[str, str]]:
    if form.statement.data not in ("true", "false"):
        return [("statement", _("Please say whether the statement is true or false."))]
    return []


class PoolForm(FlaskForm):
    base_revision = HiddenField()
    draw = IntegerField(
        _l("Questions per attempt"), validators=[Optional(), NumberRange(min=1, max=200)],
        description=_l("Each attempt asks this many questions, drawn at random from all questions of the quiz. "
                       "Leave empty to ask every question in every attempt."))


class QuizActionForm(FlaskForm):
    """Move or remove: a button carrying the quiz revision the page showed."""

    base_revision = HiddenField(validators=[InputRequired()])
