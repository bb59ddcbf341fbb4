"""Dashboards in the browser: mara checks her teams' readiness, paul filters and exports the programme."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from learning.audit.models import AuditEntry
from learning.db import db
from tests.browser import login_as, screenshot, switch_language

pytestmark = pytest.mark.browser


def test_mara_sees_the_readiness_of_each_of_her_teams(live_server, page):
    login_as(page, "mara")
    page.locator("nav a[href='/readiness']").click()
    main = page.locator("main")
    assert "Bürgerbüro" in main.locator("h2").first.inner_text()
    assert main.locator("svg.trend__svg").count() >= 1  # the trend over the last months
    assert main.locator("table").filter(has_text="Anna Schmidt").count() == 1  # mandatory training per person
    screenshot(page, "team-readiness-buergerbuero")

    page.locator("#team").select_option(label="Standesamt")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    assert "Standesamt" in main.locator("h2").first.inner_text()
    assert main.locator("table").filter(has_text="Anna Schmidt").count() == 0
    switch_language(page, "en")
    assert "Team readiness" in page.locator("h1").inner_text()
    with live_server.app.app_context():
        views = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "view.metrics.team_training")).all()
    assert len(views) >= 2  # every look at individual data is on record


def test_paul_filters_the_programme_dashboard_and_exports_it(live_server, page):
    login_as(page, "paul")
    page.locator("nav a[href='/programme']").click()
    page.locator("#phase").select_option("e-akte")
    with page.expect_navigation():
        page.locator("main form[method=get] button[type=submit]").click()
    main = page.locator("main")
    assert "Elektronische Akte" in main.locator("#figures-heading").inner_text()
    heatmap = main.locator("table").filter(has_text="Bürgerservice").first
    assert heatmap.count() == 1
    assert page.locator("[data-print]").is_visible()  # shown by the script, which the CSP allows
    screenshot(page, "programme-dashboard-e-akte")

    with page.expect_download() as download:
        main.locator("a", has_text="CSV").click()
    rows = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8-sig").read()), delimiter=";"))
    assert rows[0] == ["Einheit", "Kennzahl", "Wert", "Grundlage (n)"]
    assert any(r[0] == "Bürgerservice" for r in rows[1:])

    page.goto("/programme?phase=gibt-es-nicht")
    assert page.locator("main .kern-alert--danger").count() == 1
