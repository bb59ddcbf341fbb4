"""Form pieces every feature uses: a CSRF-protected button, a group of checkboxes, a date field and a due rule."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, Field, SelectMultipleField
from wtforms.csrf.core import CSRFTokenField
from wtforms.meta import DefaultMeta
from wtforms.utils import unset_value
from wtforms.widgets import CheckboxInput, ListWidget

from learning.guards import FIRST_DAY, LAST_DAY, day_in_range


def _render_field(meta, field, render_kw):
    """Render a field as WTForms does, but the CSRF token without an ``id``.

    Every form carries a hidden ``csrf_token`` input; with its default ``id="csrf_token"`` a page with
    several forms has the same id several times (invalid HTML, WCAG 4.1.1). Nothing refers to it by id.
    """
    if isinstance(field, CSRFTokenField):
        render_kw = {**render_kw, "id": False}
    return DefaultMeta.render_field(meta, field, render_kw)


def render_csrf_tokens_without_id() -> None:
    """Make every FlaskForm (of every feature) render its CSRF token without an id; called by create_app."""
    FlaskForm.Meta.render_field = _render_field


class ActionForm(FlaskForm):
    """An empty form: a CSRF-protected button."""


class CheckboxesField(SelectMultipleField):
    """Several choices as a group of checkboxes (easier on phones than a multi-select)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RenderableMarkdown:
    """A Markdown field's second limit besides its length: lines and formatting characters (``learning.content``)."""

    def __call__(self, form, field) -> None:
        from wtforms.validators import ValidationError

        from learning.content import complexity_message, too_complex

        if field.data and too_complex(field.data):
            raise ValidationError(complexity_message())


GERMAN_DAY = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", re.ASCII)
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def date_message():
    return _l("Enter a date such as 31.03.2027 (day, month, year).")


def range_message():
    return _l("Enter a date between %(first)s and %(last)s.", first=FIRST_DAY.strftime("%d.%m.%Y"),
              last=LAST_DAY.strftime("%d.%m.%Y"))


def parse_day(text: str) -> date:
    """A day as a date input sends it (``2027-03-31``) or as people type it in German (``31.03.2027``, ``31.3.2027``).

    Raise ValueError with a message for the form when it is neither, or outside the platform's range.
    """
    text = (text or "").strip()
    try:
        if ISO_DAY.fullmatch(text):
            day = date.fromisoformat(text)
        elif match := GERMAN_DAY.fullmatch(text):
            day = date(int(match[3]), int(match[2]), int(match[1]))
        else:
            raise ValueError
    except ValueError:
        raise ValueError(date_message()) from None
    if not day_in_range(day):
        raise ValueError(range_message())
    return day


