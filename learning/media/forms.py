"""Forms of the media library: upload, describe, delete."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from learning.media.models import ALT_MAX, NAME_MAX, TRANSCRIPT_MAX

ACCEPT = "image/png,image/jpeg,image/webp,application/pdf,video/mp4,video/webm,.png,.jpg,.jpeg,.webp,.pdf,.mp4,.webm"
EDITORIAL = 0
LANGUAGES = [("de", _l("German")), ("en", _l("English"))]


def _audience_choices(courses: list[tuple[int, str]]) -> list[tuple[int, str]]:
    return [(EDITORIAL, _l("Everyone signed in (announcements, roadmap, FAQ)")),
            *[(course_id, _l("Course: %(title)s", title=title)) for course_id, title in courses]]


class _Described(FlaskForm):
    alt_text = TextAreaField(
        _l("Alternative text"),
        validators=[InputRequired(_l("Please describe the file: what an image shows, or what a document or video "
                                     "is about.")), Length(max=ALT_MAX)],
        description=_l("What the image shows, for people who cannot see it (e.g. “Screenshot: the search mask of "
                       "the e-file with the field ‘File number’”). For a PDF: the text of its link; for a video: "
                       "its title."),
        render_kw={"rows": 2, "maxlength": ALT_MAX})
    course_id = SelectField(_l("Visible to"), coerce=int, default=EDITORIAL,
                            description=_l("Media of a course are shown only to those who may see the course."))
    captions = FileField(_l("Captions (WebVTT file)"),
                         description=_l("For videos: a .vtt file in UTF-8. A video needs captions or a transcript."),
                         render_kw={"accept": ".vtt,text/vtt"})
    captions_language = SelectField(_l("Language of the captions"), choices=LANGUAGES, default="de")
    transcript = TextAreaField(_l("Transcript"), validators=[Optional(), Length(max=TRANSCRIPT_MAX)],
                               description=_l("For videos: everything that is said and shown, as text."),
                               render_kw={"rows": 4})

    def set_courses(self, courses: list[tuple[int, str]]) -> None:
        self.course_id.choices = _audience_choices(courses)


class UploadForm(_Described):
    file = FileField(_l("File"), validators=[FileRequired(_l("Please choose a file."))],
                     description=_l("Images (PNG, JPEG, WebP), PDF documents or short videos (MP4, WebM). SVG is not "
                                    "accepted. Large images are scaled down; photo metadata (EXIF, location) is "
                                    "removed."),
                     render_kw={"accept": ACCEPT})


class DescribeForm(_Described):
    name = StringField(_l("Name"), validators=[InputRequired(_l("Please enter a name.")), Length(max=NAME_MAX)],
                       render_kw={"maxlength": NAME_MAX})
    remove_captions = BooleanField(_l("Remove the captions"))
