"""Import people from a CSV file: read and check everything first, then apply it in one transaction.

``flask users import`` and the admin upload form both call :func:`plan_import` (read, validate,
work out what would change; writes nothing) and :func:`apply_import` (writes the plan, commits
once). Problems carry lazily translated messages, so the upload page shows them in the reader's
language and the CLI in the default one. The column format is documented in docs/csv-import.md.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import BinaryIO

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from learning.audit.services import record
from learning.db import db
from learning.guards import FIRST_DAY, LAST_DAY, has_refused_characters
from learning.org.models import Department, Role, Team, User
from learning.org.services import USERNAME_RE
from learning.org.signals import people_changed

logger = logging.getLogger(__name__)

# Accepted headers per column, German first; matched ignoring case, spaces, hyphens, dots and "*".
COLUMNS: dict[str, tuple[str, ...]] = {
    "email": ("E-Mail", "Email", "E-Mail-Adresse", "Email address"),
    "first_name": ("Vorname", "First name", "Given name"),
    "last_name": ("Nachname", "Last name", "Familienname", "Surname", "Family name"),
    "username": ("Benutzername", "Username", "User name"),
    "employee_number": ("Personalnummer", "Employee number", "Personalnr", "Staff number"),
    "department": ("Abteilung", "Department", "Fachbereich"),
    "team": ("Team", "Sachgebiet"),
    "roles": ("Rollen", "Roles", "Rolle", "Role"),
    "start_date": ("Eintrittsdatum", "Start date"),
    "language": ("Sprache", "Language"),
    "manages": ("Leitet", "Manages"),
    "active": ("Aktiv", "Active"),
}
REQUIRED = ("email", "first_name", "last_name")

ROLE_NAMES: dict[str, Role] = {
    **dict.fromkeys(("employee", "employees", "staff", "mitarbeitende", "mitarbeiter", "mitarbeiterin",
                     "beschäftigte", "beschäftigter"), Role.EMPLOYEE),
    **dict.fromkeys(("manager", "führungskraft", "fuehrungskraft", "führungskräfte"), Role.MANAGER),
    **dict.fromkeys(("project group", "projectgroup", "projektgruppe"), Role.PROJECT_GROUP),
    **dict.fromkeys(("admin", "administrator", "administration", "administratorin"), Role.ADMIN),
}
LANGUAGES = {"de": "de", "deutsch": "de", "german": "de", "en": "en", "english": "en", "englisch": "en"}
YES = {"ja", "j", "yes", "y", "1", "true", "wahr", "x"}
NO = {"nein", "n", "no", "0", "false", "falsch"}

ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
GERMAN_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
MIDNIGHT = re.compile(r"\s+0?0:00(:00)?$")  # "2025-03-01 00:00:00" as some exports write dates
LIST_SEPARATORS = re.compile(r"[|\n]")
ROLE_SEPARATORS = re.compile(r"[|,;\n]")

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"

# An address of this plain form is valid when its domain is (checked once per domain); others take the full check.
PLAIN_EMAIL = re.compile(r"([A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)@([A-Za-z0-9.-]+)")

TeamKey = tuple[str, str]  # (department name, team name), both casefolded


def _header_key(title: str) -> str:
    return re.sub(r"[\s\-_.*\ufeff\"]+", "", title.casefold())


HEADERS = {_header_key(title): column for column, titles in COLUMNS.items() for title in titles}


def column_title(column: str) -> str:
    """The German and English header of a column, as the documentation names it."""
    german, english = COLUMNS[column][:2]
    return german if german == english else f"{german} / {english}"


def _name(value: str) -> str:
    return " ".join(value.split())


@dataclass(frozen=True)
class ImportProblem:
    """Why a line of the file cannot be imported; ``message`` is translated when shown."""

    line: int
    message: object

    def describe(self, filename: str) -> str:
        return f"{filename}:{self.line}: {self.message}"


@dataclass
class PlannedRow:
    """What one line of the file does to one person."""

    line: int
    email: str
    name: str
    outcome: str = UNCHANGED
    user: User | None = None
    values: dict[str, object] = field(default_factory=dict)  # column attributes to set
    team: TeamKey | None = None
    set_team: bool = False
    roles: frozenset[Role] | None = None  # None: keep the person's roles
    manages: frozenset[TeamKey] | None = None  # None: keep the teams the person leads
    active: bool | None = None  # None: keep


@dataclass(frozen=True)
class PersonRef:
    """Who a report line is about, copied before the commit expires the loaded people."""

    email: str
    first_name: str
    last_name: str

    @classmethod
    def of(cls, user: User) -> PersonRef:
        return cls(user.email, user.first_name, user.last_name)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass
class KeptActive:
    person: PersonRef
    reason: object


@dataclass
class ImportPlan:
    """The checked content of a file and what importing it changes; nothing written yet."""

    filename: str
    deactivate_missing: bool = False
    encoding: str = "UTF-8"
    delimiter: str = ","
    problems: list[ImportProblem] = field(default_factory=list)
    rows: list[PlannedRow] = field(default_factory=list)
    deactivate: list[User] = field(default_factory=list, repr=False)
    deactivated: list[PersonRef] = field(default_factory=list)  # the same people, for reports
    kept_active: list[KeptActive] = field(default_factory=list)
    new_departments: dict[str, str] = field(default_factory=dict)  # key -> name
    new_teams: dict[TeamKey, tuple[str, str]] = field(default_factory=dict)  # key -> (department, team)
    applied: bool = False
    over_limit: bool = False  # refused unread: larger than the limits of one file
    departments: dict[str, Department] = field(default_factory=dict, repr=False)
    teams: dict[TeamKey, Team] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def problem_line_count(self) -> int:
        """How many lines of the file have at least one problem."""
        return len({problem.line for problem in self.problems})

    def problem_lines(self) -> list[str]:
        """Every problem as ``FILE:LINE: reason``, in line order."""
        return [p.describe(self.filename) for p in self.problems]

    def count(self, outcome: str) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)

    @property
    def counts(self) -> dict[str, int]:
        return {
            CREATED: self.count(CREATED), UPDATED: self.count(UPDATED), UNCHANGED: self.count(UNCHANGED),
            "deactivated": len(self.deactivate),
        }

    def changes(self, limit: int) -> list[PlannedRow]:
        """The first ``limit`` lines that create or update a person, in line order."""
        changes: list[PlannedRow] = []
        for row in self.rows:
            if len(changes) == limit:
                break
            if row.outcome != UNCHANGED:
                changes.append(row)
        return changes

    @property
    def steps(self) -> int:
        """How many steps :func:`apply_import` reports to its progress callback."""
        return len(self.rows) + len(self.deactivate)

    def summary(self) -> str:
        """One English line for the audit log and the server log."""
        counts = self.counts
        text = (f"{self.filename} ({self.encoding}): {counts[CREATED]} created, {counts[UPDATED]} updated, "
                f"{counts[UNCHANGED]} unchanged, {counts['deactivated']} deactivated")
        if self.new_departments or self.new_teams:
            text += f"; {len(self.new_departments)} departments and {len(self.new_teams)} teams created"
        return text


@dataclass
class _Row:
    """The cells of one line, checked one by one (cross-line checks come later)."""

    line: int
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    username: str = ""
    employee_number: str | None = None
    department: str = ""
    team: str = ""
    roles: set[Role] = field(default_factory=set)
    start_date: date | None = None
    locale: str | None = None
    manages: list[str] = field(default_factory=list)
    active: bool | None = None


class ImportFailed(Exception):
    """Applying a checked plan failed (e.g. someone changed the same people meanwhile); nothing was written."""


# Reading ---------------------------------------------------------------------------------------

def _decode(data: bytes) -> tuple[str, str] | None:
    """Text and encoding name: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            return None
    if b"\x00" in data:
        return None  # a spreadsheet, PDF or image, not text
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        return None


