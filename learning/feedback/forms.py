"""Forms of the feedback channels: a post, a comment, and the project group's status and hide forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from learning.feedback.models import BODY_MAX, COMMENT_MAX, KIND_LABELS, REASON_MAX, STATUS_LABELS, TITLE_MAX
from learning.forms import ActionForm, RenderableMarkdown  # noqa: F401  (vote, follow and unhide buttons)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class PostForm(FlaskForm):
    kind = RadioField(_l("Kind of post"), choices=[(k.value, label) for k, label in KIND_LABELS.items()],
                      validators=[InputRequired(message=_l("Please choose what kind of post this is."))])
    title = StringField(
        _l("Title"), filters=[_strip],
        validators=[DataRequired(message=_l("Please enter a title.")),
                    Length(max=TITLE_MAX, message=_l("The title may be at most %(max)d characters long."))],
        description=_l("A short summary in one line, at most %(max)d characters.", max=TITLE_MAX),
        render_kw={"maxlength": TITLE_MAX},
    )
    body = TextAreaField(
        _l("Your text"), filters=[_strip],
        validators=[DataRequired(message=_l("Please enter your text.")),
                    Length(max=BODY_MAX, message=_l("The text may be at most %(max)d characters long.")),
                    RenderableMarkdown()],
        description=_l("At most %(max)d characters. Write as in an e-mail: a blank line starts a new paragraph, "
                       "a line starting with a dash (-) becomes a list item.", max=BODY_MAX),
        render_kw={"rows": 8, "maxlength": BODY_MAX},
    )
    anonymous = BooleanField(
        _l("Post anonymously"),
        description=_l("Your name is then not stored with the post: not in the database, not in any log and not "
                       "in the audit trail. Nobody, not even the project group or an administrator, can find out "
                       "that the post is yours. Only the day of posting is kept. Because of this you cannot be "
                       "told about answers, and you are not told if the post is hidden: come back to the channel "
                       "to read them. Please leave out anything in the text that would give you away."),
    )


class CommentForm(FlaskForm):
    body = TextAreaField(
        _l("Your comment"), filters=[_strip],
        validators=[DataRequired(message=_l("Please enter your comment.")),
                    Length(max=COMMENT_MAX, message=_l("A comment may be at most %(max)d characters long.")),
                    RenderableMarkdown()],
        description=_l("At most %(max)d characters. Comments show your name.", max=COMMENT_MAX),
        render_kw={"rows": 5, "maxlength": COMMENT_MAX},
    )


class AnswerForm(FlaskForm):
    """The project group's answer to a post in one form: a new status, an official reply, or both."""

    status = SelectField(_l("Status"), validate_choice=True)
    reply = TextAreaField(
        _l("Reply of the project group"), filters=[_strip],
        validators=[Optional(), Length(max=REASON_MAX, message=_l("The reply may be at most %(max)d characters "
                                                                  "long.")), RenderableMarkdown()],
        description=_l("Published as the official reply and, with a new status, as its reason; the post's "
                       "followers are told. Required when you decline a post."),
        render_kw={"rows": 5, "maxlength": REASON_MAX},
    )

    def set_choices(self, statuses, current_label: str) -> None:
        self.status.choices = [("", _l("Keep “%(status)s”", status=current_label))] + [
            (s.value, STATUS_LABELS[s]) for s in statuses]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.status.data == "declined" and not self.reply.data:
            self.reply.errors = [*self.reply.errors, _l("Please give a reason when you decline a post.")]
            valid = False
        elif valid and not self.status.data and not self.reply.data:
            self.reply.errors = [*self.reply.errors, _l("Please write a reply or choose a new status.")]
            valid = False
        return valid


class HideForm(FlaskForm):
    reason = TextAreaField(
        _l("Why is the post hidden?"), filters=[_strip],
        validators=[DataRequired(message=_l("Please say why the post is hidden; its author is told.")),
                    Length(max=REASON_MAX, message=_l("The reason may be at most %(max)d characters long."))],
        description=_l("The author (unless the post is anonymous) reads this reason. It is recorded in the audit "
                       "log."),
        render_kw={"rows": 3, "maxlength": REASON_MAX},
    )
