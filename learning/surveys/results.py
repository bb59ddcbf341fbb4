"""Results of a survey: figures per wave and unit, with small groups hidden so nobody can be singled out.

Everything is computed in Python from one read of the answers (a fixed number of queries for any
number of responses), for every wave and every unit at once:

- the units form a tree: the whole survey, its departments, their teams. Answers whose team (or
  department) was too small to be recorded form a "rest" node beside the named ones, so the
  children of a node always add up to it;
- every figure (a question, a scale, the ADKAR block, an eNPS) is hidden per node where it rests
  on fewer answers than the survey's threshold, together with the next-smallest siblings
  (``learning.privacy.hidden_in_tree``). Pages, charts and exports all read the same hidden set,
  so no combination of filters shows a figure that another one hides;
- results are always per wave: a total over waves minus one wave would give the other back;
- a round's figures exist only once the round is released (``SurveyWave.released``: closed, never
  to reopen). While it is open nobody sees more than the number of people who took part in the
  whole audience, so no figure can change by one person's answer while someone watches;
- nothing may show how an identifiable person answered, also not through unanimity: a group in
  which everybody who was asked answered (complete participation) shows no figure drawn from the
  answers, and distributions (the share of each answer) need the comment threshold (at least 10
  answers) instead of the score threshold. Both rules depend on how many people answered, never on
  what they answered, so a hidden figure says nothing about the answers either.

The figures of one group: ``learning.surveys.figures``; exports: ``learning.surveys.export``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from learning.db import db
from learning.org.models import Department, Team, User, team_manager
from learning.privacy import hidden_in_tree
from learning.surveys import stats
from learning.surveys.figures import Column, GroupStats, Measures, Reply, compute
from learning.surveys.models import (
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyParticipation,
    SurveyQuestion,
    SurveyResponse,
)
from learning.surveys.taking import audience_select, questions_in_order

ALL = ("all",)


def department_node(department_id: int | None) -> tuple:
    return ("d", department_id)


def team_node(department_id: int | None, team_id: int | None) -> tuple:
    return ("t", department_id, team_id)


# Units --------------------------------------------------------------------------------------------

@dataclass
class Units:
    """Names of departments and teams, and the tree the figures are arranged in."""

    departments: dict[int, str]
    teams: dict[int, tuple[int, str]]  # team id -> (department id, name)

    def name(self, node: tuple) -> str:
        if node == ALL:
            return _("Everyone")
        if node[0] == "d":
            return self.departments.get(node[1], "") if node[1] is not None else _("Without a department of enough "
                                                                                    "people")
        if node[2] is None:
            return _("Teams too small to show separately")
        return self.teams.get(node[2], (None, ""))[1]

    def department_order(self) -> list[int]:
        return sorted(self.departments, key=lambda d: self.departments[d].casefold())

    def teams_of(self, department_id: int) -> list[int]:
        return sorted((t for t, (d, _name) in self.teams.items() if d == department_id),
                      key=lambda t: self.teams[t][1].casefold())


def _units() -> Units:
    rows = db.session.execute(
        select(Department.id, Department.name, Team.id, Team.name).outerjoin(Team, Team.department_id == Department.id)
    ).all()
    departments, teams = {}, {}
    for department_id, department_name, team_id, team_name in rows:
        departments[department_id] = department_name
        if team_id is not None:
            teams[team_id] = (department_id, team_name)
    return Units(departments, teams)


def _tree(nodes: set[tuple]) -> dict[tuple, list[tuple]]:
    children: dict[tuple, list[tuple]] = defaultdict(list)
    for node in sorted(nodes, key=repr):
        if node[0] == "d":
            children[ALL].append(node)
        elif node[0] == "t":
            children[department_node(node[1])].append(node)
    return children


def _nodes_of(department_id: int | None, team_id: int | None) -> tuple[tuple, tuple, tuple]:
    return ALL, department_node(department_id), team_node(department_id, team_id)


# One wave -----------------------------------------------------------------------------------------

@dataclass
class Rate:
    participants: int
    eligible: int
    hidden: bool

    @property
    def percent(self) -> float | None:
        if self.hidden or not self.eligible:
            return None
        return 100 * self.participants / self.eligible


def distribution_key(question: SurveyQuestion) -> str:
    """The hidden-set key of a question's distribution (the share of each answer)."""
    return f"dist:q{question.id}"