def _records(text: str, plan: ImportPlan, max_rows: int) -> list[tuple[int, list[str]]]:
    """The non-empty records of the text, each with the physical line number it starts on.

    Reading stops at the first record beyond the header and ``max_rows`` people (a problem).
    """
    first_line = text.split("\n", 1)[0].strip("\r\ufeff ")
    sep_line = re.fullmatch(r'"?sep=(.)"?', first_line)  # Excel's hint line: sep=;
    if sep_line:
        plan.delimiter = sep_line.group(1)
    else:
        counts = {d: first_line.count(d) for d in (";", ",", "\t")}
        plan.delimiter = max(counts, key=counts.get) if any(counts.values()) else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=plan.delimiter)
    records, previous = [], 0
    try:
        for cells in reader:
            line, previous = previous + 1, reader.line_num
            if (sep_line and line == 1) or not any(c.strip() for c in cells):
                continue
            if len(records) > max_rows:  # the header and max_rows people are kept
                plan.problems.append(ImportProblem(line, _l(
                    "The file has more than %(rows)d people; it was read up to this line. Split it into files of "
                    "at most %(rows)d people and %(mb)d MB, each with the header line, and import them one "
                    "after the other.", rows=max_rows, mb=_max_mb())))
                plan.over_limit = True
                break
            records.append((line, cells))
    except csv.Error as exc:
        plan.problems.append(ImportProblem(previous + 1, _l("The line cannot be read as CSV: %(reason)s",
                                                            reason=str(exc))))
    return records


