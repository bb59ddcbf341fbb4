"""The project group's announcement form: text, audience, publication, pinning, acknowledgement."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from learning.announcements.models import AudienceKind
from learning.announcements.services import MAX_BODY, MAX_REASON, MAX_TITLE, ChangeKind, Publication
from learning.forms import ActionForm, CheckboxesField, RenderableMarkdown  # noqa: F401  (ActionForm used by the views)
from learning.guards import day_in_range
from learning.org.models import ROLE_LABELS, Role

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"

AUDIENCE_LABELS = {
    AudienceKind.EVERYONE: _l("Everyone"),
    AudienceKind.DEPARTMENTS: _l("Selected departments"),
    AudienceKind.TEAMS: _l("Selected teams"),
    AudienceKind.ROLES: _l("People with selected roles"),
}


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


def parse_local(text: str | None, timezone: str) -> datetime | None:
    """A ``datetime-local`` value read in the organisation's time zone, as aware UTC; None if unreadable."""
    text = (text or "").strip()
    if not text:
        return None
    for fmt in (LOCAL_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"):
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
        raise ValidationError(_l("Enter a date and time such as 2026-06-30 09:00."))


class AnnouncementForm(FlaskForm):
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
    audience = RadioField(_l("Who the announcement is for"), default=AudienceKind.EVERYONE.value,
                          choices=[(kind.value, label) for kind, label in AUDIENCE_LABELS.items()],
                          validators=[DataRequired(message=_l("Please choose who the announcement is for."))])
    department_ids = CheckboxesField(_l("Departments"), coerce=int,
                                     description=_l('Used when "Selected departments" is chosen above.'))
    team_ids = CheckboxesField(_l("Teams"), coerce=int,
                               description=_l('Used when "Selected teams" is chosen above.'))
    roles = CheckboxesField(_l("Roles"), choices=[(r.value, ROLE_LABELS[r]) for r in Role],
                            description=_l('Used when "People with selected roles" is chosen above. '
                                           'Everybody has the role "Employee".'))
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
        self.department_ids.choices = [(d.id, d.name) for d in departments]
        self.team_ids.choices = [(t.id, f"{t.department.name} / {t.name}") for t in teams]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        required = {
            AudienceKind.DEPARTMENTS.value: (self.department_ids, _l("Please choose at least one department.")),
            AudienceKind.TEAMS.value: (self.team_ids, _l("Please choose at least one team.")),
            AudienceKind.ROLES.value: (self.roles, _l("Please choose at least one role.")),
        }
        if self.audience.data in required and not required[self.audience.data][0].data:
            field, message = required[self.audience.data]
            field.errors = [*field.errors, message]
            valid = False
        if self.publication.data == Publication.SCHEDULE and not (self.publish_at.data or "").strip():
            self.publish_at.errors = [*self.publish_at.errors, _l("Please enter the date and time of publication.")]
            valid = False
        return valid

    def values(self) -> list:
        return {
            AudienceKind.DEPARTMENTS.value: list(self.department_ids.data or []),
            AudienceKind.TEAMS.value: list(self.team_ids.data or []),
            AudienceKind.ROLES.value: list(self.roles.data or []),
        }.get(self.audience.data, [])
