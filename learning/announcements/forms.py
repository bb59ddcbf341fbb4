"""The project group's announcement form: text, audience, publication, pinning, acknowledgement."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from learning.announcements.services import (
    AUDIENCE_KINDS,
    MAX_BODY,
    MAX_REASON,
    MAX_TITLE,
    ChangeKind,
    Publication,
)
from learning.forms import ActionForm, RenderableMarkdown  # noqa: F401  (ActionForm used by the views)
from learning.guards import day_in_range
from learning.org.forms import AudienceFields, audience_choice

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


def parse_local(text: str | None, timezone: str) -> datetime | None:
    """A ``datetime-local`` value (or a German ``30.06.2026 09:00``) in the organisation's time zone, as aware UTC.

    None if unreadable.
    """
    text = (text or "").strip()
    if not text:
        return None
    for fmt in (LOCAL_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M"):  # the last as typed in German
        try:
            local = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if not day_in_range(local.date()):  # the platform's range of dates; year 1 would not even convert to UTC
            return None
        return local.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)
    return None


def format_local(value: datetime | None, timezone: str) -> str:
    return value.astimezone(ZoneInfo(timezone)).strftime(LOCAL_FORMAT) if value else ""


def readable_datetime(form, field) -> None:
    if (field.data or "").strip() and parse_local(field.data, "UTC") is None:
        raise ValidationError(_l("Enter a date and time such as 30.06.2026 09:00."))


class AnnouncementForm(AudienceFields, FlaskForm):
    title = StringField(_l("Title"), validators=[
        DataRequired(message=_l("Please enter a title.")),
        Length(max=MAX_TITLE, message=_l("The title may have at most %(max)d characters.", max=MAX_TITLE)),
    ])
    body = TextAreaField(
        _l("Text"),
        validators=[DataRequired(message=_l("Please enter the text of the announcement.")),
                    Length(max=MAX_BODY, message=_l("The text may have at most %(max)d characters.", max=MAX_BODY)),
                    RenderableMarkdown()],
        description=_l("Markdown: **bold**, *italic*, lists with -, links as [text](https://…), headings with ##. "
                       "“Preview” shows the text exactly as it will be published."),
        render_kw={"rows": 14},
    )
    phase_id = SelectField(_l("Rollout phase"), coerce=_optional_int,
                           description=_l("The announcement appears on the phase's page as well."))
    audience = audience_choice(_l("Who the announcement is for"), AUDIENCE_KINDS,
                               message=_l("Please choose who the announcement is for."))
    publication = RadioField(
        _l("Publication"), default=Publication.DRAFT,
        choices=[(Publication.DRAFT, _l("Save as a draft (visible to the project group only)")),
                 (Publication.NOW, _l("Publish now (stays published if it already is)")),
                 (Publication.SCHEDULE, _l("Publish at a date and time"))],
        validators=[DataRequired(message=_l("Please choose when the announcement is published."))],
    )
    publish_at = StringField(_l("Date and time of publication"), validators=[Optional(), readable_datetime],
                             description=_l('Used when "Publish at a date and time" is chosen above; '
                                            "local time."),
                             render_kw={"type": "datetime-local"})
    pinned = BooleanField(_l("Pin to the top of the list"))
    requires_ack = BooleanField(_l("Ask everyone to confirm “Read and understood”"),
                                description=_l("It stays pinned for each person until they confirm."))
    change_kind = RadioField(
        _l("Kind of change"),
        choices=[(ChangeKind.MINOR, _l("Minor edit (a typo or wording): acknowledgements stay valid")),
                 (ChangeKind.SUBSTANTIVE, _l("Substantive change: everyone must acknowledge again"))],
        validators=[Optional()],
    )
    reason = TextAreaField(
        _l("Reason for the change"),
        validators=[Length(max=MAX_REASON, message=_l("The reason may have at most %(max)d characters.",
                                                      max=MAX_REASON))],
        description=_l("Required for a substantive change; shown in the version history."), render_kw={"rows": 3},
    )

    def set_choices(self, phases, departments, teams, locale: str) -> None:
        self.phase_id.choices = [("", _l("Whole programme"))] + [
            (p.id, (p.title_en or p.title) if locale == "en" else p.title) for p in phases
        ]
        self.set_audience_choices(departments, teams)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.publication.data == Publication.SCHEDULE and not (self.publish_at.data or "").strip():
            self.publish_at.errors = [*self.publish_at.errors, _l("Please enter the date and time of publication.")]
            valid = False
        return valid