def _read_header(line: int, header: list[str], plan: ImportPlan) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, title in enumerate(header):
        if not title.strip():
            continue  # Excel writes trailing separators; a value below an empty header is reported per row
        column = HEADERS.get(_header_key(title))
        if column is None:
            plan.problems.append(ImportProblem(line, _l(
                "Unknown column “%(title)s”. The accepted columns are described in the import instructions.",
                title=title.strip())))
        elif column in columns:
            plan.problems.append(ImportProblem(line, _l("The column “%(title)s” appears twice.",
                                                        title=title.strip())))
        else:
            columns[column] = index
    for column in REQUIRED:
        if column not in columns:
            plan.problems.append(ImportProblem(line, _l("The required column “%(column)s” is missing.",
                                                        column=column_title(column))))
    return columns


def _parse_date(value: str) -> date | None:
    value = MIDNIGHT.sub("", value)
    for pattern, order in ((ISO_DATE, (0, 1, 2)), (GERMAN_DATE, (2, 1, 0))):
        match = pattern.fullmatch(value)
        if match:
            year, month, day = (int(match.group(i + 1)) for i in order)
            if not FIRST_DAY.year <= year <= LAST_DAY.year:  # the platform's range of dates
                return None
            try:
                return date(year, month, day)
            except ValueError:
                return None
    return None


@functools.lru_cache(maxsize=1024)
def _valid_domain(domain: str) -> str | None:
    """The normalised domain of an email address, or None; checked once per domain of a file."""
    try:
        return validate_email(f"a@{domain}", check_deliverability=False).domain
    except EmailNotValidError:
        return None


