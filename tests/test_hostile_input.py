"""Walk the whole URL map and every form with hostile values as every role: never a 5xx, nothing stored.

Hostile values: a NUL byte, other control characters, a right-to-left override, bytes that are
not UTF-8, 100,000 characters, 2⁶⁴, -1 and dates far away. The first four are refused by the
guard in ``learning/guards.py`` with a 400 before any view runs, so nothing at all changes; the
others reach the views and forms, which must answer with a message (or a 404), never a 5xx, and
store nothing when they refuse. Runs on SQLite and, with LEARNING_TEST_DATABASE_URL, on PostgreSQL
(where NUL in text used to end in a 500).
"""

from __future__ import annotations

import functools
import inspect
import itertools
import re
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from flask import url_for
from sqlalchemy import update

from learning.db import db
from learning.org.models import User
from tests.test_access import ROLES, _sample_args, ids  # noqa: F401  (ids is a fixture)
from tests.walk import changed_tables, post_forms, row_counts

BIG = str(2**64)
LONG = "x" * 100_000
FAR_DATES = ("9999-12-31", "0001-01-01")
# Refused by the guard wherever they appear: (name, percent-encoded form of the value)
REFUSED = {
    "nul": quote("ab\x00cd"),
    "escape": quote("ab\x1b[31mcd"),
    "rtl-override": quote("rechnung\u202efdp.exe"),
    "invalid-utf8": "ab%C3%28cd",
}
# Passed on to the views, which must cope: 2⁶⁴ or -1 (taking turns), 100,000 characters; far dates where a view
# reads a date.
NUMBERS = (BIG, "-1")
NOT_STORED = {"audit_log"}  # a refused form may still note that a person opened individual data

INT_PLACEHOLDER = 987654321
TEXT_PLACEHOLDER = "hostile-placeholder"
SKIPPED_FORMS = re.compile(r"/logout\b|/sign-out|/devices")  # would end the walking client's session


PARAMETER_RE = re.compile(r'(?:args\.get|int_arg|page_arg|_day)\(\s*"(\w+)"')
DATE_PARAMETER_RE = re.compile(r'_day\(\s*"(\w+)"')  # query parameters read as dates (the audit log's period)


@functools.cache
def _parameters_read_in(source_file: str, pattern: re.Pattern = PARAMETER_RE) -> tuple[str, ...]:
    return tuple(sorted(set(pattern.findall(Path(source_file).read_text("utf-8")))))


def query_parameters(app, endpoint: str) -> tuple[str, ...]:
    """The query parameters a view's module reads, found in its source (``request.args.get("q"``,
    ``int_arg("team"``, ``page_arg()``), plus ``page``, which every list understands."""
    view = inspect.unwrap(app.view_functions[endpoint])
    return tuple(sorted({"page", *_parameters_read_in(inspect.getsourcefile(view))}))


def _url_with_placeholders(rule, ids) -> tuple[str, list[str], list[str]]:  # noqa: F811
    """A URL of the rule whose int and free-text parts are placeholders, and which parts they are."""
    values = _sample_args(rule, ids)
    ints, texts = [], []
    for name, converter in rule._converters.items():
        if name not in values or rule.endpoint in {"static", "training.media"}:
            continue
        if type(converter).__name__ == "BoundedIntConverter":
            values[name], ints = INT_PLACEHOLDER + len(ints), [*ints, name]
        elif type(converter).__name__ == "UnicodeConverter":
            values[name], texts = f"{TEXT_PLACEHOLDER}-{name}", [*texts, name]
    with_placeholders = url_for(rule.endpoint, **values)
    return with_placeholders, ints, texts


def _client(app, people, login, role):
    client = app.test_client()
    if role != "anonymous":
        login(client, people[role].username)
    return client


