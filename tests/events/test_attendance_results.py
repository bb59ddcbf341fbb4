"""What attendance leads to: certificates of attendance and their public check, a phase's events on its
page, the blended-learning hint on the course page, the per-phase figures on the programme dashboard."""

from __future__ import annotations

import re
from datetime import date, timedelta

import time_machine
from sqlalchemy import select

from learning.audit.models import AuditEntry
from learning.db import db, unit_of_work, utcnow
from learning.events.models import AttendanceCertificate, Booking, Event, EventSession
from learning.metrics.models import ALL_PHASES, MetricSnapshot
from learning.training.certificates import CODE_ALPHABET, CODE_LENGTH

AFTER = timedelta(days=1, hours=1)  # make_event(days=1): its first session has begun


def _issuing(app, event_id: int) -> None:
    with app.app_context():
        db.session.get(Event, event_id).issues_certificate = True
        db.session.commit()


def _book(app, login, username: str, session_id: int) -> int:
    client = app.test_client()
    login(client, username)
    assert client.submit(f"/events/sessions/{session_id}/book").status_code == 302
    with app.app_context():
        return db.session.scalar(select(Booking.id).join(Booking.user).where(
            Booking.session_id == session_id, Booking.user.has(username=username)))


def _record(client, login, session_id: int, states: dict[int, str]) -> None:
    login(client, "projectgroup")
    response = client.submit(f"/events/sessions/{session_id}/attendance",
                             {"attendance": "1", **{f"booking-{b}": s for b, s in states.items()}})
    assert response.status_code == 302, response.text


def _certificates(app) -> dict[int, str]:
    with app.app_context():
        return {user_id: code for user_id, code in db.session.execute(
            select(AttendanceCertificate.user_id, AttendanceCertificate.verification_code))}


def _attended_certificate(app, client, login, people, make_event, make_user, **event) -> tuple[int, str]:
    """The employee attended the only session of an event that issues certificates: (event id, code)."""
    event_id, (session_id,) = make_event(days=1, capacity=5, **event)
    _issuing(app, event_id)
    booking = _book(app, login, "employee", session_id)
    with time_machine.travel(utcnow() + AFTER, tick=False):
        _record(client, login, session_id, {booking: "attended"})
    return event_id, _certificates(app)[people["employee"].id]


# Certificates ------------------------------------------------------------------------------------

def test_attended_earns_a_certificate_no_show_and_excused_do_not(app, client, login, people, make_event,
                                                                  make_user):
    event_id, (session_id,) = make_event(days=1, capacity=5)
    _issuing(app, event_id)
    others = [make_user(f"teilnehmer{n}") for n in range(2)]
    came = _book(app, login, "employee", session_id)
    missed, excused = (_book(app, login, person.username, session_id) for person in others)
    with time_machine.travel(utcnow() + AFTER, tick=False):
        _record(client, login, session_id, {came: "attended", missed: "no_show", excused: "excused"})
    certificates = _certificates(app)
    assert list(certificates) == [people["employee"].id]
    code = certificates[people["employee"].id]
    assert len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET)


def test_an_event_without_certificates_issues_none(app, client, login, people, make_event):
    _, (session_id,) = make_event(days=1)
    booking = _book(app, login, "employee", session_id)
    with time_machine.travel(utcnow() + AFTER, tick=False):
        _record(client, login, session_id, {booking: "attended"})
    assert _certificates(app) == {}


def test_correcting_the_attendance_withdraws_the_certificate(app, client, login, people, make_event, make_user):
    event_id, code = _attended_certificate(app, client, login, people, make_event, make_user)
    with app.app_context():
        booking_id, session_id = db.session.execute(select(Booking.id, Booking.session_id)).one()
    with time_machine.travel(utcnow() + AFTER, tick=False):
        _record(client, login, session_id, {booking_id: "no_show"})
    assert _certificates(app) == {}
    assert app.test_client().get(f"/events/verify/{code}").status_code == 404
    owner = app.test_client()
    login(owner, "employee")
    assert owner.get(f"/events/certificates/{code}").status_code == 404
    with time_machine.travel(utcnow() + AFTER, tick=False):  # ticked again: a new certificate, a new code
        _record(client, login, session_id, {booking_id: "attended"})
    assert set(_certificates(app)) == {people["employee"].id} and _certificates(app)[people["employee"].id] != code