def _valid_email(value: str) -> str | None:
    """The address in lower case as ``validate_email`` normalises it, or None if it is not valid.

    Plain ASCII addresses (nearly all of an HR export) skip the full check of every address:
    checking each one costs more than the rest of a line.
    """
    match = PLAIN_EMAIL.fullmatch(value)
    if match and len(match.group(1)) <= 64 and len(value) <= 254:
        domain = _valid_domain(match.group(2))
        return None if domain is None else f"{match.group(1)}@{domain}".lower()
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def _check_cells(line: int, cells: list[str], header: list[str], columns: dict[str, int],
                 problems: list[ImportProblem]) -> _Row:
    """Check each cell of a line on its own; problems are collected, never raised."""

    def problem(message):
        problems.append(ImportProblem(line, message))

    if len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
        problem(_l("The line has %(found)d fields but the header has %(expected)d. Does a value containing "
                   "the separator lack quotes?", found=len(cells), expected=len(header)))
    if any(i < len(cells) and cells[i].strip() and not title.strip() for i, title in enumerate(header)):
        problem(_l("The line has a value in a column without a header."))
    if any(has_refused_characters(c) for c in cells):  # a NUL byte would fail on PostgreSQL
        problem(_l("The line contains characters that cannot be accepted: control characters (such as a null "
                   "byte) or text-direction overrides. Remove them and import the file again."))
        return _Row(line)  # nothing of this line is checked further or shown back

    def cell(column: str) -> str:
        index = columns.get(column)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    row = _Row(line)
    email = cell("email")
    if "email" in columns and not email:
        problem(_l("The email address is missing."))
    elif email:
        normalised = _valid_email(email)
        if normalised is None:
            problem(_l("“%(value)s” is not a valid email address.", value=email))
        else:
            row.email = normalised
            if len(row.email) > 254:
                problem(_l("The email address is longer than %(n)d characters.", n=254))

    for column, missing, too_long in (
        ("first_name", _l("The first name is missing."), _l("The first name is longer than %(n)d characters.", n=100)),
        ("last_name", _l("The last name is missing."), _l("The last name is longer than %(n)d characters.", n=100)),
    ):
        value = _name(cell(column))
        if column in columns and not value:
            problem(missing)
        elif len(value) > 100:
            problem(too_long)
        setattr(row, column, value)

    row.username = cell("username").lower()
    if row.username and not USERNAME_RE.match(row.username):
        problem(_l("“%(value)s” is not a valid user name: use 2 to 80 lower-case letters, digits, dots, "
                   "hyphens or underscores, starting with a letter or digit.", value=cell("username")))

    row.employee_number = cell("employee_number") or None
    if row.employee_number and len(row.employee_number) > 40:
        problem(_l("The employee number is longer than %(n)d characters.", n=40))

    row.department, row.team = _name(cell("department")), _name(cell("team"))
    if row.team and not row.department:
        problem(_l("The team “%(team)s” needs a department: the department is empty.", team=row.team))
    for value in (row.department, row.team):
        if len(value) > 120:
            problem(_l("“%(value)s” is longer than %(n)d characters.", value=value, n=120))

    for token in ROLE_SEPARATORS.split(cell("roles")):
        token = token.strip()
        if not token:
            continue
        role = ROLE_NAMES.get(" ".join(token.casefold().replace("_", " ").replace("-", " ").split()))
        if role is None:
            problem(_l("Unknown role “%(value)s”. Use employee, manager, project group or admin "
                       "(or Mitarbeitende, Führungskraft, Projektgruppe, Administration).", value=token))
        else:
            row.roles.add(role)

    start = cell("start_date")
    if start:
        row.start_date = _parse_date(start)
        if row.start_date is None:
            problem(_l("“%(value)s” is not a valid date. Write it as YYYY-MM-DD or DD.MM.YYYY.", value=start))

    language = cell("language")
    if language:
        row.locale = LANGUAGES.get(re.split(r"[-_]", language.casefold())[0])
        if row.locale is None:
            problem(_l("Unknown language “%(value)s”. Use de or en.", value=language))

    row.manages = [_name(t) for t in LIST_SEPARATORS.split(cell("manages")) if t.strip()]

    active = cell("active").casefold()
    if active in YES:
        row.active = True
    elif active in NO:
        row.active = False
    elif active:
        problem(_l("“%(value)s” in the active column is neither yes nor no (ja/nein, 1/0).", value=cell("active")))
    return row


def _derive_username(email: str, taken: set[str]) -> str:
    """Like ``suggest_username``, but against names already known, so 1,000 rows cost no queries."""
    base = re.sub(r"[^a-z0-9._-]", "", email.split("@", 1)[0].lower())[:70] or "user"
    if not base[0].isalnum():
        base = "u" + base
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}{n}"
    taken.add(candidate)
    return candidate


# Planning --------------------------------------------------------------------------------------

# Limits of one file (LEARNING_IMPORT_MAX_ROWS, LEARNING_IMPORT_MAX_MB): a larger file is refused
# while it is read, so a wrong or huge upload cannot keep a web worker busy for minutes.

def _max_rows() -> int:
    return current_app.config["IMPORT_MAX_ROWS"]


def _max_mb() -> int:
    return current_app.config["IMPORT_MAX_MB"]


