"""One guard for hostile input: characters, integers and dates the platform refuses before any view runs.

- **Characters.** A ``before_request`` hook refuses a request whose path, query string, cookies or
  form values hold invalid UTF-8, a control character (C0 and C1, DEL; tab, line feed and carriage
  return are allowed in form values, where text areas send them) or a bidirectional override
  or isolate (U+202A–U+202E, U+2066–U+2069, which can make text read differently from how it
  is stored, such as ``invoice<U+202E>fdp.exe``). The answer is a 400 page in the person's language
  that says what to remove; the browser's back button brings the filled-in form back. Nothing
  of the request reaches a view, so nothing is stored (PostgreSQL refuses NUL in text, which
  used to end in a 500). Uploaded files are not form values: the CSV import checks its rows.
- **Integers.** The app's ``int`` URL converter accepts only 1 … 2⁶³−1 (every id; anything
  else is a 404), and :func:`int_arg` reads an integer query or form parameter within bounds
  (out of range: 400), so no integer the database cannot hold reaches a query.
- **Dates.** Every date the platform accepts lies between :data:`FIRST_DAY` and
  :data:`LAST_DAY` (1900-01-01 … 2100-12-31): :func:`check_day` for services and the CSV
  import, :class:`learning.forms.DayField` for forms.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import unquote_to_bytes

from flask import abort, current_app, request
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter

MAX_INTEGER = 2**63 - 1  # a BIGINT on PostgreSQL, an INTEGER on SQLite
MAX_PAGE = 1_000_000  # page × page size must stay a number the database can hold as an OFFSET
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2100, 12, 31)

_BIDI = "\u202a-\u202e\u2066-\u2069"
BIDI_CONTROLS = re.compile(f"[{_BIDI}]")  # what templates strip from every value they print
# In the path and the query string nothing but printable text; form values may hold tab, LF and CR.
_REFUSED_IN_URL = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
_REFUSED_IN_FORM = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}]")

REFUSED_MESSAGE = _l(
    "The request contains characters that cannot be accepted: control characters (such as a null byte), "
    "text-direction overrides or bytes that are not valid UTF-8. Please go back, remove them (for example by "
    "typing the text again instead of pasting it) and try again."
)


class BoundedIntConverter(IntegerConverter):
    """The ``int`` converter for ids: 1 … 2⁶³−1, so a number the database cannot hold is a 404, not a 500."""

    def __init__(self, map, fixed_digits=0, min=1, max=MAX_INTEGER, signed=False):  # noqa: A002 (Werkzeug's names)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def int_arg(name: str, default: int | None = None, *, minimum: int = 1, maximum: int = MAX_INTEGER,
            source=None) -> int | None:
    """An integer query parameter (or form value with ``source=request.form``) within bounds.

    Missing, empty or not a whole number: ``default``, as ``request.args.get(name, default, type=int)``
    gives. A whole number outside ``minimum`` … ``maximum``: 400, before it reaches a query.
    """
    raw = (request.args if source is None else source).get(name, "").strip()
    if not re.fullmatch(r"[+-]?[0-9]+", raw):
        return default
    if len(raw) > 20 or not minimum <= int(raw) <= maximum:  # int() of 100,000 digits would raise
        abort(400)
    return int(raw)


def page_arg(name: str = "page", *, source=None) -> int:
    """The page number of a list: 1 if missing or unreadable, 400 if below 1 or absurdly high."""
    return int_arg(name, 1, maximum=MAX_PAGE, source=source)


def check_day(value: date | None) -> date | None:
    """Return ``value`` if it lies in the platform's range of dates; raise ``ValueError`` otherwise."""
    if value is not None and not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"{value.isoformat()} is outside {FIRST_DAY.isoformat()} … {LAST_DAY.isoformat()}")
    return value


def day_in_range(value: date | None) -> bool:
    return value is None or FIRST_DAY <= value <= LAST_DAY


def has_refused_characters(text: str) -> bool:
    """Whether ``text`` holds what no form accepts either: control characters or text-direction overrides.

    For text that comes in another way than a form field (a cell of an uploaded file).
    """
    return _REFUSED_IN_FORM.search(text) is not None


def refused_input() -> str | None:
    """Why the current request is refused, or None: the first offending part of path, query string or form."""
    try:
        path = request.environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8")
        query = unquote_to_bytes(request.query_string.replace(b"+", b" ")).decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return "invalid UTF-8 in the address"
    if "\ufffd" in path:  # a server or client that decoded the path already replaced the bytes it could not read
        return "invalid UTF-8 in the address"
    if _REFUSED_IN_URL.search(path) or _REFUSED_IN_URL.search(query):
        return "control or bidi character in the address"
    if any(_REFUSED_IN_URL.search(value) for value in request.cookies.values()):
        return "control or bidi character in a cookie"  # cookie values are looked up too (remember-me tokens)
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if request.mimetype == "application/x-www-form-urlencoded":
            try:
                unquote_to_bytes(request.get_data(cache=True).replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                return "invalid UTF-8 in the form"
        for key, value in request.form.items(multi=True):
            if _REFUSED_IN_URL.search(key) or _REFUSED_IN_FORM.search(value):
                return "control or bidi character in the form"
            if "\ufffd" in value and request.mimetype == "multipart/form-data":
                return "invalid UTF-8 in the form"  # the multipart parser replaced the bytes it could not decode
        for key, upload in request.files.items(multi=True):
            if _REFUSED_IN_URL.search(key) or _REFUSED_IN_URL.search(upload.filename or ""):
                return "control or bidi character in a file name"
    return None


def refuse_hostile_input():
    """``before_request``: answer 400 to a request with characters the platform does not accept."""
    reason = refused_input()
    if reason is None:
        return None
    current_app.logger.warning("Refused %s %r: %s", request.method, request.path[:200], reason)
    from learning.errors import render_error

    return render_error(400, REFUSED_MESSAGE)
