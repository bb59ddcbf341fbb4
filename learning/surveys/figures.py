"""What a survey measures and every figure of one group of responses: scales, ADKAR, eNPS, distributions.

Pure computation on answers already read (``learning.surveys.results`` reads them and decides
which figures may be shown); formulas: ``learning.surveys.stats`` (DESIGN.md, "Acceptance metrics").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _

from learning.surveys import stats
from learning.surveys.instruments import construct_label
from learning.surveys.models import QuestionKind, Survey, SurveyQuestion
from learning.surveys.taking import questions_in_order

# What a survey measures -------------------------------------------------------------------------

@dataclass
class Construct:
    key: str
    items: list[SurveyQuestion]

    @property
    def label(self) -> str:
        return construct_label(self.key)

    @property
    def points(self) -> int:
        return self.items[0].question_kind.points

    @property
    def has_reverse(self) -> bool:
        return any(q.reverse for q in self.items)


@dataclass
class Column:
    """A figure of the heatmap, trend and exports."""

    key: str  # the metric key whose hidden set applies
    label: str
    kind: str  # construct | question | readiness | enps
    low: float
    high: float
    ref: object = None  # the construct key or the question
    figure: str = ""  # the row name of this figure in exports and in the archive of a round


@dataclass
class Measures:
    questions: list[SurveyQuestion]
    constructs: dict[str, Construct]
    adkar: bool
    enps_questions: list[SurveyQuestion]

    @classmethod
    def of(cls, survey: Survey) -> Measures:
        questions = questions_in_order(survey)
        constructs: dict[str, Construct] = {}
        for q in questions:
            if q.construct and q.question_kind.is_likert:
                constructs.setdefault(q.construct, Construct(q.construct, [])).items.append(q)
        adkar = all(e in constructs and constructs[e].points == 5 for e in stats.ADKAR_ELEMENTS)
        enps_questions = [q for q in questions if q.question_kind == QuestionKind.SCALE10]
        return cls(questions, constructs, adkar, enps_questions)

    @property
    def scored(self) -> list[SurveyQuestion]:
        return [q for q in self.questions if q.question_kind.is_scored]

    @property
    def texts(self) -> list[SurveyQuestion]:
        return [q for q in self.questions if q.question_kind == QuestionKind.TEXT]

    def columns(self) -> list[Column]:
        """The heatmap's columns: the scales (else every rating question), readiness and eNPS."""
        columns = []
        if self.constructs:
            for c in self.constructs.values():
                columns.append(Column(f"c:{c.key}", c.label, "construct", 1, c.points, c.key,
                                      f"scale {c.key}: score"))
        else:
            for q in (q for q in self.scored if q.question_kind.is_likert):
                number = self.questions.index(q) + 1
                columns.append(Column(f"q{q.id}", _("Question %(num)d", num=number), "question",
                                      1, q.question_kind.points, q, f"question {number}: mean"))
        if self.adkar:
            columns.append(Column("adkar", _("Readiness index"), "readiness", 0, 100, None, "adkar: readiness index"))
        for q in self.enps_questions:
            label = _("eNPS") if len(self.enps_questions) == 1 else _("eNPS, question %(num)d",
                                                                      num=self.questions.index(q) + 1)
            columns.append(Column(f"enps{q.id}", label, "enps", -100, 100, q,
                                  f"enps question {self.questions.index(q) + 1}"))
        return columns


def option_labels(question: SurveyQuestion, locale: str) -> list[str]:
    """A label per possible value: the scale points' or options' labels, or the numbers of a 0-10 scale."""
    if question.question_kind == QuestionKind.SCALE10:
        labels = [str(v) for v in question.values()]
        anchors = question.localized_options(locale)
        if len(anchors) == 2:
            labels[0], labels[-1] = f"0 – {anchors[0]}", f"10 – {anchors[1]}"
        return labels
    labels = question.localized_options(locale)
    if question.question_kind.is_likert:
        return [f"{v} – {label}" for v, label in zip(question.values(), labels, strict=False)] or [
            str(v) for v in question.values()]
    return labels