def plan_import(data: bytes | BinaryIO, filename: str, actor: User | None = None,
                deactivate_missing: bool = False) -> ImportPlan:
    """Read and check a whole CSV file and work out what importing it would change; write nothing.

    ``data`` is the file's content or an open binary file, of which no more than the size limit
    (LEARNING_IMPORT_MAX_MB) is read. Every problem is collected (``plan.problems``); a plan with
    problems must not be applied. A file over a limit is refused without checking its lines.
    """
    plan = ImportPlan(filename=filename, deactivate_missing=deactivate_missing)
    max_bytes = _max_mb() * 1024 * 1024
    if not isinstance(data, bytes):
        data = data.read(max_bytes + 1)
    if len(data) > max_bytes:
        plan.problems.append(ImportProblem(data.count(b"\n", 0, max_bytes) + 1, _l(
            "The file is larger than %(mb)d MB; it was read up to this line. Split it into files of at most "
            "%(rows)d people and %(mb)d MB, each with the header line, and import them one after the other.",
            mb=_max_mb(), rows=_max_rows())))
        plan.over_limit = True
        return plan
    decoded = _decode(data)
    if decoded is None:
        plan.problems.append(ImportProblem(1, _l(
            "This is not a CSV text file. In Excel, save the sheet as “CSV UTF-8 (comma delimited)”.")))
        return plan
    text, plan.encoding = decoded
    records = _records(text, plan, _max_rows())
    if plan.over_limit:
        return plan
    if not records:
        plan.problems.append(ImportProblem(1, _l("The file is empty.")))
        return plan
    (header_line, header), body = records[0], records[1:]
    columns = _read_header(header_line, header, plan)
    if not any(column in columns for column in COLUMNS):
        return plan  # nothing recognisable: per-line messages would only repeat the header problem
    rows = [_check_cells(line, cells, header, columns, plan.problems) for line, cells in body]
    if not rows and not plan.problems:
        plan.problems.append(ImportProblem(header_line + 1, _l("The file has a header but no people.")))
    _plan_rows(plan, rows, columns, actor, header_line)
    plan.problems.sort(key=lambda p: p.line)
    return plan


