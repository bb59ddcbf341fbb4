"""Review and the four-eyes rule; who may see a draft's preview and the publishing pages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from learning.db import db
from learning.roles import Role
from learning.settings.models import PlatformSetting
from learning.training.authoring.models import CourseDraft, CourseVersion, DraftReview, ReviewState
from learning.training.models import Course
from tests.training.authoring.test_publish import edit_lesson, publish


@pytest.fixture
def authors(make_user):
    return {"lena": make_user("lena", roles={Role.AUTHOR}, first_name="Lena", last_name="Berger"),
            "tom": make_user("tom", roles={Role.AUTHOR}, first_name="Tom", last_name="Kraus"),
            "fremd": make_user("fremd", roles={Role.AUTHOR})}


def four_eyes(app, on: bool = True) -> None:
    with app.app_context():
        db.session.merge(PlatformSetting(key="courses.four_eyes", value=on))
        db.session.commit()


def signed_in(app, login, username):
    client = app.test_client()
    login(client, username)
    return client


def review(client, slug, action, body=""):
    return client.submit(f"/learning/author/{slug}/review", {"action": action, "body": body})


def published(app, slug) -> bool:
    with app.app_context():
        return db.session.scalar(select(Course.id).where(Course.slug == slug)) is not None


def test_without_the_rule_an_editor_publishes_alone(app, login, authors, make_draft):
    make_draft("allein", editors=[authors["lena"]])
    four_eyes(app, False)
    assert publish(signed_in(app, login, "lena"), "allein", "Erste Fassung").status_code == 302
    assert published(app, "allein")


def test_with_the_rule_another_persons_approval_of_exactly_this_draft_is_needed(app, login, authors, make_draft):
    make_draft("vieraugen", editors=[authors["lena"], authors["tom"]])
    edit_lesson(app, "vieraugen", 0, "## Start\n\nVon Lena.", authors["lena"])
    four_eyes(app)
    lena, tom = signed_in(app, login, "lena"), signed_in(app, login, "tom")

    refused = publish(lena, "vieraugen", "Erste Fassung")
    assert refused.status_code == 200 and "The four-eyes rule is on" in refused.get_data(as_text=True)
    assert not published(app, "vieraugen")

    # Lena saved the last change: she cannot approve it herself
    own = review(lena, "vieraugen", "approve")
    assert own.status_code == 200 and "You saved the last change of this draft yourself" in own.get_data(as_text=True)
    assert review(tom, "vieraugen", "approve", "Passt.").status_code == 302

    # Tom approved: he cannot publish on his own approval, Lena can
    assert "The four-eyes rule is on" in publish(tom, "vieraugen", "Erste Fassung").get_data(as_text=True)
    assert publish(lena, "vieraugen", "Erste Fassung").status_code == 302
    with app.app_context():
        version = db.session.scalar(select(CourseVersion).join(CourseDraft).where(CourseDraft.slug == "vieraugen"))
        assert (version.approved_by_id, version.published_by_id) == (authors["tom"].id, authors["lena"].id)


def test_a_later_edit_voids_the_approval(app, login, authors, make_draft):
    make_draft("spaeter", editors=[authors["lena"], authors["tom"]])
    edit_lesson(app, "spaeter", 0, "## Start\n\nErste Fassung.", authors["lena"])
    four_eyes(app)
    lena, tom = signed_in(app, login, "lena"), signed_in(app, login, "tom")
    assert review(tom, "spaeter", "approve").status_code == 302
    edit_lesson(app, "spaeter", 0, "## Start\n\nNach der Freigabe geändert.", authors["lena"])
    assert "The four-eyes rule is on" in publish(lena, "spaeter", "Erste Fassung").get_data(as_text=True)
    assert not published(app, "spaeter")
    page = tom.get("/learning/author/spaeter/review").get_data(as_text=True)
    assert "Approved an earlier state" in page
    assert review(tom, "spaeter", "approve").status_code == 302
    assert publish(lena, "spaeter", "Erste Fassung").status_code == 302


def test_comments_and_the_request_for_review(app, login, authors, make_draft):
    make_draft("kommentar", editors=[authors["lena"], authors["tom"]])
    tom = signed_in(app, login, "tom")
    assert review(tom, "kommentar", "request").status_code == 302
    assert review(tom, "kommentar", "comment", "Bitte Lektion 2 kürzen.").status_code == 302
    empty = review(tom, "kommentar", "comment", "  ")
    assert empty.status_code == 200 and "Please write a comment." in empty.get_data(as_text=True)
    unknown = review(tom, "kommentar", "delete-everything")
    assert unknown.status_code == 200 and "Please choose what to do." in unknown.get_data(as_text=True)
    page = tom.get("/learning/author/kommentar/review").get_data(as_text=True)
    assert "Bitte Lektion 2 kürzen." in page and "Waiting for review" in page
    with app.app_context():
        draft = db.session.scalar(select(CourseDraft).where(CourseDraft.slug == "kommentar"))
        assert draft.review_state == ReviewState.IN_REVIEW
        assert [r.body for r in db.session.scalars(select(DraftReview))] == ["Bitte Lektion 2 kürzen."]
    lena = signed_in(app, login, "lena")
    assert publish(lena, "kommentar", "Erste Fassung").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(CourseDraft.review_state).where(CourseDraft.slug == "kommentar")) == \
            ReviewState.EDITING


PAGES = ["preview", "preview/lektion-1", "check", "publish", "review", "versions"]


@pytest.mark.parametrize("page", PAGES)
def test_only_editors_and_the_project_group_see_a_draft(app, login, people, authors, make_draft, page):
    make_draft("geheim", editors=[authors["lena"]])
    url = f"/learning/author/geheim/{page}"
    assert signed_in(app, login, "lena").get(url).status_code == 200
    assert signed_in(app, login, "projectgroup").get(url).status_code == 200
    for other in ("fremd", "employee", "manager", "admin"):
        assert signed_in(app, login, other).get(url).status_code == 403, other
    assert app.test_client().get(url).status_code == 302
    assert signed_in(app, login, "lena").get(url.replace("geheim", "gibtsnicht")).status_code == 404


def test_employees_never_see_an_unpublished_course(app, login, people, authors, make_draft):
    make_draft("entwurf", title="Entwurf Reisekosten", editors=[authors["lena"]])
    employee = signed_in(app, login, "employee")
    assert "Entwurf Reisekosten" not in employee.get("/learning/courses").get_data(as_text=True)
    assert employee.get("/learning/courses/entwurf").status_code == 404
    assert employee.get("/learning/author/entwurf/preview").status_code == 403


def test_the_preview_shows_the_draft_as_a_learner_sees_it_without_writing_buttons(app, login, authors, make_draft):
    make_draft("vorschau", title="Vorschaukurs", editors=[authors["lena"]], published=True)
    edit_lesson(app, "vorschau", 0, "## Neuer Abschnitt\n\nNoch nicht veröffentlicht.", authors["lena"])
    lena = signed_in(app, login, "lena")
    course = lena.get("/learning/author/vorschau/preview").get_data(as_text=True)
    assert "Preview – not published" in course and "Vorschaukurs" in course
    assert "/learning/author/vorschau/preview/lektion-1" in course
    assert 'method="post"' not in course.split("</header>", 1)[-1]
    lesson = lena.get("/learning/author/vorschau/preview/lektion-1").get_data(as_text=True)
    assert "Noch nicht veröffentlicht." in lesson and "<h2>Neuer Abschnitt</h2>" in lesson
    assert "/done" not in lesson and "In the preview, lessons cannot be marked as done." in lesson
    assert "/learning/author/vorschau/preview/lektion-2" in lesson
    assert lena.get("/learning/author/vorschau/preview/keine").status_code == 404
    # the learners still see the published version
    published_lesson = lena.get("/learning/courses/vorschau/lessons/lektion-1").get_data(as_text=True)
    assert "Noch nicht veröffentlicht." not in published_lesson
    german = lena.get("/learning/author/vorschau/preview", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Vorschau – nicht veröffentlicht" in german


def test_approving_or_publishing_a_draft_changed_since_the_page_was_opened_is_refused(app, login, authors, make_draft):
    make_draft("veraltet", editors=[authors["lena"], authors["tom"]])
    edit_lesson(app, "veraltet", 0, "## Start\n\nErste Fassung.", authors["lena"])
    four_eyes(app)
    lena, tom = signed_in(app, login, "lena"), signed_in(app, login, "tom")
    marker = 'name="seen" type="hidden" value="'
    seen = tom.get("/learning/author/veraltet/review").get_data(as_text=True).split(marker)[1][:64]
    edit_lesson(app, "veraltet", 0, "## Start\n\nInzwischen geändert.", authors["lena"])
    stale = tom.submit("/learning/author/veraltet/review", {"action": "approve", "seen": seen})
    assert stale.status_code == 200 and "has been changed since you opened this page" in stale.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(DraftReview.id)) is None
    page = lena.get("/learning/author/veraltet/publish").get_data(as_text=True)
    shown = page.split(marker)[1][:64]
    assert review(tom, "veraltet", "approve").status_code == 302
    edit_lesson(app, "veraltet", 0, "## Start\n\nNoch einmal geändert.", authors["tom"])
    refused = lena.submit("/learning/author/veraltet/publish", {"summary": "Erste Fassung", "seen": shown})
    assert "has been changed since you opened this page" in refused.get_data(as_text=True)
    assert not published(app, "veraltet")
