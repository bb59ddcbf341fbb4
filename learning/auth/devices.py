"""Signed-in devices: created at sign-in, deleted by sign-out, revoked with the account's credentials.

Each sign-in creates a ``DeviceSession``; the session cookie and the "stay signed in" cookie
carry its token (``User.get_id()``), so deleting the row ends both cookies at once, wherever they
were copied to. ``load_user`` reads the device in the one statement of every signed-in request.

Rotating ``User.session_token`` (a password change, a deactivation, "sign out everywhere") deletes
the person's devices and renews (deactivation: deletes) their personal calendar and feed addresses in
the same flush, whichever code path changed it (``_revoke_with_credentials``). A password change
keeps the device it was made on (``keep_device``).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, delete, event, inspect, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from learning.announcements.models import FeedToken, new_feed_token
from learning.auth.models import DeviceSession
from learning.db import db, utcnow
from learning.i18n import local_today
from learning.notifications.models import NotificationPreference, new_calendar_token
from learning.org.models import User

logger = logging.getLogger(__name__)

KEEP_DEVICE = "auth.keep_device"  # in Session.info: (user id, device id) a credential change leaves signed in


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def idle_days() -> int:
    """Days a device stays signed in without being used: as long as "stay signed in" lasts."""
    duration = current_app.config["REMEMBER_COOKIE_DURATION"]
    seconds = duration.total_seconds() if isinstance(duration, timedelta) else duration
    return max(1, int(seconds // 86400))


def expired(last_seen_on: date, today: date | None = None) -> bool:
    return last_seen_on < (today or local_today()) - timedelta(days=idle_days())


# What a device is called -------------------------------------------------------------------------------

_BROWSERS = (("Edg", "Edge"), ("OPR/", "Opera"), ("Opera", "Opera"), ("Firefox/", "Firefox"), ("FxiOS", "Firefox"),
             ("CriOS", "Chrome"), ("Chromium", "Chromium"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (("Windows", "Windows"), ("iPhone", "iOS"), ("iPad", "iPadOS"), ("Android", "Android"),
            ("CrOS", "ChromeOS"), ("Macintosh", "macOS"), ("Mac OS X", "macOS"), ("Linux", "Linux"))


def describe_user_agent(user_agent: str | None) -> tuple[str | None, str | None]:
    """The browser and system family of a user agent string, no versions: enough to recognise a device."""
    user_agent = (user_agent or "")[:1000]
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), None)
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), None)
    return browser, system


@dataclass(frozen=True)
class Device:
    id: int
    browser: str | None
    system: str | None
    signed_in_on: date
    last_seen_on: date
    current: bool

    @property
    def label(self) -> str:
        browser = self.browser or _("Unknown browser")
        return _("%(browser)s on %(system)s", browser=browser, system=self.system) if self.system else browser


# Use cases ----------------------------------------------------------------------------------------------

def start_device_session(user: User, user_agent: str | None) -> str:
    """Add a signed-in device for the person (flushed, not committed) and return its token.

    The person's devices unused for longer than the idle limit are deleted on the way.
    """
    today = local_today()
    db.session.execute(delete(DeviceSession).where(
        DeviceSession.user_id == user.id, DeviceSession.last_seen_on < today - timedelta(days=idle_days())))
    token = secrets.token_urlsafe(32)
    browser, system = describe_user_agent(user_agent)
    device = DeviceSession(user_id=user.id, token_hash=token_hash(token), browser=browser, system=system,
                           signed_in_on=today, last_seen_on=today)
    db.session.add(device)
    db.session.flush()
    user.device_token, user.device_id = token, device.id
    return token


def note_seen(device_id: int, today: date) -> None:
    """Move a device's last-seen day to today: at most one write per device and day.

    Bookkeeping of the sign-in itself, on a connection of its own, so that it also happens on GET
    requests without touching the request's transaction; a failure is logged and changes nothing.
    """
    statement = (update(DeviceSession).where(DeviceSession.id == device_id, DeviceSession.last_seen_on < today)
                 .values(last_seen_on=today))
    try:
        with db.engine.begin() as connection:
            connection.execute(statement)
    except DBAPIError as exc:
        logger.warning("Last-seen day of device %s not updated: %s", device_id, exc.orig)


def devices_of(user: User) -> list[Device]:
    """The person's signed-in devices, the most recently used first; the current one marked."""
    rows = db.session.scalars(select(DeviceSession).where(DeviceSession.user_id == user.id)
                              .order_by(DeviceSession.last_seen_on.desc(), DeviceSession.id.desc())).all()
    today = local_today()
    return [Device(row.id, row.browser, row.system, row.signed_in_on, row.last_seen_on, row.id == user.device_id)
            for row in rows if not expired(row.last_seen_on, today)]


