"""Read courses from files, check them, and sync them into the database.

``read_courses`` checks every course folder and reports each problem as ``FILE:LINE: reason``
(a warning, such as a rollout phase this database does not know, does not stop the sync);
The accessibility check of the lessons (``learning.training.accessibility``) is part of the
reading: its errors are problems, its warnings warnings. ``sync_courses`` writes only a clean set,
upserting by slug and keeping learners' progress: lessons are matched by file name, removed lessons
and courses are archived, never deleted. Only courses managed as files are touched: a course
uploaded as a zip in the browser is left alone, even when a folder of the same name appears.

About 700 lines: reading and checking the folder format is one job whose rules (keys, lines, media,
quiz) must stay side by side with their ``FILE:LINE`` messages.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import selectinload

from learning.db import db, read_outside_transaction, utcnow
from learning.phases.models import RolloutPhase
from learning.training.accessibility import Finding, check_lesson
from learning.training.due import DueRule
from learning.training.models import (
    DEFAULT_MAX_ATTEMPTS,
    Answer,
    Course,
    CourseSource,
    Lesson,
    Question,
    QuestionKind,
    ShowAnswers,
)

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,79}$")
LESSON_RE = re.compile(r"^(\d{1,3})-[a-z0-9][a-z0-9-]*$")
IMAGE_RE = re.compile(r"!\[([^\]]*)\]\(\s*([^)\s]+)(?:\s+\"[^\"]*\")?\s*\)")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}
COURSE_KEYS = {"title", "summary", "phase", "tags", "minutes", "mandatory", "due", "pass_mark", "language", "en",
               "max_attempts", "attempt_pause", "show_answers", "quiz_draw"}
PAUSE_RE = re.compile(r"^(\d{1,5})\s*(m|min|h|d)$")
PAUSE_UNITS = {"m": 1, "min": 1, "h": 60, "d": 24 * 60}
MAX_PAUSE_MINUTES = 30 * 24 * 60
EN_KEYS = {"title", "summary", "tags"}
# A true/false question is a statement with these two answers, in this order (the file names only ``correct``).
TRUE_FALSE_TEXTS = (("Richtig", "True"), ("Falsch", "False"))
QUESTION_KEYS = {"text", "kind", "explanation", "answers", "correct", "feedback_true", "feedback_false"}
ANSWER_KEYS = {"text", "correct", "feedback"}


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    reason: str
    warning: bool = False  # reported, but the course is still loaded

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {'warning: ' if self.warning else ''}{self.reason}"


@dataclass
class LessonSpec:
    slug: str
    position: int
    title: str
    body: str
    title_en: str | None = None
    body_en: str | None = None

    @property
    def content_hash(self) -> str:
        return _hash(asdict(self))


@dataclass
class AnswerSpec:
    text: str
    correct: bool
    text_en: str | None = None
    feedback: str | None = None  # shown with the result when this answer was chosen
    feedback_en: str | None = None


@dataclass
class QuestionSpec:
    kind: str
    text: str
    explanation: str
    answers: list[AnswerSpec]
    text_en: str | None = None
    explanation_en: str | None = None


@dataclass
class CourseSpec:
    slug: str
    title: str
    summary: str
    minutes: int
    phase: str | None = None
    tags: list[str] = field(default_factory=list)
    mandatory: bool = False
    due: str | None = None
    pass_mark: int = 80
    max_attempts: int | None = DEFAULT_MAX_ATTEMPTS  # None: unlimited
    attempt_pause: int = 0  # minutes after a failed attempt
    show_answers: str = ShowAnswers.AFTER_PASSING.value
    language: str = "de"
    title_en: str | None = None
    summary_en: str | None = None
    tags_en: list[str] = field(default_factory=list)
    quiz_draw: int | None = None  # questions drawn per attempt from the pool; None: all
    lessons: list[LessonSpec] = field(default_factory=list)
    questions: list[QuestionSpec] = field(default_factory=list)

    @property
    def content_hash(self) -> str:
        return _hash(asdict(self))


@dataclass
class SyncResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # a folder named like a course uploaded in the browser

    def summary(self) -> str:
        return (f"created: {len(self.created)}, updated: {len(self.updated)}, "
                f"unchanged: {len(self.unchanged)}, archived: {len(self.archived)}"
                + (f", skipped (uploaded in the browser): {len(self.skipped)}" if self.skipped else ""))


def _hash(data) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# Reading and checking ------------------------------------------------------------------------

class _Reader:
    """Collects the problems of one course folder while reading it."""

    def __init__(self, folder: Path, phases: set[str] | None):
        self.folder = folder
        self.phases = phases  # None: no database to check phase references against
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def problem(self, path: Path, line: int, reason: str) -> None:
        self.problems.append(Problem(path, line, reason))

    def warn(self, path: Path, line: int, reason: str) -> None:
        self.warnings.append(Problem(path, line, reason, warning=True))

    def load_toml(self, path: Path) -> tuple[dict | None, list[str]]:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            self.problem(path, 1, "the file is not UTF-8 text")
            return None, []
        try:
            return tomllib.loads(text), text.splitlines()
        except tomllib.TOMLDecodeError as exc:
            match = re.search(r"line (\d+)", str(exc))
            self.problem(path, int(match.group(1)) if match else 1, f"not valid TOML: {exc}")
            return None, []

    @staticmethod
    def line_of(lines: list[str], key: str, start: int = 0) -> int:
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for number, text in enumerate(lines[start:], start=start + 1):
            if pattern.match(text):
                return number
        return start + 1 if start else 1

    def read(self) -> CourseSpec | None:
        folder = self.folder
        if not SLUG_RE.match(folder.name):
            self.problem(folder, 1, "the folder name must be a slug of lower-case letters, digits and hyphens")
        meta_path = folder / "course.toml"
        if not meta_path.is_file():
            self.problem(meta_path, 1, "course.toml is missing")
            return None
        meta, lines = self.load_toml(meta_path)
        if meta is None:
            return None
        spec = self._metadata(meta_path, meta, lines)
        spec.lessons = self._lessons()
        spec.questions = self._quiz()
        self._check_draw(spec, meta_path, lines)
        return None if self.problems else spec

    def _metadata(self, path: Path, meta: dict, lines: list[str]) -> CourseSpec:
        for key in meta.keys() - COURSE_KEYS:
            self.problem(path, self.line_of(lines, key), f"unknown key {key!r}")

        def text(key, required=True, source=meta, start=0):
            value = source.get(key)
            if value is None:
                if required:
                    self.problem(path, 1, f"{key!r} is missing")
                return None
            if not isinstance(value, str) or not value.strip():
                self.problem(path, self.line_of(lines, key, start), f"{key!r} must be a non-empty text")
                return None
            return value.strip()

        def number(key, default, low, high):
            value = meta.get(key, default)
            if value is None:
                self.problem(path, 1, f"{key!r} is missing")
                return default or low
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                self.problem(path, self.line_of(lines, key), f"{key!r} must be a whole number from {low} to {high}")
                return low
            return value

        def tags(source, start=0):
            value = source.get("tags", [])
            if not isinstance(value, list) or not all(isinstance(t, str) and t.strip() for t in value):
                self.problem(path, self.line_of(lines, "tags", start), "'tags' must be a list of texts")
                return []
            return [t.strip() for t in value]

        spec = CourseSpec(
            slug=self.folder.name, title=text("title") or "", summary=text("summary") or "",
            minutes=number("minutes", None, 1, 600), pass_mark=number("pass_mark", 80, 1, 100), tags=tags(meta),
        )
        phase = text("phase", required=False)
        if phase is not None and self.phases is not None and phase not in self.phases:
            # A course repository's phases need not exist yet where it is loaded: load it without the link.
            self.warn(path, self.line_of(lines, "phase"),
                      f"unknown rollout phase {phase!r}: the course is loaded without a phase link")
        spec.phase = phase
        self._quiz_rules(spec, path, meta, lines)
        mandatory = meta.get("mandatory", False)
        if not isinstance(mandatory, bool):
            self.problem(path, self.line_of(lines, "mandatory"), "'mandatory' must be true or false")
        spec.mandatory = mandatory is True
        due = text("due", required=False)
        if due is not None:
            try:
                spec.due = str(DueRule.parse(due))
            except ValueError as exc:
                self.problem(path, self.line_of(lines, "due"), str(exc))
            if due.startswith("golive") and phase is None:
                self.problem(path, self.line_of(lines, "due"), "a 'golive' due rule needs a 'phase'")
        spec.language = text("language", required=False) or "de"
        if spec.language not in {"de", "en"}:
            self.problem(path, self.line_of(lines, "language"), "'language' must be \"de\" or \"en\"")
        english = meta.get("en", {})
        if not isinstance(english, dict):
            self.problem(path, self.line_of(lines, "en"), "'en' must be a table: [en]")
        elif english:
            start = next((i for i, line in enumerate(lines) if line.strip() == "[en]"), 0)
            for key in english.keys() - EN_KEYS:
                self.problem(path, self.line_of(lines, key, start), f"unknown key {key!r} in [en]")
            spec.title_en = text("title", required=False, source=english, start=start)
            spec.summary_en = text("summary", required=False, source=english, start=start)
            spec.tags_en = tags(english, start)
        return spec

    def _quiz_rules(self, spec: CourseSpec, path: Path, meta: dict, lines: list[str]) -> None:
        """``max_attempts``, ``attempt_pause`` and ``show_answers``: how a quiz can be retried and revealed."""
        attempts = meta.get("max_attempts", DEFAULT_MAX_ATTEMPTS)
        if attempts == "unlimited":
            spec.max_attempts = None
        elif isinstance(attempts, int) and not isinstance(attempts, bool) and 1 <= attempts <= 100:
            spec.max_attempts = attempts
        else:
            self.problem(path, self.line_of(lines, "max_attempts"),
                         "'max_attempts' must be a whole number from 1 to 100 or \"unlimited\"")
        pause = meta.get("attempt_pause", "0")
        match = PAUSE_RE.match(pause.strip()) if isinstance(pause, str) else None
        if pause == "0" or (pause == 0 and not isinstance(pause, bool)):
            spec.attempt_pause = 0
        elif match and int(match.group(1)) * PAUSE_UNITS[match.group(2)] <= MAX_PAUSE_MINUTES:
            spec.attempt_pause = int(match.group(1)) * PAUSE_UNITS[match.group(2)]
        else:
            self.problem(path, self.line_of(lines, "attempt_pause"),
                         "'attempt_pause' must be \"0\" or a number with m, h or d (\"30m\", \"1h\", \"2d\"), "
                         "at most 30 days")
        show = meta.get("show_answers", ShowAnswers.AFTER_PASSING.value)
        if show in {mode.value for mode in ShowAnswers}:
            spec.show_answers = show
        else:
            self.problem(path, self.line_of(lines, "show_answers"),
                         "'show_answers' must be \"never\", \"after_passing\" or \"after_last_attempt\"")
        draw = meta.get("quiz_draw")
        if draw is not None:
            if isinstance(draw, int) and not isinstance(draw, bool) and draw >= 1:
                spec.quiz_draw = draw
            else:
                self.problem(path, self.line_of(lines, "quiz_draw"),
                             "'quiz_draw' must be a whole number of at least 1: the questions drawn per attempt")

    def _check_draw(self, spec: CourseSpec, path: Path, lines: list[str]) -> None:
        """``quiz_draw`` against the quiz: at most all its questions, and a pass mark that still means something."""
        if spec.quiz_draw is None:
            return
        problem = draw_problem(spec.quiz_draw, len(spec.questions), spec.pass_mark)
        if problem is not None:
            self.problem(path, self.line_of(lines, "quiz_draw"), problem)

    def _markdown(self, path: Path) -> tuple[str, str] | None:
        try:
            body = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            self.problem(path, 1, "the file is not UTF-8 text")
            return None
        lines = body.splitlines()
        if not lines or not lines[0].startswith("# ") or not lines[0][2:].strip():
            self.problem(path, 1, "a lesson must start with its title as a level-1 heading: '# Title'")
            return None
        for number, line in enumerate(lines, start=1):
            for match in IMAGE_RE.finditer(line):
                alt, src = match.groups()
                if not alt.strip():
                    self.problem(path, number, f"image {src!r} needs an alternative text: ![what it shows]({src})")
                if re.match(r"^[a-z][a-z0-9+.-]*:", src, re.I) or src.startswith("/"):
                    if not src.startswith(("https://", "http://")):
                        self.problem(path, number, f"image {src!r} must be a file in the course folder")
                    else:
                        self.problem(path, number, f"image {src!r} is on another server; put the file in the "
                                                   "course folder (pages load nothing from elsewhere)")
                    continue
                target = (self.folder / src).resolve()
                if not target.is_relative_to(self.folder.resolve()) or not target.is_file():
                    self.problem(path, number, f"broken image link {src!r}: no such file in the course folder")
                elif target.suffix.lower() not in IMAGE_SUFFIXES:
                    self.problem(path, number, f"{src!r} is not an image (png, jpg, gif, svg, webp)")
        return lines[0][2:].strip(), body

    def _lessons(self) -> list[LessonSpec]:
        lessons: list[LessonSpec] = []
        positions: dict[int, Path] = {}
        german = sorted(p for p in self.folder.glob("*.md") if not p.name.endswith(".en.md"))
        for path in german:
            match = LESSON_RE.match(path.stem)
            if not match:
                self.problem(path, 1, "a lesson file is named like 01-topic.md (number, hyphen, lower-case name)")
                continue
            position = int(match.group(1))
            if position in positions:
                self.problem(path, 1, f"duplicate lesson number {position}: also {positions[position].name}")
                continue
            positions[position] = path
            read = self._markdown(path)
            if read is None:
                continue
            lesson = LessonSpec(slug=path.stem, position=position, title=read[0], body=read[1])
            english = path.with_name(f"{path.stem}.en.md")
            if english.exists():
                read_en = self._markdown(english)
                if read_en is not None:
                    lesson.title_en, lesson.body_en = read_en
            lessons.append(lesson)
        for english in self.folder.glob("*.en.md"):
            if not english.with_name(english.name[:-6] + ".md").exists():
                self.problem(english, 1, "English lesson without a German file of the same name")
        if not german:
            self.problem(self.folder, 1, "the course has no lessons (01-topic.md, ...)")
        return sorted(lessons, key=lambda lesson: lesson.position)

    def _quiz(self) -> list[QuestionSpec]:
        path = self.folder / "quiz.toml"
        if not path.exists():
            if (self.folder / "quiz.en.toml").exists():
                self.problem(self.folder / "quiz.en.toml", 1, "English quiz without quiz.toml")
            return []
        data, lines = self.load_toml(path)
        if data is None:
            return []
        headers = [i for i, line in enumerate(lines) if line.strip() == "[[questions]]"]
        answer_headers = [i for i, line in enumerate(lines) if line.strip() == "[[questions.answers]]"]
        raw = data.get("questions")
        if not isinstance(raw, list) or not raw:
            self.problem(path, 1, "the quiz has no [[questions]]")
            return []
        questions = []
        for index, item in enumerate(raw):
            start = headers[index] if index < len(headers) else 0
            end = headers[index + 1] if index + 1 < len(headers) else len(lines)
            question = self._question(path, lines, index, item, start,
                                      [h for h in answer_headers if start < h < end])
            if question is not None:
                questions.append(question)
        self._quiz_english(questions)
        return questions

    def _question(self, path: Path, lines: list[str], index: int, item: dict, start: int,
                  answer_starts: list[int]) -> QuestionSpec | None:
        """One ``[[questions]]`` table: single or multiple choice with answers, or a true/false statement."""
        line, number = start + 1, index + 1
        for key in item.keys() - QUESTION_KEYS:
            self.problem(path, self.line_of(lines, key, start), f"question {number}: unknown key {key!r}")
        text = item.get("text")
        if not isinstance(text, str) or not text.strip():
            self.problem(path, line, f"question {number} has no 'text'")
            return None
        kind = item.get("kind", "single")
        if kind not in {k.value for k in QuestionKind}:
            self.problem(path, self.line_of(lines, "kind", start), f"question {number}: 'kind' must be "
                                                                   "\"single\", \"multiple\" or \"truefalse\"")
            return None
        explanation = item.get("explanation", "")
        explanation = explanation.strip() if isinstance(explanation, str) else ""
        if kind == QuestionKind.TRUE_FALSE:
            return self._true_false(path, lines, number, item, start, text.strip(), explanation)
        for key in ("correct", "feedback_true", "feedback_false"):
            if key in item:
                self.problem(path, self.line_of(lines, key, start),
                             f"question {number}: {key!r} belongs to a true/false question (kind = \"truefalse\"); "
                             "give a choice question's answers as [[questions.answers]]")
        answers = item.get("answers", [])
        if not isinstance(answers, list) or len(answers) < 2 or not all(
                isinstance(a, dict) and isinstance(a.get("text"), str) and a["text"].strip() for a in answers):
            self.problem(path, line, f"question {number} needs at least two answers, each with a 'text'")
            return None
        specs = []
        for position, answer in enumerate(answers):
            answer_start = answer_starts[position] if position < len(answer_starts) else start
            for key in answer.keys() - ANSWER_KEYS:
                self.problem(path, self.line_of(lines, key, answer_start),
                             f"question {number}, answer {position + 1}: unknown key {key!r}")
            if "correct" in answer and not isinstance(answer["correct"], bool):
                self.problem(path, self.line_of(lines, "correct", answer_start),
                             f"question {number}, answer {position + 1}: 'correct' must be true or false")
            feedback = self._feedback(path, lines, answer, "feedback", answer_start,
                                      f"question {number}, answer {position + 1}")
            specs.append(AnswerSpec(text=answer["text"].strip(), correct=answer.get("correct") is True,
                                    feedback=feedback))
        correct = sum(1 for a in specs if a.correct)
        if correct == 0:
            self.problem(path, line, f"question {number} has no correct answer")
            return None
        if kind == QuestionKind.SINGLE and correct != 1:
            self.problem(path, line, f"question {number} is single choice but has {correct} correct answers")
            return None
        return QuestionSpec(kind=kind, text=text.strip(), explanation=explanation, answers=specs)

    def _true_false(self, path: Path, lines: list[str], number: int, item: dict, start: int, text: str,
                    explanation: str) -> QuestionSpec | None:
        if "answers" in item:
            self.problem(path, self.line_of(lines, "kind", start),
                         f"question {number} is true/false: it has no [[questions.answers]], only "
                         "'correct = true' or 'correct = false'")
            return None
        correct = item.get("correct")
        if not isinstance(correct, bool):
            self.problem(path, self.line_of(lines, "correct", start) if "correct" in item else start + 1,
                         f"question {number} is true/false: say whether the statement is right with "
                         "'correct = true' or 'correct = false'")
            return None
        feedback = [self._feedback(path, lines, item, key, start, f"question {number}")
                    for key in ("feedback_true", "feedback_false")]
        return QuestionSpec(kind=QuestionKind.TRUE_FALSE.value, text=text, explanation=explanation,
                            answers=true_false_answers(correct, *feedback))

    def _feedback(self, path: Path, lines: list[str], source: dict, key: str, start: int, where: str) -> str | None:
        value = source.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(path, self.line_of(lines, key, start), f"{where}: {key!r} must be a non-empty text")
            return None
        return value.strip()

    def _quiz_english(self, questions: list[QuestionSpec]) -> None:
        path = self.folder / "quiz.en.toml"
        if not path.exists() or not questions:
            return
        data, lines = self.load_toml(path)
        if data is None:
            return
        raw = data.get("questions", [])
        if not isinstance(raw, list) or len(raw) != len(questions):
            self.problem(path, 1, f"the English quiz must have the same {len(questions)} questions as quiz.toml")
            return
        headers = [i for i, line in enumerate(lines) if line.strip() == "[[questions]]"]
        for index, (item, question) in enumerate(zip(raw, questions, strict=True)):
            start = headers[index] if index < len(headers) else 0
            if not isinstance(item, dict):
                continue
            question.text_en = _english(item.get("text"))
            question.explanation_en = _english(item.get("explanation"))
            if question.kind == QuestionKind.TRUE_FALSE:
                if "answers" in item:
                    self.problem(path, start + 1, f"question {index + 1} is true/false: give its English feedback "
                                                  "as 'feedback_true' and 'feedback_false', without answers")
                    continue
                for answer, key in zip(question.answers, ("feedback_true", "feedback_false"), strict=True):
                    answer.feedback_en = _english(item.get(key))
                continue
            answers = item.get("answers", [])
            if not isinstance(answers, list) or len(answers) != len(question.answers):
                self.problem(path, start + 1, f"question {index + 1} must have the same {len(question.answers)} "
                                              "answers as in quiz.toml")
                continue
            for answer, answer_en in zip(question.answers, answers, strict=True):
                if isinstance(answer_en, dict):
                    answer.text_en = _english(answer_en.get("text"))
                    answer.feedback_en = _english(answer_en.get("feedback"))


def _english(value) -> str | None:
    return (value or "").strip() or None if isinstance(value, str) else None


def true_false_answers(correct: bool, feedback_true: str | None = None, feedback_false: str | None = None,
                       feedback_true_en: str | None = None, feedback_false_en: str | None = None) -> list[AnswerSpec]:
    """The two answers of a true/false statement: "Richtig" first, then "Falsch"."""
    (true_de, true_en), (false_de, false_en) = TRUE_FALSE_TEXTS
    return [AnswerSpec(text=true_de, text_en=true_en, correct=correct, feedback=feedback_true,
                       feedback_en=feedback_true_en),
            AnswerSpec(text=false_de, text_en=false_en, correct=not correct, feedback=feedback_false,
                       feedback_en=feedback_false_en)]


def passing_count(draw: int, pass_mark: int) -> int:
    """How many of ``draw`` questions must be right to pass (the score is whole percent, rounded down)."""
    return next(right for right in range(draw + 1) if right * 100 // draw >= pass_mark)


def smallest_draw(pass_mark: int) -> int:
    """The fewest questions per attempt that still allow one mistake under this pass mark (below 100 %)."""
    return next(draw for draw in range(1, 101) if passing_count(draw, pass_mark) < draw)


def draw_problem(draw: int, questions: int, pass_mark: int) -> str | None:
    """Why drawing ``draw`` of ``questions`` questions per attempt does not work, or None (English, for files)."""
    if draw < 1:
        return "'quiz_draw' must be at least 1"
    if questions == 0:
        return "'quiz_draw' needs a quiz: there is no quiz.toml with questions"
    if draw > questions:
        return f"'quiz_draw' is {draw}, but the quiz has only {questions} questions"
    if pass_mark < 100 and passing_count(draw, pass_mark) == draw:
        least = smallest_draw(pass_mark)
        return (f"with {draw} questions per attempt a pass mark of {pass_mark}% means every question must be "
                f"right; draw at least {least} questions" + (" (add questions to the quiz)" if least > questions
                                                            else "") + " or set pass_mark = 100")
    return None


def read_courses(root: Path, phases: set[str] | None,
                 warnings: list[Problem] | None = None) -> tuple[list[CourseSpec], list[Problem]]:
    """Read and check every course folder below ``root``; return the courses and all problems.

    ``phases`` are the rollout phases a ``phase`` may name (None: not checked); a course naming
    another phase is still read, and the warning goes to ``warnings`` if a list is given.
    """
    if not root.is_dir():
        return [], [Problem(root, 1, "no such folder")]
    specs, problems = [], []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        reader = _Reader(folder, phases)
        spec = reader.read()
        problems.extend(reader.problems)
        if warnings is not None:
            warnings.extend(reader.warnings)
        if spec is None:
            continue
        findings = accessibility_findings(spec, folder)
        problems.extend(Problem(folder / f.file, f.line, f"accessibility: {f.reason}") for f in findings if f.error)
        if warnings is not None:
            warnings.extend(Problem(folder / f.file, f.line, f"accessibility: {f.reason}", warning=True)
                            for f in findings if not f.error)
        if not any(f.error for f in findings):
            specs.append(spec)
    return specs, problems


def accessibility_findings(spec: CourseSpec, folder: Path | None = None) -> list[Finding]:
    """The accessibility check of every lesson of a course, German and English (``folder``: for captions files)."""
    files = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()] if folder else []
    findings: list[Finding] = []
    for lesson in spec.lessons:
        findings += check_lesson(f"{lesson.slug}.md", lesson.title, lesson.body, lesson=lesson.slug,
                                 course_files=files)
        if lesson.body_en is not None:
            findings += check_lesson(f"{lesson.slug}.en.md", lesson.title_en, lesson.body_en, lesson=lesson.slug,
                                     course_files=files)
    return findings


def known_phases() -> set[str]:
    return set(db.session.scalars(select(RolloutPhase.slug)))


def phases_if_available() -> set[str] | None:
    """The rollout phases of the configured database, or None when there is none with the schema.

    ``courses sync --check`` runs in a course repository's CI, where there may be no database at
    all: a missing SQLite file is not created, and an unreachable or empty database is no error.
    """
    url = db.engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") \
            and "mode=memory" not in str(url) and not Path(url.database).is_file():
        return None
    try:  # on a connection of its own: a failed read leaves no failed transaction behind
        return {slug for (slug,) in read_outside_transaction(select(RolloutPhase.slug))}
    except SQLAlchemyError:
        return None


# Writing -------------------------------------------------------------------------------------

def sync_courses(specs: list[CourseSpec]) -> SyncResult:
    """Upsert checked courses by slug; archive courses no longer present (the caller's unit of work commits).

    Courses uploaded in the browser are neither updated nor archived: a folder of the same name is skipped.
    """
    result = SyncResult()
    existing = {c.slug: c for c in db.session.scalars(
        select(Course).options(selectinload(Course.lessons),
                               selectinload(Course.questions).selectinload(Question.answers)))}
    phases = {p.slug: p.id for p in db.session.scalars(select(RolloutPhase))}
    now = utcnow()
    for spec in specs:
        course = existing.pop(spec.slug, None)
        if course is not None and not course.managed_as_files:
            result.skipped.append(spec.slug)
            continue
        phase_id = phases.get(spec.phase) if spec.phase else None  # an unknown phase: loaded without the link
        if (course is not None and course.content_hash == spec.content_hash and course.archived_at is None
                and course.phase_id == phase_id):
            result.unchanged.append(spec.slug)
            continue
        if course is None:
            course = Course(slug=spec.slug, source=CourseSource.FILES)
            db.session.add(course)
            result.created.append(spec.slug)
        else:
            result.updated.append(spec.slug)
        apply_course(course, spec, phase_id, now)
    for course in existing.values():
        if course.managed_as_files and course.archived_at is None:
            course.archived_at = now
            result.archived.append(course.slug)
    db.session.flush()
    return result


def apply_course(course: Course, spec: CourseSpec, phase_id: int | None, now) -> None:
    """Write a checked course onto its row: lessons matched by slug (removed ones archived), a changed quiz rebuilt."""
    for name in ("title", "title_en", "summary", "summary_en", "minutes", "mandatory", "pass_mark", "language",
                 "show_answers"):
        setattr(course, name, getattr(spec, name))
    course.max_attempts = spec.max_attempts or 0  # 0: unlimited
    course.attempt_pause_minutes = spec.attempt_pause
    course.tags, course.tags_en = spec.tags, spec.tags_en
    course.default_due = spec.due
    course.quiz_draw = spec.quiz_draw
    course.phase_id = phase_id
    course.content_hash = spec.content_hash
    course.archived_at = None
    lessons = {lesson.slug: lesson for lesson in course.lessons}
    for lesson_spec in spec.lessons:
        lesson = lessons.pop(lesson_spec.slug, None)
        if lesson is None:
            lesson = Lesson(slug=lesson_spec.slug)
            course.lessons.append(lesson)
        if lesson.content_hash != lesson_spec.content_hash or lesson.archived_at is not None:
            for name in ("position", "title", "title_en", "body", "body_en"):
                setattr(lesson, name, getattr(lesson_spec, name))
            lesson.content_hash = lesson_spec.content_hash
            lesson.archived_at = None
    for lesson in lessons.values():  # removed from the folder: archived, progress kept
        if lesson.archived_at is None:
            lesson.archived_at = now
    if quiz_of(course) != [asdict(q) for q in spec.questions]:
        # Attempts keep a snapshot of what was asked, so the quiz can simply be rebuilt.
        course.questions = [
            Question(position=n, kind=q.kind, text=q.text, text_en=q.text_en, explanation=q.explanation,
                     explanation_en=q.explanation_en,
                     answers=[Answer(position=m, text=a.text, text_en=a.text_en, correct=a.correct,
                                     feedback=a.feedback, feedback_en=a.feedback_en)
                              for m, a in enumerate(q.answers, start=1)])
            for n, q in enumerate(spec.questions, start=1)
        ]


def quiz_of(course: Course) -> list[dict]:
    """The course's quiz as it is compared with a ``CourseSpec``'s questions."""
    return [
        asdict(QuestionSpec(kind=q.kind, text=q.text, explanation=q.explanation, text_en=q.text_en,
                            explanation_en=q.explanation_en,
                            answers=[AnswerSpec(text=a.text, correct=a.correct, text_en=a.text_en, feedback=a.feedback,
                                                    feedback_en=a.feedback_en) for a in q.answers]))
        for q in course.questions
    ]
