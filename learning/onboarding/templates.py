"""Journey templates and their versions: which template a person gets, editing, and applying a new version.

Every change to a template's tasks makes a new version; running journeys keep their tasks until
the project group applies the current version to them. Services flush; the caller's unit of work
commits.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from learning.audit.services import record
from learning.content import complexity_message, too_complex
from learning.db import db
from learning.errors import NotFound, ServiceError
from learning.i18n import local_today
from learning.onboarding.journeys import task_items
from learning.onboarding.models import (
    DESCRIPTION_MAX,
    NAME_MAX,
    OFFSET_MAX,
    OFFSET_MIN,
    TITLE_MAX,
    Journey,
    JourneyTask,
    JourneyTemplate,
    JourneyTemplateTask,
    JourneyTemplateVersion,
    OwnerRole,
)
from learning.org.models import Department, User
from learning.training.models import Course

logger = logging.getLogger(__name__)


# Which template a person gets ---------------------------------------------------------------


def active_templates(department_ids: Iterable[int | None]) -> dict[int | None, JourneyTemplate]:
    """The active templates of these departments and the active default template, by department id (one query)."""
    departments = {d for d in department_ids if d is not None}
    condition = JourneyTemplate.department_id.is_(None)
    if departments:
        condition = or_(condition, JourneyTemplate.department_id.in_(departments))
    templates = db.session.scalars(select(JourneyTemplate).where(JourneyTemplate.active.is_(True), condition))
    return {t.department_id: t for t in templates}


def choose_template(templates: dict[int | None, JourneyTemplate],
                    department_id: int | None) -> JourneyTemplate | None:
    """The department's template among ``active_templates``, else the default one (None if neither)."""
    return templates.get(department_id) or templates.get(None)


def template_for_department(department_id: int | None) -> JourneyTemplate | None:
    """The department's active template, else the active default template."""
    return choose_template(active_templates({department_id}), department_id)


def current_tasks(template_ids: set[int]) -> dict[int, list[JourneyTemplateTask]]:
    """The current version's tasks of each template (one query)."""
    if not template_ids:
        return {}
    rows = db.session.scalars(
        select(JourneyTemplateTask).join(JourneyTemplate, and_(
            JourneyTemplate.id == JourneyTemplateTask.template_id,
            JourneyTemplate.version == JourneyTemplateTask.version))
        .where(JourneyTemplate.id.in_(template_ids))
        .order_by(JourneyTemplateTask.offset_days, JourneyTemplateTask.position, JourneyTemplateTask.id)
    ).all()
    result: dict[int, list[JourneyTemplateTask]] = defaultdict(list)
    for task in rows:
        result[task.template_id].append(task)
    return result


def task_from(template_task: JourneyTemplateTask, start: date) -> JourneyTask:
    """A journey's task made from a template's task, due relative to the journey's start date."""
    return JourneyTask(
        template_key=template_task.key, position=template_task.position, title=template_task.title,
        description=template_task.description, owner_role=template_task.owner_role,
        offset_days=template_task.offset_days, due_on=start + timedelta(days=template_task.offset_days),
        course_id=template_task.course_id,
    )


# Templates ----------------------------------------------------------------------------------


@dataclass
class TemplateRow:
    template: JourneyTemplate
    tasks: int
    running: int
    outdated: int  # running journeys on an older version


def list_templates() -> list[TemplateRow]:
    """Every template with its task count and running journeys (three queries)."""
    templates = db.session.scalars(
        select(JourneyTemplate).outerjoin(Department, JourneyTemplate.department_id == Department.id)
        .options(joinedload(JourneyTemplate.department))
        .order_by(JourneyTemplate.active.desc(), JourneyTemplate.department_id.is_not(None), Department.name,
                  JourneyTemplate.name)
    ).all()
    tasks = dict(db.session.execute(
        select(JourneyTemplateTask.template_id, func.count())
        .join(JourneyTemplate, and_(JourneyTemplate.id == JourneyTemplateTask.template_id,
                                    JourneyTemplate.version == JourneyTemplateTask.version))
        .group_by(JourneyTemplateTask.template_id)).all())
    running: dict[int, tuple[int, int]] = {}
    for template_id, total, outdated in db.session.execute(
        select(Journey.template_id, func.count(),
               func.sum(case((Journey.template_version < JourneyTemplate.version, 1), else_=0)))
        .join(JourneyTemplate, JourneyTemplate.id == Journey.template_id)
        .where(Journey.closed_at.is_(None)).group_by(Journey.template_id)
    ):
        running[template_id] = (total, int(outdated or 0))
    return [TemplateRow(t, tasks.get(t.id, 0), *running.get(t.id, (0, 0))) for t in templates]