@dataclass
class WaveResult:
    wave: object
    groups: dict[tuple, GroupStats]
    hidden: dict[str, set[tuple]]
    comments_hidden: set[tuple]
    rates: dict[tuple, Rate]
    # False while the round is not released: then ``groups`` and ``rates`` are empty and only the
    # number of people who took part in the whole audience is known (``participants`` of ``eligible``).
    released: bool = True
    participants: int = 0
    eligible: int = 0
    complete: set[tuple] = field(default_factory=set)  # groups in which everybody asked has answered

    @classmethod
    def unreleased(cls, wave, participants: int, eligible: int) -> WaveResult:
        return cls(wave, {}, {}, set(), {}, released=False, participants=participants, eligible=eligible)

    def stats(self, node: tuple) -> GroupStats | None:
        return self.groups.get(node)

    def shown(self, node: tuple, metric: str) -> bool:
        group = self.groups.get(node)
        size_key = metric[5:] if metric.startswith("dist:") else metric
        return (self.released and group is not None and node not in self.hidden.get(metric, set())
                and group.sizes().get(size_key, 0) > 0)

    def distribution_shown(self, node: tuple, question: SurveyQuestion) -> bool:
        """Whether the share of each answer to a question may be shown for a node."""
        return self.shown(node, f"q{question.id}") and self.shown(node, distribution_key(question))

    def responses(self, node: tuple) -> int | None:
        """The number of responses of a node, or None when it is hidden."""
        if not self.released or node in self.hidden.get("responses", set()):
            return None
        group = self.groups.get(node)
        return group.n if group else 0

    def value(self, node: tuple, column: Column) -> float | None:
        """A column's figure for a node, or None when it is hidden or there is none."""
        group = self.groups.get(node)
        if group is None or not self.shown(node, column.key):
            return None
        if column.kind == "construct":
            return group.constructs[column.ref].score
        if column.kind == "question":
            return group.questions[column.ref.id].mean
        if column.kind == "readiness":
            if group.adkar is None or not all(self.shown(node, f"c:{e}") for e in stats.ADKAR_ELEMENTS):
                return None
            return group.adkar.readiness
        if column.kind == "enps":
            result = group.enps.get(column.ref.id)
            return result.score if result else None
        return None

    def adkar_shown(self, node: tuple) -> bool:
        return self.shown(node, "adkar") and all(self.shown(node, f"c:{e}") for e in stats.ADKAR_ELEMENTS)

    def comments_shown(self, node: tuple) -> bool:
        group = self.groups.get(node)
        return self.released and group is not None and group.n > 0 and node not in self.comments_hidden


def _wave_result(wave, measures: Measures, replies: list[Reply], people: list[tuple[int, int | None, int | None]],
                 took_part: set[int], min_responses: int, min_comments: int) -> WaveResult:
    # Response rate: participants among the people the survey is meant for, by their current unit.
    eligible: dict[tuple, int] = defaultdict(int)
    joined: dict[tuple, int] = defaultdict(int)
    for user_id, department_id, team_id in people:
        for node in _nodes_of(department_id, team_id):
            eligible[node] += 1
            joined[node] += user_id in took_part
    eligible.setdefault(ALL, 0)
    rate_hidden = hidden_in_tree(dict(eligible), _tree(set(eligible)), ALL, min_responses)
    rates = {node: Rate(joined[node], count, node in rate_hidden) for node, count in eligible.items()}

    by_node: dict[tuple, list[Reply]] = defaultdict(list)
    for reply in replies:
        for node in _nodes_of(reply.department_id, reply.team_id):
            by_node[node].append(reply)
    by_node.setdefault(ALL, [])
    groups = {node: compute(measures, members) for node, members in by_node.items()}
    children = _tree(set(groups))
    # Complete participation: everybody asked in the group answered (a group nobody is counted in
    # any more counts as complete, to be safe). Its answers would be everybody's answers: were they
    # unanimous, any figure would tell each member's answer. So no figure from the answers is shown
    # for it: it counts as a group of one, below every threshold, and so also hides its
    # next-smallest sibling, which keeps the parent's figure from giving it back.
    complete = {node for node, g in groups.items() if g.n > 0 and g.n >= eligible.get(node, 0)}

    def sizes(metric: str) -> dict[tuple, int]:
        result = {node: g.sizes().get(metric, 0) for node, g in groups.items()}
        if metric != "responses":
            result.update({node: 1 for node in complete if result[node] > 0})
        return result

    metrics = set().union(*(g.sizes() for g in groups.values()))
    hidden = {metric: hidden_in_tree(sizes(metric), children, ALL, min_responses) for metric in metrics}
    # Distributions (the share of each answer) need the higher comment threshold.
    for q in measures.questions:
        if q.question_kind != QuestionKind.TEXT:
            hidden[distribution_key(q)] = hidden_in_tree(sizes(f"q{q.id}"), children, ALL, min_comments)
    # Comments are shown for everyone and per department only, from the (higher) comment threshold.
    top = {ALL: children.get(ALL, [])}
    comments_hidden = hidden_in_tree({node: g.n for node, g in groups.items()}, top, ALL, min_comments)
    return WaveResult(wave, groups, hidden, comments_hidden, rates, complete=complete)


