"""Use cases of the programme: manage rollout phases and their FAQ, read the roadmap and a phase page.

Services validate, change and flush (the caller's unit of work commits); a refusal raises a
``ServiceError`` whose message can be shown to the person and whose ``field`` names the form field
at fault (``NotFound`` for a phase or FAQ entry that is not there). Every read runs a
fixed number of queries, whatever the number of phases, courses or assignments.

The roadmap's line of figures per phase is open for other features: register a provider with
``roadmap_figure`` that computes its figure for all phases at once (one GROUP BY query) and
the roadmap shows it, without a change to this module or its template.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from learning.audit.services import record
from learning.content import complexity_message, too_complex
from learning.db import db
from learning.errors import NotFound, ServiceError
from learning.org.models import Department, Team, User
from learning.phases.models import PhaseFaq, PhaseStatus, RolloutPhase
from learning.plugins import discover
from learning.training.models import Assignment, Course

logger = logging.getLogger(__name__)

MAX_SLUG = 60
MAX_TITLE = 200
MAX_TEXT = 20_000
MAX_QUESTION = 300
MAX_ANSWER = 5_000
FIRST_YEAR, LAST_YEAR = 2020, 2035
ROADMAP_UNTIL = "2030-H2"  # the programme's horizon: every administrative process digital by 2030

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PERIOD_RE = re.compile(r"^(\d{4})-H([12])$")
RESERVED_SLUGS = {"new"}  # /phases/new is the form for a new phase


# Validation ------------------------------------------------------------------------------


def period_message() -> str:
    return _("Enter a half-year such as 2026-H1 or 2026-H2, between %(first)d and %(last)d.",
             first=FIRST_YEAR, last=LAST_YEAR)


def parse_period(text: str | None) -> str:
    """Return the half-year in its canonical form ("2026-H2"), or raise ServiceError."""
    match = PERIOD_RE.match((text or "").strip().upper())
    if not match or not FIRST_YEAR <= int(match.group(1)) <= LAST_YEAR:
        raise ServiceError(period_message(), "period")
    return f"{match.group(1)}-H{match.group(2)}"


def period_index(period: str) -> int:
    """Half-years since year 0: consecutive half-years differ by one."""
    year, half = period.split("-H")
    return int(year) * 2 + int(half) - 1


def period_of(index: int) -> str:
    year, half = divmod(index, 2)
    return f"{year}-H{half + 1}"


def period_for(day: date) -> str:
    return f"{day.year}-H{1 if day.month <= 6 else 2}"


def slug_message() -> str:
    return _("Use 2 to %(max)d lower-case letters, digits and hyphens, such as e-akte.", max=MAX_SLUG)


def parse_slug(text: str | None) -> str:
    slug = (text or "").strip().lower()
    if not 2 <= len(slug) <= MAX_SLUG or not SLUG_RE.match(slug):
        raise ServiceError(slug_message(), "slug")
    if slug in RESERVED_SLUGS:
        raise ServiceError(_("This short name is reserved. Please choose another one."), "slug")
    return slug


def _slug_taken(slug: str, phase: RolloutPhase | None) -> bool:
    query = select(RolloutPhase.id).where(RolloutPhase.slug == slug)
    if phase is not None and phase.id is not None:
        query = query.where(RolloutPhase.id != phase.id)
    return db.session.scalar(query) is not None


def _slug_taken_error() -> ServiceError:
    return ServiceError(_("Another phase already has this short name."), "slug")


def _text(value: str | None, maximum: int, field_name: str, required_message: str | None = None) -> str:
    value = (value or "").strip()
    if required_message and not value:
        raise ServiceError(required_message, field_name)
    if len(value) > maximum:
        raise ServiceError(_("Please use at most %(max)d characters (now %(now)d).", max=maximum, now=len(value)),
                         field_name)
    if too_complex(value):
        raise ServiceError(complexity_message(), field_name)
    return value


# Managing phases -------------------------------------------------------------------------


@dataclass
class PhaseData:
    """What the phase form says."""

    slug: str
    title: str
    period: str
    status: str = PhaseStatus.PLANNED.value
    title_en: str | None = None
    go_live: date | None = None
    goals: str = ""
    changes: str = ""
    department_ids: Sequence[int] = ()
    contact_ids: Sequence[int] = ()


def _check(data: PhaseData, phase: RolloutPhase | None) -> PhaseData:
    slug = parse_slug(data.slug)
    title = _text(data.title, MAX_TITLE, "title", _("Please enter a title."))
    title_en = _text(data.title_en, MAX_TITLE, "title_en") or None
    period = parse_period(data.period)
    try:
        status = PhaseStatus(data.status).value
    except ValueError:
        raise ServiceError(_("Please choose a status."), "status") from None
    if data.go_live is not None and not date(FIRST_YEAR, 1, 1) <= data.go_live <= date(LAST_YEAR, 12, 31):
        raise ServiceError(_("Enter a go-live date between %(first)d and %(last)d.", first=FIRST_YEAR, last=LAST_YEAR),
                         "go_live")
    goals = _text(data.goals, MAX_TEXT, "goals")
    changes = _text(data.changes, MAX_TEXT, "changes")
    if _slug_taken(slug, phase):
        raise _slug_taken_error()
    return PhaseData(slug=slug, title=title, title_en=title_en, period=period, status=status, go_live=data.go_live,
                     goals=goals, changes=changes, department_ids=sorted({int(i) for i in data.department_ids}),
                     contact_ids=sorted({int(i) for i in data.contact_ids}))


def _departments(ids: Sequence[int], phase: RolloutPhase | None) -> list[Department]:
    """The chosen departments; an inactive one stays only where the phase already has it."""
    if not ids:
        return []
    kept = {d.id for d in phase.departments} if phase is not None and phase.id is not None else set()
    found = db.session.scalars(select(Department).where(Department.id.in_(ids))).all()
    chosen = [d for d in found if d.active or d.id in kept]
    if len(chosen) != len(ids):
        raise ServiceError(_("Please choose only departments from the list."), "department_ids")
    return chosen


def _contacts(ids: Sequence[int], phase: RolloutPhase | None) -> list[User]:
    """The chosen contact persons: active people (one deactivated since stays until removed)."""
    if not ids:
        return []
    kept = {u.id for u in phase.contacts} if phase is not None and phase.id is not None else set()
    found = db.session.scalars(select(User).where(User.id.in_(ids))).all()
    chosen = [u for u in found if u.active or u.id in kept]
    if len(chosen) != len(ids):
        raise ServiceError(_("Please choose only active people from the list."), "contact_ids")
    return chosen


def _details(phase: RolloutPhase) -> dict:
    return {"slug": phase.slug, "title": phase.title, "title_en": phase.title_en, "period": phase.period,
            "status": phase.status, "go_live": phase.go_live.isoformat() if phase.go_live else None,
            "department_ids": [d.id for d in phase.departments], "contact_ids": [u.id for u in phase.contacts]}


def save_phase(phase: RolloutPhase | None, data: PhaseData, actor: User | None) -> RolloutPhase:
    """Create a phase (``phase`` None) or change one; audit-logged; flushed."""
    data = _check(data, phase)
    departments = _departments(data.department_ids, phase)
    contacts = _contacts(data.contact_ids, phase)
    created = phase is None
    if phase is None:
        phase = RolloutPhase()
        db.session.add(phase)
    before = None if created else _details(phase)
    phase.slug, phase.title, phase.title_en = data.slug, data.title, data.title_en
    phase.period, phase.status, phase.go_live = data.period, data.status, data.go_live
    phase.goals, phase.changes = data.goals, data.changes
    phase.departments, phase.contacts = departments, contacts
    # Worded before the flush: after a failed flush the session is unusable until the unit of work rolls back.
    slug_taken = _slug_taken_error()
    try:
        db.session.flush()
    except IntegrityError:  # the same short name saved at the same moment elsewhere
        raise slug_taken from None
    after = _details(phase)
    changed = sorted(k for k in after if before is None or before[k] != after[k])
    record(actor, "phases.phase_created" if created else "phases.phase_updated", phase,
           summary=f"{phase.slug}: {phase.title}", changed=changed, **after)
    db.session.flush()
    logger.info("Rollout phase %s %s by %s", phase.slug, "created" if created else "updated",
                getattr(actor, "id", None))
    return phase


def phase_by_slug(slug: str) -> RolloutPhase:
    """The phase with its departments, contact persons and FAQ (four queries), or NotFound."""
    phase = db.session.scalar(
        select(RolloutPhase).where(RolloutPhase.slug == slug)
        .options(selectinload(RolloutPhase.departments),
                 # Contacts are shown by name and email: their roles are not needed (and would cost a query).
                 selectinload(RolloutPhase.contacts).lazyload(User.role_rows),
                 selectinload(RolloutPhase.faq))
    )
    if phase is None:
        raise NotFound(_("There is no such rollout phase."))
    return phase


def phase_courses(phase: RolloutPhase) -> list[Course]:
    """The phase's current (not archived) courses, mandatory ones first."""
    return list(db.session.scalars(
        select(Course).where(Course.phase_id == phase.id, Course.archived_at.is_(None))
        .order_by(Course.mandatory.desc(), Course.title)
    ))


