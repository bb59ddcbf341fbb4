"""Reading a CSV file of people: decoding, the header, and each line's cells checked on their own.

Nothing here touches the database; cross-line checks and the comparison with the people on the
platform are the planning's job (``learning.org.importer.plan``).
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import re
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, BinaryIO

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l

from learning.guards import FIRST_DAY, LAST_DAY, has_refused_characters
from learning.org.services import USERNAME_RE
from learning.roles import Role

if TYPE_CHECKING:
    from learning.org.importer.plan import ImportPlan

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

# An address of this plain form is valid when its domain is (checked once per domain); others take the full check.
PLAIN_EMAIL = re.compile(r"([A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)@([A-Za-z0-9.-]+)")


def _header_key(title: str) -> str:
    return re.sub(r"[\s\-_.*\ufeff\"]+", "", title.casefold())


HEADERS = {_header_key(title): column for column, titles in COLUMNS.items() for title in titles}


def column_title(column: str) -> str:
    """The German and English header of a column, as the documentation names it."""
    german, english = COLUMNS[column][:2]
    return german if german == english else f"{german} / {english}"


def clean_name(value: str) -> str:
    return " ".join(value.split())


@dataclass(frozen=True)
class ImportProblem:
    """Why a line of the file cannot be imported; ``message`` is translated when shown."""

    line: int
    message: object

    def describe(self, filename: str) -> str:
        return f"{filename}:{self.line}: {self.message}"


@dataclass
class CheckedRow:
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



# Limits of one file (LEARNING_IMPORT_MAX_ROWS, LEARNING_IMPORT_MAX_MB): a larger file is refused
# while it is read, so a wrong or huge upload cannot keep a web worker busy for minutes.

def max_rows() -> int:
    return current_app.config["IMPORT_MAX_ROWS"]


def max_mb() -> int:
    return current_app.config["IMPORT_MAX_MB"]


def read_file(data: bytes | BinaryIO, plan: ImportPlan) -> tuple[int, dict[str, int], list[CheckedRow]] | None:
    """The header's line and columns and every line's checked cells, or None when there is nothing to plan.

    ``data`` is the file's content or an open binary file, of which no more than the size limit
    (LEARNING_IMPORT_MAX_MB) is read. Problems go to ``plan.problems``; so do the file's encoding
    and separator. A file over a limit is refused without checking its lines.
    """
    max_bytes = max_mb() * 1024 * 1024
    if not isinstance(data, bytes):
        data = data.read(max_bytes + 1)
    if len(data) > max_bytes:
        plan.problems.append(ImportProblem(data.count(b"\n", 0, max_bytes) + 1, _l(
            "The file is larger than %(mb)d MB; it was read up to this line. Split it into files of at most "
            "%(rows)d people and %(mb)d MB, each with the header line, and import them one after the other.",
            mb=max_mb(), rows=max_rows())))
        plan.over_limit = True
        return None
    decoded = _decode(data)
    if decoded is None:
        plan.problems.append(ImportProblem(1, _l(
            "This is not a CSV text file. In Excel, save the sheet as “CSV UTF-8 (comma delimited)”.")))
        return None
    text, plan.encoding = decoded
    records = _records(text, plan, max_rows())
    if plan.over_limit:
        return None
    if not records:
        plan.problems.append(ImportProblem(1, _l("The file is empty.")))
        return None
    (header_line, header), body = records[0], records[1:]
    columns = _read_header(header_line, header, plan)
    if not any(column in columns for column in COLUMNS):
        return None  # nothing recognisable: per-line messages would only repeat the header problem
    rows = [_check_cells(line, cells, header, columns, plan.problems) for line, cells in body]
    if not rows and not plan.problems:
        plan.problems.append(ImportProblem(header_line + 1, _l("The file has a header but no people.")))
    return header_line, columns, rows


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
                    "after the other.", rows=max_rows, mb=max_mb())))
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


def valid_email(value: str) -> str | None:
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
                 problems: list[ImportProblem]) -> CheckedRow:
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
        return CheckedRow(line)  # nothing of this line is checked further or shown back

    def cell(column: str) -> str:
        index = columns.get(column)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    row = CheckedRow(line)
    email = cell("email")
    if "email" in columns and not email:
        problem(_l("The email address is missing."))
    elif email:
        normalised = valid_email(email)
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
        value = clean_name(cell(column))
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

    row.department, row.team = clean_name(cell("department")), clean_name(cell("team"))
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

    row.manages = [clean_name(t) for t in LIST_SEPARATORS.split(cell("manages")) if t.strip()]

    active = cell("active").casefold()
    if active in YES:
        row.active = True
    elif active in NO:
        row.active = False
    elif active:
        problem(_l("“%(value)s” in the active column is neither yes nor no (ja/nein, 1/0).", value=cell("active")))
    return row


def derive_username(email: str, taken: set[str]) -> str:
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