def test_a_walk_in_gets_a_certificate(app, client, login, people, make_event):
    event_id, (session_id,) = make_event(days=1)
    _issuing(app, event_id)
    with time_machine.travel(utcnow() + AFTER, tick=False):
        login(client, "projectgroup")
        response = client.submit(f"/events/sessions/{session_id}/attendance",
                                 {"walkin-person": str(people["employee"].id), "walkin-submit": "1"})
        assert response.status_code == 302, response.text
    assert list(_certificates(app)) == [people["employee"].id]


def test_turning_certificates_on_later_issues_them_to_those_who_attended(app, client, login, people, make_event):
    event_id, (session_id,) = make_event(days=1)
    booking = _book(app, login, "employee", session_id)
    with time_machine.travel(utcnow() + AFTER, tick=False):
        _record(client, login, session_id, {booking: "attended"})
    assert _certificates(app) == {}
    login(client, "projectgroup")
    page = client.get(f"/events/manage/{event_id}/edit")
    assert 'name="issues_certificate"' in page.text
    response = client.submit(f"/events/manage/{event_id}/edit", {
        "kind": "workshop", "title": "Auftakt E-Akte", "description": "Text", "audience": "everyone",
        "registration": "open", "waiting_list": "automatic", "issues_certificate": "y"})
    assert response.status_code == 302, response.text
    assert list(_certificates(app)) == [people["employee"].id]
    with app.app_context():
        assert db.session.get(Event, event_id).issues_certificate


def test_only_the_person_sees_their_certificate(app, client, login, people, make_event, make_user):
    event_id, code = _attended_certificate(app, client, login, people, make_event, make_user)
    owner = app.test_client()
    login(owner, "employee")
    page = owner.get(f"/events/certificates/{code}")
    assert page.status_code == 200
    assert "Test Person" in page.text and "Auftakt E-Akte" in page.text and code in page.text
    assert f"/events/verify/{code}" in page.text and "data-print" in page.text
    assert "style=" not in page.text
    for username in ("manager", "projectgroup"):
        other = app.test_client()
        login(other, username)
        assert other.get(f"/events/certificates/{code}").status_code == 403, username
    stranger = app.test_client()
    login(stranger, make_user("fremd").username)
    assert stranger.get(f"/events/certificates/{code}").status_code == 403
    assert stranger.get("/events/certificates/NOTACODE23").status_code == 404
    anonymous = app.test_client().get(f"/events/certificates/{code}")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    admin = app.test_client()
    login(admin, "admin")
    assert admin.get(f"/events/certificates/{code}").status_code == 200
    with app.app_context():  # an administrator's look at someone's certificate is recorded
        assert db.session.scalar(select(AuditEntry.summary).where(AuditEntry.action == "certificate.viewed")) \
            == f"{people['employee'].full_name}: Auftakt E-Akte"


def test_the_public_check_confirms_a_valid_code_and_reveals_nothing_for_a_wrong_one(app, client, login, people,
                                                                                     make_event, make_user):
    _, code = _attended_certificate(app, client, login, people, make_event, make_user)
    public = app.test_client()
    page = public.get(f"/events/verify/{code}")
    assert page.status_code == 200 and "Test Person" in page.text and "Auftakt E-Akte" in page.text
    assert "@" not in re.sub(r"<head>.*?</head>", "", page.text, flags=re.S)  # no e-mail address
    spaced = f"{code[:5].lower()} {code[5:].lower()}"  # as typed from paper
    assert public.get(f"/events/verify/{spaced}").status_code == 200
    tampered = code[:-1] + ("A" if code[-1] != "A" else "B")
    for wrong in (tampered, "X" * 200, "%27--"):
        page = public.get(f"/events/verify/{wrong}")
        assert page.status_code == 404, wrong
        assert "Test Person" not in page.text and "Auftakt E-Akte" not in page.text
    # the course certificates' check does not know attendance codes, and ours no course codes
    assert public.get(f"/learning/verify/{code}").status_code == 404