def _plan_rows(plan: ImportPlan, rows: list[_Row], columns: dict[str, int], actor: User | None,
               header_line: int) -> None:
    """Check the lines against each other and the database (loaded once) and plan each change."""
    users = db.session.scalars(select(User).options(selectinload(User.managed_teams))).all()
    departments = db.session.scalars(select(Department)).all()
    teams = db.session.scalars(select(Team)).all()
    plan.departments = {d.name.casefold(): d for d in departments}
    department_names = {d.id: d.name.casefold() for d in departments}
    plan.teams = {(department_names[t.department_id], t.name.casefold()): t for t in teams}
    team_keys = {t.id: key for key, t in plan.teams.items()}
    by_email = {u.email.lower(): u for u in users}
    by_username = {u.username.lower(): u for u in users}
    by_number = {u.employee_number: u for u in users if u.employee_number}

    def problem(row: _Row, message) -> None:
        plan.problems.append(ImportProblem(row.line, message))

    # Departments and teams the file creates, so that "manages" may name them.
    for row in rows:
        if row.department and row.department.casefold() not in plan.departments:
            plan.new_departments.setdefault(row.department.casefold(), row.department)
        if row.department and row.team:
            key = (row.department.casefold(), row.team.casefold())
            if key not in plan.teams:
                existing = plan.departments.get(key[0])
                department = existing.name if existing else plan.new_departments[key[0]]
                plan.new_teams.setdefault(key, (department, row.team))

    def known_team(key: TeamKey) -> bool:
        return key in plan.teams or key in plan.new_teams

    seen_email: dict[str, int] = {}
    seen_username: dict[str, int] = {}
    seen_number: dict[str, int] = {}
    planned: list[tuple[_Row, PlannedRow]] = []
    for row in rows:
        person = by_email.get(row.email) if row.email else None
        if row.email:
            if row.email in seen_email:
                problem(row, _l("The email address %(email)s already appears on line %(line)d.",
                                email=row.email, line=seen_email[row.email]))
            seen_email.setdefault(row.email, row.line)
        if row.username:
            holder = by_username.get(row.username)
            if row.username in seen_username:
                problem(row, _l("The user name “%(value)s” already appears on line %(line)d.",
                                value=row.username, line=seen_username[row.username]))
            elif holder is not None and holder is not person:
                problem(row, _l("The user name “%(value)s” already belongs to another person (%(email)s).",
                                value=row.username, email=holder.email))
            seen_username.setdefault(row.username, row.line)
        if row.employee_number:
            holder = by_number.get(row.employee_number)
            if row.employee_number in seen_number:
                problem(row, _l("The employee number %(value)s already appears on line %(line)d.",
                                value=row.employee_number, line=seen_number[row.employee_number]))
            elif holder is not None and holder is not person:
                problem(row, _l("The employee number %(value)s already belongs to another person (%(email)s).",
                                value=row.employee_number, email=holder.email))
            seen_number.setdefault(row.employee_number, row.line)

        # The department where "manages" looks for teams named without their department.
        if "department" in columns:
            home = row.department.casefold() or None
        else:
            home = team_keys[person.team_id][0] if person is not None and person.team_id else None
        manages: set[TeamKey] = set()
        for entry in row.manages:
            key = _resolve_team(entry, home, known_team)
            if key is None and home is None and "/" not in entry:
                problem(row, _l("Write the team “%(team)s” as Department/Team: this person has no department.",
                                team=entry))
            elif key is None:
                problem(row, _l("The team “%(team)s” does not exist and is not created by this file.", team=entry))
            else:
                manages.add(key)

        target = PlannedRow(line=row.line, email=row.email, name=f"{row.first_name} {row.last_name}".strip(),
                            user=person)
        values = {"email": row.email, "first_name": row.first_name, "last_name": row.last_name}
        if row.username:
            values["username"] = row.username
        for column, attribute, value in (("employee_number", "employee_number", row.employee_number),
                                         ("start_date", "start_date", row.start_date),
                                         ("language", "locale", row.locale)):
            if column in columns:
                values[attribute] = value
        target.values = values
        if "team" in columns:
            target.set_team = True
            target.team = (row.department.casefold(), row.team.casefold()) if row.team else None
        if "manages" in columns:
            target.manages = frozenset(manages)
        current_roles = person.roles if person is not None else frozenset({Role.EMPLOYEE})
        roles = set(row.roles) if "roles" in columns else set(current_roles)
        if target.manages:
            roles.add(Role.MANAGER)
        target.roles = frozenset(roles | {Role.EMPLOYEE})
        target.active = row.active if person is not None else (row.active is not False)

        if actor is not None and person is not None and person.id == actor.id:
            if Role.ADMIN not in target.roles:
                problem(row, _l("You cannot take the administrator role away from yourself."))
            if target.active is False:
                problem(row, _l("You cannot deactivate your own account."))
        planned.append((row, target))

    # New people get a user name derived from their email address, avoiding every name in use.
    taken = set(by_username) | set(seen_username)
    for row, target in planned:
        if target.user is None and not row.username and row.email:
            target.values["username"] = _derive_username(row.email, taken)

    for _row, target in planned:
        target.outcome = _outcome(target, team_keys)
        plan.rows.append(target)

    _plan_deactivations(plan, users, actor, header_line)


def _resolve_team(entry: str, home: str | None, known_team: Callable[[TeamKey], bool]) -> TeamKey | None:
    """Find "Team" in the person's department, or "Department/Team" (names may contain "/" too)."""
    folded = entry.casefold()
    if home is not None and known_team((home, folded)):
        return home, folded
    for match in re.finditer("/", folded):
        key = (_name(folded[:match.start()]), _name(folded[match.end():]))
        if known_team(key):
            return key
    return None


def _outcome(target: PlannedRow, team_keys: dict[int, TeamKey]) -> str:
    user = target.user
    if user is None:
        return CREATED
    changed = any(getattr(user, attribute) != value for attribute, value in target.values.items())
    changed |= target.set_team and (team_keys.get(user.team_id) if user.team_id else None) != target.team
    changed |= target.roles is not None and target.roles != user.roles
    changed |= target.manages is not None and target.manages != {team_keys[t.id] for t in user.managed_teams}
    changed |= target.active is not None and target.active != user.active
    return UPDATED if changed else UNCHANGED


