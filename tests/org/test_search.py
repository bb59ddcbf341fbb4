"""The one person search: ``_``, ``%`` and the escape character match only themselves, everywhere."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from learning.audit.models import AuditEntry
from learning.db import db
from learning.messaging.models import Outbox
from learning.org.models import User
from learning.org.search import person_matches, search_text
from learning.search import MAX_NEEDLE, escape_like


@pytest.fixture
def odd_people(app, people, make_user):
    """People whose names hold LIKE's special characters, and one each that a wildcard would match too."""
    return {
        "under": make_user("anna_berg", first_name="Anna", last_name="Berg_Ost"),
        "percent": make_user("rate100pct", first_name="Rita", last_name="100%Sicher", email="rita@example.org"),
        "backslash": make_user("bs", first_name="Back", last_name="Sla\\sh", email="bs@example.org"),
        "lookalike": make_user("annaxberg", first_name="Anna", last_name="Bergxost", email="ab@example.org"),
    }


def _found(app, needle: str) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(User.username).where(person_matches(search_text(needle)))))


def test_escape_like_escapes_the_wildcards_and_the_escape_character():
    assert escape_like("a_b%c\\d") == "a\\_b\\%c\\\\d"
    assert escape_like("Müller-Lüdenscheidt") == "Müller-Lüdenscheidt"


@pytest.mark.parametrize(("needle", "expected"), [
    ("_", {"anna_berg"}),
    ("%", {"rate100pct"}),
    ("\\", {"bs"}),
    ("anna_berg", {"anna_berg"}),
    ("berg_", {"anna_berg"}),
    ("0%s", {"rate100pct"}),
    ("ANNA", {"anna_berg", "annaxberg"}),  # case is ignored
    ("anna berg_", {"anna_berg"}),  # the full name, first then last
    ("bergxost", {"annaxberg"}),
    ("rita@example", {"rate100pct"}),  # the email address
])
def test_special_characters_match_only_themselves(app, odd_people, needle, expected):
    assert _found(app, needle) == expected


def test_the_employee_number_is_searched_and_a_missing_one_matches_nothing(app, people, make_user):
    make_user("numbered", employee_number="P_0042")
    assert _found(app, "p_004") == {"numbered"}
    assert _found(app, "_0") == {"numbered"}


def test_the_needle_is_trimmed_and_bounded():
    assert search_text("  anna  ") == "anna"
    assert search_text(None) == ""
    assert len(search_text("x" * 10_000)) == MAX_NEEDLE


def _rows(page: str) -> str:
    return page.split("<tbody")[1].split("</tbody>")[0]


def test_the_people_list_finds_an_underscore_literally(client, login, odd_people):
    login(client, "admin")
    rows = _rows(client.get("/admin/people?q=_&status=all").get_data(as_text=True))
    assert "Berg_Ost, Anna" in rows
    assert "Bergxost" not in rows and "employee@example.org" not in rows and "admin@example.org" not in rows
    rows = _rows(client.get("/admin/people?q=%25&status=all").get_data(as_text=True))
    assert "100%Sicher, Rita" in rows and "Berg_Ost" not in rows and "employee@example.org" not in rows


def test_the_audit_log_finds_an_underscore_literally(app, client, login, people, odd_people):
    with app.app_context():
        for name, user in (("under", odd_people["under"]), ("lookalike", odd_people["lookalike"]),
                           ("employee", people["employee"])):
            db.session.add(AuditEntry(action=f"test.{name}", actor_id=people["admin"].id, summary=name,
                                      at=datetime(2026, 3, 1, 9, tzinfo=UTC), target_type="user", target_id=user.id))
        db.session.commit()
    login(client, "admin")
    page = client.get("/admin/audit/?person=_").get_data(as_text=True)
    assert "<code>test.under</code>" in page
    assert "<code>test.lookalike</code>" not in page and "<code>test.employee</code>" not in page
    page = client.get("/admin/audit/?person=a_b").get_data(as_text=True)
    assert "<code>test.under</code>" in page and "<code>test.lookalike</code>" not in page


def test_the_outbox_finds_an_underscore_literally(app, client, login, people, odd_people):
    with app.app_context():
        for user in (odd_people["under"], odd_people["percent"], odd_people["lookalike"], people["employee"]):
            db.session.add(Outbox(user_id=user.id, kind="training.overdue", subject_key=f"s-{user.id}",
                                  period_key="p", status="queued"))
        db.session.commit()
    login(client, "admin")
    page = client.get("/admin/mail/outbox?person=_").get_data(as_text=True)
    assert "Messages (1)" in page and "Anna Berg_Ost" in page
    page = client.get("/admin/mail/outbox?person=%25").get_data(as_text=True)
    assert "Messages (1)" in page and "Rita 100%Sicher" in page
