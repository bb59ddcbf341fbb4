"""The person picker's server side: whom a search finds, shown by name and unit only.

Phase contacts and buddies (later trainers and editors) are chosen with one picker
(``templates/_macros/forms.html``, ``person_picker``; ``static/js/person-picker.js``): a combobox
that asks a JSON endpoint as the person types, and without JavaScript a search field whose button
sends the form back with the matches to tick. Both read :func:`find_people`; a use that may only
pick from some people (a buddy: the new hire's department) passes their ids as ``within``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from flask import jsonify
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from learning.db import db
from learning.org.models import Team, User
from learning.org.search import name_matches, search_text

PICKER_LIMIT = 20  # matches per search: a name to narrow down, not a list to browse
MIN_NEEDLE = 2


@dataclass(frozen=True)
class PickedPerson:
    """What the picker shows of a person: nothing but the name and the unit."""

    id: int
    name: str
    unit: str

    @classmethod
    def of(cls, user: User) -> PickedPerson:
        team = user.team
        unit = f"{team.department.name} / {team.name}" if team is not None else ""
        return cls(user.id, user.full_name, unit)

    def as_json(self) -> dict:
        return {"id": self.id, "name": self.name, "unit": self.unit}


def _people(query) -> list[PickedPerson]:
    query = query.options(joinedload(User.team).joinedload(Team.department)).order_by(
        User.last_name, User.first_name, User.id)
    return [PickedPerson.of(user) for user in db.session.scalars(query)]


def find_people(needle: str | None, *, within: Collection[int] | None = None,
                limit: int = PICKER_LIMIT) -> list[PickedPerson]:
    """Active people whose name contains ``needle`` (at least two characters), by name; at most ``limit``."""
    needle = search_text(needle)
    if len(needle) < MIN_NEEDLE or (within is not None and not within):
        return []
    query = select(User).where(User.active.is_(True), name_matches(needle)).limit(limit)
    if within is not None:
        query = query.where(User.id.in_(list(within)))
    return _people(query)


def people_by_id(ids: Iterable[int], *, within: Collection[int] | None = None) -> list[PickedPerson]:
    """The people with these ids (active or not: a chosen person stays visible until removed), by name."""
    ids = [i for i in ids if isinstance(i, int)]
    if within is not None:
        ids = [i for i in ids if i in within]
    return _people(select(User).where(User.id.in_(ids))) if ids else []


def fill_picker(field, *, within: Collection[int] | None = None, suggested: Iterable[User] = ()) -> None:
    """Offer a ``PersonPickerField`` the people chosen so far and the matches of its search (else ``suggested``)."""
    chosen = people_by_id(field.data or (), within=within)
    if field.query:
        matches = find_people(field.query, within=within)
    else:
        matches = [PickedPerson.of(user) for user in list(suggested)[:PICKER_LIMIT]]
    field.offer(chosen, matches)


def picker_answer(needle: str | None, *, within: Collection[int] | None = None):
    """The JSON answer of a picker's search endpoint: ``{"people": [{id, name, unit}, ...]}``, never cached."""
    response = jsonify(people=[person.as_json() for person in find_people(needle, within=within)])
    response.headers["Cache-Control"] = "no-store"
    return response
