"""Printed reports for the council: the programme dashboard and survey results on A4 with every column.

Chromium prints the page to PDF (``page.pdf``, the page's own ``@page`` rules: A4 landscape, page
numbers); the layout of the print stylesheet is measured at the printable width of an A4 landscape
page (297 mm less 2 × 12 mm margins): the last column of every table must end inside it, nothing may
scroll sideways, and the header names the organisation, the filter and the date.
"""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from learning.db import db, unit_of_work
from tests.browser import ARTIFACTS, login_as

pytestmark = pytest.mark.browser

MM = 96 / 25.4  # CSS pixels per millimetre
PRINTABLE_WIDTH = round((297 - 2 * 12) * MM)  # A4 landscape less the @page margins: 1032 px


def _name_the_organisation(app) -> None:
    from learning.org.models import User
    from learning.settings.services import save_settings

    with app.test_request_context(), unit_of_work():
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        save_settings({"organisation.name": "Stadtverwaltung Musterstadt"}, admin)


def _print_layout(page) -> dict:
    """Lay the page out as printed, at the printable width of A4 landscape; measure its tables."""
    page.emulate_media(media="print")
    page.set_viewport_size({"width": PRINTABLE_WIDTH, "height": 800})
    return page.evaluate("""() => {
        const tables = [...document.querySelectorAll('main table')].filter(t => t.offsetParent !== null);
        return {
            width: document.documentElement.clientWidth,
            scrollWidth: document.documentElement.scrollWidth,
            tables: tables.map(t => {
                const cells = [...t.querySelectorAll('tr:first-child > *')];
                const last = cells[cells.length - 1];
                return {caption: (t.caption || {}).textContent || '', columns: cells.length,
                        right: t.getBoundingClientRect().right, lastText: last.textContent.trim(),
                        lastRight: last.getBoundingClientRect().right,
                        lastVisible: last.getBoundingClientRect().width > 0};
            }),
            header: (document.querySelector('.print-header') || {}).innerText || '',
            headerShown: !!document.querySelector('.print-header') &&
                         getComputedStyle(document.querySelector('.print-header')).display !== 'none',
            filterShown: [...document.querySelectorAll('main form.filter-bar')]
                         .some(f => getComputedStyle(f).display !== 'none'),
        };
    }""")


def _assert_every_column_on_the_page(layout: dict, min_columns: int) -> None:
    assert layout["scrollWidth"] <= layout["width"], layout  # nothing runs off the page to the right
    widest = max(layout["tables"], key=lambda t: t["columns"])
    assert widest["columns"] >= min_columns, widest
    for table in layout["tables"]:
        assert table["lastVisible"] and table["lastRight"] <= layout["width"] + 0.5, table
        assert table["right"] <= layout["width"] + 0.5, table


def _pdf(page, name: str) -> list[str]:
    """The page printed by Chromium with its own @page rules, as the text of each printed page.

    Kept in test-artifacts/ for people to look at. Every page is A4 landscape and carries its number
    out of the total ("2 / 3") from the print stylesheet's page margin box.
    """
    from pypdf import PdfReader

    ARTIFACTS.mkdir(exist_ok=True)
    data = page.pdf(path=str(ARTIFACTS / f"{name}.pdf"), prefer_css_page_size=True, print_background=True)
    pages = PdfReader(io.BytesIO(data)).pages
    assert {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in pages} == {(842, 595)}
    texts = [p.extract_text() for p in pages]
    for number, text in enumerate(texts, start=1):
        assert re.search(rf"\b{number}\s*/\s*{len(texts)}\b", text), (number, text[-200:])
    return texts


def widest_last(layout: dict) -> str:
    return max(layout["tables"], key=lambda t: t["columns"])["lastText"]


def test_the_programme_dashboard_prints_every_column_on_a4(live_server, page):
    _name_the_organisation(live_server.app)
    login_as(page, "paul")
    page.goto("/programme")
    columns = page.locator("main table").filter(has_text="Bürgerservice").first.locator("thead th").count()
    assert columns >= 10  # the unit and every figure of the departments
    layout = _print_layout(page)
    _assert_every_column_on_the_page(layout, columns)
    assert layout["headerShown"] and not layout["filterShown"]
    header = layout["header"]
    assert "Stadtverwaltung Musterstadt" in header and "Kennzahlen des Programms" in header
    assert "Rollout-Phase: Alle Phasen" in header and "Fachbereich: Gesamte Verwaltung" in header
    assert re.search(r"Gedruckt am: \d{2}\.\d{2}\.\d{4}", header) and "Stand der Zahlen" in header
    page.screenshot(path=str(ARTIFACTS / "programme-dashboard-print.png"), full_page=True)
    printed = _pdf(page, "programme-dashboard")
    assert "Stadtverwaltung Musterstadt" in printed[0]
    # The department table's last column made it onto paper, not only onto the screen layout.
    assert widest_last(layout) in " ".join(printed)


def test_survey_results_print_every_column_on_a4(live_server, page):
    from learning.surveys.models import Survey

    with live_server.app.app_context():
        survey_id = db.session.scalar(select(Survey.id).where(Survey.instrument == "adkar"))
    login_as(page, "paul")
    page.goto(f"/surveys/{survey_id}/results?wave=1")
    layout = _print_layout(page)
    _assert_every_column_on_the_page(layout, 6)
    assert "Runde: Runde 1" in layout["header"] and "Fachbereich:" in layout["header"]
    page.screenshot(path=str(ARTIFACTS / "survey-results-print.png"), full_page=True)
    _pdf(page, "survey-results")
