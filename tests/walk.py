"""Helpers of the generated walks: row counts of every table, the POST forms of a page, URLs of the map."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from html.parser import HTMLParser

from sqlalchemy import func, select

from learning.db import db


@functools.cache
def _counting_statement():
    return select(*(select(func.count()).select_from(table).scalar_subquery().label(table.name)
                    for table in db.metadata.sorted_tables))


def row_counts(app) -> dict[str, int]:
    """The number of rows of every table, in one query."""
    with app.app_context():
        row = db.session.execute(_counting_statement()).one()
        db.session.remove()
    return dict(zip([t.name for t in db.metadata.sorted_tables], row, strict=True))


def changed_tables(before: dict[str, int], after: dict[str, int], *, ignore=()) -> dict[str, tuple[int, int]]:
    return {name: (before[name], after[name]) for name in before
            if before[name] != after[name] and name not in ignore}


@dataclass
class Field:
    name: str
    kind: str  # text, textarea, select, checkbox, radio, hidden, number, date, email, file, ...
    value: str = ""
    options: list[str] = field(default_factory=list)
    checked: bool = False


@dataclass
class Form:
    action: str
    enctype: str
    fields: list[Field]

    def defaults(self) -> list[tuple[str, str]]:
        """What a person who fills in every field plausibly sends: the values shown, or a sensible one."""
        data: list[tuple[str, str]] = []
        radios_done: set[str] = set()
        for f in self.fields:
            if f.kind == "file":
                continue
            if f.kind == "checkbox":
                if f.checked:
                    data.append((f.name, f.value or "y"))
            elif f.kind == "radio":
                group = [g for g in self.fields if g.kind == "radio" and g.name == f.name]
                if f.name not in radios_done:
                    chosen = next((g for g in group if g.checked), group[0])
                    data.append((f.name, chosen.value))
                    radios_done.add(f.name)
            elif f.kind == "select":
                data.append((f.name, f.value or next((o for o in f.options if o), "")))
            elif f.value:
                data.append((f.name, f.value))
            else:
                data.append((f.name, {"date": "2030-06-01", "number": "5", "email": "hostile@example.org",
                                      "datetime-local": "2030-06-01T09:00", "hidden": "",
                                      "password": "correct-horse-battery"}.get(f.kind, "Test")))
        return data

    def editable(self) -> list[Field]:
        """One field per name that a person can change (not the CSRF token)."""
        seen, result = set(), []
        for f in self.fields:
            if f.name not in seen and f.name != "csrf_token" and f.kind != "file":
                seen.add(f.name)
                result.append(f)
        return result


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: Field | None = None
        self._option_value: str | None = None
        self._textarea: Field | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                self._form = Form(a.get("action", ""), a.get("enctype", ""), [])
            return
        if self._form is None or "disabled" in a or not a.get("name", "x"):
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in {"submit", "button", "image", "reset"}:
                if a.get("value"):  # a named button (direction=up) is part of what is sent
                    self._form.fields.append(Field(a["name"], "hidden", a["value"]))
                return
            self._form.fields.append(Field(a["name"], kind, a.get("value", "" if kind != "checkbox" else "y"),
                                           checked="checked" in a))
        elif tag == "button" and a.get("name") and a.get("value") and a.get("type", "submit") == "submit":
            if not any(f.name == a["name"] for f in self._form.fields):
                self._form.fields.append(Field(a["name"], "hidden", a["value"]))
        elif tag == "select" and a.get("name"):
            self._select = Field(a["name"], "select")
            self._form.fields.append(self._select)
        elif tag == "option" and self._select is not None:
            self._option_value = a.get("value")
            if a.get("value") is not None:
                self._select.options.append(a["value"])
                if "selected" in a:
                    self._select.value = a["value"]
        elif tag == "textarea" and a.get("name"):
            self._textarea = Field(a["name"], "textarea")
            self._form.fields.append(self._textarea)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag):
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            if self._textarea is not None:
                self._textarea.value = self._textarea.value.lstrip("\n")
            self._textarea = None


def post_forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


class _StructureParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.headings: list[tuple[int, str]] = []
        self._heading: list | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"])
        if len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            self._heading = [int(tag[1]), ""]

    def handle_data(self, data):
        if self._heading is not None:
            self._heading[1] += data

    def handle_endtag(self, tag):
        if self._heading is not None and tag == f"h{self._heading[0]}":
            self.headings.append((self._heading[0], " ".join(self._heading[1].split())))
            self._heading = None


def duplicate_ids(html: str) -> list[str]:
    """The ids that occur more than once on a page."""
    parser = _StructureParser()
    parser.feed(html)
    return sorted({i for i in parser.ids if parser.ids.count(i) > 1})


def heading_problems(html: str) -> list[str]:
    """Headings that skip a level (h1 → h3) or are empty, in words."""
    parser = _StructureParser()
    parser.feed(html)
    problems, previous = [], 0
    for level, text in parser.headings:
        if level > previous + 1:
            problems.append(f"h{level} {text!r} after h{previous}")
        if not text:
            problems.append(f"empty h{level}")
        previous = level
    return problems