# Figures of one group ----------------------------------------------------------------------------

@dataclass
class Reply:
    department_id: int | None
    team_id: int | None
    answers: dict[int, object] = field(default_factory=dict)


@dataclass
class QuestionStat:
    question: SurveyQuestion
    n: int
    mean: float | None
    counts: list[int]  # per scale point or option, in order

    @property
    def shares(self) -> list[float]:
        total = sum(self.counts)
        return [c / total if total else 0.0 for c in self.counts]


@dataclass
class ConstructStat:
    construct: Construct
    n: int  # respondents with at least one item answered
    score: float | None
    favourable: float | None
    alpha: float | None
    alpha_n: int  # respondents with every item answered (alpha uses only them)

    @property
    def alpha_low(self) -> bool:
        return self.alpha is not None and self.alpha < stats.ALPHA_WARNING_BELOW


@dataclass
class AdkarStat:
    means: dict[str, float | None]
    barrier: str | None
    readiness: float | None
    ready: float | None
    n: int  # respondents with all five elements


@dataclass
class GroupStats:
    n: int
    questions: dict[int, QuestionStat]
    constructs: dict[str, ConstructStat]
    adkar: AdkarStat | None
    enps: dict[int, stats.Enps | None]

    def sizes(self) -> dict[str, int]:
        """The number of answers behind each figure: what the thresholds are applied to."""
        sizes = {"responses": self.n}
        sizes.update({f"q{qid}": s.n for qid, s in self.questions.items()})
        sizes.update({f"c:{key}": s.n for key, s in self.constructs.items()})
        if self.adkar is not None:
            sizes["adkar"] = self.adkar.n
        sizes.update({f"enps{qid}": (e.n if e else 0) for qid, e in self.enps.items()})
        return sizes


def compute(measures: Measures, replies: list[Reply]) -> GroupStats:
    """Every figure of one group of responses."""
    questions = {}
    for q in measures.questions:
        kind = q.question_kind
        if kind == QuestionKind.TEXT:
            continue
        given = [r.answers[q.id] for r in replies if q.id in r.answers]
        values = q.values()
        counts = [0] * len(values)
        if kind == QuestionKind.MULTIPLE:
            for chosen in given:
                for v in chosen:
                    counts[values.index(v)] += 1
            questions[q.id] = QuestionStat(q, len(given), None, counts)
            continue
        for v in given:
            counts[values.index(v)] += 1
        questions[q.id] = QuestionStat(q, len(given), stats.mean(given) if kind.is_scored else None, counts)

    constructs = {}
    people: list[dict[str, float]] = [dict() for _ in replies]
    for key, construct in measures.constructs.items():
        person_scores, item_values, rows = [], [], []
        for index, reply in enumerate(replies):
            scored = [q.scored(reply.answers[q.id]) for q in construct.items if q.id in reply.answers]
            if not scored:
                continue
            person = stats.person_score(scored)
            person_scores.append(person)
            people[index][key] = person
            item_values.extend(scored)
            if len(scored) == len(construct.items):
                rows.append(scored)
        constructs[key] = ConstructStat(
            construct, len(person_scores), stats.construct_score(person_scores),
            stats.favourable_share(item_values, construct.points), stats.cronbach_alpha(rows), len(rows))

    adkar = None
    if measures.adkar:
        means = {e: constructs[e].score for e in stats.ADKAR_ELEMENTS}
        complete = [p for p in people if all(e in p for e in stats.ADKAR_ELEMENTS)]
        adkar = AdkarStat(means, stats.barrier_point(means), stats.readiness_index(means), stats.share_ready(complete),
                          len(complete))
    enps = {q.id: stats.enps([r.answers[q.id] for r in replies if q.id in r.answers]) for q in measures.enps_questions}
    return GroupStats(len(replies), questions, constructs, adkar, enps)

