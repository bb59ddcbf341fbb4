"""Outside identities of people, the links an admin must confirm, and the directory's last known state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learning.db import db, utcnow
from learning.org.models import User
from learning.pagecache import Shown

# Where an identity comes from; OpenID Connect adds its own source (e.g. "oidc").
LDAP = "ldap"


class ExternalIdentity(db.Model):
    """A person's account in an outside directory, named by that directory's fixed identifier.

    ``subject`` is objectGUID (Active Directory), entryUUID (OpenLDAP) or an OpenID Connect ``sub``:
    it stays when the person's name, login or e-mail address changes. People are matched by it,
    never by e-mail. One account per source and person.
    """

    __page_cache__ = Shown.EVERYONE  # admin pages show who signs in through a directory
    __tablename__ = "external_identity"
    __table_args__ = (UniqueConstraint("source", "subject"), UniqueConstraint("source", "user_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class PendingLink(db.Model):
    """A first outside sign-in whose e-mail address belongs to a local account: linked only once an admin confirms.

    Matching by e-mail alone would hand the local account (and its history) to whoever controls that
    address in the directory; an administrator checks that both are the same person.
    """

    __page_cache__ = Shown.EVERYONE
    __tablename__ = "pending_link"
    __table_args__ = (UniqueConstraint("source", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    login: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()


class DirectoryStatus(db.Model):
    """The last outcome of talking to a directory, for the admin page: every worker writes the same row."""

    __page_cache__ = Shown.EVERYONE  # written only when the state changes
    __tablename__ = "directory_status"

    source: Mapped[str] = mapped_column(String(20), primary_key=True)
    ok: Mapped[bool] = mapped_column(default=True)
    message: Mapped[str] = mapped_column(String(500), default="")
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)
    failed_at: Mapped[datetime | None]