def test_certificates_are_listed_with_my_events_and_my_learning(app, client, login, people, make_event, make_user):
    _, code = _attended_certificate(app, client, login, people, make_event, make_user)
    owner = app.test_client()
    login(owner, "employee")
    for url in ("/events/?mine=1", "/events/", "/learning/"):
        page = owner.get(url)
        assert page.status_code == 200 and f"/events/certificates/{code}" in page.text, url
    other = app.test_client()
    login(other, "manager")
    assert f"/events/certificates/{code}" not in other.get("/learning/").text


def test_certificate_page_runs_a_fixed_number_of_queries(app, client, login, people, make_event, make_user,
                                                         count_queries):
    counts = []
    for sessions in (1, 3):
        event_id, session_ids = make_event(f"Reihe {sessions}", days=1, sessions=sessions, capacity=5)
        _issuing(app, event_id)
        bookings = {_book(app, login, "employee", s): "attended" for s in session_ids}
        with time_machine.travel(utcnow() + timedelta(days=sessions + 1), tick=False):
            for booking_id, session_id in zip(bookings, session_ids, strict=True):
                _record(client, login, session_id, {booking_id: "attended"})
        with app.app_context():
            code = db.session.scalar(select(AttendanceCertificate.verification_code)
                                     .where(AttendanceCertificate.event_id == event_id))
        owner = app.test_client()
        login(owner, "employee")
        owner.get(f"/events/certificates/{code}")
        with count_queries() as statements:
            page = owner.get(f"/events/certificates/{code}")
        assert page.status_code == 200 and page.text.count("Raum 1.12") == sessions
        counts.append(len(statements))
    assert counts[0] == counts[1]


# The phase hub --------------------------------------------------------------------------------------

def _phase_event(app, make_event, phase, title: str, **options) -> int:
    event_id, _ = make_event(title, **options)
    with app.app_context():
        db.session.get(Event, event_id).phase_id = phase.id
        db.session.commit()
    return event_id


def test_phase_page_lists_the_phases_events_for_the_reader(app, client, login, people, make_event, make_phase,
                                                           make_team):
    phase, other_phase = make_phase("e-akte"), make_phase("dms")
    shown = _phase_event(app, make_event, phase, "Auftakt E-Akte", capacity=7)
    _phase_event(app, make_event, other_phase, "Andere Phase")
    _phase_event(app, make_event, phase, "Nur Team X", audience="teams", values=[make_team().id])
    _phase_event(app, make_event, phase, "Nur auf Einladung", registration="invitation")
    make_event("Ohne Phase")
    login(client, "employee")
    page = client.get("/phases/e-akte")
    assert page.status_code == 200
    assert f'href="/events/{shown}"' in page.text and "Raum 1.12" in page.text
    item = re.search(rf'href="/events/{shown}".*?</li>', page.text, re.S).group(0)
    assert re.search(r"\b7 (seats free|Plätze frei)", item), item  # the free seats
    for hidden in ("Andere Phase", "Nur Team X", "Nur auf Einladung", "Ohne Phase"):
        assert hidden not in page.text, hidden
    assert f'href="/events/?phase={phase.id}"' in page.text
    listed = client.get(f"/events/?phase={phase.id}")  # the link's filter lists the phase's events only
    assert "Auftakt E-Akte" in listed.text and "Andere Phase" not in listed.text


def test_phase_page_shows_five_events_and_links_to_all(app, client, login, people, make_event, make_phase):
    phase = make_phase("e-akte")
    for n in range(7):
        _phase_event(app, make_event, phase, f"Termin {n}", days=n + 1)
    login(client, "employee")
    page = client.get("/phases/e-akte")
    assert [f"Termin {n}" in page.text for n in range(7)] == [True] * 5 + [False] * 2  # the five soonest
    assert f'href="/events/?phase={phase.id}"' in page.text


def test_phase_page_runs_a_fixed_number_of_queries(app, client, login, people, make_event, make_phase, make_user,
                                                   count_queries):
    phase = make_phase("e-akte", departments=[])
    _phase_event(app, make_event, phase, "Eins")
    _phase_event(app, make_event, phase, "Zwei", audience="phase", values=[phase.id])  # every kind of audience
    login(client, "employee")
    client.get("/phases/e-akte")
    with count_queries() as few:
        assert client.get("/phases/e-akte").status_code == 200
    for n in range(4):
        event_id = _phase_event(app, make_event, phase, f"Mehr {n}", sessions=2, audience="phase", values=[phase.id])
        with app.app_context():
            session_id = db.session.scalar(select(EventSession.id).where(EventSession.event_id == event_id))
        _book(app, login, make_user().username, session_id)
    _phase_event(app, make_event, phase, "Gebucht")
    with count_queries() as many:
        assert client.get("/phases/e-akte").status_code == 200
    assert len(few) == len(many)