def contact_choices() -> list[User]:
    """Active people who can be named as contact persons, by name."""
    return list(db.session.scalars(
        select(User).where(User.active).order_by(User.last_name, User.first_name, User.id)
    ))


def department_choices(phase: RolloutPhase | None) -> list[Department]:
    """Active departments, and the inactive ones the phase still has."""
    kept = [d.id for d in phase.departments] if phase is not None else []
    query = select(Department).order_by(Department.name)
    query = query.where(Department.active | Department.id.in_(kept)) if kept else query.where(Department.active)
    return list(db.session.scalars(query))


# FAQ -------------------------------------------------------------------------------------


def _faq_texts(question: str | None, answer: str | None) -> tuple[str, str]:
    question = _text(question, MAX_QUESTION, "question", _("Please enter the question."))
    answer = _text(answer, MAX_ANSWER, "answer", _("Please enter the answer."))
    return question, answer


def faq_entry(phase: RolloutPhase, faq_id: int) -> PhaseFaq:
    entry = next((e for e in phase.faq if e.id == faq_id), None)
    if entry is None:
        raise NotFound(_("There is no such question in this phase's FAQ."))
    return entry


def add_faq(phase: RolloutPhase, question: str | None, answer: str | None, actor: User | None) -> PhaseFaq:
    """Add a question with its answer at the end of the phase's FAQ; flushed."""
    question, answer = _faq_texts(question, answer)
    position = max((e.position for e in phase.faq), default=0) + 1
    entry = PhaseFaq(question=question, answer=answer, position=position)
    phase.faq.append(entry)
    db.session.flush()
    record(actor, "phases.faq_added", phase, summary=f"{phase.slug}: {question}"[:500], faq_id=entry.id)
    db.session.flush()
    return entry