@pytest.mark.parametrize("role", ROLES)
def test_hostile_urls_never_give_a_server_error(app, people, ids, login, role):  # noqa: F811
    """Every GET route with hostile path parts and query parameters: 400 for refused characters, 404 for
    ids beyond the database's range, never a 5xx, and nothing stored."""
    client = _client(app, people, login, role)
    before, problems, requests = row_counts(app), [], 0

    def check(url: str, expected: set[int] | None = None):
        nonlocal requests
        requests += 1
        status = client.get(url).status_code
        if status >= 500 or (expected is not None and status not in expected):
            problems.append(f"GET {url[:150]} as {role}: {status}, expected {expected or '< 500'}")

    # The guard's answer cannot depend on the route, so the refused values take turns over the routes: each
    # kind of value is tried in path parts and in query strings of many routes, as every role.
    refused, bad_ids = itertools.cycle(REFUSED.values()), itertools.cycle([BIG, "-1", "0"])
    numbers = itertools.cycle(NUMBERS)
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        with app.test_request_context():
            template, ints, texts = _url_with_placeholders(rule, ids)
            plain = url_for(rule.endpoint, **_sample_args(rule, ids))
        for index in range(len(ints)):
            check(template.replace(str(INT_PLACEHOLDER + index), next(bad_ids)), {404})
        for name in texts:
            placeholder = f"{TEXT_PLACEHOLDER}-{name}"
            check(template.replace(placeholder, next(refused)), {400})
            check(template.replace(placeholder, LONG))
        parameters = query_parameters(app, rule.endpoint)
        value = next(refused)
        check(f"{plain}?{'&'.join(f'{p}={value}' for p in parameters)}", {400})
        for value in (next(numbers), LONG):
            check(f"{plain}?{urlencode(dict.fromkeys(parameters, value))}")
        view_source = inspect.getsourcefile(inspect.unwrap(app.view_functions[rule.endpoint]))
        if dates := _parameters_read_in(view_source, DATE_PARAMETER_RE):
            for value in FAR_DATES:
                check(f"{plain}?{urlencode(dict.fromkeys(dates, value))}")
    assert requests > 300
    assert problems == []
    assert changed_tables(before, row_counts(app), ignore=NOT_STORED) == {}


def _forms_of(client, app, ids) -> dict[tuple, object]:  # noqa: F811
    """Every POST form on every page this client can open, once per action and set of fields."""
    forms = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in {"static", "training.media", "home.favicon"}:
            continue
        with app.test_request_context():
            url = url_for(rule.endpoint, **_sample_args(rule, ids))
        response = client.get(url)
        if response.status_code != 200 or not response.mimetype == "text/html":
            continue
        for form in post_forms(response.get_data(as_text=True)):
            action = form.action or url
            if SKIPPED_FORMS.search(action):
                continue
            key = (action, tuple(sorted({f.name for f in form.fields})))
            forms.setdefault(key, form)
            form.action = action
    return forms


def _hostile_values(field) -> list[str]:
    """The values that pass the guard and make sense to try in a field of this kind."""
    if field.kind in {"date", "datetime-local"}:
        return [*FAR_DATES] if field.kind == "date" else [f"{day}T00:00" for day in FAR_DATES]
    if field.kind in {"number", "hidden"}:
        return [BIG, "-1"]
    if field.kind in {"select", "radio", "checkbox"}:
        return [BIG]
    if "date" in field.name or "due" in field.name:  # dates typed as text (due rules)
        return [LONG, BIG, FAR_DATES[0]]
    return [LONG, BIG]


REFUSED_TEXT = {"nul": "ab\x00cd", "escape": "ab\x1b[31mcd", "rtl-override": "rechnung\u202efdp.exe"}


class FormWalk:
    """Posts to one client's forms; records every answer that breaks the rules in ``problems``."""

    def __init__(self, app, client, role):
        self.app, self.client, self.role = app, client, role
        self.problems: list[str] = []
        self.posts = 0
        self.counts = row_counts(app)

    def post(self, form, body, where: str, *, refused: bool) -> None:
        """POST ``body``; ``refused``: the guard must answer 400 and nothing at all may change."""
        self.posts += 1
        multipart = "multipart" in form.enctype and not refused
        response = self.client.post(form.action, data=dict(body) if multipart else urlencode(body),
                                    content_type="multipart/form-data" if multipart
                                    else "application/x-www-form-urlencoded")
        status, after = response.status_code, row_counts(self.app)
        changed = changed_tables(self.counts, after, ignore=() if refused else NOT_STORED)
        self.counts = after
        where = f"POST {form.action} {where} as {self.role}"
        if status >= 500:
            self.problems.append(f"{where}: {status}")
        elif refused and (status != 400 or changed):
            self.problems.append(f"{where}: {status}, changed {changed} (expected 400, nothing changed)")
        elif status == 200 and 'class="kern-error"' in response.get_data(as_text=True) and changed:
            self.problems.append(f"{where}: refused with a message but changed {changed}")

    def post_raw(self, form, body: str, where: str) -> None:
        """POST an already encoded body (bytes that are not UTF-8): the guard must answer 400, nothing changes."""
        self.posts += 1
        status = self.client.post(form.action, data=body, content_type="application/x-www-form-urlencoded").status_code
        after = row_counts(self.app)
        changed, self.counts = changed_tables(self.counts, after), after
        if status != 400 or changed:
            self.problems.append(f"POST {form.action} {where} as {self.role}: {status}, changed {changed}")