# Blended learning on the course page ----------------------------------------------------------------

def test_course_page_says_attending_an_event_completes_it_and_then_when_attended(app, client, login, people,
                                                                                make_event, make_course):
    course = make_course("blended")
    open_event, (session_id,) = make_event("Praxistag", days=1, course_id=course.id, completes_course=True)
    invited, _ = make_event("Geschlossene Runde", registration="invitation", course_id=course.id,
                            completes_course=True)
    make_event("Nur verlinkt", course_id=course.id)  # linked, but attending does not complete the course
    login(client, "employee")
    page = client.get("/learning/courses/blended")
    assert 'id="course-events-heading"' in page.text
    assert f'href="/events/{open_event}"' in page.text
    assert "Geschlossene Runde" in page.text and f'href="/events/{invited}"' not in page.text  # named, no link
    assert "Nur verlinkt" not in page.text
    booking = _book(app, login, "employee", session_id)
    organiser = app.test_client()
    with time_machine.travel(utcnow() + AFTER, tick=False):
        _record(organiser, login, session_id, {booking: "attended"})
        page = client.get("/learning/courses/blended")
    with app.app_context():
        starts = db.session.get(EventSession, session_id).starts_at
    with app.test_request_context():
        from flask_babel import format_datetime

        day = format_datetime(starts, "dd.MM.yyyy")
    assert 'id="course-events-heading"' not in page.text  # done: no more "to complete"
    assert day in page.text and "Praxistag" in page.text


def test_a_course_without_such_events_shows_no_hint(app, client, login, people, make_course):
    make_course("plain")
    login(client, "employee")
    page = client.get("/learning/courses/plain")
    assert page.status_code == 200 and "course-events-heading" not in page.text


def test_course_page_runs_a_fixed_number_of_queries(app, client, login, people, make_event, make_course,
                                                    make_phase, count_queries):
    phase = make_phase("e-akte")
    counts = []
    for n, slug in ((2, "zwei"), (6, "sechs")):  # both with either kind of audience
        course = make_course(slug)
        for k in range(n):
            make_event(f"{slug} {k}", course_id=course.id, completes_course=True,
                       audience="phase" if k % 2 else "everyone", values=[phase.id] if k % 2 else [])
        login(client, "employee")
        client.get(f"/learning/courses/{slug}")
        with count_queries() as statements:
            assert client.get(f"/learning/courses/{slug}").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]


# The programme dashboard ---------------------------------------------------------------------------

def _snapshot(app, day: date, rows: list[tuple[str, int, float | None, int]]) -> None:
    with app.app_context():
        for metric, phase_key, value, n in rows:
            db.session.add(MetricSnapshot(day=day, metric=metric, phase_key=phase_key, unit_kind="org", unit_id=0,
                                          value=value, n=n))
        db.session.commit()


def test_no_show_rate_counts_the_excused_as_recorded(app, make_event, make_user, make_team):
    from learning.i18n import local_today
    from learning.metrics.services import compute

    team = make_team()
    _, (session_id,) = make_event(capacity=5)
    with app.app_context():
        for person, state in zip([make_user(team=team) for _ in range(4)],
                                 ("attended", "no_show", "excused", "attended"), strict=True):
            db.session.add(Booking(session_id=session_id, user_id=person.id, state=state))
        db.session.commit()
    with app.test_request_context():
        values = {(v.metric, v.unit_kind): v for v in compute(local_today() + timedelta(days=30))
                  if v.phase_key == ALL_PHASES and v.unit_kind == "team"}
    assert values[("events.attendance", "team")].value == round(100 * 2 / 3, 1)  # the excused not counted
    assert values[("events.no_show", "team")].value == 25.0 and values[("events.no_show", "team")].n == 4


