"""Pages that once ran off a 360 px phone: long links and addresses wrap, wide tables scroll in their own box.

Found by independent checkers (issue 18): the certificate's verification link, the contact
e-mail addresses of every phase page and the manager's survey heatmap (494 px: visually hidden
notes inside the table were positioned against the page, not the table's scrolling box).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from learning.db import db
from learning.org.models import User
from learning.phases.models import RolloutPhase
from learning.surveys.models import Survey
from learning.training.models import CourseCompletion
from tests.browser import login_as
from tests.e2e.test_accessibility import _report, run_axe
from tests.e2e.test_journeys import PHONE, _horizontal_overflow

pytestmark = pytest.mark.browser


def _pages(app) -> dict[str, list[str]]:
    with app.app_context():
        code = db.session.scalar(select(CourseCompletion.verification_code).join(User)
                                 .where(User.username == "admin").order_by(CourseCompletion.id))
        phases = db.session.scalars(select(RolloutPhase.slug).where(RolloutPhase.contacts.any())).all()
        surveys = db.session.scalars(select(Survey.id).order_by(Survey.id)).all()
        db.session.remove()
    assert code and phases and surveys
    return {"admin": [f"/learning/certificates/{code}", *(f"/phases/{slug}" for slug in phases)],
            "mara": [f"/surveys/{survey_id}/my-teams" for survey_id in surveys]}


def test_no_page_is_wider_than_a_phone(new_context, live_server):
    checked = []
    for username, paths in _pages(live_server.app).items():
        context, _watcher = new_context(bypass_csp=True, viewport=PHONE)
        page = context.new_page()
        login_as(page, username)
        for path in paths:
            if page.request.get(path).status == 404:  # a survey without results for managers
                continue
            page.goto(path)
            checked.append(path)
            width = _horizontal_overflow(page)
            assert width <= PHONE["width"], f"{path} is {width} px wide at 360 px"
            for region in page.locator(".table-scroll").all():  # a wide table scrolls in a named, focusable box
                assert region.get_attribute("role") == "region" and region.get_attribute("aria-label")
                assert region.get_attribute("tabindex") == "0"
            problems = run_axe(page, "de")
            assert not problems, _report(problems)
        context.close()
    assert sum("/my-teams" in path for path in checked) >= 2, checked