@pytest.mark.parametrize("role", ROLES)
def test_hostile_form_values_never_give_a_server_error(app, people, ids, login, role):  # noqa: F811
    """Every form field with hostile values: refused characters get a 400 and change nothing at all; other
    values get a message (or are accepted), never a 5xx, and a form shown again with an error stored nothing."""
    client = _client(app, people, login, role)
    forms = _forms_of(client, app, ids)
    assert forms, f"no forms found as {role}"
    walk = FormWalk(app, client, role)
    token = client.csrf_token()  # one per session
    refused = itertools.cycle(REFUSED_TEXT.items())  # the guard's answer does not depend on the form: take turns
    for form in forms.values():
        base = [(k, v) for k, v in form.defaults() if k != "csrf_token"] + [("csrf_token", token)]
        editable = form.editable()
        # One of the guard's characters in every field at once (a form without fields gets one more field).
        names = list(dict.fromkeys([k for k, _ in base if k != "csrf_token"] + [f.name for f in editable]))
        name, text = next(refused)
        walk.post(form, [(k, text) for k in names or ["comment"]] + [("csrf_token", token)],
                  f"with {name} in every field", refused=True)
        # Bytes that are not UTF-8 in one field.
        first = editable[0].name if editable else "comment"
        walk.post_raw(form, urlencode([(k, v) for k, v in base if k != first]) + f"&{quote(first)}=ab%C3%28cd",
                      f"with invalid UTF-8 in {first}")
        # One field at a time with values that pass the guard and must be answered by the form.
        for field in editable:
            for value in _hostile_values(field):
                walk.post(form, [(k, v) for k, v in base if k != field.name] + [(field.name, value)],
                          f"{field.name}={value[:20]}", refused=False)
    assert walk.posts > 20
    assert walk.problems == []


@pytest.mark.parametrize(("url", "status"), [
    ("/announcements/feed/ab%00cd.atom", 400),
    ("/notifications/calendar/ab%00cd.ics", 400),
    ("/surveys/99999999999999999999999", 404),
    ("/admin/people/99999999999999999999999", 404),
    ("/accessibility/report?page=ab%00cd", 400),
    ("/learning/verify/ab%E2%80%AEcd", 400),
])
def test_the_reported_urls_get_a_400_or_404_without_signing_in(client, url, status):
    assert client.get(url).status_code == status  # the id is refused by the URL map, before any sign-in check


@pytest.mark.parametrize("url", ["/admin/people?page=99999999999999999999", "/admin/audit/?page=-1",
                                 "/learning/courses/zugang/quiz?attempt=99999999999999999999",
                                 "/learning/rules/new?course=99999999999999999999"])
def test_integer_query_parameters_out_of_range_get_a_400(client, people, ids, login, url):  # noqa: F811
    login(client, "admin")
    assert client.get(url).status_code == 400


@pytest.mark.parametrize(("url", "data"), [
    ("/login", {"username": "anna\x00", "password": "x"}),
    ("/accessibility/report", {"page": "/", "description": "Barriere\x00", "contact": ""}),
    ("/accessibility/report", {"page": "/", "description": "Barriere \u202eexe.pdf", "contact": ""}),
])
def test_refused_characters_get_a_clear_message_in_the_persons_language(app, client, url, data):
    before = row_counts(app)
    response = client.submit(url, data, headers={"Accept-Language": "de"})
    assert response.status_code == 400
    assert "Die Anfrage enthält Zeichen, die nicht angenommen werden können" in response.get_data(as_text=True)
    assert row_counts(app) == before


def test_tab_and_line_breaks_in_a_text_area_are_accepted(app, client):
    response = client.submit("/accessibility/report", {"page": "/", "description": "Zeile 1\r\n\tZeile 2",
                                                        "contact": ""})
    assert response.status_code == 302


def test_no_page_shows_a_text_direction_override(app, client, people, login):
    """A name from an old record or a CSV file keeps its letters but loses the override when shown."""
    with app.app_context():
        db.session.execute(update(User).where(User.id == people["employee"].id)
                           .values(last_name="Rechnung\u202efdp.exe"))
        db.session.commit()
    login(client, "admin")
    page = client.get(f"/admin/people/{people['employee'].id}").get_data(as_text=True)
    assert "Rechnungfdp.exe" in page and "\u202e" not in page


def test_a_cookie_with_a_null_byte_gets_a_400(client):
    client.set_cookie("remember_token", "1|ab\x00cd")
    assert client.get("/accessibility").status_code == 400