def update_faq(entry: PhaseFaq, question: str | None, answer: str | None, actor: User | None) -> PhaseFaq:
    """Change a question or its answer; flushed."""
    question, answer = _faq_texts(question, answer)
    entry.question, entry.answer = question, answer
    record(actor, "phases.faq_updated", entry.phase, summary=f"{entry.phase.slug}: {question}"[:500],
           faq_id=entry.id)
    db.session.flush()
    return entry


def remove_faq(entry: PhaseFaq, actor: User | None) -> None:
    """Remove a question from the FAQ; flushed."""
    phase = entry.phase
    record(actor, "phases.faq_removed", phase, summary=f"{phase.slug}: {entry.question}"[:500], faq_id=entry.id)
    phase.faq.remove(entry)
    db.session.flush()


def move_faq(entry: PhaseFaq, up: bool, actor: User | None) -> None:
    """Swap a question with the one before (``up``) or after it; nothing happens at either end."""
    phase = entry.phase
    entries = sorted(phase.faq, key=lambda e: e.position)  # the list keeps its loaded order until expired
    index = entries.index(entry)
    other = index - 1 if up else index + 1
    if not 0 <= other < len(entries):
        return
    entries[index], entries[other] = entries[other], entries[index]
    for position, item in enumerate(entries, start=1):
        item.position = position
    record(actor, "phases.faq_moved", phase, summary=f"{phase.slug}: {entry.question}"[:500],
           faq_id=entry.id, order=[e.id for e in entries])
    db.session.flush()


# The roadmap -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One aggregated number in a phase's line on the roadmap, already worded for the reader."""

    key: str
    label: str
    value: str