# The whole survey ---------------------------------------------------------------------------------

@dataclass
class Row:
    node: tuple
    label: str
    level: int  # 0: department (or everyone), 1: team


@dataclass
class SurveyResults:
    survey: Survey
    measures: Measures
    units: Units
    waves: list[WaveResult]
    wave: WaveResult | None  # the wave looked at
    group: tuple  # the node looked at: everyone or one department
    comments: dict[int, list[str]] | None  # per text question; None when hidden for the group

    @property
    def columns(self) -> list[Column]:
        return self.measures.columns()

    @property
    def released_waves(self) -> list[WaveResult]:
        return [w for w in self.waves if w.released]

    def rows(self) -> list[Row]:
        """Rows of the heatmap and response-rate table: departments with their teams, or the teams of one."""
        if self.wave is None:
            return []
        nodes = set(self.wave.groups) | set(self.wave.rates)
        rows = []
        departments = [self.group[1]] if self.group != ALL else self.units.department_order()
        for department_id in departments:
            d = department_node(department_id)
            if d not in nodes:
                continue
            if self.group == ALL:
                rows.append(Row(d, self.units.name(d), 0))
            for team_id in self.units.teams_of(department_id):
                t = team_node(department_id, team_id)
                if t in nodes:
                    rows.append(Row(t, self.units.name(t), 1))
            rest = team_node(department_id, None)
            if rest in nodes:
                rows.append(Row(rest, self.units.name(rest), 1))
        if self.group == ALL and department_node(None) in nodes:
            rows.append(Row(department_node(None), self.units.name(department_node(None)), 0))
        return rows

    def trend(self) -> list[tuple[object, dict[str, float | None]]]:
        """Per wave, every column's figure for the group looked at (None where hidden).

        A round whose answers were deleted after the retention period gives its stored figures.
        """
        trend = []
        for w in self.released_waves:
            if w.wave.archived_at is not None:
                stored = {row[5]: row[6] for row in self.archived(w.wave, levels=("all", "department"))
                          if self._is_group_row(row)}
                trend.append((w.wave, {c.key: stored.get(c.figure) for c in self.columns}))
            else:
                trend.append((w.wave, {c.key: w.value(self.group, c) for c in self.columns}))
        return trend

    def _is_group_row(self, row: list) -> bool:
        if self.group == ALL:
            return row[2] == "all"
        return row[2] == "department" and row[3] == self.units.name(self.group)

    def archived(self, wave, levels=("all", "department", "team")) -> list[list]:
        """The stored result rows of a round whose answers were deleted, for the group looked at."""
        rows = [row for row in (wave.archived_rows or []) if row[2] in levels]
        if self.group == ALL:
            return rows
        name = self.units.name(self.group)
        return [row for row in rows if row[2] in ("department", "team") and row[3] == name]


def _load_replies(survey: Survey) -> dict[int, list[Reply]]:
    """Every response of the survey with its rated and chosen answers, per wave (one query)."""
    rows = db.session.execute(
        select(SurveyResponse.id, SurveyResponse.wave_id, SurveyResponse.department_id, SurveyResponse.team_id,
               SurveyAnswer.question_id, SurveyAnswer.value, SurveyAnswer.choices)
        .outerjoin(SurveyAnswer, (SurveyAnswer.response_id == SurveyResponse.id) & SurveyAnswer.text.is_(None))
        .where(SurveyResponse.survey_id == survey.id)
    )
    replies: dict[str, Reply] = {}
    waves: dict[int, list[Reply]] = defaultdict(list)
    kinds = {q.id: q.question_kind for q in questions_in_order(survey)}
    for response_id, wave_id, department_id, team_id, question_id, value, choices in rows:
        reply = replies.get(response_id)
        if reply is None:
            reply = replies[response_id] = Reply(department_id, team_id)
            waves[wave_id].append(reply)
        if question_id is None or question_id not in kinds:
            continue
        if kinds[question_id] == QuestionKind.MULTIPLE:
            if choices:
                reply.answers[question_id] = list(choices)
        elif value is not None:
            reply.answers[question_id] = value
    return waves


