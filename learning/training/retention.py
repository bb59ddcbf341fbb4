"""Retention of earlier certificates (``EarlierCompletion``): kept exactly as long as the person's record of
that course.

A person's training record (assignments, lessons done, quiz attempts, certificates) is kept as proof of their
training and not deleted automatically (DESIGN.md names no period; "What is stored about me" says so). An
earlier certificate is part of that proof: the certificate a person earned before a substantive change of the
course, kept verifiable by its code, with the lessons and quiz attempts of that time. It therefore follows the
person's current record of the same course: while they hold an assignment or a certificate of it, it stays,
however old it is; once that record is gone (removed by an administrator, or with the person), the earlier
certificate goes at the next retention run. The admins' periods do not apply to it, so ``cutoff`` is not used.
Registered with ``learning.transparency.retention``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, func, select

from learning.db import db
from learning.training.models import Assignment, CourseCompletion, EarlierCompletion
from learning.transparency.retention import retention_rule


def _current_record_gone():
    """SQL: the person holds neither an assignment nor a certificate of the earlier certificate's course."""
    return (~exists().where(Assignment.user_id == EarlierCompletion.user_id,
                            Assignment.course_id == EarlierCompletion.course_id)
            & ~exists().where(CourseCompletion.user_id == EarlierCompletion.user_id,
                              CourseCompletion.course_id == EarlierCompletion.course_id))


@retention_rule("earlier_completions", "retention.individual_logs_days", order=60)
def purge_earlier_completions(cutoff: datetime, dry_run: bool) -> int:
    """Delete (or count) the earlier certificates whose person no longer has a record of the course."""
    condition = _current_record_gone()
    if dry_run:
        return db.session.scalar(select(func.count()).select_from(EarlierCompletion).where(condition)) or 0
    return db.session.execute(delete(EarlierCompletion).where(condition)
                              .execution_options(synchronize_session=False)).rowcount or 0