def template_for(template_id: int) -> JourneyTemplate:
    template = db.session.scalar(
        select(JourneyTemplate).where(JourneyTemplate.id == template_id).options(
            joinedload(JourneyTemplate.department), joinedload(JourneyTemplate.it_contact),
            selectinload(JourneyTemplate.tasks).joinedload(JourneyTemplateTask.course),
            selectinload(JourneyTemplate.versions).joinedload(JourneyTemplateVersion.created_by)))
    if template is None:
        raise NotFound(_("This template does not exist."))
    return template


def template_task(template: JourneyTemplate, key: str) -> JourneyTemplateTask:
    task = next((t for t in template.tasks if t.key == key), None)
    if task is None:
        raise NotFound(_("This task does not exist."))
    return task


@dataclass
class TemplateData:
    name: str
    department_id: int | None = None
    description: str = ""
    it_contact_id: int | None = None


@dataclass
class TaskData:
    title: str
    owner_role: str
    offset_days: int
    description: str = ""
    course_id: int | None = None


def _clean_template(data: TemplateData, template: JourneyTemplate | None) -> TemplateData:
    data.name = " ".join((data.name or "").split())
    data.description = (data.description or "").strip()
    if not data.name:
        raise ServiceError(_("Please enter a name."), "name")
    if len(data.name) > NAME_MAX:
        raise ServiceError(_("The name may be at most %(max)d characters long.", max=NAME_MAX), "name")
    if len(data.description) > DESCRIPTION_MAX:
        raise ServiceError(_("The description may be at most %(max)d characters long.", max=DESCRIPTION_MAX),
                           "description")
    if too_complex(data.description):
        raise ServiceError(complexity_message(), "description")
    if data.department_id is not None and db.session.get(Department, data.department_id) is None:
        raise ServiceError(_("Please choose a department."), "department_id")
    if template is None or template.active:
        check_free(data.department_id, template)
    if data.it_contact_id is not None:
        contact = db.session.get(User, data.it_contact_id)
        if contact is None or not contact.active:
            raise ServiceError(_("Please choose an active person."), "it_contact_id")
    return data


def check_free(department_id: int | None, template: JourneyTemplate | None) -> None:
    """One active template per department, and one active default template (``ServiceError`` if taken)."""
    clash = select(JourneyTemplate.id).where(
        JourneyTemplate.active.is_(True),
        JourneyTemplate.department_id == department_id if department_id is not None
        else JourneyTemplate.department_id.is_(None))
    if template is not None:
        clash = clash.where(JourneyTemplate.id != template.id)
    if db.session.scalar(clash) is not None:
        if department_id is None:
            raise ServiceError(_("There is already a default template. Edit it, or choose a department for "
                             "this one."), "department_id")
        raise ServiceError(_("This department already has a template. Edit that one instead."), "department_id")


def _clean_task(data: TaskData) -> TaskData:
    data.title = " ".join((data.title or "").split())
    data.description = (data.description or "").strip()
    if not data.title:
        raise ServiceError(_("Please enter a title."), "title")
    if len(data.title) > TITLE_MAX:
        raise ServiceError(_("The title may be at most %(max)d characters long.", max=TITLE_MAX), "title")
    if len(data.description) > DESCRIPTION_MAX:
        raise ServiceError(_("The description may be at most %(max)d characters long.", max=DESCRIPTION_MAX),
                           "description")
    if too_complex(data.description):
        raise ServiceError(complexity_message(), "description")
    if data.owner_role not in {r.value for r in OwnerRole}:
        raise ServiceError(_("Please choose who does this task."), "owner_role")
    if data.offset_days is None or not OFFSET_MIN <= data.offset_days <= OFFSET_MAX:
        raise ServiceError(_("Please enter a number of days from %(min)d to %(max)d.", min=OFFSET_MIN,
                             max=OFFSET_MAX), "offset_days")
    if data.course_id is not None:
        course = db.session.get(Course, data.course_id)
        if course is None or course.archived_at is not None:
            raise ServiceError(_("Please choose a course that is not withdrawn."), "course_id")
        if data.owner_role != OwnerRole.NEW_HIRE:
            raise ServiceError(_("Only a task of the new hire can be linked to a course: it is done when the "
                             "new hire completes the course."), "course_id")
    return data