def _eligible(survey: Survey) -> list[tuple[int, int | None, int | None]]:
    """The people the survey is meant for now, with their department and team (one query)."""
    audience = audience_select(survey).subquery()
    return [tuple(row) for row in db.session.execute(
        select(User.id, Team.department_id, User.team_id).join(audience, audience.c.id == User.id)
        .outerjoin(Team, Team.id == User.team_id))]


def _recorded_unit(people, minimum: int) -> list[tuple[int, int | None, int | None]]:
    """People as their responses are recorded: a unit below the threshold is not named (as in submitting)."""
    team_size: dict[int | None, int] = defaultdict(int)
    department_size: dict[int | None, int] = defaultdict(int)
    for _user, department_id, team_id in people:
        team_size[team_id] += 1
        department_size[department_id] += 1
    result = []
    for user_id, department_id, team_id in people:
        department = department_id if department_id is not None and department_size[department_id] >= minimum else None
        team = team_id if department is not None and team_id is not None and team_size[team_id] >= minimum else None
        result.append((user_id, department, team))
    return result


def survey_results(survey: Survey, wave_number: int | None = None, department_id: int | None = None, *,
                   today: date) -> SurveyResults:
    """All figures of a survey as of ``today``; the page looks at one wave and at everyone or one department.

    Every page, export and metric reads results here: a round that is not released
    (``SurveyWave.released``) gets no figures at all, only its overall number of participants.
    Without a round asked for, the page looks at the current round if it is released, else at the
    latest released one.
    """
    measures = Measures.of(survey)
    units = _units()
    replies = _load_replies(survey)
    people = _recorded_unit(_eligible(survey), survey.min_responses)
    participations: dict[int, set[int]] = defaultdict(set)
    for wave_id, user_id in db.session.execute(
            select(SurveyParticipation.wave_id, SurveyParticipation.user_id)
            .where(SurveyParticipation.survey_id == survey.id)):
        participations[wave_id].add(user_id)
    waves = [_wave_result(w, measures, replies.get(w.id, []), people, participations[w.id], survey.min_responses,
                          survey.min_comments)
             if w.released(today) else WaveResult.unreleased(w, len(participations[w.id]), len(people))
             for w in survey.waves]
    chosen = next((w for w in waves if w.wave.number == wave_number), None)
    if chosen is None and waves:
        current = survey.current_wave(today)
        chosen = next((w for w in waves if w.wave is current), waves[-1])
        if not chosen.released:
            chosen = next((w for w in reversed(waves) if w.released), chosen)
    group = department_node(department_id) if department_id in units.departments else ALL
    comments = None
    if chosen is not None and measures.texts:
        # Read whether or not they may be shown, so that the page runs the same queries either way.
        # Those of a round not released are not even read.
        texts = _comments(survey, chosen.wave, None if group == ALL else department_id) if chosen.released else {}
        comments = texts if chosen.comments_shown(group) else None
    return SurveyResults(survey, measures, units, waves, chosen, group, comments)


def _comments(survey: Survey, wave, department_id: int | None) -> dict[int, list[str]]:
    """Free-text answers of a wave (and department), sorted alphabetically: never in the order given (one query)."""
    stmt = (select(SurveyAnswer.question_id, SurveyAnswer.text)
            .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
            .where(SurveyResponse.survey_id == survey.id, SurveyResponse.wave_id == wave.id,
                   SurveyAnswer.text.is_not(None)))
    if department_id is not None:
        stmt = stmt.where(SurveyResponse.department_id == department_id)
    comments: dict[int, list[str]] = defaultdict(list)
    for question_id, text in db.session.execute(stmt):
        comments[question_id].append(text)
    return {qid: sorted(texts, key=lambda t: (t.casefold(), t)) for qid, texts in comments.items()}


def managed_team_ids(user: User) -> set[int]:
    return set(db.session.scalars(select(team_manager.c.team_id).where(team_manager.c.user_id == user.id)))
