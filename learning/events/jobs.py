"""Events' jobs: send the mails about bookings that could not go out at once; lapse offers not accepted."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from learning.scheduler.registry import scheduled_job


@scheduled_job("events.mail", every=timedelta(minutes=5), misfire_grace_time=600,
               title=_l("Send booking mails and invitations"),
               description=_l("Sends the mails about bookings that could not be sent at once; lapses seat offers "
                              "not accepted in time and offers the seats to the next people waiting."),
               explain=lambda counts: [
                   ngettext("%(num)d mail to send", "%(num)d mails to send", counts.get("queued", 0)),
                   ngettext("%(num)d offer lapsed", "%(num)d offers lapsed", counts.get("lapsed", 0))])
def mail_job() -> dict[str, int]:
    """Runs in the job's unit of work; the mails go out after its commit, each in a commit of its own."""
    from sqlalchemy import func, select

    from learning.db import after_commit, db
    from learning.events.booking import expire_offers
    from learning.events.invitations import send_queued
    from learning.events.models import EventMail, MailStatus

    lapsed = expire_offers()
    waiting = db.session.scalar(select(func.count(EventMail.id)).where(EventMail.status == MailStatus.QUEUED.value))
    after_commit(send_queued)
    return {"lapsed": lapsed, "queued": waiting or 0}