def test_dashboard_shows_attendance_next_to_training_per_phase_and_hides_small_groups(app, client, login, people,
                                                                                      make_phase):
    big, small, middle = make_phase("gross", title="Große Phase"), make_phase("klein", title="Kleine Phase"), \
        make_phase("mittel", title="Mittlere Phase")
    day = date.today()
    _snapshot(app, day, [
        ("training.completion", ALL_PHASES, 70.0, 60), ("training.completion", big.id, 80.0, 40),
        ("training.completion", small.id, 50.0, 10), ("training.completion", middle.id, 60.0, 10),
        ("events.attendance", ALL_PHASES, 75.0, 30), ("events.attendance", big.id, 87.5, 20),
        ("events.attendance", small.id, 33.3, 3), ("events.attendance", middle.id, 71.4, 7),
        ("events.no_show", ALL_PHASES, 10.0, 30), ("events.no_show", big.id, 12.5, 20),
        ("events.registrations", big.id, 24.0, 24), ("events.waiting", big.id, 6.0, 24),
    ])
    login(client, "projectgroup")
    page = client.get("/programme")
    DECIMAL = "," if '<html lang="de"' in page.text else "."
    assert page.status_code == 200
    section = re.search(r'<section[^>]*aria-labelledby="phase-events-heading".*?</section>', page.text, re.S).group(0)
    rows = {re.search(r'scope="row">([^<]+)<', row).group(1): row
            for row in re.findall(r'<tr class="kern-table__row">\s*<th class="kern-table__header" scope="row">.*?</tr>',
                                  section, re.S)}
    assert set(rows) == {"Große Phase", "Kleine Phase", "Mittlere Phase"}
    cells = {name: re.findall(r'<td class="kern-table__cell">([^<]+)<', row) for name, row in rows.items()}
    assert cells["Große Phase"] == ["80 %", "24", re.sub("[.,]", DECIMAL, "87.5 %"),
                                    re.sub("[.,]", DECIMAL, "12.5 %"), "6"]
    assert cells["Kleine Phase"][0] == "50 %"  # ten assignments are enough for training completion
    assert cells["Kleine Phase"][2] == "–"  # three people: hidden
    assert cells["Mittlere Phase"][2] == "–"  # the next-smallest sibling, or the small one could be worked out
    assert "33" not in section and "71" not in section
    # training completion first, the event figures next to it, each named as in the glossary
    from flask_babel import force_locale

    from learning.metrics.services import METRICS

    language = re.search(r'<html lang="([a-z]+)"', page.text).group(1)
    with app.test_request_context(), force_locale(language):
        labels = [str(METRICS[key].label) for key in ("training.completion", "events.registrations",
                                                       "events.attendance", "events.no_show", "events.waiting")]
    assert re.findall(r'scope="col">([^<]+)<', section)[1:] == labels


def test_dashboard_phase_table_runs_one_query(app, make_phase, count_queries):
    from learning.events.metrics import phase_table
    from learning.metrics.models import ORGANISATION
    from learning.phases.models import RolloutPhase

    phases = [make_phase(f"p{n}") for n in range(4)]
    day = date.today()
    _snapshot(app, day, [("events.attendance", p.id, 50.0, 10) for p in phases])
    with app.app_context():
        loaded = list(db.session.scalars(select(RolloutPhase)))
        with count_queries() as statements:
            metrics, rows = phase_table(day, loaded, ORGANISATION)
    assert len(statements) == 1
    assert metrics[0].key == "training.completion" and [m.key for m in metrics][1:] == [
        "events.registrations", "events.attendance", "events.no_show", "events.waiting"]
    assert all(row.cells["events.attendance"].value == 50.0 for row in rows)


def test_set_issues_certificate_is_idempotent(app, people, make_event):
    from learning.events.certificates import set_issues_certificate

    event_id, (session_id,) = make_event(days=-1)
    with app.test_request_context(), unit_of_work():
        db.session.add(Booking(session_id=session_id, user_id=people["employee"].id, state="attended"))
        event = db.session.get(Event, event_id)
        assert set_issues_certificate(event, True) == 1
        assert set_issues_certificate(event, True) == 0
        assert set_issues_certificate(event, False) == 0
    assert list(_certificates(app)) == [people["employee"].id]  # those issued stay valid
