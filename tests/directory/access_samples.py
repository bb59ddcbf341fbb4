"""A pending link for the access matrix (tests/test_access.py): ``link_id``."""

from learning.db import db
from learning.directory.models import LDAP, PendingLink


def samples(app, people) -> dict:
    with app.app_context():
        link = PendingLink(source=LDAP, subject="access-matrix-subject", user_id=people["employee"].id,
                           login="employee", name="Employee Directory", email="employee@example.org")
        db.session.add(link)
        db.session.commit()
        return {"link_id": link.id}
