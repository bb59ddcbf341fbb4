"""The survey journey in the browser: paul builds and opens an ADKAR survey, anna answers it on a phone,
paul sees results once the round has closed and enough people have answered; axe-core on every survey page
in German and English."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from learning.db import db
from learning.org.models import User
from learning.surveys.models import Survey, SurveyParticipation, SurveyResponse
from tests.browser import login_as, screenshot, sign_out, switch_language
from tests.e2e.test_accessibility import _report, run_axe

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
TITLE = "Bereitschaft für die neue Telefonanlage"


def _answer_every_page(page, value: str = "4") -> int:
    """Choose ``value`` on every rating question of every page and send; return the number of pages."""
    pages = 0
    while True:
        pages += 1
        for fieldset in page.locator("main fieldset.survey-scale").all():
            fieldset.locator(f"input[value='{value}']").check()
        textarea = page.locator("main textarea")
        if textarea.count():
            textarea.first.fill("Mehr Zeit zum Üben, bitte.")
        last = page.locator("button[name=nav][value=submit]")
        with page.expect_navigation():
            if last.count():
                last.click()
                return pages
            page.locator("button[name=nav][value=next]").click()


def _other_answers(app, survey_id: int, count: int) -> None:
    """Further colleagues answer through the service (as their own browsers would)."""
    from learning.surveys.taking import load_survey, questions_in_order, submit_response

    with app.test_request_context():
        survey = load_survey(survey_id)
        raw = {q.id: ["3"] for q in questions_in_order(survey) if q.question_kind.is_likert}
        people = db.session.scalars(select(User).where(User.username.not_in(["anna", "paul", "admin", "mara"]))
                                    .order_by(User.id).limit(count)).all()
        for person in people:
            submit_response(person, survey_id, raw, date.today())
        db.session.remove()


def test_paul_builds_anna_answers_paul_reads(live_server, page, new_context):
    login_as(page, "paul")
    page.goto("/surveys/new")
    page.locator("input[name=instrument][value=adkar]").check()
    page.locator("#title").fill(TITLE)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert "/manage" in page.url
    page.goto(page.url.replace("/manage", "/questions"))
    assert page.locator(".survey-builder-list__item").count() == 11
    page.goto(page.url.replace("/questions", "/manage"))
    with page.expect_navigation():
        page.locator("form[action$='/open'] button[type=submit]").click()
    screenshot(page, "survey-opened")
    with live_server.app.app_context():
        survey = db.session.scalar(select(Survey).where(Survey.title == TITLE))
        assert survey.opened_at is not None
        survey_id = survey.id
    sign_out(page)

    phone, _watcher = new_context(viewport=PHONE)
    anna = phone.new_page()
    login_as(anna, "anna")
    assert TITLE in anna.locator("main").inner_text()  # the home card
    anna.goto(f"/surveys/{survey_id}")
    assert anna.locator(".survey-privacy").count() == 1  # declared before the first question
    with anna.expect_navigation():
        anna.locator("main a[href$='/answer']").click()
    assert anna.locator("progress.survey-progress__bar").count() == 1
    # Nothing too wide for the phone: the page does not scroll sideways.
    assert anna.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(anna, "survey-answer-phone")
    with anna.expect_navigation():  # sending a page with a gap asks for it again
        anna.locator("button[name=nav][value=next]").click()
    assert anna.locator(".kern-alert--danger").count() == 1
    assert _answer_every_page(anna) == 6
    assert "/surveys/" in anna.url and anna.locator(".kern-alert--success").count() == 1
    with live_server.app.app_context():
        anna_id = db.session.scalar(select(User.id).where(User.username == "anna"))
        assert db.session.scalar(select(SurveyParticipation).where(SurveyParticipation.user_id == anna_id,
                                                                   SurveyParticipation.survey_id == survey_id))
        assert len(db.session.scalars(select(SurveyResponse).where(SurveyResponse.survey_id == survey_id)).all()) == 1

    login_as(page, "paul")
    _other_answers(live_server.app, survey_id, 5)
    page.goto(f"/surveys/{survey_id}/results")
    text = page.locator("main").inner_text()
    assert "Ergebnisse noch nicht freigegeben" in text  # the round is open: no figures, however many answered
    assert "6 von" in text and page.locator("#adkar-heading").count() == 0
    page.goto(f"/surveys/{survey_id}/manage")
    with page.expect_navigation():
        page.locator("form[action$='/close'] button[type=submit]").click()
    page.goto(f"/surveys/{survey_id}/results")
    assert page.locator("#adkar-heading").count() == 1
    assert page.locator("svg.chart[role=img]").count() >= 2
    assert "Zu wenige Antworten" not in page.locator("main").inner_text()
    screenshot(page, "survey-results")


SURVEY_PAGES_PG = ["/surveys/", "/surveys/new", "/surveys/{adkar}/manage", "/surveys/{adkar}/results",
                   "/surveys/{adkar}/questions", "/surveys/{adkar}/preview", "/surveys/{adkar}/edit",
                   "/surveys/{tam}/results", "/surveys/{draft}/manage", "/surveys/{draft}/edit",
                   "/surveys/{draft}/questions", "/surveys/{draft}/questions/new",
                   "/surveys/{draft}/questions/{draft_question}", "/surveys/{draft}/sections/{draft_section}",
                   "/surveys/{draft}/preview", "/surveys/{named}/named", "/surveys/{named}/manage"]


def _ids(app) -> dict:
    """The demo surveys, and a named pulse survey that one person has answered (for the page of names)."""
    from learning.db import unit_of_work
    from learning.surveys.building import SurveySettings, create_survey, update_survey
    from learning.surveys.managing import open_survey
    from learning.surveys.taking import questions_in_order, submit_response

    today = date.today()
    with app.test_request_context():
        paul = db.session.scalar(select(User).where(User.username == "paul"))
        with unit_of_work():
            named = create_survey(paul, "pulse", "Namentliche Kurzbefragung", None, today)
            update_survey(paul, named, SurveySettings(title=named.title, intro=named.intro, anonymous=False,
                                                      opens_on=today, closes_on=today, min_responses=5,
                                                      min_comments=10))
            open_survey(paul, named, today)
        raw = {q.id: ["3"] for q in questions_in_order(named) if q.question_kind.is_likert}
        submit_response(db.session.scalar(select(User).where(User.username == "mara")), named.id, raw, today)
        surveys = {s.instrument: s for s in db.session.scalars(select(Survey).where(Survey.anonymous.is_(True)))}
        draft = surveys["enps"]
        ids = {"adkar": surveys["adkar"].id, "tam": surveys["tam"].id, "draft": draft.id, "named": named.id,
               "draft_question": draft.questions[0].id, "draft_section": draft.sections[0].id}
        db.session.remove()
        return ids


@pytest.mark.parametrize("language", ["de", "en"])
def test_every_survey_page_passes_axe(live_server, new_context, language):
    ids = _ids(live_server.app)
    problems = []
    for username, paths in [
        ("paul", SURVEY_PAGES_PG),
        ("anna", ["/surveys/", "/surveys/{adkar}", "/surveys/{adkar}/answer", "/surveys/{tam}", "/"]),
        ("mara", ["/surveys/", "/surveys/{adkar}/my-teams", "/surveys/{adkar}/my-teams?wave=2",
                  "/surveys/{tam}/my-teams"]),
    ]:
        context, _watcher = new_context(bypass_csp=True)
        page = context.new_page()
        login_as(page, username)
        if language != "de":
            switch_language(page, language)
        for path in paths:
            response = page.goto(path.format(**ids))
            assert response.status == 200, path
            problems += run_axe(page, language)
        if username == "anna":  # a page sent with gaps, and a later page
            page.goto(f"/surveys/{ids['adkar']}/answer")
            with page.expect_navigation():
                page.locator("button[name=nav][value=next]").click()
            problems += run_axe(page, language)
            for fieldset in page.locator("main fieldset.survey-scale").all():
                fieldset.locator("input[value='2']").check()
            with page.expect_navigation():
                page.locator("button[name=nav][value=next]").click()
            assert "2" in page.locator(".survey-progress p").inner_text()
            problems += run_axe(page, language)
        if username == "paul":  # the builder's forms with errors
            page.goto(f"/surveys/{ids['draft']}/questions/new")
            page.locator("#options").fill("eins\nzwei")
            with page.expect_navigation():
                page.locator("main form button[type=submit]").click()
            assert page.locator("main .kern-alert--danger").count() == 1
            problems += run_axe(page, language)
            page.goto(f"/surveys/{ids['draft']}/edit")
            page.locator("#min_responses").fill("2")
            with page.expect_navigation():
                page.locator("main form button[type=submit]").click()
            assert page.locator("main .kern-alert--danger").count() == 1
            problems += run_axe(page, language)
            page.goto(f"/surveys/{ids['adkar']}/results?wave=1")
            problems += run_axe(page, language)
            screenshot(page, f"survey-results-wave1-{language}")
            page.goto(f"/surveys/{ids['adkar']}/results?wave=2")  # the open round: not released yet
            assert page.locator("main .kern-alert--info").count() >= 1
            problems += run_axe(page, language)
            page.goto(f"/surveys/{ids['adkar']}/manage")  # moving the last day into the past is refused
            page.locator("#closes_on").fill("2000-01-01")
            with page.expect_navigation():
                page.locator("form[action$='/closing-date'] button[type=submit]").click()
            assert page.locator("main .kern-alert--danger").count() == 1
            problems += run_axe(page, language)
        context.close()
    assert not problems, _report(problems)