def _new_version(actor: User, template: JourneyTemplate, summary: str,
                 change=None) -> JourneyTemplateVersion:
    """Copy the current tasks into version + 1, let ``change`` edit the copies, and make it current."""
    current = db.session.scalars(select(JourneyTemplateTask).where(
        JourneyTemplateTask.template_id == template.id, JourneyTemplateTask.version == template.version)
        .order_by(JourneyTemplateTask.offset_days, JourneyTemplateTask.position, JourneyTemplateTask.id)).all()
    number = template.version + 1
    copies = [JourneyTemplateTask(template_id=template.id, version=number, key=t.key, position=t.position,
                                  title=t.title, description=t.description, owner_role=t.owner_role,
                                  offset_days=t.offset_days, course_id=t.course_id) for t in current]
    if change is not None:
        copies = change(copies, number)
    for position, task in enumerate(sorted(copies, key=lambda t: (t.offset_days, t.position)), start=1):
        task.position = position
    db.session.add_all(copies)
    template.version = number
    version = JourneyTemplateVersion(template_id=template.id, version=number, summary=summary[:500],
                                     created_by_id=getattr(actor, "id", None))
    db.session.add(version)
    db.session.flush()
    db.session.expire(template, ["tasks", "versions"])  # the current tasks and the history changed: read anew
    return version


def create_template(actor: User, data: TemplateData, copy_from: int | None = None) -> JourneyTemplate:
    """A new template (version 1), empty or with the current tasks of another template."""
    data = _clean_template(data, None)
    template = JourneyTemplate(name=data.name, description=data.description, department_id=data.department_id,
                               it_contact_id=data.it_contact_id, version=1)
    db.session.add(template)
    db.session.flush()
    source = db.session.get(JourneyTemplate, copy_from) if copy_from else None
    tasks = current_tasks({source.id}).get(source.id, []) if source else []
    for task in tasks:
        db.session.add(JourneyTemplateTask(
            template_id=template.id, version=1, key=task.key, position=task.position, title=task.title,
            description=task.description, owner_role=task.owner_role, offset_days=task.offset_days,
            course_id=task.course_id))
    summary = (_("Created as a copy of “%(name)s”", name=source.name) if source else _("Created"))
    db.session.add(JourneyTemplateVersion(template_id=template.id, version=1, summary=summary,
                                          created_by_id=getattr(actor, "id", None)))
    record(actor, "onboarding.template_created", template, summary=f"{template.name}: {summary}",
           department_id=template.department_id, copied_from=getattr(source, "id", None), tasks=len(tasks))
    db.session.flush()
    logger.info("Journey template %s created by %s", template.id, getattr(actor, "id", None))
    return template


def update_template(actor: User, template: JourneyTemplate, data: TemplateData) -> JourneyTemplate:
    """Change name, department, description or IT contact; a new IT contact makes a new version."""
    data = _clean_template(data, template)
    changes = []
    if data.name != template.name:
        changes.append("name")
    if data.department_id != template.department_id:
        changes.append("department")
    if data.description != template.description:
        changes.append("description")
    contact_changed = data.it_contact_id != template.it_contact_id
    if not changes and not contact_changed:
        return template
    template.name = data.name
    template.department_id = data.department_id
    template.description = data.description
    if contact_changed:
        template.it_contact_id = data.it_contact_id
        contact = db.session.get(User, data.it_contact_id) if data.it_contact_id else None
        _new_version(actor, template, _("IT and administration tasks now go to %(who)s",
                                        who=contact.full_name if contact else _("every administrator")))
        changes.append("it_contact")
    record(actor, "onboarding.template_updated", template, summary=f"{template.name}: {', '.join(changes)}",
           changes=changes, version=template.version)
    db.session.flush()
    return template


def save_template_task(actor: User, template: JourneyTemplate, key: str | None, data: TaskData) -> str:
    """Add a task or change one; either makes a new version of the template. Returns the task's key."""
    data = _clean_task(data)
    if key is not None:
        template_task(template, key)  # NotFound for a task not in the current version
    key = key or uuid.uuid4().hex
    added = not any(t.key == key for t in template.tasks)

    def change(copies, number):
        task = next((t for t in copies if t.key == key), None)
        if task is None:
            task = JourneyTemplateTask(template_id=template.id, version=number, key=key, position=10_000)
            copies.append(task)
        task.title, task.description, task.owner_role = data.title, data.description, data.owner_role
        if task.offset_days != data.offset_days:
            task.position = 10_000  # at the end of its new day
        task.offset_days, task.course_id = data.offset_days, data.course_id
        return copies

    summary = (_("Task added: %(title)s", title=data.title) if added
               else _("Task changed: %(title)s", title=data.title))
    _new_version(actor, template, summary, change)
    record(actor, "onboarding.template_task_added" if added else "onboarding.template_task_changed", template,
           summary=f"{template.name} v{template.version}: {data.title}", key=key, version=template.version,
           owner_role=data.owner_role, offset_days=data.offset_days, course_id=data.course_id)
    db.session.flush()
    return key