def _plan_deactivations(plan: ImportPlan, users: list[User], actor: User | None, header_line: int) -> None:
    """Who --deactivate-missing deactivates; the acting admin and the last active admin are kept."""
    in_file = {row.email for row in plan.rows}
    planned = {row.user.id: row for row in plan.rows if row.user is not None}

    def stays_admin(user: User) -> bool:
        row = planned.get(user.id)
        if row is None:
            return user.active and user.has_role(Role.ADMIN)
        return bool(row.active if row.active is not None else user.active) and Role.ADMIN in row.roles

    admins_before = sum(1 for u in users if u.active and u.has_role(Role.ADMIN))
    admins_after = sum(1 for u in users if stays_admin(u)) + sum(
        1 for row in plan.rows if row.user is None and row.active and Role.ADMIN in row.roles)
    if admins_before and not admins_after:
        plan.problems.append(ImportProblem(header_line, _l(
            "After this import no active administrator would remain.")))
    if not plan.deactivate_missing:
        return
    for user in sorted(users, key=lambda u: u.id):
        if not user.active or user.email.lower() in in_file:
            continue
        if actor is not None and user.id == actor.id:
            plan.kept_active.append(KeptActive(PersonRef.of(user), _l("You are signed in as this person.")))
        elif user.has_role(Role.ADMIN) and admins_after <= 1:
            plan.kept_active.append(KeptActive(PersonRef.of(user), _l("The last active administrator is kept.")))
        else:
            if user.has_role(Role.ADMIN):
                admins_after -= 1
            plan.deactivate.append(user)
            plan.deactivated.append(PersonRef.of(user))


# Applying --------------------------------------------------------------------------------------

def apply_import(plan: ImportPlan, actor: User | None = None,
                 on_step: Callable[[int], None] | None = None) -> ImportPlan:
    """Write a checked plan in one transaction with one audit entry; roll back on any error."""
    if plan.problems:
        raise ValueError("a plan with problems cannot be applied")
    step = on_step or (lambda n: None)
    try:
        departments = dict(plan.departments)
        for key, name in plan.new_departments.items():
            departments[key] = Department(name=name)
            db.session.add(departments[key])
        teams = dict(plan.teams)
        for key, (_department, name) in plan.new_teams.items():
            teams[key] = Team(name=name, department=departments[key[0]])
            db.session.add(teams[key])
        db.session.flush()
        changed = []
        for row in plan.rows:
            if row.outcome != UNCHANGED:
                changed.append(_apply_row(row, teams))
            step(1)
        for user in plan.deactivate:
            user.deactivate()
            step(1)
        db.session.flush()
        changed_ids = {user.id for user in changed} | {user.id for user in plan.deactivate}
        record(actor, "user.import", summary=plan.summary(), filename=plan.filename, encoding=plan.encoding,
               departments_created=sorted(plan.new_departments.values()),
               teams_created=sorted(f"{d} / {t}" for d, t in plan.new_teams.values()), **plan.counts)
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        logger.exception("Import of %s failed; nothing was written", plan.filename)
        raise ImportFailed(str(exc)) from exc
    plan.applied = True
    logger.info("Import by %s: %s", getattr(actor, "id", None), plan.summary())
    people_changed.send(current_app._get_current_object(), user_ids=changed_ids)
    return plan


def _apply_row(row: PlannedRow, teams: dict[TeamKey, Team]) -> User:
    user = row.user or User()
    for attribute, value in row.values.items():
        setattr(user, attribute, value)
    if row.set_team:
        user.team_id = teams[row.team].id if row.team else None
    if row.roles is not None:
        user.roles = row.roles
    if row.manages is not None:
        user.managed_teams = [teams[key] for key in sorted(row.manages)]
    if row.user is None:
        user.active = row.active is not False
        if not user.active:
            user.deactivate()
        db.session.add(user)
    elif row.active is True and not user.active:
        user.reactivate()
    elif row.active is False and user.active:
        user.deactivate()
    return user