def sign_out_device(user: User, device_id: int) -> bool:
    """Sign one of the person's devices out for good; False if they have no such device."""
    deleted = db.session.execute(
        delete(DeviceSession).where(DeviceSession.id == device_id, DeviceSession.user_id == user.id)
    ).rowcount
    db.session.flush()
    if deleted:
        logger.info("Device %s of user %s signed out", device_id, user.id)
    return bool(deleted)


def sign_out_everywhere(user: User) -> None:
    """End every device of the person and renew their calendar and feed addresses."""
    from learning.audit.services import record

    user.session_token = secrets.token_hex(32)  # _revoke_with_credentials does the rest in the flush
    record(user, "account.signed_out_everywhere", user)
    db.session.flush()
    logger.info("User %s signed out everywhere", user.id)


def keep_device(user: User) -> None:
    """Let the credential change about to be flushed leave the person's current device signed in."""
    if user.device_id is not None:
        db.session.info[KEEP_DEVICE] = (user.id, user.device_id)


@event.listens_for(Session, "before_flush")
def _revoke_with_credentials(session: Session, _context, _instances) -> None:
    """A rotated session token ends the person's devices and their personal calendar and feed addresses.

    An active person (password change, "sign out everywhere") gets new addresses at once; a
    deactivated person's are deleted, by a fixed number of statements however many people an
    import deactivates (a reactivated person creates new ones).
    """
    changed = [instance for instance in session.dirty if isinstance(instance, User)
               and inspect(instance).attrs.session_token.history.added]
    keep = session.info.pop(KEEP_DEVICE, None)
    if not changed:
        return
    user_ids = [user.id for user in changed]
    active = [user.id for user in changed if user.active]
    inactive = [user.id for user in changed if not user.active]
    ended = DeviceSession.user_id.in_(user_ids)
    if keep is not None and keep[0] in active:
        ended = or_(and_(ended, DeviceSession.user_id != keep[0]),
                    and_(DeviceSession.user_id == keep[0], DeviceSession.id != keep[1]))
    unsynchronised = {"synchronize_session": False}
    with session.no_autoflush:
        session.execute(delete(DeviceSession).where(ended).execution_options(**unsynchronised))
        if inactive:
            session.execute(update(NotificationPreference).where(NotificationPreference.user_id.in_(inactive))
                            .values(calendar_token=None, calendar_token_created_at=None)
                            .execution_options(**unsynchronised))
            session.execute(delete(FeedToken).where(FeedToken.user_id.in_(inactive)).execution_options(**unsynchronised))
        if active:
            now: datetime = utcnow()
            for row in session.scalars(select(NotificationPreference).where(
                    NotificationPreference.user_id.in_(active), NotificationPreference.calendar_token.is_not(None))):
                row.calendar_token, row.calendar_token_created_at = new_calendar_token(), now
            for row in session.scalars(select(FeedToken).where(FeedToken.user_id.in_(active))):
                row.token, row.created_at = new_feed_token(), now
    logger.info("Devices signed out and personal addresses renewed or deleted for users %s", user_ids)