def remove_template_task(actor: User, template: JourneyTemplate, key: str) -> None:
    """Remove a task from the template (a new version); running journeys keep it until the version is applied."""
    task = template_task(template, key)
    title = task.title
    _new_version(actor, template, _("Task removed: %(title)s", title=title),
                 lambda copies, number: [t for t in copies if t.key != key])
    record(actor, "onboarding.template_task_removed", template, summary=f"{template.name} v{template.version}: "
           f"{title}", key=key, version=template.version)
    db.session.flush()


def set_template_active(actor: User, template: JourneyTemplate, active: bool) -> None:
    """Switch a template off (new journeys use the default instead) or on again."""
    if active == template.active:
        return
    if active:
        check_free(template.department_id, template)
    template.active = active
    record(actor, "onboarding.template_reactivated" if active else "onboarding.template_deactivated", template,
           summary=template.name)
    db.session.flush()


# Applying a new version to running journeys ---------------------------------------------------


@dataclass
class ApplyPlan:
    """What applying the current version would change in running journeys."""

    journeys: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    kept_done: int = 0  # tasks removed from the template but kept because they are done
    contact_changed: int = 0

    @property
    def anything(self) -> bool:
        return bool(self.journeys)


_COPIED = ("title", "description", "owner_role", "offset_days", "course_id", "position")


def _plan(template: JourneyTemplate, today: date, write: bool) -> ApplyPlan:
    plan = ApplyPlan()
    journeys = db.session.scalars(
        select(Journey).where(Journey.template_id == template.id, Journey.closed_at.is_(None),
                              Journey.template_version < template.version)
        .options(selectinload(Journey.tasks))
    ).all()
    if not journeys:
        return plan
    current = {t.key: t for t in current_tasks({template.id}).get(template.id, [])}
    done = {item.task.id for items in task_items(list(journeys), today).values() for item in items if item.done}
    for journey in journeys:
        plan.journeys += 1
        by_key = {t.template_key: t for t in journey.tasks if t.template_key}
        for key, source in current.items():
            task = by_key.get(key)
            if task is None:
                plan.added += 1
                if write:
                    journey.tasks.append(task_from(source, journey.start_date))
            elif task.id not in done and any(getattr(task, f) != getattr(source, f) for f in _COPIED):
                plan.changed += 1
                if write:
                    for name in _COPIED:
                        setattr(task, name, getattr(source, name))
                    task.due_on = journey.start_date + timedelta(days=source.offset_days)
        for key, task in by_key.items():
            if key in current:
                continue
            if task.id in done:
                plan.kept_done += 1
            else:
                plan.removed += 1
                if write:
                    journey.tasks.remove(task)
        if journey.it_contact_id != template.it_contact_id:
            plan.contact_changed += 1
        if write:
            journey.it_contact_id = template.it_contact_id
            journey.template_version = template.version
    return plan


def apply_plan(template: JourneyTemplate, today: date) -> ApplyPlan:
    """What applying the current version would change, without changing anything."""
    return _plan(template, today, write=False)


def apply_current_version(actor: User, template: JourneyTemplate, today: date | None = None) -> ApplyPlan:
    """Bring running journeys of older versions to the current one: open tasks are updated, added or removed;
    done tasks stay as they are."""
    today = today or local_today()
    plan = _plan(template, today, write=True)
    if plan.anything:
        record(actor, "onboarding.template_applied", template,
               summary=f"{template.name} v{template.version} → {plan.journeys} journeys",
               version=template.version, journeys=plan.journeys, added=plan.added, changed=plan.changed,
               removed=plan.removed, kept_done=plan.kept_done)
    db.session.flush()
    logger.info("Template %s v%s applied by %s: %s", template.id, template.version, actor.id, plan)
    return plan


# Describing offsets -------------------------------------------------------------------------


def describe_offset(days: int) -> str:
    """An offset from the start date in words, e.g. "5 days before the start date"."""
    if days == 0:
        return _("On the start date")
    if days > 0:
        return ngettext("%(num)d day after the start date", "%(num)d days after the start date", days)
    return ngettext("%(num)d day before the start date", "%(num)d days before the start date", -days)