class DayField(DateField):
    """A date input (``type="date"``) within the platform's range of dates (1900–2100).

    Every date field of the platform is one of these, so a date such as 9999-12-31, which would
    overflow the first calculation with it (a due date, a reminder), never reaches a service. Where
    a browser offers a plain text box instead of a date picker, a German date (31.03.2027) is
    accepted as well.
    """

    def __init__(self, label=None, validators=None, **kwargs):
        render_kw = {"min": FIRST_DAY.isoformat(), "max": LAST_DAY.isoformat(), **(kwargs.pop("render_kw", None) or {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def process_formdata(self, valuelist):
        text = " ".join(valuelist).strip() if valuelist else ""
        if not text:
            self.data = None
            return
        try:
            self.data = parse_day(text)
        except ValueError:
            self.data = None
            raise

    def _value(self):
        # A date input shows only ISO dates: a German date that was understood is shown as the date it is.
        if self.data is not None:
            return self.data.isoformat()
        return super()._value()


class DueRuleField(Field):
    """A due date as people say it: "14 days after the start date", "7 days before go-live", or a fixed date.

    Rendered by the ``due_rule`` macro (``templates/_macros/forms.html``) as a number, a select
    "before / after" and a select of what it counts from (``anchors``), with a date input for a
    fixed date (``fixed_date``). ``data`` is the rule as it is stored: ``start+14``, ``golive-7``,
    ``assigned+30``, ``2027-03-31``, or None when both are left empty. Nobody types that syntax.
    """

    PARTS = ("days", "direction", "anchor", "date")

    def __init__(self, label=None, validators=None, *, anchors=(), fixed_date=True, max_days=9999,
                 required_message=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.anchors = list(anchors)  # (value, label): what the days count from
        self.fixed_date = fixed_date
        self.max_days = max_days
        self.required_message = required_message  # None: empty is allowed (no due date)
        self.parts: dict[str, str] = {}

    def process(self, formdata, data=unset_value, extra_filters=None):
        self.process_errors = []
        if data is unset_value:
            data = self.default() if callable(self.default) else self.default
        self.object_data = data
        names = [f"{self.name}-{part}" for part in self.PARTS]
        if formdata is not None and any(name in formdata for name in names):
            self.parts = {part: (formdata.get(f"{self.name}-{part}") or "").strip() for part in self.PARTS}
            self.raw_data = [self.parts["days"] or self.parts["date"]]
            try:
                self.data = self.compose(self.parts)
            except ValueError as error:
                self.data = None
                self.process_errors.append(error.args[0])
        else:
            self.data = data
            self.parts = self.split(data)

    def compose(self, parts: dict[str, str]):
        """The stored rule from what was entered; ValueError with a message for the form."""
        days, day = parts["days"], parts["date"] if self.fixed_date else ""
        if days and day:
            raise ValueError(_l("Enter either a number of days or a fixed date, not both."))
        if day:
            return parse_day(day).isoformat()
        if not days:
            if self.required_message:
                raise ValueError(self.required_message)
            return None
        if not re.fullmatch(r"\d{1,5}", days, re.ASCII) or int(days) > self.max_days:
            raise ValueError(_l("Enter a whole number of days from 0 to %(max)d.", max=self.max_days))
        anchor = parts["anchor"] or self.anchors[0][0]
        if anchor not in {value for value, _label in self.anchors} or parts["direction"] not in ("", "after", "before"):
            raise ValueError(_l("Please choose what the days count from."))
        return f"{anchor}{'-' if parts['direction'] == 'before' else '+'}{int(days)}"

    def split(self, rule) -> dict[str, str]:
        """The parts the form shows for a stored rule."""
        parts = dict.fromkeys(self.PARTS, "")
        parts.update(direction="after", anchor=self.anchors[0][0] if self.anchors else "")
        match = re.fullmatch(r"([a-z]+)\s*([+-])\s*(\d+)", str(rule or "").strip().lower())
        if match:
            parts.update(anchor=match[1], direction="before" if match[2] == "-" else "after", days=match[3])
        elif rule:
            parts["date"] = str(rule)
        return parts

    def _value(self):
        return self.data or ""


class DayOffsetField(DueRuleField):
    """Days before or after one anchor (an onboarding task's day from the first working day), as a signed number."""

    def __init__(self, label=None, validators=None, *, anchor, max_before=9999, max_after=9999, **kwargs):
        super().__init__(label, validators, anchors=[anchor], fixed_date=False,
                         max_days=max(max_before, max_after), **kwargs)
        self.max_before, self.max_after = max_before, max_after

    def compose(self, parts):
        rule = super().compose(parts)
        if rule is None:
            return None
        days = int(rule[len(self.anchors[0][0]) + 1:])
        before = rule[len(self.anchors[0][0])] == "-"
        if days > (self.max_before if before else self.max_after):
            raise ValueError(_l("Enter at most %(before)d days before or %(after)d days after.",
                                before=self.max_before, after=self.max_after))
        return -days if before else days

    def split(self, offset):
        if offset is None or offset == "":
            return super().split(None)
        return super().split(f"{self.anchors[0][0]}{'-' if int(offset) < 0 else '+'}{abs(int(offset))}")