FigureProvider = Callable[[list[RolloutPhase]], dict[int, Figure]]
_FIGURE_PROVIDERS: list[tuple[int, FigureProvider]] = []  # (order, provider), in order


def roadmap_figure(order: int = 50) -> Callable[[FigureProvider], FigureProvider]:
    """Register a provider of one figure per phase (decorator); it must run a fixed number of queries.

    A feature registers it in its module ``learning/<feature>/roadmap.py`` (``learning.plugins``).
    The provider gets all phases and returns {phase id: Figure} for the phases that have the
    figure; a phase without data gets no entry, so nothing is shown in place of a number. The
    figures of a phase are shown in ``order``.
    """

    def register(provider: FigureProvider) -> FigureProvider:
        if all(provider is not registered for _order, registered in _FIGURE_PROVIDERS):
            _FIGURE_PROVIDERS.append((order, provider))
            _FIGURE_PROVIDERS.sort(key=lambda entry: entry[0])
        return provider

    return register


@dataclass(frozen=True)
class Completion:
    assignments: int
    completed: int

    @property
    def percent(self) -> int:
        return round(100 * self.completed / self.assignments) if self.assignments else 0


def training_completion(phase_ids: Sequence[int]) -> dict[int, Completion]:
    """Per phase: mandatory assignments of active people in the phase's courses, and how many are done.

    One GROUP BY query for all phases; a phase without mandatory assignments is left out.
    """
    if not phase_ids:
        return {}
    rows = db.session.execute(
        select(Course.phase_id, func.count(Assignment.id), func.count(Assignment.completed_at))
        .select_from(Assignment)
        .join(Course, Course.id == Assignment.course_id)
        .join(User, User.id == Assignment.user_id)
        .where(Course.phase_id.in_(phase_ids), Assignment.mandatory.is_(True), User.active.is_(True))
        .group_by(Course.phase_id)
    ).all()
    return {phase_id: Completion(assignments=total, completed=done) for phase_id, total, done in rows if total}


@dataclass
class HalfYear:
    period: str
    current: bool = False
    entries: list[dict] = field(default_factory=list)


@dataclass
class Roadmap:
    half_years: list[HalfYear]
    mine: list[dict]  # the entries of phases affecting the viewer's department, in timeline order
    department: Department | None

    @property
    def count(self) -> int:
        return sum(len(h.entries) for h in self.half_years)


def _viewer_department(viewer: User | None) -> Department | None:
    if viewer is None or getattr(viewer, "team_id", None) is None:
        return None
    return db.session.scalar(
        select(Department).join(Team, Team.department_id == Department.id).where(Team.id == viewer.team_id)
    )


def roadmap(viewer: User | None, today: date, locale: str = "de") -> Roadmap:
    """All phases by half-year up to 2030 (and beyond where planned), each as a dict others can extend.

    An entry holds ``phase``, ``title``, ``status`` (PhaseStatus), ``affects_me`` and
    ``figures`` (a list of Figure from every registered provider). Queries: phases, their
    departments, the viewer's department, one per figure provider.
    """
    phases = list(db.session.scalars(
        select(RolloutPhase).options(selectinload(RolloutPhase.departments))
        .order_by(RolloutPhase.period, RolloutPhase.go_live.is_(None), RolloutPhase.go_live, RolloutPhase.title)
    ))
    department = _viewer_department(viewer)
    department_id = department.id if department is not None else None
    discover()
    figures = [provider(phases) for _order, provider in _FIGURE_PROVIDERS] if phases else []
    now = period_index(period_for(today))
    start = min([now, *(period_index(p.period) for p in phases)])
    end = max([period_index(ROADMAP_UNTIL), *(period_index(p.period) for p in phases)])
    half_years = {period_of(i): HalfYear(period_of(i), current=i == now) for i in range(start, end + 1)}
    mine = []
    for phase in phases:
        entry = {
            "phase": phase,
            "title": phase.localized_title(locale),
            "status": phase.status_enum,
            "affects_me": phase.affects(department_id),
            "figures": [found[phase.id] for found in figures if phase.id in found],
        }
        half_years[phase.period].entries.append(entry)
        if entry["affects_me"]:
            mine.append(entry)
    return Roadmap(half_years=list(half_years.values()), mine=mine, department=department)
